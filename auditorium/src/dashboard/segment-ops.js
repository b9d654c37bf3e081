// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The workers' side of sealed segments (keys/PROTOCOL.md §13): the segment key, sealing and
// opening, and the worker operations of the loader.
//
//   open        {sealed, segmentKey, accountId, period, version} -> {bytes}: the plaintext, for
//               the other workers (one opens a segment, every one decodes it)
//   segment     {bytes | sealed, segmentKey, accountId, period, version, shard, shards, replace}
//               -> {added, duplicates, unreadable, ignored, removed}: the period's rows of this
//               shard's visitors, replacing (with `replace`) whatever the shard held for it
//   outline     {sealed, segmentKey, accountId, period, version, shards, sinceMs} -> {parts}: one
//               worker opens and decodes a segment for all: per shard the outline of its
//               visitors (metrics/store.js outlineOf: when each first viewed a page there, of
//               the events received from sinceMs on)
//   seen        {period, part}: this shard keeps its part of an outline (EventStore#setSeen)
//   sealPeriod  {accountId, period, items, keys, secrets, segmentKey}
//               -> {bytes, sealed, count, digest, version, keys, unreadableKeys}: the raw events
//               of a closed period (all visitors) decrypted, encoded and sealed; `secrets` are
//               unwrapped here (and handed back for the keyring), `keys` come from it

import { decryptEvents, importAesKey, unwrapUserSecret } from '../../../keys/js/crypto.js'
import { decodeSegmentColumns, encodeSegment, openSegment, SEGMENT_VERSION, sealSegment, segmentCoverage } from '../../../keys/js/segment.js'
import { shardOf, unpackItems } from '../metrics/client.js'
import { validatePayload, validEventId } from '../metrics/normalize.js'
import { outlineOf } from '../metrics/store.js'
import { deriveKek } from './seal.js'
import { ulidAt } from './ulid.js'

export { SEGMENT_VERSION }
const DAY = 24 * 3600 * 1000
const UNWRAP_BATCH = 256

/** deriveSegmentKey derives the account's segment key from its KEK (§13), non-extractable. */
export function deriveSegmentKey (kek) {
  return deriveKek(kek, 'offen/v1/segment', 'segment')
}

/** periodBounds returns the ULID bounds [from, to) of a period (a UTC day). */
export function periodBounds (period) {
  const start = Date.parse(period + 'T00:00:00Z')
  return [ulidAt(start), ulidAt(start + DAY)]
}

/**
 * segmentOps returns the two operations for a dashboard shard: store() is the shard's current
 * EventStore, account() its {privateKey, accountId}.
 */
export function segmentOps ({ store, account }) {
  const sealKeys = new Map() // keyId -> Promise<CryptoKey | null>: kept across periods
  return {
    async open ({ sealed, segmentKey, accountId, period, version = SEGMENT_VERSION }) {
      const bytes = await openSegment(segmentKey, accountId, period, version, sealed)
      return { result: { bytes }, transfer: [bytes.buffer] }
    },

    async segment ({ bytes, sealed, segmentKey, accountId, period, version = SEGMENT_VERSION, shard = 0, shards = 1, replace = true }) {
      const plain = bytes || await openSegment(segmentKey, accountId, period, version, sealed)
      const seg = decodeSegmentColumns(plain, { accountId, period })
      const s = store()
      const [from, to] = periodBounds(period)
      const mine = new Map()
      const keep = (secretId) => {
        let m = mine.get(secretId)
        if (m === undefined) mine.set(secretId, (m = shards === 1 || shardOf(secretId, shards) === shard))
        return m
      }
      // rows of the period held before (a stale segment) go; rows the feed brought that the
      // segment holds too are skipped as duplicates
      const { removed } = replace ? s.removeRange(from, to) : { removed: 0 }
      s.dropSeen(period)
      const res = s.addSegment(seg, { keep, unreadable: shard === 0 })
      return { ...res, removed }
    },

    async outline ({ sealed, segmentKey, accountId, period, version = SEGMENT_VERSION, shards = 1, sinceMs }) {
      const plain = await openSegment(segmentKey, accountId, period, version, sealed)
      const all = outlineOf(decodeSegmentColumns(plain, { accountId, period }), { sinceMs })
      const parts = Array.from({ length: shards }, () => ({ keyIds: [], secretIds: [], times: [] }))
      all.keyIds.forEach((keyId, i) => {
        const part = parts[shards === 1 ? 0 : shardOf(all.secretIds[i], shards)]
        part.keyIds.push(keyId)
        part.secretIds.push(all.secretIds[i])
        part.times.push(all.times[i])
      })
      return { parts }
    },

    async seen ({ period, part }) {
      return store().setSeen(period, periodBounds(period), part)
    },

    async sealPeriod ({ accountId, period, packed, items = [], keys = [], secrets = [], segmentKey }) {
      const list = unpackItems(packed, items)
      const own = account()
      const secretIds = new Map()
      for (const [keyId, secret] of keys) sealKeys.set(keyId, importAesKey(secret).catch(() => null))
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
            sealKeys.set(r.keyId, Promise.resolve(null))
            return
          }
          unwrapped.push({ keyId: r.keyId, secretId: r.secretId, secret })
          sealKeys.set(r.keyId, importAesKey(secret).catch(() => null))
        })
      }
      const byKey = new Map() // keyId -> CryptoKey | null (failed)
      for (const it of list) {
        if (it && !byKey.has(it.keyId)) byKey.set(it.keyId, sealKeys.has(it.keyId) ? await sealKeys.get(it.keyId) : null)
      }
      const readable = []
      const unreadable = []
      for (const it of list) {
        if (it && typeof it.payload === 'string' && byKey.get(it.keyId)) readable.push(it)
        else if (it && typeof it.eventId === 'string') unreadable.push(it.eventId)
      }
      const plain = readable.length ? await decryptEvents(accountId, readable.map(it => byKey.get(it.keyId)), readable.map(it => it.payload)) : []
      // what the segment may hold: each event once, in the period; a plaintext that is no
      // version 1 event, or a page view the metrics reject, counts as unreadable (as the store
      // would count it)
      const [from, to] = periodBounds(period)
      const seen = new Set()
      const records = []
      const failed = []
      const take = (eventId) => {
        const id = validEventId(eventId)
        if (!id || id < from || id >= to || seen.has(id)) return null
        seen.add(id)
        return id
      }
      plain.forEach((p, i) => {
        const it = readable[i]
        const id = take(it.eventId)
        if (!id) return
        const ok = p !== null && typeof p === 'object' && !Array.isArray(p) && !(p instanceof Error) && p.v === 1 && typeof p.type === 'string' &&
          typeof it.secretId === 'string' && it.secretId !== '' && typeof it.keyId === 'string' && (p.type !== 'PAGEVIEW' || validatePayload(p) !== null)
        if (ok) records.push({ eventId: id, secretId: it.secretId, keyId: it.keyId, payload: p })
        else failed.push(id)
      })
      for (const eventId of unreadable) {
        const id = take(eventId)
        if (id) failed.push(id)
      }
      const bytes = encodeSegment({ accountId, period, records, unreadable: failed })
      const { count, digest } = await segmentCoverage([...seen])
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
