// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// EventStore: a compact, columnar, incremental store of decrypted events that answers metric
// queries. One row per event in typed arrays; strings (visitors, sessions, pages, referrers,
// campaigns, sources, countries, key ids) are interned in dictionaries; event ids are kept as
// 26 ASCII bytes with an open-addressing hash index. A query walks the rows grouped by
// visitor, then session, then time; that order is rebuilt lazily (counting sort) after writes.

import { emptyPartial, finalize, normalizeQuery, PROP_SEPARATOR, REALTIME_WINDOW, RETENTION_WEEKS } from './aggregate.js'
import { BROWSERS, DEVICES, IGNORED, KINDS, OSES, pageInfo, pathMatcher, referrerLabel, SCREENS, utmValues, validatePayload, validEventId } from './normalize.js'
import { KIND } from './steps.js'
import { flat, rowPayload, ulidOf } from './segment-rows.js'
import { bucketIndex, WEEK } from './time.js'

// idMs is the time (ms) of the binary ULID at ids[at]
const idMs = (ids, at) => ids[at] * 1099511627776 + ids[at + 1] * 4294967296 + (ids[at + 2] << 24 >>> 0) + (ids[at + 3] << 16 | ids[at + 4] << 8 | ids[at + 5])

const ID_BYTES = 26
const COLUMNS = ['t', 'visitor', 'session', 'page', 'referrer', 'campaign', 'source', 'geo', 'key', 'account', 'pageload', 'flags',
  'kind', 'name', 'props', 'browser', 'os', 'device', 'screen']
const DICTS = ['visitors', 'pages', 'referrers', 'campaigns', 'sources', 'geos', 'keys', 'accounts',
  'names', 'propSets', 'browsers', 'oses', 'devices', 'screens']
const SNAPSHOT_VERSION = 2 // 2: the columns of events beyond page views
const NO_PAGES = new Uint8Array(0)

class Dict {
  constructor (values = []) {
    this.values = values
    this._ids = values.length ? null : new Map() // built at first use (a restored store may never need it)
  }

  get ids () {
    if (this._ids === null) {
      this._ids = new Map()
      for (let i = 0; i < this.values.length; i++) if (!this._ids.has(this.values[i])) this._ids.set(this.values[i], i)
    }
    return this._ids
  }

  intern (s) {
    const ids = this.ids
    let id = ids.get(s)
    if (id === undefined) {
      id = this.values.length
      ids.set(s, id)
      this.values.push(s)
    }
    return id
  }

  get size () {
    return this.values.length
  }
}

function grow (arr, cap) {
  const next = new arr.constructor(cap)
  next.set(arr.subarray(0, Math.min(arr.length, cap)))
  return next
}

// Crockford base32 as in ULIDs: the byte of each accepted character code, upper-cased, or 0
const CROCKFORD = new Uint8Array(128)
for (const c of '0123456789ABCDEFGHJKMNPQRSTVWXYZ') {
  CROCKFORD[c.charCodeAt(0)] = c.charCodeAt(0)
  CROCKFORD[c.toLowerCase().charCodeAt(0)] = c.charCodeAt(0)
}

// idBytes writes the upper-case ASCII bytes of a ULID into buf; false when id is no ULID.
function idBytes (id, buf) {
  if (typeof id !== 'string' || id.length !== ID_BYTES) return false
  for (let i = 0; i < ID_BYTES; i++) {
    const c = id.charCodeAt(i)
    const b = c < 128 ? CROCKFORD[c] : 0
    if (b === 0) return false
    buf[i] = b
  }
  return true
}

function upper (buf) {
  return String.fromCharCode.apply(null, buf)
}

function compareIds (bytes, a, b) {
  const oa = a * ID_BYTES
  const ob = b * ID_BYTES
  for (let i = 0; i < ID_BYTES; i++) {
    const d = bytes[oa + i] - bytes[ob + i]
    if (d !== 0) return d
  }
  return 0
}

/**
 * outlineOf returns the outline of decoded segment columns c (EventStore#addSeen): per key of
 * the visitors keep(secretId) accepts, the time of its earliest page view, counted as
 * addSegment counts one; with sinceMs only those received from then on. {keyIds, secretIds,
 * times}: plain arrays, to be posted to another worker.
 */
export function outlineOf (c, { keep = () => true, sinceMs = -Infinity } = {}) {
  const kept = c.secretIds.map(s => s !== '' && keep(s))
  const infos = c.hrefs.map(h => h.length > 0 && h.length <= 2048 && pageInfo(h) !== null)
  const sessionOk = c.sessionIds.map(s => s.length > 0 && s.length <= 128)
  const pageView = c.types.map(ty => ty === 'PAGEVIEW')
  const earliest = new Float64Array(c.keyIds.length).fill(Infinity)
  for (let i = 0; i < c.count; i++) {
    const k = c.key[i]
    if (!kept[c.keySecret[k]] || idMs(c.ids, 16 * i) < sinceMs) continue
    let t = c.time[i]
    if (c.extra[i] !== 0) {
      const p = validatePayload(rowPayload(c, i))
      if (p === null || p === IGNORED || p.type !== 'PAGEVIEW') continue
      t = p.time
    } else {
      const h = c.href[i]
      const sess = c.session[i]
      if (!pageView[c.type[i]] || h === 0 || !infos[h - 1] || Number.isNaN(t) || (sess !== 0 && !sessionOk[sess - 1])) continue
    }
    if (t < earliest[k]) earliest[k] = t
  }
  const out = { keyIds: [], secretIds: [], times: [] }
  earliest.forEach((t, k) => {
    if (t === Infinity) return
    out.keyIds.push(c.keyIds[k])
    out.secretIds.push(c.secretIds[c.keySecret[k]])
    out.times.push(t)
  })
  return out
}

/**
 * EventStore holds the decrypted events of one shard (or of everything, for a single store).
 *
 *   add(records)        records {eventId, secretId, keyId, payload}: payload is the decrypted
 *                       plaintext object. Returns {added, duplicates, unreadable, ignored}.
 *   markUnreadable(ids) counts events that failed decryption (distinct ids).
 *   remove(tombstones)  {kind: 'event', target: eventId} | {kind: 'secret', target: keyId or
 *                       secretId} | {kind: 'before', target: eventId (ULID)}. Returns {removed}.
 *   partial(query)      the partial aggregate of this store (aggregate.js), mergeable.
 *   query(query)        finalize(partial(query)): the metrics object.
 */
export class EventStore {
  constructor ({ capacity = 1024 } = {}) {
    this.clear(capacity)
  }

