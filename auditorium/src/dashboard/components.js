// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The figures, chart and tables of a metrics object (src/metrics/README.md "Output"), shared
// by the operator dashboard and the visitor view. Charts are SVG drawn at the width they
// get (so their text stays readable on a phone), with a table equivalent and a readout that
// pointer and arrow keys move; tables show 10 rows and "show all"; a click on a row (or its
// button, for keyboards) adds a filter. `explain` adds the explanation of every panel
// (visitor view); every figure explains itself on hover and focus in both views.
//
// Other panels (e.g. new event fields) reuse Panel and DataTable: a table is rows of
// {key, ...values} with a column list [[field, kind]]; tableCells turns it into the text
// that is shown, and the CSV export writes exactly that text.

import { useEffect, useRef, useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'
import { csvOf } from './csv.js'
import { CountryMap } from './worldmap.js'

const ROWS = 10

/**
 * Panel is a titled region; with explain it shows dashboard.explain.<name>, with note a
 * remark in place (e.g. a filter this panel does not apply). It is focusable because content
 * wider than a phone may scroll inside it (index.css; axe: scrollable-region-focusable).
 */
export function Panel ({ name, title, explain, note, actions, children, className = '' }) {
  const { t } = useI18n()
  const id = `panel-${name}`
  return html`<section class=${'panel ' + className} aria-labelledby=${id} data-panel=${name} tabindex="0">
    <div class="panel-head">
      <h2 id=${id}>${title || t(`dashboard.panel.${name}`)}</h2>
      ${actions}
    </div>
    ${explain && html`<p class="panel-explain">${t(`dashboard.explain.${name}`)}</p>`}
    ${note && html`<p class="panel-note" data-note=${name}>${note}</p>`}
    ${children}
  </section>`
}

function labelOf (i18n, resolution, start) {
  if (resolution === 'hours') return i18n.date(start, { month: 'short', day: 'numeric', hour: 'numeric' })
  if (resolution === 'months') return i18n.date(start, { month: 'short', year: 'numeric' })
  return i18n.date(start, { month: 'short', day: 'numeric' })
}

/** figureItems lists [name, shown value] of the single numbers of m. */
export function figureItems (i18n, m) {
  const { number, percent, duration } = i18n
  const ms = (v) => (typeof v === 'number' ? number(Math.round(v), { style: 'unit', unit: 'millisecond', unitDisplay: 'short' }) : '–')
  return [
    ['pageViews', number(m.pageViews)],
    ['uniqueVisitors', number(m.uniqueVisitors)],
    ['uniqueSessions', number(m.uniqueSessions)],
    ['avgPageDepth', m.avgPageDepth === null ? '–' : number(m.avgPageDepth, { maximumFractionDigits: 1 })],
    ['bounceRate', m.bounceRate === null ? '–' : percent(m.bounceRate)],
    !m.returningHidden && ['returningVisitors', m.returningVisitors === null ? '–' : percent(m.returningVisitors)],
    ['mobileShare', m.mobileShare === null ? '–' : percent(m.mobileShare)],
    ['avgPageload', ms(m.avgPageload)],
    ['avgTimeOnPage', duration(m.avgTimeOnPage)],
    ['avgSessionLength', duration(m.avgSessionLength)]
  ].filter(Boolean)
}

/**
 * Explained is a term with its explanation: a button that shows the text on hover and on
 * focus (role=tooltip, referenced by aria-describedby, so screen readers read it too).
 */
export function Explained ({ id, label, text }) {
  const { t } = useI18n()
  // Escape hides the text until the pointer or the focus leaves (WCAG 1.4.13)
  const [dismissed, setDismissed] = useState(false)
  const back = () => setDismissed(false)
  return html`<span class="explained" onMouseLeave=${back}>
    <span id=${id + '-label'}>${label}</span>
    <button type="button" class="info" aria-label=${t('dashboard.metric.about', { name: label })} aria-describedby=${id}
      onKeyDown=${e => { if (e.key === 'Escape') setDismissed(true) }} onBlur=${back}>i</button>
    <span role="tooltip" id=${id} class=${dismissed ? 'tip dismissed' : 'tip'}>${text}</span>
  </span>`
}

/** Figures lists the single numbers of the range, each explained on hover and focus. */
export function Figures ({ m, explain }) {
  const i18n = useI18n()
  const { t } = i18n
  return html`<${Panel} name="figures" explain=${explain}>
    <ul class="figures">
      ${figureItems(i18n, m).map(([k, v]) => html`<li class="figure" data-figure=${k}>
        <span class="figure-label" id=${'figure-' + k}><${Explained} id=${'tip-' + k} label=${t(`dashboard.figure.${k}`)} text=${t(`dashboard.metric.${k}`)} /></span>
        <span class="figure-value">${v}</span>
      </li>`)}
    </ul>
  <//>`
}

/**
 * niceTicks returns the y ticks of a count axis up to at least max: 0 and about `count`
 * steps of 1, 2 or 5 times a power of ten (never a fraction: counts are whole).
 */
export function niceTicks (max, count = 4) {
  if (!(max > 0)) return [0, 1]
  const raw = max / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const r = raw / mag
  const step = Math.max(1, (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag)
  const top = Math.ceil(max / step) * step
  const out = []
  for (let v = 0; v <= top + step / 2; v += step) out.push(Math.round(v))
  return out
}

// useWidth follows the rendered width of an element (720 where it cannot be measured).
function useWidth (ref, fallback = 720) {
  const [width, setWidth] = useState(fallback)
  useEffect(() => {
    const el = ref.current
    if (!el || typeof ResizeObserver === 'undefined') return
    const measure = () => { if (el.clientWidth > 0) setWidth(Math.round(el.clientWidth)) }
    measure()
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    return () => ro.disconnect()
  }, [])
  return width
}

/**
 * Chart draws page views per bucket as bars and visitors as a line, with y ticks, an
 * x label every few buckets as the width allows, a tooltip for the bucket under the pointer
 * or chosen with the arrow keys (the chart is one tab stop), and a table equivalent.
 */
export function Chart ({ m, explain }) {
  const i18n = useI18n()
  const { t, number } = i18n
  const buckets = m.buckets || []
  const wrap = useRef(null)
  const W = useWidth(wrap)
  const [active, setActive] = useState(null)
  const H = W < 480 ? 200 : 240
  const ticks = niceTicks(Math.max(0, ...buckets.map(b => b.pageViews)))
  const top = ticks[ticks.length - 1]
  const tickLabel = Math.max(...ticks.map(v => number(v).length))
  const pad = { l: 12 + tickLabel * 7, r: 8, t: 10, b: 26 }
  const plotW = Math.max(10, W - pad.l - pad.r)
  const step = buckets.length ? plotW / buckets.length : 0
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / top)
  const resolution = m.range && m.range.resolution
  const labels = buckets.map(b => labelOf(i18n, resolution, b.start))
  const labelW = Math.max(40, ...labels.map(l => l.length * 6.5)) + 12
  const every = Math.max(1, Math.ceil(buckets.length / Math.max(1, Math.floor(plotW / labelW))))
  const current = active !== null && active < buckets.length ? active : null
  const describe = (i) => t('dashboard.chart.point', { period: labels[i], views: number(buckets[i].pageViews), visitors: number(buckets[i].visitors) })
  const pointAt = (e) => {
    const svg = e.currentTarget
    const box = svg.getBoundingClientRect()
    const x = (e.clientX - box.left) * (W / (box.width || W)) - pad.l
    if (x < 0 || x > plotW || !step) return
    setActive(Math.min(buckets.length - 1, Math.floor(x / step)))
  }
  const onKey = (e) => {
    if (!buckets.length) return
    const last = buckets.length - 1
    const at = current === null ? last : current
    if (e.key === 'Escape') {
      setActive(null)
      return
    }
    const next = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: last }[e.key]
    if (next === undefined) return
    e.preventDefault()
    setActive(Math.max(0, Math.min(last, next)))
  }
  const line = buckets.map((b, i) => `${(pad.l + (i + 0.5) * step).toFixed(1)},${y(b.visitors).toFixed(1)}`).join(' ')
  let tip = null
  if (current !== null) {
    const b = buckets[current]
    const rows = [labels[current], `${t('dashboard.figure.pageViews')}: ${number(b.pageViews)}`, `${t('dashboard.chart.visitors')}: ${number(b.visitors)}`]
    const tw = Math.max(...rows.map(r => r.length)) * 7 + 16
    const cx = pad.l + (current + 0.5) * step
    const tx = Math.min(Math.max(0, cx - tw / 2), W - tw)
    tip = html`<g class="chart-tip" transform=${`translate(${tx.toFixed(1)},${pad.t})`}>
      <rect width=${tw} height=${rows.length * 16 + 10} rx="4" />
      ${rows.map((r, i) => html`<text x="8" y=${18 + i * 16}>${r}</text>`)}
    </g>`
  }
  return html`<${Panel} name="chart" explain=${explain}>
    <ul class="legend" aria-hidden="true">
      <li><span class="swatch swatch-views"></span>${t('dashboard.figure.pageViews')}</li>
      <li><span class="swatch swatch-visitors"></span>${t('dashboard.chart.visitors')}</li>
    </ul>
    <div class="chart-wrap" ref=${wrap} tabindex="0" role="group" aria-label=${t('dashboard.chart.keys', { title: t('dashboard.chart.title') })}
      aria-describedby="chart-readout" onKeyDown=${onKey} onFocus=${() => current === null && buckets.length && setActive(buckets.length - 1)}>
      <svg class="chart" width=${W} height=${H} viewBox=${`0 0 ${W} ${H}`} aria-hidden="true"
        onPointerMove=${pointAt} onPointerDown=${pointAt} onPointerLeave=${() => setActive(null)}>
        ${ticks.map(v => html`<g class="tick">
          <line class="grid-line" x1=${pad.l} y1=${y(v)} x2=${W - pad.r} y2=${y(v)} />
          <text x=${pad.l - 6} y=${y(v) + 4} text-anchor="end">${number(v)}</text>
        </g>`)}
        ${buckets.map((b, i) => {
          const x = pad.l + i * step
          return html`<g class=${i === current ? 'bucket active' : 'bucket'}>
            <rect class="bar-views" x=${x + step * 0.15} y=${y(b.pageViews)} width=${Math.max(1, step * 0.7)} height=${Math.max(0, H - pad.b - y(b.pageViews))} />
            ${i % every === 0 && html`<text x=${x + step / 2} y=${H - 8} text-anchor="middle">${labels[i]}</text>`}
          </g>`
        })}
        ${buckets.length > 1
          ? html`<polyline class="line-visitors" points=${line} />`
          : buckets.map((b, i) => html`<circle class="dot-visitors" cx=${pad.l + (i + 0.5) * step} cy=${y(b.visitors)} r="3" />`)}
        <line class="axis" x1=${pad.l} y1=${H - pad.b} x2=${W - pad.r} y2=${H - pad.b} />
        ${tip}
      </svg>
    </div>
    <p class="chart-readout" id="chart-readout" aria-live="polite">${current !== null ? describe(current) : t('dashboard.chart.hint')}</p>
    <details class="table-equivalent">
      <summary>${t('dashboard.chart.table')}</summary>
      <table>
        <caption class="visually-hidden">${t('dashboard.chart.title')}</caption>
        <thead><tr>
          <th scope="col">${t('dashboard.chart.period')}</th>
          <th scope="col" class="num">${t('dashboard.figure.pageViews')}</th>
          <th scope="col" class="num">${t('dashboard.chart.visitors')}</th>
        </tr></thead>
        <tbody>
          ${buckets.map((b, i) => html`<tr>
            <th scope="row">${labels[i]}</th>
            <td class="num">${number(b.pageViews)}</td>
            <td class="num">${number(b.visitors)}</td>
          </tr>`)}
        </tbody>
      </table>
    </details>
  <//>`
}

