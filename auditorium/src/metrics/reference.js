// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// A plain, one-object-per-event implementation of every metric, written for clarity rather
// than speed. It is the executable statement of the rules in README.md; the property tests
// check the columnar EventStore (and any merge of shards) against it.

import { addRow, emptyPartial, finalize, normalizeQuery, PROP_SEPARATOR, REALTIME_WINDOW, RETENTION_WEEKS, SESSION_FILTERS } from './aggregate.js'
import { IGNORED, pageInfo, referrerLabel, utmValues, validatePayload, validEventId } from './normalize.js'
import { funnelProgress, KIND, stepTest } from './steps.js'
import { bucketIndex } from './time.js'
import { WEEK } from './time.js'

/**
 * parseRecords validates decrypted records {eventId, secretId, keyId, payload} and returns
 * {events, unreadable}: events as plain objects sorted by (time, eventId), the first record
 * of each event id winning; unreadable the number of distinct invalid records.
 */
export function parseRecords (records) {
  const seen = new Set()
  const bad = new Set()
  let badWithoutId = 0
  const events = []
  for (const r of records) {
    const id = r && validEventId(r.eventId)
    if (!id) {
      badWithoutId++
      continue
    }
    if (seen.has(id)) continue
    seen.add(id)
    const p = typeof r.secretId === 'string' && r.secretId !== '' ? validatePayload(r.payload) : null
    if (p === null) {
      bad.add(id)
      continue
    }
    if (p === IGNORED) continue
    const page = pageInfo(p.href)
    const utm = utmValues(p.href, p.rawHref)
    events.push({
      id,
      visitor: r.secretId,
      session: p.sessionId === null ? null : r.secretId + '\u0000' + p.sessionId,
      t: p.time,
      page: page.key,
      referrer: referrerLabel(p.referrer, page.host),
      campaign: utm.campaign,
      source: utm.source,
      geo: p.geo,
      mobile: p.isMobile,
      pageload: p.pageload,
      kind: KIND[p.type],
      name: p.name,
      props: p.props,
      notFound: p.notFound,
      browser: p.browser,
      os: p.os,
      device: p.device,
      screen: p.screen
    })
  }
  events.sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return { events, unreadable: bad.size + badWithoutId }
}

