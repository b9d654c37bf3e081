// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Reads the plaintext of a segment (keys/PROTOCOL.md §13, version 1) straight into columns:
// typed arrays indexing the segment's string tables, no object per event. EventStore#addSegment
// derives its own columns from them, parsing each distinct string once instead of once per event.

const MAGIC = 'OFSG'
const TABLES = ['secretIds', 'keyIds', 'sessionIds', 'hrefs', 'referrers', 'geos', 'types', 'names', 'targets',
  'browsers', 'oses', 'devices', 'screens', 'propKeys', 'propStrings', 'extras']
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const fromUtf8 = new TextDecoder('utf-8', { fatal: true })

/** flat returns a copy of s that shares no memory with the string it was sliced from. */
export function flat (s) {
  return s.length > 12 ? JSON.parse(JSON.stringify(s)) : s
}

/** SEGMENT_VERSIONS lists the plaintext versions readSegmentColumns understands. */
export const SEGMENT_VERSIONS = [1]

const CROCKFORD_CODES = Uint8Array.from(CROCKFORD, c => c.charCodeAt(0))

/** ulidOf writes the 26 Crockford bytes of the 16-byte binary ULID at bin[off] into out[at]. */
export function ulidOf (bin, off, out, at) {
  // 130 bits: two zero bits, then the 128 of the id as four big-endian words; symbol i holds
  // bits [5i - 2, 5i + 3) of those 128
  const w0 = (bin[off] << 24 | bin[off + 1] << 16 | bin[off + 2] << 8 | bin[off + 3]) >>> 0
  const w1 = (bin[off + 4] << 24 | bin[off + 5] << 16 | bin[off + 6] << 8 | bin[off + 7]) >>> 0
  const w2 = (bin[off + 8] << 24 | bin[off + 9] << 16 | bin[off + 10] << 8 | bin[off + 11]) >>> 0
  const w3 = (bin[off + 12] << 24 | bin[off + 13] << 16 | bin[off + 14] << 8 | bin[off + 15]) >>> 0
  out[at] = CROCKFORD_CODES[w0 >>> 29]
  for (let i = 1; i < 26; i++) {
    const b = 5 * i - 2
    const w = b >> 5
    const o = b & 31
    const hi = w === 0 ? w0 : w === 1 ? w1 : w === 2 ? w2 : w3
    let v
    if (o <= 27) v = (hi >>> (27 - o)) & 31
    else v = ((hi << (o - 27)) | ((w === 0 ? w1 : w === 1 ? w2 : w3) >>> (59 - o))) & 31
    out[at + i] = CROCKFORD_CODES[v]
  }
}

/** ulidString returns the 26-symbol ULID of 16 binary bytes. */
export function ulidString (bin, off = 0) {
  const out = new Uint8Array(26)
  ulidOf(bin, off, out, 0)
  return String.fromCharCode.apply(null, out)
}

/**
 * readSegmentColumns parses segment plaintext bytes. It returns {version, accountId, period,
 * start (ms), n, tables: {secretIds, ...: string[]}, ids: Uint8Array(16 n), time: Float64Array,
 * secret, key, type, href, referrer: Uint32Array (indexes), session, rawHref, geo: Uint32Array
 * (index + 1, 0 absent), pageload: Float64Array (0 absent), flags: Uint8Array, unreadable:
 * Uint8Array(16 m)}; the columns without a use in the metrics yet are skipped. Throws on
 * anything malformed or an unknown version.
 */
