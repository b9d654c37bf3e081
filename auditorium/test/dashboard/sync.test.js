// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { runFeed } from '../../src/dashboard/sync.js'
import { AccountLoader } from '../../src/dashboard/loader.js'
import { dropCaches } from '../../src/dashboard/cache.js'
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

async function world ({ visitors = 5, perVisitor = 3 } = {}) {
  const acc = await createAccount({ retentionDays: 30 })
  const vs = []
  for (let i = 0; i < visitors; i++) {
    const v = await addVisitor(acc)
    vs.push(v)
    for (let j = 0; j < perVisitor; j++) await addEvent(acc, v, NOW - DAY + j * 60000, { href: `https://www.example.com/p${j}` })
  }
  return { acc, vs }
}

function loaderFor (acc, api, factory, metrics) {
  return new AccountLoader({ api, session: fakeSession([acc]), metrics, loginId: 'login-1', accountId: acc.accountId, factory, limit: 4, now: () => NOW })
}

test('AccountLoader: cold load, warm load from snapshots downloads only what is new, tombstones, unreadable', async () => {
  const factory = new IDBFactory()
  const { acc, vs } = await world()
  const api = createFakeApi([acc])

  const m1 = inProcessMetrics(factory)
  const cold = loaderFor(acc, api, factory, m1)
  const s1 = await cold.load()
  assert.equal(s1.stats.unwrapped, 5)
  assert.equal(s1.stats.downloaded, 15)
  let m = await cold.query(week)
  assert.equal(m.pageViews, 15)
  assert.equal(m.uniqueVisitors, 5)
  assert.equal(m.unreadable, 0)
  await cold.saveSnapshot()
  await cold.written()

  // new data arrives: one event, one tampered event, a purge of one visitor
  await addEvent(acc, vs[0], NOW - 1000, { href: 'https://www.example.com/new' })
  await addEvent(acc, vs[1], NOW - 500, {}, { tamper: true })
  addTombstone(acc, 'secret', vs[4].keyId)

  api.requests.length = 0
  const m2 = inProcessMetrics(factory)
  const warm = loaderFor(acc, api, factory, m2)
  const s2 = await warm.load()
  assert.equal(s2.stats.restored, true)
  await warm.written()
  assert.equal(s2.stats.unwrapped, 0, 'no ECDH again in this browser')
  assert.equal(s2.stats.downloaded, 2, 'only the new events')
  m = await warm.query(week)
  assert.equal(m.pageViews, 16 - 3)
  assert.equal(m.uniqueVisitors, 4)
  assert.equal(m.unreadable, 1, 'the tampered event is counted, never shown')
  assert.ok(!m.pages.some(p => p.key.includes('undefined')))

  // without the snapshots (other number of workers): the keyring saves every ECDH, the
  // events are downloaded again
  await warm.saveSnapshot()
  await warm.written()
  api.requests.length = 0
  const m3 = inProcessMetrics(factory, 3)
  const semi = loaderFor(acc, api, factory, m3)
  const s3 = await semi.load()
  assert.equal(s3.stats.restored, false)
  assert.equal(s3.stats.downloaded, 14)
  assert.equal(s3.stats.unwrapped, 0)
  assert.ok(api.requests.some(r => r.includes('/secrets?since=')), 'the secrets feed resumes from the keyring cursor')
  m = await semi.query(week)
  assert.equal(m.pageViews, 13)
  assert.equal(m.uniqueVisitors, 4)
  assert.equal(m.unreadable, 1)

  // without any cache: everything again
  await dropCaches(factory, 'login-1', acc.accountId)
  api.requests.length = 0
  const m4 = inProcessMetrics(factory)
  const again = loaderFor(acc, api, factory, m4)
  const s4 = await again.load()
  assert.equal(s4.stats.restored, false)
  assert.equal(s4.stats.downloaded, 14)
  assert.equal(s4.stats.unwrapped, 4)
  m = await again.query(week)
  assert.equal(m.pageViews, 13)
  assert.equal(m.unreadable, 1)
})

test('AccountLoader: an unreadable secret is remembered in the keyring; a lost keyring chunk means all secrets again', async () => {
  const factory = new IDBFactory()
  const { acc } = await world({ visitors: 3, perVisitor: 1 })
  const bad = await addVisitor(acc, { broken: true })
  await addEvent(acc, bad, NOW - 3600000)
  const api = createFakeApi([acc])
  const first = loaderFor(acc, api, factory, inProcessMetrics(factory))
  const s1 = await first.load()
  assert.equal(s1.unreadableSecrets, 1)
  assert.equal(s1.stats.unwrapped, 3)
  await first.written()

  const second = loaderFor(acc, api, factory, inProcessMetrics(factory))
  const s2 = await second.load()
  assert.equal(s2.unreadableSecrets, 1, 'still reported')
  assert.equal(s2.stats.unwrapped, 0)
  assert.equal((await second.query(week)).unreadable, 1)

  // a keyring chunk sealed under another key does not open: its cursor is not trusted
  const { transact, OPERATOR_SNAPSHOTS } = await import('../../../script/src/storage.js')
  await transact(factory, OPERATOR_SNAPSHOTS, 'readwrite', s => {
    s[OPERATOR_SNAPSHOTS].put({ loginId: 'login-1', accountId: acc.accountId, shard: 'keys|zzz', parts: [{ nonce: new Uint8Array(12), data: new Uint8Array(48).buffer }] })
  })
  api.requests.length = 0
  const third = loaderFor(acc, api, factory, inProcessMetrics(factory))
  const s3 = await third.load()
  assert.ok(api.requests.some(r => /\/secrets(\?limit=|$)/.test(r)), 'the secrets feed from the start')
  assert.equal(s3.stats.unwrapped, 0, 'the keys that did open need no ECDH')
  assert.equal((await third.query(week)).pageViews, 3)
})

test('AccountLoader: reset clears the cache; an unreadable secret is counted; retention drops old events', async () => {
  const factory = new IDBFactory()
  const { acc } = await world({ visitors: 2, perVisitor: 2 })
  const bad = await addVisitor(acc, { broken: true })
  await addEvent(acc, bad, NOW - 3600000)
  const old = await addVisitor(acc)
  await addEvent(acc, old, NOW - 40 * DAY) // beyond the 30 days retention
  const api = createFakeApi([acc])
  const loader = loaderFor(acc, api, factory, inProcessMetrics(factory))
  const s = await loader.load()
  assert.equal(s.unreadableSecrets, 1)
  let m = await loader.query({ ...week, from: NOW - 60 * DAY })
  assert.equal(m.pageViews, 4)
  assert.equal(m.unreadable, 1, 'the event of the unreadable secret')

  // the server says the cursor is too old: everything is cleared and read again
  loader.cursor = 'expired'
  await loader.refresh()
  m = await loader.query(week)
  assert.equal(m.pageViews, 4)
  assert.equal(m.uniqueVisitors, 2)
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
