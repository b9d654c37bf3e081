// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The visitor landing page at /: what Offen is, this browser's consent decision, and a way to
// change it (the same cookie code as the vault: script/src/vault/consent.js).

import { useState } from 'preact/hooks'
import { ALLOW, DENY, readConsent, writeConsent } from '../../../script/src/vault/consent.js'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'
import { useAnnounce } from '../lib/services.js'

/** isSecureContext reports whether cookies get Secure; SameSite=None (PROTOCOL §3.1). */
export function secureContext (loc = globalThis.location) {
  return loc.protocol === 'https:'
}

/** ConsentControl shows the decision and the two equally prominent buttons. */
export function ConsentControl ({ doc = globalThis.document, onChange }) {
  const { t } = useI18n()
  const announce = useAnnounce()
  const [consent, setConsent] = useState(() => readConsent(doc))
  const [refused, setRefused] = useState(false)
  const decide = (value) => {
    const kept = writeConsent(doc, value, secureContext())
    setRefused(!kept)
    setConsent(readConsent(doc))
    if (kept) {
      announce(t(value === ALLOW ? 'dashboard.consent.nowAllowed' : 'dashboard.consent.nowDenied'))
      if (onChange) onChange(value)
    }
  }
  const status = consent === ALLOW ? 'dashboard.consent.allowed' : consent === DENY ? 'dashboard.consent.denied' : 'dashboard.consent.undecided'
  return html`<div class="consent">
    <p class="consent-status" data-consent=${consent || 'none'}>${t(status)}</p>
    ${refused && html`<p class="alert" role="alert">${t('dashboard.consent.refused')}</p>`}
    <div class="button-row">
      <button type="button" class="button" aria-pressed=${consent === ALLOW ? 'true' : 'false'} onClick=${() => decide(ALLOW)}>${t('dashboard.consent.allow')}</button>
      <button type="button" class="button" aria-pressed=${consent === DENY ? 'true' : 'false'} onClick=${() => decide(DENY)}>${t('dashboard.consent.deny')}</button>
    </div>
  </div>`
}

export function LandingPage () {
  const { t } = useI18n()
  return html`<section class="page landing">
    <h1 id="page-title">${t('dashboard.landing.title')}</h1>
    <p class="lead">${t('dashboard.landing.intro')}</p>
    <section class="panel" aria-labelledby="consent-heading">
      <h2 id="consent-heading">${t('dashboard.consent.heading')}</h2>
      <p>${t('dashboard.consent.explain')}</p>
      <${ConsentControl} />
    </section>
    <section class="panel" aria-labelledby="data-heading">
      <h2 id="data-heading">${t('dashboard.landing.dataHeading')}</h2>
      <p>${t('dashboard.landing.dataText')}</p>
      <p><a class="button button-primary" href="/auditorium/">${t('dashboard.landing.dataLink')}</a></p>
    </section>
  </section>`
}
