// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Goals and funnels of an account (admins): two plain-text fields, sealed under the
// account's KEK before they are stored (keys/PROTOCOL.md §12), so the server never reads
// the page paths and event names they name.

import { useEffect, useState } from 'preact/hooks'
import { html, Alert, Status, useSubmit } from '../auth/ui.js'
import { formatDefinitions, openDefinitions, parseDefinitions, sealDefinitions } from '../../dashboard/definitions.js'

export function Goals ({ app, current, account }) {
  const { t } = app
  const kek = current.keks.get(account.accountId)
  const [text, setText] = useState(null) // {goals, funnels}
  const [errors, setErrors] = useState({ goals: [], funnels: [] })
  const [saved, setSaved] = useState(false)
  useEffect(() => {
    openDefinitions(kek, account.accountId, account.goals).then((d) => setText(formatDefinitions(d)))
  }, [account.accountId])
  const { busy, error, run } = useSubmit(async () => {
    const parsed = parseDefinitions(text.goals, text.funnels)
    setErrors(parsed.errors)
    if (parsed.errors.goals.length || parsed.errors.funnels.length) return
    const empty = parsed.goals.length === 0 && parsed.funnels.length === 0
    const goals = empty ? '' : await sealDefinitions(kek, account.accountId, parsed)
    await app.api.request('PUT', `/api/accounts/${account.accountId}/goals`, { goals })
    account.goals = goals
    setText(formatDefinitions(parsed))
    setSaved(true)
  })
  if (text === null) return null
  const field = (name, rows, label, hint) => {
    const bad = errors[name]
    return html`<div class="form-field">
      <label for=${'definitions-' + name}>${t(label)}</label>
      <textarea id=${'definitions-' + name} class="input--code" rows=${rows} spellcheck="false" value=${text[name]}
        onInput=${(e) => { setText({ ...text, [name]: e.currentTarget.value }); setSaved(false) }}
        aria-invalid=${bad.length ? 'true' : undefined}
        aria-describedby=${`definitions-${name}-hint` + (bad.length ? ` definitions-${name}-problem` : '')}></textarea>
      <p class="form-hint" id=${`definitions-${name}-hint`}>${t(hint)}</p>
      ${bad.length > 0 && html`<p class="form-error" id=${`definitions-${name}-problem`} role="alert">${t('console.goals.invalid', { lines: bad.join(', ') })}</p>`}
    </div>`
  }
  return html`<section class="console-card" aria-labelledby="goals-title" data-testid="goals">
    <h3 id="goals-title">${t('console.goals.title')}</h3>
    <p>${t('console.goals.explain')}</p>
    <form class="form" onSubmit=${(e) => { e.preventDefault(); setSaved(false); run() }}>
      <${Alert} t=${t} error=${error} />
      ${field('goals', 4, 'console.goals.goals', 'console.goals.goalsHint')}
      ${field('funnels', 3, 'console.goals.funnels', 'console.goals.funnelsHint')}
      <button type="submit" class="button button-primary" disabled=${busy}>${t('console.goals.save')}</button>
      ${saved && html`<${Status}>${t('console.goals.saved')}<//>`}
    </form>
  </section>`
}
