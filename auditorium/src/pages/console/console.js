// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// /console/: the operator's accounts (list, create, manage one), sharing, and the login's
// own credentials. Needs an unlocked session (login key and KEKs in memory); otherwise it
// asks to sign in.

import { useEffect, useState } from 'preact/hooks'
import { html, Field, Alert, Status, useSubmit } from '../auth/ui.js'
import { listAccounts, createAccount, ownEmail } from '../auth/flows.js'
import { AccountPanel } from './account.js'
import { Share } from './share.js'
import { Credentials } from './credentials.js'

function CreateAccount ({ app, current, onCreated }) {
  const { t } = app
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [errors, setErrors] = useState({})
  const [created, setCreated] = useState(null)
  const needEmail = !current.email
  const { busy, error, run } = useSubmit(async () => {
    let mine = current.email
    if (!mine) {
      mine = email.trim()
      app.keys.setEmail(mine)
    }
    const r = await createAccount(app.api, { loginKey: current.loginKey, name: name.trim(), email: mine })
    setName('')
    setCreated(r.account.name)
    await onCreated(r.account.accountId)
  }, { 403: 'console.create.forbidden' })
  const submit = (e) => {
    e.preventDefault()
    setCreated(null)
    const errs = {}
    if (!name.trim() || name.trim().length > 100) errs.name = 'auth.setup.nameInvalid'
    if (needEmail && !/^[^\s@]+@[^\s@]+$/.test(email.trim())) errs.email = 'auth.error.email'
    setErrors(errs)
    if (Object.keys(errs).length === 0) run()
  }
  return html`<section class="console-card" aria-labelledby="create-title">
    <h3 id="create-title">${t('console.create.title')}</h3>
    <form class="form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <${Field} t=${t} id="create-name" label=${t('auth.setup.accountName')} hint=${t('auth.setup.accountHint')}
        value=${name} onInput=${setName} error=${errors.name} autocomplete="off" />
      ${needEmail && html`<${Field} t=${t} id="create-email" type="email" autocomplete="email" label=${t('console.create.yourEmail')}
        hint=${t('console.create.emailHint')} value=${email} onInput=${setEmail} error=${errors.email} />`}
      <button type="submit" class="button button-primary" disabled=${busy}>${t('console.create.submit')}</button>
      ${created && html`<${Status}>${t('console.create.done', { name: created })}<//>`}
    </form>
  </section>`
}

// Unlock asks for the password when the session is valid but this browser holds no wrap
// key for it (storage cleared, or the password changed elsewhere).
function Unlock ({ app }) {
  const { t } = app
  const [password, setPassword] = useState('')
  const { busy, error, setError, run } = useSubmit(async () => {
    try {
      await app.keys.unlock(password)
    } catch (err) {
      // A wrong password derives a wrap key that does not open the login key.
      if (err && err.code === 'DECRYPT') {
        setError(['console.reauth.wrong', {}])
        return
      }
      throw err
    }
  })
  return html`<section class="page console auth-page" aria-labelledby="page-title">
    <h1 id="page-title">${t('console.unlock.title')}</h1>
    <p>${t('console.unlock.explain')}</p>
    <form class="form" onSubmit=${(e) => { e.preventDefault(); run() }} aria-busy=${busy ? 'true' : 'false'}>
      <${Alert} t=${t} error=${error} />
      <${Field} t=${t} id="unlock-password" type="password" autocomplete="current-password"
        label=${t('auth.password.label')} value=${password} onInput=${setPassword} />
      <button type="submit" class="button button-primary" disabled=${busy}>${t('console.unlock.submit')}</button>
    </form>
  </section>`
}

function AccountList ({ app, accounts, selected, onSelect }) {
  const { t } = app
  if (accounts.length === 0) return html`<p>${t('console.accounts.empty')}</p>`
  return html`<div class="table-scroll"><table class="table" data-testid="accounts">
    <caption class="visually-hidden">${t('console.accounts.caption')}</caption>
    <thead><tr>
      <th scope="col">${t('console.accounts.name')}</th>
      <th scope="col">${t('console.people.role')}</th>
      <th scope="col">${t('console.people.state')}</th>
      <th scope="col">${t('console.accounts.created')}</th>
      <th scope="col"><span class="visually-hidden">${t('console.people.actions')}</span></th>
    </tr></thead>
    <tbody>${accounts.map((a) => html`<tr key=${a.accountId} aria-current=${a.accountId === selected ? 'true' : undefined}>
      <th scope="row">${a.name}</th>
      <td>${t('console.role.' + a.role)}</td>
      <td>${t('console.state.' + a.state)}</td>
      <td>${new Date(a.createdAt).toLocaleDateString(app.lang)}</td>
      <td>${a.state === 'active'
        ? html`<button type="button" class="button button-small" aria-expanded=${a.accountId === selected ? 'true' : 'false'}
            aria-controls="account-panel" onClick=${() => onSelect(a.accountId === selected ? null : a.accountId)}>
            ${t('console.accounts.manage', { name: a.name })}</button>`
        : t('console.accounts.' + a.state + 'Hint')}</td>
    </tr>`)}</tbody>
  </table></div>`
}

/** The console page; `app` is {t, api, keys, navigate, origin, lang}. */
export function ConsolePage ({ app }) {
  const { t } = app
  const [current, setCurrent] = useState(() => app.keys.current())
  const [phase, setPhase] = useState(current ? 'ready' : 'loading')
  const [accounts, setAccounts] = useState(null)
  // ?account= opens that account (the dashboard links here for goals and funnels)
  const [selected, setSelected] = useState(() => new URLSearchParams(globalThis.location ? globalThis.location.search : '').get('account'))
  const [loadError, setLoadError] = useState(null)

  useEffect(() => app.keys.subscribe((c) => {
    setCurrent(c)
    if (c) setPhase('ready')
    // Signed out elsewhere (logout, a 401 from the server): back to the sign-in page.
    else if (!app.keys.locked()) app.navigate('/login/')
  }), [])
  useEffect(() => {
    if (current) return
    // The session may have become ready between the first render and this effect, with
    // no change left to notify: take the keys from restore()'s answer.
    app.keys.restore()
      .then((c) => {
        setCurrent(c)
        if (c) setPhase('ready')
        else if (app.keys.locked()) setPhase('locked')
        else app.navigate('/login/')
      })
      .catch(() => setPhase('failed'))
  }, [])
  const refresh = async () => {
    try {
      setAccounts(await listAccounts(app.api))
      // Grants change with new accounts, joins and retirements: new LoginState and KEKs.
      await app.keys.refresh()
    } catch (err) {
      setLoadError(['auth.error.network', {}])
    }
  }
  useEffect(() => {
    if (phase !== 'ready' || !current) return
    refresh()
    if (!current.email) ownEmail(app.api, current).then((e) => { if (e) app.keys.setEmail(e) }).catch(() => {})
  }, [phase])

  if (!current) {
    if (phase === 'locked') return html`<${Unlock} app=${app} />`
    if (phase === 'failed') return html`<section class="page console"><h1>${t('console.title')}</h1><p role="alert">${t('auth.error.network')}</p></section>`
    return html`<section class="page console"><h1>${t('console.title')}</h1><p role="status">${t('auth.loading')}</p></section>`
  }
  const summary = accounts && selected && accounts.find((a) => a.accountId === selected)
  const afterChange = async () => {
    setSelected(null)
    await refresh()
    // The panel with the focused control is gone: continue at the accounts list.
    const heading = document.getElementById('accounts-title')
    if (heading) heading.focus()
  }
  return html`<section class="page console" aria-labelledby="page-title">
    <h1 id="page-title">${t('console.title')}</h1>
    <nav class="console-nav" aria-label=${t('console.nav')}>
      <ul>
        <li><a href="#accounts-title">${t('console.accounts.title')}</a></li>
        <li><a href="#share-title">${t('console.share.title')}</a></li>
        <li><a href="#login-settings-title">${t('console.login.title')}</a></li>
      </ul>
    </nav>
    <section class="console-section" aria-labelledby="accounts-title">
      <h2 id="accounts-title" tabindex="-1">${t('console.accounts.title')}</h2>
      <${Alert} t=${t} error=${loadError} />
      ${accounts === null
        ? html`<p role="status">${t('auth.loading')}</p>`
        : html`<${AccountList} app=${app} accounts=${accounts} selected=${selected} onSelect=${setSelected} />`}
      ${current.state.canCreateAccounts && html`<${CreateAccount} app=${app} current=${current} onCreated=${async (id) => { await refresh(); setSelected(id) }} />`}
    </section>
    <div id="account-panel">
      ${summary && html`<${AccountPanel} key=${summary.accountId} app=${app} current=${current} summary=${summary} onChanged=${afterChange} />`}
    </div>
    ${accounts && html`<${Share} app=${app} current=${current} accounts=${accounts} />`}
    <${Credentials} app=${app} current=${current} />
  </section>`
}
