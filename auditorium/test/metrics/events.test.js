// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The figures beyond page views (README.md "Events, goals, funnels, devices") on a small data
// set whose expected values were computed by hand (see the comments), for the columnar
// EventStore and the reference implementation.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventStore, computeMetrics } from '../../src/metrics/index.js'
import { ulid } from './gen.js'

let counter = 0
const P = (path) => 'https://example.com' + path
const DEVICES = {
  chrome: { browser: 'Chrome', os: 'Windows', device: 'desktop', screen: 'xlarge' },
  safari: { browser: 'Safari', os: 'iOS', device: 'mobile', screen: 'small' },
  firefox: { browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'large' },
  mac: { browser: 'Chrome', os: 'macOS', device: 'desktop', screen: 'large' },
  none: {}
}

// ev: a record of visitor `secretId` in session `sessionId` at `iso` on page `path`; fields
// add the type and its fields (a page view by default)
function ev (secretId, sessionId, iso, path, device, fields = {}) {
  counter++
  return {
    eventId: ulid(Date.parse(iso), () => 0).slice(0, 20) + String(counter).padStart(6, '0'),
    secretId,
    keyId: 'key-' + secretId,
    payload: {
      v: 1, type: 'PAGEVIEW', href: P(path), referrer: '', pageload: null, timestamp: iso, sessionId, geo: null, isMobile: false,
      ...DEVICES[device],
      ...fields
    }
  }
}
const event = (name, props) => (props ? { type: 'EVENT', name, props } : { type: 'EVENT', name })
const link = (type, target) => ({ type, target })

// Range: UTC days 2026-11-10 to 2026-11-12.
const records = [
  ev('A', 'a1', '2026-11-10T10:00:00.000Z', '/', 'chrome'),
  ev('A', 'a1', '2026-11-10T10:01:00.000Z', '/', 'chrome', event('Signup', { plan: 'pro' })),
  ev('A', 'a1', '2026-11-10T10:02:00.000Z', '/pricing', 'chrome'),
  ev('A', 'a1', '2026-11-10T10:03:00.000Z', '/pricing', 'chrome', link('OUTBOUND', 'https://github.com/offen')),
  ev('A', 'a1', '2026-11-10T10:04:00.000Z', '/pricing', 'chrome', event('Signup', { plan: 'free', seats: 3 })),
  ev('A', 'a2', '2026-11-11T09:00:00.000Z', '/blog/one', 'chrome'),
  ev('A', 'a2', '2026-11-11T09:01:00.000Z', '/blog/one', 'chrome', link('DOWNLOAD', 'https://example.com/files/guide.pdf')),
  ev('B', 'b1', '2026-11-10T12:00:00.000Z', '/pricing', 'safari'),
  ev('B', 'b1', '2026-11-10T12:01:00.000Z', '/missing', 'safari', { notFound: true }),
  ev('B', 'b1', '2026-11-10T12:02:00.000Z', '/missing', 'safari', event('Play', { video: 'intro' })),
  ev('C', 'c1', '2026-11-12T08:00:00.000Z', '/', 'firefox'),
  ev('C', 'c1', '2026-11-12T08:01:00.000Z', '/pricing', 'firefox'),
  ev('C', 'c1', '2026-11-12T08:02:00.000Z', '/docs', 'firefox'),
  ev('C', 'c1', '2026-11-12T08:03:00.000Z', '/docs', 'firefox', event('Signup')),
  // c2 crosses the range end: its Signup lies after it
  ev('C', 'c2', '2026-11-12T23:59:00.000Z', '/', 'firefox'),
  ev('C', 'c2', '2026-11-13T00:01:00.000Z', '/', 'firefox', event('Signup')),
  // D: old data without device fields
  ev('D', 'd1', '2026-11-11T10:00:00.000Z', '/missing', 'none', { notFound: true }),
  ev('D', 'd1', '2026-11-11T10:00:30.000Z', '/missing', 'none', event('Signup', { plan: 'pro' })),
  // E: an event without a session is no action of any session, so it is not counted
  ev('E', 'e1', '2026-11-11T10:00:00.000Z', '/', 'mac'),
  ev('E', null, '2026-11-11T10:01:00.000Z', '/', 'mac', event('Signup')),
  // F: the session's page view lies before the range, so the session is not in it
  ev('F', 'f1', '2026-11-09T23:59:00.000Z', '/', 'chrome'),
  ev('F', 'f1', '2026-11-10T00:01:00.000Z', '/', 'chrome', event('Play')),
  // readable but not counted: an event without a name, a link without a target
  ev('B', 'b1', '2026-11-10T12:03:00.000Z', '/missing', 'safari', { type: 'EVENT' }),
  ev('B', 'b1', '2026-11-10T12:03:00.000Z', '/missing', 'safari', { type: 'OUTBOUND', target: 'mailto:x@example.com' })
]

