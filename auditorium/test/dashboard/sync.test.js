// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { runFeed } from '../../src/dashboard/sync.js'
import { AccountLoader } from '../../src/dashboard/loader.js'
import { addEvent, addTombstone, addVisitor, createAccount, createFakeApi, fakeSession, inProcessMetrics } from './world.js'

globalThis.IDBKeyRange = IDBKeyRange
const DAY = 24 * 3600 * 1000
const NOW = Date.parse('2026-11-20T12:00:00Z')
const week = { from: NOW - 7 * DAY, to: NOW + 1, resolution: 'days', now: NOW, timeZone: 'UTC' }

test('runFeed: events before tombstones, cursor persisted only after the page is stored, reset clears', async () => {
  const pages = {
    start: { events: [{ eventId: 'a' }], tombstones: [{ kind: 'event', target: 'a' }], next: 'c1', more: true },
    c1: { events: [{ eventId: 'b' }], tombstones: [], next: 'c2', more: false }
  }
  const log = []
  let cursor
  const totals = await runFeed({
    fetchPage: async (since) => { log.push('fetch ' + (since || 'start')); return pages[since || 'start'] },
    loadCursor: async () => cursor,
    saveCursor: async (next) => { log.push('save ' + next); cursor = next },
    clear: async () => log.push('clear'),
    store: async (page) => {
      for (const e of page.events) log.push('event ' + e.eventId)
      for (const t of page.tombstones) log.push('tombstone ' + t.target)
    }
  })
  assert.equal(cursor, 'c2')
  assert.equal(totals.pages, 2)
  // The next page may be requested early, but each cursor is saved after its page is stored.
  assert.ok(log.indexOf('save c1') > log.indexOf('tombstone a'))
  assert.ok(log.indexOf('event a') < log.indexOf('tombstone a'))
  assert.ok(log.indexOf('save c2') > log.indexOf('event b'))
  assert.ok(!log.includes('clear'))

  // a failing store leaves the cursor where it was, so the page is read again
  cursor = undefined
  await assert.rejects(runFeed({
    fetchPage: async (since) => pages[since || 'start'],
    loadCursor: async () => cursor,
    saveCursor: async (next) => { cursor = next },
    clear: async () => {},
    store: async (page) => { if (page.next === 'c2') throw new Error('disk full') }
  }))
  assert.equal(cursor, 'c1')

  const cleared = []
  await runFeed({
    fetchPage: async () => ({ events: [{ eventId: 'z' }], tombstones: [], next: 'n', more: false, reset: true }),
    loadCursor: async () => 'old',
    saveCursor: async () => cleared.push('save'),
    clear: async () => cleared.push('clear'),
    store: async () => cleared.push('store')
  })
  assert.deepEqual(cleared, ['clear', 'store', 'save'])
})

async function world ({ visitors = 5, perVisitor = 3, days = 1 } = {}) {
  const acc = await createAccount({ retentionDays: 30 })
  const vs = []
  for (let i = 0; i < visitors; i++) {
    const v = await addVisitor(acc)
    vs.push(v)
    for (let d = 0; d < days; d++) {
      for (let j = 0; j < perVisitor; j++) await addEvent(acc, v, NOW - (d + 1) * DAY + j * 60000, { href: `https://www.example.com/p${j}` })
    }
  }
  return { acc, vs }
}

function loaderFor (acc, api, factory, metrics, extra = {}) {
  return new AccountLoader({ api, session: fakeSession([acc]), metrics, loginId: 'login-1', accountId: acc.accountId, factory, limit: 4, now: () => NOW, ...extra })
}

const fakeApi = (acc) => createFakeApi([acc], { now: () => NOW })
const fetchedSegments = (api) => api.requests.filter(r => /\/segments\/\d{4}-\d{2}-\d{2}(\?|$)/.test(r) && !r.startsWith('PUT'))
const rawReads = (api) => api.requests.filter(r => /\/segments\/[\d-]+\/events/.test(r))

