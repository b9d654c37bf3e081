// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

/**
 * Sealed segments (keys/PROTOCOL.md §13): the events of one closed UTC day of
 * one account in a columnar binary form, sealed as `a1` under a key derived
 * from the account's KEK. The Go package keys/segment writes and reads the
 * same bytes (keys/testdata/segments.json). No dependencies but crypto.js.
 */

import { CryptoError } from './crypto.js'

/** The plaintext format version encodeSegment writes and decodeSegment reads. */
export const SEGMENT_VERSION = 1
/** Largest segment plaintext, so that the sealed form fits the 64 MiB upload limit. */
export const SEGMENT_MAX_SIZE = 40 << 20

const MAGIC = [0x4f, 0x46, 0x53, 0x47] // "OFSG"
const MAX_PROPS = 64
const MAX_SAFE = 2 ** 53 - 1
const MAX_TIMESTAMP = 2 ** 51
const DAY = 86400000
const N_COLS = 19 // columns after the 10 random bytes of each id, each at least one byte a row

const malformed = (m) => new CryptoError('MALFORMED', 'segment: ' + m)
const utf8 = new TextEncoder()
let fatalUtf8 = null


// table numbers (PROTOCOL §13: secretIds keys sessionIds hrefs referrers geos types names targets
// browsers oses devices screens propKeys propStrings extras)
const T_SECRET = 0
const T_KEY = 1
const T_SESSION = 2
const T_HREF = 3
const T_REFERRER = 4
const T_GEO = 5
const T_TYPE = 6
const T_NAME = 7
const T_TARGET = 8
const T_BROWSER = 9
const T_OS = 10
const T_DEVICE = 11
const T_SCREEN = 12
const T_PROP_KEY = 13
const T_PROP_STRING = 14
const T_EXTRAS = 15
const N_TABLES = 16

const COLUMN_FIELDS = new Set(['v', 'type', 'timestamp', 'pageload', 'isMobile', 'notFound', 'props', 'sessionId', 'href', 'rawHref',
  'referrer', 'geo', 'name', 'target', 'browser', 'os', 'device', 'screen'])

// strColumn puts a string field into its column (index+1 into its table), anything else but
// null and undefined into the extras, which it returns (created when needed).
function strColumn (v, field, table, col, row, extras) {
  if (typeof v === 'string') {
    col[row] = table.add(v) + 1
  } else if (v != null) {
    if (!extras) extras = {}
    extras[field] = v
  }
  return extras
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const CROCKFORD_VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < 32; i++) {
  CROCKFORD_VALUE[CROCKFORD.charCodeAt(i)] = i
  CROCKFORD_VALUE[CROCKFORD.toLowerCase().charCodeAt(i)] = i
}
const CROCKFORD_CODE = Uint8Array.from(CROCKFORD, (c) => c.charCodeAt(0))

/**
 * ulidBytes writes the 16 bytes of a ULID (26 Crockford symbols, any case) into out at offset at
 * and returns true, or returns false for a malformed id.
 */
function ulidBytes (id, out, at) {
  if (typeof id !== 'string' || id.length !== 26) return false
  let acc = 0
  let bits = 0
  for (let i = 0; i < 26; i++) {
    const c = id.charCodeAt(i)
    const v = c < 128 ? CROCKFORD_VALUE[c] : -1
    if (v < 0 || (i === 0 && v > 7)) return false
    acc = (acc << 5 | v) & 0x1fff
    bits += i === 0 ? 3 : 5
    if (bits >= 8) {
      bits -= 8
      out[at++] = acc >> bits & 255
    }
  }
  return true
}

/** ulidString formats the 16 bytes at b[at..] as an upper-case ULID. */
export function ulidString (b, at = 0) {
  // 26 symbols of 5 bits over 130 bits (two zero bits first), read in two halves of 65 bits
  const c = new Array(26)
  let acc = 0
  let bits = 2 // the two leading zero bits
  let j = 0
  for (let i = 0; i < 16; i++) {
    acc = (acc << 8 | b[at + i]) & 0x1fff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      c[j++] = CROCKFORD_CODE[acc >> bits & 31]
    }
  }
  return String.fromCharCode.apply(null, c)
}

// ms of the 48-bit time of the id at b[at..]
const ulidTime = (b, at) => ((b[at] * 256 + b[at + 1]) * 256 + b[at + 2]) * 16777216 + (b[at + 3] << 16 | b[at + 4] << 8 | b[at + 5])

function periodStart (period) {
  if (typeof period !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(period)) throw malformed('malformed period')
  const t = Date.parse(period + 'T00:00:00.000Z')
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== period) throw malformed('malformed period')
  return t
}

// code point order (what Go's string comparison gives), not JavaScript's UTF-16 order
function codePointCompare (a, b) {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      // surrogates (astral code points) sort after U+E000–U+FFFF
      const sx = x >= 0xd800 && x < 0xe000
      const sy = y >= 0xd800 && y < 0xe000
      if (sx !== sy) return sx ? 1 : -1
      return x < y ? -1 : 1
    }
  }
  return a.length < b.length ? -1 : 1
}

/** canonicalJson is JSON.stringify with object keys in code point order (as Go writes extras). */
function canonicalJson (v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v)
  if (Array.isArray(v)) return '[' + v.map((x) => x === undefined ? 'null' : canonicalJson(x)).join(',') + ']'
  const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort(codePointCompare)
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(v[k])).join(',') + '}'
}

