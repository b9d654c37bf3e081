// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The panels beyond page views (src/metrics/README.md "Events, goals, funnels, devices"):
// browsers, operating systems, devices and screen sizes; custom events with a breakdown by
// property; outbound links, downloads, not-found pages; goals and funnels (a chart with its
// table). A click on a row filters every panel, as in the other tables.

import { useEffect, useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'
import { DataTable, Panel, keyLabeler } from './components.js'
import { openDefinitions } from './definitions.js'

const VISITOR_COLUMNS = [['events', 'number'], ['visitors', 'number'], ['conversionRate', 'percent']]

// EVENT_TABLES: panel name, metrics field, filter name, value columns (as TABLES in components.js)
export const EVENT_TABLES = [
  ['browsers', 'browsers', 'browser', [['sessions', 'number']]],
  ['oses', 'oses', 'os', [['sessions', 'number']]],
  ['devices', 'devices', 'device', [['sessions', 'number']]],
  ['screens', 'screens', 'screen', [['sessions', 'number']]],
  ['outbound', 'outbound', 'outbound', VISITOR_COLUMNS],
  ['downloads', 'downloads', 'download', VISITOR_COLUMNS],
  ['notFound', 'notFound', 'page', [['pageViews', 'number']]]
]

/** Props: the breakdown of one custom event by property key and value. */
function Props ({ event }) {
  const { t, number } = useI18n()
  if (!event.props.length) return html`<p class="muted" data-props=${event.key}>${t('dashboard.events.noProps')}</p>`
  return html`<table data-props=${event.key}>
    <caption>${t('dashboard.events.props', { name: event.key })}</caption>
    <thead><tr>
      <th scope="col">${t('dashboard.column.property')}</th>
      <th scope="col">${t('dashboard.column.value')}</th>
      <th scope="col" class="num">${t('dashboard.column.events')}</th>
      <th scope="col" class="num">${t('dashboard.column.visitors')}</th>
    </tr></thead>
    <tbody>${event.props.map(p => html`<tr data-key=${p.key + '=' + p.value}>
      <th scope="row" class="key">${p.key}</th>
      <td>${typeof p.value === 'number' ? number(p.value) : p.value}</td>
      <td class="num">${number(p.events)}</td>
      <td class="num">${number(p.visitors)}</td>
    </tr>`)}</tbody>
  </table>`
}

/** Events: custom events; with the event filter set, the chosen event by property. */
function Events ({ m, filters, onFilter, onExport, explain }) {
  const chosen = filters.event !== undefined && (m.events || []).find(e => e.key === filters.event)
  return html`<${DataTable} name="events" rows=${m.events || []} filter="event" columns=${VISITOR_COLUMNS} onFilter=${onFilter}
      onExport=${onExport} explain=${explain} active=${Object.hasOwn(filters, 'event')} />
    ${chosen && html`<${Panel} name="eventProps"><${Props} event=${chosen} /><//>`}`
}

/** Goals: conversions per goal; without definitions, where to make them. */
function Goals ({ m, filters, onFilter, onExport, explain, consoleHref }) {
  const { t } = useI18n()
  const rows = m.goals || []
  if (rows.length === 0) {
    return html`<${Panel} name="goals" explain=${explain}>
      <p class="muted">${t('dashboard.goals.none')} ${consoleHref && html`<a href=${consoleHref}>${t('dashboard.goals.define')}</a>`}</p>
    <//>`
  }
  return html`<${DataTable} name="goals" rows=${rows} filter="goal" columns=${[['visitors', 'number'], ['conversions', 'number'], ['conversionRate', 'percent']]}
    onFilter=${onFilter} onExport=${onExport} explain=${explain} active=${Object.hasOwn(filters, 'goal')} />`
}

const stepLabel = (s) => (s.page !== undefined ? s.page : s.event)

/** Funnel: one funnel as horizontal bars (sessions per step) and its table equivalent. */
export function Funnel ({ funnel }) {
  const { t, number, percent } = useI18n()
  const W = 720
  const bar = 26
  const gap = 12
  const label = 200
  const H = funnel.steps.length * (bar + gap)
  const max = Math.max(1, funnel.steps[0].sessions)
  const id = 'funnel-' + funnel.key.replace(/[^A-Za-z0-9_-]/g, '_')
  return html`<div class="funnel" data-funnel=${funnel.key}>
    <h3 id=${id}>${funnel.key}</h3>
    <svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-labelledby=${id + '-title'}>
      <title id=${id + '-title'}>${t('dashboard.funnels.chart', { name: funnel.key })}</title>
      ${funnel.steps.map((s, i) => {
        const y = i * (bar + gap)
        const w = Math.max(1, (W - label - 80) * s.sessions / max)
        return html`<g>
          <text x=${label - 8} y=${y + bar * 0.7} text-anchor="end">${i + 1}. ${stepLabel(s)}</text>
          <rect class="bar-views" x=${label} y=${y} width=${w} height=${bar} />
          <text x=${label + w + 6} y=${y + bar * 0.7}>${number(s.sessions)}</text>
        </g>`
      })}
    </svg>
    <table>
      <caption class="visually-hidden">${t('dashboard.funnels.chart', { name: funnel.key })}</caption>
      <thead><tr>
        <th scope="col">${t('dashboard.column.step')}</th>
        <th scope="col" class="num">${t('dashboard.column.sessions')}</th>
        <th scope="col" class="num">${t('dashboard.column.dropOff')}</th>
        <th scope="col" class="num">${t('dashboard.column.conversion')}</th>
      </tr></thead>
      <tbody>${funnel.steps.map((s, i) => html`<tr data-step=${i + 1}>
        <th scope="row" class="key">${i + 1}. ${stepLabel(s)}</th>
        <td class="num">${number(s.sessions)}</td>
        <td class="num">${number(s.dropOff)}</td>
        <td class="num">${s.conversion === null ? '–' : percent(s.conversion)}</td>
      </tr>`)}</tbody>
    </table>
  </div>`
}

function Funnels ({ m, explain }) {
  const { t } = useI18n()
  const funnels = m.funnels || []
  return html`<${Panel} name="funnels" explain=${explain} className="panel-wide">
    ${funnels.length === 0 ? html`<p class="muted">${t('dashboard.funnels.none')}</p>` : funnels.map(f => html`<${Funnel} key=${f.key} funnel=${f} />`)}
  <//>`
}

/**
 * EventPanels: every panel of this file, for the children of MetricsView. `definitions` is
 * false where goals and funnels do not apply (the visitor's own view); `consoleHref` links to
 * where admins define them.
 */
export function EventPanels ({ m, filters = {}, onFilter, onExport, explain = false, definitions = true, consoleHref }) {
  const i18n = useI18n()
  const pages = keyLabeler(i18n, m)
  // devices and screens by their names for people, pages as in the other page tables
  const label = (filter, key) => filter === 'device' || filter === 'screen' ? i18n.t(`dashboard.${filter}.${key}`) : pages(filter, key)
  const common = { filters, onFilter, onExport, explain }
  return html`
    <${Events} m=${m} ...${common} />
    ${definitions && html`<${Goals} m=${m} ...${common} consoleHref=${consoleHref} />`}
    ${EVENT_TABLES.map(([name, field, filter, columns]) => html`<${DataTable} key=${name} name=${name} rows=${m[field] || []}
      filter=${filter} columns=${columns} onFilter=${onFilter} onExport=${onExport} explain=${explain} active=${Object.hasOwn(filters, filter)} label=${label} />`)}
    ${definitions && html`<${Funnels} m=${m} explain=${explain} />`}`
}

/**
 * useDefinitions returns the goals and funnels of an account ({goals, funnels}; null while
 * they load): read with the account (GET /api/accounts/{id}, fresh, as an admin may just
 * have changed them) and opened with its KEK. `reload` changes to read them again.
 */
export function useDefinitions (services, accountId, reload) {
  const [defs, setDefs] = useState(null)
  useEffect(() => {
    if (!accountId) return
    let live = true
    setDefs(null)
    services.api.get(`/api/accounts/${encodeURIComponent(accountId)}`)
      .then(account => openDefinitions(services.session.kek(accountId), accountId, account.goals))
      .catch(() => ({ goals: [], funnels: [] }))
      .then(d => { if (live) setDefs(d) })
    return () => { live = false }
  }, [accountId, reload])
  return defs
}
