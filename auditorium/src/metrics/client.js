// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Main-thread side of the metrics workers: shards events by secret id across N workers (so
// each visitor, and each of their sessions, lives in exactly one shard), broadcasts
// tombstones, and merges the shards' partial aggregates into one metrics object.

import { finalize, mergePartials, normalizeQuery } from './aggregate.js'

/** shardOf maps a secret id to a shard in [0, n) (FNV-1a over its UTF-16 code units). */
export function shardOf (secretId, n) {
  let h = 0x811c9dc5
  for (let i = 0; i < secretId.length; i++) {
    h ^= secretId.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % n
}

/**
 * packItems turns ciphertext items into one string, `packed`: lines of eventId, secretId,
 * keyId, payload and accountId ('' when absent) separated by tabs. A worker copies one long
 * string much faster than thousands of small objects. Items with a field that is no string
 * stay objects in `items`. A field holding a tab or a newline (which no valid item has)
 * yields lines that unpackItems marks as broken, so they count as unreadable.
 */
export function packItems (list) {
  const lines = []
  const items = []
  for (const it of list) {
    if (it !== null && typeof it === 'object' && typeof it.eventId === 'string' && typeof it.secretId === 'string' &&
      typeof it.keyId === 'string' && typeof it.payload === 'string' && (it.accountId === undefined || typeof it.accountId === 'string')) {
      lines.push(it.eventId + '\t' + it.secretId + '\t' + it.keyId + '\t' + it.payload + '\t' + (it.accountId === undefined ? '' : it.accountId))
    } else {
      items.push(it)
    }
  }
  return { packed: lines.join('\n'), items }
}

/**
 * unpackItems reverses packItems (accountId is left out where it was ''); a line without
 * exactly five fields becomes an item with no valid payload.
 */
export function unpackItems (packed, items = []) {
  const out = []
  if (packed) {
    for (const line of packed.split('\n')) {
      const f = line.split('\t')
      const it = f.length === 5
        ? { eventId: f[0], secretId: f[1], keyId: f[2], payload: f[3] }
        : { eventId: f[0], secretId: f.length > 1 ? f[1] : '', keyId: f.length > 2 ? f[2] : '', payload: null }
      if (f.length === 5 && f[4] !== '') it.accountId = f[4]
      out.push(it)
    }
  }
  for (const it of items) out.push(it)
  return out
}

class Connection {
  constructor (worker) {
    this.worker = worker
    this.pending = new Map()
    this.next = 1
    worker.onmessage = (event) => {
      const reply = event.data
      const p = this.pending.get(reply && reply.id)
      if (!p) return
      this.pending.delete(reply.id)
      if (reply.ok) p.resolve(reply.result)
      else p.reject(new Error(reply.error))
    }
    worker.onerror = (event) => {
      const err = new Error('metrics: worker failed: ' + ((event && event.message) || 'unknown error'))
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    }
  }

  call (op, fields = {}) {
    const id = this.next++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ ...fields, id, op })
    })
  }
}

/**
 * MetricsClient drives N metrics workers.
 *
 *   new MetricsClient({createWorker, workers})
 *     createWorker()  returns a Worker (or anything with postMessage/onmessage/terminate)
 *     workers         number of shards, default navigator.hardwareConcurrency (at least 1)
 *   setKeys(keys)          [{keyId, secretId, secret}]: user secrets (Uint8Array or CryptoKey);
 *                          sent to the shard of secretId (to all when secretId is missing)
 *   setAccount(privateKey, accountId), unwrap(secrets)  the shards unwrap user secrets themselves
 *   ingest(items, accountId)  ciphertexts [{eventId, secretId, keyId, payload, accountId?}]
 *   add(records)           decrypted records [{eventId, secretId, keyId, payload}]
 *   remove(tombstones)     [{kind, target}], applied by every shard
 *   partial(query)         merged partial aggregate;  query(query): the metrics object
 *   stats(), clear(), terminate()
 * Batch results are summed over shards.
 */
export class MetricsClient {
  constructor ({ createWorker, workers } = {}) {
    if (typeof createWorker !== 'function') throw new Error('metrics: createWorker is required')
    const hw = typeof navigator !== 'undefined' && navigator.hardwareConcurrency
    const n = Math.max(1, Math.floor(workers || hw || 1))
    this.connections = Array.from({ length: n }, () => new Connection(createWorker()))
  }

  get shards () {
    return this.connections.length
  }

