// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Loads one account into the metrics workers (PROTOCOL §4 Dashboard, §6):
//
//   1. GET /api/accounts/{id}; the private key is decrypted with the KEK (session.account).
//   2. The encrypted caches (seal.js): the keyring of user secrets this browser unwrapped
//      before, and the workers' snapshots. When every worker restores its snapshot, the load
//      is warm: only what the feeds have after the snapshot's cursor is downloaded and
//      decrypted. Otherwise the cached ciphertexts (operatorEvents) are decrypted again.
//   3. The secrets feed, then the secrets not in the keyring are unwrapped (one ECDH each,
//      many WebCrypto calls in flight) and added to it. The events feed runs at the same
//      time: the workers keep events whose key has not arrived and decrypt them when it does.
//   4. Each events page goes to the workers (with the keys its events need), then its
//      tombstones. Ciphertexts and cursors are written to IndexedDB behind the rendering
//      (write-behind queue), each cursor only after its page is stored (PROTOCOL §6 rule 5).
//
// refresh() repeats 3 and 4 from the cursors. Unreadable secrets and events are counted,
// never shown.

import { unwrapUserSecret } from '../../../keys/js/crypto.js'
import { createKeyring, createOperatorCache } from './cache.js'
import { deriveCacheKey, open, seal } from './seal.js'
import { feedPath, runFeed } from './sync.js'
import { MAX_ULID, ulidAt } from './ulid.js'