const dayStarts = new Map() // 'YYYY-MM-DD' -> ms, or NaN for an impossible date

// timestampMs returns the ms of a timestamp a column holds (an integer of at most 2^51, or a
// string as toISOString writes it), else null. Strings are parsed by hand: Date.parse and
// toISOString per event cost more than the rest of encoding.
function timestampMs (v) {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= MAX_TIMESTAMP ? v : null
  if (typeof v !== 'string' || v.length !== 24 || v.charCodeAt(10) !== 84 || v.charCodeAt(13) !== 58 ||
    v.charCodeAt(16) !== 58 || v.charCodeAt(19) !== 46 || v.charCodeAt(23) !== 90) return null // T : : . Z
  const digits = (from, to) => {
    let x = 0
    for (let i = from; i < to; i++) {
      const c = v.charCodeAt(i) - 48
      if (c < 0 || c > 9) return -1
      x = x * 10 + c
    }
    return x
  }
  const date = v.slice(0, 10)
  let day = dayStarts.get(date)
  if (day === undefined) {
    day = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(date + 'T00:00:00.000Z') : NaN
    if (Number.isFinite(day) && new Date(day).toISOString().slice(0, 10) !== date) day = NaN
    if (dayStarts.size > 10000) dayStarts.clear()
    dayStarts.set(date, day)
  }
  const h = digits(11, 13)
  const m = digits(14, 16)
  const sec = digits(17, 19)
  const ms = digits(20, 23)
  if (Number.isNaN(day) || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 || ms < 0) return null
  return day + ((h * 60 + m) * 60 + sec) * 1000 + ms
}

function propsOf (v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null
  const keys = Object.keys(v)
  if (keys.length > MAX_PROPS) return null
  for (const k of keys) {
    const x = v[k]
    if (typeof x !== 'string' && !(typeof x === 'number' && Number.isFinite(x))) return null
  }
  return keys.sort(codePointCompare)
}

// Writer is a growing byte buffer.
class Writer {
  constructor (size) {
    this.b = new Uint8Array(size)
    this.n = 0
  }

  room (k) {
    if (this.n + k <= this.b.length) return
    const b = new Uint8Array(Math.max(this.b.length * 2, this.n + k))
    b.set(this.b.subarray(0, this.n))
    this.b = b
  }

  uv (v) {
    this.room(8)
    const b = this.b
    while (v >= 128) {
      b[this.n++] = (v % 128) | 128
      v = Math.floor(v / 128)
    }
    b[this.n++] = v
  }

  str (s) {
    let ascii = true
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 128) {
        ascii = false
        break
      }
    }
    if (ascii) {
      this.uv(s.length)
      this.room(s.length)
      for (let i = 0; i < s.length; i++) this.b[this.n++] = s.charCodeAt(i)
    } else {
      this.bytes(utf8.encode(s), true)
    }
  }

  bytes (u, withLength) {
    if (withLength) this.uv(u.length)
    this.room(u.length)
    this.b.set(u, this.n)
    this.n += u.length
  }

  f64 (x) {
    this.room(8)
    new DataView(this.b.buffer).setFloat64(this.n, x, true)
    this.n += 8
  }
}

class Table {
  constructor () {
    this.index = new Map()
    this.list = []
  }

  add (s) {
    let i = this.index.get(s)
    if (i === undefined) {
      i = this.list.length
      this.index.set(s, i)
      this.list.push(s)
    }
    return i
  }
}

const tri = (b) => b === undefined || b === null ? 0 : b === true ? 2 : 1

function sortedIds (list, start, what) {
  const n = list.length
  const bin = new Uint8Array(n * 16)
  const upper = new Array(n)
  let sorted = true
  for (let i = 0; i < n; i++) {
    if (!ulidBytes(list[i], bin, i * 16)) throw malformed(`${what} ${i}: malformed event id`)
    const t = ulidTime(bin, i * 16)
    if (t < start || t >= start + DAY) throw malformed(`${what} ${i}: event is not of the period`)
    upper[i] = list[i].toUpperCase()
    if (i > 0 && upper[i - 1] > upper[i]) sorted = false
  }
  const order = Array.from({ length: n }, (_, i) => i)
  // upper-case Crockford symbols sort as the bytes they encode
  if (!sorted) order.sort((x, y) => upper[x] < upper[y] ? -1 : upper[x] > upper[y] ? 1 : 0)
  return { bin, order }
}

const sameId = (a, i, b, j) => {
  for (let k = 0; k < 16; k++) if (a[i * 16 + k] !== b[j * 16 + k]) return false
  return true
}
const compareId = (a, i, b, j) => {
  for (let k = 0; k < 16; k++) {
    const d = a[i * 16 + k] - b[j * 16 + k]
    if (d !== 0) return d
  }
  return 0
}

/**
 * encodeSegment writes the version 1 plaintext of a segment. records are
 * {eventId, secretId, keyId, payload} with payload the decrypted event
 * plaintext (v 1 and a string type, else it belongs in unreadable);
 * unreadable are the ids of the period's events that failed to decrypt or
 * validate. Order does not matter: both are written in event id order. A
 * field goes to its column when its value has the column's form, null and
 * undefined are absent, anything else is kept as extras (PROTOCOL §13).
 * @param {{accountId: string, period: string, records: Array<object>, unreadable?: string[]}} segment
 * @returns {Uint8Array}
 */
