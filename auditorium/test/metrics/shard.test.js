// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The worker's side with the real crypto module: ciphertexts in, metrics out; what cannot be
// decrypted or validated is counted as unreadable and never shown.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createShard, computeMetrics, MetricsClient } from '../../src/metrics/index.js'
import { decryptEvent, decryptEvents, encryptEvent, generateUserSecret, importAesKey, newKeyId, sealA1 } from '../../../keys/js/crypto.js'
import { generate } from './gen.js'

const DAY = 24 * 3600 * 1000
const now = Date.parse('2026-11-22T10:00:00.000Z')
const accountId = '9b63c4d9-8f0e-4d47-9a43-4ad1d9a0e7a1'
const query = { from: now - 20 * DAY, to: now, resolution: 'days', timeZone: 'Europe/Berlin', now, retentionMs: 30 * DAY }

// encrypted builds ciphertext items for records: one user secret per key id
async function encrypted (records) {
  const secrets = new Map()
  const items = []
  for (const r of records) {
    if (!secrets.has(r.keyId)) secrets.set(r.keyId, { secretId: r.secretId, secret: generateUserSecret() })
    items.push({ eventId: r.eventId, secretId: r.secretId, keyId: r.keyId, payload: await encryptEvent(secrets.get(r.keyId).secret, accountId, r.payload) })
  }
  return { items, keys: [...secrets].map(([keyId, { secretId, secret }]) => ({ keyId, secretId, secret })) }
}

const shardOptions = { decrypt: decryptEvent, decryptMany: decryptEvents, importKey: importAesKey }

for (const [how, options] of [['many at once', shardOptions], ['one by one', { decrypt: decryptEvent, importKey: importAesKey }]]) test(`a shard decrypts (${how}), validates and counts what it cannot read`, async () => {
  const { records } = generate({ seed: 5, visitors: 30, start: now - 25 * DAY, end: now, noise: false })
  const { items, keys } = await encrypted(records)
  const [a, b, c, d, e, f] = items
  const stranger = generateUserSecret()
  const unknownKey = newKeyId()
  const bad = [
    { ...a, eventId: '01KAF00000000000000000000A', payload: await encryptEvent(stranger, accountId, records[0].payload) }, // wrong key
    { ...b, eventId: '01KAF00000000000000000000B', keyId: unknownKey }, // key this browser lacks
    { ...c, eventId: '01KAF00000000000000000000C', payload: c.payload.slice(0, -2) + (c.payload.endsWith('AA') ? 'AB' : 'AA') }, // tampered
    { ...d, eventId: '01KAF00000000000000000000D', payload: await encryptEvent(keys.find(k => k.keyId === d.keyId).secret, 'other-account', records[3].payload) }, // other account
    { ...e, eventId: '01KAF00000000000000000000E', payload: await sealA1(keys.find(k => k.keyId === e.keyId).secret, 'offen/v1/event|' + accountId, new TextEncoder().encode('not json')) },
    { ...f, eventId: '01KAF00000000000000000000F', payload: await encryptEvent(keys.find(k => k.keyId === f.keyId).secret, accountId, { v: 1, type: 'PAGEVIEW' }) } // invalid event
  ]
  const shard = createShard(options)
  const set = await shard.handle({ id: 1, op: 'keys', keys: keys.map(k => [k.keyId, k.secret]) })
  assert.deepEqual(set, { id: 1, ok: true, result: { keys: keys.length, added: 0, unreadable: 0 } })
  const res = await shard.handle({ id: 2, op: 'ingest', accountId, items: [...items, ...bad] })
  assert.deepEqual(res.result, { added: records.length, duplicates: 0, unreadable: 6, ignored: 0 })
  const again = await shard.handle({ id: 3, op: 'ingest', accountId, items: [...items.slice(0, 10), ...bad] })
  assert.deepEqual(again.result, { added: 0, duplicates: 16, unreadable: 0, ignored: 0 }) // each counted once
  const m = await shard.handle({ id: 4, op: 'partial', query })
  assert.equal(m.ok, true)
  const want = computeMetrics(records, query)
  want.unreadable = 6
  const { finalize } = await import('../../src/metrics/index.js')
  assert.deepEqual(finalize(m.result), want)
  // an unreadable event can still be deleted
  await shard.handle({ id: 5, op: 'remove', tombstones: [{ kind: 'event', target: bad[1].eventId }] })
  assert.deepEqual((await shard.handle({ id: 6, op: 'stats' })).result, { size: records.length, unreadable: 5, keys: keys.length, pending: 0 })
  // a secret tombstone drops the key and its events
  const gone = keys[0]
  const removed = (await shard.handle({ id: 7, op: 'remove', tombstones: [{ kind: 'secret', target: gone.keyId }] })).result.removed
  assert.equal(removed, records.filter(r => r.keyId === gone.keyId).length)
  assert.equal((await shard.handle({ id: 8, op: 'stats' })).result.keys, keys.length - 1)
  const bogus = await shard.handle({ id: 9, op: 'nope' })
  assert.deepEqual(bogus, { id: 9, ok: false, error: 'metrics: unknown op nope' })
})