test('AccountLoader: the first load seals the closed periods, a fresh browser reads the segments, a warm one its cache', async () => {
  const { acc, vs } = await world({ days: 3 })
  await addEvent(acc, vs[0], NOW - 1000, { href: 'https://www.example.com/today' }) // open period: the tail
  const api = fakeApi(acc)
  const factory = new IDBFactory()
  const progress = []
  const firsts = []
  const cold = loaderFor(acc, api, factory, inProcessMetrics(factory), {
    range: { from: NOW - DAY, to: NOW },
    onProgress: p => progress.push(p),
    onFirst: s => firsts.push(s.complete)
  })
  const s1 = await cold.load()
  await cold.written()
  assert.equal(s1.complete, true)
  assert.deepEqual(firsts, [false], 'first figures before the history')
  assert.equal(s1.stats.sealed, 3)
  assert.equal(s1.stats.uploaded, 3)
  assert.equal(s1.stats.segments, 0)
  assert.equal(s1.stats.unwrapped, 5)
  assert.ok(api.requests.some(r => /\/events\?start=/.test(r)), 'the open tail from the feed with start')
  assert.ok(!api.requests.some(r => /\/secrets\?(since|limit)/.test(r) || /\/secrets$/.test(r)), 'no secrets feed')
  const periods = progress.filter(p => p.phase === 'periods')
  assert.deepEqual(periods.at(-1), { phase: 'periods', done: 3, total: 3 })
  assert.ok(progress.filter(p => p.phase === 'events').every(p => p.done <= p.total))
  const want = await cold.query(week)
  assert.equal(want.pageViews, 5 * 3 * 3 + 1)
  assert.equal(want.uniqueVisitors, 5)

  // another browser: every closed period from its segment, no raw events, no ECDH but the tail's
  const fresh = new IDBFactory()
  api.requests.length = 0
  const second = loaderFor(acc, api, fresh, inProcessMetrics(fresh, 3))
  const s2 = await second.load()
  await second.written()
  assert.equal(s2.stats.segments, 3)
  assert.equal(s2.stats.sealed, 0)
  assert.equal(rawReads(api).length, 0)
  assert.equal(s2.stats.unwrapped, 1, 'only the secret of the tail event')
  assert.deepEqual(await second.query(week), want)

  // the same browser again: the segments come from its cache
  api.requests.length = 0
  const warm = loaderFor(acc, api, fresh, inProcessMetrics(fresh))
  const s3 = await warm.load()
  assert.equal(s3.stats.segments, 3)
  assert.equal(fetchedSegments(api).length, 0, 'no segment downloaded again')
  assert.equal(s3.stats.unwrapped, 0, 'the keyring has the tail secret')
  assert.deepEqual(await warm.query(week), want)
})

test('AccountLoader: the history before the retention weeks is read in outline first; the range is complete before it is read in full', async () => {
  const acc = await createAccount({ retentionDays: 60 })
  const vs = []
  for (let i = 0; i < 5; i++) {
    const v = await addVisitor(acc)
    vs.push(v)
    await addEvent(acc, v, NOW - 2 * DAY + i * 60000, { href: 'https://www.example.com/now' })
    // two of them were here 40 days ago: returning visitors only the old history shows
    if (i < 2) await addEvent(acc, v, NOW - 40 * DAY, { href: 'https://www.example.com/then' })
  }
  const api = fakeApi(acc)
  const factory = new IDBFactory()
  const range = { from: NOW - 7 * DAY, to: NOW + 1 }
  const sealer = loaderFor(acc, api, factory, inProcessMetrics(factory), { range })
  await sealer.load()
  await sealer.written()
  const want = await sealer.query(week)
  assert.equal(want.returningVisitors, 0.4)

  const fresh = new IDBFactory()
  let atRange = null
  const second = loaderFor(acc, api, fresh, inProcessMetrics(fresh, 2), {
    range,
    onFirst: () => assert.deepEqual(second.partial(week), ['returningVisitors', 'retention']),
    onRange: (s) => {
      assert.equal(s.complete, false)
      assert.equal(s.rangeDone, true)
      // the full reads of the outlined periods come after this query in every worker
      atRange = second.query(week).then(m => ({ m, partial: second.partial(week), outlined: second.stats.segments }))
    }
  })
  const done = await second.load()
  const r = await atRange
  assert.deepEqual(r.partial, [])
  assert.deepEqual(r.m, want, 'the range complete while the old history is in outline')
  assert.ok(r.outlined < done.stats.segments, 'the outlined periods were read in full after that')
  assert.equal(done.stats.sealed, 0)
  assert.deepEqual(await second.query(week), want)
  assert.deepEqual(await second.query({ ...week, from: NOW - 59 * DAY }), await sealer.query({ ...week, from: NOW - 59 * DAY }))
})

test('AccountLoader: a purge makes segments stale; refresh and a fresh browser rebuild them without the visitor', async () => {
  const { acc, vs } = await world({ days: 2 })
  const api = fakeApi(acc)
  const factory = new IDBFactory()
  const first = loaderFor(acc, api, factory, inProcessMetrics(factory))
  await first.load()
  await first.written()
  assert.equal((await first.query(week)).uniqueVisitors, 5)

  addTombstone(acc, 'secret', vs[2].keyId)
  assert.equal((await api.get(`/api/accounts/${acc.accountId}/segments`)).segments.length, 0, 'both periods stale')
  api.requests.length = 0
  await first.refresh()
  await first.written()
  let m = await first.query(week)
  assert.equal(m.uniqueVisitors, 4)
  assert.equal(m.pageViews, 4 * 2 * 3)
  assert.equal(rawReads(api).length > 0, true, 'stale periods read raw again')
  assert.equal((await api.get(`/api/accounts/${acc.accountId}/segments`)).segments.length, 2, 'and sealed again')

  const fresh = new IDBFactory()
  addTombstone(acc, 'event', acc.log.find(e => e.kind === 'event' && e.item.secretId === vs[0].secretId).item.eventId)
  const other = loaderFor(acc, api, fresh, inProcessMetrics(fresh))
  const s = await other.load()
  m = await other.query(week)
  assert.equal(m.uniqueVisitors, 4)
  assert.equal(m.pageViews, 4 * 2 * 3 - 1)
  assert.equal(s.stats.segments, 1)
  assert.equal(s.stats.sealed, 1)
})

