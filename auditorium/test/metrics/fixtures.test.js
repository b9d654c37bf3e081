// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Every metric of PRODUCT.md §5 on a small data set whose expected values were computed by
// hand (see the comments), for the columnar EventStore and the reference implementation.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventStore, computeMetrics } from '../../src/metrics/index.js'
import { ulid } from './gen.js'

let counter = 0
function ev (secretId, sessionId, iso, path, extra = {}) {
  const t = Date.parse(iso)
  counter++
  const eventId = ulid(t, () => 0).slice(0, 20) + String(counter).padStart(6, '0')
  return {
    eventId,
    secretId,
    keyId: 'key-' + secretId,
    payload: {
      v: 1,
      type: 'PAGEVIEW',
      href: 'https://example.com' + path,
      referrer: '',
      pageload: null,
      timestamp: iso,
      sessionId,
      geo: null,
      isMobile: false,
      ...extra
    }
  }
}

const P = (path) => 'https://example.com' + path

// Range: UTC days 2026-11-10, -11, -12. now: 2026-11-20T12:00Z.
const records = [
  // A: session a1 crosses the range start; a2 lies after the range (retention week 3)
  ev('A', 'a1', '2026-11-09T23:50:00.000Z', '/home', { referrer: 'https://www.google.com/' }), // e1 before range
  ev('A', 'a1', '2026-11-10T00:05:00.000Z', '/pricing', { referrer: 'https://example.com/', pageload: 500 }), // e2
  ev('A', 'a1', '2026-11-10T00:07:00.000Z', '/docs/', { referrer: 'https://example.com/pricing' }), // e3
  ev('A', 'a2', '2026-11-15T10:00:00.000Z', '/home'), // e11
  // B: b1 a bounce from Google with UTM values; b2 crosses the range end
  ev('B', 'b1', '2026-11-10T10:00:00.000Z', '/?utm_source=news&utm_campaign=launch',
    { referrer: 'https://www.google.de/search', geo: 'DE', isMobile: true, pageload: 1000 }), // e4
  ev('B', 'b2', '2026-11-12T23:59:00.000Z', '/blog/', { referrer: 'https://news.ycombinator.com/item', geo: 'DE' }), // e5
  ev('B', 'b2', '2026-11-13T00:01:00.000Z', '/blog/post', { geo: 'DE' }), // e6 after range
  // C: c1 three pages from Mastodon; one event without a session
  ev('C', 'c1', '2026-11-11T08:00:00.000Z', '/blog', { referrer: 'https://mastodon.social/@someone', geo: 'FR', pageload: 0 }), // e7
  ev('C', 'c1', '2026-11-11T08:01:00.000Z', '/blog/', { geo: 'FR', pageload: -5 }), // e8
  ev('C', 'c1', '2026-11-11T08:03:30.000Z', '/pricing', { geo: 'FR', pageload: 300 }), // e9
  ev('C', null, '2026-11-11T09:00:00.000Z', '/about'), // e10
  // real time (now - 15 min = 11:45:00): D current /pricing, E too old, F /pricing, G /about on the edge
  ev('D', 'd1', '2026-11-20T11:40:00.000Z', '/home'),
  ev('D', 'd1', '2026-11-20T11:50:00.000Z', '/pricing'),
  ev('E', 'e1', '2026-11-20T11:44:59.999Z', '/home'),
  ev('F', 'f1', '2026-11-20T11:46:00.000Z', '/pricing'),
  ev('G', 'g1', '2026-11-20T11:45:00.000Z', '/about'),
  // retention: H in weeks 0, 1, 3; I in weeks 0, 2
  ev('H', 'h1', '2026-10-25T10:00:00.000Z', '/home'),
  ev('H', 'h2', '2026-11-01T10:00:00.000Z', '/home'),
  ev('H', 'h3', '2026-11-19T10:00:00.000Z', '/home'),
  ev('I', 'i1', '2026-10-24T10:00:00.000Z', '/home'),
  ev('I', 'i2', '2026-11-08T10:00:00.000Z', '/home')
]
const noise = [
  { ...records[1] }, // duplicate event id: counted once
  { ...ev('C', 'c1', '2026-11-11T08:00:00.000Z', '/x'), payload: { v: 2, type: 'PAGEVIEW' } }, // unreadable
  { ...ev('C', 'c1', '2026-11-11T08:00:00.000Z', '/x'), eventId: 'not-a-ulid' }, // unreadable
  ev('C', 'c1', '2026-11-11T08:00:30.000Z', '/x', { type: 'CLICK' }) // unknown type: ignored
]
const all = [...records, ...noise]

