// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Aggregates synthetic events (default 1,000,000 from 100,000 visitors over six months) in one
// EventStore and in shards merged like the workers', and prints ingest time, query times and
// heap used. Usage: node --expose-gc bench/metrics-bench.mjs [events] [visitors] [shards]

import { EventStore, finalize, mergePartials, shardOf } from '../src/metrics/index.js'
import { syntheticBatches } from './synthetic.mjs'

const EVENTS = Number(process.argv[2] || 1000000)
const VISITORS = Number(process.argv[3] || 100000)
const SHARDS = Number(process.argv[4] || 2)
const DAY = 24 * 3600 * 1000
const now = Date.parse('2026-11-22T12:00:00.000Z')
const start = now - 186 * DAY

const gc = globalThis.gc || (() => {})
const mb = (n) => (n / 1024 / 1024).toFixed(1) + ' MB'
function heap () {
  gc()
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
}

const batches = (size) => syntheticBatches({ events: EVENTS, visitors: VISITORS, start, end: now, size })

// cpu returns [wall ms, cpu ms of this process] around fn: the machine may be shared
function measure (fn) {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const out = fn()
  const c = process.cpuUsage(c0)
  return [performance.now() - t0, (c.user + c.system) / 1000, out]
}
const fmt = (wall, cpu) => `${(wall / 1000).toFixed(2)} s wall, ${(cpu / 1000).toFixed(2)} s cpu`

// one store holding everything: ingest time and heap
const before = heap()
const single = new EventStore()
let wall = 0
let cpu = 0
const shardBatches = Array.from({ length: SHARDS }, () => [])
for (const batch of batches(5000)) {
  const [w, c] = measure(() => single.add(batch))
  wall += w
  cpu += c
}
const after = heap()
console.log(`events: ${single.size.toLocaleString('en')}, visitors: ${single.visitors.size.toLocaleString('en')}, sessions: ${single.nSessions.toLocaleString('en')}`)
console.log(`ingest (validate, intern, store), one store: ${fmt(wall, cpu)}, ${Math.round(single.size / cpu * 1000).toLocaleString('en')} events per cpu second`)
console.log(`heap used by the store: ${mb(after - before)} (${Math.round((after - before) / single.size)} bytes per event)`)

function time (label, fn) {
  const [w, c, out] = measure(fn)
  console.log(`${label}: ${w.toFixed(0)} ms wall, ${c.toFixed(0)} ms cpu`)
  return out
}
const q = { from: now - 30 * DAY, to: now, resolution: 'days', timeZone: 'Europe/Berlin', now, retentionMs: 186 * DAY }
time('first query, 30 days by days (includes building the session order)', () => single.query(q))
const expected = time('query, 30 days by days', () => single.query(q))
const m = time('query, 6 months by weeks', () => single.query({ ...q, from: start, resolution: 'weeks' }))
time('query, 7 days by hours', () => single.query({ ...q, from: now - 7 * DAY, resolution: 'hours' }))
time('query, 30 days, page filter', () => single.query({ ...q, filters: { page: m.pages[0].key } }))
time('query, 30 days, referrer filter', () => single.query({ ...q, filters: { referrer: 'Google' } }))

// warm start: snapshot, a copy (as postMessage or IndexedDB make), restore
const snap = time('snapshot', () => single.snapshot().snapshot)
const copy = time('structured clone of the snapshot', () => structuredClone(snap))
const restored = time('restore from the snapshot', () => EventStore.fromSnapshot(copy))
const warm = time('first query after restoring', () => restored.query(q))
console.log(`restored store answers the same: ${JSON.stringify(warm) === JSON.stringify(expected)}`)

// the same events in shards, as the workers hold them (here in one thread, one after another)
const shards = Array.from({ length: SHARDS }, () => new EventStore())
let sw = 0
let sc = 0
for (const batch of batches(5000)) {
  const [w, c] = measure(() => {
    const parts = shards.map(() => [])
    for (const r of batch) parts[shardOf(r.secretId, SHARDS)].push(r)
    parts.forEach((p, i) => shards[i].add(p))
  })
  sw += w
  sc += c
}
console.log(`ingest, ${SHARDS} shards (routing included; sequential here, parallel in workers): ${fmt(sw, sc)}`)
let partials = time(`${SHARDS} shards: first partials (sequential here)`, () => shards.map(s => s.partial(q)))
partials = time(`${SHARDS} shards: partials again`, () => shards.map(s => s.partial(q)))
const merged = time(`${SHARDS} shards: merge and finalize`, () => finalize(mergePartials(partials)))
const ok = JSON.stringify(merged) === JSON.stringify(expected)
console.log(`merged shards equal the single store: ${ok}`)
console.log(`in 30 days: ${merged.pageViews.toLocaleString('en')} page views, ${merged.uniqueVisitors.toLocaleString('en')} visitors, ${merged.uniqueSessions.toLocaleString('en')} sessions`)
console.log(`rss: ${mb(process.memoryUsage().rss)}`)
if (!ok) process.exit(1)

