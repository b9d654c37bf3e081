// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Loads one account into the metrics workers (PROTOCOL §4 Dashboard, §6, §13; README.md):
//
//   1. GET /api/accounts/{id}; the private key is decrypted with the KEK (session.account)
//      and handed to the workers, which unwrap user secrets themselves (one ECDH each). The
//      keyring (user secrets this browser unwrapped before, sealed under a key from the KEK)
//      saves those ECDH.
//   2. GET /segments lists the account's valid segments, the oldest period and the first
//      open one. The closed periods within the retention are read in groups, newest first:
//      those of the range shown, then the history before it (returning visitors, retention):
//      the retention weeks in full, older periods with a segment in outline (when each visitor
//      first viewed a page there), and last those in full. A period with a valid segment is
//      opened and decoded by the workers (from the IndexedDB cache when it holds that digest,
//      else fetched and cached, sealed). A period without one is read raw (its events with
//      their wrapped secrets), decrypted, encoded and sealed by a worker, uploaded with its
//      coverage, and then handled like a fetched segment. A period's rows replace whatever
//      the workers held for it.
//   3. The open periods come from the events feed with `start` (the open tail), their secrets
//      from the secrets lookup; tombstones apply as they come.
//   4. After the range's periods and the tail, onFirst(summary) reports the first figures
//      (returning visitors and retention may still be partial), onRange(summary) the range's
//      complete ones (the outlines are in); load() resolves when all periods are in full.
//
// refresh() reads the feed from its cursor, lists the segments again, rebuilds the periods
// whose segment turned stale (a purge) and seals the periods that closed since. Unreadable
// secrets and events are counted, never shown.

import { fromBase64Url } from '../../../keys/js/crypto.js'
import { packItems } from '../metrics/client.js'
import { createKeyring } from './cache.js'
import { deriveCacheKey, open, seal } from './seal.js'
import { deriveSegmentKey, SEGMENT_VERSION } from './segment-ops.js'
import { createSegmentCache, DAY, fetchSealed, periodStart, planPeriods, pool, readPeriodEvents } from './segments.js'
import { feedPath, prefetchingFetcher, runFeed } from './sync.js'
import { MAX_ULID, ulidAt } from './ulid.js'

const IN_FLIGHT = 4 // events pages handed to the workers and not yet done
const SEGMENTS_IN_FLIGHT = 6 // segments fetched and opened at once
const LOOKUP_KEYS = 500 // key ids per GET /secrets?keys=

/**
 * AccountLoader drives one account of one login.
 *   new AccountLoader({api, session, metrics, loginId, accountId, factory, limit, now, range,
 *                      onProgress, onFirst})
 *   load()          full load; resolves with summary() {account, retentionMs, unreadableSecrets,
 *                   rangeDone, complete, stats}; onFirst(summary()) before, once the range is
 *                   in, and onRange(summary()) once its figures are complete
 *   refresh()       incremental sync
 *   query(q)        metrics of the loaded events (q as in src/metrics/README.md)
 *   partial(q)      the figures of q that may still change while the history loads
 *   written()       resolves when queued cache writes and uploads are done
 * onProgress({phase, done, total}): 'account', 'periods' (periods read of those needed),
 * 'events' (events in the workers of those known so far), 'keys' (secrets unwrapped), 'ready'.
 */
export class AccountLoader {
  constructor ({ api, session, metrics, loginId, accountId, factory = globalThis.indexedDB, limit = 5000, now = () => Date.now(), range = null, onProgress = () => {}, onFirst = () => {}, onRange = () => {} }) {
    Object.assign(this, { api, session, metrics, loginId, accountId, factory, limit, now, range, onProgress, onFirst, onRange })
    this.segmentCache = createSegmentCache({ factory, loginId, accountId })
    this.unreadableSecrets = new Set()
    this.ring = new Map() // keyId -> {secretId, secret}: unwrapped user secrets
    this.known = new Set() // key ids the workers hold
    this.unwrapping = new Map() // key id -> Promise settled once the key's unwrap is done
    this.keysSeen = 0
    this.keysDone = 0
    this.cursor = undefined // events feed cursor of the open tail
    this.openFrom = null // first open period when the tail was started
    this.periods = new Map() // period -> {digest, listed}: what the workers hold of it
    this.progress = { periods: 0, periodsTotal: 0, events: 0, eventsTotal: 0 }
    this.complete = false
    this.writes = Promise.resolve()
    this.uploads = []
    this.cacheBroken = false
    this.ringDirty = false
    this.account = null
    this.retentionMs = null
    this.privateKey = null
    this.turn = 0 // round robin over the workers for sealing
    this.sealKeys = [] // per worker: key ids it holds for sealing
    this.stats = { downloaded: 0, unwrapped: 0, segments: 0, sealed: 0, uploaded: 0, timings: {} }
  }

