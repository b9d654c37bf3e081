// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory } from 'fake-indexeddb'
import { createStorage } from '../src/storage.js'
import { createSender } from '../src/vault/sender.js'
import { fakeServer } from './server.js'
import { waitFor } from './fakes.js'
import * as keys from '../src/crypto.js'

const accountId = '9b63c4d8-3a6c-4e8e-9a55-2f1d7c0e5b11'
const ev = (n) => ({ v: 1, type: 'PAGEVIEW', href: `https://www.example.org/${n}`, referrer: '', pageload: null, timestamp: new Date().toISOString(), sessionId: 'a'.repeat(32), geo: 'DE', isMobile: false })

function setup (server, factory = new IDBFactory()) {
  const timers = []
  const storage = createStorage(factory)
  const sender = createSender({ accountId, storage, fetch: server.fetch, setTimeout: (fn, ms) => timers.push({ fn, ms }) })
  return { sender, storage, timers, factory }
}

test('events are encrypted, exchanged and delivered in batches of at most 10', async () => {
  const server = await fakeServer(accountId)
  const { sender, storage } = setup(server)
  for (let i = 0; i < 23; i++) await sender.queue(ev(i))
  assert.equal(await sender.flush(), true)
  assert.equal((await storage.outbox(accountId)).length, 0)
  const posts = server.requests.filter((r) => r.url === '/api/events')
  assert.deepEqual(posts.map((r) => JSON.parse(r.body).payloads.length), [10, 10, 3])
  for (const r of server.requests) assert.equal(r.credentials, 'include')
  for (const r of posts) assert.ok(!r.body.includes('example.org'), 'plaintext in request body')
  const got = await server.decrypted()
  assert.deepEqual(got.map((e) => e.href), Array.from({ length: 23 }, (_, i) => `https://www.example.org/${i}`))
  const [secret] = await storage.secrets(accountId)
  assert.equal(secret.exchanged, true)
  assert.equal(secret.raw, undefined, 'raw secret kept after exchange')
  assert.equal(secret.key.extractable, false)
})

test('server down: events stay in the outbox and are sent later, also after a reload', async () => {
  const server = await fakeServer(accountId)
  server.down = true
  const first = setup(server)
  await first.sender.queue(ev(1))
  assert.equal(await first.sender.flush(), false)
  await first.sender.queue(ev(2))
  assert.equal(first.timers.length, 1, 'no retry scheduled')
  first.timers[0].fn() // the retry timer fires while the server is still down
  await waitFor(() => first.timers.length === 2, 'second retry')
  assert.ok(first.timers[1].ms > first.timers[0].ms, 'no backoff')

  server.down = false
  server.status = 503
  first.timers[1].fn()
  await waitFor(() => first.timers.length === 3, 'third retry')
  assert.equal((await first.storage.outbox(accountId)).length, 2)

  // a new page load (new sender, same database) delivers everything
  server.status = 0
  const second = setup(server, first.factory)
  assert.equal(await second.sender.flush(), true)
  assert.equal((await second.storage.outbox(accountId)).length, 0)
  assert.deepEqual((await server.decrypted()).map((e) => e.href), ['https://www.example.org/1', 'https://www.example.org/2'])
})

test('an answer lost after the server stored the events: the next page resends them once', async () => {
  const server = await fakeServer(accountId)
  let lose = true
  // the page closes as the 201 arrives: stored, but never seen by the vault
  const fetch = async (url, init) => {
    const res = await server.fetch(url, init)
    if (lose && url === '/api/events') {
      lose = false
      throw new TypeError('Failed to fetch')
    }
    return res
  }
  const factory = new IDBFactory()
  const first = createSender({ accountId, storage: createStorage(factory), fetch, setTimeout: () => {} })
  await first.queue(ev(1))
  assert.equal(await first.flush(), false)
  const second = setup(server, factory)
  await second.sender.queue(ev(2))
  assert.equal(await second.sender.flush(), true)
  const posts = server.requests.filter((r) => r.url === '/api/events').map((r) => JSON.parse(r.body))
  assert.deepEqual(posts.map((b) => [b.payloads.length, b.resend === true]), [[1, false], [2, true]])
  assert.deepEqual((await server.decrypted()).map((e) => e.href), ['https://www.example.org/1', 'https://www.example.org/2'])
})

test('408 (the body arrived too slowly): the events stay and are retried', async () => {
  const server = await fakeServer(accountId)
  server.status = 408
  const { sender, storage, timers } = setup(server)
  await sender.queue(ev(1))
  assert.equal(await sender.flush(), false)
  assert.equal(timers.length, 1, 'no retry scheduled')
  assert.equal((await storage.outbox(accountId)).length, 1)
  server.status = 0
  timers[0].fn()
  await waitFor(async () => (await storage.outbox(accountId)).length === 0, 'the retry to deliver')
  assert.deepEqual((await server.decrypted()).map((e) => e.href), ['https://www.example.org/1'])
})

test('409 on events: new secret, new exchange, outbox re-encrypted, retried once', async () => {
  const server = await fakeServer(accountId)
  const { sender, storage } = setup(server)
  await sender.queue(ev(1))
  assert.equal(await sender.flush(), true)
  const [old] = await storage.secrets(accountId)

  server.user = null // the user cookie is gone
  server.down = true
  await sender.queue(ev(2))
  await sender.queue(ev(3))
  await sender.flush()
  server.down = false
  assert.equal(await sender.flush(), true)

  const secrets = await storage.secrets(accountId)
  assert.equal(secrets.length, 2, 'old secret kept for the visitor view')
  assert.notEqual(secrets[1].keyId, old.keyId)
  assert.equal(secrets[1].exchanged, true)
  const keyIds = server.events.map((e) => e.keyId)
  assert.deepEqual(keyIds, [old.keyId, secrets[1].keyId, secrets[1].keyId])
  assert.deepEqual((await server.decrypted()).map((e) => e.href), [1, 2, 3].map((n) => `https://www.example.org/${n}`))
  // later events use the new secret
  await sender.queue(ev(4))
  await sender.flush()
  assert.equal(server.events.at(-1).keyId, secrets[1].keyId)
})

