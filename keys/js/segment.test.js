// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Checks segment.js against the shared vectors in ../testdata/segments.json, which the Go tests
// of package keys/segment check too, and the columnar decoder against the record decoder.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fromBase64Url, toBase64Url } from './crypto.js'
import * as s from './segment.js'

const doc = JSON.parse(readFileSync(new URL('../testdata/segments.json', import.meta.url), 'utf8'))
const fromHex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16))
const toHex = (u) => Array.from(u, (x) => x.toString(16).padStart(2, '0')).join('')
// what JSON keeps of a value: drops undefined fields, as the Go side never has them
const plain = (x) => JSON.parse(JSON.stringify(x))

const byId = (a, b) => a < b ? -1 : a > b ? 1 : 0
// the input in event id order, as decoding gives it when the vector has no "decoded"
const sortedInput = (input) => ({
  records: [...input.records].sort((a, b) => byId(a.eventId.toUpperCase(), b.eventId.toUpperCase())),
  unreadable: [...input.unreadable].sort(byId)
})

async function errorCode (fn) {
  try {
    await fn()
  } catch (e) {
    assert.equal(e.name, 'CryptoError', `unexpected error ${e}`)
    return e.code
  }
  return null
}

test('vectors', async (t) => {
  const kinds = {}
  for (const v of doc.vectors) {
    kinds[v.kind] = (kinds[v.kind] || 0) + 1
    await t.test(`${v.kind}: ${v.name}`, async () => {
      if (v.kind === 'segment') {
        const pt = s.encodeSegment({ accountId: v.accountId, period: v.period, records: v.input.records, unreadable: v.input.unreadable })
        assert.equal(toHex(pt), v.plaintextHex)
        const dec = s.decodeSegment(fromHex(v.plaintextHex), { accountId: v.accountId, period: v.period })
        const want = v.decoded || sortedInput(v.input)
        assert.deepEqual(plain(dec), { version: 1, accountId: v.accountId, period: v.period, ...want })
        // what decodes encodes to the same bytes
        assert.equal(toHex(s.encodeSegment(dec)), v.plaintextHex)
        const ids = [...v.input.records.map((r) => r.eventId), ...v.input.unreadable]
        assert.deepEqual(await s.segmentCoverage(ids), { count: v.count, digest: v.digest })
        const key = await s.deriveSegmentKey(fromBase64Url(v.kek))
        assert.equal(toBase64Url(key), v.segmentKey)
        assert.equal(await s.sealSegment(key, v.accountId, v.period, v.version, pt, fromBase64Url(v.nonce)), v.sealed)
        assert.equal(toHex(await s.openSegment(key, v.accountId, v.period, v.version, v.sealed)), v.plaintextHex)
      } else if (v.kind === 'segment-decode') {
        assert.equal(await errorCode(() => s.decodeSegment(fromHex(v.plaintextHex))), v.error)
        assert.equal(await errorCode(() => s.decodeSegmentColumns(fromHex(v.plaintextHex))), v.error)
      } else if (v.kind === 'segment-open') {
        const code = await errorCode(async () => {
          const pt = await s.openSegment(fromBase64Url(v.segmentKey), v.accountId, v.period, v.version, v.sealed)
          s.decodeSegment(pt, { accountId: v.accountId, period: v.period })
        })
        assert.equal(code, v.error)
      } else {
        assert.fail(`unknown kind ${v.kind}`)
      }
    })
  }
  assert.ok(kinds.segment >= 7 && kinds['segment-decode'] >= 20 && kinds['segment-open'] >= 5, JSON.stringify(kinds))
})

test('truncations and flipped bytes never throw anything but CryptoError', () => {
  const v = doc.vectors.find((x) => x.name === 'every field')
  const pt = fromHex(v.plaintextHex)
  for (let cut = 0; cut < pt.length; cut++) {
    assert.throws(() => s.decodeSegment(pt.subarray(0, cut)), { name: 'CryptoError' })
  }
  for (let i = 0; i < pt.length; i++) {
    const b = pt.slice()
    b[i] ^= 0x55
    try {
      s.decodeSegment(b)
    } catch (e) {
      assert.equal(e.name, 'CryptoError', `byte ${i}: ${e}`)
    }
  }
})

