// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Entry of the auditorium SPA: picks the language, loads its catalog, builds the services
// (API client, session, router) and renders the app into #app.

import { render } from 'preact'
import { App } from './app.js'
import { createApi } from './lib/api.js'
import { html } from './lib/html.js'
import { chooseLanguage, loadI18n } from './lib/i18n.js'
import { createRouter } from './lib/router.js'
import { createSession } from './lib/session.js'
import { routes } from './routes.js'
import './index.css'
import './pages/console/console.css'

async function boot () {
  const lang = chooseLanguage({ search: location.search })
  document.documentElement.lang = lang
  let session = null
  const api = createApi({ onUnauthorized: () => session && session.forget() })
  session = createSession({ api })
  const router = createRouter(routes)
  const restoring = session.restore().catch(() => {}) // in parallel with the catalog
  const i18n = await loadI18n(lang)
  render(html`<${App} i18n=${i18n} services=${{ api, session, router }} />`, document.getElementById('app'))
  await restoring
}

boot()
