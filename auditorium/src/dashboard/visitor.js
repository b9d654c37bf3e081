// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The visitor view at /auditorium/ (no login): the figures of the dashboard over the visitor's
// own events in every account of this instance, an explanation on every panel, an onboarding
// tour on the first visit only, and the visitor's rights: export (JSON, CSV), delete, opt out,
// opt in. data-state on the root works as in the operator dashboard.

import { useEffect, useMemo, useState } from 'preact/hooks'
import { ALLOW, DENY, readConsent, writeConsent } from '../../../script/src/vault/consent.js'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'
import { useServices } from '../lib/services.js'
import { secureContext } from '../pages/landing.js'
import { FilterChips, MetricsView } from './components.js'
import { EventPanels } from './panels-events.js'
import { REFRESH_MS, Unreadable, useRefresh } from './operator.js'
import { RANGES, rangeAllowed, rangeBounds, resolutionsFor } from './ranges.js'
import { createVisitorData, download, toCsv } from './visitor-data.js'
import { createDashboardMetrics } from './workers.js'

const ONBOARDED = 'offen-auditorium-onboarded'
const STEPS = ['welcome', 'encryption', 'rights']

function onboarded () {
  try {
    return globalThis.localStorage.getItem(ONBOARDED) === '1'
  } catch {
    return true
  }
}

/**
 * Onboarding is a three-step introduction shown on the first visit: it counts as seen once
 * shown, so the next visit goes straight to the data, dismissed or not.
 */
export function Onboarding ({ onDone }) {
  const { t } = useI18n()
  const [step, setStep] = useState(0)
  const name = STEPS[step]
  useEffect(() => {
    try {
      globalThis.localStorage.setItem(ONBOARDED, '1')
    } catch {}
  }, [])
  const finish = () => onDone()
  return html`<section class="panel onboarding" aria-labelledby="onboarding-title" data-step=${name}>
    <p class="muted">${t('dashboard.onboarding.progress', { step: step + 1, total: STEPS.length })}</p>
    <h2 id="onboarding-title">${t(`dashboard.onboarding.${name}.title`)}</h2>
    <p>${t(`dashboard.onboarding.${name}.text`)}</p>
    <div class="button-row">
      ${step > 0 && html`<button type="button" class="button" onClick=${() => setStep(step - 1)}>${t('dashboard.onboarding.back')}</button>`}
      ${step < STEPS.length - 1
        ? html`<button type="button" class="button button-primary" onClick=${() => setStep(step + 1)}>${t('dashboard.onboarding.next')}</button>
            <button type="button" class="link-button" onClick=${finish}>${t('dashboard.onboarding.skip')}</button>`
        : html`<button type="button" class="button button-primary" onClick=${finish}>${t('dashboard.onboarding.done')}</button>`}
    </div>
  </section>`
}

/** Confirm asks once more before a destructive action. */
function Confirm ({ label, question, onConfirm, busy }) {
  const { t } = useI18n()
  const [asking, setAsking] = useState(false)
  if (!asking) return html`<button type="button" class="button button-danger" disabled=${busy} onClick=${() => setAsking(true)}>${label}</button>`
  return html`<div class="notice" role="group" aria-label=${question}>
    <p>${question}</p>
    <div class="button-row">
      <button type="button" class="button button-danger" onClick=${() => { setAsking(false); onConfirm() }}>${t('dashboard.visitor.confirm')}</button>
      <button type="button" class="button" onClick=${() => setAsking(false)}>${t('dashboard.visitor.cancel')}</button>
    </div>
  </div>`
}

