// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator dashboard: account switcher, range and resolution, filters, every panel of
// PRODUCT.md §5, a report of unreadable items, exports of what is shown, and a quiet refresh
// while the page is visible. The view (account, range, dates, resolution, filters) is the
// address (viewstate.js): every change is a history entry. The root element carries
// data-state="loading" | "ready" | "invalid" | "error"; "ready" means every panel of the
// current query has rendered (benchmarks and browser tests wait for it), "invalid" that the
// custom dates are wrong and the figures shown are stale.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'
import { useRoute, useRouter } from '../lib/router.js'
import { useServices } from '../lib/services.js'
import { FilterChips, MetricsView, keyLabeler } from './components.js'
import { eventsCsv, exportEventsOf } from './export.js'
import { AccountLoader } from './loader.js'
import { DEFAULT_RANGE, RANGES, formatDate, rangeAllowed, rangeBounds, resolutionsFor } from './ranges.js'
import { lastAccount, readView, rememberAccount, writeView } from './viewstate.js'
import { download } from './visitor-data.js'
import { createDashboardMetrics } from './workers.js'
import { EventPanels, useDefinitions } from './panels-events.js'

export const REFRESH_MS = 30000

/** activeAccounts lists the accounts of the login's active grants, by name. */
export function activeAccounts (login) {
  return (login.grants || []).filter(g => g.state === 'active').sort((a, b) => String(a.name).localeCompare(String(b.name)))
}

/**
 * Progress is a loading bar with counts from onProgress({phase, done, total}) of a loader:
 * a phase with a message of its own (dashboard.progress.<phase>, given {done} and {total})
 * uses it, any other one a general message; without a total the bar is indeterminate.
 */
export function Progress ({ progress, id = 'progress' }) {
  const i18n = useI18n()
  const { t, tn, number } = i18n
  if (!progress) return null
  const { phase, done, total } = progress
  const bounded = typeof done === 'number' && typeof total === 'number' && total > 0
  const args = { done: number(done), total: number(total) }
  let text
  if (phase === 'events') text = bounded ? t('dashboard.progress.eventsOf', args) : tn('dashboard.progress.events', done || 0)
  else if (i18n.has(`dashboard.progress.${phase}`)) text = t(`dashboard.progress.${phase}`, args)
  else text = bounded ? t('dashboard.progress.of', { what: t('dashboard.progress.loading'), ...args }) : t('dashboard.progress.loading')
  return html`<div class="progress" role="status" data-phase=${phase}>
    <p class="progress-text" id=${id + '-text'}>${text}</p>
    <progress class="progress-bar" aria-labelledby=${id + '-text'} max=${bounded ? total : undefined} value=${bounded ? Math.min(done, total) : undefined}></progress>
  </div>`
}

function Toolbar ({ accounts, accountId, onAccount, range, setRange, custom, setCustom, resolution, setResolution, now, retentionMs, invalid }) {
  const { t } = useI18n()
  const bounds = rangeBounds(range, now, custom)
  const resolutions = bounds ? resolutionsFor(bounds.from, bounds.to) : []
  const min = retentionMs ? formatDate(now - retentionMs) : undefined
  const max = formatDate(now)
  return html`<form class="toolbar" onSubmit=${e => e.preventDefault()}>
    ${accounts.length > 1 && html`<div>
      <label for="account-select">${t('dashboard.toolbar.account')}</label>
      <select id="account-select" value=${accountId} onChange=${e => onAccount(e.currentTarget.value)}>
        ${accounts.map(a => html`<option value=${a.accountId}>${a.name}</option>`)}
      </select>
    </div>`}
    <div>
      <label for="range-select">${t('dashboard.toolbar.range')}</label>
      <select id="range-select" value=${range} onChange=${e => setRange(e.currentTarget.value)}>
        ${RANGES.map(r => html`<option value=${r} disabled=${!rangeAllowed(r, now, retentionMs, custom)}>${t(`dashboard.range.${r}`)}</option>`)}
      </select>
    </div>
    ${range === 'custom' && html`<div>
        <label for="range-from">${t('dashboard.toolbar.from')}</label>
        <input id="range-from" type="date" min=${min} max=${max} value=${custom.from || ''} aria-invalid=${invalid ? 'true' : undefined}
          aria-describedby=${invalid ? 'range-invalid' : undefined} onChange=${e => setCustom({ ...custom, from: e.currentTarget.value })} />
      </div>
      <div>
        <label for="range-to">${t('dashboard.toolbar.to')}</label>
        <input id="range-to" type="date" min=${min} max=${max} value=${custom.to || ''} aria-invalid=${invalid ? 'true' : undefined}
          aria-describedby=${invalid ? 'range-invalid' : undefined} onChange=${e => setCustom({ ...custom, to: e.currentTarget.value })} />
      </div>`}
    ${resolutions.length > 0 && html`<div>
      <label for="resolution-select">${t('dashboard.toolbar.resolution')}</label>
      <select id="resolution-select" value=${resolution || resolutions[0] || ''} onChange=${e => setResolution(e.currentTarget.value)}>
        ${resolutions.map(r => html`<option value=${r}>${t(`dashboard.resolution.${r}`)}</option>`)}
      </select>
    </div>`}
  </form>`
}

