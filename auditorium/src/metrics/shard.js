// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The work of one metrics worker, free of any worker API so that it runs (and is tested) in
// node as well: decrypts ciphertext batches with the user secrets it was given, validates the
// plaintext, keeps an EventStore and answers queries with partial aggregates.

import { normalizeQuery } from './aggregate.js'
import { unpackItems } from './client.js'
import { EventStore } from './store.js'

const DECRYPT_BATCH = 1000
const UNWRAP_BATCH = 256

/**
 * createShard returns {store, handle}. handle(message) resolves to the reply of one request
 * of the worker protocol (see README.md):
 *
 *   request  {id, op, ...}
 *   reply    {id, ok: true, result} | {id, ok: false, error: string}
 *
 * The reply to 'snapshot' also has `transfer`, the ArrayBuffers to move, not copy.
 *
 * decrypt(secretBytesOrKey, accountId, a1String) -> Promise<object> (or, faster,
 * decryptMany(accountId, cryptoKeys, a1Strings) -> Promise<Array<object|Error>>),
 * importKey(bytes) -> Promise<CryptoKey> and unwrap(privateKey, accountId, e1String) ->
 * Promise<Uint8Array> come from keys/js/crypto.js (decryptEvent, importAesKey,
 * unwrapUserSecret); tests may pass their own.
 */
