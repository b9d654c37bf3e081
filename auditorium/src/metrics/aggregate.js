// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Partial aggregates: what one shard computes for a query. Shards hold disjoint sets of
// visitors (events are sharded by secret id, and sessions are scoped to their secret id), so
// every distinct count of one shard is disjoint from every other shard's and partials merge
// exactly by addition. finalize turns a (merged) partial into the metrics object.

import { localTimeZone, makeBuckets, RESOLUTIONS, WEEK } from './time.js'

/** FILTERS are the filter names a query accepts. */
export const FILTERS = ['page', 'country', 'referrer', 'campaign', 'source', 'landing', 'exit',
  'browser', 'os', 'device', 'screen', 'event', 'goal', 'outbound', 'download']

/** SESSION_FILTERS select sessions; the others ('page') select events. */
export const SESSION_FILTERS = FILTERS.filter(name => name !== 'page')

/** Limits of a query's goals and funnels (definitions.js validates stored ones the same way). */
export const MAX_GOALS = 50
export const MAX_FUNNELS = 20
export const MAX_STEPS = 8

/** REALTIME_WINDOW is the look-back of the real-time panel in ms (15 minutes). */
export const REALTIME_WINDOW = 15 * 60 * 1000

/** RETENTION_WEEKS is the number of weekly cohorts of the retention panel. */
export const RETENTION_WEEKS = 4

function toMs (v, name) {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : v
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new Error(`metrics: query.${name} must be a time`)
  return ms
}

/**
 * normalizeQuery validates a query and fills in defaults:
 *   from, to      range [from, to) as ms since the epoch, Date or ISO string (required)
 *   resolution    'hours' | 'days' | 'weeks' | 'months' (default 'days')
 *   timeZone      IANA zone for bucketing (default: the browser's)
 *   now           ms, anchor of real time and retention (default Date.now())
 *   retentionMs   retention period; returning visitors are hidden when from <= now - retentionMs
 *   filters       {page, country, referrer, campaign, source, landing, exit, browser, os,
 *                 device, screen, event, goal, outbound, download}: string values
 *   goals         [{name, page: pattern} | {name, event: name}] (steps.js)
 *   funnels       [{name, steps: [{page: pattern} | {event: name}]}], 2 to MAX_STEPS steps
 */
export function normalizeQuery (q = {}) {
  const from = toMs(q.from, 'from')
  const to = toMs(q.to, 'to')
  const resolution = q.resolution || 'days'
  if (!RESOLUTIONS.includes(resolution)) throw new Error(`metrics: unknown resolution ${resolution}`)
  const timeZone = q.timeZone || localTimeZone()
  const now = q.now === undefined ? Date.now() : toMs(q.now, 'now')
  const retentionMs = typeof q.retentionMs === 'number' && q.retentionMs > 0 ? q.retentionMs : null
  const filters = {}
  for (const [name, value] of Object.entries(q.filters || {})) {
    if (!FILTERS.includes(name)) throw new Error(`metrics: unknown filter ${name}`)
    if (value !== undefined && value !== null && value !== '') filters[name] = name === 'country' ? String(value).toUpperCase() : String(value)
  }
  return { from, to, resolution, timeZone, now, retentionMs, filters, goals: normalizeGoals(q.goals), funnels: normalizeFunnels(q.funnels) }
}

const isName = (v) => typeof v === 'string' && v.length >= 1 && v.length <= 100

// step keeps {page} or {event} of a goal or funnel step; null when it has neither.
function step (s) {
  if (!s || typeof s !== 'object') return null
  if (typeof s.page === 'string' && s.page.startsWith('/') && s.page.length <= 2048) return { page: s.page }
  if (typeof s.event === 'string' && s.event.length >= 1 && s.event.length <= 64) return { event: s.event }
  return null
}

/** normalizeGoals keeps the valid goals, the first of each name, at most MAX_GOALS. */
export function normalizeGoals (goals) {
  const out = []
  for (const g of Array.isArray(goals) ? goals : []) {
    const s = g && isName(g.name) && step(g)
    if (s && !out.some(o => o.name === g.name) && out.length < MAX_GOALS) out.push({ name: g.name, ...s })
  }
  return out
}

/** normalizeFunnels keeps the valid funnels (2 to MAX_STEPS valid steps), at most MAX_FUNNELS. */
export function normalizeFunnels (funnels) {
  const out = []
  for (const f of Array.isArray(funnels) ? funnels : []) {
    if (!f || !isName(f.name) || !Array.isArray(f.steps) || out.some(o => o.name === f.name)) continue
    const steps = f.steps.map(step)
    if (steps.length >= 2 && steps.length <= MAX_STEPS && steps.every(Boolean) && out.length < MAX_FUNNELS) out.push({ name: f.name, steps })
  }
  return out
}

