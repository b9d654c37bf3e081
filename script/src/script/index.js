// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Entry point of /script.js.
import { start } from './tracker.js'

try {
  start(window, document.currentScript || document.querySelector('script[data-account-id][src$="/script.js"]'))
} catch {}