export function createShard ({ decrypt, decryptMany, importKey, unwrap } = {}) {
  let store = new EventStore()
  let account = null // {privateKey, accountId}: unwraps the secrets of this shard
  const secrets = new Map() // keyId -> Uint8Array | CryptoKey
  const imported = new Map() // keyId -> Promise<CryptoKey>
  // ciphertexts whose key this shard lacks: unreadable for now, decrypted when the key comes
  const pending = new Map() // keyId -> Map(eventId -> item)

  function keyFor (keyId) {
    let k = imported.get(keyId)
    if (!k) {
      const secret = secrets.get(keyId)
      if (secret === undefined) return null
      k = importKey ? Promise.resolve().then(() => importKey(secret)) : Promise.resolve(secret)
      imported.set(keyId, k)
    }
    return k
  }

  const MISSING = 'missing'

  async function decryptOne (item) {
    const key = keyFor(item.keyId)
    if (!key) return MISSING
    try {
      const payload = await decrypt(await key, item.accountId, item.payload)
      return { eventId: item.eventId, secretId: item.secretId, keyId: item.keyId, accountId: item.accountId, payload }
    } catch (_) {
      return null
    }
  }

  // decryptBatch decrypts a batch with decryptMany: the keys first, then every ciphertext
  // of an account in one call (all AES-GCM operations in flight at once).
  async function decryptBatch (batch) {
    const keys = new Map()
    for (const item of batch) {
      if (keys.has(item.keyId)) continue
      const k = keyFor(item.keyId)
      keys.set(item.keyId, k ? k.then(key => key, () => null) : MISSING)
    }
    for (const [keyId, k] of keys) keys.set(keyId, await k)
    const plain = new Array(batch.length)
    const groups = new Map() // accountId -> indexes
    batch.forEach((item, j) => {
      const key = keys.get(item.keyId)
      if (key === MISSING || key === null) {
        plain[j] = key
        return
      }
      let g = groups.get(item.accountId)
      if (!g) groups.set(item.accountId, (g = []))
      g.push(j)
    })
    for (const [accountId, idx] of groups) {
      const out = await decryptMany(accountId, idx.map(j => keys.get(batch[j].keyId)), idx.map(j => batch[j].payload))
      idx.forEach((j, k) => {
        const payload = out[k]
        const item = batch[j]
        plain[j] = payload instanceof Error || payload === null || typeof payload !== 'object'
          ? null
          : { eventId: item.eventId, secretId: item.secretId, keyId: item.keyId, accountId: item.accountId, payload }
      })
    }
    return plain
  }

  // decryptAll decrypts items (each with its accountId) and stores them; failures count as
  // unreadable, and items without a key wait in pending.
  async function decryptAll (items, total) {
    for (let i = 0; i < items.length; i += DECRYPT_BATCH) {
      const batch = items.slice(i, i + DECRYPT_BATCH)
      const plain = typeof decryptMany === 'function' && importKey ? await decryptBatch(batch) : await Promise.all(batch.map(decryptOne))
      const records = []
      const failed = []
      plain.forEach((rec, j) => {
        const item = batch[j]
        if (rec === MISSING) {
          if (!pending.has(item.keyId)) pending.set(item.keyId, new Map())
          pending.get(item.keyId).set(item.eventId, item)
          failed.push(item)
        } else if (rec === null) {
          failed.push(item)
        } else {
          records.push(rec)
        }
      })
      const res = store.add(records)
      const fresh = store.markUnreadable(failed)
      total.added += res.added
      total.duplicates += res.duplicates + failed.length - fresh // known unreadable ones too
      total.ignored += res.ignored
      total.unreadable += res.unreadable + fresh
    }
    return total
  }

  // addKeys takes user secrets ([keyId, secret] pairs) and decrypts the events waiting for them
  async function addKeys (entries) {
    let n = 0
    const waiting = []
    for (const entry of entries) {
      const [keyId, secret] = Array.isArray(entry) ? entry : [entry.keyId, entry.secret]
      if (typeof keyId !== 'string' || !secret) continue
      if (secrets.get(keyId) !== secret) imported.delete(keyId)
      secrets.set(keyId, secret)
      n++
      const items = pending.get(keyId)
      if (items) {
        pending.delete(keyId)
        waiting.push(...items.values())
      }
    }
    // events that arrived before their key: no longer unreadable unless they fail again
    store.forgetUnreadable(waiting.map(item => item.eventId))
    const res = await decryptAll(waiting, { added: 0, duplicates: 0, unreadable: 0, ignored: 0 })
    return { keys: n, added: res.added, unreadable: res.unreadable }
  }

  const ops = {
    keys (msg) {
      return addKeys(msg.keys instanceof Map ? msg.keys : Array.isArray(msg.keys) ? msg.keys : Object.entries(msg.keys || {}))
    },
    account (msg) {
      account = { privateKey: msg.privateKey, accountId: msg.accountId }
      return {}
    },
    // unwrap: wrapped user secrets [{keyId, secretId, wrappedSecret}] of this shard's visitors,
    // unwrapped here with the account's private key (one ECDH each, many in flight) and kept
    // like those of 'keys'. The reply hands the secrets back for the encrypted keyring:
    // {keyIds, secretIds, secrets: Uint8Array(32 × n) (transferred), unreadable: [keyId],
    // added, unreadableEvents}.
    async unwrap (msg) {
      if (typeof unwrap !== 'function') throw new Error('metrics: this shard cannot unwrap')
      if (!account) throw new Error('metrics: no account private key')
      const list = msg.secrets || []
      const ok = []
      const failed = []
      for (let i = 0; i < list.length; i += UNWRAP_BATCH) {
        const batch = list.slice(i, i + UNWRAP_BATCH)
        const out = await Promise.all(batch.map(r => unwrap(account.privateKey, account.accountId, r.wrappedSecret).catch(() => null)))
        out.forEach((secret, j) => (secret ? ok.push([batch[j], secret]) : failed.push(batch[j].keyId)))
      }
      const res = await addKeys(ok.map(([r, secret]) => [r.keyId, secret]))
      const bytes = new Uint8Array(32 * ok.length)
      ok.forEach(([, secret], j) => bytes.set(secret, 32 * j))
      return {
        result: { keyIds: ok.map(([r]) => r.keyId), secretIds: ok.map(([r]) => r.secretId), secrets: bytes, unreadable: failed, added: res.added, unreadableEvents: res.unreadable },
        transfer: [bytes.buffer]
      }
    },
    async ingest (msg) {
      if (typeof decrypt !== 'function' && typeof decryptMany !== 'function') throw new Error('metrics: this shard cannot decrypt')
      const items = unpackItems(msg.packed)
      for (const item of items) if (!item.accountId) item.accountId = msg.accountId
      for (const item of msg.items || []) items.push(item && item.accountId ? item : { ...item, accountId: msg.accountId })
      return decryptAll(items, { added: 0, duplicates: 0, unreadable: 0, ignored: 0 })
    },
    // decrypt: ciphertexts of this shard's visitors decrypted with the keys held, for an
    // export; nothing is stored. {records: [{eventId, secretId, keyId, payload}], unreadable}
    async decrypt (msg) {
      const items = (msg.items || []).map(item => (item && item.accountId ? item : { ...item, accountId: msg.accountId }))
      const records = []
      let unreadable = 0
      for (let i = 0; i < items.length; i += DECRYPT_BATCH) {
        const batch = items.slice(i, i + DECRYPT_BATCH)
        const plain = typeof decryptMany === 'function' && importKey ? await decryptBatch(batch) : await Promise.all(batch.map(decryptOne))
        for (const rec of plain) {
          if (rec && rec !== MISSING) records.push({ eventId: rec.eventId, secretId: rec.secretId, keyId: rec.keyId, payload: rec.payload })
          else unreadable++
        }
      }
      return { records, unreadable }
    },
    add (msg) {
      return store.add(msg.records || [])
    },
    reserve (msg) {
      store.reserve(Math.max(0, Math.floor(msg.events) || 0))
      return {}
    },
    remove (msg) {
      const tombstones = msg.tombstones || []
      for (const ts of tombstones) {
        if (!ts || typeof ts.target !== 'string') continue
        if (ts.kind === 'secret') {
          secrets.delete(ts.target)
          imported.delete(ts.target)
          pending.delete(ts.target)
        } else if (ts.kind === 'event' || ts.kind === 'before') {
          const target = ts.target.toUpperCase()
          for (const items of pending.values()) {
            for (const [id, item] of items) {
              const u = id.toUpperCase()
              if (ts.kind === 'event' ? u === target : u < target && (!ts.accountId || ts.accountId === item.accountId)) items.delete(id)
            }
          }
        }
      }
      return store.remove(tombstones)
    },
    partial (msg) {
      return store.partial(normalizeQuery(msg.query))
    },
    snapshot () {
      const { snapshot, transfer } = store.snapshot()
      const waiting = []
      for (const items of pending.values()) waiting.push(...items.values())
      snapshot.pending = waiting
      return { result: snapshot, transfer }
    },
    restore (msg) {
      store = EventStore.fromSnapshot(msg.snapshot)
      pending.clear()
      for (const item of msg.snapshot.pending || []) {
        if (!pending.has(item.keyId)) pending.set(item.keyId, new Map())
        pending.get(item.keyId).set(item.eventId, item)
      }
      return { size: store.size, unreadable: store.unreadable }
    },
    clear () {
      store.clear()
      secrets.clear()
      imported.clear()
      pending.clear()
      return {}
    },
    stats () {
      let waiting = 0
      for (const items of pending.values()) waiting += items.size
      return { size: store.size, unreadable: store.unreadable, keys: secrets.size, pending: waiting }
    }
  }

  // requests run one after another, in the order they arrived, so that a query sees every
  // batch sent before it
  let tail = Promise.resolve()
  function handle (msg) {
    const reply = tail.then(() => run(msg))
    tail = reply
    return reply
  }

  async function run (msg) {
    const id = msg && msg.id
    try {
      const op = msg && Object.hasOwn(ops, msg.op) ? ops[msg.op] : null
      if (!op) throw new Error(`metrics: unknown op ${msg && msg.op}`)
      const result = await op(msg)
      if (msg.op === 'snapshot' || msg.op === 'unwrap') return { id, ok: true, result: result.result, transfer: result.transfer }
      return { id, ok: true, result }
    } catch (err) {
      return { id, ok: false, error: String((err && err.message) || err) }
    }
  }

  return { get store () { return store }, handle }
}
