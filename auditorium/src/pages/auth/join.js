// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// /join/#<invite key>: accepts an invitation (PROTOCOL §4 "Invite and join"). The invite
// key never leaves the browser here: it derives the token the server knows and the key
// that opens the invited KEKs, which are wrapped again under the login key. A new login
// chooses a password and gets a recovery code; an existing one signs in first.

import { useEffect, useState } from 'preact/hooks'
import { html, Alert, NewPassword, checkPassword, useSubmit, RecoveryCode, fragment } from './ui.js'
import { LoginForm } from './login.js'
import { inviteFromFragment, joinLookup, join } from './flows.js'

export function JoinPage ({ app, location = globalThis.location }) {
  const { t } = app
  const [invite, setInvite] = useState(null)
  const [lookup, setLookup] = useState(null)
  const [phase, setPhase] = useState('checking') // checking | invalid | new | existing | signIn | code
  const [pw, setPw] = useState({ password: '', confirm: '' })
  const [errors, setErrors] = useState({})
  const [code, setCode] = useState(null)
  const [current, setCurrent] = useState(null)

  useEffect(() => {
    (async () => {
      try {
        const inv = await inviteFromFragment(fragment(location))
        const l = await joinLookup(app.api, inv.token)
        setInvite(inv)
        setLookup(l)
        if (!l.existingLogin) {
          setPhase('new')
          return
        }
        const cur = await app.keys.restore().catch(() => null)
        setCurrent(cur)
        setPhase(cur && cur.state.loginId === l.loginId ? 'existing' : 'signIn')
      } catch {
        setPhase('invalid')
      }
    })()
  }, [])

  const { busy, error, setError, run } = useSubmit(async () => {
    const fresh = !lookup.existingLogin
    const r = await join(app.api, {
      token: invite.token,
      inviteWrapKey: invite.inviteWrapKey,
      lookup,
      password: fresh ? pw.password : undefined,
      loginKey: fresh ? undefined : current.loginKey
    })
    if (fresh) {
      await app.keys.signedIn(r)
      setPw({ password: '', confirm: '' })
      setCode(r.recoveryCode)
      setPhase('code')
      return
    }
    // The server started a new session; the wrap key in storage stays valid.
    await app.keys.update(r.state)
    app.navigate('/console/', { replace: true })
  }, { 401: 'auth.join.signInFirst', 404: 'auth.error.linkInvalid', 409: 'auth.join.changed' })

  const submitNew = (e) => {
    e.preventDefault()
    const errs = checkPassword(pw) || {}
    setErrors(errs)
    if (Object.keys(errs).length === 0) run()
  }

  const signedIn = async (cur) => {
    setCurrent(cur)
    if (cur.state.loginId !== lookup.loginId) {
      setError(['auth.join.otherLogin', {}])
      return
    }
    setPhase('existing')
  }

  if (phase === 'code') {
    return html`<section class="page auth-page"><${RecoveryCode} t=${t} code=${code} onDone=${() => app.navigate('/console/', { replace: true })} /></section>`
  }
  const accounts = lookup && html`<ul class="join-accounts" data-testid="join-accounts">
    ${lookup.grants.map((g) => html`<li key=${g.accountId}>${t('auth.join.accountRole', { name: g.name, role: t('console.role.' + g.role) })}</li>`)}
  </ul>`
  let body
  if (phase === 'checking') body = html`<p role="status">${t('auth.loading')}</p>`
  else if (phase === 'invalid') body = html`<p role="alert">${t('auth.error.linkInvalid')}</p>`
  else if (phase === 'new') {
    body = html`<p>${t('auth.join.explainNew')}</p>${accounts}
      <form class="form" onSubmit=${submitNew} noValidate aria-busy=${busy ? 'true' : 'false'}>
        <${Alert} t=${t} error=${error} />
        <${NewPassword} t=${t} idPrefix="join-password" value=${pw} onChange=${setPw} errors=${errors} />
        <button type="submit" class="button button-primary" disabled=${busy}>${busy ? t('auth.join.busy') : t('auth.join.submitNew')}</button>
      </form>`
  } else if (phase === 'signIn') {
    body = html`<p>${t('auth.join.explainExisting')}</p>${accounts}
      <${Alert} t=${t} error=${error} id="join-alert" />
      <${LoginForm} app=${app} idPrefix="join-login" onSignedIn=${signedIn} />`
  } else {
    body = html`<p>${t('auth.join.explainAccept')}</p>${accounts}
      <form class="form" onSubmit=${(e) => { e.preventDefault(); run() }}>
        <${Alert} t=${t} error=${error} />
        <button type="submit" class="button button-primary" disabled=${busy}>${busy ? t('auth.join.busy') : t('auth.join.accept')}</button>
      </form>`
  }
  return html`<section class="page auth-page" aria-labelledby="page-title">
    <h1 id="page-title">${t('auth.join.title')}</h1>
    ${body}
  </section>`
}
