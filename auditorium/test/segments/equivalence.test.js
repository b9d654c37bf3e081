// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Segments are lossless for the dashboard: a generated account is cut into per-period
// segments (PROTOCOL §13), read back into stores, and every panel of every range and filter
// equals what the raw events give, in one store and sharded.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventStore, computeMetrics, finalize, mergePartials, shardOf } from '../../src/metrics/index.js'
import { validatePayload } from '../../src/metrics/normalize.js'
import { decodeSegmentColumns, encodeSegment, segmentCoverage, ulidString } from '../../../keys/js/segment.js'
import { generate, rng } from '../metrics/gen.js'

const DAY = 24 * 3600 * 1000
const now = Date.parse('2026-11-22T10:17:00.000Z')
const start = now - 60 * DAY
const end = now + 3600 * 1000
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata']
const RESOLUTION = { hours: 3 * DAY, days: 40 * DAY, weeks: 60 * DAY, months: 70 * DAY }
const ACCOUNT = '5b6f3c1e-8a2d-4f7b-9c1e-2d3f4a5b6c7d'

const periodOf = (eventId) => {
  let ms = 0
  for (let i = 0; i < 10; i++) ms = ms * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(eventId[i].toUpperCase())
  return new Date(ms).toISOString().slice(0, 10)
}

// ulidAt is the smallest ULID of a time
const ulidAt = (ms) => {
  let t = ms
  let out = ''
  for (let i = 0; i < 10; i++) {
    out = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[t % 32] + out
    t = Math.floor(t / 32)
  }
  return out + '0'.repeat(16)
}

// segmentsOf groups records by the UTC day of their event id and encodes each day as the
// dashboard does: each event id once, plaintexts the store would reject as unreadable
async function segmentsOf (records, unreadable = []) {
  const days = new Map()
  const day = (id) => {
    const p = periodOf(id)
    if (!days.has(p)) days.set(p, { records: [], unreadable: [], seen: new Set() })
    return days.get(p)
  }
  for (const r of records) {
    const d = day(r.eventId)
    if (d.seen.has(r.eventId)) continue
    d.seen.add(r.eventId)
    const p = r.payload
    if (p.v === 1 && typeof p.type === 'string' && (p.type !== 'PAGEVIEW' || validatePayload(p) !== null)) d.records.push(r)
    else d.unreadable.push(r.eventId)
  }
  for (const id of unreadable) {
    const d = day(id)
    if (!d.seen.has(id)) {
      d.seen.add(id)
      d.unreadable.push(id)
    }
  }
  const out = []
  for (const [period, d] of days) {
    out.push({ period, bytes: encodeSegment({ accountId: ACCOUNT, period, records: d.records, unreadable: d.unreadable }), ...(await segmentCoverage([...d.seen])) })
  }
  return out
}

function queries (seed, overview) {
  const rand = rng(seed)
  const pick = (list) => list[Math.floor(rand() * list.length)]
  const out = [{ from: now - 7 * DAY, to: now, resolution: 'days', timeZone: 'UTC', now, retentionMs: 186 * DAY, filters: {} }]
  const options = ['pages', 'countries', 'referrers', 'campaigns', 'sources', 'landingPages', 'exitPages']
  const names = { pages: 'page', countries: 'country', referrers: 'referrer', campaigns: 'campaign', sources: 'source', landingPages: 'landing', exitPages: 'exit' }
  // every row of every table as a filter once, then random ranges with one or two filters
  for (const table of options) {
    for (const row of overview[table]) out.push({ from: start, to: end, resolution: 'weeks', timeZone: 'UTC', now, filters: { [names[table]]: row.key } })
  }
  for (let i = 0; i < 30; i++) {
    const resolution = pick(Object.keys(RESOLUTION))
    const span = Math.floor(rand() * RESOLUTION[resolution]) + 3600 * 1000
    const to = now - Math.floor(rand() * 10 * DAY) + (rand() < 0.3 ? 0 : 1234)
    const filters = {}
    for (let k = 0; k < i % 3; k++) {
      const table = pick(options)
      if (overview[table].length) filters[names[table]] = pick(overview[table]).key
    }
    out.push({ from: to - span, to, resolution, timeZone: pick(ZONES), now, retentionMs: rand() < 0.5 ? 45 * DAY : undefined, filters })
  }
  return out
}