const now = Date.parse('2026-11-20T12:00:00.000Z')
const base = {
  from: Date.parse('2026-11-10T00:00:00.000Z'),
  to: Date.parse('2026-11-13T00:00:00.000Z'),
  resolution: 'days',
  timeZone: 'UTC',
  now,
  retentionMs: 30 * 24 * 3600 * 1000
}

function implementations (recs) {
  const store = new EventStore({ capacity: 4 })
  store.add(recs)
  return [
    ['store', (q) => store.query(q)],
    ['reference', (q) => computeMetrics(recs, q)]
  ]
}

function assertNoNaN (value, path = 'metrics') {
  if (typeof value === 'number') assert.ok(Number.isFinite(value), `${path} is ${value}`)
  else if (Array.isArray(value)) value.forEach((v, i) => assertNoNaN(v, `${path}[${i}]`))
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertNoNaN(v, `${path}.${k}`)
}

for (const [name, query] of implementations(all)) {
  test(`${name}: every metric, unfiltered`, () => {
    const m = query(base)
    assertNoNaN(m)
    assert.deepEqual(m.buckets.map(b => [b.label, b.pageViews, b.visitors]), [
      ['2026-11-10', 3, 2], // e2 e3 (A), e4 (B)
      ['2026-11-11', 4, 1], // e7 e8 e9 e10 (C)
      ['2026-11-12', 1, 1] // e5 (B)
    ])
    assert.equal(m.buckets[0].start, base.from)
    assert.equal(m.pageViews, 8)
    assert.equal(m.uniqueVisitors, 3)
    assert.equal(m.uniqueSessions, 4) // a1 (cut), b1, b2 (cut), c1
    assert.equal(m.avgPageDepth, 7 / 4) // (2 + 1 + 1 + 3) / 4; e10 has no session
    assert.equal(m.bounceRate, 2 / 4) // b1, b2 (one event in range)
    assert.equal(m.returningVisitors, 1 / 3) // A was seen on 11-09
    assert.equal(m.returningHidden, false)
    assert.equal(m.mobileShare, 1 / 8) // e4
    assert.equal(m.avgPageload, 600) // 500, 1000, 300; 0, -5 and null do not count
    assert.equal(m.avgTimeOnPage, 110000) // e2 120 s, e7 60 s, e8 150 s
    assert.equal(m.avgSessionLength, 165000) // a1 120 s, c1 210 s; bounces have no length
    assert.deepEqual(m.pages, [
      { key: P('/blog'), pageViews: 3, avgTimeOnPage: 105000 }, // e5, e7 (60 s), e8 (150 s)
      { key: P('/pricing'), pageViews: 2, avgTimeOnPage: 120000 }, // e2 (120 s), e9 last
      { key: P('/'), pageViews: 1, avgTimeOnPage: null },
      { key: P('/about'), pageViews: 1, avgTimeOnPage: null },
      { key: P('/docs'), pageViews: 1, avgTimeOnPage: null }
    ])
    assert.deepEqual(m.referrers, [
      { key: 'Google', sessions: 1, avgPageDepth: 1 }, // b1; a1's first in-range event is internal
      { key: 'Hacker News', sessions: 1, avgPageDepth: 1 },
      { key: 'Mastodon', sessions: 1, avgPageDepth: 3 }
    ])
    assert.deepEqual(m.campaigns, [{ key: 'launch', sessions: 1, avgPageDepth: 1 }])
    assert.deepEqual(m.sources, [{ key: 'news', sessions: 1, avgPageDepth: 1 }])
    assert.deepEqual(m.countries, [{ key: 'DE', sessions: 2 }, { key: 'FR', sessions: 1 }])
    assert.deepEqual(m.landingPages, [
      { key: P('/blog'), sessions: 2 }, { key: P('/'), sessions: 1 }, { key: P('/pricing'), sessions: 1 }
    ])
    assert.deepEqual(m.exitPages, [{ key: P('/docs'), sessions: 1 }, { key: P('/pricing'), sessions: 1 }])
    assert.deepEqual(m.realtime, {
      visitors: 3, // D, F, G (exactly 15 minutes ago); E is older
      pages: [{ key: P('/pricing'), visitors: 2 }, { key: P('/about'), visitors: 1 }]
    })
    const week = 7 * 24 * 3600 * 1000
    assert.deepEqual(m.retention, [
      { start: now - 4 * week, end: now - 3 * week, visitors: 2, shares: [1, 1 / 2, 1 / 2, 1 / 2] }, // H, I
      { start: now - 3 * week, end: now - 2 * week, visitors: 1, shares: [1, 0, 1] }, // H
      { start: now - 2 * week, end: now - week, visitors: 4, shares: [1, 1 / 4] }, // A, B, C, I
      { start: now - week, end: now, visitors: 6, shares: [1] } // A, D, E, F, G, H
    ])
    assert.equal(m.unreadable, 2)
  })

  test(`${name}: returning visitors hidden when the range spans the retention`, () => {
    const m = query({ ...base, retentionMs: 10 * 24 * 3600 * 1000 }) // now - 10 days = 11-10T12:00 > from
    assert.equal(m.returningVisitors, null)
    assert.equal(m.returningHidden, true)
    assert.equal(query({ ...base, retentionMs: undefined }).returningVisitors, 1 / 3)
  })

  const filtered = (filters) => query({ ...base, filters })

  test(`${name}: page filter selects events, and the sessions containing them`, () => {
    const m = filtered({ page: P('/blog') })
    assert.equal(m.pageViews, 3) // e5, e7, e8
    assert.equal(m.uniqueVisitors, 2) // B, C
    assert.equal(m.uniqueSessions, 2) // b2, c1
    assert.equal(m.avgPageDepth, 2) // (1 + 3) / 2: whole in-range sessions
    assert.equal(m.bounceRate, 1 / 2)
    assert.equal(m.returningVisitors, 0)
    assert.equal(m.avgTimeOnPage, 105000)
    assert.equal(m.avgSessionLength, 210000)
    assert.deepEqual(m.pages.map(r => r.key), [P('/blog')])
    assert.deepEqual(m.referrers.map(r => r.key), ['Hacker News', 'Mastodon'])
    assert.deepEqual(m.landingPages, [{ key: P('/blog'), sessions: 2 }])
    assert.deepEqual(m.exitPages, [{ key: P('/pricing'), sessions: 1 }])
    assert.deepEqual(m.buckets.map(b => [b.pageViews, b.visitors]), [[0, 0], [2, 1], [1, 1]])
    // real time and retention ignore filters
    assert.equal(m.realtime.visitors, 3)
    assert.equal(m.retention[3].visitors, 6)
  })

  test(`${name}: session filters select whole sessions`, () => {
    const de = filtered({ country: 'de' })
    assert.deepEqual([de.pageViews, de.uniqueVisitors, de.uniqueSessions, de.bounceRate, de.avgPageDepth], [2, 1, 2, 1, 1])
    assert.deepEqual(de.countries, [{ key: 'DE', sessions: 2 }])
    const masto = filtered({ referrer: 'Mastodon' })
    assert.deepEqual([masto.pageViews, masto.uniqueVisitors, masto.uniqueSessions, masto.avgPageDepth], [3, 1, 1, 3])
    const launch = filtered({ campaign: 'launch' })
    assert.deepEqual([launch.pageViews, launch.uniqueSessions, launch.landingPages[0].key], [1, 1, P('/')])
    const news = filtered({ source: 'news' })
    assert.deepEqual([news.pageViews, news.uniqueSessions, news.mobileShare, news.avgPageload], [1, 1, 1, 1000])
    const landing = filtered({ landing: P('/pricing') })
    assert.deepEqual([landing.pageViews, landing.uniqueVisitors, landing.returningVisitors], [2, 1, 1]) // a1: e2, e3
    const exit = filtered({ exit: P('/pricing') })
    assert.deepEqual([exit.pageViews, exit.uniqueSessions, exit.avgSessionLength], [3, 1, 210000]) // c1
    const both = filtered({ country: 'DE', page: P('/blog') })
    assert.deepEqual([both.pageViews, both.uniqueSessions], [1, 1]) // e5 in b2
  })

  test(`${name}: filters matching nothing give zeros and nulls, never NaN`, () => {
    for (const filters of [{ exit: P('/blog') }, { page: P('/nowhere') }, { country: 'VN' }, { referrer: 'Bing' }]) {
      const m = filtered(filters)
      assertNoNaN(m)
      assert.equal(m.pageViews, 0)
      assert.equal(m.uniqueVisitors, 0)
      assert.equal(m.uniqueSessions, 0)
      for (const k of ['avgPageDepth', 'bounceRate', 'returningVisitors', 'mobileShare', 'avgPageload', 'avgTimeOnPage', 'avgSessionLength']) {
        assert.equal(m[k], null, k)
      }
      assert.deepEqual(m.pages, [])
      assert.deepEqual(m.buckets.map(b => b.pageViews), [0, 0, 0])
    }
  })

  test(`${name}: hours resolution`, () => {
    const m = query({ ...base, from: Date.parse('2026-11-11T07:30:00Z'), to: Date.parse('2026-11-11T09:30:00Z'), resolution: 'hours' })
    assert.deepEqual(m.buckets.map(b => [b.label, b.pageViews]), [['2026-11-11T07', 0], ['2026-11-11T08', 3], ['2026-11-11T09', 1]])
  })
}

