// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The loader's side of sealed segments (keys/PROTOCOL.md §13): which periods a load needs and
// in which order, the IndexedDB cache of sealed segments, and the routes.

import { OPERATOR_SEGMENTS, transact } from '../../../script/src/storage.js'

export const DAY = 24 * 3600 * 1000

/** periodOf returns the UTC day (YYYY-MM-DD) of ms. */
export function periodOf (ms) {
  return new Date(ms).toISOString().slice(0, 10)
}

/** periodStart returns the ms of a period's start. */
export function periodStart (period) {
  return Date.parse(period + 'T00:00:00Z')
}

/**
 * planPeriods returns the closed periods a load reads, in two groups, each newest first:
 * `first` overlaps the range shown (a day of margin on both sides: plaintext times may lie
 * beside their receipt day, and the range is in the browser's time zone), `rest` is the
 * history within the retention that returning visitors and retention need.
 *   list     the answer of GET /segments ({firstPeriod, openFrom, ...})
 *   now, retentionMs, range {from, to} (ms; optional)
 */
export function planPeriods ({ firstPeriod, openFrom }, { now, retentionMs, range }) {
  if (!firstPeriod || !openFrom) return { first: [], rest: [] }
  const oldest = Math.max(periodStart(firstPeriod), periodStart(periodOf(now - retentionMs)))
  const first = []
  const rest = []
  for (let t = periodStart(openFrom) - DAY; t >= oldest; t -= DAY) {
    const inRange = range && t + DAY > range.from - DAY && t < range.to + DAY
    ;(inRange ? first : rest).push(periodOf(t))
  }
  return { first, rest }
}

/**
 * createSegmentCache keeps an account's sealed segments in IndexedDB as fetched:
 * get(period, digest) resolves with the sealed string when the cached one has that digest,
 * put(period, {version, digest, sealed}), drop(period).
 */
export function createSegmentCache ({ factory = globalThis.indexedDB, loginId, accountId }) {
  const run = (mode, fn) => transact(factory, OPERATOR_SEGMENTS, mode, fn)
  return {
    async get (period, digest) {
      const rec = await run('readonly', s => s[OPERATOR_SEGMENTS].get([loginId, accountId, period]))
      return rec && rec.digest === digest && typeof rec.sealed === 'string' ? rec.sealed : null
    },
    put: (period, { version, digest, sealed }) => run('readwrite', s => {
      s[OPERATOR_SEGMENTS].put({ loginId, accountId, period, version, digest, sealed, savedAt: Date.now() })
    }),
    drop: (period) => run('readwrite', s => { s[OPERATOR_SEGMENTS].delete([loginId, accountId, period]) })
  }
}

/** segmentsRange selects the cached segments of an account (or of a login, without accountId). */
export function segmentsRange (loginId, accountId) {
  return accountId
    ? IDBKeyRange.bound([loginId, accountId], [loginId, accountId, []])
    : IDBKeyRange.bound([loginId], [loginId, []])
}

/**
 * fetchSealed reads GET /segments/{period}?digest=: the sealed string (a JSON string or plain
 * text). The digest keeps a replaced segment from coming out of the HTTP cache.
 */
export async function fetchSealed (api, base, period, digest) {
  const path = `${base}/segments/${period}?digest=${encodeURIComponent(digest)}`
  if (typeof api.request !== 'function') return api.get(path)
  const res = await api.request('GET', path, undefined, { raw: true })
  if (!res || typeof res.text !== 'function') return res
  const text = (await res.text()).trim()
  return text.startsWith('"') ? JSON.parse(text) : text
}

/**
 * readPeriodEvents pages through GET /segments/{period}/events: resolves with {events,
 * secrets} (the wrapped secrets the events name, once each).
 */
export async function readPeriodEvents (api, base, period, limit, onPage = () => {}) {
  const events = []
  const secrets = new Map()
  let after
  for (;;) {
    const params = new URLSearchParams()
    if (after) params.set('after', after)
    if (limit) params.set('limit', String(limit))
    const q = params.toString()
    const page = await api.get(`${base}/segments/${period}/events${q ? '?' + q : ''}`)
    const list = (page && page.events) || []
    for (const e of list) events.push(e)
    for (const s of (page && page.secrets) || []) if (s && typeof s.keyId === 'string') secrets.set(s.keyId, s)
    onPage(list.length)
    if (!page || !page.more || !page.next || page.next === after) break
    after = page.next
  }
  return { events, secrets: [...secrets.values()] }
}

/**
 * pool runs fn over items with at most `size` calls in flight, in order of items; it rejects
 * with the first failure after every started call has settled.
 */
export async function pool (items, size, fn) {
  let next = 0
  let failure = null
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]
      try {
        await fn(item)
      } catch (err) {
        failure = failure || err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker))
  if (failure) throw failure
}