  get base () {
    return `/api/accounts/${encodeURIComponent(this.accountId)}`
  }

  async load () {
    const timings = this.stats.timings
    // time since navigation start (shell, catalog, session, workers) when load begins
    if (globalThis.performance && typeof performance.now === 'function') timings.start = Math.round(performance.now())
    const t0 = Date.now()
    let last = t0
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
    const kek = this.session.kek ? this.session.kek(this.accountId) : null
    ;[this.cacheKey, this.segmentKey] = kek ? await Promise.all([deriveCacheKey(kek), deriveSegmentKey(kek)]) : [null, null]
    lap('account')
    const [list] = await Promise.all([this.listSegments(), this.openKeyring(), this.metrics.setAccount(privateKey, this.accountId)])
    lap('restore')
    const plan = planPeriods(list, { now: this.now(), retentionMs: this.retentionMs, range: this.range })
    // the history before the retention weeks with a segment is read in outline first (when
    // each visitor first viewed a page: what returning visitors need), then in full
    const weeksFrom = this.now() - 29 * DAY
    const outline = new Set(plan.rest.filter(p => periodStart(p) + DAY <= weeksFrom && this.readable(p)))
    const rest = plan.rest.filter(p => !outline.has(p))
    this.progress.periodsTotal = plan.first.length + plan.rest.length + outline.size
    for (const s of list.segments) if (plan.first.includes(s.period) || plan.rest.includes(s.period)) this.progress.eventsTotal += s.count || 0
    this.openFrom = list.openFrom
    // the workers' columns at their size (a visitor's events are in one worker; about an
    // equal share each), not grown by doubling
    const conns = this.metrics.connections
    if (this.progress.eventsTotal > 0) await Promise.all(conns.map(c => c.call('reserve', { events: Math.ceil(this.progress.eventsTotal / conns.length * 1.05) })))
    // the tail and the range's periods at once
    await Promise.all([
      this.syncEvents().then(() => lap('tail')),
      this.readPeriods(plan.first)
    ])
    await this.expire()
    timings.first = Date.now() - t0
    this.onFirst(this.summary())
    await this.readPeriods(rest.concat([...outline]), outline)
    await this.expire()
    timings.range = Date.now() - t0 - timings.first
    this.rangeDone = true
    this.onRange(this.summary())
    await this.writes // the outlined segments, cached meanwhile, are read from the cache
    await this.readPeriods([...outline])
    await this.expire()
    timings.history = Date.now() - t0 - timings.first - timings.range
    this.complete = true
    this.onProgress({ phase: 'ready' })
    return this.summary()
  }

  async refresh () {
    await this.syncEvents()
    const list = await this.listSegments()
    const plan = planPeriods(list, { now: this.now(), retentionMs: this.retentionMs })
    const todo = []
    for (const period of plan.first.concat(plan.rest)) {
      const held = this.periods.get(period)
      const seg = this.listed.get(period)
      if (held ? (held.listed && (!seg || seg.digest !== held.digest)) : periodStart(period) >= periodStart(this.openFrom)) todo.push(period)
    }
    this.openFrom = list.openFrom
    // a stale segment (events deleted) is rebuilt from the remaining raw events; a period
    // closed since the load is sealed (its events came with the tail already)
    await this.readPeriods(todo)
    await this.expire()
    return this.summary()
  }

  summary () {
    return { account: this.account, retentionMs: this.retentionMs, unreadableSecrets: this.unreadableSecrets.size, rangeDone: !!this.rangeDone, complete: this.complete, stats: this.stats }
  }