const goals = [
  { name: 'Pricing', page: '/pricing' },
  { name: 'Signed up', event: 'Signup' },
  { name: 'Blog', page: '/blog/*' }
]
const funnels = [
  { name: 'Buy', steps: [{ page: '/' }, { page: '/pricing' }, { event: 'Signup' }] },
  { name: 'Signup first', steps: [{ event: 'Signup' }, { page: '/pricing' }] }
]
const base = {
  from: Date.parse('2026-11-10T00:00:00.000Z'),
  to: Date.parse('2026-11-13T00:00:00.000Z'),
  resolution: 'days',
  timeZone: 'UTC',
  now: Date.parse('2026-11-20T12:00:00.000Z'),
  goals,
  funnels
}

const store = new EventStore({ capacity: 4 })
store.add(records)
const implementations = [['store', (q) => store.query(q)], ['reference', (q) => computeMetrics(records, q)]]

const step = (s, sessions, dropOff, conversion, stepConversion) => ({ ...s, sessions, dropOff, conversion, stepConversion })

for (const [name, query] of implementations) {
  test(`${name}: events, links, not-found pages and devices, unfiltered`, () => {
    const m = query(base)
    // page views: a1 2, a2 1, b1 2, c1 3, c2 1, d1 1, e1 1; actions are no page views
    assert.equal(m.pageViews, 11)
    assert.equal(m.uniqueVisitors, 5) // A B C D E; F has no page view in range
    assert.equal(m.uniqueSessions, 7)
    assert.equal(m.avgPageDepth, 11 / 7)
    assert.equal(m.bounceRate, 4 / 7) // a2 c2 d1 e1: actions do not end a bounce
    assert.equal(m.avgTimeOnPage, (2 * 60 + 60 + 60 + 60) * 1000 / 4) // a1 / -> /pricing, b1, c1 twice
    assert.deepEqual(m.events, [
      // a1 twice, c1, d1; c2's lies after the range, E's has no session
      {
        key: 'Signup',
        events: 4,
        visitors: 3,
        conversionRate: 3 / 5,
        props: [
          { key: 'plan', value: 'pro', events: 2, visitors: 2 }, // A, D
          { key: 'plan', value: 'free', events: 1, visitors: 1 },
          { key: 'seats', value: 3, events: 1, visitors: 1 }
        ]
      },
      // F's Play belongs to a session outside the range
      { key: 'Play', events: 1, visitors: 1, conversionRate: 1 / 5, props: [{ key: 'video', value: 'intro', events: 1, visitors: 1 }] }
    ])
    assert.deepEqual(m.outbound, [{ key: 'https://github.com/offen', events: 1, visitors: 1, conversionRate: 1 / 5 }])
    assert.deepEqual(m.downloads, [{ key: 'https://example.com/files/guide.pdf', events: 1, visitors: 1, conversionRate: 1 / 5 }])
    assert.deepEqual(m.notFound, [{ key: P('/missing'), pageViews: 2 }]) // b1, d1
    // sessions by their first page view's device; d1 has none
    assert.deepEqual(m.browsers, [{ key: 'Chrome', sessions: 3 }, { key: 'Firefox', sessions: 2 }, { key: 'Safari', sessions: 1 }])
    assert.deepEqual(m.oses, [{ key: 'Linux', sessions: 2 }, { key: 'Windows', sessions: 2 }, { key: 'iOS', sessions: 1 }, { key: 'macOS', sessions: 1 }])
    assert.deepEqual(m.devices, [{ key: 'desktop', sessions: 5 }, { key: 'mobile', sessions: 1 }])
    assert.deepEqual(m.screens, [{ key: 'large', sessions: 3 }, { key: 'xlarge', sessions: 2 }, { key: 'small', sessions: 1 }])
  })

  test(`${name}: goals and funnels`, () => {
    const m = query(base)
    assert.deepEqual(m.goals, [
      { key: 'Pricing', goal: goals[0], visitors: 3, conversions: 3, conversionRate: 3 / 5 }, // a1 b1 c1
      { key: 'Signed up', goal: goals[1], visitors: 3, conversions: 4, conversionRate: 3 / 5 }, // a1 (2) c1 d1
      { key: 'Blog', goal: goals[2], visitors: 1, conversions: 1, conversionRate: 1 / 5 } // a2
    ])
    assert.deepEqual(m.funnels, [
      {
        // a1: / 10:00, /pricing 10:02, Signup 10:04 (the one at 10:01 is before /pricing);
        // c1: / /pricing Signup; c2: / (its Signup is after the range); e1: / only
        key: 'Buy',
        steps: [step(funnels[0].steps[0], 4, 0, 1, 1), step(funnels[0].steps[1], 2, 2, 1 / 2, 1 / 2), step(funnels[0].steps[2], 2, 0, 1 / 2, 1)]
      },
      {
        // a1: Signup 10:01 then /pricing; c1 and d1 have no /pricing after their Signup
        key: 'Signup first',
        steps: [step(funnels[1].steps[0], 3, 0, 1, 1), step(funnels[1].steps[1], 1, 2, 1 / 3, 1 / 3)]
      }
    ])
    // without definitions there is nothing to show
    const bare = query({ ...base, goals: undefined, funnels: undefined })
    assert.deepEqual([bare.goals, bare.funnels], [[], []])
  })

  test(`${name}: the new panels filter the rest`, () => {
    const signup = query({ ...base, filters: { event: 'Signup' } }) // a1 c1 d1
    assert.deepEqual([signup.pageViews, signup.uniqueVisitors, signup.uniqueSessions], [6, 3, 3])
    assert.deepEqual(signup.events.map(e => [e.key, e.events, e.visitors, e.conversionRate]), [['Signup', 4, 3, 1]])
    assert.deepEqual(signup.outbound.map(e => e.key), ['https://github.com/offen'])
    assert.deepEqual(signup.downloads, [])
    assert.deepEqual(signup.goals.map(g => [g.key, g.visitors, g.conversions, g.conversionRate]), [['Pricing', 2, 2, 2 / 3], ['Signed up', 3, 4, 1], ['Blog', 0, 0, 0]])

    const pricing = query({ ...base, filters: { goal: 'Pricing' } }) // a1 b1 c1
    assert.deepEqual([pricing.pageViews, pricing.uniqueVisitors], [7, 3])
    assert.deepEqual(pricing.events.map(e => [e.key, e.events, e.visitors, e.conversionRate]), [['Signup', 3, 2, 2 / 3], ['Play', 1, 1, 1 / 3]])
    assert.deepEqual(query({ ...base, filters: { goal: 'Unknown' } }).pageViews, 0)

    const safari = query({ ...base, filters: { browser: 'Safari' } }) // b1
    assert.deepEqual([safari.pageViews, safari.uniqueVisitors, safari.events.map(e => e.key), safari.notFound], [2, 1, ['Play'], [{ key: P('/missing'), pageViews: 1 }]])
    const desktop = query({ ...base, filters: { device: 'desktop' } }) // a1 a2 c1 c2 e1
    assert.deepEqual([desktop.pageViews, desktop.uniqueVisitors], [8, 3])
    assert.deepEqual(query({ ...base, filters: { os: 'Linux', screen: 'large' } }).pageViews, 4) // c1 c2
    assert.deepEqual(query({ ...base, filters: { outbound: 'https://github.com/offen' } }).pageViews, 2) // a1
    assert.deepEqual(query({ ...base, filters: { download: 'https://example.com/files/guide.pdf' } }).pageViews, 1) // a2
    assert.deepEqual(query({ ...base, filters: { event: 'Nothing' } }).pageViews, 0)
  })

  test(`${name}: the page filter selects the actions on that page; goals and funnels stay session figures`, () => {
    const m = query({ ...base, filters: { page: P('/pricing') } }) // page views on /pricing: a1 b1 c1
    assert.equal(m.pageViews, 3)
    // a1's Signup at 10:04 and its outbound click happened on /pricing; the others elsewhere
    assert.deepEqual(m.events, [{
      key: 'Signup',
      events: 1,
      visitors: 1,
      conversionRate: 1 / 3,
      props: [{ key: 'plan', value: 'free', events: 1, visitors: 1 }, { key: 'seats', value: 3, events: 1, visitors: 1 }]
    }])
    assert.deepEqual(m.outbound.map(e => [e.key, e.events]), [['https://github.com/offen', 1]])
    assert.deepEqual(m.goals.map(g => [g.key, g.visitors, g.conversions]), [['Pricing', 3, 3], ['Signed up', 2, 3], ['Blog', 0, 0]])
    assert.deepEqual(m.funnels[0].steps.map(s => s.sessions), [2, 2, 2]) // a1 c1; b1 did not start on /
  })
}

test('hash routes are pages of their own', () => {
  const hash = (path, iso) => ev('H', 'h1', iso, path, 'chrome')
  const recs = [hash('/app#/inbox', '2026-11-11T10:00:00.000Z'), hash('/app#/settings', '2026-11-11T10:01:00.000Z'), hash('/app', '2026-11-11T10:02:00.000Z')]
  const q = { ...base, goals: [{ name: 'Settings', page: '/app#/settings*' }] }
  for (const m of [computeMetrics(recs, q), (() => { const s = new EventStore(); s.add(recs); return s.query(q) })()]) {
    assert.deepEqual(m.pages.map(p => p.key), [P('/app'), P('/app#/inbox'), P('/app#/settings')])
    assert.deepEqual(m.goals.map(g => g.conversions), [1])
  }
})