// TABLES: panel name, metrics field, filter name, value columns
export const TABLES = [
  ['pages', 'pages', 'page', [['pageViews', 'number'], ['avgTimeOnPage', 'duration']]],
  ['referrers', 'referrers', 'referrer', [['sessions', 'number'], ['avgPageDepth', 'decimal']]],
  ['campaigns', 'campaigns', 'campaign', [['sessions', 'number'], ['avgPageDepth', 'decimal']]],
  ['sources', 'sources', 'source', [['sessions', 'number'], ['avgPageDepth', 'decimal']]],
  ['countries', 'countries', 'country', [['sessions', 'number']]],
  ['landingPages', 'landingPages', 'landing', [['sessions', 'number']]],
  ['exitPages', 'exitPages', 'exit', [['sessions', 'number']]]
]

const PAGE_FILTERS = new Set(['page', 'landing', 'exit'])

/**
 * keyLabeler returns (filter, key) -> the text shown for a row key: countries by their
 * localised name; pages by their path when every page of m is on one origin (the host is
 * noise then), else by host and path (the scheme only where two origins share a host).
 */
export function keyLabeler (i18n, m) {
  const origins = new Set()
  for (const list of [m.pages, m.landingPages, m.exitPages, m.realtime && m.realtime.pages]) {
    for (const r of list || []) origins.add(urlOf(r.key) ? urlOf(r.key).origin : null)
  }
  const hosts = new Set([...origins].map(o => (o ? new URL(o).host : o)))
  const oneHost = origins.size <= 1 && !origins.has(null)
  const byHost = hosts.size === origins.size
  return (filter, key) => {
    if (filter === 'country') return i18n.country(key)
    const u = PAGE_FILTERS.has(filter) && urlOf(key)
    if (!u) return key
    if (oneHost) return u.pathname
    return byHost ? u.host + u.pathname : key
  }
}