  // readable tells whether a period has a segment this browser can open
  readable (period) {
    const seg = this.listed.get(period)
    return !!(seg && this.segmentKey && seg.version === SEGMENT_VERSION)
  }

  query (q) {
    return this.metrics.query({ retentionMs: this.retentionMs, ...q })
  }

  /**
   * partial lists the figures of query q that the history still loading may change:
   * returning visitors (history before the range), retention (the last 28 days) and, for a
   * range other than the one loaded first, everything.
   */
  partial (q) {
    if (this.complete) return []
    const r = this.range
    if (!r || q.from < r.from - DAY || q.to > r.to + DAY) return ['all']
    if (this.rangeDone) return []
    const out = ['returningVisitors']
    if (q.now - 28 * DAY < r.from - DAY) out.push('retention')
    return out
  }

  written () {
    return Promise.all([this.writes, ...this.uploads])
  }

  // behind queues a cache write; a failed write stops later ones (the cache then lags, which
  // only costs downloads).
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

  async listSegments () {
    const list = await this.api.get(this.base + '/segments')
    const segments = (list && Array.isArray(list.segments)) ? list.segments : []
    this.listed = new Map(segments.filter(s => s && typeof s.period === 'string').map(s => [s.period, s]))
    if (typeof (list && list.retentionDays) === 'number' && list.retentionDays > 0) this.retentionMs = list.retentionDays * DAY
    return { ...list, segments }
  }

  async openKeyring () {
    this.keyring = this.cacheKey ? createKeyring({ factory: this.factory, loginId: this.loginId, accountId: this.accountId, cacheKey: this.cacheKey, seal, open }) : null
    if (!this.keyring) return
    const { keys, unreadable } = await this.keyring.load()
    this.ring = keys
    for (const keyId of unreadable) this.unreadableSecrets.add(keyId)
  }

  report (phase) {
    const p = this.progress
    if (phase === 'periods') this.onProgress({ phase, done: p.periods, total: p.periodsTotal })
    else this.onProgress({ phase: 'events', done: p.events, total: Math.max(p.events, p.eventsTotal) })
  }

  // readPeriods reads closed periods into the workers: from their segments where valid, else
  // raw; those in `outline` in outline only (a segment that fails is read raw, in full)
  async readPeriods (periods, outline = new Set()) {
    await pool(periods, SEGMENTS_IN_FLIGHT, async (period) => {
      const seg = this.listed.get(period)
      let done = false
      if (this.readable(period)) {
        try {
          await this.readSegment(period, seg, outline.has(period))
          done = true
        } catch {} // damaged or not ours to read: the raw events are the truth
      }
      if (!done) {
        await this.sealPeriod(period)
        if (outline.delete(period)) this.progress.periodsTotal--
      }
      this.progress.periods++
      this.report('periods')
    })
  }

  async readSegment (period, seg, outline = false) {
    let sealed = await this.segmentCache.get(period, seg.digest).catch(() => null)
    const fetched = !sealed
    if (fetched) sealed = await fetchSealed(this.api, this.base, period, seg.digest)
    const res = outline ? await this.applyOutline(period, seg.version, sealed) : await this.applySegment(period, seg.version, { sealed })
    if (fetched) this.behind(() => this.segmentCache.put(period, { version: seg.version, digest: seg.digest, sealed }))
    if (!outline) this.heldSegment(period, seg)
    return res
  }

  heldSegment (period, seg) {
    this.periods.set(period, { digest: seg.digest, listed: true })
    this.stats.segments++
  }

  // applySegment has every worker take its visitors' rows of the period; a sealed one is
  // opened by one of them
  async applySegment (period, version, { bytes, sealed }) {
    const conns = this.metrics.connections
    const replace = this.periods.has(period)
    const keyed = { segmentKey: this.segmentKey, accountId: this.accountId, period, version }
    if (!bytes) bytes = (await conns[this.turn++ % conns.length].call('open', { ...keyed, sealed })).bytes
    const results = await Promise.all(conns.map((c, shard) => c.call('segment', { ...keyed, bytes, shard, shards: conns.length, replace })))
    const n = results.reduce((sum, r) => sum + r.added + r.ignored + r.unreadable + r.duplicates, 0)
    this.progress.events += n
    this.report('events')
    return results
  }

