// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// One account in the console: the embed snippet and the visitor link and badge, allowed
// origins (with the same-site check of PROTOCOL §1), banner styles, who holds the account
// (roles, revoking) and retiring it.

import { useEffect, useState } from 'preact/hooks'
import { html, Field, Alert, Status, useSubmit, CopyButton } from '../auth/ui.js'
import { listGrants, retireAccount, invite, isApiError } from '../auth/flows.js'
import { BannerStyles } from './banner.js'
import { dashboardHref } from '../../dashboard/viewstate.js'

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]))

/** The snippets an operator pastes into their site. */
export function snippets (origin, accountId, text) {
  const auditorium = origin + '/auditorium/'
  const label = escapeHtml(text.badge)
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="180" height="28" role="img"><rect width="180" height="28" rx="4" fill="#2f4858"/><text x="90" y="18" fill="#fff" font-family="system-ui,sans-serif" font-size="12" text-anchor="middle">${label}</text></svg>`
  return {
    embed: `<script async src="${origin}/script.js" data-account-id="${accountId}"></script>`,
    link: `<a href="${auditorium}" target="_blank" rel="noopener">${escapeHtml(text.link)}</a>`,
    badge: `<a href="${auditorium}" target="_blank" rel="noopener"><img src="data:image/svg+xml,${encodeURIComponent(svg)}" width="180" height="28" alt="${label}"></a>`
  }
}

function Snippet ({ t, id, label, hint, code }) {
  return html`<div class="form-field snippet">
    <label for=${id}>${label}</label>
    <textarea id=${id} class="input--code" readonly rows="3" aria-describedby=${id + '-hint'}
      value=${code} onFocus=${(e) => e.currentTarget.select()}></textarea>
    <p class="form-hint" id=${id + '-hint'}>${hint}</p>
    <${CopyButton} t=${t} text=${code} />
  </div>`
}

function Snippets ({ app, account }) {
  const { t } = app
  const s = snippets(app.origin, account.accountId, { link: t('console.snippet.linkText'), badge: t('console.snippet.badgeText') })
  return html`<section class="console-card" aria-labelledby="snippets-title">
    <h3 id="snippets-title">${t('console.snippet.title')}</h3>
    <p>${t('console.snippet.accountId', { id: account.accountId })}</p>
    <${Snippet} t=${t} id="snippet-embed" label=${t('console.snippet.embed')} hint=${t('console.snippet.embedHint')} code=${s.embed} />
    <${Snippet} t=${t} id="snippet-link" label=${t('console.snippet.link')} hint=${t('console.snippet.linkHint')} code=${s.link} />
    <${Snippet} t=${t} id="snippet-badge" label=${t('console.snippet.badge')} hint=${t('console.snippet.linkHint')} code=${s.badge} />
  </section>`
}

/** The allowed origins of an account, one per line, with the same-site explanation. */
export function AllowedOrigins ({ app, account, isAdmin, onSaved }) {
  const { t } = app
  const [origins, setOrigins] = useState(account.allowedOrigins || [])
  const [text, setText] = useState((account.allowedOrigins || []).map((o) => o.origin).join('\n'))
  const [saved, setSaved] = useState(false)
  const [problem, setProblem] = useState(null)
  const { busy, error, run } = useSubmit(async () => {
    const list = text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean)
    try {
      const r = await app.api.request('PUT', `/api/accounts/${account.accountId}/allowed-origins`, { origins: list })
      setOrigins(r.origins)
      setText(r.origins.map((o) => o.origin).join('\n'))
      setProblem(null)
      setSaved(true)
      if (onSaved) onSaved(r.origins)
    } catch (err) {
      if (isApiError(err) && err.status === 400) {
        setProblem((err.fields && err.fields.origins) || err.message)
        return
      }
      throw err
    }
  })
  const crossSite = origins.filter((o) => !o.sameSite)
  return html`<section class="console-card" aria-labelledby="origins-title">
    <h3 id="origins-title">${t('console.origins.title')}</h3>
    <p>${t('console.origins.explain')}</p>
    ${origins.length === 0
      ? html`<p class="form-warning" role="note" data-testid="origins-empty">${t('console.origins.empty')}</p>`
      : html`<ul class="origin-list" data-testid="origins">
          ${origins.map((o) => html`<li key=${o.origin} class=${o.sameSite ? 'origin origin--same' : 'origin origin--cross'}>
            <code>${o.origin}</code>
            <span class="badge">${o.sameSite ? t('console.origins.sameSite') : t('console.origins.crossSite')}</span>
          </li>`)}
        </ul>`}
    ${crossSite.length > 0 && html`<div class="form-warning" role="note" data-testid="origins-cross">
      <p>${t('console.origins.crossExplain', { offen: app.origin })}</p>
      <ul>
        <li>${t('console.origins.blockCookies')}</li>
        <li>${t('console.origins.blockStorage')}</li>
      </ul>
      <p>${t('console.origins.advice')}</p>
    </div>`}
    ${isAdmin && html`<form class="form" onSubmit=${(e) => { e.preventDefault(); setSaved(false); run() }}>
      <${Alert} t=${t} error=${error} />
      <div class="form-field">
        <label for="origins-edit">${t('console.origins.edit')}</label>
        <textarea id="origins-edit" class="input--code" rows="4" spellcheck="false" value=${text}
          onInput=${(e) => { setText(e.currentTarget.value); setSaved(false) }}
          aria-invalid=${problem ? 'true' : undefined}
          aria-describedby=${'origins-hint' + (problem ? ' origins-problem' : '')}></textarea>
        <p class="form-hint" id="origins-hint">${t('console.origins.hint')}</p>
        ${problem && html`<p class="form-error" id="origins-problem" role="alert">${t('console.origins.invalid', { reason: problem })}</p>`}
      </div>
      <button type="submit" class="button button-primary" disabled=${busy}>${t('console.origins.save')}</button>
      ${saved && html`<${Status}>${t('console.origins.saved')}<//>`}
    </form>`}
  </section>`
}

/** Who holds the account: roles can be changed and grants revoked by admins; anyone may leave. */
export function People ({ app, current, account, isAdmin, onLeft }) {
  const { t } = app
  const [grants, setGrants] = useState(null)
  const [status, setStatus] = useState(null)
  const [link, setLink] = useState(null)
  const kek = current.keks.get(account.accountId)
  const load = () => listGrants(app.api, { accountId: account.accountId, kek }).then(setGrants)
  const { error, run } = useSubmit(async (fn, message) => {
    setStatus(null)
    try {
      await fn()
      setStatus(message)
    } finally {
      // Also after a refusal (the last admin), so the table shows what the server holds.
      await load().catch(() => {})
    }
  }, { 409: 'console.people.lastAdmin' })
  useEffect(() => { load().catch(() => setGrants([])) }, [account.accountId])

  const setRole = (g, role) => run(
    () => app.api.request('PUT', `/api/accounts/${account.accountId}/grants/${g.loginId}`, { role }),
    t('console.people.roleChanged', { who: g.email || t('console.people.unknown') }))
  const revoke = (g) => {
    const self = g.loginId === current.state.loginId
    const who = g.email || t('console.people.unknown')
    if (!globalThis.confirm(self ? t('console.people.confirmLeave', { name: account.name }) : t('console.people.confirmRevoke', { who, name: account.name }))) return
    run(async () => {
      await app.api.request('DELETE', `/api/accounts/${account.accountId}/grants/${g.loginId}`, {})
      if (self && onLeft) onLeft()
    }, self ? t('console.people.left') : t('console.people.revoked', { who }))
  }

  // A login reset without its recovery code holds the account as `reshare`: an admin
  // invites the same address again (without e-mail) and passes the new link on.
  const shareAgain = (g) => run(async () => {
    const r = await invite(app.api, { email: g.email, grants: [{ accountId: account.accountId, role: g.role }], keks: current.keks })
    setLink({ who: g.email, link: r.joinLink })
  }, t('console.people.sharedAgain', { who: g.email }))

  return html`<section class="console-card" aria-labelledby="people-title">
    <h3 id="people-title">${t('console.people.title')}</h3>
    <${Alert} t=${t} error=${error} />
    ${status && html`<${Status}>${status}<//>`}
    ${link && html`<div class="form-field">
      <label for="people-link">${t('console.people.linkFor', { who: link.who })}</label>
      <input id="people-link" type="text" readonly value=${link.link} class="input--code" data-testid="reshare-link"
        onFocus=${(e) => e.currentTarget.select()} />
      <${CopyButton} t=${t} text=${link.link} />
    </div>`}
    ${grants === null
      ? html`<p role="status">${t('auth.loading')}</p>`
      : html`<div class="table-scroll"><table class="table" data-testid="people">
        <caption class="visually-hidden">${t('console.people.caption', { name: account.name })}</caption>
        <thead><tr>
          <th scope="col">${t('console.people.who')}</th>
          <th scope="col">${t('console.people.role')}</th>
          <th scope="col">${t('console.people.state')}</th>
          <th scope="col"><span class="visually-hidden">${t('console.people.actions')}</span></th>
        </tr></thead>
        <tbody>${grants.map((g) => {
          const self = g.loginId === current.state.loginId
          const who = (g.email || t('console.people.unknown')) + (self ? ' ' + t('console.people.you') : '')
          return html`<tr key=${g.loginId}>
            <td>${who}</td>
            <td>${isAdmin && g.state !== 'reshare'
              ? html`<label class="visually-hidden" for=${'role-' + g.loginId}>${t('console.people.roleFor', { who })}</label>
                <select id=${'role-' + g.loginId} value=${g.role} onChange=${(e) => setRole(g, e.currentTarget.value)}>
                  <option value="viewer">${t('console.role.viewer')}</option>
                  <option value="admin">${t('console.role.admin')}</option>
                </select>`
              : t('console.role.' + g.role)}</td>
            <td>${t('console.state.' + g.state)}</td>
            <td>
              ${isAdmin && !self && g.state === 'reshare' && g.email && html`<button type="button" class="button button-small" onClick=${() => shareAgain(g)}>
                ${t('console.people.shareAgain')}</button> `}
              ${(isAdmin || self) && html`<button type="button" class="button button-danger button-small" onClick=${() => revoke(g)}>
                ${self ? t('console.people.leave') : t('console.people.revoke')}</button>`}
            </td>
          </tr>`
        })}</tbody>
      </table></div>`}
  </section>`
}

/** Retiring an account: type its name and the password. */
export function Retire ({ app, current, account, onRetired }) {
  const { t } = app
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState({})
  const { busy, error, run } = useSubmit(async () => {
    await retireAccount(app.api, { state: current.state, accountId: account.accountId, password })
    setPassword('')
    onRetired()
  }, { 401: 'console.reauth.wrong' })
  const submit = (e) => {
    e.preventDefault()
    const errs = {}
    if (name !== account.name) errs.name = 'console.retire.nameMismatch'
    if (!password) errs.password = 'console.reauth.missing'
    setErrors(errs)
    if (Object.keys(errs).length === 0) run()
  }
  return html`<section class="console-card console-card--danger" aria-labelledby="retire-title">
    <h3 id="retire-title">${t('console.retire.title')}</h3>
    <p>${t('console.retire.explain', { name: account.name })}</p>
    <form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <${Field} t=${t} id="retire-name" label=${t('console.retire.typeName', { name: account.name })} autocomplete="off"
        value=${name} onInput=${setName} error=${errors.name} />
      <${Field} t=${t} id="retire-password" type="password" autocomplete="current-password"
        label=${t('console.reauth.password')} value=${password} onInput=${setPassword} error=${errors.password} />
      <button type="submit" class="button button-danger" disabled=${busy}>${t('console.retire.submit')}</button>
    </form>
  </section>`
}

/** The panel of one account: loads GET /api/accounts/{id}. */
export function AccountPanel ({ app, current, summary, onChanged }) {
  const { t } = app
  const [account, setAccount] = useState(null)
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    setAccount(null)
    setFailed(false)
    app.api.request('GET', `/api/accounts/${summary.accountId}`).then(setAccount).catch(() => setFailed(true))
  }, [summary.accountId])
  const isAdmin = summary.role === 'admin'
  return html`<section class="console-section" aria-labelledby="account-title" data-testid="account-panel">
    <h2 id="account-title" tabindex="-1">${t('console.account.title', { name: summary.name })}</h2>
    ${failed && html`<p role="alert">${t('console.account.loadFailed')}</p>`}
    ${!account && !failed && html`<p role="status">${t('auth.loading')}</p>`}
    ${account && html`
      <p><a href=${dashboardHref(account.accountId)}>${t('console.account.dashboard')}</a></p>
      <${Snippets} app=${app} account=${account} />
      <${AllowedOrigins} app=${app} account=${account} isAdmin=${isAdmin} />
      ${isAdmin && html`<${BannerStyles} app=${app} account=${account} />`}
      <${People} app=${app} current=${current} account=${account} isAdmin=${isAdmin} onLeft=${onChanged} />
      ${isAdmin && html`<${Retire} app=${app} current=${current} account=${account} onRetired=${onChanged} />`}`}
  </section>`
}