export function encodeSegment ({ accountId, period, records, unreadable = [] }) {
  if (typeof accountId !== 'string') throw malformed('account id is not a string')
  const start = periodStart(period)
  const n = records.length
  const rows = sortedIds(records.map((r) => r && r.eventId), start, 'record')
  const un = sortedIds(unreadable, start, 'unreadable')
  // no id twice, neither among rows nor unreadable nor across them
  for (let i = 1; i < n; i++) if (sameId(rows.bin, rows.order[i - 1], rows.bin, rows.order[i])) throw malformed('event id repeats')
  for (let i = 1; i < un.order.length; i++) if (sameId(un.bin, un.order[i - 1], un.bin, un.order[i])) throw malformed('event id repeats')
  for (let i = 0, j = 0; i < un.order.length && j < n;) {
    const d = compareId(un.bin, un.order[i], rows.bin, rows.order[j])
    if (d === 0) throw malformed('event id is both a record and unreadable')
    if (d < 0) i++
    else j++
  }

  const t = Array.from({ length: N_TABLES }, () => new Table())
  const keyIndex = new Map() // keyId -> Map(secretId -> index)
  const keys = [] // [keyId, secretIds index]
  const cols = Array.from({ length: N_COLS - 2 }, () => new Float64Array(n))
  const props = new Writer(n + 16)
  const extrasOf = new Float64Array(n)
  let prev = start
  for (let row = 0; row < n; row++) {
    const ri = rows.order[row]
    const r = records[ri]
    const p = r.payload
    if (p === null || typeof p !== 'object' || p.v !== 1 || typeof p.type !== 'string') {
      throw malformed(`event ${r.eventId}: not a version 1 event`)
    }
    if (typeof r.secretId !== 'string' || typeof r.keyId !== 'string') throw malformed(`event ${r.eventId}: secretId or keyId not a string`)
    const idt = ulidTime(rows.bin, ri * 16)
    cols[0][row] = idt - prev
    prev = idt
    let extras = null
    const ts = timestampMs(p.timestamp)
    if (ts === null) {
      if (p.timestamp != null) extras = { timestamp: p.timestamp }
      cols[1][row] = 0
    } else {
      const d = ts - idt
      cols[1][row] = (d < 0 ? -2 * d - 1 : 2 * d) + 1
    }
    let bySecret = keyIndex.get(r.keyId)
    if (!bySecret) keyIndex.set(r.keyId, (bySecret = new Map()))
    let k = bySecret.get(r.secretId)
    if (k === undefined) {
      k = keys.length
      bySecret.set(r.secretId, k)
      keys.push([r.keyId, t[T_SECRET].add(r.secretId)])
    }
    cols[2][row] = k
    cols[4][row] = t[T_TYPE].add(p.type)
    // property reads spelled out: a computed key per field costs more than the rest of a row
    extras = strColumn(p.sessionId, 'sessionId', t[T_SESSION], cols[3], row, extras)
    extras = strColumn(p.href, 'href', t[T_HREF], cols[5], row, extras)
    extras = strColumn(p.rawHref, 'rawHref', t[T_HREF], cols[6], row, extras)
    extras = strColumn(p.referrer, 'referrer', t[T_REFERRER], cols[7], row, extras)
    extras = strColumn(p.geo, 'geo', t[T_GEO], cols[9], row, extras)
    extras = strColumn(p.name, 'name', t[T_NAME], cols[11], row, extras)
    extras = strColumn(p.target, 'target', t[T_TARGET], cols[12], row, extras)
    extras = strColumn(p.browser, 'browser', t[T_BROWSER], cols[13], row, extras)
    extras = strColumn(p.os, 'os', t[T_OS], cols[14], row, extras)
    extras = strColumn(p.device, 'device', t[T_DEVICE], cols[15], row, extras)
    extras = strColumn(p.screen, 'screen', t[T_SCREEN], cols[16], row, extras)
    const pl = p.pageload
    if (typeof pl === 'number' && pl > 0 && pl <= MAX_SAFE) {
      cols[8][row] = Math.max(1, Math.round(pl))
    } else if (pl != null) {
      if (!extras) extras = {}
      extras.pageload = pl
    }
    const mobile = p.isMobile
    const notFound = p.notFound
    if (typeof mobile !== 'boolean' && mobile != null) {
      if (!extras) extras = {}
      extras.isMobile = mobile
    }
    if (typeof notFound !== 'boolean' && notFound != null) {
      if (!extras) extras = {}
      extras.notFound = notFound
    }
    cols[10][row] = (typeof mobile === 'boolean' ? tri(mobile) : 0) | (typeof notFound === 'boolean' ? tri(notFound) : 0) << 2
    const pk = p.props == null ? null : propsOf(p.props)
    if (pk) {
      props.uv(pk.length + 1)
      for (const key of pk) {
        props.uv(t[T_PROP_KEY].add(key))
        const v = p.props[key]
        if (typeof v === 'number') {
          props.uv(1)
          props.f64(v)
        } else {
          props.uv(2 * t[T_PROP_STRING].add(v))
        }
      }
    } else {
      props.uv(0)
      if (p.props != null) {
        if (!extras) extras = {}
        extras.props = p.props
      }
    }
    for (const key in p) {
      if (!COLUMN_FIELDS.has(key) && p[key] !== undefined && Object.prototype.hasOwnProperty.call(p, key)) {
        if (!extras) extras = {}
        extras[key] = p[key]
      }
    }
    if (extras) extrasOf[row] = t[T_EXTRAS].add(canonicalJson(extras)) + 1
  }

  const w = new Writer(64 + n * 40)
  w.bytes(MAGIC)
  w.uv(SEGMENT_VERSION)
  w.str(accountId)
  w.str(period)
  w.uv(n)
  for (let tab = 0; tab < N_TABLES; tab++) {
    if (tab === T_KEY) {
      w.uv(keys.length)
      for (const [keyId, secret] of keys) {
        w.str(keyId)
        w.uv(secret)
      }
      continue
    }
    const list = t[tab].list
    w.uv(list.length)
    for (const s of list) w.str(s)
  }
  for (let row = 0; row < n; row++) w.uv(cols[0][row])
  w.room(n * 10)
  for (let row = 0; row < n; row++) {
    const at = rows.order[row] * 16 + 6
    w.b.set(rows.bin.subarray(at, at + 10), w.n)
    w.n += 10
  }
  for (let c = 1; c < cols.length; c++) {
    const col = cols[c]
    for (let row = 0; row < n; row++) w.uv(col[row])
  }
  w.bytes(props.b.subarray(0, props.n))
  for (let row = 0; row < n; row++) w.uv(extrasOf[row])
  w.uv(un.order.length)
  for (const i of un.order) w.bytes(un.bin.subarray(i * 16, i * 16 + 16))
  if (w.n > SEGMENT_MAX_SIZE) throw malformed(`${w.n} bytes, more than ${SEGMENT_MAX_SIZE}`)
  return w.b.slice(0, w.n)
}

