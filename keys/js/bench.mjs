// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Benchmarks of crypto.js on node's WebCrypto: ECIES unwraps and event
// decrypts per second, the PBKDF2 login derivation time, and node's
// RSA-OAEP-4096 decrypt rate against its P-256 ECDH rate (PROTOCOL §2.1 says
// why e1 uses ECDH). Exits non-zero when ECDH is less than 20× RSA.
// Usage: node keys/js/bench.mjs [seconds per measurement, default 1.5]

import * as c from './crypto.js'

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
