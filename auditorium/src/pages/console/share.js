// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Sharing accounts (PROTOCOL §4 "Invite and join"): a role per chosen account, the join
// link with the invite key in its fragment to copy, and optionally an e-mail the server
// sends (only then does the invite key reach the server).

import { useState } from 'preact/hooks'
import { html, Field, Alert, useSubmit, looksLikeEmail, CopyButton, StepHeading } from '../auth/ui.js'
import { invite } from '../auth/flows.js'

export function Share ({ app, current, accounts }) {
  const { t } = app
  const shareable = accounts.filter((a) => a.role === 'admin' && a.state === 'active' && current.keks.has(a.accountId))
  const [email, setEmail] = useState('')
  const [chosen, setChosen] = useState({}) // accountId -> role
  const [sendEmail, setSendEmail] = useState(false)
  const [errors, setErrors] = useState({})
  const [result, setResult] = useState(null)
  const { busy, error, run } = useSubmit(async () => {
    const grants = Object.entries(chosen).map(([accountId, role]) => ({ accountId, role }))
    const r = await invite(app.api, { email: email.trim(), grants, keks: current.keks, sendEmail, locale: app.lang })
    setResult({ ...r, email: email.trim(), sent: sendEmail })
  }, { 409: 'console.share.nothingNew', 403: 'console.share.notAdmin', 404: 'console.share.notAdmin' })

  const toggle = (id, on) => {
    const next = { ...chosen }
    if (on) next[id] = next[id] || 'viewer'
    else delete next[id]
    setChosen(next)
  }
  const submit = (e) => {
    e.preventDefault()
    const errs = {}
    if (!looksLikeEmail(email)) errs.email = 'auth.error.email'
    if (Object.keys(chosen).length === 0) errs.accounts = 'console.share.noAccount'
    setErrors(errs)
    if (Object.keys(errs).length === 0) run()
  }
  const again = () => {
    setResult(null)
    setEmail('')
    setChosen({})
  }

  if (shareable.length === 0) {
    return html`<section class="console-section" aria-labelledby="share-title">
      <h2 id="share-title">${t('console.share.title')}</h2>
      <p>${t('console.share.none')}</p>
    </section>`
  }
  if (result) {
    return html`<section class="console-section" aria-labelledby="share-done-title">
      <${StepHeading} level=${2} id="share-done-title">${t('console.share.doneTitle')}<//>
      <p>${result.sent ? t('console.share.sent', { email: result.email }) : t('console.share.copyOnly', { email: result.email })}</p>
      <div class="form-field">
        <label for="share-link">${t('console.share.link')}</label>
        <input id="share-link" type="text" readonly value=${result.joinLink} class="input--code" data-testid="join-link"
          aria-describedby="share-link-hint" onFocus=${(e) => e.currentTarget.select()} />
        <p class="form-hint" id="share-link-hint">${t('console.share.linkHint', { date: new Date(result.expiresAt).toLocaleString(app.lang) })}</p>
      </div>
      <${CopyButton} t=${t} text=${result.joinLink} />
      <p><button type="button" class="button" onClick=${again}>${t('console.share.again')}</button></p>
    </section>`
  }
  return html`<section class="console-section" aria-labelledby="share-title">
    <h2 id="share-title">${t('console.share.title')}</h2>
    <p>${t('console.share.explain')}</p>
    <form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <${Field} t=${t} id="share-email" type="email" autocomplete="off" inputmode="email"
        label=${t('console.share.email')} value=${email} onInput=${setEmail} error=${errors.email} />
      <fieldset class="share-accounts" aria-describedby=${errors.accounts ? 'share-accounts-error' : undefined}>
        <legend>${t('console.share.accounts')}</legend>
        ${shareable.map((a) => html`<div class="share-account" key=${a.accountId}>
          <div class="form-check">
            <input type="checkbox" id=${'share-' + a.accountId} checked=${!!chosen[a.accountId]}
              onChange=${(e) => toggle(a.accountId, e.currentTarget.checked)} />
            <label for=${'share-' + a.accountId}>${a.name}</label>
          </div>
          <label class="visually-hidden" for=${'share-role-' + a.accountId}>${t('console.share.roleFor', { name: a.name })}</label>
          <select id=${'share-role-' + a.accountId} disabled=${!chosen[a.accountId]} value=${chosen[a.accountId] || 'viewer'}
            onChange=${(e) => setChosen({ ...chosen, [a.accountId]: e.currentTarget.value })}>
            <option value="viewer">${t('console.role.viewer')}</option>
            <option value="admin">${t('console.role.admin')}</option>
          </select>
        </div>`)}
        ${errors.accounts && html`<p class="form-error" id="share-accounts-error">${t(errors.accounts)}</p>`}
      </fieldset>
      <p class="form-hint">${t('console.share.roles')}</p>
      <div class="form-check">
        <input type="checkbox" id="share-send" checked=${sendEmail} onChange=${(e) => setSendEmail(e.currentTarget.checked)} aria-describedby="share-send-hint" />
        <label for="share-send">${t('console.share.sendEmail')}</label>
      </div>
      <p class="form-hint" id="share-send-hint">${t('console.share.sendHint')}</p>
      <button type="submit" class="button button-primary" disabled=${busy}>${t('console.share.submit')}</button>
    </form>
  </section>`
}