// the smallest unsigned typed array that holds values up to max
const indexArray = (max, n) => max < 256 ? new Uint8Array(n) : max < 65536 ? new Uint16Array(n) : new Uint32Array(n)

const atByte = (m, o) => malformed(`${m} (at byte ${o})`)

// readColumn decodes n uvarints (minimal LEB128 of at most 53 bits) from b at offset o into out,
// each below limit, and returns the offset after them. Most values are one byte: that path is a
// load and a compare.
function readColumn (b, o, n, out, limit) {
  const len = b.length
  for (let i = 0; i < n; i++) {
    if (o >= len) throw atByte('truncated', o)
    let v = b[o++]
    if (v >= 128) {
      v &= 127
      let mul = 128
      for (let k = 1; ; k++) {
        if (o >= len) throw atByte('truncated', o)
        const c = b[o++]
        if (k === 7 && c > 15) throw atByte('varint out of range', o)
        v += (c & 127) * mul
        if (c < 128) {
          if (c === 0) throw atByte('varint not minimal', o)
          break
        }
        mul *= 128
      }
    }
    if (v >= limit) throw atByte(`index ${v} out of range`, o)
    out[i] = v
  }
  return o
}

let latin1 = null
// bytesToString returns b[from, to) as a string of one character per byte (callers use it for
// ASCII only).
function bytesToString (b, from, to) {
  if (latin1 === null) {
    try {
      latin1 = new TextDecoder('latin1')
    } catch {
      latin1 = false
    }
  }
  if (latin1) return latin1.decode(b.subarray(from, to))
  let s = ''
  for (let i = from; i < to; i += 8192) s += String.fromCharCode.apply(null, b.subarray(i, Math.min(to, i + 8192)))
  return s
}

/**
 * decodeSegmentColumns reads a segment plaintext into typed arrays and string tables, without
 * an object per row. It throws a CryptoError: code "VERSION" for a format version it does not
 * know (read the period's raw events instead), "MALFORMED" for anything Encode would not write.
 * The result (n rows, ascending by event id):
 *   version, accountId, period, count: n
 *   ids          Uint8Array(16n), the binary event ids (ulidString(ids, 16 * i) formats one)
 *   time         Float64Array(n), plaintext timestamp in ms, NaN when absent
 *   key          index into keyIds; keySecret[key] indexes secretIds
 *   type         index into types
 *   session href rawHref referrer geo name target browser os device screen
 *                index+1 into sessionIds hrefs hrefs referrers geos names targets browsers
 *                oses devices screens, 0 when absent
 *   pageload     Float64Array(n), whole ms, 0 when absent
 *   isMobile notFound  Uint8Array(n), 0 absent, 1 false, 2 true
 *   hasProps     Uint8Array(n), 1 when the row has props (possibly {})
 *   propStart    Uint32Array(n + 1): the props of row i are entries propStart[i] … propStart[i+1]-1
 *   propKey      index into propKeys; propStr index into propStrings, or -1 for a number in propNum
 *   extra        index+1 into extras (parsed objects, shared by the rows naming them), 0 when none
 *   unreadable   string[], the ids of the events that could not be read
 * Index columns are Uint8Array, Uint16Array or Uint32Array, whatever their table needs.
 * With expect, a segment that names another account or period is MALFORMED (the AAD binds
 * them to the sealed form; this binds the plaintext to it).
 * @param {Uint8Array} b
 * @param {{accountId: string, period: string}} [expect]
 */