/** computePartial computes the partial aggregate (aggregate.js) of records for query. */
export function computePartial (records, query) {
  const q = normalizeQuery(query)
  const p = emptyPartial(q)
  const { events, unreadable } = parseRecords(records)
  p.unreadable = unreadable
  const f = q.filters
  const bounds = Float64Array.from(p.bounds)

  // first sighting and latest event per visitor, weeks seen (over all events, unfiltered)
  const firstSeen = new Map()
  const latest = new Map()
  const weeks = new Map()
  const w0 = q.now - RETENTION_WEEKS * WEEK
  // real time, retention and returning visitors are about page views
  for (const e of events) {
    if (e.kind !== KIND.PAGEVIEW) continue
    if (!firstSeen.has(e.visitor)) firstSeen.set(e.visitor, e.t)
    latest.set(e.visitor, e)
    if (e.t >= w0) {
      const k = Math.min(RETENTION_WEEKS - 1, Math.floor((e.t - w0) / WEEK))
      if (!weeks.has(e.visitor)) weeks.set(e.visitor, new Set())
      weeks.get(e.visitor).add(k)
    }
  }
  for (const e of latest.values()) {
    if (e.t >= q.now - REALTIME_WINDOW) {
      p.realtimeVisitors++
      addRow(p.realtimePages, e.page, [1])
    }
  }
  for (const ks of weeks.values()) {
    for (const k of ks) {
      p.retentionVisitors[k]++
      for (const j of ks) if (j >= k) p.retentionOverlap[k * RETENTION_WEEKS + j]++
    }
  }

  // sessions are cut to the range: only their events in [from, to) exist for the query
  const groups = new Map()
  const loose = []
  for (const e of events) {
    if (e.t < q.from || e.t >= q.to) continue
    if (e.session === null) loose.push([e])
    else {
      if (!groups.has(e.session)) groups.set(e.session, [])
      groups.get(e.session).push(e)
    }
  }
  const hasSessionFilter = SESSION_FILTERS.some(n => n in f)
  const visitors = new Set()
  const bucketVisitors = p.labels.map(() => new Set())
  const goalTests = q.goals.map(stepTest)
  const funnelTests = q.funnels.map(fn => fn.steps.map(stepTest))
  const seen = new Map() // table -> key -> Set of visitors
  const countVisitor = (table, key, visitor, events = 1) => {
    if (!seen.has(table)) seen.set(table, new Map())
    const sets = seen.get(table)
    if (!sets.has(key)) sets.set(key, new Set())
    const fresh = !sets.get(key).has(visitor)
    sets.get(key).add(visitor)
    addRow(table, key, [events, fresh ? 1 : 0])
  }
  const actionTables = { [KIND.EVENT]: p.eventNames, [KIND.OUTBOUND]: p.outbound, [KIND.DOWNLOAD]: p.downloads }

  const count = (all, isSession) => {
    const list = all.filter(e => e.kind === KIND.PAGEVIEW)
    const actions = all.filter(e => e.kind !== KIND.PAGEVIEW)
    if (list.length === 0) return // a session exists for a query through its page views
    const n = list.length
    const first = list[0]
    const last = list[n - 1]
    const campaign = (list.find(e => e.campaign !== null) || {}).campaign ?? null
    const source = (list.find(e => e.source !== null) || {}).source ?? null
    const exit = n >= 2 ? last.page : null
    if (hasSessionFilter) {
      if (!isSession) return
      if ('country' in f && first.geo !== f.country) return
      if ('referrer' in f && first.referrer !== f.referrer) return
      if ('campaign' in f && campaign !== f.campaign) return
      if ('source' in f && source !== f.source) return
      if ('landing' in f && first.page !== f.landing) return
      if ('exit' in f && exit !== f.exit) return
      for (const name of ['browser', 'os', 'device', 'screen']) if (name in f && first[name] !== f[name]) return
      for (const [name, kind] of [['event', KIND.EVENT], ['outbound', KIND.OUTBOUND], ['download', KIND.DOWNLOAD]]) {
        if (name in f && !actions.some(e => e.kind === kind && e.name === f[name])) return
      }
      if ('goal' in f) {
        const g = q.goals.findIndex(g => g.name === f.goal)
        if (g < 0 || !all.some(e => goalTests[g](e.kind, e.page, e.name))) return
      }
    }
    let selected = 0
    list.forEach((e, i) => {
      if ('page' in f && e.page !== f.page) return
      selected++
      p.events++
      visitors.add(e.visitor)
      const b = bucketIndex(bounds, e.t)
      p.pageViews[b]++
      bucketVisitors[b].add(e.visitor)
      if (e.mobile) p.mobile++
      if (e.notFound) addRow(p.notFound, e.page, [1])
      if (e.pageload !== null) {
        p.pageloadSum += e.pageload
        p.pageloadCount++
      }
      if (isSession && i + 1 < n) {
        const d = list[i + 1].t - e.t
        p.durationSum += d
        p.durationCount++
        addRow(p.pages, e.page, [1, d, 1])
      } else {
        addRow(p.pages, e.page, [1, 0, 0])
      }
    })
    if (selected === 0) return
    if (!isSession) return // actions count within sessions only
    for (const e of actions) {
      if ('page' in f && e.page !== f.page) continue
      countVisitor(actionTables[e.kind], e.name, e.visitor)
      for (const [k, v] of e.props || []) countVisitor(p.eventProps, e.name + PROP_SEPARATOR + k + PROP_SEPARATOR + JSON.stringify(v), e.visitor)
    }
    for (const [name, table] of [['browser', p.browsers], ['os', p.oses], ['device', p.devices], ['screen', p.screens]]) {
      if (first[name] !== null) addRow(table, first[name], [1])
    }
    q.goals.forEach((g, i) => {
      const hits = all.filter(e => goalTests[i](e.kind, e.page, e.name)).length
      if (hits) countVisitor(p.goalCounts, g.name, first.visitor, hits)
    })
    q.funnels.forEach((fn, i) => {
      const k = funnelProgress(funnelTests[i], all.map(e => [e.kind, e.page, e.name]))
      if (k > 0) addRow(p.funnelCounts, fn.name, fn.steps.map((_, j) => (j < k ? 1 : 0)))
    })
    p.sessions++
    p.sessionEvents += n
    if (n === 1) p.bounces++
    else {
      p.lengthSum += last.t - first.t
      p.lengthCount++
    }
    if (first.referrer !== null) addRow(p.referrers, first.referrer, [1, n])
    if (campaign !== null) addRow(p.campaigns, campaign, [1, n])
    if (source !== null) addRow(p.sources, source, [1, n])
    if (first.geo !== null) addRow(p.countries, first.geo, [1])
    addRow(p.landingPages, first.page, [1])
    if (exit !== null) addRow(p.exitPages, exit, [1])
  }
  for (const list of groups.values()) count(list, true)
  for (const list of loose) count(list, false)

  p.uniqueVisitors = visitors.size
  bucketVisitors.forEach((s, i) => { p.visitors[i] = s.size })
  for (const v of visitors) if (firstSeen.get(v) < q.from) p.returning++
  return p
}

/**
 * computeMetrics computes every metric of PRODUCT.md §5 from a flat array of decrypted records
 * {eventId, secretId, keyId, payload} for a query (see normalizeQuery in aggregate.js).
 */
export function computeMetrics (records, query) {
  return finalize(computePartial(records, query))
}
