// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The visitor's own data (PROTOCOL §4 "Visitor, own data"): the GET /api/events feed synced by
// cursor into the `visitorEvents` cache, decrypted in the metrics workers with the secrets
// the vault keeps in the `secrets` store (events whose key this browser lacks are counted as
// unreadable, and can still be deleted); export, delete and opt-out.

import { decryptEvent } from '../../../keys/js/crypto.js'
import { CURSORS, SECRETS, VISITOR_EVENTS, createStorage, transact } from '../../../script/src/storage.js'
import { csvOf } from './csv.js'
import { feedPath, runFeed } from './sync.js'
import { MAX_ULID } from './ulid.js'

const FEED = 'visitor'
const YOU = 'you' // the visitor is one person: every event has the same "secret id"
const DAY = 24 * 3600 * 1000

function eachCursor (req, fn) {
  req.onsuccess = () => {
    const c = req.result
    if (!c) return
    fn(c)
    c.continue()
  }
}

/**
 * createVisitorData({api, metrics, factory}) returns
 *   load()            cache + feed into the workers; {accounts: Map id -> name, retentionMs}
 *   refresh()         the feed again
 *   query(q)          metrics of the visitor's events
 *   exportRecords()   GET /api/events/export, decrypted: [{accountId, accountName, eventId,
 *                     readable, ...payload}]
 *   purge()           POST /api/purge: every event on the server and in this browser's cache
 *   optOut()          purge with forget, then the local secrets, outbox and cache
 */
export function createVisitorData ({ api, metrics, factory = globalThis.indexedDB }) {
  const storage = createStorage(factory)
  const run = (names, mode, fn) => transact(factory, names, mode, fn)
  const accounts = new Map()
  let retentionMs = null
  let keysGiven = new Set()

  async function secrets () {
    const all = await run(SECRETS, 'readonly', s => s[SECRETS].getAll())
    return all.filter(r => r && r.key && r.keyId)
  }

  async function giveKeys () {
    const fresh = (await secrets()).filter(r => !keysGiven.has(r.keyId))
    if (fresh.length === 0) return
    await metrics.setKeys(fresh.map(r => ({ keyId: r.keyId, secretId: YOU, secret: r.key })))
    for (const r of fresh) keysGiven.add(r.keyId)
  }

  const items = (events) => events.map(e => ({ eventId: e.eventId, secretId: YOU, keyId: e.keyId, accountId: e.accountId, payload: e.payload }))

  async function store (page) {
    for (const [id, a] of Object.entries(page.accounts || {})) accounts.set(id, (a && a.name) || id)
    if (typeof page.retentionDays === 'number' && page.retentionDays > 0) retentionMs = page.retentionDays * DAY
    const events = page.events || []
    const tombstones = page.tombstones || []
    if (events.length) {
      await run(VISITOR_EVENTS, 'readwrite', s => {
        for (const e of events) {
          s[VISITOR_EVENTS].put({ eventId: e.eventId, accountId: e.accountId, keyId: e.keyId, payload: e.payload, accountName: accounts.get(e.accountId) || null })
        }
      })
      await metrics.ingest(items(events))
    }
    if (tombstones.length) {
      await run(VISITOR_EVENTS, 'readwrite', s => {
        const st = s[VISITOR_EVENTS]
        for (const ts of tombstones) {
          if (ts.kind === 'event') st.delete(ts.target)
          else if (ts.kind === 'secret') eachCursor(st.index('keyId').openCursor(ts.target), c => { if (!ts.accountId || c.value.accountId === ts.accountId) c.delete() })
          else if (ts.kind === 'before') eachCursor(st.index('accountId').openCursor(ts.accountId), c => { if (c.value.eventId < ts.target) c.delete() })
        }
      })
      await metrics.remove(tombstones)
    }
  }

  async function sync () {
    await runFeed({
      fetchPage: (since) => api.get(feedPath('/api/events', since, 1000)),
      loadCursor: () => storage.cursor(FEED),
      saveCursor: (next) => storage.setCursor(FEED, next),
      clear: async () => {
        await run([VISITOR_EVENTS, CURSORS], 'readwrite', s => {
          s[VISITOR_EVENTS].clear()
          s[CURSORS].delete(FEED)
        })
        await metrics.remove([{ kind: 'before', target: MAX_ULID }])
      },
      store
    })
  }

  async function clearLocal () {
    await metrics.remove([{ kind: 'before', target: MAX_ULID }])
  }

  return {
    accounts,
    get retentionMs () { return retentionMs },
    async load () {
      await metrics.clear()
      keysGiven = new Set()
      await giveKeys()
      const cached = await run(VISITOR_EVENTS, 'readonly', s => s[VISITOR_EVENTS].getAll())
      for (const e of cached) if (e.accountName) accounts.set(e.accountId, e.accountName)
      if (cached.length) await metrics.ingest(items(cached))
      await sync()
      return { accounts, retentionMs }
    },
    async refresh () {
      await giveKeys()
      await sync()
    },
    query: (q) => metrics.query({ retentionMs, ...q }),
    async exportRecords () {
      const res = await api.request('GET', '/api/events/export', undefined, { raw: true })
      const text = await res.text()
      const keys = new Map((await secrets()).map(r => [r.keyId, r.key]))
      const out = []
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue
        const e = JSON.parse(line)
        const rec = { accountId: e.accountId, accountName: e.accountName, eventId: e.eventId, readable: false }
        const key = keys.get(e.keyId)
        if (key) {
          try {
            Object.assign(rec, await decryptEvent(key, e.accountId, e.payload), { readable: true })
          } catch {}
        }
        out.push(rec)
      }
      return out
    },
    async purge () {
      await api.post('/api/purge', {})
      await run([VISITOR_EVENTS, CURSORS], 'readwrite', s => {
        s[VISITOR_EVENTS].clear()
        s[CURSORS].delete(FEED)
      })
      await clearLocal()
    },
    async optOut () {
      await api.post('/api/purge', { forget: true })
      await storage.forgetVisitor()
      await metrics.clear()
      keysGiven = new Set()
    }
  }
}

const CSV_COLUMNS = ['accountId', 'accountName', 'eventId', 'readable', 'type', 'timestamp', 'href', 'rawHref', 'referrer', 'pageload', 'sessionId', 'geo', 'isMobile']

/** toCsv writes export records as CSV (RFC 4180), one row per event. */
export function toCsv (records) {
  return csvOf(CSV_COLUMNS, records.map(r => CSV_COLUMNS.map(c => r[c])))
}

/** download offers text as a file (a Blob URL and a temporary link). */
export function download (name, type, text, doc = globalThis.document) {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = doc.createElement('a')
  a.href = url
  a.download = name
  a.className = 'visually-hidden'
  doc.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}