test('empty data gives zeros and nulls, never NaN', () => {
  for (const [, query] of implementations([])) {
    const m = query(base)
    assertNoNaN(m)
    assert.equal(m.pageViews, 0)
    assert.equal(m.buckets.length, 3)
    assert.equal(m.avgPageDepth, null)
    assert.equal(m.bounceRate, null)
    assert.equal(m.returningVisitors, null)
    assert.deepEqual(m.realtime, { visitors: 0, pages: [] })
    assert.deepEqual(m.retention.map(r => r.shares[0]), [null, null, null, null])
    assert.equal(m.unreadable, 0)
  }
})

test('store reports what add did', () => {
  const store = new EventStore()
  assert.deepEqual(store.add(all), { added: records.length, duplicates: 1, unreadable: 2, ignored: 1 })
  assert.deepEqual(store.add(records.slice(0, 3)), { added: 0, duplicates: 3, unreadable: 0, ignored: 0 })
  assert.equal(store.size, records.length)
  assert.equal(store.unreadable, 2)
})

test('tombstones', () => {
  const store = new EventStore()
  store.add(all)
  const e9 = records[9] // c1's /pricing
  assert.deepEqual(store.remove([{ kind: 'event', target: e9.eventId }]), { removed: 1 })
  assert.deepEqual(store.remove([{ kind: 'event', target: e9.eventId }]), { removed: 0 })
  let m = store.query(base)
  assert.equal(m.pageViews, 7)
  assert.deepEqual(m.exitPages.map(r => r.key), [P('/blog'), P('/docs')])
  assert.deepEqual(m, computeMetrics(all.filter(r => r !== e9), base))

  // a secret tombstone names a key id: every event under that key goes
  assert.deepEqual(store.remove([{ kind: 'secret', target: 'key-B' }]), { removed: 3 })
  m = store.query(base)
  assert.equal(m.pageViews, 5)
  assert.equal(m.uniqueVisitors, 2)

  // 'before' removes every event whose id sorts below the target, and unreadable ones
  const cut = records.find(r => r.payload.timestamp === '2026-11-11T08:00:00.000Z').eventId
  store.remove([{ kind: 'before', target: cut }])
  m = store.query(base)
  assert.equal(m.pageViews, 3) // e7, e8, e10 (e9 and e5 were gone already)
  assert.equal(m.unreadable, 2) // the v2 payload sorts after the cut; a record without a valid id matches no tombstone
  const left = all.filter(r => r === noise[2] || (r !== e9 && r.keyId !== 'key-B' && !(r.eventId < cut)))
  assert.deepEqual(m, computeMetrics(left, base))

  // an event removed by mistake can be added again
  store.add([e9])
  assert.equal(store.query(base).pageViews, 4)
})

