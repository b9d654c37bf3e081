// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Property tests over random data: the columnar store equals the reference implementation
// for every query shape, merging the partials of any sharding equals one store, and
// incremental adds and tombstones give what a fresh computation over the remaining records
// gives.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  EventStore, computeMetrics, computePartial, finalize, mergePartials, shardOf, createShard, MetricsClient
} from '../../src/metrics/index.js'
import { generate, rng } from './gen.js'

const DAY = 24 * 3600 * 1000
const now = Date.parse('2026-11-22T10:17:00.000Z')
const start = now - 60 * DAY
const end = now + 3600 * 1000
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe']
const RESOLUTION = { hours: 3 * DAY, days: 40 * DAY, weeks: 60 * DAY, months: 70 * DAY }

const GOALS = [{ name: 'Pricing', page: '/pricing' }, { name: 'Blog', page: '/blog/*' }, { name: 'Signed up', event: 'Signup' },
  { name: 'Never', event: 'Nothing' }]
const FUNNELS = [
  { name: 'Buy', steps: [{ page: '/' }, { page: '/pricing' }, { event: 'Signup' }] },
  { name: 'Read', steps: [{ page: '/blog*' }, { event: 'Newsletter' }, { page: '/about' }, { event: 'Play' }] }
]

// queries returns a reproducible mix of ranges, resolutions, zones and single or paired filters
function queries (seed, metrics) {
  const rand = rng(seed)
  const pick = (list) => list[Math.floor(rand() * list.length)]
  const out = []
  for (let i = 0; i < 24; i++) {
    const resolution = pick(Object.keys(RESOLUTION))
    const span = Math.floor(rand() * RESOLUTION[resolution]) + 3600 * 1000
    const to = now - Math.floor(rand() * 10 * DAY) + (rand() < 0.3 ? 0 : 1234)
    const q = { from: to - span, to, resolution, timeZone: pick(ZONES), now, retentionMs: rand() < 0.5 ? 45 * DAY : undefined }
    const filters = {}
    const options = [
      ['page', metrics.pages], ['country', metrics.countries], ['referrer', metrics.referrers],
      ['campaign', metrics.campaigns], ['source', metrics.sources], ['landing', metrics.landingPages],
      ['exit', metrics.exitPages], ['browser', metrics.browsers], ['os', metrics.oses], ['device', metrics.devices],
      ['screen', metrics.screens], ['event', metrics.events], ['outbound', metrics.outbound], ['download', metrics.downloads],
      ['goal', metrics.goals.filter(g => g.visitors > 0)]
    ]
    const nFilters = i < 6 ? 0 : i < 18 ? 1 : 2
    for (let k = 0; k < nFilters; k++) {
      const [name, rows] = pick(options)
      if (rows.length) filters[name] = pick(rows).key
    }
    q.filters = filters
    q.goals = GOALS
    q.funnels = FUNNELS
    out.push(q)
  }
  return out
}

for (const seed of [1, 2, 3]) {
  // plus a few visitors active right now, for the real-time panel
  const records = generate({ seed, visitors: 120, start, end, actions: seed === 1 }).records
    .concat(generate({ seed: seed + 100, visitors: 15, start: now - 40 * 60 * 1000, end: now, noise: false }).records)
  const overview = computeMetrics(records, { from: start, to: end, resolution: 'weeks', timeZone: 'UTC', now, goals: GOALS, funnels: FUNNELS })

  test(`seed ${seed}: store equals reference`, () => {
    const store = new EventStore({ capacity: 8 })
    store.add(records)
    for (const q of queries(seed, overview)) {
      assert.deepEqual(store.query(q), computeMetrics(records, q), JSON.stringify(q))
    }
  })

  test(`seed ${seed}: merged shards equal one store`, () => {
    for (const n of [2, 3, 7]) {
      const stores = Array.from({ length: n }, () => new EventStore())
      for (const r of records) stores[shardOf(r.secretId, n)].add([r])
      for (const q of queries(seed + n, overview)) {
        const merged = finalize(mergePartials(stores.map(s => s.partial(q))))
        assert.deepEqual(merged, computeMetrics(records, q), `${n} shards, ${JSON.stringify(q)}`)
        // the reference's partials merge the same way
        const parts = Array.from({ length: n }, (_, i) => computePartial(records.filter(r => shardOf(r.secretId, n) === i), q))
        assert.deepEqual(finalize(mergePartials(parts)), computeMetrics(records, q))
      }
    }
  })

  test(`seed ${seed}: incremental adds and tombstones`, () => {
    const rand = rng(seed * 31)
    const store = new EventStore({ capacity: 16 })
    let kept = []
    const gone = new Set()
    const q = { from: start, to: end, resolution: 'days', timeZone: 'Europe/Berlin', now, retentionMs: 45 * DAY }
    for (let i = 0; i < records.length; i += 97) {
      const chunk = records.slice(i, i + 97)
      store.add(chunk)
      kept.push(...chunk)
      // remove a few events, and now and then a key or everything before some id
      const tombstones = []
      for (let k = 0; k < 5; k++) {
        const r = kept[Math.floor(rand() * kept.length)]
        tombstones.push({ kind: 'event', target: r.eventId })
      }
      if (rand() < 0.3) tombstones.push({ kind: 'secret', target: kept[Math.floor(rand() * kept.length)].keyId })
      if (rand() < 0.15) {
        const ids = kept.map(r => r.eventId).filter(id => /^[0-9A-Z]{26}$/.test(id)).sort()
        tombstones.push({ kind: 'before', target: ids[Math.floor(ids.length * 0.1)] })
      }
      store.remove(tombstones)
      for (const ts of tombstones) {
        if (ts.kind === 'event') gone.add(ts.target)
        kept = kept.filter(r => !(
          (ts.kind === 'event' && r.eventId === ts.target) ||
          (ts.kind === 'secret' && r.keyId === ts.target) ||
          (ts.kind === 'before' && r.eventId < ts.target)))
      }
      assert.deepEqual(store.query(q), computeMetrics(kept, q), `after chunk ${i}`)
    }
    // the event ids removed by tombstones are gone, but can come back
    const back = records.filter(r => gone.has(r.eventId)).slice(0, 3)
    store.add(back)
    kept.push(...back)
    assert.deepEqual(store.query(q), computeMetrics(kept, q))
  })
}

