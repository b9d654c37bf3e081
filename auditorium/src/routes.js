// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Every page of the SPA: path prefix (with trailing slash), component, title key (and the
// one while signed in, where a path shows something else then). The server
// answers each path with the same shell (PROTOCOL §7.4). To add a page see pages/README.md.

import { AuditoriumPage } from './pages/auditorium.js'
import { LandingPage } from './pages/landing.js'
import {
  ConsolePage,
  ForgotPasswordPage,
  JoinPage,
  LoginPage,
  ResetPasswordPage,
  SetupPage
} from './pages/auth/shell.js'

export const routes = [
  { path: '/', page: LandingPage, title: 'dashboard.route.landing' },
  { path: '/auditorium/', page: AuditoriumPage, title: 'dashboard.route.auditorium', titleSignedIn: 'dashboard.route.dashboard' },
  { path: '/login/', page: LoginPage, title: 'dashboard.route.login' },
  { path: '/console/', page: ConsolePage, title: 'dashboard.route.console' },
  { path: '/setup/', page: SetupPage, title: 'dashboard.route.setup' },
  { path: '/forgot-password/', page: ForgotPasswordPage, title: 'dashboard.route.forgot' },
  { path: '/reset-password/', page: ResetPasswordPage, title: 'dashboard.route.reset' },
  { path: '/join/', page: JoinPage, title: 'dashboard.route.join' }
]