export function decodeSegmentColumns (b, expect) {
  if (!(b instanceof Uint8Array)) throw malformed('want a Uint8Array')
  if (b.length > SEGMENT_MAX_SIZE) throw malformed(`${b.length} bytes, more than ${SEGMENT_MAX_SIZE}`)
  if (b.length < 4 || b[0] !== MAGIC[0] || b[1] !== MAGIC[1] || b[2] !== MAGIC[2] || b[3] !== MAGIC[3]) throw malformed('no segment magic')
  const len = b.length
  let off = 4
  const fail = (m) => atByte(m, off)
  const one = new Float64Array(1)
  const uv = () => {
    off = readColumn(b, off, 1, one, Infinity)
    return one[0]
  }
  const count = (min) => {
    const v = uv()
    if (v > (len - off) / min) throw fail(`count ${v} exceeds the input`)
    return v
  }
  const utf8String = (from, to) => {
    if (!fatalUtf8) fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
    try {
      return fatalUtf8.decode(b.subarray(from, to))
    } catch {
      throw atByte('string is not UTF-8', from)
    }
  }
  const str = () => {
    const n = count(1)
    off += n
    return utf8String(off - n, off)
  }
  const version = uv()
  if (version !== SEGMENT_VERSION) throw new CryptoError('VERSION', `segment: unknown version ${version}`)
  const accountId = str()
  const period = str()
  if (expect && (expect.accountId !== accountId || expect.period !== period)) {
    throw malformed(`holds ${accountId} ${period}, want ${expect.accountId} ${expect.period}`)
  }
  let start
  try {
    start = periodStart(period)
  } catch {
    throw fail('malformed period')
  }
  const n = count(10 + N_COLS)

  // The tables in two passes: first their layout, then their text from one string of the whole
  // region, sliced per entry (a string per entry from the bytes costs several times more).
  const tableStart = off
  let bounds = new Float64Array(256)
  for (let tab = 0, e = 0; tab < N_TABLES; tab++) {
    const m = count(1)
    if (e + 2 * m > bounds.length) {
      const x = new Float64Array(Math.max(2 * bounds.length, e + 2 * m))
      x.set(bounds)
      bounds = x
    }
    for (let i = 0; i < m; i++) {
      const k = count(1)
      bounds[e++] = off
      bounds[e++] = off + k
      off += k
      if (tab === T_KEY) uv()
    }
  }
  let ascii = true
  for (let i = tableStart; i < off; i++) {
    if (b[i] >= 128) {
      ascii = false
      break
    }
  }
  // with a non-ASCII byte anywhere (a length of 128 or more, a character beyond ASCII), each
  // entry is checked
  const region = bytesToString(b, tableStart, off)
  const text = (from, to) => {
    if (!ascii) {
      for (let i = from; i < to; i++) if (b[i] >= 128) return utf8String(from, to)
    }
    return region.slice(from - tableStart, to - tableStart)
  }
  off = tableStart
  const tables = []
  let keySecret = null
  for (let tab = 0, e = 0; tab < N_TABLES; tab++) {
    const m = uv()
    const list = new Array(m)
    if (tab === T_KEY) keySecret = indexArray(tables[T_SECRET].length, m)
    for (let i = 0; i < m; i++, e += 2) {
      list[i] = text(bounds[e], bounds[e + 1])
      off = bounds[e + 1]
      if (tab === T_KEY) {
        const s = uv()
        if (s >= tables[T_SECRET].length) throw fail('secret index out of range')
        keySecret[i] = s
      }
    }
    tables.push(list)
  }
  const extras = tables[T_EXTRAS].map((s, i) => {
    let o
    try {
      o = JSON.parse(s)
    } catch {}
    if (o === null || typeof o !== 'object' || Array.isArray(o) || Object.keys(o).length === 0) throw fail(`extras ${i} is not a non-empty JSON object`)
    return o
  })

  const ids = new Uint8Array(n * 16)
  const idTime = new Float64Array(n)
  off = readColumn(b, off, n, idTime, DAY)
  let t = start
  for (let i = 0; i < n; i++) {
    t += idTime[i]
    if (t >= start + DAY) throw fail('event time outside the period')
    idTime[i] = t
    const at = i * 16
    ids[at] = Math.floor(t / 1099511627776) & 255
    ids[at + 1] = Math.floor(t / 4294967296) & 255
    ids[at + 2] = t >>> 24 & 255
    ids[at + 3] = t >>> 16 & 255
    ids[at + 4] = t >>> 8 & 255
    ids[at + 5] = t & 255
  }
  if (off + n * 10 > len) throw fail('truncated')
  for (let i = 0; i < n; i++) {
    const at = i * 16
    for (let k = 6; k < 16; k++) ids[at + k] = b[off++]
    if (i > 0 && idTime[i] === idTime[i - 1] && compareId(ids, i - 1, ids, i) >= 0) throw fail('event ids not ascending')
  }
  const time = new Float64Array(n)
  off = readColumn(b, off, n, time, Infinity)
  for (let i = 0; i < n; i++) {
    const v = time[i]
    if (v === 0) {
      time[i] = NaN
    } else {
      const z = v - 1
      time[i] = idTime[i] + (z % 2 === 0 ? z / 2 : -(z + 1) / 2)
    }
  }
  const indexColumn = (size, opt) => {
    const col = indexArray(size + 1, n)
    off = readColumn(b, off, n, col, opt ? size + 1 : size)
    return col
  }
  const key = indexColumn(tables[T_KEY].length, false)
  const session = indexColumn(tables[T_SESSION].length, true)
  const type = indexColumn(tables[T_TYPE].length, false)
  const href = indexColumn(tables[T_HREF].length, true)
  const rawHref = indexColumn(tables[T_HREF].length, true)
  const referrer = indexColumn(tables[T_REFERRER].length, true)
  const pageload = new Float64Array(n)
  off = readColumn(b, off, n, pageload, Infinity)
  const geo = indexColumn(tables[T_GEO].length, true)
  const flags = new Uint8Array(n)
  const isMobile = new Uint8Array(n)
  const notFound = new Uint8Array(n)
  off = readColumn(b, off, n, flags, 16)
  for (let i = 0; i < n; i++) {
    const f = flags[i]
    if ((f & 3) === 3 || (f >> 2) === 3) throw fail(`flags ${f}`)
    isMobile[i] = f & 3
    notFound[i] = f >> 2
  }
  const name = indexColumn(tables[T_NAME].length, true)
  const target = indexColumn(tables[T_TARGET].length, true)
  const browser = indexColumn(tables[T_BROWSER].length, true)
  const os = indexColumn(tables[T_OS].length, true)
  const device = indexColumn(tables[T_DEVICE].length, true)
  const screen = indexColumn(tables[T_SCREEN].length, true)
  const hasProps = new Uint8Array(n)
  const propStart = new Uint32Array(n + 1)
  let propKey = new Uint32Array(16)
  let propStr = new Int32Array(16)
  let propNum = new Float64Array(16)
  let m = 0
  const nKeys = tables[T_PROP_KEY].length
  const nStrings = tables[T_PROP_STRING].length
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  for (let i = 0; i < n; i++) {
    propStart[i] = m
    if (off < len && b[off] === 0) {
      off++
      continue
    }
    const c = uv()
    if (c === 0) continue
    if (c - 1 > MAX_PROPS) throw fail(`more than ${MAX_PROPS} props`)
    hasProps[i] = 1
    if (m + c > propKey.length) {
      const grow = (a, C) => {
        const x = new C(Math.max(a.length * 2, m + c))
        x.set(a)
        return x
      }
      propKey = grow(propKey, Uint32Array)
      propStr = grow(propStr, Int32Array)
      propNum = grow(propNum, Float64Array)
    }
    const first = m
    for (let j = 1; j < c; j++, m++) {
      const k = uv()
      if (k >= nKeys) throw fail(`prop key ${k} out of range`)
      propKey[m] = k
      const v = uv()
      if (v === 1) {
        if (off + 8 > len) throw fail('truncated')
        const x = view.getFloat64(off, true)
        off += 8
        if (!Number.isFinite(x)) throw fail('prop number not finite')
        propStr[m] = -1
        propNum[m] = x
      } else if (v % 2 === 0 && v / 2 < nStrings) {
        propStr[m] = v / 2
        propNum[m] = 0
      } else {
        throw fail(`prop value ${v}`)
      }
      if (m > first && codePointCompare(tables[T_PROP_KEY][propKey[m - 1]], tables[T_PROP_KEY][k]) >= 0) throw fail('props not sorted by key')
    }
  }
  propStart[n] = m
  const extra = indexColumn(extras.length, true)
  for (let i = 0; i < n; i++) {
    if (extra[i] === 0) continue
    for (const k in extras[extra[i] - 1]) {
      if (k === 'v' || k === 'type' ||
        (k === 'timestamp' && !Number.isNaN(time[i])) || (k === 'pageload' && pageload[i] !== 0) ||
        (k === 'isMobile' && isMobile[i] !== 0) || (k === 'notFound' && notFound[i] !== 0) ||
        (k === 'props' && hasProps[i] !== 0) ||
        (k === 'sessionId' && session[i]) || (k === 'href' && href[i]) || (k === 'rawHref' && rawHref[i]) ||
        (k === 'referrer' && referrer[i]) || (k === 'geo' && geo[i]) || (k === 'name' && name[i]) ||
        (k === 'target' && target[i]) || (k === 'browser' && browser[i]) || (k === 'os' && os[i]) ||
        (k === 'device' && device[i]) || (k === 'screen' && screen[i])) {
        throw fail(`extras field ${k} also has a column`)
      }
    }
  }
  const u = count(16)
  const unreadable = new Array(u)
  const ub = b.subarray(off, off + u * 16)
  for (let i = 0, r = 0; i < u; i++) {
    const tm = ulidTime(ub, i * 16)
    if (tm < start || tm >= start + DAY) throw fail('unreadable id outside the period')
    if (i > 0 && compareId(ub, i - 1, ub, i) >= 0) throw fail('unreadable ids not ascending')
    while (r < n && compareId(ids, r, ub, i) < 0) r++
    if (r < n && compareId(ids, r, ub, i) === 0) throw fail('unreadable id is also a row')
    unreadable[i] = ulidString(ub, i * 16)
  }
  off += u * 16
  if (off !== len) throw fail(`${len - off} trailing bytes`)
  return {
    version,
    accountId,
    period,
    count: n,
    ids,
    time,
    key,
    keyIds: tables[T_KEY],
    keySecret,
    secretIds: tables[T_SECRET],
    type,
    types: tables[T_TYPE],
    session,
    sessionIds: tables[T_SESSION],
    href,
    rawHref,
    hrefs: tables[T_HREF],
    referrer,
    referrers: tables[T_REFERRER],
    pageload,
    geo,
    geos: tables[T_GEO],
    isMobile,
    notFound,
    name,
    names: tables[T_NAME],
    target,
    targets: tables[T_TARGET],
    browser,
    browsers: tables[T_BROWSER],
    os,
    oses: tables[T_OS],
    device,
    devices: tables[T_DEVICE],
    screen,
    screens: tables[T_SCREEN],
    hasProps,
    propStart,
    propKey: propKey.subarray(0, m),
    propStr: propStr.subarray(0, m),
    propNum: propNum.subarray(0, m),
    propKeys: tables[T_PROP_KEY],
    propStrings: tables[T_PROP_STRING],
    extra,
    extras,
    unreadable
  }
}