for (const seed of [1, 2]) {
  const read = (s) => decodeSegmentColumns(s.bytes, { accountId: ACCOUNT, period: s.period })
  const records = generate({ seed, visitors: 150, start, end }).records
    .concat(generate({ seed: seed + 100, visitors: 15, start: now - 40 * 60 * 1000, end: now, noise: false }).records)
  for (const r of records) r.accountId = ACCOUNT
  // a few events that did not decrypt
  const failed = generate({ seed: seed + 200, visitors: 3, start, end, noise: false }).records.map(r => r.eventId)
  const segments = await segmentsOf(records, failed)
  const overview = computeMetrics(records, { from: start, to: end, resolution: 'weeks', timeZone: 'UTC', now })

  test(`seed ${seed}: segments cover every event once`, () => {
    const ids = new Set(records.map(r => r.eventId.toUpperCase()).concat(failed))
    let covered = 0
    for (const s of segments) {
      const cols = read(s)
      for (let i = 0; i < cols.count; i++) assert.ok(ids.has(ulidString(cols.ids, 16 * i)))
      assert.equal(cols.count + cols.unreadable.length, s.count)
      covered += s.count
    }
    assert.equal(covered, ids.size)
  })

  const raw = new EventStore()
  raw.add(records)
  raw.markUnreadable(failed.map(eventId => ({ eventId, accountId: ACCOUNT })))
  const fromSegments = new EventStore()
  for (const s of segments) fromSegments.addSegment(read(s))
  const N = 3
  const shards = Array.from({ length: N }, (_, k) => {
    const st = new EventStore({ capacity: 8 })
    for (const s of segments) st.addSegment(read(s), { keep: secretId => shardOf(secretId, N) === k, unreadable: k === 0 })
    return st
  })

  test(`seed ${seed}: every panel from segments equals the raw events`, () => {
    assert.equal(fromSegments.size, raw.size)
    assert.equal(fromSegments.unreadable, raw.unreadable)
    for (const q of queries(seed, overview)) {
      const want = raw.query(q)
      assert.deepEqual(fromSegments.query(q), want, JSON.stringify(q))
      assert.deepEqual(finalize(mergePartials(shards.map(s => s.partial(q)))), want, 'sharded ' + JSON.stringify(q))
    }
  })

  test(`seed ${seed}: history read in outline gives the figures of ranges after it`, () => {
    // the periods before the last 30 days in outline (addSeen), the others in full
    const cut = Date.parse(new Date(now - 30 * DAY).toISOString().slice(0, 10) + 'T00:00:00Z')
    const old = (s) => Date.parse(s.period + 'T00:00:00Z') < cut
    const bounds = (s) => [ulidAt(Date.parse(s.period + 'T00:00:00Z')), ulidAt(Date.parse(s.period + 'T00:00:00Z') + DAY)]
    const outlined = (keep, unreadable) => {
      const st = new EventStore({ capacity: 8 })
      for (const s of segments) {
        if (old(s)) st.addSeen(s.period, bounds(s), read(s), { keep })
        else st.addSegment(read(s), { keep, unreadable })
      }
      return st
    }
    const one = outlined(() => true, true)
    const sharded = Array.from({ length: N }, (_, k) => outlined(secretId => shardOf(secretId, N) === k, k === 0))
    const recentOnly = new EventStore()
    for (const s of segments) if (!old(s)) recentOnly.addSegment(read(s))
    const later = queries(seed, overview).filter(q => new Date(q.from).getTime() >= cut + DAY)
    assert.ok(later.length > 3)
    let needed = 0
    for (const q of later) {
      const want = raw.query(q)
      const got = one.query(q)
      assert.deepEqual({ ...got, unreadable: 0 }, { ...want, unreadable: 0 }, JSON.stringify(q))
      assert.deepEqual({ ...finalize(mergePartials(sharded.map(s => s.partial(q)))), unreadable: 0 }, { ...want, unreadable: 0 }, 'sharded ' + JSON.stringify(q))
      if (recentOnly.query(q).returningVisitors !== want.returningVisitors) needed++
    }
    assert.ok(needed > 0, 'the outlines decide returning visitors of some range')
    // read in full, the outlines give way to the rows
    for (const s of segments) if (old(s)) one.addSegment(read(s))
    assert.equal(one.seen.size, segments.filter(old).length)
    for (const s of segments) if (old(s)) one.dropSeen(s.period)
    for (const q of queries(seed, overview)) assert.deepEqual({ ...one.query(q), unreadable: 0 }, { ...fromSegments.query(q), unreadable: 0 }, JSON.stringify(q))
  })

  test(`seed ${seed}: an outline keeps what a 'before' tombstone leaves`, () => {
    const cutMs = Date.parse(new Date(now - 45 * DAY).toISOString().slice(0, 10) + 'T23:00:00Z') // inside a period
    const st = new EventStore()
    for (const s of segments) {
      if (Date.parse(s.period + 'T00:00:00Z') < now - 30 * DAY) {
        const b = [ulidAt(Date.parse(s.period + 'T00:00:00Z')), ulidAt(Date.parse(s.period + 'T00:00:00Z') + DAY)]
        st.addSeen(s.period, b, read(s), { sinceMs: cutMs })
      } else st.addSegment(read(s))
    }
    const before = st.seen.size
    st.remove([{ kind: 'before', target: ulidAt(cutMs) }])
    assert.ok(st.seen.size < before && st.seen.size > 0)
    const full = new EventStore()
    full.add(records)
    full.remove([{ kind: 'before', target: ulidAt(cutMs) }])
    const q = { from: now - 7 * DAY, to: now, resolution: 'days', timeZone: 'UTC', now, filters: {} }
    assert.equal(st.query(q).returningVisitors, full.query(q).returningVisitors)
    // when each visitor with rows was first seen, exactly
    st._buildOrder()
    full._buildOrder()
    let compared = 0
    for (let v = 0; v < st.visitors.size; v++) {
      if (st.order.visStart[v] === st.order.visStart[v + 1]) continue
      const w = full.visitors.ids.get(st.visitors.values[v])
      assert.equal(st.order.firstSeen[v], full.order.firstSeen[w], st.visitors.values[v])
      compared++
    }
    assert.ok(compared > 10)
  })

  test(`seed ${seed}: a stale period is dropped and read again`, () => {
    const st = new EventStore()
    for (const s of segments) st.addSegment(read(s))
    const victim = segments[Math.floor(segments.length / 2)]
    const from = ulidString(read(victim).ids, 0).slice(0, 10)
    const bounds = [Date.parse(victim.period + 'T00:00:00Z'), Date.parse(victim.period + 'T00:00:00Z') + DAY]
    assert.ok(from >= ulidAt(bounds[0]).slice(0, 10))
    const { removed } = st.removeRange(ulidAt(bounds[0]), ulidAt(bounds[1]))
    const left = records.filter(r => periodOf(r.eventId) !== victim.period)
    const q = { from: start, to: end, resolution: 'weeks', timeZone: 'UTC', now, filters: {} }
    const rest = new EventStore()
    rest.add(left)
    assert.ok(removed > 0)
    assert.equal(st.size, rest.size)
    assert.deepEqual({ ...st.query(q), unreadable: 0 }, { ...rest.query(q), unreadable: 0 })
    const again = st.addSegment(read(victim))
    assert.equal(again.added, removed)
    assert.deepEqual(st.query(q), fromSegments.query(q))
  })
}