test('AccountLoader: unreadable secrets and events are counted and remembered; retention drops old events', async () => {
  const factory = new IDBFactory()
  const { acc, vs } = await world({ visitors: 3, perVisitor: 1 })
  const bad = await addVisitor(acc, { broken: true })
  await addEvent(acc, bad, NOW - 3600000)
  await addEvent(acc, vs[1], NOW - 2 * DAY, {}, { tamper: true })
  const old = await addVisitor(acc)
  await addEvent(acc, old, NOW - 40 * DAY) // beyond the 30 days retention
  const api = fakeApi(acc)
  const first = loaderFor(acc, api, factory, inProcessMetrics(factory))
  const s1 = await first.load()
  await first.written()
  assert.equal(s1.unreadableSecrets, 1)
  let m = await first.query({ ...week, from: NOW - 60 * DAY })
  assert.equal(m.pageViews, 3)
  assert.equal(m.unreadable, 2, 'the event of the unreadable secret and the tampered one')

  const second = loaderFor(acc, api, factory, inProcessMetrics(factory))
  const s2 = await second.load()
  assert.equal(s2.unreadableSecrets, 1, 'still reported')
  assert.equal(s2.stats.unwrapped, 0)
  m = await second.query({ ...week, from: NOW - 60 * DAY })
  assert.equal(m.pageViews, 3)
  assert.equal(m.unreadable, 2, 'unreadable events are part of the segments')
})

test('AccountLoader: a reset of the tail feed reads it again; tombstones of the feed apply at once', async () => {
  const factory = new IDBFactory()
  const { acc, vs } = await world({ visitors: 2, perVisitor: 2 })
  const e = await addEvent(acc, vs[0], NOW - 30000)
  const api = fakeApi(acc)
  const loader = loaderFor(acc, api, factory, inProcessMetrics(factory))
  await loader.load()
  let m = await loader.query(week)
  assert.equal(m.pageViews, 5)
  loader.cursor = 'expired'
  await loader.refresh()
  m = await loader.query(week)
  assert.equal(m.pageViews, 5)
  assert.equal(m.uniqueVisitors, 2)
  addTombstone(acc, 'event', e.eventId)
  await loader.refresh()
  assert.equal((await loader.query(week)).pageViews, 4)
})

test('prefetchingFetcher: the next page is asked for before a page is parsed, one page ahead at most', async () => {
  const { prefetchingFetcher } = await import('../../src/dashboard/sync.js')
  const pages = { start: { events: [1], next: 'c1', more: true, reset: false }, c1: { events: [2], next: 'c2', more: true, reset: false }, c2: { events: [3], next: 'c3', more: false, reset: false } }
  const requested = []
  const release = new Map()
  const getText = (path) => {
    requested.push(path)
    return new Promise(resolve => release.set(path, () => resolve(JSON.stringify(pages[path]) + '\n')))
  }
  const fetchPage = prefetchingFetcher(getText, since => since || 'start')
  const p0 = fetchPage(undefined)
  assert.deepEqual(requested, ['start'])
  release.get('start')()
  assert.deepEqual((await p0).events, [1])
  assert.deepEqual(requested, ['start', 'c1'], 'c1 asked for while start was parsed')
  // c1 arrives before runFeed asks for it: c2 is not fetched yet (one page ahead at most)
  release.get('c1')()
  await new Promise(resolve => setTimeout(resolve, 10))
  assert.deepEqual(requested, ['start', 'c1'])
  const p1 = fetchPage('c1')
  assert.deepEqual(requested, ['start', 'c1', 'c2'])
  assert.deepEqual((await p1).events, [2])
  release.get('c2')()
  const p2 = fetchPage('c2')
  assert.deepEqual((await p2).events, [3])
  await new Promise(resolve => setTimeout(resolve, 10))
  assert.deepEqual(requested, ['start', 'c1', 'c2'], 'nothing after the last page')
  // a cursor other than the guessed one is fetched as asked
  const p3 = fetchPage('other')
  assert.deepEqual(requested.at(-1), 'other')
  pages.other = { events: [], next: 'x', more: false, reset: true }
  release.get('other')()
  assert.equal((await p3).reset, true)
})