function inProcessWorker () {
  const shard = createShard(shardOptions)
  const w = {
    onmessage: null,
    postMessage (msg) {
      shard.handle(structuredClone(msg)).then(reply => setTimeout(() => w.onmessage({ data: structuredClone(reply) }), 0))
    },
    terminate () {}
  }
  return w
}

test('the client routes keys and ciphertexts to the shard of their secret id', async () => {
  const { records } = generate({ seed: 6, visitors: 60, start: now - 25 * DAY, end: now, noise: false })
  const { items, keys } = await encrypted(records)
  const client = new MetricsClient({ workers: 3, createWorker: inProcessWorker })
  assert.deepEqual(await client.setKeys(keys), { keys: keys.length, added: 0, unreadable: 0 })
  const res = await client.ingest(items, accountId)
  assert.deepEqual(res, { added: records.length, duplicates: 0, unreadable: 0, ignored: 0 })
  assert.deepEqual(await client.query(query), computeMetrics(records, query))
  client.terminate()
})

test('events that arrive before their key are decrypted when it comes', async () => {
  const { records } = generate({ seed: 7, visitors: 10, start: now - 25 * DAY, end: now, noise: false })
  const { items, keys } = await encrypted(records)
  const shard = createShard(shardOptions)
  const [late, ...early] = keys
  await shard.handle({ id: 1, op: 'keys', keys: early })
  const waiting = records.filter(r => r.keyId === late.keyId).length
  assert.ok(waiting > 0)
  const res = (await shard.handle({ id: 2, op: 'ingest', accountId, items })).result
  assert.deepEqual(res, { added: records.length - waiting, duplicates: 0, unreadable: waiting, ignored: 0 })
  assert.equal((await shard.handle({ id: 3, op: 'stats' })).result.pending, waiting)
  // one of them is deleted meanwhile
  const deleted = items.find(it => it.keyId === late.keyId)
  await shard.handle({ id: 4, op: 'remove', tombstones: [{ kind: 'event', target: deleted.eventId }] })
  // the waiting ciphertexts survive a snapshot
  const snap = await shard.handle({ id: 5, op: 'snapshot' })
  assert.equal(snap.result.pending.length, waiting - 1)
  assert.ok(snap.transfer.length > 0)
  const restored = createShard(shardOptions)
  await restored.handle({ id: 1, op: 'keys', keys: early })
  assert.deepEqual((await restored.handle({ id: 2, op: 'restore', snapshot: snap.result })).result, { size: records.length - waiting, unreadable: waiting - 1 })
  const set = (await restored.handle({ id: 5, op: 'keys', keys: [late] })).result
  assert.deepEqual(set, { keys: 1, added: waiting - 1, unreadable: 0 })
  const { finalize } = await import('../../src/metrics/index.js')
  const m = finalize((await restored.handle({ id: 6, op: 'partial', query })).result)
  assert.deepEqual(m, computeMetrics(records.filter(r => r.eventId !== deleted.eventId), query))
  assert.equal(m.unreadable, 0)
})

test('packItems: items travel to the workers as one string and come back equal', async () => {
  const { packItems, unpackItems } = await import('../../src/metrics/client.js')
  const list = [
    { eventId: '01KAF00000000000000000000A', secretId: 's1', keyId: 'k1', payload: 'a1.x.y' },
    { eventId: '01KAF00000000000000000000B', secretId: 's2', keyId: 'k2', payload: 'a1.x.z', accountId: 'acc' },
    { eventId: '01KAF00000000000000000000D', secretId: 's4', keyId: 'k4', payload: 42 } // no string: stays an object
  ]
  const { packed, items } = packItems(list)
  assert.equal(typeof packed, 'string')
  assert.deepEqual(items, list.slice(2))
  assert.deepEqual(unpackItems(packed, items), list)
  assert.deepEqual(unpackItems(packItems([]).packed), [])
  // separators inside a field break only that item: its payload is gone, so it is unreadable
  const bad = unpackItems(packItems([list[0], { ...list[0], eventId: '01KAF00000000000000000000C', payload: 'a1.q\tz' }, list[1]]).packed)
  assert.deepEqual(bad[0], list[0])
  assert.equal(bad[1].eventId, '01KAF00000000000000000000C')
  assert.equal(bad[1].payload, null)
  assert.deepEqual(bad[2], list[1])
  const shard = createShard(shardOptions)
  const res = await shard.handle({ id: 1, op: 'ingest', accountId, packed: packItems([{ ...list[0], payload: 'a1.x\ny.z' }]).packed })
  assert.deepEqual(res.result, { added: 0, duplicates: 0, unreadable: 2, ignored: 0 })
})