test('events of one session with the same timestamp are ordered by event id', () => {
  const a = ev('X', 's', '2026-11-10T12:00:00.000Z', '/a')
  const b = ev('X', 's', '2026-11-10T12:00:00.000Z', '/b')
  const c = ev('X', 's', '2026-11-10T12:01:00.000Z', '/c')
  for (const [, query] of implementations([c, b, a])) {
    const m = query(base)
    assert.deepEqual(m.landingPages, [{ key: P('/a'), sessions: 1 }])
    assert.deepEqual(m.exitPages, [{ key: P('/c'), sessions: 1 }])
    assert.deepEqual(m.pages.map(r => [r.key, r.avgTimeOnPage]), [[P('/a'), 0], [P('/b'), 60000], [P('/c'), null]])
  }
})

test('a session id used by two visitors makes two sessions', () => {
  const recs = [
    ev('X', 'same', '2026-11-10T12:00:00.000Z', '/a'),
    ev('Y', 'same', '2026-11-10T12:01:00.000Z', '/b'),
    ev('X', 'same', '2026-11-10T12:02:00.000Z', '/c'),
    ev('Y', null, '2026-11-10T12:03:00.000Z', '/d'),
    ev('Y', 'same', '2026-11-10T12:04:00.000Z', '/e')
  ]
  for (const [, query] of implementations(recs)) {
    const m = query(base)
    assert.equal(m.uniqueSessions, 2)
    assert.equal(m.avgPageDepth, 2)
    assert.deepEqual(m.landingPages.map(r => r.key), [P('/a'), P('/b')])
    assert.deepEqual(m.exitPages.map(r => r.key), [P('/c'), P('/e')])
    assert.equal(m.avgTimeOnPage, (120000 + 180000) / 2) // X: /a 2 min; Y: /b 3 min
  }
})

