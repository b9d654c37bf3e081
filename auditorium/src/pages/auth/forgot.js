// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// /forgot-password/: the same answer for every address (P4), so the page never tells
// whether a login exists; only a malformed address or throttling is reported.

import { useState } from 'preact/hooks'
import { html, Field, Alert, Status, useSubmit, looksLikeEmail } from './ui.js'
import { forgotPassword } from './flows.js'

export function ForgotPage ({ app }) {
  const { t } = app
  const [email, setEmail] = useState('')
  const [sent, setSent] = useState(false)
  const [fieldError, setFieldError] = useState(null)
  const { busy, error, run } = useSubmit(async () => {
    await forgotPassword(app.api, email.trim(), app.lang)
    setSent(true)
  }, { 400: 'auth.error.email' })
  const submit = (e) => {
    e.preventDefault()
    if (!looksLikeEmail(email)) {
      setFieldError('auth.error.email')
      return
    }
    setFieldError(null)
    run()
  }
  return html`<section class="page auth-page" aria-labelledby="page-title">
    <h1 id="page-title">${t('auth.forgot.title')}</h1>
    <p>${t('auth.forgot.explain')}</p>
    ${sent
      ? html`<${Status}>${t('auth.forgot.sent')}<//>`
      : html`<form class="form" onSubmit=${submit} noValidate>
        <${Alert} t=${t} error=${error} />
        <${Field} t=${t} id="forgot-email" type="email" autocomplete="username" inputmode="email"
          label=${t('auth.email')} value=${email} onInput=${setEmail} error=${fieldError} />
        <button type="submit" class="button button-primary" disabled=${busy}>${t('auth.forgot.submit')}</button>
      </form>`}
    <p><a href="/login/">${t('auth.backToLogin')}</a></p>
  </section>`
}