test('encodeSegment refuses what cannot be a segment', () => {
  const base = { accountId: 'a', period: '2026-11-22', unreadable: [] }
  const rec = (id, payload = { v: 1, type: 'PAGEVIEW' }) => ({ eventId: id, secretId: 's', keyId: 'k', payload })
  const inDay = s.ulidString(Uint8Array.from([0x01, 0x9a, 0xab, 0x4d, 0x18, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
  assert.doesNotThrow(() => s.encodeSegment({ ...base, period: new Date(0x019aab4d1800).toISOString().slice(0, 10), records: [rec(inDay)] }))
  const period = new Date(0x019aab4d1800).toISOString().slice(0, 10)
  for (const [what, seg] of [
    ['another day', { ...base, records: [rec(inDay)] }],
    ['malformed id', { ...base, period, records: [rec('not-a-ulid')] }],
    ['id twice', { ...base, period, records: [rec(inDay), rec(inDay.toLowerCase())] }],
    ['record and unreadable', { ...base, period, records: [rec(inDay)], unreadable: [inDay] }],
    ['v 2', { ...base, period, records: [rec(inDay, { v: 2, type: 'PAGEVIEW' })] }],
    ['no type', { ...base, period, records: [rec(inDay, { v: 1 })] }],
    ['impossible date', { ...base, period: '2026-02-30', records: [] }]
  ]) {
    assert.throws(() => s.encodeSegment(seg), { name: 'CryptoError' }, what)
  }
})

// the platform's base64 decoder (Chromium has one, Node 20 not) stood in for by Buffer's, as
// lenient as it: segment.js must make the checks it leaves out
const nativeLike = (str, { alphabet }) => new Uint8Array(Buffer.from(str, alphabet))
for (const [name, load] of [
  ['', async () => s],
  [' (with a platform decoder)', async (t) => {
    Uint8Array.fromBase64 = nativeLike
    t.after(() => { delete Uint8Array.fromBase64 })
    return import('./segment.js?native')
  }]
]) {
test('openSegment reads base64url as strictly as crypto.js' + name, async (t) => {
  const s = await load(t)
  const v = doc.vectors.find((x) => x.name === 'every field')
  const key = fromBase64Url(v.segmentKey)
  const open = (sealed) => errorCode(() => s.openSegment(key, v.accountId, v.period, 1, sealed))
  assert.equal(await open(v.sealed), null)
  // a ciphertext part of a length no base64url string has
  let impossible = v.sealed
  do impossible += 'A'; while ((impossible.length - 'a1.'.length - 16 - '.'.length) % 4 !== 1)
  for (const bad of [v.sealed + '=', v.sealed + ' ', v.sealed.replace('-', '+'), impossible, v.sealed + '.AAAA', 'a1.' + v.sealed.slice(4), v.sealed.slice(0, 30)]) {
    assert.equal(await open(bad), 'MALFORMED', bad.slice(-8))
  }
  // every length of the last group, sealed and opened again
  for (let n = 0; n < 6; n++) {
    const pt = new Uint8Array(n).fill(200)
    const sealed = await s.sealSegment(key, 'a', '2026-11-22', 1, pt)
    assert.equal(sealed, await (await import('./crypto.js')).sealA1(key, s.segmentAad('a', '2026-11-22', 1), pt, fromBase64Url(sealed.split('.')[1])))
    assert.deepEqual(await s.openSegment(key, 'a', '2026-11-22', 1, sealed), pt)
    // the last character with a spare bit set
    if ((sealed.length - 'a1.'.length - 16 - '.'.length) % 4 !== 0) {
      const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const spare = sealed.slice(0, -1) + B64[B64.indexOf(sealed.at(-1)) | 1]
      assert.equal(await open(spare), 'MALFORMED', `spare bit, ${n} bytes`)
    }
  }
})
}
