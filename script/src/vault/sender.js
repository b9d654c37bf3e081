// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The sender owns the visitor's user secrets for one account and the outbox: it encrypts
// events into IndexedDB and delivers them (PROTOCOL §4, "Visitor, first page view").
// Nothing leaves the outbox before the server acknowledged it with 201 or 204.

import { decryptEvent, encryptEvent, generateUserSecret, importAesKey, newKeyId, wrapUserSecret } from '../crypto.js'

const keys = { decryptEvent, encryptEvent, generateUserSecret, importAesKey, newKeyId, wrapUserSecret }

const BATCH = 10
const MAX_BACKOFF = 5 * 60 * 1000
const TIMEOUT = 30 * 1000

// Retry marks failures worth trying again later (network errors, 5xx, 429, and 408: the
// request was too slow to arrive).
class Retry extends Error {}
// Stop marks failures that end this flush without scheduling another one.
class Stop extends Error {}

const failure = (status) => (status >= 500 || status === 429 || status === 408 ? new Retry('status ' + status) : new Stop('status ' + status))

// createSender returns {queue(plaintext), flush()} for accountId. deps: storage (see
// storage.js createStorage), fetch, crypto (keys/js/crypto.js API), now() ms,
// setTimeout (for retries), lock(name, fn) for cross-tab exclusion, base (URL prefix of the API),
// maxAge ms (outbox items older than this, e.g. the retention, are dropped; 0 keeps all),
// allowed() (false once consent is withdrawn, e.g. in the auditorium: nothing is sent).
export function createSender ({
  accountId,
  storage,
  fetch = globalThis.fetch,
  crypto = keys,
  now = Date.now,
  setTimeout = globalThis.setTimeout,
  lock = (name, fn) => fn(),
  base = '',
  maxAge = 0,
  allowed = () => true
}) {
  let secretP = null
  let running = null
  let again = false
  let timer = null
  let failures = 0

  const api = async (method, path, body) => {
    // a hanging request must not hold the outbox lock forever
    const abort = globalThis.AbortController ? new AbortController() : null
    const timeout = abort && globalThis.setTimeout(() => abort.abort(), TIMEOUT)
    try {
      return await fetch(base + path, {
        method,
        credentials: 'include',
        cache: 'no-store',
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: abort ? abort.signal : undefined
      })
    } catch (err) {
      throw new Retry(String(err))
    } finally {
      globalThis.clearTimeout(timeout)
    }
  }

  // newSecret creates and stores a secret that is not exchanged yet.
  const newSecret = async () => {
    const raw = crypto.generateUserSecret()
    const key = await crypto.importAesKey(raw)
    const record = { keyId: crypto.newKeyId(), accountId, key, raw, exchanged: false, createdAt: now() }
    await storage.putSecret(record)
    return record
  }

  // current resolves to the newest secret of the account, creating one when none exists.
  const current = () => {
    if (!secretP) {
      secretP = storage.secrets(accountId)
        .then((list) => list.length ? list[list.length - 1] : newSecret())
        .catch((err) => { secretP = null; throw err })
    }
    return secretP
  }

  // rekey moves outbox items from one keyId to another, re-encrypting when the key changes.
  const rekey = async (fromKeyId, to, fromKey) => {
    const items = (await storage.outbox(accountId)).filter((i) => i.keyId === fromKeyId)
    const out = []
    const drop = []
    for (const item of items) {
      if (fromKey) {
        try {
          item.payload = await crypto.encryptEvent(to.key, accountId, await crypto.decryptEvent(fromKey, accountId, item.payload))
        } catch {
          drop.push(item.id)
          continue
        }
      }
      item.keyId = to.keyId
      out.push(item)
    }
    await storage.putOutbox(out)
    if (drop.length) await storage.deleteOutbox(drop)
  }

  // exchange registers a stored, unexchanged secret with the server.
  const exchange = async (record) => {
    let res = await api('GET', '/api/exchange?accountId=' + encodeURIComponent(accountId))
    if (!res.ok) throw failure(res.status)
    const { publicKey } = await res.json()
    const wrappedSecret = await crypto.wrapUserSecret(publicKey, accountId, record.raw)
    for (let attempt = 0; ; attempt++) {
      res = await api('POST', '/api/exchange', { accountId, keyId: record.keyId, wrappedSecret })
      if (res.status === 201) break
      // 204: the server saw no consent cookie (e.g. blocked in this frame): send nothing.
      if (res.status === 409 && attempt === 0) {
        // keyId taken: keep the secret, take a new id
        const old = record.keyId
        record.keyId = crypto.newKeyId()
        await storage.putSecret(record)
        await storage.deleteSecret(old)
        await rekey(old, record, null)
        continue
      }
      throw failure(res.status)
    }
    record.exchanged = true
    delete record.raw
    await storage.putSecret(record)
  }

  const flushOnce = async () => {
    let reexchanged = false
    for (;;) {
      if (!allowed()) throw new Stop('no consent')
      let items = await storage.outbox(accountId)
      if (maxAge) {
        // the server would expire them at once: events older than the retention
        const old = items.filter((i) => i.createdAt < now() - maxAge)
        if (old.length) await storage.deleteOutbox(old.map((i) => i.id))
        items = items.filter((i) => i.createdAt >= now() - maxAge)
      }
      if (!items.length) return
      const keyId = items[0].keyId
      const batch = items.filter((i) => i.keyId === keyId).slice(0, BATCH)
      const record = await storage.secret(keyId)
      if (record && !record.exchanged) await exchange(record)
      // Marked before they go: when the answer is lost (the page closes between the server's
      // 201 and the deletion below), the next flush sends them as a resend, and the server
      // keeps each payload once.
      const resend = batch.some((i) => i.sent)
      const fresh = batch.filter((i) => !i.sent)
      if (fresh.length) {
        for (const i of fresh) i.sent = true
        await storage.putOutbox(fresh)
      }
      const body = { accountId, keyId: record ? record.keyId : keyId, payloads: batch.map((i) => i.payload) }
      if (resend) body.resend = true
      const res = await api('POST', '/api/events', body)
      if (res.status === 201 || res.status === 204) {
        await storage.deleteOutbox(batch.map((i) => i.id))
        continue
      }
      if (res.status === 409 && !reexchanged) {
        // The server does not know this keyId for this visitor (no user cookie, or the
        // cookie changed): new secret, new exchange, re-encrypt the waiting events, retry.
        // Events still under an older keyId than the current secret (queued while an
        // earlier re-exchange ran) move to the current secret without a new one.
        reexchanged = true
        let target = await current()
        if (target.keyId === keyId) {
          target = await newSecret()
          secretP = Promise.resolve(target)
          await exchange(target)
        }
        if (record) await rekey(keyId, target, record.key)
        else await storage.deleteOutbox(batch.map((i) => i.id))
        continue
      }
      if (res.status === 400 || res.status === 404 || res.status === 413) {
        // the server will never accept these payloads: drop them instead of looping
        await storage.deleteOutbox(batch.map((i) => i.id))
        continue
      }
      throw failure(res.status)
    }
  }

  const schedule = () => {
    if (timer) return
    const delay = Math.min(MAX_BACKOFF, 1000 * 2 ** Math.min(failures, 16))
    timer = setTimeout(() => { timer = null; flush() }, delay)
  }

  // flush delivers the outbox; concurrent calls coalesce. It never rejects and resolves to
  // true when the outbox was emptied.
  const flush = () => {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      let ok = false
      do {
        again = false
        try {
          await lock('offen-outbox-' + accountId, flushOnce)
          failures = 0
          ok = true
        } catch (err) {
          ok = false
          if (!(err instanceof Stop)) {
            failures++
            schedule()
          }
          break
        }
      } while (again)
      running = null
      return ok
    })()
    return running
  }

  // queue encrypts a plaintext event under the account's current secret into the outbox.
  const queue = async (plaintext) => {
    const record = await current()
    const payload = await crypto.encryptEvent(record.key, accountId, plaintext)
    await storage.addOutbox({ accountId, keyId: record.keyId, payload, createdAt: now() })
  }

  return { queue, flush }
}