  /** clear drops everything. */
  clear (capacity = 1024) {
    this.n = 0 // rows used (alive and dead)
    this.alive = 0
    this.cap = 16
    while (this.cap < capacity) this.cap *= 2 // a power of two, so is the hash table
    this.t = new Float64Array(this.cap)
    this.visitor = new Int32Array(this.cap)
    this.session = new Int32Array(this.cap)
    this.page = new Int32Array(this.cap)
    this.referrer = new Int32Array(this.cap)
    this.campaign = new Int32Array(this.cap)
    this.source = new Int32Array(this.cap)
    this.geo = new Int32Array(this.cap)
    this.key = new Int32Array(this.cap)
    this.account = new Int32Array(this.cap)
    this.pageload = new Float64Array(this.cap)
    this.flags = new Uint8Array(this.cap) // bit 0 alive, bit 1 mobile, bit 2 not found
    this.kind = new Uint8Array(this.cap) // KIND of steps.js
    this.name = new Int32Array(this.cap) // event name or link target (names), -1 for page views
    this.props = new Int32Array(this.cap) // propSets: JSON of the sorted [key, value] pairs, or -1
    this.browser = new Int8Array(this.cap) // the device fields (their dictionaries), -1 when absent
    this.os = new Int8Array(this.cap)
    this.device = new Int8Array(this.cap)
    this.screen = new Int8Array(this.cap)
    this.ids = new Uint8Array(this.cap * ID_BYTES)
    this.hash = new Int32Array(this.cap * 2).fill(-1)
    this.visitors = new Dict()
    // sessions are scoped to their visitor: session id -> index for the first visitor using
    // it, 'visitor index:session id' -> index for any other one (and ':' for events without
    // a session, one group per visitor)
    this.nSessions = 0
    this._sessionById = new Map()
    this._sessionByKey = new Map()
    this._sessionIds = null // a restored store's session ids until the maps are needed
    this.sessionVisitor = new Int32Array(64)
    this.sessionLess = new Uint8Array(64)
    this.pages = new Dict()
    this.referrers = new Dict()
    this.campaigns = new Dict()
    this.sources = new Dict()
    this.geos = new Dict()
    this.keys = new Dict()
    this.accounts = new Dict() // '' when records carry no account id (one account per store)
    this.names = new Dict()
    this.propSets = new Dict()
    this.browsers = new Dict()
    this.oses = new Dict()
    this.devices = new Dict()
    this.screens = new Dict()
    this._propEntries = null // derived: the eventProps keys of each (name, propSet)
    this.unreadableIds = new Map() // event id -> account id ('' when unknown)
    this.unreadableWithoutId = 0
    // period -> {from, keys, visitors, times}: when the kept visitors of a period held only
    // in outline (addSeen) first viewed a page there
    this.seen = new Map()
    this.dirty = true
    this.order = null
  }

  get sessionById () {
    if (this._sessionIds !== null) this._sessionMaps()
    return this._sessionById
  }

  get sessionByKey () {
    if (this._sessionIds !== null) this._sessionMaps()
    return this._sessionByKey
  }

  // _sessionMaps replays the interning of a restored store's sessions in creation order,
  // which yields the same maps
  _sessionMaps () {
    const ids = this._sessionIds
    this._sessionIds = null
    for (let s = 0; s < ids.length; s++) {
      const sid = ids[s]
      if (sid !== null && !this._sessionById.has(sid)) this._sessionById.set(sid, s)
      else this._sessionByKey.set(this.sessionVisitor[s] + ':' + (sid === null ? '' : sid), s)
    }
  }

  /** size is the number of events held. */
  get size () {
    return this.alive
  }

  /** unreadable is the number of distinct events that could not be decrypted or validated. */
  get unreadable () {
    return this.unreadableIds.size + this.unreadableWithoutId
  }

  _ensure (extra, exact = false) {
    if (this.n + extra <= this.cap) return
    let cap = this.cap
    if (exact) cap = this.n + extra
    else while (cap < this.n + extra) cap = cap < (1 << 20) ? cap * 2 : Math.ceil(cap * 1.25)
    for (const name of COLUMNS) {
      this[name] = grow(this[name], cap)
    }
    this.ids = grow(this.ids, cap * ID_BYTES)
    this.cap = cap
    let size = 32 // a power of two, at most two thirds full
    while (size < cap * 1.5) size *= 2
    if (size !== this.hash.length) this._rehash(size)
  }

  /**
   * reserve makes room for `extra` more events at once (e.g. the count of the segments about
   * to come), so that the columns are not grown by doubling, which leaves up to half unused.
   */
  reserve (extra) {
    this._ensure(extra, true)
  }

  _rehash (size) {
    this.hash = new Int32Array(size).fill(-1)
    for (let r = 0; r < this.n; r++) {
      if (this.flags[r] & 1) this._insertHash(r)
    }
  }

  _hashOf (bytes, off) {
    let h = 0x811c9dc5
    for (let i = 0; i < ID_BYTES; i++) {
      h ^= bytes[off + i]
      h = Math.imul(h, 0x01000193)
    }
    return h >>> 0
  }

  _insertHash (row) {
    const mask = this.hash.length - 1
    let i = this._hashOf(this.ids, row * ID_BYTES) & mask
    while (this.hash[i] !== -1) i = (i + 1) & mask
    this.hash[i] = row
  }

  // _find returns the hash slot holding the alive row with this id, or -(empty slot) - 1.
  _find (bytes) {
    const mask = this.hash.length - 1
    let i = this._hashOf(bytes, 0) & mask
    const ids = this.ids
    for (;;) {
      const r = this.hash[i]
      if (r === -1) return -i - 1
      const o = r * ID_BYTES
      let same = true
      for (let k = 0; k < ID_BYTES; k++) {
        if (ids[o + k] !== bytes[k]) {
          same = false
          break
        }
      }
      if (same) return i
      i = (i + 1) & mask
    }
  }

  // _sessionIndex interns the session (visitor, session id). Session ids are random per tab,
  // so the id alone almost always decides; an id seen under a second visitor falls back to a
  // composite key, keeping sessions scoped to their visitor (and so to one shard).
  _sessionIndex (visitor, sessionId, copy = null) {
    let s = sessionId === null ? undefined : this.sessionById.get(sessionId)
    if (s !== undefined && this.sessionVisitor[s] === visitor) return s
    const key = sessionId === null || s !== undefined ? visitor + ':' + (sessionId === null ? '' : sessionId) : null
    if (key !== null) {
      s = this.sessionByKey.get(key)
      if (s !== undefined) return s
    }
    s = this.nSessions++
    if (s >= this.sessionVisitor.length) {
      this.sessionVisitor = grow(this.sessionVisitor, this.sessionVisitor.length * 2)
      this.sessionLess = grow(this.sessionLess, this.sessionLess.length * 2)
    }
    this.sessionVisitor[s] = visitor
    this.sessionLess[s] = sessionId === null ? 1 : 0
    if (key === null) this.sessionById.set(copy ? copy(sessionId) : sessionId, s)
    else this.sessionByKey.set(key, s)
    return s
  }

