// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory } from 'fake-indexeddb'
import * as storage from '../src/storage.js'
import { decryptEvent, encryptEvent } from '../src/crypto.js'

test('schema: database offen, version, stores and indexes', async () => {
  const factory = new IDBFactory()
  const db = await storage.openDatabase(factory)
  assert.equal(db.name, 'offen')
  assert.equal(db.version, storage.DB_VERSION)
  assert.deepEqual([...db.objectStoreNames].sort(), [
    storage.CURSORS, storage.OUTBOX,
    storage.SECRETS, storage.VISITOR_EVENTS, storage.WRAP_KEYS, storage.OPERATOR_SNAPSHOTS, storage.OPERATOR_SEGMENTS
  ].sort())
  const tx = db.transaction([storage.SECRETS, storage.OUTBOX, storage.OPERATOR_SNAPSHOTS], 'readonly')
  assert.deepEqual([...tx.objectStore(storage.SECRETS).indexNames], ['accountId'])
  assert.deepEqual([...tx.objectStore(storage.OUTBOX).indexNames], ['accountId'])
  assert.deepEqual([...tx.objectStore(storage.OPERATOR_SNAPSHOTS).indexNames], ['account'])
  assert.equal(await storage.openDatabase(factory), db, 'connection cached')
})

test('schema: version 3 drops the per-event operator stores of version 2 and keeps the rest', async () => {
  const factory = new IDBFactory()
  const v2 = await new Promise((resolve, reject) => {
    const req = factory.open(storage.DB_NAME, 2)
    // version 2 as browsers have it (the stores this test looks at)
    req.onupgradeneeded = () => {
      const db = req.result
      db.createObjectStore(storage.CURSORS, { keyPath: 'feed' })
      db.createObjectStore(storage.OPERATOR_EVENTS, { keyPath: ['loginId', 'accountId', 'eventId'] })
      db.createObjectStore(storage.OPERATOR_SECRETS, { keyPath: ['loginId', 'accountId', 'keyId'] })
      db.createObjectStore(storage.OPERATOR_SNAPSHOTS, { keyPath: ['loginId', 'accountId', 'shard'] })
    }
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  await new Promise((resolve) => {
    const tx = v2.transaction([storage.OPERATOR_EVENTS, storage.CURSORS], 'readwrite')
    tx.objectStore(storage.OPERATOR_EVENTS).put({ loginId: 'l', accountId: 'a', eventId: 'e', payload: 'a1.x.y' })
    tx.objectStore(storage.CURSORS).put({ feed: 'visitor', cursor: 'c' })
    tx.oncomplete = resolve
  })
  v2.close()
  const db = await storage.openDatabase(factory)
  assert.equal(db.version, storage.DB_VERSION)
  assert.ok(!db.objectStoreNames.contains(storage.OPERATOR_EVENTS))
  assert.ok(!db.objectStoreNames.contains(storage.OPERATOR_SECRETS))
  assert.ok(db.objectStoreNames.contains(storage.OPERATOR_SNAPSHOTS))
  assert.equal(await storage.createStorage(factory).cursor('visitor'), 'c')
})

test('schema: version 4 drops the shard snapshots and the dashboard cursors, keeps the keyring', async () => {
  const factory = new IDBFactory()
  const v3 = await new Promise((resolve, reject) => {
    const req = factory.open(storage.DB_NAME, 3)
    // version 3 as browsers have it (the stores this test looks at)
    req.onupgradeneeded = () => {
      const db = req.result
      db.createObjectStore(storage.CURSORS, { keyPath: 'feed' })
      db.createObjectStore(storage.OPERATOR_SNAPSHOTS, { keyPath: ['loginId', 'accountId', 'shard'] }).createIndex('account', ['loginId', 'accountId'])
    }
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  await new Promise((resolve) => {
    const tx = v3.transaction([storage.OPERATOR_SNAPSHOTS, storage.CURSORS], 'readwrite')
    tx.objectStore(storage.OPERATOR_SNAPSHOTS).put({ loginId: 'l', accountId: 'a', shard: 0, parts: [] })
    tx.objectStore(storage.OPERATOR_SNAPSHOTS).put({ loginId: 'l', accountId: 'a', shard: 'keys|x', parts: [] })
    tx.objectStore(storage.CURSORS).put({ feed: 'operator/l/a/keyring', cursor: 'c' })
    tx.objectStore(storage.CURSORS).put({ feed: 'visitor', cursor: 'v' })
    tx.oncomplete = resolve
  })
  v3.close()
  const db = await storage.openDatabase(factory)
  assert.equal(db.version, storage.DB_VERSION)
  assert.ok(db.objectStoreNames.contains(storage.OPERATOR_SEGMENTS))
  const left = await storage.transact(factory, storage.OPERATOR_SNAPSHOTS, 'readonly', s => s[storage.OPERATOR_SNAPSHOTS].getAll())
  assert.deepEqual(left.map(r => r.shard), ['keys|x'])
  const s = storage.createStorage(factory)
  assert.equal(await s.cursor('operator/l/a/keyring'), undefined)
  assert.equal(await s.cursor('visitor'), 'v')
})

test('a stored non-extractable secret still decrypts the visitor own events', async () => {
  const s = storage.createStorage(new IDBFactory())
  const accountId = '9b63c4d8-3a6c-4e8e-9a55-2f1d7c0e5b11'
  const key = await crypto.subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(32)), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
  await s.putSecret({ keyId: 'a'.repeat(32), accountId, key, createdAt: 1, exchanged: true })
  await s.putSecret({ keyId: 'b'.repeat(32), accountId: 'other', key, createdAt: 2, exchanged: true })
  const [got] = await s.secrets(accountId)
  assert.equal(got.keyId, 'a'.repeat(32))
  assert.equal(got.key.extractable, false)
  const a1 = await encryptEvent(key, accountId, { v: 1, href: 'https://a.test/' })
  assert.deepEqual(await decryptEvent(got.key, accountId, a1), { v: 1, href: 'https://a.test/' })
})

test('outbox, cursors and wrap keys', async () => {
  const s = storage.createStorage(new IDBFactory())
  const id1 = await s.addOutbox({ accountId: 'x', keyId: 'k', payload: 'a1.p', createdAt: 1 })
  const id2 = await s.addOutbox({ accountId: 'x', keyId: 'k', payload: 'a1.q', createdAt: 2 })
  await s.addOutbox({ accountId: 'y', keyId: 'k', payload: 'a1.r', createdAt: 3 })
  assert.deepEqual((await s.outbox('x')).map((i) => i.id), [id1, id2])
  await s.deleteOutbox([id1])
  assert.deepEqual((await s.outbox('x')).map((i) => i.payload), ['a1.q'])
  assert.equal(await s.cursor('visitor'), undefined)
  await s.setCursor('visitor', 'c1')
  assert.equal(await s.cursor('visitor'), 'c1')
  const wrap = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  await s.putWrapKey('login-1', wrap)
  assert.equal((await s.wrapKey('login-1')).type, 'secret')
  await s.deleteWrapKey('login-1')
  assert.equal(await s.wrapKey('login-1'), undefined)
})

test('forgetVisitor: one account or all', async () => {
  const s = storage.createStorage(new IDBFactory())
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  for (const accountId of ['x', 'y']) {
    await s.putSecret({ keyId: accountId + 'k', accountId, key, createdAt: 1, exchanged: true })
    await s.addOutbox({ accountId, keyId: accountId + 'k', payload: 'a1.p', createdAt: 1 })
    await storage.transact(s.factory, storage.VISITOR_EVENTS, 'readwrite', (st) => { st[storage.VISITOR_EVENTS].put({ eventId: accountId + 'e', accountId, keyId: accountId + 'k', payload: 'a1.p' }) })
  }
  await s.setCursor('visitor', 'c')
  await s.forgetVisitor('x')
  assert.deepEqual([(await s.secrets('x')).length, (await s.outbox('x')).length], [0, 0])
  assert.deepEqual([(await s.secrets('y')).length, (await s.outbox('y')).length], [1, 1])
  assert.equal(await s.cursor('visitor'), undefined)
  const left = await storage.transact(s.factory, storage.VISITOR_EVENTS, 'readonly', (st) => st[storage.VISITOR_EVENTS].getAll())
  assert.deepEqual(left.map((e) => e.eventId), ['ye'])
  await s.forgetVisitor()
  assert.deepEqual([(await s.secrets('y')).length, (await s.outbox('y')).length], [0, 0])
})
