// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The figures, chart and tables of a metrics object (src/metrics/README.md "Output"), shared
// by the operator dashboard and the visitor view. Charts are plain SVG, each with a table
// equivalent; tables show 10 rows and "show all"; a click on a row (or its button, for
// keyboards) adds a filter. `explain` adds the explanation of every panel (visitor view).

import { useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'

const ROWS = 10

/**
 * Panel is a titled region; with explain it shows dashboard.explain.<name>. It is focusable
 * because wide content scrolls inside it (index.css), and keyboard users must reach that
 * scroll (WCAG 2.1.1; axe: scrollable-region-focusable).
 */
export function Panel ({ name, title, explain, children, className = '' }) {
  const { t } = useI18n()
  const id = `panel-${name}`
  return html`<section class=${'panel ' + className} aria-labelledby=${id} data-panel=${name} tabindex="0">
    <h2 id=${id}>${title || t(`dashboard.panel.${name}`)}</h2>
    ${explain && html`<p class="panel-explain">${t(`dashboard.explain.${name}`)}</p>`}
    ${children}
  </section>`
}

function labelOf (i18n, resolution, start) {
  if (resolution === 'hours') return i18n.date(start, { month: 'short', day: 'numeric', hour: 'numeric' })
  if (resolution === 'months') return i18n.date(start, { month: 'short', year: 'numeric' })
  return i18n.date(start, { month: 'short', day: 'numeric' })
}

/** Figures lists the single numbers of the range. */
export function Figures ({ m, explain }) {
  const i18n = useI18n()
  const { t, number, percent, duration } = i18n
  const ms = (v) => (typeof v === 'number' ? number(Math.round(v), { style: 'unit', unit: 'millisecond', unitDisplay: 'short' }) : '–')
  const items = [
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
  return html`<${Panel} name="figures" explain=${explain}>
    <ul class="figures">
      ${items.map(([k, v]) => html`<li class="figure" data-figure=${k}>
        <span class="figure-label" id=${'figure-' + k}>${t(`dashboard.figure.${k}`)}</span>
        <span class="figure-value">${v}</span>
      </li>`)}
    </ul>
  <//>`
}

/** Chart draws page views and visitors per bucket as SVG bars, with a table equivalent. */
export function Chart ({ m, explain }) {
  const i18n = useI18n()
  const { t, number } = i18n
  const buckets = m.buckets || []
  const W = 720
  const H = 220
  const pad = { l: 44, r: 8, t: 10, b: 28 }
  const max = Math.max(1, ...buckets.map(b => b.pageViews))
  const step = buckets.length ? (W - pad.l - pad.r) / buckets.length : 0
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max)
  const every = Math.max(1, Math.ceil(buckets.length / 8))
  const resolution = m.range && m.range.resolution
  return html`<${Panel} name="chart" explain=${explain}>
    <ul class="legend" aria-hidden="true">
      <li><span class="swatch swatch-views"></span>${t('dashboard.figure.pageViews')}</li>
      <li><span class="swatch swatch-visitors"></span>${t('dashboard.chart.visitors')}</li>
    </ul>
    <svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-title">
      <title id="chart-title">${t('dashboard.chart.title')}</title>
      <line class="axis" x1=${pad.l} y1=${H - pad.b} x2=${W - pad.r} y2=${H - pad.b} />
      <text x=${pad.l - 6} y=${pad.t + 8} text-anchor="end">${number(max)}</text>
      <text x=${pad.l - 6} y=${H - pad.b} text-anchor="end">0</text>
      ${buckets.map((b, i) => {
        const x = pad.l + i * step
        const w = Math.max(1, step * 0.8)
        return html`<g>
          <rect class="bar-views" x=${x + step * 0.1} y=${y(b.pageViews)} width=${w} height=${H - pad.b - y(b.pageViews)} />
          <rect class="bar-visitors" x=${x + step * 0.3} y=${y(b.visitors)} width=${Math.max(1, w * 0.5)} height=${H - pad.b - y(b.visitors)} />
          ${i % every === 0 && html`<text x=${x + step / 2} y=${H - 8} text-anchor="middle">${labelOf(i18n, resolution, b.start)}</text>`}
        </g>`
      })}
    </svg>
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
          ${buckets.map(b => html`<tr>
            <th scope="row">${labelOf(i18n, resolution, b.start)}</th>
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

/** DataTable shows rows [{key, ...}] with 10 rows and "show all"; onFilter(filter, key). */
export function DataTable ({ name, rows, filter, columns, onFilter, explain, active }) {
  const i18n = useI18n()
  const { t, number, duration } = i18n
  const [all, setAll] = useState(false)
  const shown = all ? rows : rows.slice(0, ROWS)
  const label = (key) => (filter === 'country' ? i18n.country(key) : key)
  const format = (kind, v) => kind === 'duration' ? duration(v) : kind === 'decimal' ? (v === null ? '–' : number(v, { maximumFractionDigits: 1 })) : number(v)
  const choose = (key) => onFilter && onFilter(filter, key)
  return html`<${Panel} name=${name} explain=${explain}>
    ${rows.length === 0
      ? html`<p class="muted">${t('dashboard.table.empty')}</p>`
      : html`<table>
        <caption class="visually-hidden">${t(`dashboard.panel.${name}`)}</caption>
        <thead><tr>
          <th scope="col">${t(`dashboard.column.${filter}`)}</th>
          ${columns.map(([c]) => html`<th scope="col" class="num">${t(`dashboard.column.${c}`)}</th>`)}
        </tr></thead>
        <tbody>
          ${shown.map(r => html`<tr class=${onFilter ? 'selectable' : ''} data-key=${r.key} onClick=${onFilter ? (e) => { if (e.target.tagName !== 'BUTTON') choose(r.key) } : undefined}>
            <th scope="row" class="key">${onFilter && !active
              ? html`<button type="button" class="row-button" aria-label=${t('dashboard.table.filterBy', { value: label(r.key) })} onClick=${() => choose(r.key)}>${label(r.key)}</button>`
              : label(r.key)}</th>
            ${columns.map(([c, kind]) => html`<td class="num">${format(kind, r[c])}</td>`)}
          </tr>`)}
        </tbody>
      </table>
      ${rows.length > ROWS && html`<p><button type="button" class="button button-small" aria-expanded=${all ? 'true' : 'false'} onClick=${() => setAll(!all)}>
        ${all ? t('dashboard.table.showFewer') : i18n.tn('dashboard.table.showAll', rows.length)}
      </button></p>`}`}
  <//>`
}

/** Realtime: visitors active in the last 15 minutes and their current pages. */
export function Realtime ({ m, explain }) {
  const { t, tn, number } = useI18n()
  const rt = m.realtime || { visitors: 0, pages: [] }
  return html`<${Panel} name="realtime" explain=${explain}>
    <p class="figure-value" data-figure="realtime">${tn('dashboard.realtime.visitors', rt.visitors)}</p>
    ${rt.pages.length > 0 && html`<table>
      <caption class="visually-hidden">${t('dashboard.panel.realtime')}</caption>
      <thead><tr><th scope="col">${t('dashboard.column.page')}</th><th scope="col" class="num">${t('dashboard.column.visitors')}</th></tr></thead>
      <tbody>${rt.pages.slice(0, ROWS).map(p => html`<tr><th scope="row" class="key">${p.key}</th><td class="num">${number(p.visitors)}</td></tr>`)}</tbody>
    </table>`}
  <//>`
}

/** Retention: four weekly cohorts; the share of each seen again in later weeks. */
export function Retention ({ m, explain }) {
  const i18n = useI18n()
  const { t, number, percent } = i18n
  const cohorts = m.retention || []
  return html`<${Panel} name="retention" explain=${explain}>
    <table>
      <caption class="visually-hidden">${t('dashboard.panel.retention')}</caption>
      <thead><tr>
        <th scope="col">${t('dashboard.retention.cohort')}</th>
        <th scope="col" class="num">${t('dashboard.column.visitors')}</th>
        ${cohorts.map((_, j) => html`<th scope="col" class="num">${t('dashboard.retention.week', { n: number(j) })}</th>`)}
      </tr></thead>
      <tbody>
        ${cohorts.map(c => html`<tr>
          <th scope="row">${i18n.date(c.start, { month: 'short', day: 'numeric' })}</th>
          <td class="num">${number(c.visitors)}</td>
          ${cohorts.map((_, j) => html`<td class="num">${c.shares[j] === undefined ? '' : c.shares[j] === null ? '–' : percent(c.shares[j])}</td>`)}
        </tr>`)}
      </tbody>
    </table>
  <//>`
}

/** FilterChips shows the active filters, each removable. */
export function FilterChips ({ filters, onRemove }) {
  const i18n = useI18n()
  const { t } = i18n
  const entries = Object.entries(filters)
  if (entries.length === 0) return null
  return html`<ul class="filters" aria-label=${t('dashboard.filter.label')}>
    ${entries.map(([name, value]) => html`<li class="chip" data-filter=${name}>
      <span>${t(`dashboard.column.${name}`)}: ${name === 'country' ? i18n.country(value) : value}</span>
      <button type="button" class="link-button" aria-label=${t('dashboard.filter.remove', { value })} onClick=${() => onRemove(name)}>×</button>
    </li>`)}
  </ul>`
}

/** MetricsView: every panel of a metrics object. */
export function MetricsView ({ m, filters = {}, onFilter, explain = false }) {
  return html`<div class="metrics">
    <${Figures} m=${m} explain=${explain} />
    <${Chart} m=${m} explain=${explain} />
    <div class="grid">
      ${TABLES.map(([name, field, filter, columns]) => html`<${DataTable} key=${name} name=${name} rows=${m[field] || []}
        filter=${filter} columns=${columns} onFilter=${onFilter} explain=${explain} active=${Object.hasOwn(filters, filter)} />`)}
      <${Realtime} m=${m} explain=${explain} />
      <${Retention} m=${m} explain=${explain} />
    </div>
  </div>`
}
