// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The workers' side of sealed segments (keys/PROTOCOL.md §13): the segment key, sealing and
// opening, and the two worker operations of the loader.
//
//   segment     {bytes | sealed, segmentKey, accountId, period, version, shard, shards}
//               -> {added, duplicates, unreadable, ignored, removed}: the period's rows of this
//               shard's visitors replace whatever the shard held for the period
//   sealPeriod  {accountId, period, items, keys, secrets, segmentKey}
//               -> {bytes, sealed, count, digest, version, keys, unreadableKeys}: the raw events
//               of a closed period (all visitors) decrypted, encoded and sealed; `secrets` are
//               unwrapped here (and handed back for the keyring), `keys` come from it

import { decryptEvents, importAesKey, openA1, sealA1, unwrapUserSecret } from '../../../keys/js/crypto.js'
import { shardOf, unpackItems } from '../metrics/client.js'
import { validatePayload } from '../metrics/normalize.js'
import { readSegmentColumns, SEGMENT_VERSIONS, writeSegment } from '../metrics/segment-rows.js'
import { ulidAt } from './ulid.js'

export const SEGMENT_VERSION = 1
const DAY = 24 * 3600 * 1000
const utf8 = new TextEncoder()
const UNWRAP_BATCH = 256

/** deriveSegmentKey derives the account's non-extractable segment key from its KEK (§13). */
export async function deriveSegmentKey (kek) {
  const subtle = globalThis.crypto.subtle
  const ikm = await subtle.importKey('raw', kek, 'HKDF', false, ['deriveKey'])
  return subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8.encode('offen/v1/segment'), info: utf8.encode('segment') },
    ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

const aadOf = (accountId, period, version) => `offen/v1/segment|${accountId}|${period}|${version}`

/** sealSegment seals segment plaintext as a1 under the segment key. */
export function sealSegment (key, accountId, period, version, bytes) {
  return sealA1(key, aadOf(accountId, period, version), bytes)
}

/** openSegment opens a sealed segment; it throws when anything does not match. */
export function openSegment (key, accountId, period, version, sealed) {
  return openA1(key, aadOf(accountId, period, version), sealed)
}

/** periodBounds returns the ULID bounds [from, to) of a period (a UTC day). */
export function periodBounds (period) {
  const start = Date.parse(period + 'T00:00:00Z')
  return [ulidAt(start), ulidAt(start + DAY)]
}

const hex = (buf) => Array.from(new Uint8Array(buf), b => b.toString(16).padStart(2, '0')).join('')

/**
 * segmentOps returns the two operations for a dashboard shard: store() is the shard's current
 * EventStore, account() its {privateKey, accountId}.
 */
export function segmentOps ({ store, account }) {
  return {
    async segment ({ bytes, sealed, segmentKey, accountId, period, version = SEGMENT_VERSION, shard = 0, shards = 1 }) {
      if (!SEGMENT_VERSIONS.includes(version)) throw new Error('segment: unknown version ' + version)
      const plain = bytes || await openSegment(segmentKey, accountId, period, version, sealed)
      const seg = readSegmentColumns(plain)
      if (seg.accountId !== accountId || seg.period !== period) throw new Error('segment: of another account or period')
      const s = store()
      const [from, to] = periodBounds(period)
      const { removed } = s.removeRange(from, to)
      const mine = new Map()
      const res = s.addSegment(seg, {
        keep: (secretId) => {
          let m = mine.get(secretId)
          if (m === undefined) mine.set(secretId, (m = shards === 1 || shardOf(secretId, shards) === shard))
          return m
        },
        unreadable: shard === 0
      })
      return { ...res, removed }
    },

    async sealPeriod ({ accountId, period, packed, items = [], keys = [], secrets = [], segmentKey }) {
      const list = unpackItems(packed, items)
      const own = account()
      const byKey = new Map() // keyId -> CryptoKey | null (failed)
      const secretIds = new Map()
      for (const [keyId, secret] of keys) byKey.set(keyId, importAesKey(secret).catch(() => null))
      const unwrapped = []
      const unreadableKeys = []
      for (let i = 0; i < secrets.length; i += UNWRAP_BATCH) {
        const batch = secrets.slice(i, i + UNWRAP_BATCH)
        const out = await Promise.all(batch.map(r => own
          ? unwrapUserSecret(own.privateKey, accountId, r.wrappedSecret).catch(() => null)
          : null))
        out.forEach((secret, j) => {
          const r = batch[j]
          secretIds.set(r.keyId, r.secretId)
          if (!secret) {
            unreadableKeys.push(r.keyId)
            byKey.set(r.keyId, null)
            return
          }
          unwrapped.push({ keyId: r.keyId, secretId: r.secretId, secret })
          byKey.set(r.keyId, importAesKey(secret).catch(() => null))
        })
      }
      for (const [k, p] of byKey) byKey.set(k, await p)
      const readable = []
      const unreadable = []
      for (const it of list) {
        if (it && typeof it.payload === 'string' && byKey.get(it.keyId)) readable.push(it)
        else if (it && typeof it.eventId === 'string') unreadable.push(it.eventId)
      }
      const plain = readable.length ? await decryptEvents(accountId, readable.map(it => byKey.get(it.keyId)), readable.map(it => it.payload)) : []
      const records = []
      plain.forEach((payload, i) => {
        const it = readable[i]
        if (payload instanceof Error || payload === null || typeof payload !== 'object') unreadable.push(it.eventId)
        else records.push({ eventId: it.eventId, secretId: it.secretId, keyId: it.keyId, payload })
      })
      const { bytes, ids, count } = writeSegment({ accountId, period, records, unreadable, isValid: p => validatePayload(p) !== null })
      const digest = hex(await globalThis.crypto.subtle.digest('SHA-256', ids))
      const sealed = segmentKey ? await sealSegment(segmentKey, accountId, period, SEGMENT_VERSION, bytes) : null
      const secretBytes = new Uint8Array(32 * unwrapped.length)
      unwrapped.forEach((k, j) => secretBytes.set(k.secret, 32 * j))
      return {
        result: {
          bytes,
          sealed,
          count,
          digest,
          version: SEGMENT_VERSION,
          keyIds: unwrapped.map(k => k.keyId),
          secretIds: unwrapped.map(k => k.secretId),
          secrets: secretBytes,
          unreadableKeys: unreadableKeys.map(keyId => ({ keyId, secretId: secretIds.get(keyId) || '' }))
        },
        transfer: [bytes.buffer, secretBytes.buffer]
      }
    }
  }
}
