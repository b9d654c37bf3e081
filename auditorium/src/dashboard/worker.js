// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The dashboard's metrics worker: the metrics shard of src/metrics/ (same protocol, see its
// README.md) plus operations that keep the shard's snapshot (its decrypted columns) in
// IndexedDB, encrypted under the account's cache key (seal.js). The worker reads and writes
// IndexedDB itself, so the main thread never holds the columns.
//
//   cacheSave  {key: {loginId, accountId, shard, shards, cursor}, cacheKey}  -> {saved, size}
//   cacheLoad  {key: {loginId, accountId, shard, shards}, cacheKey}          -> {restored, cursor, size}
//
// Requests are handled one after another, in order, like the shard's own.

import { decryptEvent, decryptEvents, importAesKey, unwrapUserSecret } from '../../../keys/js/crypto.js'
import { OPERATOR_SNAPSHOTS, transact } from '../../../script/src/storage.js'
import { createShard } from '../metrics/shard.js'
import { decodeSnapshot, encodeSnapshot, open, seal } from './seal.js'

export const CACHE_VERSION = 1

/** createDashboardShard wraps a metrics shard with the cache operations. */
export function createDashboardShard ({ factory = globalThis.indexedDB, decrypt = decryptEvent, decryptMany = decryptEvents, importKey = importAesKey, unwrap = unwrapUserSecret } = {}) {
  const shard = createShard({ decrypt, decryptMany, importKey, unwrap })
  const call = async (msg) => {
    const reply = await shard.handle(msg)
    if (!reply.ok) throw new Error(reply.error)
    return reply.result
  }
  const own = {
    async cacheSave ({ key, cacheKey }) {
      const snapshot = await call({ op: 'snapshot' })
      const size = snapshot.n
      const bytes = encodeSnapshot(snapshot)
      const parts = await seal(cacheKey, key.accountId, `shard|${key.shards}|${key.shard}`, bytes)
      await transact(factory, OPERATOR_SNAPSHOTS, 'readwrite', s => {
        s[OPERATOR_SNAPSHOTS].put({
          loginId: key.loginId,
          accountId: key.accountId,
          shard: key.shard,
          shards: key.shards,
          cursor: key.cursor,
          version: CACHE_VERSION,
          parts,
          savedAt: Date.now()
        })
      })
      return { saved: 1, size }
    },
    async cacheLoad ({ key, cacheKey }) {
      const rec = await transact(factory, OPERATOR_SNAPSHOTS, 'readonly', s => s[OPERATOR_SNAPSHOTS].get([key.loginId, key.accountId, key.shard]))
      if (!rec || rec.shards !== key.shards || rec.version !== CACHE_VERSION) return { restored: 0, cursor: null, size: 0 }
      try {
        const bytes = await open(cacheKey, key.accountId, `shard|${key.shards}|${key.shard}`, rec.parts)
        const res = await call({ op: 'restore', snapshot: decodeSnapshot(bytes) })
        return { restored: 1, cursor: rec.cursor, size: res.size }
      } catch {
        return { restored: 0, cursor: null, size: 0 }
      }
    }
  }
  let tail = Promise.resolve()
  function handle (msg) {
    const run = async () => {
      if (msg && Object.hasOwn(own, msg.op)) {
        try {
          return { id: msg.id, ok: true, result: await own[msg.op](msg) }
        } catch (err) {
          return { id: msg.id, ok: false, error: String((err && err.message) || err) }
        }
      }
      return shard.handle(msg)
    }
    const reply = tail.then(run)
    tail = reply
    return reply
  }
  return { get store () { return shard.store }, handle }
}

if (typeof self !== 'undefined' && typeof self.postMessage === 'function' && typeof window === 'undefined') {
  const shard = createDashboardShard()
  self.onmessage = async (event) => {
    const reply = await shard.handle(event.data)
    const transfer = reply.transfer || []
    delete reply.transfer
    self.postMessage(reply, transfer)
  }
}
