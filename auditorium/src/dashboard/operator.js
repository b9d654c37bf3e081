// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator dashboard: account switcher, range and resolution, filters, every panel of
// PRODUCT.md §5, a report of unreadable items, and a quiet refresh while the page is
// visible. The root element carries data-state="loading" | "ready" | "error"; "ready" means
// every panel of the current query has rendered (benchmarks and browser tests wait for it).

import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'
import { useRoute, useRouter } from '../lib/router.js'
import { useServices } from '../lib/services.js'
import { FilterChips, MetricsView } from './components.js'
import { AccountLoader } from './loader.js'
import { DEFAULT_RANGE, RANGES, formatDate, rangeAllowed, rangeBounds, resolutionsFor } from './ranges.js'
import { createDashboardMetrics } from './workers.js'

export const REFRESH_MS = 30000

/** activeAccounts lists the accounts of the login's active grants, by name. */
export function activeAccounts (login) {
  return (login.grants || []).filter(g => g.state === 'active').sort((a, b) => String(a.name).localeCompare(String(b.name)))
}

// Progress shows the latest report of the loader; data-progress holds the counts of every
// phase ({periods: {done, total}, events: {done, total}, keys: ...}) for a loading bar.
function Progress ({ progress }) {
  const { t, tn } = useI18n()
  if (!progress) return null
  const last = progress[progress.last] || {}
  let text = t('dashboard.progress.account')
  if (progress.last === 'keys') text = t('dashboard.progress.keys', { done: last.done, total: last.total })
  else if (progress.events) text = tn('dashboard.progress.events', progress.events.done || 0)
  const counts = { ...progress }
  delete counts.last
  return html`<p class="progress" role="status" data-progress=${JSON.stringify(counts)}>${text}</p>`
}