/**
 * decodeSegment reads a segment plaintext into records {eventId, secretId, keyId, payload}, the
 * payload an event plaintext with timestamp in ms and absent fields undefined. Errors as
 * decodeSegmentColumns.
 * @param {Uint8Array} bytes
 * @param {{accountId: string, period: string}} [expect]
 * @returns {{version: number, accountId: string, period: string, records: Array<object>, unreadable: string[]}}
 */
export function decodeSegment (bytes, expect) {
  const c = decodeSegmentColumns(bytes, expect)
  const n = c.count
  const records = new Array(n)
  const tab = (col, list, i) => col[i] === 0 ? undefined : list[col[i] - 1]
  const bool = (v) => v === 0 ? undefined : v === 2
  for (let i = 0; i < n; i++) {
    let props
    if (c.hasProps[i]) {
      props = {}
      for (let j = c.propStart[i]; j < c.propStart[i + 1]; j++) {
        props[c.propKeys[c.propKey[j]]] = c.propStr[j] < 0 ? c.propNum[j] : c.propStrings[c.propStr[j]]
      }
    }
    const payload = {
      v: 1,
      type: c.types[c.type[i]],
      href: tab(c.href, c.hrefs, i),
      rawHref: tab(c.rawHref, c.hrefs, i),
      referrer: tab(c.referrer, c.referrers, i),
      pageload: c.pageload[i] === 0 ? undefined : c.pageload[i],
      timestamp: Number.isNaN(c.time[i]) ? undefined : c.time[i],
      sessionId: tab(c.session, c.sessionIds, i),
      geo: tab(c.geo, c.geos, i),
      isMobile: bool(c.isMobile[i]),
      notFound: bool(c.notFound[i]),
      name: tab(c.name, c.names, i),
      props,
      target: tab(c.target, c.targets, i),
      browser: tab(c.browser, c.browsers, i),
      os: tab(c.os, c.oses, i),
      device: tab(c.device, c.devices, i),
      screen: tab(c.screen, c.screens, i)
    }
    if (c.extra[i] !== 0) Object.assign(payload, c.extras[c.extra[i] - 1])
    const k = c.key[i]
    records[i] = { eventId: ulidString(c.ids, i * 16), secretId: c.secretIds[c.keySecret[k]], keyId: c.keyIds[k], payload }
  }
  return { version: c.version, accountId: c.accountId, period: c.period, records, unreadable: c.unreadable }
}

