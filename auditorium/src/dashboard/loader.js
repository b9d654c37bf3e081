// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Loads one account into the metrics workers (PROTOCOL §4 Dashboard, §6):
//
//   1. GET /api/accounts/{id}; the private key is decrypted with the KEK (session.account)
//      and handed to the workers, which unwrap user secrets themselves (one ECDH each).
//   2. The encrypted caches (seal.js): the keyring of user secrets this browser unwrapped
//      before, and the workers' snapshots. When every worker restores its snapshot, the load
//      is warm: only what the events feed has after the snapshot's cursor is downloaded and
//      decrypted. Otherwise the whole feed is read again (no ECDH for secrets in the keyring).
//   3. The secrets feed: each page's secrets missing from the keyring go at once to the
//      worker of their secret id, which unwraps them (many WebCrypto calls in flight) and
//      hands them back for the keyring. The events feed runs at the same time: a worker keeps
//      an event whose key has not arrived and decrypts it when it does.
//   4. Each events page goes to the workers (with the keys from the keyring its events need),
//      then its tombstones; the next pages are fetched meanwhile. The keyring and its cursor
//      are written behind the rendering, the cursor after the secrets it covers.
//
// refresh() repeats 3 and 4 from the cursors. Unreadable secrets and events are counted,
// never shown.

import { fromBase64Url } from '../../../keys/js/crypto.js'
import { createKeyring, createOperatorCache } from './cache.js'
import { deriveCacheKey, open, seal } from './seal.js'
import { feedPath, prefetchingFetcher, runFeed } from './sync.js'
import { MAX_ULID, ulidAt } from './ulid.js'

const DAY = 24 * 3600 * 1000
const SNAPSHOT_EVERY = 2000 // changed events before a refresh saves the snapshots again
const IN_FLIGHT = 4 // events pages handed to the workers and not yet done

/**
 * AccountLoader drives one account of one login.
 *   new AccountLoader({api, session, metrics, loginId, accountId, factory, limit, now, onProgress})
 *   load()          full load; resolves with summary() {account, retentionMs, unreadableSecrets, stats}
 *   refresh()       incremental sync of both feeds
 *   query(q)        metrics of the loaded events (q as in src/metrics/README.md)
 *   saveSnapshot()  writes the workers' encrypted snapshots (and a compacted keyring)
 *   written()       resolves when the write-behind queue is empty
 * onProgress({phase, done, total}) reports 'account', 'secrets', 'keys', 'events', 'ready'.
 */
export class AccountLoader {
  constructor ({ api, session, metrics, loginId, accountId, factory = globalThis.indexedDB, limit = 5000, now = () => Date.now(), onProgress = () => {} }) {
    Object.assign(this, { api, session, metrics, loginId, accountId, factory, limit, now, onProgress })
    this.cache = createOperatorCache({ factory, loginId, accountId })
    this.unreadableSecrets = new Set()
    this.ring = new Map() // keyId -> {secretId, secret}: unwrapped user secrets
    this.known = new Set() // key ids the workers hold
    this.unwrapping = new Set() // key ids being unwrapped
    this.keysSeen = 0 // secrets handed to the workers for unwrapping in this run
    this.keysDone = 0
    this.cursor = undefined // events cursor of the workers' state
    this.secretsCursor = undefined // secrets cursor up to which the keyring is complete
    this.changed = 0
    this.ringDirty = false
    this.writes = Promise.resolve()
    this.cacheBroken = false
    this.account = null
    this.retentionMs = null
    this.privateKey = null
    this.stats = { restored: false, downloaded: 0, unwrapped: 0, timings: {} }
  }

  get base () {
    return `/api/accounts/${encodeURIComponent(this.accountId)}`
  }

  async load () {
    const timings = this.stats.timings
    // time since navigation start (shell, catalog, session, workers) when load begins
    if (globalThis.performance && typeof performance.now === 'function') timings.start = Math.round(performance.now())
    let last = Date.now()
    const lap = (name) => {
      const t = Date.now()
      timings[name] = t - last
      last = t
    }
    this.onProgress({ phase: 'account' })
    const { account, privateKey } = await this.session.account(this.accountId)
    this.account = account
    this.privateKey = privateKey
    this.retentionMs = (account.retentionDays || 186) * DAY
    await this.metrics.clear()
    this.cacheKey = await this.deriveCacheKey()
    lap('account')
    // the keyring (main thread) and the snapshots (workers) at once
    const [, restored] = await Promise.all([this.openKeyring(), this.restoreSnapshots()])
    await this.metrics.setAccount(privateKey, this.accountId)
    lap('restore')
    if (restored) {
      this.stats.restored = true
      this.cursor = restored.cursor
    } else {
      this.changed = Infinity
    }
    // secrets and events at once: a worker keeps an event until its key arrives
    await Promise.all([
      this.syncSecrets().then(() => lap('secrets')),
      this.syncEvents().then(() => lap('events'))
    ])
    await this.expire()
    this.onProgress({ phase: 'ready' })
    return this.summary()
  }