  // applyOutline has one worker read a segment in outline (of the events expire() keeps) and
  // every worker keep its part
  async applyOutline (period, version, sealed) {
    const conns = this.metrics.connections
    const { parts } = await conns[this.turn++ % conns.length].call('outline', { segmentKey: this.segmentKey, accountId: this.accountId, period, version, sealed, shards: conns.length, sinceMs: this.now() - this.retentionMs })
    return Promise.all(conns.map((c, shard) => c.call('seen', { period, part: parts[shard] })))
  }

  // sealPeriod reads a closed period's raw events, has a worker decrypt, encode and seal
  // them, hands the rows to the workers and uploads the segment.
  async sealPeriod (period) {
    const { events, secrets } = await readPeriodEvents(this.api, this.base, period, this.limit, (n) => { this.stats.downloaded += n })
    this.progress.eventsTotal += events.length
    const keys = []
    const named = new Set(events.map(e => e && e.keyId))
    // a secret being unwrapped for another period or the tail is waited for, not unwrapped twice
    const others = [...named].filter(keyId => !this.ring.has(keyId) && this.unwrapping.has(keyId)).map(keyId => this.unwrapping.get(keyId))
    const todo = secrets.filter(s => named.has(s.keyId) && !this.ring.has(s.keyId) && !this.unreadableSecrets.has(s.keyId) && !this.unwrapping.has(s.keyId))
    const release = this.claim(todo.map(s => s.keyId))
    const conns = this.metrics.connections
    const w = this.turn++ % conns.length
    let res
    try {
      await Promise.all(others)
      // a worker keeps the keys it was given or unwrapped for sealing: each is sent once
      const sent = this.sealKeys[w] || (this.sealKeys[w] = new Set())
      for (const keyId of named) {
        const k = this.ring.get(keyId)
        if (k && !sent.has(keyId)) {
          sent.add(keyId)
          keys.push([keyId, typeof k.secret === 'string' ? fromBase64Url(k.secret) : k.secret])
        }
      }
      for (const s of todo) sent.add(s.keyId)
      res = await conns[w].call('sealPeriod', { accountId: this.accountId, period, ...packItems(events), keys, secrets: todo, segmentKey: this.segmentKey })
      this.keep(res)
    } catch {
      res = null
      this.sealKeys[w] = null // what the worker kept is unknown: its keys are sent again
    } finally {
      release()
    }
    if (!res) {
      // events the encoder refuses (a malformed id): they go to the workers one by one, as
      // from the feed, and the period stays unsealed
      await this.lookupSecrets(events)
      await this.ingest(events)
      this.periods.set(period, { digest: null, listed: false })
      return
    }
    await this.applySegment(period, res.version, { bytes: res.bytes })
    this.stats.sealed++
    this.periods.set(period, { digest: res.digest, listed: false })
    if (res.sealed) this.uploads.push(this.upload(period, res))
  }

  // claim marks key ids as being unwrapped; the returned function ends that
  claim (keyIds) {
    let done
    const promise = new Promise(resolve => { done = resolve })
    for (const keyId of keyIds) this.unwrapping.set(keyId, promise)
    return () => {
      for (const keyId of keyIds) if (this.unwrapping.get(keyId) === promise) this.unwrapping.delete(keyId)
      done()
    }
  }

  // keep adds secrets a worker unwrapped to the keyring, and to the workers (an event of the
  // tail may wait for one)
  keep (res) {
    const keys = res.keyIds.map((keyId, j) => ({ keyId, secretId: res.secretIds[j], secret: res.secrets.subarray(32 * j, 32 * j + 32) }))
    for (const k of keys) this.ring.set(k.keyId, { secretId: k.secretId, secret: k.secret })
    if (keys.length) {
      for (const k of keys) this.known.add(k.keyId)
      this.metrics.setKeys(keys).catch(() => {})
    }
    for (const u of res.unreadableKeys) this.unreadableSecrets.add(u.keyId)
    this.stats.unwrapped += keys.length
    if (this.keyring && keys.length + res.unreadableKeys.length) this.behind(() => this.keyring.add(keys, res.unreadableKeys))
  }