  /**
   * add stores decrypted records {eventId, secretId, keyId, payload}. Records repeating an
   * event id already held are skipped; invalid ones are counted as unreadable; valid events of
   * types the metrics do not count are skipped as ignored.
   */
  add (records) {
    const res = { added: 0, duplicates: 0, unreadable: 0, ignored: 0 }
    const buf = new Uint8Array(ID_BYTES)
    this._ensure(records.length)
    for (const r of records) {
      if (!r || !idBytes(r.eventId, buf)) {
        this.unreadableWithoutId++
        res.unreadable++
        continue
      }
      const slot = this._find(buf)
      if (slot >= 0 && (this.flags[this.hash[slot]] & 1)) {
        res.duplicates++
        continue
      }
      if (this.unreadableIds.size > 0 && this.unreadableIds.has(upper(buf))) {
        res.duplicates++
        continue
      }
      const p = typeof r.secretId === 'string' && r.secretId !== '' ? validatePayload(r.payload) : null
      if (p === null) {
        this.unreadableIds.set(upper(buf), typeof r.accountId === 'string' ? r.accountId : '')
        res.unreadable++
        continue
      }
      if (p === IGNORED) {
        res.ignored++
        continue
      }
      const row = this.n++
      const v = this.visitors.intern(r.secretId)
      const page = pageInfo(p.href)
      const ref = referrerLabel(p.referrer, page.host)
      const utm = utmValues(p.href, p.rawHref)
      this.t[row] = p.time
      this.visitor[row] = v
      this.session[row] = this._sessionIndex(v, p.sessionId)
      this.page[row] = this.pages.intern(page.key)
      this.referrer[row] = ref === null ? -1 : this.referrers.intern(ref)
      this.campaign[row] = utm.campaign === null ? -1 : this.campaigns.intern(utm.campaign)
      this.source[row] = utm.source === null ? -1 : this.sources.intern(utm.source)
      this.geo[row] = p.geo === null ? -1 : this.geos.intern(p.geo)
      this.key[row] = this.keys.intern(typeof r.keyId === 'string' ? r.keyId : '')
      this.account[row] = this.accounts.intern(typeof r.accountId === 'string' ? r.accountId : '')
      this.pageload[row] = p.pageload === null ? 0 : p.pageload
      this.flags[row] = 1 | (p.isMobile ? 2 : 0)
      this._eventColumns(row, p)
      this.ids.set(buf, row * ID_BYTES)
      if (slot >= 0) this.hash[slot] = row // the id of a removed row comes back
      else this.hash[-slot - 1] = row
      this.alive++
      res.added++
    }
    if (res.added) this.dirty = true
    return res
  }

  /**
   * _eventColumns fills the columns of keys/PROTOCOL.md §12 of a row from validated fields
   * {type, name, props, notFound, browser, os, device, screen} as validatePayload returns
   * them (name: the event name or link target; props: sorted [key, value] pairs or null). A
   * bulk path that writes rows itself calls it with the same fields.
   */
  _eventColumns (row, p) {
    if (p.notFound) this.flags[row] |= 4
    this.kind[row] = KIND[p.type]
    this.name[row] = p.name === null ? -1 : this.names.intern(p.name)
    this.props[row] = p.props === null ? -1 : this.propSets.intern(JSON.stringify(p.props))
    this.browser[row] = p.browser === null ? -1 : this.browsers.intern(p.browser)
    this.os[row] = p.os === null ? -1 : this.oses.intern(p.os)
    this.device[row] = p.device === null ? -1 : this.devices.intern(p.device)
    this.screen[row] = p.screen === null ? -1 : this.screens.intern(p.screen)
  }