test('tombstones of the visitor feed apply to their account only', () => {
  // the visitor view keeps the events of several accounts in one store
  const a = [ev('me', 's1', '2026-11-10T12:00:00.000Z', '/a'), ev('me', 's1', '2026-11-11T12:00:00.000Z', '/b')]
    .map(r => ({ ...r, accountId: 'account-a', keyId: 'key-a' }))
  const b = [ev('me', 's2', '2026-11-10T13:00:00.000Z', '/c'), ev('me', 's2', '2026-11-11T13:00:00.000Z', '/d')]
    .map(r => ({ ...r, accountId: 'account-b', keyId: 'key-b' }))
  const store = new EventStore()
  store.add([...a, ...b])
  store.markUnreadable([{ eventId: ulid(Date.parse('2026-11-10T00:00:00Z'), () => 0), accountId: 'account-b' }])
  const cut = ulid(Date.parse('2026-11-11T00:00:00Z'), () => 0)
  assert.deepEqual(store.remove([{ accountId: 'account-a', kind: 'before', target: cut }]), { removed: 1 })
  assert.equal(store.unreadable, 1)
  assert.deepEqual(store.remove([{ accountId: 'account-c', kind: 'before', target: cut }]), { removed: 0 })
  assert.deepEqual(store.remove([{ accountId: 'account-a', kind: 'secret', target: 'key-b' }]), { removed: 0 })
  assert.deepEqual(store.query(base), { ...computeMetrics([a[1], ...b], base), unreadable: 1 })
  assert.deepEqual(store.remove([{ accountId: 'account-b', kind: 'before', target: cut }]), { removed: 1 })
  assert.equal(store.unreadable, 0)
  assert.deepEqual(store.query(base).pages.map(r => r.key), [P('/b'), P('/d')])
  // operator feeds carry no account id: their tombstones apply to everything in the store
  assert.deepEqual(store.remove([{ kind: 'secret', target: 'key-b' }]), { removed: 1 })
})