test('rows with fields beyond the columns (extras) count as their decrypted events do', () => {
  const period = '2026-11-20'
  const t = Date.parse(period + 'T10:00:00.000Z')
  const base = { v: 1, type: 'PAGEVIEW', href: 'https://example.com/a', referrer: '', timestamp: new Date(t).toISOString(), sessionId: 's1', geo: 'DE', isMobile: false }
  const records = [
    { payload: base },
    { payload: { ...base, sessionId: 5 } }, // no string: unreadable on both paths
    { payload: { ...base, timestamp: '2026-11-20 10:00:05' } }, // not toISOString: in the extras, still a time
    { payload: { ...base, extra: { nested: true } } },
    { payload: { ...base, type: 'SCROLL', href: 7 } }, // a type unknown to §12: ignored on both paths
    { payload: { ...base, sessionId: 's2', browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'large', notFound: true } }, // §12 columns
    { payload: { ...base, type: 'EVENT', name: 'Signup', props: { plan: 'pro', n: 3 }, browser: 'Firefox' } } // through add()
  ].map((r, i) => ({ eventId: ulidString(Uint8Array.from([0, 0, 0, 0, 0, 0, ...Array(10).fill(i)]).map((b, j) => (j < 6 ? Math.floor(t / 2 ** (8 * (5 - j))) % 256 : b))), secretId: 'v1', keyId: 'k1', accountId: ACCOUNT, ...r }))
  const ok = records.filter(r => validatePayload(r.payload) !== null)
  const bad = records.filter(r => validatePayload(r.payload) === null).map(r => r.eventId)
  const bytes = encodeSegment({ accountId: ACCOUNT, period, records: ok, unreadable: bad })
  const a = new EventStore()
  a.add(records)
  const b = new EventStore()
  b.addSegment(decodeSegmentColumns(bytes, { accountId: ACCOUNT, period }))
  const q = { from: t - DAY, to: t + DAY, resolution: 'hours', timeZone: 'UTC', now: t + 3600000, filters: {} }
  assert.deepEqual(b.query(q), a.query(q))
  assert.equal(a.unreadable, 1)
  assert.equal(a.size, 5)
  const m = b.query(q)
  assert.deepEqual(m.browsers.map(r => r.key), ['Firefox'])
  assert.deepEqual(m.events.map(r => r.key), ['Signup'])
})
