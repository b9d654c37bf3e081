// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The dashboard's metrics worker: the metrics shard of src/metrics/ (same protocol, see its
// README.md) plus the segment operations of segment-ops.js:
//
//   segment     a sealed (or just encoded) segment: this shard's rows of the period
//   sealPeriod  a closed period's raw events: decrypted, encoded, sealed
//
// Requests are handled one after another, in order, like the shard's own.

import { decryptEvent, decryptEvents, importAesKey, unwrapUserSecret } from '../../../keys/js/crypto.js'
import { createShard } from '../metrics/shard.js'
import { segmentOps } from './segment-ops.js'

/** createDashboardShard wraps a metrics shard with the segment operations. */
export function createDashboardShard ({ decrypt = decryptEvent, decryptMany = decryptEvents, importKey = importAesKey, unwrap = unwrapUserSecret } = {}) {
  const shard = createShard({ decrypt, decryptMany, importKey, unwrap })
  let account = null
  const own = {
    ...segmentOps({ store: () => shard.store, account: () => account }),
    async account (msg) {
      account = { privateKey: msg.privateKey, accountId: msg.accountId }
      const reply = await shard.handle(msg)
      if (!reply.ok) throw new Error(reply.error)
      return reply.result
    }
  }
  let tail = Promise.resolve()
  function handle (msg) {
    const run = async () => {
      if (msg && Object.hasOwn(own, msg.op)) {
        try {
          const out = await own[msg.op](msg)
          if (out && out.transfer) return { id: msg.id, ok: true, result: out.result, transfer: out.transfer }
          return { id: msg.id, ok: true, result: out }
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