/** Unreadable reports ciphertexts that failed; they are never shown. */
export function Unreadable ({ events = 0, secrets = 0 }) {
  const { tn } = useI18n()
  if (!events && !secrets) return null
  return html`<div class="notice" role="note" data-unreadable=${events + secrets}>
    ${events > 0 && html`<p>${tn('dashboard.unreadable.events', events)}</p>`}
    ${secrets > 0 && html`<p>${tn('dashboard.unreadable.secrets', secrets)}</p>`}
  </div>`
}

/**
 * useRefresh calls fn every `every` ms while the document is visible, and at once when it
 * becomes visible again.
 */
export function useRefresh (fn, every, enabled) {
  const saved = useRef(fn)
  saved.current = fn
  useEffect(() => {
    if (!enabled) return
    const tick = () => { if (document.visibilityState === 'visible') saved.current() }
    const timer = setInterval(tick, Math.min(every, 2 ** 31 - 1))
    document.addEventListener('visibilitychange', tick)
    return () => {
      clearInterval(timer)
      document.removeEventListener('visibilitychange', tick)
    }
  }, [every, enabled])
}

// loadCounts: periods read from segments, periods sealed here (and uploaded), events downloaded raw
const loadCounts = ({ segments, sealed, uploaded, downloaded }) => ({ segments, sealed, uploaded, downloaded })