function urlOf (key) {
  try {
    return new URL(key)
  } catch {
    return null
  }
}

/** tableCells: the header and the rows of a table as the text shown (and exported). */
export function tableCells (i18n, { rows, filter, columns, label = (f, k) => k }) {
  const { t, number, duration } = i18n
  const format = (kind, v) => kind === 'duration' ? duration(v) : kind === 'decimal' ? (v === null ? '–' : number(v, { maximumFractionDigits: 1 })) : kind === 'percent' ? (v === null ? '–' : i18n.percent(v)) : number(v)
  return {
    head: [t(`dashboard.column.${filter}`), ...columns.map(([c]) => t(`dashboard.column.${c}`))],
    body: rows.map(r => [label(filter, r.key), ...columns.map(([c, kind]) => format(kind, r[c]))])
  }
}

/**
 * DataTable shows rows [{key, ...}] with 10 rows and "show all"; onFilter(filter, key);
 * label(filter, key) is the shown key (keyLabeler); onExport(name, csv) adds a CSV button;
 * before is shown above the table (the countries map).
 */
export function DataTable ({ name, rows, filter, columns, onFilter, explain, active, label, note, onExport, before }) {
  const i18n = useI18n()
  const { t } = i18n
  const [all, setAll] = useState(false)
  const cells = tableCells(i18n, { rows, filter, columns, label })
  const shown = all ? rows : rows.slice(0, ROWS)
  const choose = (key) => onFilter && onFilter(filter, key)
  const title = t(`dashboard.panel.${name}`)
  const actions = onExport && rows.length > 0 && html`<button type="button" class="button button-small" data-export=${name}
    aria-label=${t('dashboard.export.tableOf', { name: title })} onClick=${() => onExport(name, csvOf(cells.head, cells.body))}>${t('dashboard.export.csv')}</button>`
  return html`<${Panel} name=${name} explain=${explain} note=${note} actions=${actions}>
    ${before}
    ${rows.length === 0
      ? html`<p class="muted">${t('dashboard.table.empty')}</p>`
      : html`<table>
        <caption class="visually-hidden">${title}</caption>
        <thead><tr>
          ${cells.head.map((h, i) => html`<th scope="col" class=${i ? 'num' : ''}>${h}</th>`)}
        </tr></thead>
        <tbody>
          ${shown.map((r, j) => html`<tr class=${onFilter ? 'selectable' : ''} data-key=${r.key} onClick=${onFilter ? (e) => { if (e.target.tagName !== 'BUTTON') choose(r.key) } : undefined}>
            <th scope="row" class="key" title=${cells.body[j][0] !== r.key ? r.key : undefined}>${onFilter && !active
              ? html`<button type="button" class="row-button" aria-label=${t('dashboard.table.filterBy', { value: cells.body[j][0] })} onClick=${() => choose(r.key)}>${cells.body[j][0]}</button>`
              : cells.body[j][0]}</th>
            ${cells.body[j].slice(1).map(v => html`<td class="num">${v}</td>`)}
          </tr>`)}
        </tbody>
      </table>
      ${rows.length > ROWS && html`<p><button type="button" class="button button-small" aria-expanded=${all ? 'true' : 'false'} onClick=${() => setAll(!all)}>
        ${all ? t('dashboard.table.showFewer') : i18n.tn('dashboard.table.showAll', rows.length)}
      </button></p>`}`}
  <//>`
}

