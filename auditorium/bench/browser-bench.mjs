// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The metrics workers in headless Chromium: encrypts synthetic events (default 100,000 from
// 10,000 visitors) in node, serves them to a page that feeds them to the built workers in
// sync-sized pages, and prints the times to decrypt and aggregate them and to query.
// Usage: node build.mjs && node bench/browser-bench.mjs [events] [visitors] [workers]

import { encryptEvent, generateUserSecret, toBase64Url } from '../../keys/js/crypto.js'
import { launch, serve } from '../test/metrics/chromium.js'
import { syntheticBatches } from './synthetic.mjs'

const EVENTS = Number(process.argv[2] || 100000)
const VISITORS = Number(process.argv[3] || 10000)
const WORKERS = Number(process.argv[4] || 0) // 0: navigator.hardwareConcurrency
const DAY = 24 * 3600 * 1000
const now = Date.parse('2026-11-22T12:00:00.000Z')
const accountId = '9b63c4d9-8f0e-4d47-9a43-4ad1d9a0e7a1'

const t0 = performance.now()
const secrets = new Map()
const items = []
for (const batch of syntheticBatches({ events: EVENTS, visitors: VISITORS, start: now - 186 * DAY, end: now, size: 1000 })) {
  await Promise.all(batch.map(async (r) => {
    if (!secrets.has(r.keyId)) secrets.set(r.keyId, { keyId: r.keyId, secretId: r.secretId, secret: toBase64Url(generateUserSecret()) })
    const secret = secrets.get(r.keyId).secret
    items.push({ eventId: r.eventId, secretId: r.secretId, keyId: r.keyId, payload: await encryptEvent(fromB64(secret), accountId, r.payload) })
  }))
}
function fromB64 (s) {
  return new Uint8Array(Buffer.from(s, 'base64url'))
}
const body = JSON.stringify({ accountId, keys: [...secrets.values()], items })
console.log(`prepared ${items.length.toLocaleString('en')} ciphertexts of ${secrets.size.toLocaleString('en')} visitors in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(body.length / 1e6).toFixed(0)} MB JSON)`)

const cleanups = []
try {
  const { origin, workerUrl } = await serve(fn => cleanups.push(fn), { '/data.json': ['application/json', body] })
  const browser = await launch(fn => cleanups.push(fn))
  await browser.open(origin + '/')
  const r = await browser.evaluate(`(async () => {
    const m = await import('/harness.js')
    const times = {}
    let t = performance.now()
    const lap = (name) => { const n = performance.now(); times[name] = Math.round(n - t); t = n }
    const data = await (await fetch('/data.json')).json()
    lap('fetch and parse JSON')
    const workers = ${WORKERS} || navigator.hardwareConcurrency
    const client = new m.MetricsClient({ workers, createWorker: () => new Worker(${JSON.stringify(workerUrl)}) })
    const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0))
    await client.setKeys(data.keys.map(k => ({ ...k, secret: b64(k.secret) })))
    lap('start workers, hand over keys')
    const start = t
    let added = 0
    const pages = []
    for (let i = 0; i < data.items.length; i += 5000) pages.push(client.ingest(data.items.slice(i, i + 5000), data.accountId))
    for (const p of pages) added += (await p).added
    lap('decrypt, validate and store (pages of 5,000)')
    const q = { from: ${now} - 30 * 86400000, to: ${now}, resolution: 'days', now: ${now}, retentionMs: 186 * 86400000 }
    const first = await client.query(q)
    lap('first query, 30 days by days')
    await client.query(q)
    lap('same query again')
    await client.query({ ...q, from: ${now} - 186 * 86400000, resolution: 'weeks' })
    lap('query, 6 months by weeks')
    const total = Math.round(t - start)
    client.terminate()
    return { times, workers, added, total, pageViews: first.pageViews }
  })()`)
  console.log(`workers: ${r.workers}, events stored: ${r.added.toLocaleString('en')}, page views in 30 days: ${r.pageViews.toLocaleString('en')}`)
  for (const [name, ms] of Object.entries(r.times)) console.log(`${name}: ${ms} ms`)
  console.log(`ciphertexts to all three queries answered: ${r.total} ms`)
} finally {
  for (const fn of cleanups.reverse()) await fn()
}