  async upload (period, res) {
    const body = { version: res.version, count: res.count, digest: res.digest, segment: res.sealed }
    try {
      await this.api.put(`${this.base}/segments/${period}`, body)
    } catch {
      return // another browser sealed it first, or events changed meanwhile: the raw events stay the truth
    }
    this.stats.uploaded++
    const held = this.periods.get(period)
    if (held && held.digest === res.digest) held.listed = true
    this.behind(() => this.segmentCache.put(period, { version: res.version, digest: res.digest, sealed: res.sealed }))
  }

  // fetcher returns the fetchPage of the events feed, a run starting at the open periods when
  // there is no cursor yet: the next page is requested while a page is parsed (with an API
  // client that can hand out the text of a response)
  fetcher () {
    const start = this.openFrom ? periodStart(this.openFrom) : undefined
    const pathOf = (since) => feedPath(this.base + '/events', since, this.limit, since ? undefined : start)
    if (typeof this.api.request !== 'function') return (since) => this.api.get(pathOf(since))
    return prefetchingFetcher(async (path) => {
      const res = await this.api.request('GET', path, undefined, { raw: true })
      if (!res || typeof res.text !== 'function') return res == null ? '' : JSON.stringify(res) // a client without raw responses
      return res.status === 204 ? '' : res.text()
    }, pathOf)
  }

  // lookupSecrets fetches and unwraps the secrets of events whose key is neither in the keyring
  // nor being unwrapped (the workers keep such events until their key comes)
  lookupSecrets (events) {
    const missing = new Set()
    for (const e of events) {
      const keyId = e && e.keyId
      if (typeof keyId !== 'string' || this.ring.has(keyId) || this.known.has(keyId) || this.unreadableSecrets.has(keyId) || this.unwrapping.has(keyId)) continue
      missing.add(keyId)
    }
    const list = [...missing]
    const batches = []
    for (let i = 0; i < list.length; i += LOOKUP_KEYS) {
      const chunk = list.slice(i, i + LOOKUP_KEYS)
      const release = this.claim(chunk)
      batches.push(this.api.get(`${this.base}/secrets?keys=${chunk.map(encodeURIComponent).join(',')}`)
        .then(res => {
          const found = ((res && res.secrets) || []).filter(r => r && chunk.includes(r.keyId))
          return found.length ? this.unwrap(found) : null
        })
        .finally(release))
    }
    return Promise.all(batches)
  }

  // unwrap has the workers unwrap secrets (one ECDH each) and adds them to the keyring.
  async unwrap (records) {
    this.keysSeen += records.length
    this.onProgress({ phase: 'keys', done: this.keysDone, total: this.keysSeen })
    const res = await this.metrics.unwrap(records)
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

  // syncEvents reads the events feed of the open tail from its cursor
  async syncEvents () {
    const inFlight = []
    const lookups = []
    const t0 = Date.now()
    let idleSince = t0 // the wait for each page is reported as timings.feedWait
    let feedWait = 0
    let workerWait = 0
    await runFeed({
      fetchPage: this.fetcher(),
      loadCursor: () => this.cursor,
      // the workers have the page (they handle requests in order)
      saveCursor: async (next) => { this.cursor = next },
      clear: async () => {
        // the cursor is too old: the tail is read again (rows of closed periods come back as duplicates)
        await Promise.all(inFlight.splice(0))
        await this.metrics.remove([{ kind: 'before', target: MAX_ULID }])
        this.periods.clear()
      },
      store: async (page) => {
        feedWait += Date.now() - idleSince
        const events = page.events || []
        const tombstones = page.tombstones || []
        if (typeof page.retentionDays === 'number' && page.retentionDays > 0) this.retentionMs = page.retentionDays * DAY
        if (events.length) {
          lookups.push(this.lookupSecrets(events))
          inFlight.push(this.ingest(events))
        }
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
        this.stats.downloaded += events.length
        this.progress.events += events.length
        this.progress.eventsTotal += events.length
        this.report('events')
        idleSince = Date.now()
      }
    })
    await Promise.all(lookups)
    await Promise.all(inFlight)
    if (this.ringDirty && this.keyring) {
      this.ringDirty = false
      this.behind(() => this.keyring.replace(this.ring, this.unreadableSecrets))
    }
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
}