// inProcessWorker runs a shard behind an asynchronous message interface like a Worker's
function inProcessWorker (options) {
  const shard = createShard(options)
  const w = {
    onmessage: null,
    postMessage (msg) {
      const copy = structuredClone(msg)
      shard.handle(copy).then(reply => setTimeout(() => w.onmessage({ data: structuredClone(reply) }), 0))
    },
    terminate () {}
  }
  return w
}

test('client over in-process workers equals one store', async () => {
  const { records } = generate({ seed: 9, visitors: 200, start, end })
  const client = new MetricsClient({ workers: 3, createWorker: () => inProcessWorker() })
  const half = Math.floor(records.length / 2)
  const r1 = await client.add(records.slice(0, half))
  const r2 = await client.add(records.slice(half))
  const store = new EventStore()
  const s1 = store.add(records.slice(0, half))
  const s2 = store.add(records.slice(half))
  assert.deepEqual(r1, s1)
  assert.deepEqual(r2, s2)
  const tombstones = [{ kind: 'event', target: records[5].eventId }, { kind: 'secret', target: records[9].keyId }]
  assert.deepEqual(await client.remove(tombstones), store.remove(tombstones))
  const q = { from: now - 30 * DAY, to: now, resolution: 'days', timeZone: 'Asia/Kolkata', now, retentionMs: 45 * DAY }
  assert.deepEqual(await client.query(q), store.query(q))
  assert.deepEqual(await client.stats(), { size: store.size, unreadable: store.unreadable, keys: 0, pending: 0 })
  await client.clear()
  assert.equal((await client.query(q)).pageViews, 0)
  client.terminate()
})

test('client reports worker errors', async () => {
  const client = new MetricsClient({ workers: 2, createWorker: () => inProcessWorker() })
  await assert.rejects(client.query({ from: 0, to: 1, resolution: 'years' }), /unknown resolution/)
  await assert.rejects(client.ingest([{ eventId: '01', secretId: 'x', keyId: 'k', payload: 'a1.x.y' }]), /cannot decrypt/)
  client.terminate()
})

test('a snapshot restores the same store, which goes on working', () => {
  const { records } = generate({ seed: 21, visitors: 150, start, end })
  const q = { from: now - 40 * DAY, to: now, resolution: 'days', timeZone: 'UTC', now, retentionMs: 45 * DAY }
  const store = new EventStore()
  const half = Math.floor(records.length / 2)
  store.add(records.slice(0, half))
  store.add([{ ...records[0], eventId: records[1].eventId.slice(0, 25) + 'Z', secretId: records[0].secretId, payload: { ...records[0].payload, sessionId: records[1].payload.sessionId } }])
  const removed = [records[3], records[4]]
  store.remove(removed.map(r => ({ kind: 'event', target: r.eventId })))
  store.markUnreadable([{ eventId: records[7].eventId.slice(0, 25) + 'Y', accountId: 'a' }])
  const { snapshot, transfer } = store.snapshot()
  assert.ok(transfer.every(b => b instanceof ArrayBuffer))
  const copy = EventStore.fromSnapshot(structuredClone(snapshot))
  assert.deepEqual(copy.query(q), store.query(q))
  assert.equal(copy.size, store.size)
  // a restored store's own snapshot (its session and dictionary maps not built yet) is the same
  assert.deepEqual(copy.snapshot().snapshot, snapshot)
  assert.deepEqual(EventStore.fromSnapshot(copy.snapshot().snapshot).query(q), store.query(q))
  // both go on the same way
  for (const s of [store, copy]) {
    s.add(records.slice(half))
    s.add(records.slice(0, 10)) // duplicates
    s.remove([{ kind: 'secret', target: records[11].keyId }])
  }
  assert.deepEqual(copy.query(q), store.query(q))
  assert.throws(() => EventStore.fromSnapshot({ v: 1 }), /unknown snapshot version/, 'version 1 lacks the event columns')
  assert.throws(() => EventStore.fromSnapshot({ v: 3 }), /unknown snapshot version/)
})

test('client snapshots restore into the same number of workers', async () => {
  const { records } = generate({ seed: 22, visitors: 80, start, end })
  const q = { from: now - 40 * DAY, to: now, resolution: 'weeks', timeZone: 'UTC', now }
  const a = new MetricsClient({ workers: 3, createWorker: () => inProcessWorker() })
  await a.add(records)
  const snaps = await a.snapshot()
  const b = new MetricsClient({ workers: 3, createWorker: () => inProcessWorker() })
  const restored = await b.restore(snaps)
  assert.equal(restored.size, (await a.stats()).size)
  assert.deepEqual(await b.query(q), await a.query(q))
  const c = new MetricsClient({ workers: 2, createWorker: () => inProcessWorker() })
  await assert.rejects(c.restore(snaps), /different number of shards/)
  for (const client of [a, b, c]) client.terminate()
})