/** Realtime: visitors active in the last 15 minutes and their current pages. */
export function Realtime ({ m, explain, note, label = (f, k) => k }) {
  const { t, tn, number } = useI18n()
  const rt = m.realtime || { visitors: 0, pages: [] }
  return html`<${Panel} name="realtime" explain=${explain} note=${note}>
    <p class="figure-value" data-figure="realtime">${tn('dashboard.realtime.visitors', rt.visitors)}</p>
    ${rt.pages.length > 0 && html`<table>
      <caption class="visually-hidden">${t('dashboard.panel.realtime')}</caption>
      <thead><tr><th scope="col">${t('dashboard.column.page')}</th><th scope="col" class="num">${t('dashboard.column.visitors')}</th></tr></thead>
      <tbody>${rt.pages.slice(0, ROWS).map(p => html`<tr><th scope="row" class="key">${label('page', p.key)}</th><td class="num">${number(p.visitors)}</td></tr>`)}</tbody>
    </table>`}
  <//>`
}

/**
 * Retention: four weekly cohorts; the share of each seen again in each later week, under one
 * group header with the week numbers below (week 0, always everyone, is left out: so the
 * table fits a phone in every language).
 */
export function Retention ({ m, explain, note }) {
  const i18n = useI18n()
  const { t, number, percent } = i18n
  const cohorts = m.retention || []
  const later = cohorts.slice(1).map((_, j) => j + 1)
  return html`<${Panel} name="retention" explain=${explain} note=${note}>
    <table class="retention">
      <caption class="visually-hidden">${t('dashboard.panel.retention')}</caption>
      <thead>
        <tr>
          <th scope="col" rowspan="2">${t('dashboard.retention.cohort')}</th>
          <th scope="col" rowspan="2" class="num">${t('dashboard.column.visitors')}</th>
          ${later.length > 0 && html`<th scope="colgroup" colspan=${later.length} class="later">${t('dashboard.retention.later')}</th>`}
        </tr>
        <tr>
          ${later.map(j => html`<th scope="col" class="num"><span aria-hidden="true">+${number(j)}</span><span class="visually-hidden">${t('dashboard.retention.week', { n: number(j) })}</span></th>`)}
        </tr>
      </thead>
      <tbody>
        ${cohorts.map(c => html`<tr>
          <th scope="row">${i18n.date(c.start, { month: 'short', day: 'numeric' })}</th>
          <td class="num">${number(c.visitors)}</td>
          ${later.map(j => html`<td class="num">${c.shares[j] === undefined ? '' : c.shares[j] === null ? '–' : percent(c.shares[j])}</td>`)}
        </tr>`)}
      </tbody>
    </table>
  <//>`
}

