// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator's export of the decrypted events of a range, made in the browser: the
// account's events feed is read from its start (the workers keep columns, not the events),
// each page is decrypted by the workers that hold its visitors' keys (op `decrypt`, nothing
// stored), the feed's tombstones are applied, and the events whose time lies in the range
// are kept. The server sees the same feed reads as a cold load.

import { feedPath, runFeed } from './sync.js'
import { csvOf } from './csv.js'

const PAGE = 5000

/**
 * exportEventsOf resolves with the records [{eventId, secretId, keyId, ...payload}] of accountId
 * whose payload time lies in [from, to), oldest first. onProgress({phase: 'events', done})
 * counts the events read.
 */
export async function exportEventsOf ({ api, metrics, accountId, from, to, onProgress = () => {} }) {
  const kept = new Map() // eventId -> record
  let read = 0
  await runFeed({
    fetchPage: (since) => api.get(feedPath(`/api/accounts/${encodeURIComponent(accountId)}/events`, since, PAGE)),
    loadCursor: () => undefined,
    saveCursor: async () => {},
    clear: async () => { kept.clear() },
    store: async (page) => {
      const events = page.events || []
      read += events.length
      if (events.length) {
        const res = await metrics.decrypt(events, accountId)
        for (const r of res.records) {
          const at = Date.parse(r.payload && r.payload.timestamp)
          if (at >= from && at < to) kept.set(r.eventId, { eventId: r.eventId, secretId: r.secretId, keyId: r.keyId, ...r.payload })
        }
      }
      for (const ts of page.tombstones || []) {
        if (!ts || typeof ts.target !== 'string') continue
        if (ts.kind === 'event') {
          kept.delete(ts.target)
          continue
        }
        const target = ts.target.toUpperCase()
        for (const [id, r] of kept) {
          if (ts.kind === 'before' ? id.toUpperCase() < target : ts.kind === 'secret' && (r.secretId === ts.target || r.keyId === ts.target)) kept.delete(id)
        }
      }
      onProgress({ phase: 'events', done: read })
    }
  })
  return [...kept.values()].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || (a.eventId < b.eventId ? -1 : 1))
}

const FIRST = ['eventId', 'secretId', 'keyId', 'timestamp', 'type', 'href', 'rawHref', 'referrer', 'pageload', 'isMobile', 'sessionId', 'geo']

/** eventsCsv writes records as CSV: the known fields first, then any other field they have. */
export function eventsCsv (records) {
  const extra = new Set()
  for (const r of records) for (const k of Object.keys(r)) if (!FIRST.includes(k) && k !== 'v') extra.add(k)
  const columns = [...FIRST, ...[...extra].sort()]
  const text = (v) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v))
  return csvOf(columns, records.map(r => columns.map(c => text(r[c]))))
}
