// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory } from 'fake-indexeddb'
import { addEvent, addVisitor, createAccount, inProcessMetrics } from './world.js'
import { eventsCsv, exportEventsOf } from '../../src/dashboard/export.js'

const DAY = 24 * 3600 * 1000

test('the export holds the decrypted events of the range, less what later pages delete', async () => {
  const now = Date.now()
  const acc = await createAccount({ name: 'Shop' })
  const a = await addVisitor(acc)
  const b = await addVisitor(acc)
  const kept = await addEvent(acc, a, now - DAY, { href: 'https://x.org/kept', referrer: 'https://y.org/,"quoted"' })
  const deleted = await addEvent(acc, a, now - DAY + 1000, { href: 'https://x.org/deleted' })
  await addEvent(acc, a, now - 20 * DAY, { href: 'https://x.org/before-the-range' })
  await addEvent(acc, b, now - DAY, { href: 'https://x.org/forgotten-visitor' })
  await addEvent(acc, a, now - DAY, { href: 'https://x.org/tampered' }, { tamper: true })
  const events = acc.log.map(e => e.item)
  // two pages: the events, then tombstones for one event and for visitor b
  const pages = [
    { events, tombstones: [], next: 'p1', more: true, reset: false },
    { events: [], tombstones: [{ kind: 'event', target: deleted.eventId }, { kind: 'secret', target: b.keyId }], next: 'p2', more: false, reset: false }
  ]
  const asked = []
  const api = { get: async (path) => { asked.push(path); return pages[path.includes('since=p1') ? 1 : 0] } }
  const metrics = inProcessMetrics(new IDBFactory())
  await metrics.setKeys([a, b].map(v => ({ keyId: v.keyId, secretId: v.secretId, secret: v.raw })))
  const progress = []
  const records = await exportEventsOf({ api, metrics, accountId: acc.accountId, from: now - 7 * DAY, to: now + 1, onProgress: p => progress.push(p) })
  assert.deepEqual(records.map(r => r.href), ['https://x.org/kept'])
  assert.equal(records[0].eventId, kept.eventId)
  assert.equal(records[0].secretId, a.secretId)
  assert.match(asked[0], new RegExp(`^/api/accounts/${acc.accountId}/events\\?limit=`))
  assert.deepEqual(progress.map(p => p.done), [5, 5])
  const csv = eventsCsv(records).split('\r\n')
  assert.match(csv[0], /^eventId,secretId,keyId,timestamp,type,href,rawHref,referrer,pageload,isMobile,sessionId,geo$/)
  assert.match(csv[1], /,https:\/\/x\.org\/kept,,"https:\/\/y\.org\/,""quoted""",100,false,/)
  metrics.terminate()
})
