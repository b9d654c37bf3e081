// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Entry point of the vault bundle: wires vault.js to the real browser.

import { createVault, readConfig } from './vault.js'
import { createSender } from './sender.js'
import { createStorage } from '../storage.js'
import { ALLOW, readConsent } from './consent.js'
import { browserTimeZone, deviceInfo, isMobile } from './enrich.js'
import { translate } from './banner.js'
import { newSessionId } from '../crypto.js'

const start = () => {
  const doc = document
  const config = readConfig(doc)
  let root = doc.getElementById('offen-vault')
  if (!root) {
    root = doc.createElement('div')
    root.id = 'offen-vault'
    root.setAttribute('aria-live', 'polite')
    doc.body.append(root)
  }
  const accountId = new URLSearchParams(location.search).get('accountId')
  const supported = !!(config && config.accountId === accountId && globalThis.crypto && crypto.subtle &&
    globalThis.indexedDB && navigator.cookieEnabled)
  if (config) {
    doc.documentElement.lang = config.locale
    doc.title = translate(config.strings, 'vault.title')
  }

  let sessionId
  const session = () => {
    const name = 'offen-session-' + accountId
    try {
      sessionId = sessionId || sessionStorage.getItem(name)
      if (!sessionId) sessionStorage.setItem(name, (sessionId = newSessionId()))
    } catch {
      sessionId = sessionId || newSessionId()
    }
    return sessionId
  }

  const locks = navigator.locks
  const sender = supported && createSender({
    accountId,
    storage: createStorage(indexedDB),
    maxAge: config.retentionDays ? config.retentionDays * 864e5 : 0,
    allowed: () => readConsent(doc) === ALLOW,
    lock: locks ? (name, fn) => locks.request(name, fn) : undefined
  })
  const vault = createVault({
    parent: window.parent !== window ? window.parent : null,
    doc,
    root,
    config: config || { accountId: '', allowedOrigins: [], strings: {} },
    supported,
    sender,
    context: () => ({ sessionId: session(), timeZone: browserTimeZone(), mobile: isMobile(navigator), device: deviceInfo(navigator, screen) }),
    measure: () => Math.ceil(root.getBoundingClientRect().height),
    origin: location.origin
  })
  window.addEventListener('message', (e) => { vault.handle(e) })
  if (globalThis.ResizeObserver) new ResizeObserver(() => vault.relayout()).observe(root)
  if (supported) {
    // events left over from earlier visits (server down, tab closed) go out now
    const retry = () => { if (readConsent(doc) === ALLOW) sender.flush() }
    retry()
    window.addEventListener('online', retry)
  }
}

try {
  start()
} catch {}
