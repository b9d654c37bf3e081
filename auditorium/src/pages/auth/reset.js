// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// /reset-password/#<token>: a new password, with the recovery code (the login key is
// recovered, every account stays readable) or without it (a new login key; the accounts
// listed must be shared again by an admin). A new recovery code is shown once.

import { useEffect, useState } from 'preact/hooks'
import { html, Field, Alert, NewPassword, checkPassword, useSubmit, RecoveryCode, StepHeading, fragment } from './ui.js'
import { resetLookup, resetPassword } from './flows.js'

export function ResetPage ({ app, location = globalThis.location }) {
  const { t } = app
  const [token] = useState(() => fragment(location))
  const [lookup, setLookup] = useState(null)
  const [phase, setPhase] = useState('checking') // checking | form | invalid | code | reshare
  const [hasCode, setHasCode] = useState(true)
  const [code, setCode] = useState('')
  const [pw, setPw] = useState({ password: '', confirm: '' })
  const [errors, setErrors] = useState({})
  const [result, setResult] = useState(null)

  useEffect(() => {
    if (!token) {
      setPhase('invalid')
      return
    }
    resetLookup(app.api, token)
      .then((l) => { setLookup(l); setPhase('form') })
      .catch(() => setPhase('invalid'))
  }, [])

  const { busy, error, run } = useSubmit(async () => {
    const r = await resetPassword(app.api, { token, lookup, password: pw.password, recoveryCode: hasCode ? code : null })
    await app.keys.signedIn(r)
    setPw({ password: '', confirm: '' })
    setCode('')
    setResult(r)
    setPhase('code')
  }, { 404: 'auth.error.linkInvalid', 403: 'auth.error.wrongCode' })

  const submit = (e) => {
    e.preventDefault()
    const errs = { ...(checkPassword(pw) || {}) }
    if (hasCode && !code.trim()) errs.code = 'auth.reset.codeMissing'
    setErrors(errs)
    if (Object.keys(errs).length === 0) run()
  }

  if (phase === 'code') {
    const next = () => result.reshare.length ? setPhase('reshare') : app.navigate('/console/', { replace: true })
    return html`<section class="page auth-page"><${RecoveryCode} t=${t} code=${result.recoveryCode} onDone=${next} /></section>`
  }
  if (phase === 'reshare') {
    return html`<section class="page auth-page">
      <${StepHeading}>${t('auth.reset.reshareTitle')}<//>
      <p>${t('auth.reset.reshareDone')}</p>
      <ul data-testid="reshare-list">${result.reshare.map((a) => html`<li key=${a.accountId}>${a.name}</li>`)}</ul>
      <p><a class="button button-primary" href="/console/" onClick=${(e) => { e.preventDefault(); app.navigate('/console/', { replace: true }) }}>${t('auth.reset.toConsole')}</a></p>
    </section>`
  }
  let body
  if (phase === 'checking') body = html`<p role="status">${t('auth.loading')}</p>`
  else if (phase === 'invalid') body = html`<p role="alert">${t('auth.error.linkInvalid')}</p><p><a href="/forgot-password/">${t('auth.reset.again')}</a></p>`
  else {
    body = html`<form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <fieldset class="form-choice">
        <legend>${t('auth.reset.haveCode')}</legend>
        <div class="form-check">
          <input type="radio" id="reset-with-code" name="reset-mode" checked=${hasCode} onChange=${() => setHasCode(true)} />
          <label for="reset-with-code">${t('auth.reset.withCode')}</label>
        </div>
        <div class="form-check">
          <input type="radio" id="reset-without-code" name="reset-mode" checked=${!hasCode} onChange=${() => setHasCode(false)} />
          <label for="reset-without-code">${t('auth.reset.withoutCode')}</label>
        </div>
      </fieldset>
      ${hasCode
        ? html`<${Field} t=${t} id="reset-code" label=${t('auth.reset.code')} hint=${t('auth.reset.codeHint')}
            value=${code} onInput=${setCode} autocomplete="off" spellcheck="false" error=${errors.code} />`
        : html`<div class="form-warning" role="note">
            <p>${t('auth.reset.withoutWarning')}</p>
            ${lookup.grants.length > 0 && html`<ul data-testid="reshare-preview">${lookup.grants.map((a) => html`<li key=${a.accountId}>${a.name}</li>`)}</ul>`}
          </div>`}
      <${NewPassword} t=${t} idPrefix="reset-password" value=${pw} onChange=${setPw} errors=${errors} />
      <button type="submit" class="button button-primary" disabled=${busy}>${busy ? t('auth.reset.busy') : t('auth.reset.submit')}</button>
    </form>`
  }
  return html`<section class="page auth-page" aria-labelledby="page-title">
    <h1 id="page-title">${t('auth.reset.title')}</h1>
    ${body}
  </section>`
}