export function readSegmentColumns (bytes) {
  let pos = 0
  const fail = (what) => { throw new Error('segment: malformed ' + what) }
  const uvarint = () => {
    let x = 0
    let mul = 1
    for (let i = 0; i < 8; i++) {
      if (pos >= bytes.length) fail('varint')
      const b = bytes[pos++]
      x += (b & 0x7f) * mul
      if (b < 0x80) {
        if (x > Number.MAX_SAFE_INTEGER) fail('varint')
        return x
      }
      mul *= 128
    }
    fail('varint')
  }
  const svarint = () => {
    const u = uvarint()
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }
  const str = () => {
    const len = uvarint()
    if (pos + len > bytes.length) fail('string')
    const s = fromUtf8.decode(bytes.subarray(pos, pos + len))
    pos += len
    return s
  }
  const count = (per) => {
    const c = uvarint()
    if (c * per > bytes.length - pos) fail('count')
    return c
  }
  if (bytes.length < 4 || String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== MAGIC) fail('magic')
  pos = 4
  const version = uvarint()
  if (!SEGMENT_VERSIONS.includes(version)) throw new Error('segment: unknown version ' + version)
  const accountId = str()
  const period = str()
  const start = Date.parse(period + 'T00:00:00Z')
  if (!/^\d{4}-\d{2}-\d{2}$/.test(period) || !Number.isFinite(start)) fail('period')
  const n = count(17) // 16 id bytes and at least one byte per further column
  // a table of ASCII strings (ids, most URLs) is decoded in one call, as the decoder's cost per
  // call is more than the rest of the parsing for a short string
  const table = () => {
    const c = count(1)
    const at = pos
    const starts = new Int32Array(c)
    const ends = new Int32Array(c)
    for (let i = 0; i < c; i++) {
      const len = uvarint()
      if (pos + len > bytes.length) fail('string')
      starts[i] = pos
      pos += len
      ends[i] = pos
    }
    let ascii = true
    for (let k = at; k < pos && ascii; k++) if (bytes[k] > 0x7f) ascii = false
    const list = new Array(c)
    if (ascii) {
      // slices of one string: whoever keeps one for long copies it (flat()), else a slice keeps
      // the whole table alive
      const all = fromUtf8.decode(bytes.subarray(at, pos))
      for (let i = 0; i < c; i++) list[i] = all.slice(starts[i] - at, ends[i] - at)
    } else {
      for (let i = 0; i < c; i++) list[i] = fromUtf8.decode(bytes.subarray(starts[i], ends[i]))
    }
    return list
  }
  const tables = {}
  for (const name of TABLES) tables[name] = table()
  const ids = bytes.slice(pos, pos + 16 * n)
  if (ids.length !== 16 * n) fail('ids')
  pos += 16 * n
  const index = (size, plusOne) => {
    const col = new Uint32Array(n)
    for (let i = 0; i < n; i++) {
      const v = uvarint()
      if (plusOne ? v > size : v >= size) fail('index')
      col[i] = v
    }
    return col
  }
  const skip = (size) => { for (let i = 0; i < n; i++) if (uvarint() > size) fail('index') }
  const time = new Float64Array(n)
  for (let i = 0, t = start; i < n; i++) {
    t += svarint()
    time[i] = t
  }
  const T = tables
  const secret = index(T.secretIds.length, false)
  const key = index(T.keyIds.length, false)
  const session = index(T.sessionIds.length, true)
  const type = index(T.types.length, false)
  const href = index(T.hrefs.length, false)
  const rawHref = index(T.hrefs.length, true)
  const referrer = index(T.referrers.length, false)
  const pageload = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const v = uvarint()
    pageload[i] = v === 0 ? 0 : v - 1
  }
  const geo = index(T.geos.length, true)
  const flags = new Uint8Array(n)
  for (let i = 0; i < n; i++) flags[i] = uvarint() & 0xff
  skip(T.names.length)
  skip(T.targets.length)
  skip(T.browsers.length)
  skip(T.oses.length)
  skip(T.devices.length)
  skip(T.screens.length)
  for (let i = 0; i < n; i++) {
    const entries = uvarint()
    for (let e = 0; e < entries; e++) {
      if (uvarint() >= T.propKeys.length) fail('prop key')
      const v = uvarint()
      if (v === 1) {
        if (pos + 8 > bytes.length) fail('prop value')
        pos += 8
      } else if (v % 2 !== 0 || v / 2 >= T.propStrings.length) {
        fail('prop value')
      }
    }
  }
  skip(T.extras.length)
  const m = count(16)
  const unreadable = bytes.slice(pos, pos + 16 * m)
  pos += 16 * m
  if (pos !== bytes.length) fail('trailing bytes')
  return { version, accountId, period, start, n, tables, ids, time, secret, key, session, type, href, rawHref, referrer, pageload, geo, flags, unreadable }
}