  // _route splits list by the shard of each item's secret id; items without one go to every
  // shard when broadcast is set, else to shard 0 (where they are counted as unreadable).
  _route (list, secretIdOf, broadcast = false) {
    const parts = this.connections.map(() => [])
    const everywhere = []
    const cache = this._shardCache || (this._shardCache = new Map())
    if (cache.size > 500000) cache.clear()
    for (const item of list) {
      const s = item ? secretIdOf(item) : undefined
      if (typeof s === 'string' && s !== '') {
        let shard = cache.get(s)
        if (shard === undefined) cache.set(s, (shard = shardOf(s, parts.length)))
        parts[shard].push(item)
      }
      else if (broadcast) everywhere.push(item)
      else parts[0].push(item)
    }
    if (everywhere.length) parts.forEach(p => p.push(...everywhere))
    return parts
  }

  async _sum (calls) {
    const results = await Promise.all(calls)
    const out = {}
    for (const r of results) {
      for (const [k, v] of Object.entries(r)) if (typeof v === 'number') out[k] = (out[k] || 0) + v
    }
    return out
  }

  setKeys (keys) {
    const parts = this._route(keys, k => k.secretId, true)
    return this._sum(parts.map((p, i) => this.connections[i].call('keys', { keys: p.map(k => [k.keyId, k.secret]) })))
  }

  /** setAccount gives every shard the account's private key (a CryptoKey) for unwrap(). */
  setAccount (privateKey, accountId) {
    return this._sum(this.connections.map(c => c.call('account', { privateKey, accountId })))
  }

  /**
   * unwrap has the shards unwrap wrapped user secrets [{keyId, secretId, wrappedSecret}] (each
   * in the shard of its secret id) and keep them; it resolves with {keys: [{keyId, secretId,
   * secret}], unreadable: [keyId], added, unreadableEvents}.
   */
  async unwrap (secrets) {
    const parts = this._route(secrets, r => r.secretId)
    const results = await Promise.all(parts.map((p, i) => p.length ? this.connections[i].call('unwrap', { secrets: p }) : null))
    const out = { keys: [], unreadable: [], added: 0, unreadableEvents: 0 }
    for (const r of results) {
      if (!r) continue
      r.keyIds.forEach((keyId, j) => out.keys.push({ keyId, secretId: r.secretIds[j], secret: r.secrets.subarray(32 * j, 32 * j + 32) }))
      out.unreadable.push(...r.unreadable)
      out.added += r.added
      out.unreadableEvents += r.unreadableEvents
    }
    return out
  }

  ingest (items, accountId) {
    const parts = this._route(items, it => it.secretId)
    return this._sum(parts.map((p, i) => this.connections[i].call('ingest', { accountId, ...packItems(p) })))
  }

  /** decrypt decrypts items in the shards of their secret ids without storing them (export). */
  async decrypt (items, accountId) {
    const parts = this._route(items, it => it.secretId)
    const results = await Promise.all(parts.map((p, i) => p.length ? this.connections[i].call('decrypt', { accountId, items: p }) : null))
    const out = { records: [], unreadable: 0 }
    for (const r of results) {
      if (!r) continue
      for (const rec of r.records) out.records.push(rec)
      out.unreadable += r.unreadable
    }
    return out
  }

  add (records) {
    const parts = this._route(records, r => r.secretId)
    return this._sum(parts.map((p, i) => this.connections[i].call('add', { records: p })))
  }

  remove (tombstones) {
    return this._sum(this.connections.map(c => c.call('remove', { tombstones })))
  }

  async partial (query) {
    const q = normalizeQuery(query) // fixes `now` and the time zone once for every shard
    const partials = await Promise.all(this.connections.map(c => c.call('partial', { query: q })))
    return mergePartials(partials)
  }

  async query (query) {
    return finalize(await this.partial(query))
  }

  /**
   * snapshot returns one snapshot per shard (see EventStore#snapshot); restore(snapshots)
   * loads them into a client with the same number of shards (events stay with the shard of
   * their secret id) and throws when the number differs.
   */
  async snapshot () {
    return Promise.all(this.connections.map(c => c.call('snapshot')))
  }

  restore (snapshots) {
    if (!Array.isArray(snapshots) || snapshots.length !== this.connections.length) {
      return Promise.reject(new Error('metrics: snapshot of a different number of shards'))
    }
    return this._sum(this.connections.map((c, i) => c.call('restore', { snapshot: snapshots[i] })))
  }

  stats () {
    return this._sum(this.connections.map(c => c.call('stats')))
  }

  clear () {
    return this._sum(this.connections.map(c => c.call('clear')))
  }

  terminate () {
    for (const c of this.connections) {
      if (typeof c.worker.terminate === 'function') c.worker.terminate()
      for (const p of c.pending.values()) p.reject(new Error('metrics: terminated'))
      c.pending.clear()
    }
  }
}
