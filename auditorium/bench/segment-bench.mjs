// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Segments in node: synthetic events (default 1,000,000 from 100,000 visitors over six
// months) cut into one segment per UTC day, then read into shards as the dashboard workers
// do (each shard parses every segment and keeps its visitors' rows). Prints encoding and
// reading time, segment sizes and the heap of the stores.
// Usage: node --expose-gc bench/segment-bench.mjs [events] [visitors] [shards]

import { EventStore, finalize, mergePartials } from '../src/metrics/index.js'
import { decodeSegmentColumns, encodeSegment } from '../../keys/js/segment.js'
import { shardOf } from '../src/metrics/client.js'
import { syntheticBatches } from './synthetic.mjs'

const EVENTS = Number(process.argv[2] || 1000000)
const VISITORS = Number(process.argv[3] || 100000)
const SHARDS = Number(process.argv[4] || 2)
const DAY = 24 * 3600 * 1000
const now = Date.parse('2026-11-22T12:00:00.000Z')
const start = now - 186 * DAY
const ACCOUNT = '5b6f3c1e-8a2d-4f7b-9c1e-2d3f4a5b6c7d'
const gc = globalThis.gc || (() => {})
const heap = () => { gc(); return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers }
const mb = (n) => (n / 1024 / 1024).toFixed(1) + ' MB'
const cpuOf = (fn) => {
  const c0 = process.cpuUsage()
  const out = fn()
  const c = process.cpuUsage(c0)
  return [(c.user + c.system) / 1000, out]
}

const days = new Map()
for (const batch of syntheticBatches({ events: EVENTS, visitors: VISITORS, start, end: now, size: 10000 })) {
  for (const r of batch) {
    const p = new Date(Date.parse(r.payload.timestamp) + 50).toISOString().slice(0, 10) // the id's time
    if (!days.has(p)) days.set(p, [])
    days.get(p).push(r)
  }
}
let bytes = 0
const [encodeMs, segments] = cpuOf(() => [...days].map(([period, records]) => {
  const b = encodeSegment({ accountId: ACCOUNT, period, records })
  bytes += b.length
  return { period, b }
}))
days.clear()
console.log(`${segments.length} segments, ${mb(bytes)} (${(bytes / EVENTS).toFixed(1)} bytes per event), encoded in ${(encodeMs / 1000).toFixed(2)} s cpu`)

const before = heap()
const stores = []
let parseMs = 0
let addMs = 0
for (let k = 0; k < SHARDS; k++) {
  const st = new EventStore()
  st.reserve(Math.ceil(EVENTS / SHARDS * 1.05))
  const mine = new Map()
  const keep = (s) => {
    let m = mine.get(s)
    if (m === undefined) mine.set(s, (m = shardOf(s, SHARDS) === k))
    return m
  }
  for (const { period, b } of segments) {
    const [p, seg] = cpuOf(() => decodeSegmentColumns(b, { accountId: ACCOUNT, period }))
    const [a] = cpuOf(() => st.addSegment(seg, { keep, unreadable: k === 0 }))
    parseMs += p
    addMs += a
  }
  stores.push(st)
}
const after = heap()
const external = process.memoryUsage().arrayBuffers
const n = stores.reduce((s, st) => s + st.size, 0)
console.log(`${SHARDS} shards: parse ${(parseMs / 1000).toFixed(2)} s cpu (all shards), add ${(addMs / 1000).toFixed(2)} s cpu; per shard ${((parseMs + addMs) / SHARDS / 1000).toFixed(2)} s`)
console.log(`events ${n.toLocaleString('en')}, heap of the stores ${mb(after - before)} (${Math.round((after - before) / n)} bytes per event; segments ${mb(bytes)} besides), of which typed arrays ${mb(external - bytes)}`)
const q = { from: now - 186 * DAY, to: now, resolution: 'weeks', timeZone: 'Europe/Berlin', now, retentionMs: 186 * DAY }
const [qMs, m] = cpuOf(() => finalize(mergePartials(stores.map(st => st.partial(q)))))
console.log(`6-month query: ${qMs.toFixed(0)} ms cpu, ${m.pageViews} page views, ${m.uniqueVisitors} visitors`)