const utf8 = new TextEncoder()
const CROCKFORD_VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < 32; i++) {
  CROCKFORD_VALUE[CROCKFORD.charCodeAt(i)] = i
  CROCKFORD_VALUE[CROCKFORD.toLowerCase().charCodeAt(i)] = i
}

/** ulidBytes writes the 16 bytes of a 26-symbol ULID into out[at]; false when it is none. */
export function ulidBytes (id, out, at) {
  if (typeof id !== 'string' || id.length !== 26) return false
  let acc = 0
  let bits = 0
  let n = 0
  for (let i = 0; i < 26; i++) {
    const c = id.charCodeAt(i)
    const v = c < 128 ? CROCKFORD_VALUE[c] : -1
    if (v < 0 || (i === 0 && v > 7)) return false
    acc = ((acc << 5) | v) & 0x1fff
    bits += i === 0 ? 3 : 5
    if (bits >= 8) {
      bits -= 8
      out[at + n++] = (acc >> bits) & 0xff
    }
  }
  return true
}

const COLUMN_FIELDS = new Set(['v', 'type', 'href', 'rawHref', 'referrer', 'pageload', 'timestamp', 'sessionId', 'geo', 'isMobile', 'notFound', 'name', 'target', 'props', 'browser', 'os', 'device', 'screen'])

function canonical (v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']'
  if (v !== null && typeof v === 'object') return '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}'
  return JSON.stringify(v)
}

/**
 * writeSegment encodes the events of one period (PROTOCOL §13, version 1): records
 * {eventId, secretId, keyId, payload (decrypted object)} become rows, `unreadable` lists the
 * ids of events that did not decrypt. A record whose plaintext is no version 1 event (or a
 * page view the metrics reject) counts as unreadable too, as EventStore#add would count it.
 * Returns {bytes, ids: Uint8Array(16 × covered events, ascending)}: what coverage digests.
 */