const subtle = () => globalThis.crypto.subtle

/**
 * deriveSegmentKey returns the 32-byte segment key of an account:
 * HKDF-SHA256(KEK, salt "offen/v1/segment", info "segment").
 * @param {Uint8Array} kek
 * @returns {Promise<Uint8Array>}
 */
export async function deriveSegmentKey (kek) {
  if (!(kek instanceof Uint8Array) || kek.length !== 32) throw malformed('KEK must have 32 bytes')
  const ikm = await subtle().importKey('raw', kek, 'HKDF', false, ['deriveBits'])
  const params = { name: 'HKDF', hash: 'SHA-256', salt: utf8.encode('offen/v1/segment'), info: utf8.encode('segment') }
  return new Uint8Array(await subtle().deriveBits(params, ikm, 256))
}

/** segmentAad is the associated data of a sealed segment. */
export const segmentAad = (accountId, period, version) => `offen/v1/segment|${accountId}|${period}|${version}`

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const B64_CODE = Uint8Array.from(B64, (c) => c.charCodeAt(0))
const B64_VALUE = new Int8Array(256).fill(-1)
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i

// base64url without padding, as crypto.js writes it, for tens of megabytes: characters are
// written as bytes and turned into a string once
function toBase64Url (u) {
  const out = new Uint8Array(Math.ceil(u.length * 4 / 3))
  let j = 0
  let i = 0
  for (; i + 2 < u.length; i += 3) {
    const x = u[i] << 16 | u[i + 1] << 8 | u[i + 2]
    out[j++] = B64_CODE[x >> 18]
    out[j++] = B64_CODE[x >> 12 & 63]
    out[j++] = B64_CODE[x >> 6 & 63]
    out[j++] = B64_CODE[x & 63]
  }
  if (u.length - i === 1) {
    out[j++] = B64_CODE[u[i] >> 2]
    out[j++] = B64_CODE[u[i] << 4 & 63]
  } else if (u.length - i === 2) {
    const x = u[i] << 8 | u[i + 1]
    out[j++] = B64_CODE[x >> 10]
    out[j++] = B64_CODE[x >> 4 & 63]
    out[j++] = B64_CODE[x << 2 & 63]
  }
  return bytesToString(out, 0, j)
}

const BASE64URL = /^[A-Za-z0-9_-]*$/
const nativeBase64 = typeof Uint8Array.fromBase64 === 'function'