const DAY = 24 * 3600 * 1000
const UNWRAP_CHUNK = 256
const SNAPSHOT_EVERY = 2000 // changed events before a refresh saves the snapshots again

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
    this.known = new Set() // key ids handed to the workers
    this.pendingSecrets = new Map() // keyId -> secret record still to unwrap
    this.unwrapping = new Set() // key ids being unwrapped
    this.cursor = undefined // events cursor of the workers' state
    this.changed = 0
    this.ringDirty = false
    this.writes = Promise.resolve()
    this.cacheBroken = false
    this.account = null
    this.retentionMs = null
    this.privateKey = null
    this.stats = { restored: false, cachedEvents: 0, downloaded: 0, unwrapped: 0, timings: {} }
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
    await this.openCaches()
    lap('account')
    const restored = await this.restoreSnapshots()
    lap('restore')
    if (!restored) {
      for (const r of await this.cache.secrets()) this.noteSecret(r)
    }
    // secrets and events at once: a worker keeps an event until its key arrives
    const keys = this.syncSecrets().then(() => lap('secrets')).then(() => this.unwrapPending())
    const events = (async () => {
      if (restored) {
        this.stats.restored = true
        this.restoredRing = true
        this.cursor = restored.cursor
      } else {
        this.onProgress({ phase: 'events', done: 0 })
        await this.cache.forEachEventBatch(async (batch) => {
          this.stats.cachedEvents += batch.length
          await this.ingest(batch)
          this.onProgress({ phase: 'events', done: this.stats.cachedEvents })
        })
        this.cursor = await this.cache.cursor('events')
        this.changed = Infinity
      }
      await this.syncEvents()
    })()
    await Promise.all([keys.then(() => lap('keys')), events.then(() => lap('events'))])
    await this.expire()
    this.onProgress({ phase: 'ready' })
    return this.summary()
  }

  async refresh () {
    await this.syncSecrets()
    await Promise.all([this.unwrapPending(), this.syncEvents()])
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

  async openCaches () {
    const kek = this.session.kek ? this.session.kek(this.accountId) : null
    this.cacheKey = kek ? await deriveCacheKey(kek) : null
    this.keyring = this.cacheKey ? createKeyring({ factory: this.factory, loginId: this.loginId, accountId: this.accountId, cacheKey: this.cacheKey, seal, open }) : null
    this.ring = this.keyring ? await this.keyring.load() : new Map()
  }

  noteSecret (r) {
    if (!this.ring.has(r.keyId) && !this.unreadableSecrets.has(r.keyId) && !this.unwrapping.has(r.keyId)) this.pendingSecrets.set(r.keyId, r)
  }

  async syncSecrets () {
    this.onProgress({ phase: 'secrets' })
    await runFeed({
      fetchPage: (since) => this.api.get(feedPath(this.base + '/secrets', since, this.limit)),
      loadCursor: () => this.secretsCursor === undefined ? this.cache.cursor('secrets') : this.secretsCursor,
      // the secrets are in memory now; the cache and its cursor follow behind
      saveCursor: async (next) => {
        this.secretsCursor = next
        this.behind(() => this.cache.setCursor('secrets', next))
      },
      clear: async () => { this.behind(() => this.cache.clear('secrets')) },
      store: async (page) => {
        const secrets = page.secrets || []
        for (const r of secrets) this.noteSecret(r)
        if (secrets.length) this.behind(() => this.cache.putSecrets(secrets))
      }
    })
  }

  // unwrapPending unwraps the secrets this browser has not unwrapped yet (one ECDH each),
  // hands them to the workers and adds them to the keyring.
  async unwrapPending () {
    const todo = [...this.pendingSecrets.values()]
    this.pendingSecrets.clear()
    for (const r of todo) this.unwrapping.add(r.keyId)
    let done = 0
    this.onProgress({ phase: 'keys', done, total: todo.length })
    for (let i = 0; i < todo.length; i += UNWRAP_CHUNK) {
      const chunk = todo.slice(i, i + UNWRAP_CHUNK)
      const keys = await Promise.all(chunk.map(async (r) => {
        try {
          return { keyId: r.keyId, secretId: r.secretId, secret: await unwrapUserSecret(this.privateKey, this.accountId, r.wrappedSecret) }
        } catch {
          this.unreadableSecrets.add(r.keyId)
          return null
        }
      }))
      const ok = keys.filter(Boolean)
      for (const r of chunk) this.unwrapping.delete(r.keyId)
      this.stats.unwrapped += ok.length
      for (const k of ok) {
        this.ring.set(k.keyId, { secretId: k.secretId, secret: k.secret })
        this.known.add(k.keyId)
      }
      await this.metrics.setKeys(ok)
      if (this.keyring && ok.length) this.behind(() => this.keyring.add(ok))
      done += chunk.length
      this.onProgress({ phase: 'keys', done, total: todo.length })
    }
  }

  // ingest hands events to the workers, first the keys they need from the keyring.
  async ingest (events) {
    const keys = []
    const missing = new Set()
    for (const e of events) {
      if (this.known.has(e.keyId)) continue
      const k = this.ring.get(e.keyId)
      if (!k) {
        // being unwrapped (the worker keeps the event waiting), unreadable, or lost from
        // the keyring (a tab closed before its write): look the last ones up
        if (this.restoredRing && !this.unreadableSecrets.has(e.keyId) && !this.unwrapping.has(e.keyId) && !this.pendingSecrets.has(e.keyId)) missing.add(e.keyId)
        continue
      }
      this.known.add(e.keyId)
      keys.push({ keyId: e.keyId, secretId: k.secretId, secret: k.secret })
    }
    if (keys.length) await this.metrics.setKeys(keys)
    if (missing.size) {
      for (const r of await this.cache.secretsByKeyId([...missing])) this.noteSecret(r)
      if (this.pendingSecrets.size) this.unwrapPending().catch(() => {})
    }
    const t0 = Date.now()
    await this.metrics.ingest(events, this.accountId)
    this.stats.timings.ingest = (this.stats.timings.ingest || 0) + Date.now() - t0
  }

  async syncEvents () {
    let downloaded = 0
    await runFeed({
      fetchPage: (since) => this.api.get(feedPath(this.base + '/events', since, this.limit)),
      loadCursor: () => this.cursor,
      // the workers hold the page now; the cache's own cursor follows its write
      saveCursor: async (next) => {
        this.cursor = next
        this.behind(() => this.cache.setCursor('events', next))
      },
      clear: async () => {
        await this.metrics.remove([{ kind: 'before', target: MAX_ULID }])
        this.behind(() => this.cache.clear('events'))
        this.changed = Infinity
      },
      store: async (page) => {
        const events = page.events || []
        const tombstones = page.tombstones || []
        if (typeof page.retentionDays === 'number' && page.retentionDays > 0) this.retentionMs = page.retentionDays * DAY
        if (events.length) {
          await this.ingest(events)
          this.behind(() => this.cache.putEvents(events))
        }
        if (tombstones.length) {
          await this.metrics.remove(tombstones)
          this.behind(() => this.cache.applyTombstones(tombstones))
          for (const ts of tombstones) {
            if (ts.kind !== 'secret') continue
            this.unreadableSecrets.delete(ts.target)
            if (this.ring.delete(ts.target)) this.ringDirty = true
            this.known.delete(ts.target)
          }
        }
        downloaded += events.length
        this.stats.downloaded += events.length
        this.changed += events.length + tombstones.length
        this.onProgress({ phase: 'events', done: this.stats.cachedEvents + downloaded })
      }
    })
  }

  // expire drops events older than the retention, as the server does (PROTOCOL §5).
  async expire () {
    if (!this.retentionMs) return
    const ts = [{ kind: 'before', target: ulidAt(this.now() - this.retentionMs) }]
    await this.metrics.remove(ts)
    this.behind(() => this.cache.applyTombstones(ts))
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
      await this.behind(() => this.keyring.replace(this.ring))
    }
    const key = { loginId: this.loginId, accountId: this.accountId, shards: conns.length, cursor: this.cursor || null }
    await Promise.all(conns.map((c, shard) => c.call('cacheSave', { key: { ...key, shard }, cacheKey: this.cacheKey })))
  }
}
