// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The workers' side of sealed segments (keys/PROTOCOL.md §13): the segment key, sealing and
// opening, and the two worker operations of the loader.
//
//   segment     {bytes | sealed, segmentKey, accountId, period, version, shard, shards, replace}
//               -> {added, duplicates, unreadable, ignored, removed}: the period's rows of this
//               shard's visitors, replacing (with `replace`) whatever the shard held for it
//   sealPeriod  {accountId, period, items, keys, secrets, segmentKey}
//               -> {bytes, sealed, count, digest, version, keys, unreadableKeys}: the raw events
//               of a closed period (all visitors) decrypted, encoded and sealed; `secrets` are
//               unwrapped here (and handed back for the keyring), `keys` come from it

import { decryptEvents, importAesKey, openA1, sealA1, unwrapUserSecret } from '../../../keys/js/crypto.js'
import { shardOf, unpackItems } from '../metrics/client.js'
import { validatePayload } from '../metrics/normalize.js'
import { readSegmentColumns, SEGMENT_VERSIONS, writeSegment } from '../metrics/segment-rows.js'
import { deriveKek } from './seal.js'
import { ulidAt } from './ulid.js'

export const SEGMENT_VERSION = 1
const DAY = 24 * 3600 * 1000
const utf8 = new TextEncoder()
const UNWRAP_BATCH = 256

/** deriveSegmentKey derives the account's non-extractable segment key from its KEK (§13). */
export function deriveSegmentKey (kek) {
  return deriveKek(kek, 'offen/v1/segment', 'segment')
}

const aadOf = (accountId, period, version) => `offen/v1/segment|${accountId}|${period}|${version}`

/** sealSegment seals segment plaintext as a1 under the segment key. */
export function sealSegment (key, accountId, period, version, bytes) {
  return sealA1(key, aadOf(accountId, period, version), bytes)
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const B64_VALUE = new Int16Array(65536).fill(-1)
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i

// base64Url decodes canonical unpadded base64url (as fromBase64Url of keys/js/crypto.js), four
// symbols at a time: a segment is megabytes of it, and every worker decodes every segment.
function base64Url (str, from) {
  const len = str.length - from
  if (len % 4 === 1) throw new Error('segment: invalid base64url')
  const out = new Uint8Array((len * 3) >> 2)
  let i = from
  let j = 0
  const end = from + len - (len % 4)
  for (; i < end; i += 4) {
    const a = B64_VALUE[str.charCodeAt(i)]
    const b = B64_VALUE[str.charCodeAt(i + 1)]
    const c = B64_VALUE[str.charCodeAt(i + 2)]
    const d = B64_VALUE[str.charCodeAt(i + 3)]
    if ((a | b | c | d) < 0) throw new Error('segment: invalid base64url')
    const n = a << 18 | b << 12 | c << 6 | d
    out[j++] = n >> 16
    out[j++] = n >> 8 & 255
    out[j++] = n & 255
  }
  const rest = len % 4
  if (rest) {
    const a = B64_VALUE[str.charCodeAt(i)]
    const b = B64_VALUE[str.charCodeAt(i + 1)]
    const c = rest === 3 ? B64_VALUE[str.charCodeAt(i + 2)] : 0
    if ((a | b | c) < 0) throw new Error('segment: invalid base64url')
    const n = a << 18 | b << 12 | c << 6
    out[j++] = n >> 16
    if (rest === 3) out[j++] = n >> 8 & 255
    if ((rest === 2 ? n & 0xffff : n & 0xff) !== 0) throw new Error('segment: non-canonical base64url')
  }
  return out
}

/** openSegment opens a sealed segment; it throws when anything does not match. */
export async function openSegment (key, accountId, period, version, sealed) {
  const dot = typeof sealed === 'string' && sealed.startsWith('a1.') ? sealed.indexOf('.', 3) : -1
  if (dot !== 3 + 16) return openA1(key, aadOf(accountId, period, version), sealed) // its errors
  const nonce = base64Url(sealed.slice(3, dot), 0)
  const ct = base64Url(sealed, dot + 1)
  if (ct.length < 16) throw new Error('segment: too short')
  return new Uint8Array(await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(aadOf(accountId, period, version)) }, key, ct))
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
  const sealKeys = new Map() // keyId -> Promise<CryptoKey | null>: kept across periods
  return {
    async segment ({ bytes, sealed, segmentKey, accountId, period, version = SEGMENT_VERSION, shard = 0, shards = 1, replace = true }) {
      if (!SEGMENT_VERSIONS.includes(version)) throw new Error('segment: unknown version ' + version)
      const plain = bytes || await openSegment(segmentKey, accountId, period, version, sealed)
      const seg = readSegmentColumns(plain)
      if (seg.accountId !== accountId || seg.period !== period) throw new Error('segment: of another account or period')
      const s = store()
      const [from, to] = periodBounds(period)
      // rows of the period held before (a stale segment) go; rows the feed brought that the
      // segment holds too are skipped as duplicates
      const { removed } = replace ? s.removeRange(from, to) : { removed: 0 }
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