export function writeSegment ({ accountId, period, records, unreadable = [], isValid }) {
  const start = Date.parse(period + 'T00:00:00Z')
  // upper-case ULIDs sort as their binary forms do
  const probe = new Uint8Array(16)
  const idOf = (id) => (ulidBytes(id, probe, 0) ? id.toUpperCase() : null)
  const rows = []
  const bad = []
  for (const r of records) {
    const id = r && idOf(r.eventId)
    if (!id) continue
    const p = r.payload
    const ok = p !== null && typeof p === 'object' && !Array.isArray(p) && p.v === 1 && typeof p.type === 'string' &&
      typeof r.secretId === 'string' && r.secretId !== '' && (!isValid || isValid(p))
    if (ok) rows.push({ id, r, p })
    else bad.push(id)
  }
  for (const u of unreadable) {
    const id = idOf(u)
    if (id) bad.push(id)
  }
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  bad.sort()
  // one event id once: the first row, else the unreadable entry
  const rowsU = rows.filter((x, i) => i === 0 || rows[i - 1].id !== x.id)
  const seen = new Set(rowsU.map(x => x.id))
  const badU = bad.filter((x, i) => (i === 0 || bad[i - 1] !== x) && !seen.has(x))

  const tables = {}
  const intern = {}
  for (const name of TABLES) {
    tables[name] = []
    intern[name] = new Map()
  }
  const idx = (name, s) => {
    let i = intern[name].get(s)
    if (i === undefined) {
      i = tables[name].length
      intern[name].set(s, i)
      tables[name].push(s)
    }
    return i
  }
  const opt = (name, s) => (typeof s === 'string' ? idx(name, s) + 1 : 0)
  const cols = rowsU.map(({ r, p }) => {
    let t = typeof p.timestamp === 'string' ? Date.parse(p.timestamp) : typeof p.timestamp === 'number' ? p.timestamp : NaN
    if (!Number.isFinite(t)) t = start
    const props = []
    if (p.props !== null && typeof p.props === 'object' && !Array.isArray(p.props)) {
      for (const k of Object.keys(p.props)) {
        const v = p.props[k]
        if (typeof v === 'string') props.push([idx('propKeys', k), 2 * idx('propStrings', v)])
        else if (typeof v === 'number' && Number.isFinite(v)) props.push([idx('propKeys', k), 1, v])
      }
    }
    const extra = {}
    let extras = false
    for (const k of Object.keys(p)) {
      if (!COLUMN_FIELDS.has(k)) {
        extra[k] = p[k]
        extras = true
      }
    }
    const load = typeof p.pageload === 'number' && Number.isFinite(p.pageload) && p.pageload > 0 ? Math.round(p.pageload) + 1 : 0
    return [
      Math.round(t), idx('secretIds', r.secretId), idx('keyIds', typeof r.keyId === 'string' ? r.keyId : ''),
      typeof p.sessionId === 'string' ? idx('sessionIds', p.sessionId) + 1 : 0, idx('types', p.type),
      idx('hrefs', typeof p.href === 'string' ? p.href : ''), typeof p.rawHref === 'string' ? idx('hrefs', p.rawHref) + 1 : 0,
      idx('referrers', typeof p.referrer === 'string' ? p.referrer : ''), load, opt('geos', p.geo),
      (p.isMobile === true ? 1 : 0) | (p.notFound === true ? 2 : 0), opt('names', p.name), opt('targets', p.target),
      opt('browsers', p.browser), opt('oses', p.os), opt('devices', p.device), opt('screens', p.screen),
      props, extras ? idx('extras', canonical(extra)) + 1 : 0
    ]
  })

  const out = new Writer()
  out.raw(utf8.encode(MAGIC))
  out.uvarint(1)
  out.str(accountId)
  out.str(period)
  out.uvarint(rowsU.length)
  for (const name of TABLES) {
    out.uvarint(tables[name].length)
    for (const s of tables[name]) out.str(s)
  }
  for (const { id } of rowsU) out.ulid(id)
  let prev = start
  for (const c of cols) {
    out.svarint(c[0] - prev)
    prev = c[0]
  }
  for (let k = 1; k <= 16; k++) for (const c of cols) out.uvarint(c[k])
  for (const c of cols) {
    out.uvarint(c[17].length)
    for (const [key, tag, num] of c[17]) {
      out.uvarint(key)
      out.uvarint(tag)
      if (tag === 1) out.float64(num)
    }
  }
  for (const c of cols) out.uvarint(c[18])
  out.uvarint(badU.length)
  for (const b of badU) out.ulid(b)

  const all = rowsU.map(x => x.id).concat(badU).sort()
  const ids = new Uint8Array(16 * all.length)
  all.forEach((id, i) => ulidBytes(id, ids, 16 * i))
  return { bytes: out.bytes(), ids, count: all.length }
}

class Writer {
  constructor () {
    this.buf = new Uint8Array(1 << 16)
    this.pos = 0
  }

  room (n) {
    if (this.pos + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.pos + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  uvarint (x) {
    this.room(10)
    while (x >= 0x80) {
      this.buf[this.pos++] = (x % 0x80) | 0x80
      x = Math.floor(x / 0x80)
    }
    this.buf[this.pos++] = x
  }

  svarint (x) {
    this.uvarint(x >= 0 ? 2 * x : -2 * x - 1)
  }

  raw (b) {
    this.room(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  ulid (id) {
    this.room(16)
    ulidBytes(id, this.buf, this.pos)
    this.pos += 16
  }

  str (s) {
    this.room(10 + 3 * s.length)
    // the length goes first: written for the UTF-16 length's bound, moved when shorter
    const lenAt = this.pos
    const { written } = utf8.encodeInto(s, this.buf.subarray(lenAt + 5))
    this.uvarint(written)
    if (this.pos !== lenAt + 5) this.buf.copyWithin(this.pos, lenAt + 5, lenAt + 5 + written)
    this.pos += written
  }

  float64 (v) {
    this.room(8)
    new DataView(this.buf.buffer).setFloat64(this.pos, v, true)
    this.pos += 8
  }

  bytes () {
    return this.buf.slice(0, this.pos)
  }
}