function Rights ({ data, consent, setConsent, reload, setError, hasData }) {
  const { t } = useI18n()
  const { announce } = useServices()
  const [busy, setBusy] = useState(false)
  const act = async (fn, done) => {
    setBusy(true)
    setError(null)
    try {
      await fn()
      announce(t(done))
    } catch {
      setError(t('dashboard.visitor.actionFailed'))
    } finally {
      setBusy(false)
    }
  }
  const exportAs = (format) => act(async () => {
    const records = await data.exportRecords()
    const stamp = new Date().toISOString().slice(0, 10)
    if (format === 'json') download(`offen-data-${stamp}.json`, 'application/json', JSON.stringify(records, null, 2))
    else download(`offen-data-${stamp}.csv`, 'text/csv', toCsv(records))
  }, 'dashboard.visitor.exported')
  const optIn = () => {
    if (writeConsent(document, ALLOW, secureContext())) {
      setConsent(ALLOW)
      announce(t('dashboard.consent.nowAllowed'))
    } else {
      setError(t('dashboard.consent.refused'))
    }
  }
  return html`<section class="panel" aria-labelledby="rights-title" data-panel="rights">
    <h2 id="rights-title">${t('dashboard.visitor.rights')}</h2>
    <p class="panel-explain">${t('dashboard.visitor.rightsText')}</p>
    ${consent === DENY && !hasData
      // Opted out and nothing left: export and delete would act on nothing, so say what
      // remains instead.
      ? html`<div class="notice" data-testid="opted-out-next">
          <h3>${t('dashboard.visitor.optedOutTitle')}</h3>
          <p>${t('dashboard.visitor.optedOutNothing')}</p>
          <p>${t('dashboard.visitor.optedOutKeep')}</p>
        </div>`
      : html`<h3>${t('dashboard.visitor.exportTitle')}</h3>
        <p>${t('dashboard.visitor.exportText')}</p>
        <div class="button-row">
          <button type="button" class="button" data-action="export-json" disabled=${busy} onClick=${() => exportAs('json')}>${t('dashboard.visitor.exportJson')}</button>
          <button type="button" class="button" data-action="export-csv" disabled=${busy} onClick=${() => exportAs('csv')}>${t('dashboard.visitor.exportCsv')}</button>
        </div>
        <h3>${t('dashboard.visitor.deleteTitle')}</h3>
        <p>${t('dashboard.visitor.deleteText')}</p>
        <${Confirm} label=${t('dashboard.visitor.delete')} question=${t('dashboard.visitor.deleteConfirm')} busy=${busy}
          onConfirm=${() => act(async () => { await data.purge(); await reload() }, 'dashboard.visitor.deleted')} />`}
    <h3>${t('dashboard.visitor.consentTitle')}</h3>
    <p class="consent-status" data-consent=${consent || 'none'}>${t(consent === ALLOW ? 'dashboard.consent.allowed' : consent === DENY ? 'dashboard.consent.denied' : 'dashboard.consent.undecided')}</p>
    ${consent === DENY
      ? html`<button type="button" class="button button-primary" data-action="opt-in" onClick=${optIn}>${t('dashboard.visitor.optIn')}</button>`
      : html`<p>${t('dashboard.visitor.optOutText')}</p>
        <${Confirm} label=${t('dashboard.visitor.optOut')} question=${t('dashboard.visitor.optOutConfirm')} busy=${busy}
          onConfirm=${() => act(async () => {
            writeConsent(document, DENY, secureContext())
            setConsent(readConsent(document))
            await data.optOut()
            await reload()
          }, 'dashboard.visitor.optedOut')} />`}
  </section>`
}

