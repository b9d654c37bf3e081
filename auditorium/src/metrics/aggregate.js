// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Partial aggregates: what one shard computes for a query. Shards hold disjoint sets of
// visitors (events are sharded by secret id, and sessions are scoped to their secret id), so
// every distinct count of one shard is disjoint from every other shard's and partials merge
// exactly by addition. finalize turns a (merged) partial into the metrics object.

import { localTimeZone, makeBuckets, RESOLUTIONS, WEEK } from './time.js'

/** FILTERS are the filter names a query accepts. */
export const FILTERS = ['page', 'country', 'referrer', 'campaign', 'source', 'landing', 'exit']

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
 *   filters       {page, country, referrer, campaign, source, landing, exit}: string values
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
  return { from, to, resolution, timeZone, now, retentionMs, filters }
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
const TABLES = ['pages', 'referrers', 'campaigns', 'sources', 'countries', 'landingPages', 'exitPages', 'realtimePages']

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
    unreadable: p.unreadable
  }
}
