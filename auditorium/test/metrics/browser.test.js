// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The built metrics worker (dist/assets/worker-*.js) in real headless Chromium, driven over
// the DevTools pipe: a page under a strict CSP starts two workers, hands them user secrets
// and ciphertexts encrypted in the page, and compares the merged metrics with the reference
// computation over the plaintext. Without Chromium the test skips, or fails when CI=true.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CHROMIUM, launch, serve } from './chromium.js'
import { existsSync } from 'node:fs'

const skip = !existsSync(CHROMIUM) && process.env.CI !== 'true' ? 'chromium not installed' : false

test('the built worker decrypts and aggregates in Chromium like the reference', { skip, timeout: 120000 }, async (t) => {
  const { origin, workerUrl } = await serve(fn => t.after(fn))
  const browser = await launch(fn => t.after(fn))
  await browser.open(origin + '/')
  const result = await browser.evaluate(`(async () => {
    const m = await import('/harness.js')
    const accountId = '9b63c4d9-8f0e-4d47-9a43-4ad1d9a0e7a1'
    const now = Date.parse('2026-11-22T10:00:00.000Z')
    const DAY = 86400000
    const { records } = m.generate({ seed: 11, visitors: 150, start: now - 40 * DAY, end: now, noise: true })
    const secrets = new Map()
    const items = []
    for (const r of records) {
      if (!secrets.has(r.keyId)) secrets.set(r.keyId, { keyId: r.keyId, secretId: r.secretId, secret: m.generateUserSecret() })
      items.push({ eventId: r.eventId, secretId: r.secretId, keyId: r.keyId, payload: await m.encryptEvent(secrets.get(r.keyId).secret, accountId, r.payload) })
    }
    items.push({ ...items[0], eventId: '01KAF00000000000000000000Z', payload: items[1].payload }) // another key's ciphertext
    const client = new m.MetricsClient({ workers: 2, createWorker: () => new Worker(${JSON.stringify(workerUrl)}) })
    await client.setKeys([...secrets.values()])
    const t0 = performance.now()
    const ingest = await client.ingest(items, accountId)
    const q = { from: now - 30 * DAY, to: now, resolution: 'days', now, retentionMs: 186 * DAY }
    const got = await client.query(q)
    const ms = performance.now() - t0
    const want = m.computeMetrics(records, q)
    const snapshots = await client.snapshot() // moved out of the workers, not copied
    client.terminate()
    const again = new m.MetricsClient({ workers: 2, createWorker: () => new Worker(${JSON.stringify(workerUrl)}) })
    await again.restore(snapshots)
    const restored = JSON.stringify(await again.query(q))
    again.terminate()
    return { restored, ingest, invalid: want.unreadable, got: JSON.stringify(got), want: JSON.stringify({ ...want, unreadable: want.unreadable + 1 }), pageViews: got.pageViews, ms, events: items.length }
  })()`)
  assert.ok(result.pageViews > 100)
  assert.equal(result.ingest.unreadable, result.invalid + 1) // invalid plaintexts and the foreign ciphertext
  assert.equal(result.got, result.want)
  assert.equal(result.restored, result.got)
  t.diagnostic(`${result.events} ciphertexts decrypted and aggregated by 2 workers in ${Math.round(result.ms)} ms`)
})