  async refresh () {
    await Promise.all([this.syncSecrets(), this.syncEvents()])
    await this.expire()
    if (this.changed >= SNAPSHOT_EVERY) this.saveSnapshot().catch(() => {})
    return this.summary()
  }

  summary () {
    return { account: this.account, retentionMs: this.retentionMs, unreadableSecrets: this.unreadableSecrets.size, stats: this.stats }
  }

  query (q) {
    return this.metrics.query({ retentionMs: this.retentionMs, ...q })
  }

  written () {
    return this.writes
  }

  // behind queues a cache write; a failed write stops later cursor writes (the cache then
  // lags, which only costs downloads).
  behind (fn) {
    this.queued = (this.queued || 0) + 1
    this.writes = this.writes.then(() => (this.cacheBroken ? null : fn())).catch(() => { this.cacheBroken = true }).then(() => {
      if (--this.queued === 0 && this.onIdle) this.onIdle()
    })
    return this.writes
  }

  /** writing reports whether cache writes are queued (onIdle() is called when they are done). */
  get writing () {
    return (this.queued || 0) > 0
  }

  async deriveCacheKey () {
    const kek = this.session.kek ? this.session.kek(this.accountId) : null
    return kek ? deriveCacheKey(kek) : null
  }

  async openKeyring () {
    this.keyring = this.cacheKey ? createKeyring({ factory: this.factory, loginId: this.loginId, accountId: this.accountId, cacheKey: this.cacheKey, seal, open }) : null
    if (!this.keyring) return
    const { keys, unreadable, complete } = await this.keyring.load()
    this.ring = keys
    for (const keyId of unreadable) this.unreadableSecrets.add(keyId)
    // the keyring's cursor holds only when every chunk it covers is there
    this.secretsCursor = complete && keys.size + unreadable.size > 0 ? await this.cache.cursor('keyring') : undefined
  }

  // fetcher returns the fetchPage of a feed: the next page is requested while a page is parsed
  // (with an API client that can hand out the text of a response)
  fetcher (feed) {
    const pathOf = (since) => feedPath(this.base + feed, since, this.limit)
    if (typeof this.api.request !== 'function') return (since) => this.api.get(pathOf(since))
    return prefetchingFetcher(async (path) => {
      const res = await this.api.request('GET', path, undefined, { raw: true })
      if (!res || typeof res.text !== 'function') return res == null ? '' : JSON.stringify(res) // a client without raw responses
      return res.status === 204 ? '' : res.text()
    }, pathOf)
  }

  // syncSecrets reads the secrets feed from the keyring's cursor; the secrets not unwrapped
  // yet go to the workers page by page.
  async syncSecrets () {
    this.onProgress({ phase: 'secrets' })
    const batches = []
    let next
    await runFeed({
      fetchPage: this.fetcher('/secrets'),
      loadCursor: () => this.secretsCursor,
      // kept until the secrets of this run are unwrapped and in the keyring (below)
      saveCursor: async (cursor) => { next = cursor },
      clear: async () => {},
      store: async (page) => {
        const todo = []
        for (const r of page.secrets || []) {
          if (!r || typeof r.keyId !== 'string' || this.ring.has(r.keyId) || this.unreadableSecrets.has(r.keyId) || this.unwrapping.has(r.keyId)) continue
          this.unwrapping.add(r.keyId)
          todo.push(r)
        }
        if (todo.length) batches.push(this.unwrap(todo))
      }
    })
    await Promise.all(batches)
    if (next !== undefined && next !== this.secretsCursor) {
      this.secretsCursor = next
      if (this.keyring) this.behind(() => this.cache.setCursor('keyring', next))
    }
  }

  // unwrap has the workers unwrap secrets (one ECDH each) and adds them to the keyring.
  async unwrap (records) {
    this.keysSeen += records.length
    this.onProgress({ phase: 'keys', done: this.keysDone, total: this.keysSeen })
    let res
    try {
      res = await this.metrics.unwrap(records)
    } finally {
      for (const r of records) this.unwrapping.delete(r.keyId)
    }
    for (const k of res.keys) {
      this.ring.set(k.keyId, { secretId: k.secretId, secret: k.secret })
      this.known.add(k.keyId)
    }
    const failed = new Set(res.unreadable)
    for (const keyId of failed) this.unreadableSecrets.add(keyId)
    this.stats.unwrapped += res.keys.length
    this.keysDone += records.length
    this.onProgress({ phase: 'keys', done: this.keysDone, total: this.keysSeen })
    if (this.keyring) {
      const unreadable = records.filter(r => failed.has(r.keyId))
      this.behind(() => this.keyring.add(res.keys, unreadable))
    }
  }

