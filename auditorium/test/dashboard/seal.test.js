// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { deriveCacheKey, open, seal } from '../../src/dashboard/seal.js'
import { AccountLoader } from '../../src/dashboard/loader.js'
import { OPERATOR_SEGMENTS, OPERATOR_SNAPSHOTS, transact } from '../../../script/src/storage.js'
import { addEvent, addVisitor, createAccount, createFakeApi, fakeSession, inProcessMetrics } from './world.js'

globalThis.IDBKeyRange = IDBKeyRange

test('sealed caches open only with the same key, account and name', async () => {
  const kek = crypto.getRandomValues(new Uint8Array(32))
  const key = await deriveCacheKey(kek)
  assert.equal(key.extractable, false)
  const bytes = new TextEncoder().encode('hello')
  const parts = await seal(key, 'acc', 'shard|2|0', bytes)
  assert.equal(new TextDecoder().decode(await open(key, 'acc', 'shard|2|0', parts)), 'hello')
  await assert.rejects(open(key, 'other', 'shard|2|0', parts))
  await assert.rejects(open(key, 'acc', 'shard|2|1', parts))
  await assert.rejects(open(await deriveCacheKey(crypto.getRandomValues(new Uint8Array(32))), 'acc', 'shard|2|0', parts))
})

test('no plaintext and no user secret reaches IndexedDB', async () => {
  const factory = new IDBFactory()
  const acc = await createAccount()
  const secrets = []
  for (let i = 0; i < 3; i++) {
    const v = await addVisitor(acc)
    secrets.push(v.raw)
    await addEvent(acc, v, Date.now() - 2 * 24 * 3600000, { href: 'https://marker-page.example/secret-path', referrer: 'https://marker-ref.example/' })
  }
  const loader = new AccountLoader({ api: createFakeApi([acc]), session: fakeSession([acc]), metrics: inProcessMetrics(factory), loginId: 'l', accountId: acc.accountId, factory })
  await loader.load()
  await loader.written()
  const records = await transact(factory, OPERATOR_SNAPSHOTS, 'readonly', s => s[OPERATOR_SNAPSHOTS].getAll())
  const segments = await transact(factory, OPERATOR_SEGMENTS, 'readonly', s => s[OPERATOR_SEGMENTS].getAll())
  assert.ok(records.length >= 1, 'a keyring chunk')
  assert.equal(segments.length, 2, 'the sealed segments of the closed days (one of them empty)')
  const blobs = []
  for (const r of records) for (const p of r.parts) blobs.push(Buffer.from(p.data))
  for (const s of segments) blobs.push(Buffer.from(s.sealed))
  const all = Buffer.concat(blobs)
  assert.equal(all.indexOf('marker-page'), -1)
  assert.equal(all.indexOf('marker-ref'), -1)
  for (const raw of secrets) assert.equal(all.indexOf(Buffer.from(raw)), -1)
})