  /**
   * addSegment stores the rows of a segment as decodeSegmentColumns (keys/js/segment.js) reads
   * them, only those whose secret id keep(secretId) accepts (a shard's visitors); its
   * unreadable events (which name no visitor) are counted when `unreadable` is set (in one
   * shard). Each distinct string is validated and parsed once; a row is then what add() makes
   * of the same record (rows with extras and events other than page views go through add()
   * itself). Returns {added, duplicates,
   * unreadable, ignored} like add().
   */
  addSegment (c, { keep = () => true, unreadable: countUnreadable = true } = {}) {
    const res = { added: 0, duplicates: 0, unreadable: 0, ignored: 0 }
    const mapOf = (list, fn) => {
      const out = new Int32Array(list.length)
      for (let i = 0; i < list.length; i++) out[i] = fn(list[i], i)
      return out
    }
    // strings kept for long are copied (flat): the decoder's may be slices of one string
    const visitorOf = mapOf(c.secretIds, s => {
      if (s === '' || !keep(s)) return -1
      return this.visitors.ids.get(s) ?? this.visitors.intern(flat(s))
    })
    const keyVisitor = mapOf(c.keyIds, (k, i) => visitorOf[c.keySecret[i]])
    const keys = new Int32Array(c.keyIds.length).fill(-1) // interned at their first kept row
    // 1: a page view (fast path), 2: another kind of §12 (through add()), 0: ignored
    const counted = mapOf(c.types, ty => (ty === 'PAGEVIEW' ? 1 : KINDS.includes(ty) ? 2 : 0))
    const oneOf = (list, table) => table.map(v => (list.includes(v) ? v : null))
    const browsers = oneOf(BROWSERS, c.browsers)
    const oses = oneOf(OSES, c.oses)
    const devices = oneOf(DEVICES, c.devices)
    const screens = oneOf(SCREENS, c.screens)

    const infos = c.hrefs.map(h => (h.length > 0 && h.length <= 2048 ? pageInfo(h) : null))
    const pages = mapOf(infos, info => (info ? this.pages.intern(info.key) : -1))
    const sessionOk = mapOf(c.sessionIds, s => (s.length > 0 && s.length <= 128 ? 1 : 0))
    const geos = mapOf(c.geos, g => (/^[A-Za-z]{2}$/.test(g) ? this.geos.intern(g.toUpperCase()) : -1))
    const account = this.accounts.intern(c.accountId)
    const nh = c.hrefs.length + 1
    const refs = new Map() // referrer * hrefs + href -> referrer dict id
    const utms = new Map() // href * hrefs + rawHref -> [campaign, source]
    const unreadable = []
    const buf = new Uint8Array(ID_BYTES)
    const sessions = new Int32Array(c.sessionIds.length + 1).fill(-1) // last store session per session id
    this._ensure(c.count)
    for (let i = 0; i < c.count; i++) {
      const v = keyVisitor[c.key[i]]
      if (v < 0) continue
      if (c.extra[i] !== 0 || counted[c.type[i]] === 2) {
        const k = c.key[i]
        ulidOf(c.ids, 16 * i, buf, 0)
        const one = this.add([{ eventId: upper(buf), secretId: c.secretIds[c.keySecret[k]], keyId: c.keyIds[k], accountId: c.accountId, payload: rowPayload(c, i) }])
        for (const name in res) res[name] += one[name]
        continue
      }
      ulidOf(c.ids, 16 * i, buf, 0)
      const slot = this._find(buf)
      if ((slot >= 0 && (this.flags[this.hash[slot]] & 1)) || (this.unreadableIds.size > 0 && this.unreadableIds.has(upper(buf)))) {
        res.duplicates++
        continue
      }
      if (!counted[c.type[i]]) { // as validatePayload: other types are ignored before any field is checked
        res.ignored++
        continue
      }
      const h = c.href[i]
      const sess = c.session[i]
      if (h === 0 || pages[h - 1] < 0 || Number.isNaN(c.time[i]) || (sess !== 0 && sessionOk[sess - 1] !== 1)) {
        unreadable.push(upper(buf))
        continue
      }
      const rawIdx = c.rawHref[i]
      const ri = c.referrer[i]
      const rk = ri * nh + h
      let ref = refs.get(rk)
      if (ref === undefined) {
        const label = ri === 0 ? null : referrerLabel(c.referrers[ri - 1], infos[h - 1].host)
        refs.set(rk, (ref = label === null ? -1 : this.referrers.intern(label)))
      }
      const uk = h * nh + rawIdx
      let utm = utms.get(uk)
      if (utm === undefined) {
        const raw = rawIdx === 0 ? null : c.hrefs[rawIdx - 1]
        const u = utmValues(c.hrefs[h - 1], raw !== null && raw.length <= 2048 ? raw : null)
        utms.set(uk, (utm = [u.campaign === null ? -1 : this.campaigns.intern(u.campaign), u.source === null ? -1 : this.sources.intern(u.source)]))
      }
      let si = sessions[sess]
      if (si < 0 || this.sessionVisitor[si] !== v) {
        si = this._sessionIndex(v, sess === 0 ? null : c.sessionIds[sess - 1], flat)
        if (sess !== 0) sessions[sess] = si
      }
      let key = keys[c.key[i]]
      if (key < 0) {
        const k = c.keyIds[c.key[i]]
        key = keys[c.key[i]] = this.keys.ids.get(k) ?? this.keys.intern(flat(k))
      }
      const row = this.n++
      this.t[row] = c.time[i]
      this.visitor[row] = v
      this.session[row] = si
      this.page[row] = pages[h - 1]
      this.referrer[row] = ref
      this.campaign[row] = utm[0]
      this.source[row] = utm[1]
      this.geo[row] = c.geo[i] === 0 ? -1 : geos[c.geo[i] - 1]
      this.key[row] = key
      this.account[row] = account
      this.pageload[row] = c.pageload[i]
      this.flags[row] = 1 | (c.isMobile[i] === 2 ? 2 : 0)
      this._eventColumns(row, {
        type: 'PAGEVIEW',
        name: null,
        props: null,
        notFound: c.notFound[i] === 2,
        browser: c.browser[i] === 0 ? null : browsers[c.browser[i] - 1],
        os: c.os[i] === 0 ? null : oses[c.os[i] - 1],
        device: c.device[i] === 0 ? null : devices[c.device[i] - 1],
        screen: c.screen[i] === 0 ? null : screens[c.screen[i] - 1]
      })
      this.ids.set(buf, row * ID_BYTES)
      if (slot >= 0) this.hash[slot] = row
      else this.hash[-slot - 1] = row
      this.alive++
      res.added++
    }
    if (countUnreadable) for (const id of c.unreadable) unreadable.push(id)
    res.unreadable += this.markUnreadable(unreadable.map(eventId => ({ eventId, accountId: c.accountId })))
    if (res.added) this.dirty = true
    return res
  }

  /**
   * addSeen keeps a segment in outline: per key of the visitors keep(secretId) accepts, the
   * time of its earliest page view in the period, which is all that "seen before" (returning
   * visitors) needs of a period outside the range and the retention weeks; no rows. The rows
   * the store holds or gets later stay as they are; addSegment of the period (or
   * dropSeen) replaces the outline. A page view counts as addSegment would count it; with
   * sinceMs, only those received from then on (the events a 'before' tombstone leaves).
   * [from, to) are the period's ULID bounds: a 'before' tombstone at `to` or later drops it.
   */
  addSeen (period, bounds, c, options) {
    return this.setSeen(period, bounds, outlineOf(c, options))
  }

  /** setSeen keeps an outline as outlineOf returns it (see addSeen). */
  setSeen (period, [from, to], { keyIds, secretIds, times }) {
    const keys = new Int32Array(keyIds.length)
    const visitors = new Int32Array(keyIds.length)
    for (let i = 0; i < keyIds.length; i++) {
      keys[i] = this.keys.ids.get(keyIds[i]) ?? this.keys.intern(flat(keyIds[i]))
      visitors[i] = this.visitors.ids.get(secretIds[i]) ?? this.visitors.intern(flat(secretIds[i]))
    }
    this.seen.set(period, { from, to, keys, visitors, times: Float64Array.from(times) })
    this.dirty = true
    return { visitors: keyIds.length }
  }

  /** dropSeen forgets a period's outline (addSeen). */
  dropSeen (period) {
    if (this.seen.delete(period)) this.dirty = true
  }

  /**
   * removeRange removes every event (readable or not) whose id lies in [from, to) (ULIDs, e.g.
   * the bounds of a period whose segment turned stale). Returns {removed}.
   */
  removeRange (from, to) {
    const lo = validEventId(from)
    const hi = validEventId(to)
    if (!lo || !hi) return { removed: 0 }
    for (const u of this.unreadableIds.keys()) if (u >= lo && u < hi) this.unreadableIds.delete(u)
    const ids = this.ids
    const cmp = (o, id) => {
      for (let i = 0; i < ID_BYTES; i++) {
        const d = ids[o + i] - id.charCodeAt(i)
        if (d !== 0) return d
      }
      return 0
    }
    let removed = 0
    for (let r = 0; r < this.n; r++) {
      if ((this.flags[r] & 1) && cmp(r * ID_BYTES, lo) >= 0 && cmp(r * ID_BYTES, hi) < 0) removed += this._kill(r)
    }
    if (removed) {
      this.dirty = true
      if (this.n - this.alive > Math.max(4096, this.alive)) this._compact()
    }
    return { removed }
  }

  /**
   * markUnreadable counts events whose ciphertext could not be decrypted: event ids, or
   * {eventId, accountId} so that an account's 'before' tombstone finds them. Returns how
   * many were not counted yet.
   */
  markUnreadable (events) {
    let n = 0
    for (const e of events) {
      const id = validEventId(typeof e === 'string' ? e : e && e.eventId)
      if (!id) {
        this.unreadableWithoutId++
        n++
      } else if (!this.unreadableIds.has(id)) {
        this.unreadableIds.set(id, (e && typeof e.accountId === 'string' && e.accountId) || '')
        n++
      }
    }
    return n
  }