/** emptyPartial returns the zero partial of a normalized query. */
export function emptyPartial (q) {
  const { bounds, labels } = makeBuckets(q.from, q.to, q.resolution, q.timeZone)
  const n = labels.length
  const retentionStarts = []
  for (let k = 0; k < RETENTION_WEEKS; k++) retentionStarts.push(q.now - (RETENTION_WEEKS - k) * WEEK)
  return {
    v: 1,
    from: q.from,
    to: q.to,
    resolution: q.resolution,
    timeZone: q.timeZone,
    now: q.now,
    returningHidden: q.retentionMs !== null && q.from <= q.now - q.retentionMs,
    bounds: Array.from(bounds),
    labels,
    pageViews: new Array(n).fill(0),
    visitors: new Array(n).fill(0),
    events: 0,
    uniqueVisitors: 0,
    sessions: 0,
    sessionEvents: 0,
    bounces: 0,
    returning: 0,
    mobile: 0,
    pageloadSum: 0,
    pageloadCount: 0,
    durationSum: 0,
    durationCount: 0,
    lengthSum: 0,
    lengthCount: 0,
    pages: new Map(), // key -> [page views, duration sum, duration count]
    referrers: new Map(), // key -> [sessions, events of those sessions]
    campaigns: new Map(),
    sources: new Map(),
    countries: new Map(), // key -> [sessions]
    landingPages: new Map(),
    exitPages: new Map(),
    realtimeVisitors: 0,
    realtimePages: new Map(), // key -> [visitors]
    browsers: new Map(), // key -> [sessions]; oses, devices, screens the same
    oses: new Map(),
    devices: new Map(),
    screens: new Map(),
    eventNames: new Map(), // event name -> [events, visitors]
    eventProps: new Map(), // name NUL prop key NUL JSON of the value -> [events, visitors]
    outbound: new Map(), // link target -> [events, visitors]; downloads the same
    downloads: new Map(),
    notFound: new Map(), // page key -> [page views]
    goals: q.goals,
    goalCounts: new Map(), // goal name -> [conversions, visitors]
    funnels: q.funnels,
    funnelCounts: new Map(), // funnel name -> [sessions reaching step 1, step 2, ...]
    retentionStarts,
    retentionVisitors: new Array(RETENTION_WEEKS).fill(0),
    retentionOverlap: new Array(RETENTION_WEEKS * RETENTION_WEEKS).fill(0), // [k * 4 + j]
    unreadable: 0
  }
}

const SCALARS = ['events', 'uniqueVisitors', 'sessions', 'sessionEvents', 'bounces', 'returning', 'mobile',
  'pageloadSum', 'pageloadCount', 'durationSum', 'durationCount', 'lengthSum', 'lengthCount',
  'realtimeVisitors', 'unreadable']
const ARRAYS = ['pageViews', 'visitors', 'retentionVisitors', 'retentionOverlap']
const TABLES = ['pages', 'referrers', 'campaigns', 'sources', 'countries', 'landingPages', 'exitPages', 'realtimePages',
  'browsers', 'oses', 'devices', 'screens', 'eventNames', 'eventProps', 'outbound', 'downloads', 'notFound', 'goalCounts', 'funnelCounts']

/** addRow adds the numbers of row to the entry of key in table. */
export function addRow (table, key, row) {
  const cur = table.get(key)
  if (!cur) {
    table.set(key, row.slice())
    return
  }
  for (let i = 0; i < row.length; i++) cur[i] += row[i]
}

/**
 * mergePartials adds partials of the same query (computed over disjoint sets of visitors)
 * into a new partial. Throws when they were computed for different queries.
 */
export function mergePartials (partials) {
  if (partials.length === 0) throw new Error('metrics: nothing to merge')
  const first = partials[0]
  const out = { ...first }
  for (const name of ARRAYS) out[name] = first[name].slice()
  for (const name of TABLES) {
    out[name] = new Map()
    for (const [k, row] of first[name]) out[name].set(k, row.slice())
  }
  for (let i = 1; i < partials.length; i++) {
    const p = partials[i]
    if (p.from !== first.from || p.to !== first.to || p.resolution !== first.resolution ||
      p.timeZone !== first.timeZone || p.now !== first.now) {
      throw new Error('metrics: cannot merge partials of different queries')
    }
    for (const name of SCALARS) out[name] += p[name]
    for (const name of ARRAYS) {
      const a = out[name]
      const b = p[name]
      for (let j = 0; j < a.length; j++) a[j] += b[j]
    }
    for (const name of TABLES) {
      for (const [k, row] of p[name]) addRow(out[name], k, row)
    }
  }
  return out
}

function ratio (a, b) {
  return b > 0 ? a / b : null
}

