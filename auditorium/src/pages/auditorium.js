// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// /auditorium/: the operator dashboard for a signed-in operator whose keys are unlocked,
// a password prompt when this browser holds no wrap key yet, and otherwise the visitor's
// view of their own data.

import { useEffect, useState } from 'preact/hooks'
import { OperatorDashboard } from '../dashboard/operator.js'
import { VisitorView } from '../dashboard/visitor.js'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'
import { ANONYMOUS, LOCKED, READY } from '../lib/session.js'
import { useServices, useSession } from '../lib/services.js'

function Unlock () {
  const { t } = useI18n()
  const { session } = useServices()
  const [password, setPassword] = useState('')
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  const submit = async (event) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      // the field's current value: an update of `password` may not have rendered yet
      await session.unlock(event.currentTarget.querySelector('#unlock-password').value || password)
    } catch {
      setError(t('dashboard.unlock.failed'))
    } finally {
      setBusy(false)
    }
  }
  return html`<section class="page">
    <h1 id="page-title">${t('dashboard.unlock.title')}</h1>
    <p>${t('dashboard.unlock.text')}</p>
    <form class="form" onSubmit=${submit}>
      ${error && html`<p class="alert" role="alert">${error}</p>`}
      <label for="unlock-password">${t('dashboard.unlock.password')}</label>
      <input id="unlock-password" type="password" autocomplete="current-password" required
        value=${password} onInput=${e => setPassword(e.currentTarget.value)} />
      <button class="button button-primary" type="submit" disabled=${busy}>${t('dashboard.unlock.submit')}</button>
    </form>
  </section>`
}

export function AuditoriumPage () {
  const state = useSession()
  const { session } = useServices()
  // A sign-in on another page of this app (the console's login) may have stored a wrap key
  // since the shell started: ask again when arriving here signed out.
  useEffect(() => {
    if (session.state.status === ANONYMOUS && session.restore) session.restore().catch(() => {})
  }, [])
  if (state.status === READY) return html`<${OperatorDashboard} login=${state.login} />`
  if (state.status === LOCKED) return html`<${Unlock} />`
  if (state.status === ANONYMOUS) return html`<${VisitorView} />`
  return html`<div class="loading" aria-busy="true"></div>`
}
