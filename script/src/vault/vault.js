// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The vault's message handling and consent logic, independent of browser globals so that
// tests can drive it. main.js wires it to the real window.

import { checkMessage, checkSender } from './messages.js'
import { ALLOW, readConsent, writeConsent } from './consent.js'
import { hideBanner, showBanner, showNotice } from './banner.js'
import { enrich } from './enrich.js'
import { sameSite } from './site.js'

// readConfig parses the JSON data block the server renders into the vault HTML
// (script/README.md, "Vault HTML"); it returns null when it is missing or malformed.
export function readConfig (doc) {
  try {
    const c = JSON.parse(doc.getElementById('offen-vault-config').textContent)
    if (!c || typeof c.accountId !== 'string' || !c.accountId) return null
    return {
      accountId: c.accountId,
      allowedOrigins: Array.isArray(c.allowedOrigins) ? c.allowedOrigins.filter((o) => typeof o === 'string') : [],
      locale: typeof c.locale === 'string' ? c.locale : 'en',
      strings: c.strings && typeof c.strings === 'object' ? c.strings : {},
      secureContext: c.secureContext === true,
      retentionDays: Number.isInteger(c.retentionDays) ? c.retentionDays : null
    }
  } catch {
    return null
  }
}

const post = (port, msg) => {
  try {
    if (port) port.postMessage(msg)
  } catch {}
}

// createVault returns {handle(messageEvent), relayout()}. deps:
//   parent     the window allowed to talk to the vault (window.parent)
//   doc        the vault document (cookies, banner)
//   root       element the banner is rendered into
//   config     result of readConfig
//   supported  false when the browser lacks WebCrypto, IndexedDB or cookies: every
//              message is then answered with ERROR and nothing else happens
//   sender     createSender(...) for the account
//   context()  {sessionId, timeZone, mobile, device} for enrich
//   measure()  banner height in px
//   now()      Date
//   origin     the vault's own origin (location.origin), to explain a blocked decision
export function createVault ({ parent, doc, root, config, supported, sender, context, measure, now = () => new Date(), origin = '' }) {
  let pending = null
  let visible = false
  const ports = new Set()

  const layout = () => ({ type: 'LAYOUT', visible, height: visible ? measure() : 0 })
  const broadcast = () => {
    const msg = layout()
    for (const p of ports) post(p, msg)
  }

  // decide resolves with 'allow' or 'deny', showing the banner if the visitor has not
  // decided yet; it resolves with null when the decision could not be stored. page is
  // the embedding page's origin: when it is another site than the vault's, that is the
  // likely reason (browsers keep cookies from cross-site frames), and the notice says so.
  const decide = (page) => {
    const known = readConsent(doc)
    if (known) return Promise.resolve(known)
    if (!pending) {
      pending = (async () => {
        const chosen = showBanner(doc, root, config.strings)
        visible = true
        broadcast()
        const choice = await chosen
        const stored = writeConsent(doc, choice, config.secureContext)
        if (!stored && choice === ALLOW) {
          const crossSite = origin && page && !sameSite(page, origin)
          const closed = crossSite
            ? showNotice(doc, root, config.strings, 'vault.error.crossSite', { page, offen: origin })
            : showNotice(doc, root, config.strings, 'vault.error.storage')
          broadcast()
          await closed
        }
        hideBanner(root)
        visible = false
        broadcast()
        pending = null
        return stored ? choice : null
      })()
    }
    return pending
  }

  const handle = async (event) => {
    const port = event.ports && event.ports[0]
    const at = now()
    let error = supported ? checkSender(event, parent, config.allowedOrigins) || checkMessage(event.data, config.accountId) : 'unsupported'
    if (!error) {
      ports.add(port)
      if (visible) post(port, layout())
      try {
        const data = event.data
        let consent = readConsent(doc)
        if (!consent && (data.type === 'CONSENT' || !data.skipConsent)) consent = await decide(event.origin)
        if (data.type === 'EVENT' && consent === ALLOW) {
          const plaintext = enrich(data.event, { now: at, ...context() })
          if (!plaintext) {
            error = 'event too large'
          } else {
            await sender.queue(plaintext)
            sender.flush()
          }
        }
      } catch {
        error = 'internal error'
      }
      ports.delete(port)
    }
    post(port, error ? { type: 'ERROR', error } : { type: 'DONE' })
    try {
      if (port) port.close()
    } catch {}
  }

  // relayout reports a changed banner height to every waiting port.
  const relayout = () => {
    if (visible) broadcast()
  }

  return { handle, relayout }
}