function Toolbar ({ accounts, accountId, onAccount, range, setRange, custom, setCustom, resolution, setResolution, now, retentionMs }) {
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
        <input id="range-from" type="date" min=${min} max=${max} value=${custom.from || ''} onChange=${e => setCustom({ ...custom, from: e.currentTarget.value })} />
      </div>
      <div>
        <label for="range-to">${t('dashboard.toolbar.to')}</label>
        <input id="range-to" type="date" min=${min} max=${max} value=${custom.to || ''} onChange=${e => setCustom({ ...custom, to: e.currentTarget.value })} />
      </div>`}
    <div>
      <label for="resolution-select">${t('dashboard.toolbar.resolution')}</label>
      <select id="resolution-select" value=${resolution || resolutions[0] || ''} onChange=${e => setResolution(e.currentTarget.value)}>
        ${resolutions.map(r => html`<option value=${r}>${t(`dashboard.resolution.${r}`)}</option>`)}
      </select>
    </div>
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
  const params = new URLSearchParams(location.search)
  const requested = params.get('account')
  const accountId = accounts.some(a => a.accountId === requested) ? requested : (accounts[0] && accounts[0].accountId)

  const metrics = useMemo(() => (services.createMetrics || createDashboardMetrics)(), [services])
  useEffect(() => () => metrics.terminate(), [metrics])

  const [range, setRange] = useState(DEFAULT_RANGE)
  const [custom, setCustom] = useState({})
  const [resolution, setResolution] = useState(null)
  const [filters, setFilters] = useState({})
  const [loaded, setLoaded] = useState(null) // {loader, summary}
  const [progress, setProgress] = useState(null)
  const [error, setError] = useState(null)
  const [result, setResult] = useState(null) // {m, key}
  const [tick, setTick] = useState(0)
  const [now, setNow] = useState(() => (services.now || Date.now)())
  const [writing, setWriting] = useState(false)

  // load the account
  useEffect(() => {
    if (!accountId) return
    let live = true
    let shown = 0
    setLoaded(null)
    setResult(null)
    setError(null)
    setFilters({})
    const counts = {}
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
        counts[p.phase] = { done: p.done, total: p.total }
        counts.last = p.phase
        const t = Date.now()
        if (!live || (t - shown < 250 && p.phase !== 'ready')) return
        shown = t
        setProgress({ ...counts })
      },
      // the first figures: shown (as loading, with data-partial) while the history comes
      onFirst: summary => { if (live) setLoaded({ loader, summary }) }
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

  const retentionMs = loaded && loaded.summary.retentionMs
  const effectiveRange = rangeAllowed(range, now, retentionMs, custom) ? range : DEFAULT_RANGE
  const bounds = rangeBounds(effectiveRange, now, custom)
  const allowedResolutions = bounds ? resolutionsFor(bounds.from, bounds.to) : []
  const effectiveResolution = allowedResolutions.includes(resolution) ? resolution : allowedResolutions[0]
  const complete = !!(loaded && loaded.summary.complete)
  const queryKey = loaded && bounds ? JSON.stringify([accountId, bounds, effectiveResolution, filters, tick, complete]) : null

  // query the workers whenever the question changes
  useEffect(() => {
    if (!queryKey) return
    let live = true
    const started = Date.now()
    const q = { from: bounds.from, to: bounds.to, resolution: effectiveResolution, filters, now }
    loaded.loader.query(q)
      .then(m => {
        if (!live) return
        const timings = loaded.loader.stats.timings
        const at = globalThis.performance ? Math.round(performance.now()) : undefined
        if (timings.firstAt === undefined) timings.firstAt = at // ms from navigation start to the first figures
        if (complete && timings.readyAt === undefined) timings.readyAt = at
        setResult({ m, key: queryKey, summary: loaded.loader.summary(), ms: Date.now() - started, partial: loaded.loader.partial(q) })
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

  const ready = result && result.key === queryKey && complete
  const state = error ? 'error' : ready ? 'ready' : 'loading'
  const addFilter = (name, value) => setFilters({ ...filters, [name]: value })
  const removeFilter = (name) => {
    const next = { ...filters }
    delete next[name]
    setFilters(next)
  }
  const onAccount = (id) => {
    const p = new URLSearchParams(location.search)
    p.set('account', id)
    router.navigate(location.pathname + '?' + p.toString(), { replace: true })
  }

  if (!accountId) {
    return html`<section class="page dashboard" data-state="ready">
      <h1 id="page-title">${t('dashboard.operator.title')}</h1>
      <p>${t('dashboard.operator.noAccounts')}</p>
    </section>`
  }
  const name = (accounts.find(a => a.accountId === accountId) || {}).name
  const timings = loaded && loaded.summary.stats.timings
  return html`<section class="page dashboard" data-state=${state} aria-busy=${state === 'loading' ? 'true' : 'false'}
    data-timings=${timings ? JSON.stringify({ ...timings, query: result && result.ms }) : undefined} data-cache=${writing ? 'writing' : 'idle'}
    data-partial=${result && result.partial.length ? result.partial.join(' ') : undefined}
    data-load=${loaded ? JSON.stringify(loadCounts(loaded.loader.stats)) : undefined}>
    <h1 id="page-title">${t('dashboard.operator.heading', { name })}</h1>
    <${Toolbar} accounts=${accounts} accountId=${accountId} onAccount=${onAccount}
      range=${effectiveRange} setRange=${r => { setRange(r); setResolution(null) }} custom=${custom} setCustom=${setCustom}
      resolution=${effectiveResolution} setResolution=${setResolution} now=${now} retentionMs=${retentionMs} />
    ${error && html`<p class="alert" role="alert">${t('dashboard.error.load')}</p>`}
    ${!complete && !error && html`<${Progress} progress=${progress} />`}
    ${range === 'custom' && !bounds && html`<p class="notice">${t('dashboard.range.invalid')}</p>`}
    <${FilterChips} filters=${filters} onRemove=${removeFilter} />
    ${result && html`<${Unreadable} events=${result.m.unreadable} secrets=${result.summary.unreadableSecrets} />`}
    ${result && result.m.pageViews === 0 && Object.keys(filters).length === 0 && html`<p class="notice">${t('dashboard.operator.empty')}</p>`}
    ${result && html`<${MetricsView} m=${result.m} filters=${filters} onFilter=${addFilter} />`}
  </section>`
}