// the canonical base64url part s[from, to) decoded, as crypto.js's fromBase64Url accepts it;
// the platform's decoder where there is one (about 15 times faster for a segment), after
// the checks it does not make (it skips white space, takes padding and ignores the last
// character's spare bits)
function fromBase64Url (s, from, to, native = nativeBase64) {
  const n = to - from
  if (n % 4 === 1) throw malformed('invalid base64url')
  if (native) {
    const part = s.slice(from, to)
    if (!BASE64URL.test(part)) throw malformed('invalid base64url')
    const spare = n % 4 === 2 ? 15 : n % 4 === 3 ? 3 : 0
    if (spare && (B64_VALUE[part.charCodeAt(n - 1)] & spare)) throw malformed('non-canonical base64url')
    return Uint8Array.fromBase64(part, { alphabet: 'base64url' })
  }
  const chars = utf8.encode(s.slice(from, to))
  if (chars.length !== n) throw malformed('invalid base64url')
  const out = new Uint8Array(n * 3 >> 2)
  let j = 0
  let i = 0
  for (; i + 3 < n; i += 4) {
    const a = B64_VALUE[chars[i]]
    const b = B64_VALUE[chars[i + 1]]
    const c = B64_VALUE[chars[i + 2]]
    const d = B64_VALUE[chars[i + 3]]
    if ((a | b | c | d) < 0) throw malformed('invalid base64url')
    const x = a << 18 | b << 12 | c << 6 | d
    out[j++] = x >> 16
    out[j++] = x >> 8 & 255
    out[j++] = x & 255
  }
  if (i < n) {
    let x = 0
    for (let k = i; k < n; k++) {
      const v = B64_VALUE[chars[k]]
      if (v < 0) throw malformed('invalid base64url')
      x = x << 6 | v
    }
    if (n - i === 2) {
      if (x & 15) throw malformed('non-canonical base64url')
      out[j++] = x >> 4
    } else {
      if (x & 3) throw malformed('non-canonical base64url')
      out[j++] = x >> 10
      out[j++] = x >> 2 & 255
    }
  }
  return out
}

const aesKey = (key) => key instanceof Uint8Array
  ? subtle().importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
  : Promise.resolve(key)

/**
 * sealSegment encrypts a segment plaintext as `a1` under the segment key, bound to account,
 * period and format version.
 * @param {Uint8Array|CryptoKey} key
 * @param {string} accountId
 * @param {string} period
 * @param {number} version
 * @param {Uint8Array} bytes
 * @param {Uint8Array} [nonce] tests only
 * @returns {Promise<string>}
 */
export async function sealSegment (key, accountId, period, version, bytes, nonce) {
  if (!nonce) nonce = globalThis.crypto.getRandomValues(new Uint8Array(12))
  const ct = await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(segmentAad(accountId, period, version)) }, await aesKey(key), bytes)
  return 'a1.' + toBase64Url(nonce) + '.' + toBase64Url(new Uint8Array(ct))
}

/**
 * openSegment reverses sealSegment; it throws CryptoError DECRYPT for another key, account,
 * period or version, MALFORMED for a string that is not `a1`. The caller decodes the
 * plaintext and should pass {accountId, period} to the decoder to check the plaintext names
 * them too.
 * @param {Uint8Array|CryptoKey} key
 * @param {string} accountId
 * @param {string} period
 * @param {number} version
 * @param {string} sealed
 * @returns {Promise<Uint8Array>}
 */
export async function openSegment (key, accountId, period, version, sealed) {
  if (typeof sealed !== 'string' || !sealed.startsWith('a1.')) throw malformed('want an a1 string')
  if (sealed.length > SEGMENT_MAX_SIZE / 3 * 4 + 64) throw malformed('sealed segment too large')
  const dot = sealed.indexOf('.', 3)
  if (dot !== 3 + 16 || sealed.indexOf('.', dot + 1) >= 0) throw malformed('a1: wrong parts')
  const nonce = fromBase64Url(sealed, 3, dot)
  const ct = fromBase64Url(sealed, dot + 1, sealed.length)
  if (ct.length < 16) throw malformed('a1: ciphertext too short')
  const k = await aesKey(key)
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(segmentAad(accountId, period, version)) }, k, ct))
  } catch {
    throw new CryptoError('DECRYPT', 'segment: decryption failed')
  }
}

/**
 * segmentCoverage returns the count and digest of a set of event ids as the server checks an
 * upload: SHA-256 over their 16-byte binary ULIDs in ascending order, lowercase hex.
 * @param {string[]} eventIds
 * @returns {Promise<{count: number, digest: string}>}
 */
export async function segmentCoverage (eventIds) {
  const n = eventIds.length
  const bin = new Uint8Array(n * 16)
  for (let i = 0; i < n; i++) if (!ulidBytes(eventIds[i], bin, i * 16)) throw malformed(`malformed event id ${eventIds[i]}`)
  const order = Array.from({ length: n }, (_, i) => i)
  order.sort((x, y) => compareId(bin, x, bin, y))
  const sorted = new Uint8Array(n * 16)
  for (let i = 0; i < n; i++) sorted.set(bin.subarray(order[i] * 16, order[i] * 16 + 16), i * 16)
  const d = new Uint8Array(await subtle().digest('SHA-256', sorted))
  return { count: n, digest: Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('') }
}
