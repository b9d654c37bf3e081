// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Benchmarks of crypto.js on node's WebCrypto: ECIES unwraps and event
// decrypts per second, the PBKDF2 login derivation time, and node's
// RSA-OAEP-4096 decrypt rate against its P-256 ECDH rate (PROTOCOL §2.1 says
// why e1 uses ECDH), and sealed segments (PROTOCOL §13): encoding, opening
// and decoding a day of SEGMENT_ROWS events (default 500,000), rows per
// second. Exits non-zero when ECDH is less than 20× RSA.
// Usage: node keys/js/bench.mjs [seconds per measurement, default 1.5]

import * as c from './crypto.js'
import * as seg from './segment.js'

const subtle = globalThis.crypto.subtle
const seconds = Number(process.argv[2] || 1.5)

// rate runs op (async) sequentially, or `parallel` at a time, for the given
// time and returns operations per second.
async function rate (op, parallel = 1) {
  for (let i = 0; i < 20; i++) await op() // warm up
  const end = performance.now() + seconds * 1000
  let n = 0
  const start = performance.now()
  while (performance.now() < end) {
    await Promise.all(Array.from({ length: parallel }, op))
    n += parallel
  }
  return n / ((performance.now() - start) / 1000)
}

const fmt = (x) => Math.round(x).toLocaleString('en-US')
const row = (name, value) => console.log(name.padEnd(46) + value)

const accountId = c.newUuid()
const pair = await c.generateAccountKeyPair()
const priv = await c.importPrivateKey(pair.privateKey)
const wrapped = await c.wrapUserSecret(pair.publicKey, accountId, c.generateUserSecret())

row('ECIES e1 unwrap, sequential', fmt(await rate(() => c.unwrapUserSecret(priv, accountId, wrapped))) + ' /s')
row('ECIES e1 unwrap, 8 in parallel', fmt(await rate(() => c.unwrapUserSecret(priv, accountId, wrapped), 8)) + ' /s')

const secret = await c.importAesKey(c.generateUserSecret())
const event = await c.encryptEvent(secret, accountId, {
  v: 1, type: 'PAGEVIEW', href: 'https://www.example.com/blog/2026/11/some-article?utm_source=news', referrer: 'https://news.example.net/', pageload: 412, timestamp: '2026-11-22T05:00:00.000Z', sessionId: c.newSessionId(), geo: 'DE', isMobile: false
})
row('a1 event decrypt + JSON.parse, sequential', fmt(await rate(() => c.decryptEvent(secret, accountId, event))) + ' /s')
row('a1 event decrypt + JSON.parse, 8 in parallel', fmt(await rate(() => c.decryptEvent(secret, accountId, event), 8)) + ' /s')

const salt = c.generateKdfSalt()
const runs = 5
let t = performance.now()
for (let i = 0; i < runs; i++) await c.deriveLoginKeys('correct horse battery staple', salt, c.KDF_ITERATIONS)
row('PBKDF2-SHA256 600,000 + HKDF (login keys)', ((performance.now() - t) / runs).toFixed(1) + ' ms')

// A day of page views with 10 per visitor, two sessions each, 300 pages.
const rows = Number(process.env.SEGMENT_ROWS || 500000)
const day = Date.parse('2026-11-22T00:00:00.000Z')
const pages = Array.from({ length: 300 }, (_, i) => 'https://www.example.com/blog/2026/' + i)
const refs = ['', '', '', 'https://www.google.com/', 'https://news.ycombinator.com/', 'https://t.co/x']
const visitors = Array.from({ length: Math.ceil(rows / 10) }, () => ({ secretId: c.newKeyId() + c.newKeyId(), keyId: c.newKeyId(), sessions: [c.newSessionId(), c.newSessionId()] }))
const records = new Array(rows)
for (let i = 0; i < rows; i++) {
  const t = day + Math.floor(i * 86400000 / rows)
  const id = c.randomBytes(16)
  for (let k = 5, x = t; k >= 0; k--, x = Math.floor(x / 256)) id[k] = x % 256
  const v = visitors[(i * 7919) % visitors.length]
  records[i] = {
    eventId: seg.ulidString(id),
    secretId: v.secretId,
    keyId: v.keyId,
    payload: {
      v: 1, type: 'PAGEVIEW', href: pages[i % 300], referrer: refs[i % 6], pageload: 200 + i % 900, timestamp: new Date(t - i % 2000).toISOString(), sessionId: v.sessions[i % 2], geo: ['DE', 'FR', null][i % 3], isMobile: i % 2 === 0, browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'large'
    }
  }
}
const timed = async (f) => {
  const t0 = performance.now()
  const r = await f()
  return [r, (performance.now() - t0) / 1000]
}
const segKey = await seg.deriveSegmentKey(c.generateKek())
const [plain, encTime] = await timed(() => seg.encodeSegment({ accountId, period: '2026-11-22', records }))
const [sealed, sealTime] = await timed(() => seg.sealSegment(segKey, accountId, '2026-11-22', 1, plain))
row(`segment of ${fmt(rows)} rows`, `${(plain.length / 1048576).toFixed(1)} MiB, ${(plain.length / rows).toFixed(1)} B/row, sealed ${(sealed.length / 1048576).toFixed(1)} MiB`)
row('segment encode', fmt(rows / encTime) + ' rows/s')
row('segment seal (a1)', fmt(rows / sealTime) + ' rows/s')
let best = [Infinity, Infinity, Infinity]
for (let i = 0; i < 3; i++) {
  const [opened, openTime] = await timed(() => seg.openSegment(segKey, accountId, '2026-11-22', 1, sealed))
  const [, colTime] = await timed(() => seg.decodeSegmentColumns(opened))
  const [, recTime] = await timed(() => seg.decodeSegment(opened))
  best = [Math.min(best[0], openTime), Math.min(best[1], colTime), Math.min(best[2], recTime)]
}
row('segment open (base64url + AES-GCM), best of 3', fmt(rows / best[0]) + ' rows/s')
row('segment decode, columns, best of 3', fmt(rows / best[1]) + ' rows/s')
row('segment decode, records, best of 3', fmt(rows / best[2]) + ' rows/s')
records.length = 0

// Raw asymmetric operation rates: RSA-OAEP-4096 decrypt (the original
// design) against ECDH P-256 deriveBits (what e1 costs beyond AES and HKDF).
const rsa = await subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['encrypt', 'decrypt'])
const rsaCt = await subtle.encrypt({ name: 'RSA-OAEP' }, rsa.publicKey, c.generateUserSecret())
const rsaRate = await rate(() => subtle.decrypt({ name: 'RSA-OAEP' }, rsa.privateKey, rsaCt))
const peer = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])
const ecdhRate = await rate(() => subtle.deriveBits({ name: 'ECDH', public: peer.publicKey }, priv, 256))
const ratio = ecdhRate / rsaRate
row('RSA-OAEP-4096 decrypt, sequential', fmt(rsaRate) + ' /s')
row('ECDH P-256 deriveBits, sequential', fmt(ecdhRate) + ' /s')
row('ratio ECDH / RSA (acceptance: >= 20)', ratio.toFixed(1) + '×')
if (ratio < 20) {
  console.error('FAIL: ECDH P-256 is less than 20× faster than RSA-OAEP-4096 here')
  process.exitCode = 1
}
