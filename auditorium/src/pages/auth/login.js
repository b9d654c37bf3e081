// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// /login/: the address and password stay in the browser; only the derived auth key is
// sent (PROTOCOL §4 "Login"). A 401 is a wrong address or password (the same message for
// both); a 429 names the wait.

import { useState } from 'preact/hooks'
import { html, Field, Alert, useSubmit, looksLikeEmail } from './ui.js'
import { login } from './flows.js'
import { dashboardHref, lastAccount } from '../../dashboard/viewstate.js'

/** The sign-in form; `onSignedIn(current)` runs after the keys are stored. Used by /join/ too. */
export function LoginForm ({ app, onSignedIn, idPrefix = 'login' }) {
  const { t } = app
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [fieldError, setFieldError] = useState(null)
  const { busy, error, run } = useSubmit(async () => {
    const result = await login(app.api, email.trim(), password)
    const current = await app.keys.signedIn(result, email.trim())
    setPassword('')
    await onSignedIn(current)
  }, { 401: 'auth.login.wrong' })
  const submit = (e) => {
    e.preventDefault()
    if (!looksLikeEmail(email)) {
      setFieldError('auth.error.email')
      return
    }
    setFieldError(null)
    run()
  }
  return html`<form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
    <${Alert} t=${t} error=${error} id=${idPrefix + '-alert'} />
    <${Field} t=${t} id=${idPrefix + '-email'} type="email" autocomplete="username" inputmode="email"
      label=${t('auth.email')} value=${email} onInput=${setEmail} error=${fieldError} />
    <${Field} t=${t} id=${idPrefix + '-password'} type="password" autocomplete="current-password"
      label=${t('auth.password.label')} value=${password} onInput=${setPassword} />
    <button type="submit" class="button button-primary" disabled=${busy}>${busy ? t('auth.login.busy') : t('auth.login.submit')}</button>
  </form>`
}

/**
 * landingAfterLogin: the dashboard of the account this browser showed last (or of the first
 * one), the console when the login has no account yet.
 */
export function landingAfterLogin (login, last = lastAccount()) {
  const active = ((login && login.grants) || []).filter(g => g.state === 'active')
  if (active.length === 0) return '/console/'
  return dashboardHref(active.some(g => g.accountId === last) ? last : null)
}

/** The /login/ page. */
export function LoginPage ({ app }) {
  const { t } = app
  return html`<section class="page auth-page" aria-labelledby="page-title">
    <h1 id="page-title">${t('auth.login.title')}</h1>
    <${LoginForm} app=${app} onSignedIn=${(current) => app.navigate(landingAfterLogin(current && current.state))} />
    <p><a href="/forgot-password/">${t('auth.login.forgot')}</a></p>
  </section>`
}
