// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// /setup/#<setup token>: creates the first login and account in the browser while the
// instance has no login (PROTOCOL §4 "Setup"). The token comes from the link `offen serve`
// logged; every key is made here and the recovery code is shown once.

import { useEffect, useState } from 'preact/hooks'
import { html, Field, Alert, NewPassword, checkPassword, useSubmit, looksLikeEmail, RecoveryCode, fragment } from './ui.js'
import { setup, setupStatus } from './flows.js'

export function SetupPage ({ app, location = globalThis.location }) {
  const { t } = app
  const [token, setToken] = useState(() => fragment(location))
  const [phase, setPhase] = useState('checking') // checking | form | done | code | noToken | failed
  const [email, setEmail] = useState('')
  const [name, setName] = useState('')
  const [pw, setPw] = useState({ password: '', confirm: '' })
  const [errors, setErrors] = useState({})
  const [code, setCode] = useState(null)

  // The link may be pasted into a tab already open on /setup/: only the fragment
  // changes then, and the page does not load again.
  useEffect(() => {
    const win = globalThis.window
    if (!win) return
    const changed = () => setToken(fragment(location))
    win.addEventListener('hashchange', changed)
    return () => win.removeEventListener('hashchange', changed)
  }, [])

  useEffect(() => {
    if (!token) {
      setPhase('noToken')
      return
    }
    setPhase('checking')
    setupStatus(app.api)
      .then((s) => setPhase(s.required ? 'form' : 'done'))
      .catch(() => setPhase('failed'))
  }, [token])

  const { busy, error, run } = useSubmit(async () => {
    const result = await setup(app.api, { setupToken: token, email: email.trim(), password: pw.password, accountName: name.trim() })
    await app.keys.signedIn(result, email.trim())
    setPw({ password: '', confirm: '' })
    setCode(result.recoveryCode)
    setPhase('code')
  }, { 403: 'auth.setup.badToken', 409: 'auth.setup.done' })

  const submit = (e) => {
    e.preventDefault()
    const errs = { ...(checkPassword(pw, [email, name]) || {}) }
    if (!looksLikeEmail(email)) errs.email = 'auth.error.email'
    if (!name.trim() || name.trim().length > 100) errs.name = 'auth.setup.nameInvalid'
    setErrors(errs)
    if (Object.keys(errs).length === 0) run()
  }

  if (phase === 'code') {
    return html`<section class="page auth-page"><${RecoveryCode} t=${t} code=${code} onDone=${() => app.navigate('/console/', { replace: true })} /></section>`
  }
  let body
  if (phase === 'checking') body = html`<p role="status">${t('auth.loading')}</p>`
  else if (phase === 'noToken') body = html`<p role="alert">${t('auth.setup.noToken')}</p>`
  else if (phase === 'failed') body = html`<p role="alert">${t('auth.error.network')}</p>`
  else if (phase === 'done') body = html`<p role="alert">${t('auth.setup.done')}</p><p><a href="/login/">${t('auth.backToLogin')}</a></p>`
  else {
    body = html`<p>${t('auth.setup.explain')}</p>
    <form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <${Field} t=${t} id="setup-email" type="email" autocomplete="username" inputmode="email"
        label=${t('auth.email')} value=${email} onInput=${setEmail} error=${errors.email} />
      <${Field} t=${t} id="setup-account" label=${t('auth.setup.accountName')} hint=${t('auth.setup.accountHint')}
        value=${name} onInput=${setName} error=${errors.name} autocomplete="off" />
      <${NewPassword} t=${t} idPrefix="setup-password" value=${pw} onChange=${setPw} context=${[email, name]} errors=${errors} />
      <button type="submit" class="button button-primary" disabled=${busy}>${busy ? t('auth.setup.busy') : t('auth.setup.submit')}</button>
    </form>`
  }
  return html`<section class="page auth-page" aria-labelledby="page-title">
    <h1 id="page-title">${t('auth.setup.title')}</h1>
    ${body}
  </section>`
}