function sortRows (rows, field) {
  return rows.sort((a, b) => b[field] - a[field] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

function sessionTable (table) {
  const rows = []
  for (const [key, [sessions, events]] of table) rows.push({ key, sessions, avgPageDepth: ratio(events, sessions) })
  return sortRows(rows, 'sessions')
}

function countTable (table, field) {
  const rows = []
  for (const [key, [n]] of table) rows.push({ key, [field]: n })
  return sortRows(rows, field)
}

/**
 * finalize turns a partial into the metrics object (see README.md in this folder). Ratios
 * whose denominator is zero are null, never NaN; tables are complete and sorted by their
 * count, descending, then by key.
 */
export function finalize (p) {
  const buckets = p.labels.map((label, i) => ({
    start: p.bounds[i],
    end: p.bounds[i + 1],
    label,
    pageViews: p.pageViews[i],
    visitors: p.visitors[i]
  }))
  const pages = []
  for (const [key, [views, dSum, dCount]] of p.pages) pages.push({ key, pageViews: views, avgTimeOnPage: ratio(dSum, dCount) })
  sortRows(pages, 'pageViews')
  const retention = []
  for (let k = 0; k < RETENTION_WEEKS; k++) {
    const visitors = p.retentionVisitors[k]
    const shares = []
    for (let j = k; j < RETENTION_WEEKS; j++) shares.push(ratio(p.retentionOverlap[k * RETENTION_WEEKS + j], visitors))
    retention.push({
      start: p.retentionStarts[k],
      end: k + 1 < RETENTION_WEEKS ? p.retentionStarts[k + 1] : p.now,
      visitors,
      shares
    })
  }
  return {
    range: { from: p.from, to: p.to, resolution: p.resolution, timeZone: p.timeZone },
    buckets,
    pageViews: p.events,
    uniqueVisitors: p.uniqueVisitors,
    uniqueSessions: p.sessions,
    avgPageDepth: ratio(p.sessionEvents, p.sessions),
    bounceRate: ratio(p.bounces, p.sessions),
    returningVisitors: p.returningHidden ? null : ratio(p.returning, p.uniqueVisitors),
    returningHidden: p.returningHidden,
    mobileShare: ratio(p.mobile, p.events),
    avgPageload: ratio(p.pageloadSum, p.pageloadCount),
    avgTimeOnPage: ratio(p.durationSum, p.durationCount),
    avgSessionLength: ratio(p.lengthSum, p.lengthCount),
    pages,
    referrers: sessionTable(p.referrers),
    campaigns: sessionTable(p.campaigns),
    sources: sessionTable(p.sources),
    countries: countTable(p.countries, 'sessions'),
    landingPages: countTable(p.landingPages, 'sessions'),
    exitPages: countTable(p.exitPages, 'sessions'),
    realtime: { visitors: p.realtimeVisitors, pages: countTable(p.realtimePages, 'visitors') },
    retention,
    ...finalizeEvents(p),
    unreadable: p.unreadable
  }
}

/** PROP_SEPARATOR joins event name, prop key and value in the keys of eventProps. */
export const PROP_SEPARATOR = '\u0000'

function visitorTable (table, total) {
  const rows = []
  for (const [key, [events, visitors]] of table) rows.push({ key, events, visitors, conversionRate: ratio(visitors, total) })
  return sortRows(rows, 'events')
}

// finalizeEvents: the figures beyond page views (README.md "Events, goals, funnels, devices")
function finalizeEvents (p) {
  const props = new Map() // event name -> rows
  for (const [k, [events, visitors]] of p.eventProps) {
    const [name, key, value] = k.split(PROP_SEPARATOR)
    if (!props.has(name)) props.set(name, [])
    props.get(name).push({ key, value: JSON.parse(value), events, visitors })
  }
  const events = visitorTable(p.eventNames, p.uniqueVisitors)
  for (const row of events) {
    row.props = (props.get(row.key) || []).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || b.events - a.events ||
      (String(a.value) < String(b.value) ? -1 : String(a.value) > String(b.value) ? 1 : 0))
  }
  return {
    browsers: countTable(p.browsers, 'sessions'),
    oses: countTable(p.oses, 'sessions'),
    devices: countTable(p.devices, 'sessions'),
    screens: countTable(p.screens, 'sessions'),
    events,
    outbound: visitorTable(p.outbound, p.uniqueVisitors),
    downloads: visitorTable(p.downloads, p.uniqueVisitors),
    notFound: countTable(p.notFound, 'pageViews'),
    goals: p.goals.map(g => {
      const [conversions, visitors] = p.goalCounts.get(g.name) || [0, 0]
      return { key: g.name, goal: g, visitors, conversions, conversionRate: ratio(visitors, p.uniqueVisitors) }
    }),
    funnels: p.funnels.map(f => {
      const reached = p.funnelCounts.get(f.name) || f.steps.map(() => 0)
      return {
        key: f.name,
        steps: f.steps.map((s, i) => ({
          ...s,
          sessions: reached[i],
          dropOff: i === 0 ? 0 : reached[i - 1] - reached[i],
          conversion: ratio(reached[i], reached[0]),
          stepConversion: i === 0 ? ratio(reached[0], reached[0]) : ratio(reached[i], reached[i - 1])
        }))
      }
    })
  }
}