  // ingest hands events to the workers, first the keys from the keyring they need.
  async ingest (events) {
    // only keys from the keyring can be missing in the workers (those they unwrapped they hold)
    const keys = this.ring.size > this.known.size ? this.keysFor(events) : []
    if (keys.length) this.metrics.setKeys(keys).catch(() => {}) // the workers handle requests in order
    return this.metrics.ingest(events, this.accountId)
  }

  keysFor (events) {
    const keys = []
    for (const e of events) {
      if (this.known.has(e.keyId)) continue
      const k = this.ring.get(e.keyId)
      if (!k) continue // being unwrapped (the worker keeps the event waiting) or unreadable
      this.known.add(e.keyId)
      keys.push({ keyId: e.keyId, secretId: k.secretId, secret: typeof k.secret === 'string' ? fromBase64Url(k.secret) : k.secret })
    }
    return keys
  }

  async syncEvents () {
    let downloaded = 0
    const inFlight = []
    const t0 = Date.now()
    let idleSince = t0 // the wait for each page is reported as timings.feedWait
    let feedWait = 0
    let workerWait = 0
    await runFeed({
      fetchPage: this.fetcher('/events'),
      loadCursor: () => this.cursor,
      // the workers have the page (they handle requests in order); the snapshot saves the cursor
      saveCursor: async (next) => { this.cursor = next },
      clear: async () => {
        await Promise.all(inFlight.splice(0))
        await this.metrics.remove([{ kind: 'before', target: MAX_ULID }])
        this.changed = Infinity
      },
      store: async (page) => {
        feedWait += Date.now() - idleSince
        const events = page.events || []
        const tombstones = page.tombstones || []
        if (typeof page.retentionDays === 'number' && page.retentionDays > 0) this.retentionMs = page.retentionDays * DAY
        if (events.length) inFlight.push(this.ingest(events))
        if (tombstones.length) {
          inFlight.push(this.metrics.remove(tombstones))
          for (const ts of tombstones) {
            if (ts.kind !== 'secret') continue
            if (this.unreadableSecrets.delete(ts.target)) this.ringDirty = true
            if (this.ring.delete(ts.target)) this.ringDirty = true
            this.known.delete(ts.target)
          }
        }
        const w0 = Date.now()
        while (inFlight.length > IN_FLIGHT) await inFlight.shift()
        workerWait += Date.now() - w0
        downloaded += events.length
        this.stats.downloaded += events.length
        this.changed += events.length + tombstones.length
        this.onProgress({ phase: 'events', done: downloaded })
        idleSince = Date.now()
      }
    })
    await Promise.all(inFlight)
    const timings = this.stats.timings
    timings.ingest = (timings.ingest || 0) + Date.now() - t0
    timings.feedWait = (timings.feedWait || 0) + feedWait
    timings.workerWait = (timings.workerWait || 0) + workerWait
  }

  // expire drops events older than the retention, as the server does (PROTOCOL §5).
  async expire () {
    if (!this.retentionMs) return
    await this.metrics.remove([{ kind: 'before', target: ulidAt(this.now() - this.retentionMs) }])
  }

  async restoreSnapshots () {
    const conns = this.metrics.connections
    if (!conns || !this.cacheKey) return null
    const key = { loginId: this.loginId, accountId: this.accountId, shards: conns.length }
    const results = await Promise.all(conns.map((c, shard) => c.call('cacheLoad', { key: { ...key, shard }, cacheKey: this.cacheKey })))
    const cursors = new Set(results.map(r => r.cursor))
    if (results.every(r => r.restored) && cursors.size === 1) return { cursor: [...cursors][0] || undefined }
    if (results.some(r => r.restored)) await this.metrics.clear()
    return null
  }

  async saveSnapshot () {
    const conns = this.metrics.connections
    if (!conns || !this.cacheKey) return
    this.changed = 0
    if (this.ringDirty && this.keyring) {
      this.ringDirty = false
      await this.behind(() => this.keyring.replace(this.ring, this.unreadableSecrets))
    }
    const key = { loginId: this.loginId, accountId: this.accountId, shards: conns.length, cursor: this.cursor || null }
    await Promise.all(conns.map((c, shard) => c.call('cacheSave', { key: { ...key, shard }, cacheKey: this.cacheKey })))
  }
}