export function VisitorView () {
  const i18n = useI18n()
  const { t } = i18n
  const services = useServices()
  const metrics = useMemo(() => (services.createMetrics || createDashboardMetrics)({ workers: 1 }), [services])
  useEffect(() => () => metrics.terminate(), [metrics])
  const data = useMemo(() => createVisitorData({ api: services.api, metrics, factory: services.factory }), [metrics])
  const [showTour, setShowTour] = useState(() => !onboarded())
  const [consent, setConsent] = useState(() => readConsent(document))
  const [loaded, setLoaded] = useState(null)
  const [error, setError] = useState(null)
  const [range, setRange] = useState(null)
  const [resolution, setResolution] = useState(null)
  const [filters, setFilters] = useState({})
  const [result, setResult] = useState(null)
  const [tick, setTick] = useState(0)
  const now = useMemo(() => (services.now || Date.now)(), [tick, loaded])

  const reload = async () => {
    setLoaded(await data.load().then(r => ({ ...r, at: Date.now() })))
  }
  useEffect(() => {
    reload().catch(() => setError(t('dashboard.error.load')))
  }, [data])
  useRefresh(async () => {
    try {
      await data.refresh()
      setTick(x => x + 1)
    } catch {}
  }, services.refreshMs || REFRESH_MS, !!loaded)

  const retentionMs = data.retentionMs
  // the longest range the retention allows, so everything recorded is in view
  const widest = [...RANGES].reverse().find(r => r !== 'custom' && rangeAllowed(r, now, retentionMs)) || '7d'
  const effectiveRange = range && rangeAllowed(range, now, retentionMs) && range !== 'custom' ? range : widest
  const bounds = rangeBounds(effectiveRange, now)
  const resolutions = resolutionsFor(bounds.from, bounds.to)
  const effectiveResolution = resolutions.includes(resolution) ? resolution : resolutions[0]
  const queryKey = loaded ? JSON.stringify([bounds, effectiveResolution, filters, tick, loaded.at]) : null
  useEffect(() => {
    if (!queryKey) return
    let live = true
    data.query({ from: bounds.from, to: bounds.to, resolution: effectiveResolution, filters, now })
      .then(m => { if (live) setResult({ m, key: queryKey }) }, () => { if (live) setError(t('dashboard.error.load')) })
    return () => { live = false }
  }, [queryKey])

  const ready = result && result.key === queryKey
  const state = error && !ready ? 'error' : ready ? 'ready' : 'loading'
  const names = loaded ? [...data.accounts.values()].sort() : []
  const onFilter = (name, value) => setFilters({ ...filters, [name]: value })
  const removeFilter = (name) => {
    const next = { ...filters }
    delete next[name]
    setFilters(next)
  }
  return html`<section class="page dashboard visitor" data-state=${state} aria-busy=${state === 'loading' ? 'true' : 'false'}>
    <h1 id="page-title">${t('dashboard.visitor.title')}</h1>
    <p class="lead">${t('dashboard.visitor.intro')}</p>
    ${showTour && html`<${Onboarding} onDone=${() => setShowTour(false)} />`}
    ${error && html`<p class="alert" role="alert">${error}</p>`}
    ${loaded && html`<section class="panel" aria-labelledby="accounts-title" data-panel="accounts">
      <h2 id="accounts-title">${t('dashboard.visitor.accounts')}</h2>
      <p class="panel-explain">${t('dashboard.explain.accounts')}</p>
      ${names.length ? html`<ul>${names.map(n => html`<li>${n}</li>`)}</ul>` : html`<p>${t('dashboard.visitor.noData')}</p>`}
    </section>`}
    <${Rights} data=${data} consent=${consent} setConsent=${setConsent} setError=${setError} hasData=${!ready || result.m.pageViews > 0 || result.m.unreadable > 0}
      reload=${() => reload().then(() => setTick(x => x + 1))} />
    <form class="toolbar" onSubmit=${e => e.preventDefault()}>
      <div>
        <label for="visitor-range">${t('dashboard.toolbar.range')}</label>
        <select id="visitor-range" value=${effectiveRange} onChange=${e => { setRange(e.currentTarget.value); setResolution(null) }}>
          ${RANGES.filter(r => r !== 'custom').map(r => html`<option value=${r} disabled=${!rangeAllowed(r, now, retentionMs)}>${t(`dashboard.range.${r}`)}</option>`)}
        </select>
      </div>
      <div>
        <label for="visitor-resolution">${t('dashboard.toolbar.resolution')}</label>
        <select id="visitor-resolution" value=${effectiveResolution} onChange=${e => setResolution(e.currentTarget.value)}>
          ${resolutions.map(r => html`<option value=${r}>${t(`dashboard.resolution.${r}`)}</option>`)}
        </select>
      </div>
    </form>
    <${FilterChips} filters=${filters} onRemove=${removeFilter} />
    ${result && html`<${Unreadable} events=${result.m.unreadable} />`}
    ${result && result.m.unreadable > 0 && html`<p class="muted">${t('dashboard.visitor.unreadableHint')}</p>`}
    ${result && html`<${MetricsView} m=${result.m} filters=${filters} onFilter=${onFilter} explain=${true}>
      <${EventPanels} m=${result.m} filters=${filters} onFilter=${onFilter} explain=${true} definitions=${false} />
    <//>`}
  </section>`
}