  /** forgetUnreadable uncounts event ids, e.g. before decrypting them again with a new key. */
  forgetUnreadable (eventIds) {
    for (const eventId of eventIds) {
      const id = validEventId(eventId)
      if (id) this.unreadableIds.delete(id)
    }
  }

  _kill (row) {
    if (this.flags[row] & 1) {
      this.flags[row] &= ~1
      this.alive--
      return 1
    }
    return 0
  }

  /**
   * remove applies sync tombstones (PROTOCOL.md §5): 'event' removes that event, 'secret'
   * every event under that key id (or secret id), 'before' every event whose id sorts below
   * the target ULID. A tombstone with an `accountId` (the visitor feed's) applies only to
   * events stored with that account id. Unreadable events are removed the same way.
   */
  remove (tombstones) {
    let removed = 0
    const buf = new Uint8Array(ID_BYTES)
    for (const ts of tombstones) {
      if (!ts || typeof ts.target !== 'string') continue
      const scoped = typeof ts.accountId === 'string' && ts.accountId !== ''
      const scope = scoped ? this.accounts.ids.get(ts.accountId) ?? -2 : -1 // -1: any account
      if (ts.kind === 'event') {
        const id = validEventId(ts.target)
        if (!id) continue
        this.unreadableIds.delete(id)
        for (let i = 0; i < ID_BYTES; i++) buf[i] = id.charCodeAt(i)
        const slot = this._find(buf)
        if (slot >= 0) removed += this._kill(this.hash[slot])
      } else if (ts.kind === 'secret') {
        const k = this.keys.ids.get(ts.target)
        const v = this.visitors.ids.get(ts.target)
        if ((k === undefined && v === undefined) || scope === -2) continue
        for (let r = 0; r < this.n; r++) {
          if ((this.key[r] === k || this.visitor[r] === v) && (scope === -1 || this.account[r] === scope)) removed += this._kill(r)
        }
        for (const o of this.seen.values()) {
          for (let i = 0; i < o.keys.length; i++) {
            if (o.keys[i] === k || o.visitors[i] === v) {
              o.times[i] = Infinity
              this.dirty = true
            }
          }
        }
      } else if (ts.kind === 'before') {
        const id = validEventId(ts.target)
        if (!id) continue
        for (const [u, acc] of this.unreadableIds) {
          if (u < id && (!scoped || acc === ts.accountId)) this.unreadableIds.delete(u)
        }
        if (scope === -2) continue
        // an outline is of a whole period: one that ends before the cut goes (one that the
        // cut reaches was made with sinceMs)
        for (const [period, o] of this.seen) if (o.to <= id) this.dropSeen(period)
        for (let i = 0; i < ID_BYTES; i++) buf[i] = id.charCodeAt(i)
        const ids = this.ids
        for (let r = 0; r < this.n; r++) {
          if (!(this.flags[r] & 1) || (scope !== -1 && this.account[r] !== scope)) continue
          const o = r * ID_BYTES
          for (let i = 0; i < ID_BYTES; i++) {
            const d = ids[o + i] - buf[i]
            if (d < 0) {
              removed += this._kill(r)
              break
            }
            if (d > 0) break
          }
        }
      }
    }
    if (removed) {
      this.dirty = true
      if (this.n - this.alive > Math.max(4096, this.alive)) this._compact()
    }
    return { removed }
  }

  /**
   * snapshot returns the store's content as plain values and typed arrays (structured-
   * clonable; `transfer` lists its ArrayBuffers), e.g. to keep it in IndexedDB, encrypted by
   * the caller, for a warm start without decrypting every event again. Version 2.
   */
  snapshot () {
    if (this.n > this.alive) this._compact()
    const n = this.n
    const columns = {}
    for (const name of COLUMNS) columns[name] = this[name].slice(0, n)
    const ids = this.ids.slice(0, n * ID_BYTES)
    let sessionIds = this._sessionIds
    if (sessionIds === null) {
      sessionIds = new Array(this.nSessions).fill(null)
      for (const [sid, s] of this._sessionById) sessionIds[s] = sid
      for (const [key, s] of this._sessionByKey) {
        const sid = key.slice(key.indexOf(':') + 1)
        if (sid !== '') sessionIds[s] = sid
      }
    } else {
      sessionIds = sessionIds.slice()
    }
    const dicts = {}
    for (const name of DICTS) dicts[name] = this[name].values.slice()
    const snap = {
      v: SNAPSHOT_VERSION,
      n,
      columns,
      ids,
      dicts,
      sessionVisitor: this.sessionVisitor.slice(0, this.nSessions),
      sessionLess: this.sessionLess.slice(0, this.nSessions),
      sessionIds,
      unreadable: [...this.unreadableIds],
      unreadableWithoutId: this.unreadableWithoutId
    }
    const transfer = [ids.buffer, snap.sessionVisitor.buffer, snap.sessionLess.buffer]
    for (const name of COLUMNS) transfer.push(columns[name].buffer)
    return { snapshot: snap, transfer }
  }

  /** fromSnapshot returns a store holding what snapshot() saved. Throws on unknown versions. */
  static fromSnapshot (snap) {
    if (!snap || snap.v !== SNAPSHOT_VERSION) throw new Error('metrics: unknown snapshot version')
    const store = new EventStore({ capacity: Math.max(1024, snap.n) })
    for (const name of COLUMNS) store[name].set(snap.columns[name])
    store.ids.set(snap.ids)
    store.n = snap.n
    store.alive = snap.n
    for (const name of DICTS) store[name] = new Dict(snap.dicts[name].slice())
    const nSessions = snap.sessionIds.length
    store.sessionVisitor = grow(snap.sessionVisitor, Math.max(64, nSessions))
    store.sessionLess = grow(snap.sessionLess, Math.max(64, nSessions))
    store.nSessions = nSessions
    store._sessionIds = nSessions ? snap.sessionIds.slice() : null
    for (const [id, acc] of snap.unreadable) store.unreadableIds.set(id, acc)
    store.unreadableWithoutId = snap.unreadableWithoutId
    store._rehash(store.hash.length)
    store.dirty = true
    return store
  }

  // _compact drops dead rows (dictionaries keep their entries; they are small).
  _compact () {
    let w = 0
    for (let r = 0; r < this.n; r++) {
      if (!(this.flags[r] & 1)) continue
      if (w !== r) {
        for (const name of COLUMNS) {
          this[name][w] = this[name][r]
        }
        this.ids.copyWithin(w * ID_BYTES, r * ID_BYTES, (r + 1) * ID_BYTES)
      }
      w++
    }
    this.n = w
    this._rehash(this.hash.length)
  }

