// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The login's own settings in the console: change password (the login key is re-wrapped;
// other sessions end), change e-mail (grant labels re-encrypted), a new recovery code, and
// logout (on every console page). Each change asks for the current password (re-authentication).

import { useState } from 'preact/hooks'
import { html, Field, Alert, Status, NewPassword, checkPassword, useSubmit, looksLikeEmail, RecoveryCode } from '../auth/ui.js'
import { changePassword, changeEmail, regenerateRecoveryCode } from '../auth/flows.js'

const wrongPassword = { 401: 'console.reauth.wrong' }

function ChangePassword ({ app, current }) {
  const { t } = app
  const [old, setOld] = useState('')
  const [pw, setPw] = useState({ password: '', confirm: '' })
  const [errors, setErrors] = useState({})
  const [done, setDone] = useState(false)
  const { busy, error, run } = useSubmit(async () => {
    const r = await changePassword(app.api, { state: current.state, loginKey: current.loginKey, currentPassword: old, newPassword: pw.password })
    await app.keys.update(r.state, r.wrapKey)
    setOld('')
    setPw({ password: '', confirm: '' })
    setDone(true)
  }, wrongPassword)
  const submit = (e) => {
    e.preventDefault()
    setDone(false)
    const errs = { ...(checkPassword(pw, [current.email]) || {}) }
    if (!old) errs.old = 'console.reauth.missing'
    setErrors(errs)
    if (Object.keys(errs).length === 0) run()
  }
  return html`<section class="console-card" aria-labelledby="password-title">
    <h3 id="password-title">${t('console.password.title')}</h3>
    <p>${t('console.password.explain')}</p>
    <form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <${Field} t=${t} id="password-current" type="password" autocomplete="current-password"
        label=${t('console.reauth.password')} value=${old} onInput=${setOld} error=${errors.old} />
      <${NewPassword} t=${t} idPrefix="password-new" value=${pw} onChange=${setPw} errors=${errors} context=${[current.email]} />
      <button type="submit" class="button button-primary" disabled=${busy}>${t('console.password.submit')}</button>
      ${done && html`<${Status}>${t('console.password.done')}<//>`}
    </form>
  </section>`
}

function ChangeEmail ({ app, current }) {
  const { t } = app
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState({})
  const [done, setDone] = useState(false)
  const { busy, error, run } = useSubmit(async () => {
    await changeEmail(app.api, { state: current.state, keks: current.keks, password, email: email.trim() })
    app.keys.setEmail(email.trim())
    setPassword('')
    setDone(true)
  }, { ...wrongPassword, 409: 'console.email.taken' })
  const submit = (e) => {
    e.preventDefault()
    setDone(false)
    const errs = {}
    if (!looksLikeEmail(email)) errs.email = 'auth.error.email'
    if (!password) errs.password = 'console.reauth.missing'
    setErrors(errs)
    if (Object.keys(errs).length === 0) run()
  }
  return html`<section class="console-card" aria-labelledby="email-title">
    <h3 id="email-title">${t('console.email.title')}</h3>
    ${current.email && html`<p>${t('console.email.current', { email: current.email })}</p>`}
    <form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <${Field} t=${t} id="email-new" type="email" autocomplete="email" inputmode="email"
        label=${t('console.email.new')} value=${email} onInput=${setEmail} error=${errors.email} />
      <${Field} t=${t} id="email-password" type="password" autocomplete="current-password"
        label=${t('console.reauth.password')} value=${password} onInput=${setPassword} error=${errors.password} />
      <button type="submit" class="button button-primary" disabled=${busy}>${t('console.email.submit')}</button>
      ${done && html`<${Status}>${t('console.email.done')}<//>`}
    </form>
  </section>`
}

function NewRecoveryCode ({ app, current }) {
  const { t } = app
  const [password, setPassword] = useState('')
  const [fieldError, setFieldError] = useState(null)
  const [code, setCode] = useState(null)
  const [done, setDone] = useState(false)
  const { busy, error, run } = useSubmit(async () => {
    const c = await regenerateRecoveryCode(app.api, { state: current.state, loginKey: current.loginKey, password })
    setPassword('')
    setCode(c)
  }, wrongPassword)
  const submit = (e) => {
    e.preventDefault()
    setDone(false)
    if (!password) {
      setFieldError('console.reauth.missing')
      return
    }
    setFieldError(null)
    run()
  }
  if (code) {
    return html`<section class="console-card">
      <${RecoveryCode} t=${t} code=${code} headingLevel=${3} onDone=${() => { setCode(null); setDone(true) }} />
    </section>`
  }
  return html`<section class="console-card" aria-labelledby="recovery-new-title">
    <h3 id="recovery-new-title">${t('console.recovery.title')}</h3>
    <p>${t('console.recovery.explain')}</p>
    <form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <${Field} t=${t} id="recovery-password" type="password" autocomplete="current-password"
        label=${t('console.reauth.password')} value=${password} onInput=${setPassword} error=${fieldError} />
      <button type="submit" class="button button-primary" disabled=${busy}>${t('console.recovery.submit')}</button>
      ${done && html`<${Status}>${t('console.recovery.done')}<//>`}
    </form>
  </section>`
}

/** The "your login" section of the console. */
export function Credentials ({ app, current }) {
  const { t } = app
  return html`<section class="console-section" aria-labelledby="login-settings-title">
    <h2 id="login-settings-title" tabindex="-1">${t('console.login.title')}</h2>
    <${ChangePassword} app=${app} current=${current} />
    <${ChangeEmail} app=${app} current=${current} />
    <${NewRecoveryCode} app=${app} current=${current} />
  </section>`
}

/** Signing out, on every page of the console. */
export function Logout ({ app }) {
  const { t } = app
  const { busy, error, run } = useSubmit(async () => {
    await app.keys.signOut()
    app.navigate('/login/')
  })
  return html`<section class="console-card" aria-labelledby="logout-title">
    <h2 id="logout-title" class="console-card__title">${t('console.logout.title')}</h2>
    <${Alert} t=${t} error=${error} />
    <button type="button" class="button" disabled=${busy} onClick=${() => run()}>${t('console.logout.submit')}</button>
  </section>`
}