export function OperatorDashboard ({ login }) {
  const i18n = useI18n()
  const { t } = i18n
  const services = useServices()
  const router = useRouter()
  const { location } = useRoute()
  const accounts = activeAccounts(login)
  const view = readView(location.search)
  const has = (id) => !!id && accounts.some(a => a.accountId === id)
  const remembered = lastAccount()
  const accountId = has(view.account) ? view.account : has(remembered) ? remembered : (accounts[0] && accounts[0].accountId)
  const { range, custom, filters } = view

  // every change of the view is a history entry; the address is the only state
  const go = (next, replace = false) => {
    router.navigate(location.pathname + writeView({ ...view, account: accountId, ...next }, location.search), { replace })
  }
  // an address without the account names it (no entry of its own: it is the same view)
  useEffect(() => {
    if (!accountId) return
    rememberAccount(accountId)
    if (view.account !== accountId) go({}, true)
  }, [accountId, view.account])

  const metrics = useMemo(() => (services.createMetrics || createDashboardMetrics)(), [services])
  useEffect(() => () => metrics.terminate(), [metrics])

  const [loaded, setLoaded] = useState(null) // {loader, summary}
  const [progress, setProgress] = useState(null)
  const [error, setError] = useState(null)
  const [result, setResult] = useState(null) // {m, key, filters}
  const [tick, setTick] = useState(0)
  const [now, setNow] = useState(() => (services.now || Date.now)())
  const [writing, setWriting] = useState(false)
  const [exporting, setExporting] = useState(null)

  // load the account
  useEffect(() => {
    if (!accountId) return
    let live = true
    let shown = 0
    setLoaded(null)
    setResult(null)
    setError(null)
    setProgress({ phase: 'account' })
    const loader = new AccountLoader({
      api: services.api,
      session: services.session,
      metrics,
      loginId: login.loginId,
      accountId,
      factory: services.factory,
      // the range shown is read first
      range: rangeBounds(range, now, custom) || rangeBounds(DEFAULT_RANGE, now),
      // progress re-renders the page: at most four times a second (a million events are
      // hundreds of pages and unwrap batches)
      onProgress: p => {
        const t = Date.now()
        if (!live || (t - shown < 250 && p.phase !== 'ready')) return
        shown = t
        setProgress(p)
      },
      // the first figures: shown (as loading, with data-partial) while the history comes
      onFirst: summary => { if (live) setLoaded({ loader, summary }) },
      // the range's figures complete, the history still coming in full
      onRange: summary => { if (live) setLoaded({ loader, summary }) }
    })
    loader.onIdle = () => live && setWriting(false)
    loader.load().then(summary => {
      if (!live) return
      setProgress(null)
      setNow((services.now || Date.now)())
      setLoaded({ loader, summary })
      setWriting(loader.writing)
    }, err => {
      if (live) setError(err)
    })
    return () => { live = false }
  }, [accountId, metrics])

  const definitions = useDefinitions(services, accountId, loaded)
  const retentionMs = loaded && loaded.summary.retentionMs
  const effectiveRange = rangeAllowed(range, now, retentionMs, custom) ? range : DEFAULT_RANGE
  const bounds = rangeBounds(effectiveRange, now, custom)
  const allowedResolutions = bounds ? resolutionsFor(bounds.from, bounds.to) : []
  const effectiveResolution = allowedResolutions.includes(view.resolution) ? view.resolution : allowedResolutions[0]
  const complete = !!(loaded && loaded.summary.complete)
  // the goals and funnels belong to the question: the panels wait for them
  const question = loaded && bounds && definitions ? JSON.stringify([accountId, bounds, effectiveResolution, filters, definitions]) : null
  // the complete figures replace the first ones as a quiet refresh does (the same question)
  const queryKey = question && question + tick + (complete ? '' : loaded.summary.rangeDone ? '~~' : '~')

  // query the workers whenever the question changes
  useEffect(() => {
    if (!queryKey) return
    let live = true
    const started = Date.now()
    const q = { from: bounds.from, to: bounds.to, resolution: effectiveResolution, filters, now, ...definitions }
    loaded.loader.query(q)
      .then(m => {
        if (!live) return
        const timings = loaded.loader.stats.timings
        const at = globalThis.performance ? Math.round(performance.now()) : undefined
        if (timings.firstAt === undefined) timings.firstAt = at // ms from navigation start to the first figures
        if (complete && timings.readyAt === undefined) timings.readyAt = at
        setResult({ m, key: queryKey, question, filters, bounds, summary: loaded.loader.summary(), ms: Date.now() - started, partial: loaded.loader.partial(q) })
      }, err => { if (live) setError(err) })
    return () => { live = false }
  }, [queryKey])

  useRefresh(async () => {
    if (!loaded) return
    try {
      await loaded.loader.refresh()
      setNow((services.now || Date.now)())
      setTick(x => x + 1)
    } catch {}
  }, services.refreshMs || REFRESH_MS, !!loaded)

  const invalid = effectiveRange === 'custom' && !bounds
  const ready = result && result.key === queryKey && complete
  const state = error ? 'error' : ready ? 'ready' : invalid && loaded ? 'invalid' : 'loading'
  const addFilter = (name, value) => go({ filters: { ...filters, [name]: value } })
  const removeFilter = (name) => {
    const next = { ...filters }
    delete next[name]
    go({ filters: next })
  }
  // custom dates start from the range shown (its last day included)
  const setRange = (r) => {
    const from = bounds || (result && result.bounds)
    const start = r === 'custom' && from ? { from: formatDate(from.from), to: formatDate(Math.min(from.to, now + 1) - 1) } : {}
    go({ range: r, custom: start, resolution: null })
  }
  const name = (accounts.find(a => a.accountId === accountId) || {}).name
  const stamp = bounds ? `${formatDate(bounds.from)}_${formatDate(bounds.to - 1)}` : 'range'
  const fileName = (what, ext) => `offen-${slug(name)}-${what}-${stamp}.${ext}`
  const exportTable = (panel, csv) => download(fileName(panel, 'csv'), 'text/csv', csv)
  const exportEvents = async (format) => {
    if (!bounds || exporting) return
    setExporting({ phase: 'events', done: 0 })
    try {
      const records = await exportEventsOf({ api: services.api, metrics, accountId, from: bounds.from, to: bounds.to, onProgress: setExporting })
      if (format === 'json') download(fileName('events', 'json'), 'application/json', JSON.stringify(records, null, 2))
      else download(fileName('events', 'csv'), 'text/csv', eventsCsv(records))
      services.announce && services.announce(t('dashboard.export.done'))
    } catch {
      setError(new Error('export'))
    } finally {
      setExporting(null)
    }
  }

  if (!accountId) {
    return html`<section class="page dashboard" data-state="ready">
      <h1 id="page-title">${t('dashboard.operator.title')}</h1>
      <p>${t('dashboard.operator.noAccounts')}</p>
    </section>`
  }
  const timings = loaded && loaded.summary.stats.timings
  // a quiet refresh asks the same question again: its figures are not stale meanwhile
  const stale = !!result && result.question !== question
  return html`<section class="page dashboard" data-state=${state} aria-busy=${state === 'loading' ? 'true' : 'false'}
    data-timings=${timings ? JSON.stringify({ ...timings, query: result && result.ms }) : undefined} data-cache=${writing ? 'writing' : 'idle'}
    data-partial=${result && result.partial.length ? result.partial.join(' ') : undefined}
    data-load=${loaded ? JSON.stringify(loadCounts(loaded.loader.stats)) : undefined}>
    <h1 id="page-title">${t('dashboard.operator.heading', { name })}</h1>
    <${Toolbar} accounts=${accounts} accountId=${accountId} onAccount=${id => go({ account: id, filters: {} })}
      range=${effectiveRange} setRange=${setRange} custom=${custom} setCustom=${c => go({ custom: c })} invalid=${invalid}
      resolution=${effectiveResolution} setResolution=${r => go({ resolution: r })} now=${now} retentionMs=${retentionMs} />
    ${error && html`<p class="alert" role="alert">${t(error.message === 'export' ? 'dashboard.export.failed' : 'dashboard.error.load')}</p>`}
    ${!complete && !error && html`<${Progress} progress=${progress} />`}
    ${invalid && html`<p class="notice" id="range-invalid" role="alert">${t('dashboard.range.invalid')}</p>`}
    ${stale && html`<p class="notice stale-notice" data-stale-notice="true">${t(invalid ? 'dashboard.stale.invalid' : 'dashboard.stale.loading')}</p>`}
    <${FilterChips} filters=${filters} onRemove=${removeFilter} label=${result ? keyLabeler(i18n, result.m) : undefined} />
    ${result && html`<${Unreadable} events=${result.m.unreadable} secrets=${result.summary.unreadableSecrets} />`}
    ${result && result.m.pageViews === 0 && Object.keys(filters).length === 0 && html`<p class="notice">${t('dashboard.operator.empty')}</p>`}
    ${result && html`<${MetricsView} m=${result.m} filters=${result.filters} onFilter=${addFilter} onExport=${exportTable} stale=${stale}>
      <${EventPanels} m=${result.m} filters=${result.filters} onFilter=${addFilter} onExport=${exportTable} consoleHref=${'/console/accounts/' + encodeURIComponent(accountId) + '/'} />
    <//>`}
    ${result && html`<section class="panel" aria-labelledby="export-title" data-panel="export" tabindex="0">
      <h2 id="export-title">${t('dashboard.export.title')}</h2>
      <p class="panel-explain">${t('dashboard.export.text')}</p>
      <div class="button-row">
        <button type="button" class="button" data-action="export-events-csv" disabled=${!!exporting || !bounds} onClick=${() => exportEvents('csv')}>${t('dashboard.export.eventsCsv')}</button>
        <button type="button" class="button" data-action="export-events-json" disabled=${!!exporting || !bounds} onClick=${() => exportEvents('json')}>${t('dashboard.export.eventsJson')}</button>
      </div>
      ${exporting && html`<${Progress} progress=${exporting} id="export-progress" />`}
    </section>`}
  </section>`
}

function slug (s) {
  return String(s || 'account').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'account'
}