test('409 twice: stops after one retry and keeps the events', async () => {
  const server = await fakeServer(accountId)
  const { sender, storage, timers } = setup(server)
  await sender.queue(ev(1))
  const realFetch = server.fetch
  server.fetch = async (url, init) => url === '/api/events' ? { status: 409, ok: false, json: async () => ({}) } : realFetch(url, init)
  const s2 = createSender({ accountId, storage, fetch: server.fetch, setTimeout: (fn, ms) => timers.push({ fn, ms }) })
  assert.equal(await s2.flush(), false)
  assert.equal(server.requests.filter((r) => r.method === 'POST' && r.url === '/api/exchange').length, 2)
  assert.equal((await storage.outbox(accountId)).length, 1)
  assert.equal(timers.length, 0, 'a 409 loop must not be retried on a timer')
})

test('exchange answered 204 (no consent seen by the server): nothing sent', async () => {
  const server = await fakeServer(accountId)
  server.consent = false
  const { sender } = setup(server)
  await sender.queue(ev(1))
  assert.equal(await sender.flush(), false)
  assert.equal(server.requests.filter((r) => r.url === '/api/events').length, 0)
})

test('409 on exchange (keyId taken): same secret under a new keyId', async () => {
  const server = await fakeServer(accountId)
  const taken = 'a'.repeat(32)
  server.secrets.set(taken, { user: 'someone else', wrappedSecret: 'e1.x' })
  const ids = [taken, 'b'.repeat(32)]
  const storage = createStorage(new IDBFactory())
  const sender = createSender({ accountId, storage, fetch: server.fetch, crypto: { ...keys, newKeyId: () => ids.shift() }, setTimeout: () => {} })
  await sender.queue(ev(1))
  assert.equal(await sender.flush(), true)
  const secrets = await storage.secrets(accountId)
  assert.deepEqual(secrets.map((s) => [s.keyId, s.exchanged]), [['b'.repeat(32), true]])
  assert.deepEqual(server.events.map((e) => e.keyId), ['b'.repeat(32)])
  assert.deepEqual((await server.decrypted()).map((e) => e.href), ['https://www.example.org/1'])
})

test('flush with an empty outbox creates no secret and sends nothing', async () => {
  const server = await fakeServer(accountId)
  const { sender, storage } = setup(server)
  assert.equal(await sender.flush(), true)
  assert.equal(server.requests.length, 0)
  assert.equal((await storage.secrets(accountId)).length, 0)
})

test('outbox items older than maxAge (the retention) are dropped, not sent', async () => {
  const server = await fakeServer(accountId)
  const storage = createStorage(new IDBFactory())
  let clock = 1_000_000
  const sender = createSender({ accountId, storage, fetch: server.fetch, now: () => clock, maxAge: 1000, setTimeout: () => {} })
  server.down = true
  await sender.queue(ev(1))
  await sender.flush()
  clock += 500
  await sender.queue(ev(2))
  clock += 700 // ev(1) is now 1200 ms old
  server.down = false
  assert.equal(await sender.flush(), true)
  assert.deepEqual((await server.decrypted()).map((e) => e.href), ['https://www.example.org/2'])
  assert.equal((await storage.outbox(accountId)).length, 0)
})

test('409 for an older keyId moves its events to the current secret without a new exchange', async () => {
  const server = await fakeServer(accountId)
  const { sender, storage } = setup(server)
  await sender.queue(ev(1))
  await sender.flush()
  const [a] = await storage.secrets(accountId)
  server.user = null // cookie lost: the next send re-exchanges
  await sender.queue(ev(2))
  assert.equal(await sender.flush(), true)
  assert.equal((await storage.secrets(accountId)).length, 2)
  // an event encrypted under the old secret reached the outbox late (a race with the above)
  await storage.addOutbox({ accountId, keyId: a.keyId, payload: await keys.encryptEvent(a.key, accountId, ev(3)), createdAt: Date.now() })
  assert.equal(await sender.flush(), true)
  assert.equal((await storage.secrets(accountId)).length, 2, 'no third secret')
  assert.equal(server.requests.filter((r) => r.method === 'POST' && r.url === '/api/exchange').length, 2)
  assert.deepEqual((await server.decrypted()).map((e) => e.href), [1, 2, 3].map((n) => `https://www.example.org/${n}`))
})

test('consent withdrawn (e.g. opt-out in the auditorium): a pending retry sends nothing', async () => {
  const server = await fakeServer(accountId)
  let consent = true
  const timers = []
  const storage = createStorage(new IDBFactory())
  const sender = createSender({ accountId, storage, fetch: server.fetch, allowed: () => consent, setTimeout: (fn) => timers.push(fn) })
  server.down = true
  await sender.queue(ev(1))
  assert.equal(await sender.flush(), false)
  server.down = false
  consent = false
  const before = server.requests.length
  timers[0]()
  await waitFor(async () => !(await sender.flush()), 'flush refused')
  assert.equal(server.requests.length, before)
  assert.equal(timers.length, 1, 'no further retries without consent')
})