  // _buildOrder groups alive rows by visitor, session and time (then event id): page views
  // in `rows`, the other events (actions) of the same session in `actRows`.
  _buildOrder () {
    const nSess = this.nSessions
    const nVis = this.visitors.size
    const KINDS = this.kind
    const sessCount = new Int32Array(nSess)
    const actCount = new Int32Array(nSess)
    for (let r = 0; r < this.n; r++) {
      if (this.flags[r] & 1) {
        if (KINDS[r] === 0) sessCount[this.session[r]]++
        else actCount[this.session[r]]++
      }
    }
    const visStart = new Int32Array(nVis + 1)
    for (let s = 0; s < nSess; s++) if (sessCount[s] + actCount[s] > 0) visStart[this.sessionVisitor[s] + 1]++
    for (let v = 0; v < nVis; v++) visStart[v + 1] += visStart[v]
    const sessOrder = new Int32Array(visStart[nVis])
    const fill = visStart.slice(0, nVis)
    for (let s = 0; s < nSess; s++) if (sessCount[s] + actCount[s] > 0) sessOrder[fill[this.sessionVisitor[s]]++] = s
    const sessStart = new Int32Array(nSess)
    const actStart = new Int32Array(nSess)
    let off = 0
    let actOff = 0
    for (let i = 0; i < sessOrder.length; i++) {
      const s = sessOrder[i]
      sessStart[s] = off
      off += sessCount[s]
      actStart[s] = actOff
      actOff += actCount[s]
    }
    const rows = new Int32Array(off)
    const actRows = new Int32Array(actOff)
    const pos = sessStart.slice()
    const actPos = actStart.slice()
    for (let r = 0; r < this.n; r++) {
      if (!(this.flags[r] & 1)) continue
      if (KINDS[r] === 0) rows[pos[this.session[r]]++] = r
      else actRows[actPos[this.session[r]]++] = r
    }
    const t = this.t
    const ids = this.ids
    const less = (a, b) => t[a] < t[b] || (t[a] === t[b] && compareIds(ids, a, b) < 0)
    const sortRange = (list, lo, hi) => {
      if (hi - lo > 32) {
        const seg = Array.from(list.subarray(lo, hi))
        seg.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0))
        list.set(seg, lo)
        return
      }
      for (let j = lo + 1; j < hi; j++) {
        const x = list[j]
        let k = j - 1
        while (k >= lo && less(x, list[k])) {
          list[k + 1] = list[k]
          k--
        }
        list[k + 1] = x
      }
    }
    const firstSeen = new Float64Array(nVis).fill(Infinity)
    for (let i = 0; i < sessOrder.length; i++) {
      const s = sessOrder[i]
      const lo = sessStart[s]
      sortRange(rows, lo, lo + sessCount[s])
      sortRange(actRows, actStart[s], actStart[s] + actCount[s])
      const v = this.sessionVisitor[s]
      if (sessCount[s] > 0 && t[rows[lo]] < firstSeen[v]) firstSeen[v] = t[rows[lo]]
    }
    for (const { visitors, times } of this.seen.values()) {
      for (let i = 0; i < visitors.length; i++) if (times[i] < firstSeen[visitors[i]]) firstSeen[visitors[i]] = times[i]
    }
    this.order = { visStart, sessOrder, sessStart, sessCount, rows, actStart, actCount, actRows, firstSeen }
    this.dirty = false
  }

  // _propKeys returns the eventProps keys of a (name, propSet) pair interned in entries (the
  // strings are cached: the pair's props never change).
  _propKeys (name, set, entries) {
    if (this._propEntries === null) this._propEntries = new Map()
    const key = name + ':' + set
    let keys = this._propEntries.get(key)
    if (keys === undefined) {
      const n = this.names.values[name]
      keys = JSON.parse(this.propSets.values[set]).map(([k, v]) => n + PROP_SEPARATOR + k + PROP_SEPARATOR + JSON.stringify(v))
      this._propEntries.set(key, keys)
    }
    return keys.map(k => entries.intern(k))
  }

  // _stepTests turns goals or funnel steps into {kind, pages (1 for each matching page),
  // name (id)} of one shape, so that a row is tested by numbers alone.
  _stepTests (steps) {
    return steps.map(st => {
      if (st.page !== undefined) {
        const match = pathMatcher(st.page)
        const pages = new Uint8Array(this.pages.size)
        for (let i = 0; i < pages.length; i++) pages[i] = match(this.pages.values[i]) ? 1 : 0
        return { kind: KIND.PAGEVIEW, pages, name: -1 }
      }
      const id = this.names.ids.get(st.event)
      return { kind: KIND.EVENT, pages: NO_PAGES, name: id === undefined ? -3 : id }
    })
  }

  _filterId (dict, value) {
    if (value === undefined) return -2 // no filter
    const id = dict.ids.get(value)
    return id === undefined ? -3 : id // -3 matches nothing
  }

  /** partial computes the partial aggregate of this store for query (see normalizeQuery). */
  partial (query) {
    const q = normalizeQuery(query)
    const p = emptyPartial(q)
    p.unreadable = this.unreadable
    if (this.dirty) this._buildOrder()
    const { visStart, sessOrder, sessStart, sessCount, rows, firstSeen } = this.order
    const { from, to, now } = q
    const f = q.filters
    const fPage = this._filterId(this.pages, f.page)
    const fLanding = this._filterId(this.pages, f.landing)
    const fExit = this._filterId(this.pages, f.exit)
    const fCountry = this._filterId(this.geos, f.country)
    const fReferrer = this._filterId(this.referrers, f.referrer)
    const fCampaign = this._filterId(this.campaigns, f.campaign)
    const fSource = this._filterId(this.sources, f.source)
    const fBrowser = this._filterId(this.browsers, f.browser)
    const fOs = this._filterId(this.oses, f.os)
    const fDevice = this._filterId(this.devices, f.device)
    const fScreen = this._filterId(this.screens, f.screen)
    const fEvent = this._filterId(this.names, f.event)
    const fOutbound = this._filterId(this.names, f.outbound)
    const fDownload = this._filterId(this.names, f.download)
    const fGoal = f.goal === undefined ? -2 : q.goals.findIndex(g => g.name === f.goal) // -1 matches nothing
    const sessionFilter = fLanding !== -2 || fExit !== -2 || fCountry !== -2 || fReferrer !== -2 ||
      fCampaign !== -2 || fSource !== -2 || fBrowser !== -2 || fOs !== -2 || fDevice !== -2 || fScreen !== -2 ||
      fEvent !== -2 || fOutbound !== -2 || fDownload !== -2 || fGoal !== -2
    // actions the session filters look for: [kind, name id]
    const wanted = [[KIND.EVENT, fEvent], [KIND.OUTBOUND, fOutbound], [KIND.DOWNLOAD, fDownload]].filter(([, id]) => id !== -2)
    const goalTests = this._stepTests(q.goals)
    const funnelTests = q.funnels.map(fn => this._stepTests(fn.steps))
    const nGoals = goalTests.length
    const goalHits = new Int32Array(nGoals)
    const goalVisitors = new Float64Array(nGoals)
    const goalConversions = new Float64Array(nGoals)
    const goalStamp = new Int32Array(nGoals).fill(-1)
    const funnelReached = funnelTests.map(tests => new Float64Array(tests.length))
    const nNames = this.names.size
    const nameEvents = new Float64Array(nNames * 3) // per kind 1..3: [kind - 1 + 3 * name]
    const nameVisitors = new Float64Array(nNames * 3)
    const nameStamp = new Int32Array(nNames * 3).fill(-1)
    const entries = new Dict()
    let entryEvents = new Float64Array(64)
    let entryVisitors = new Float64Array(64)
    let entryStamp = new Int32Array(64).fill(-1)
    const devTables = [
      [this.browser, this.browsers, new Float64Array(this.browsers.size), p.browsers],
      [this.os, this.oses, new Float64Array(this.oses.size), p.oses],
      [this.device, this.devices, new Float64Array(this.devices.size), p.devices],
      [this.screen, this.screens, new Float64Array(this.screens.size), p.screens]
    ]
    const devFilters = [fBrowser, fOs, fDevice, fScreen]
    const NAME = this.name
    const KINDS = this.kind
    const PROPS = this.props
    const { actStart, actCount, actRows } = this.order
    // reaches: does row r reach the goal or step test g (_stepTests)
    const reaches = (g, r) => KINDS[r] === g.kind && (g.kind === KIND.PAGEVIEW ? g.pages[PAGE[r]] === 1 : NAME[r] === g.name)
    const bounds = Float64Array.from(p.bounds)
    const nb = p.labels.length
    const bucketStamp = new Int32Array(nb).fill(-1)
    const pageViews = new Float64Array(nb)
    const bucketVisitors = new Float64Array(nb)

    const nPages = this.pages.size
    const pageCount = new Float64Array(nPages)
    const pageDurSum = new Float64Array(nPages)
    const pageDurCount = new Float64Array(nPages)
    const landing = new Float64Array(nPages)
    const exits = new Float64Array(nPages)
    const rtPages = new Float64Array(nPages)
    const refSessions = new Float64Array(this.referrers.size)
    const refEvents = new Float64Array(this.referrers.size)
    const campSessions = new Float64Array(this.campaigns.size)
    const campEvents = new Float64Array(this.campaigns.size)
    const srcSessions = new Float64Array(this.sources.size)
    const srcEvents = new Float64Array(this.sources.size)
    const geoSessions = new Float64Array(this.geos.size)
    const notFound = new Float64Array(nPages)

    const T = this.t
    const PAGE = this.page
    const REF = this.referrer
    const CAMP = this.campaign
    const SRC = this.source
    const GEO = this.geo
    const FLAGS = this.flags
    const LOAD = this.pageload
    const rtFrom = now - REALTIME_WINDOW
    const w0 = now - RETENTION_WEEKS * WEEK
    const retVisitors = p.retentionVisitors
    const retOverlap = p.retentionOverlap
    const ids = this.ids

    let events = 0; let mobile = 0; let loadSum = 0; let loadCount = 0; let durSum = 0; let durCount = 0
    let sessions = 0; let sessionEvents = 0; let bounces = 0; let lenSum = 0; let lenCount = 0
    let uniqueVisitors = 0; let returning = 0; let rtVisitors = 0

    const nVis = visStart.length - 1
    for (let v = 0; v < nVis; v++) {
      const s0 = visStart[v]
      const s1 = visStart[v + 1]
      if (s0 === s1) continue
      let visitorSelected = false
      let latest = -1
      let weeks = 0
      for (let si = s0; si < s1; si++) {
        const s = sessOrder[si]
        const lo = sessStart[s]
        const hi = lo + sessCount[s]
        // all events: real time, retention; find the in-range slice [a, b)
        let a = -1
        let b = -1
        for (let i = lo; i < hi; i++) {
          const r = rows[i]
          const t = T[r]
          if (latest < 0 || t > T[latest] || (t === T[latest] && compareIds(ids, r, latest) > 0)) latest = r
          if (t >= w0) weeks |= 1 << Math.min(RETENTION_WEEKS - 1, Math.floor((t - w0) / WEEK))
          if (t >= from && a < 0) a = i
          if (t >= to && b < 0) b = i
        }
        if (a < 0) continue
        if (b < 0) b = hi
        if (b <= a) continue
        const n = b - a
        const first = rows[a]
        const last = rows[b - 1]
        const isSession = this.sessionLess[s] === 0
        let camp = -1
        let src = -1
        for (let i = a; i < b && (camp < 0 || src < 0); i++) {
          const r = rows[i]
          if (camp < 0) camp = CAMP[r]
          if (src < 0) src = SRC[r]
        }
        // the session's actions in range: [c, d) of actRows
        let c = actStart[s]
        let d = c + actCount[s]
        while (c < d && T[actRows[c]] < from) c++
        while (d > c && T[actRows[d - 1]] >= to) d--
        if (isSession && nGoals > 0) {
          for (let g = 0; g < nGoals; g++) {
            const test = goalTests[g]
            let hits = 0
            if (test.kind === KIND.PAGEVIEW) {
              const pages = test.pages
              for (let i = a; i < b; i++) if (pages[PAGE[rows[i]]] === 1) hits++
            } else {
              for (let i = c; i < d; i++) if (reaches(test, actRows[i])) hits++
            }
            goalHits[g] = hits
          }
        }
        if (sessionFilter) {
          if (!isSession) continue
          if (fGoal !== -2 && (fGoal < 0 || goalHits[fGoal] === 0)) continue
          if (devFilters.some((fd, k) => fd !== -2 && devTables[k][0][first] !== fd)) continue
          if (wanted.length && !wanted.every(([kind, id]) => {
            for (let i = c; i < d; i++) if (KINDS[actRows[i]] === kind && NAME[actRows[i]] === id) return true
            return false
          })) continue
          if (fCountry !== -2 && GEO[first] !== fCountry) continue
          if (fReferrer !== -2 && REF[first] !== fReferrer) continue
          if (fCampaign !== -2 && camp !== fCampaign) continue
          if (fSource !== -2 && src !== fSource) continue
          if (fLanding !== -2 && PAGE[first] !== fLanding) continue
          if (fExit !== -2 && (n < 2 || PAGE[last] !== fExit)) continue
        }
        let selected = 0
        for (let i = a; i < b; i++) {
          const r = rows[i]
          const pg = PAGE[r]
          if (fPage !== -2 && pg !== fPage) continue
          selected++
          const t = T[r]
          const bi = bucketIndex(bounds, t)
          pageViews[bi]++
          if (bucketStamp[bi] !== v) {
            bucketStamp[bi] = v
            bucketVisitors[bi]++
          }
          if (FLAGS[r] & 2) mobile++
          const load = LOAD[r]
          if (load > 0) {
            loadSum += load
            loadCount++
          }
          pageCount[pg]++
          if (FLAGS[r] & 4) notFound[pg]++
          if (isSession && i + 1 < b) {
            const d = T[rows[i + 1]] - t
            durSum += d
            durCount++
            pageDurSum[pg] += d
            pageDurCount[pg]++
          }
        }
        if (selected === 0) continue
        events += selected
        visitorSelected = true
        if (!isSession) continue
        for (let i = c; i < d; i++) {
          const r = actRows[i]
          if (fPage !== -2 && PAGE[r] !== fPage) continue
          const slot = KINDS[r] - 1 + 3 * NAME[r]
          nameEvents[slot]++
          if (nameStamp[slot] !== v) {
            nameStamp[slot] = v
            nameVisitors[slot]++
          }
          if (PROPS[r] < 0) continue
          for (const e of this._propKeys(NAME[r], PROPS[r], entries)) {
            if (e >= entryEvents.length) {
              entryEvents = grow(entryEvents, entryEvents.length * 2)
              entryVisitors = grow(entryVisitors, entryVisitors.length * 2)
              const stamps = new Int32Array(entryStamp.length * 2).fill(-1)
              stamps.set(entryStamp)
              entryStamp = stamps
            }
            entryEvents[e]++
            if (entryStamp[e] !== v) {
              entryStamp[e] = v
              entryVisitors[e]++
            }
          }
        }
        for (let k = 0; k < 4; k++) {
          const x = devTables[k][0][first]
          if (x >= 0) devTables[k][2][x]++
        }
        for (let g = 0; g < nGoals; g++) {
          if (goalHits[g] === 0) continue
          goalConversions[g] += goalHits[g]
          if (goalStamp[g] !== v) {
            goalStamp[g] = v
            goalVisitors[g]++
          }
        }
        for (let fn = 0; fn < funnelTests.length; fn++) {
          // page views and actions of the session in time order (ties by event id)
          const tests = funnelTests[fn]
          let k = 0
          let i = a
          let j = c
          while (k < tests.length && (i < b || j < d)) {
            let r
            if (j >= d || (i < b && (T[rows[i]] < T[actRows[j]] || (T[rows[i]] === T[actRows[j]] && compareIds(ids, rows[i], actRows[j]) < 0)))) r = rows[i++]
            else r = actRows[j++]
            const st = tests[k]
            if (KINDS[r] === st.kind && (st.kind === KIND.PAGEVIEW ? st.pages[PAGE[r]] === 1 : NAME[r] === st.name)) k++
          }
          for (let st = 0; st < k; st++) funnelReached[fn][st]++
        }
        sessions++
        sessionEvents += n
        if (n === 1) bounces++
        else {
          lenSum += T[last] - T[first]
          lenCount++
          exits[PAGE[last]]++
        }
        const ref = REF[first]
        if (ref >= 0) {
          refSessions[ref]++
          refEvents[ref] += n
        }
        if (camp >= 0) {
          campSessions[camp]++
          campEvents[camp] += n
        }
        if (src >= 0) {
          srcSessions[src]++
          srcEvents[src] += n
        }
        if (GEO[first] >= 0) geoSessions[GEO[first]]++
        landing[PAGE[first]]++
      }
      if (visitorSelected) {
        uniqueVisitors++
        if (firstSeen[v] < from) returning++
      }
      if (latest >= 0 && T[latest] >= rtFrom) {
        rtVisitors++
        rtPages[PAGE[latest]]++
      }
      for (let k = 0; k < RETENTION_WEEKS; k++) {
        if (!(weeks & (1 << k))) continue
        retVisitors[k]++
        for (let j = k; j < RETENTION_WEEKS; j++) if (weeks & (1 << j)) retOverlap[k * RETENTION_WEEKS + j]++
      }
    }

    Object.assign(p, {
      events, mobile, pageloadSum: loadSum, pageloadCount: loadCount, durationSum: durSum, durationCount: durCount,
      sessions, sessionEvents, bounces, lengthSum: lenSum, lengthCount: lenCount, uniqueVisitors, returning,
      realtimeVisitors: rtVisitors
    })
    p.pageViews = Array.from(pageViews)
    p.visitors = Array.from(bucketVisitors)
    const pv = this.pages.values
    for (let i = 0; i < nPages; i++) {
      if (pageCount[i]) p.pages.set(pv[i], [pageCount[i], pageDurSum[i], pageDurCount[i]])
      if (landing[i]) p.landingPages.set(pv[i], [landing[i]])
      if (exits[i]) p.exitPages.set(pv[i], [exits[i]])
      if (rtPages[i]) p.realtimePages.set(pv[i], [rtPages[i]])
    }
    const pairs = (dict, sess, evs, out) => {
      for (let i = 0; i < dict.size; i++) if (sess[i]) out.set(dict.values[i], evs ? [sess[i], evs[i]] : [sess[i]])
    }
    pairs(this.referrers, refSessions, refEvents, p.referrers)
    pairs(this.campaigns, campSessions, campEvents, p.campaigns)
    pairs(this.sources, srcSessions, srcEvents, p.sources)
    pairs(this.geos, geoSessions, null, p.countries)
    for (const [, dict, counts, out] of devTables) pairs(dict, counts, null, out)
    for (let i = 0; i < nPages; i++) if (notFound[i]) p.notFound.set(pv[i], [notFound[i]])
    const kindTables = [p.eventNames, p.outbound, p.downloads]
    for (let slot = 0; slot < nameEvents.length; slot++) {
      if (nameEvents[slot]) kindTables[slot % 3].set(this.names.values[Math.floor(slot / 3)], [nameEvents[slot], nameVisitors[slot]])
    }
    for (let e = 0; e < entries.size; e++) if (entryEvents[e]) p.eventProps.set(entries.values[e], [entryEvents[e], entryVisitors[e]])
    q.goals.forEach((g, i) => { if (goalVisitors[i]) p.goalCounts.set(g.name, [goalConversions[i], goalVisitors[i]]) })
    q.funnels.forEach((fn, i) => { if (funnelReached[i][0]) p.funnelCounts.set(fn.name, Array.from(funnelReached[i])) })
    return p
  }

  /** query returns the metrics object for query (see normalizeQuery and README.md). */
  query (query) {
    return finalize(this.partial(query))
  }
}