/** FilterChips shows the active filters, each removable. */
export function FilterChips ({ filters, onRemove, label = (f, k) => k }) {
  const i18n = useI18n()
  const { t } = i18n
  const entries = Object.entries(filters)
  if (entries.length === 0) return null
  return html`<ul class="filters" aria-label=${t('dashboard.filter.label')}>
    ${entries.map(([name, value]) => html`<li class="chip" data-filter=${name}>
      <span>${t(`dashboard.column.${name}`)}: ${name === 'country' ? i18n.country(value) : label(name, value)}</span>
      <button type="button" class="link-button" aria-label=${t('dashboard.filter.remove', { value })} onClick=${() => onRemove(name)}>×</button>
    </li>`)}
  </ul>`
}

/**
 * MetricsView: every panel of a metrics object. Panels that ignore filters (real time and
 * retention count every visitor, PRODUCT §5) say so while a filter is set. stale: the
 * figures belong to an earlier question (dimmed, with a notice, by the caller).
 */
export function MetricsView ({ m, filters = {}, onFilter, onExport, explain = false, stale = false, children }) {
  const i18n = useI18n()
  const label = keyLabeler(i18n, m)
  const filtered = Object.keys(filters).length > 0
  const ignored = filtered ? i18n.t('dashboard.filter.ignored') : null
  return html`<div class=${stale ? 'metrics stale' : 'metrics'} data-stale=${stale ? 'true' : undefined}>
    <${Figures} m=${m} explain=${explain} />
    <${Chart} m=${m} explain=${explain} />
    <div class="grid">
      ${TABLES.map(([name, field, filter, columns]) => html`<${DataTable} key=${name} name=${name} rows=${m[field] || []} label=${label}
        filter=${filter} columns=${columns} onFilter=${onFilter} onExport=${onExport} explain=${explain} active=${Object.hasOwn(filters, filter)}
        before=${name === 'countries' && html`<${CountryMap} rows=${m[field] || []} onFilter=${Object.hasOwn(filters, filter) ? undefined : onFilter} />`} />`)}
      ${children}
      <${Realtime} m=${m} explain=${explain} note=${ignored} label=${label} />
      <${Retention} m=${m} explain=${explain} note=${ignored} />
    </div>
  </div>`
}
