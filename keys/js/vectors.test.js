// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Checks crypto.js against the shared vectors in ../testdata/vectors.json,
// which the Go tests of package keys check too.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as c from './crypto.js'

const doc = JSON.parse(readFileSync(new URL('../testdata/vectors.json', import.meta.url), 'utf8'))

// Kinds only the server computes (Go); the JS module has no API for them.
const SERVER_ONLY = new Set(['instance-keys', 'argon2id1', 'email', 'secret-id', 'token-hash', 'ulid', 'id'])

const b = (s) => c.fromBase64Url(s)
const hex = (u) => Array.from(u, (x) => x.toString(16).padStart(2, '0')).join('')
const same = (got, want, what) => assert.equal(c.toBase64Url(got), c.toBase64Url(want), what)

// rejects asserts that fn throws a CryptoError (sync or async).
async function rejects (fn) {
  let err
  try {
    await fn()
  } catch (e) {
    err = e
  }
  assert.ok(err, 'accepted an invalid input')
  assert.equal(err.name, 'CryptoError', `unexpected error ${err}`)
}

async function publicKeyOf (privateKey) {
  const jwk = await globalThis.crypto.subtle.exportKey('jwk', privateKey)
  return 'p256.' + c.toBase64Url(new Uint8Array([4, ...b(jwk.x), ...b(jwk.y)]))
}

const AAD_PREFIX = {
  event: 'offen/v1/event',
  'private-key': 'offen/v1/private-key',
  kek: 'offen/v1/kek',
  'login-key': 'offen/v1/login-key',
  'recovery-login-key': 'offen/v1/recovery-login-key',
  label: 'offen/v1/label',
  certificate: 'offen/v1/certificate'
}

const decryptA1 = {
  event: async (k, id, ct) => {
    // decryptEvents (many at once) must agree with decryptEvent on every vector
    let one, err
    try {
      one = await c.decryptEvent(k, id, ct)
    } catch (e) {
      err = e
    }
    const [many] = await c.decryptEvents(id, [await c.importAesKey(k)], [ct])
    if (err) {
      assert.ok(many instanceof c.CryptoError, 'decryptEvents accepted what decryptEvent rejects')
      throw err
    }
    assert.deepEqual(many, one)
    return new TextEncoder().encode(JSON.stringify(one))
  },
  'private-key': async (k, id, ct) => {
    const key = await c.decryptPrivateKey(k, id, ct, true)
    return new Uint8Array(await globalThis.crypto.subtle.exportKey('pkcs8', key))
  },
  kek: c.unwrapKek,
  'login-key': c.unwrapLoginKey,
  'recovery-login-key': c.recoveryUnwrapLoginKey,
  label: async (k, id, ct) => new TextEncoder().encode(await c.decryptLabel(k, id, ct)),
  certificate: (k, id, ct) => c.openA1(k, 'offen/v1/certificate|' + id, ct)
}

const encryptA1 = {
  event: (k, id, pt, n) => c.encryptEvent(k, id, JSON.parse(new TextDecoder().decode(pt)), n),
  'private-key': c.encryptPrivateKey,
  kek: c.wrapKek,
  'login-key': c.wrapLoginKey,
  'recovery-login-key': c.recoveryWrapLoginKey,
  label: (k, id, pt, n) => c.encryptLabel(k, id, new TextDecoder().decode(pt), n),
  certificate: (k, id, pt, n) => c.sealA1(k, 'offen/v1/certificate|' + id, pt, n)
}

const checks = {
  async base64url (v) {
    if (!v.valid) return rejects(() => c.fromBase64Url(v.input))
    assert.equal(hex(c.fromBase64Url(v.input)), v.hex)
    assert.equal(c.toBase64Url(c.fromBase64Url(v.input)), v.input)
  },
  async 'kdf-login' (v) {
    if (v.valid === false) return rejects(() => c.deriveLoginKeys(v.password, b(v.salt), v.iterations))
    const { authKey, wrapKey } = await c.deriveLoginKeys(v.password, b(v.salt), v.iterations)
    same(authKey, b(v.authKey), 'auth key')
    assert.equal(wrapKey.extractable, false)
    // The wrap key is not extractable: prove it equals v.wrapKey through
    // the wrapping it makes, and through the raw bytes.
    assert.equal(await c.wrapLoginKey(wrapKey, v.loginId, b(v.loginKey), b(v.nonce)), v.wrappedLoginKey)
    assert.equal(await c.wrapLoginKey(b(v.wrapKey), v.loginId, b(v.loginKey), b(v.nonce)), v.wrappedLoginKey)
    same(await c.unwrapLoginKey(wrapKey, v.loginId, v.wrappedLoginKey), b(v.loginKey), 'login key')
  },
  async 'recovery-keys' (v) {
    assert.equal(c.formatRecoveryCode(b(v.code)), v.formatted)
    same(c.parseRecoveryCode(v.formatted), b(v.code), 'parsed code')
    const { recoveryKey, proof } = await c.deriveRecoveryKeys(b(v.code))
    same(proof, b(v.proof), 'proof')
    same(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', proof)), b(v.proofHash), 'proof hash')
    assert.equal(await c.recoveryWrapLoginKey(recoveryKey, v.loginId, b(v.loginKey), b(v.nonce)), v.recoveryWrappedLoginKey)
    assert.equal(await c.recoveryWrapLoginKey(b(v.recoveryKey), v.loginId, b(v.loginKey), b(v.nonce)), v.recoveryWrappedLoginKey)
    same(await c.recoveryUnwrapLoginKey(recoveryKey, v.loginId, v.recoveryWrappedLoginKey), b(v.loginKey), 'login key')
  },
  async 'recovery-code-parse' (v) {
    if (!v.valid) return rejects(() => c.parseRecoveryCode(v.input))
    same(c.parseRecoveryCode(v.input), b(v.code), 'code')
  },
  async 'invite-keys' (v) {
    const { wrapKey, token } = await c.deriveInviteKeys(b(v.inviteKey))
    same(token, b(v.token), 'token')
    same(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', token)), b(v.tokenHash), 'token hash')
    assert.equal(await c.wrapKek(wrapKey, v.accountId, b(v.kek), b(v.nonce)), v.inviteWrappedKek)
    assert.equal(await c.wrapKek(b(v.wrapKey), v.accountId, b(v.kek), b(v.nonce)), v.inviteWrappedKek)
    same(await c.unwrapKek(wrapKey, v.accountId, v.inviteWrappedKek), b(v.kek), 'kek')
  },
  async a1 (v) {
    const dec = decryptA1[v.purpose]
    assert.ok(dec, `unknown purpose ${v.purpose}`)
    if (!v.valid) return rejects(() => dec(b(v.key), v.id, v.ciphertext))
    assert.equal(v.aad, AAD_PREFIX[v.purpose] + '|' + v.id)
    same(await dec(b(v.key), v.id, v.ciphertext), b(v.plaintext), 'plaintext')
    assert.equal(await encryptA1[v.purpose](b(v.key), v.id, b(v.plaintext), b(v.nonce)), v.ciphertext)
    // The same with a CryptoKey instead of raw bytes.
    const key = await c.importAesKey(b(v.key))
    same(await dec(key, v.id, v.ciphertext), b(v.plaintext), 'plaintext (CryptoKey)')
  },
  async e1 (v) {
    const priv = await c.importPrivateKey(b(v.accountPrivateKey))
    if (!v.valid) return rejects(() => c.unwrapUserSecret(priv, v.accountId, v.ciphertext))
    same(await c.unwrapUserSecret(priv, v.accountId, v.ciphertext), b(v.secret), 'secret')
    const fixed = { ephemeralPkcs8: b(v.ephemeralPrivateKey), nonce: b(v.nonce) }
    assert.equal(await c.wrapUserSecret(v.accountPublicKey, v.accountId, b(v.secret), fixed), v.ciphertext)
    assert.equal(await publicKeyOf(await c.importPrivateKey(b(v.accountPrivateKey), true)), v.accountPublicKey)
  },
  async p256 (v) {
    if (!v.valid) return rejects(() => c.importPublicKey(v.input))
    const key = await c.importPublicKey(v.input)
    const raw = new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', key))
    assert.equal('p256.' + c.toBase64Url(raw), v.input)
  },
  async pkcs8 (v) {
    if (!v.valid) return rejects(() => c.importPrivateKey(b(v.pkcs8)))
    assert.ok(['go', 'webcrypto'].includes(v.origin), `unknown origin ${v.origin}`)
    const key = await c.importPrivateKey(b(v.pkcs8), true)
    assert.equal(await publicKeyOf(key), v.publicKey)
    if (v.origin === 'webcrypto') {
      same(new Uint8Array(await globalThis.crypto.subtle.exportKey('pkcs8', key)), b(v.pkcs8), 'pkcs8 round trip')
    }
  }
}

for (const [i, v] of doc.vectors.entries()) {
  test(`${i} ${v.name}`, async (t) => {
    if (SERVER_ONLY.has(v.kind)) return t.skip('server only (Go)')
    assert.ok(checks[v.kind], `unknown kind ${v.kind}`)
    await checks[v.kind](v)
  })
}

test('every kind is known', () => {
  for (const v of doc.vectors) assert.ok(SERVER_ONLY.has(v.kind) || checks[v.kind], v.kind)
})

// Intermediate values of the Go derivation that WebCrypto cannot expose.
const UNCHECKED = new Set(['name', 'kind', 'sharedSecret', 'eciesKey'])

function mutate (x) {
  if (typeof x === 'number') return x + 1
  if (typeof x === 'boolean') return !x
  if (x === '') return 'A'
  const i = x.length >> 1
  const ch = x[i]
  let r = 'x'
  if (/[a-yA-Y0-8]/.test(ch)) {
    r = String.fromCharCode(ch.charCodeAt(0) + 1)
    if ('iloILO'.includes(r)) r = String.fromCharCode(r.charCodeAt(0) + 1)
  } else if (/[zZ9]/.test(ch)) {
    r = String.fromCharCode(ch.charCodeAt(0) - 1)
  }
  return x.slice(0, i) + r + x.slice(i + 1)
}

test('changing one character of any checked field of a valid vector fails', async () => {
  for (const v of doc.vectors) {
    if (SERVER_ONLY.has(v.kind) || v.valid === false) continue
    await Promise.all(Object.keys(v).filter((k) => !UNCHECKED.has(k)).map(async (k) => {
      let failed = false
      try {
        await checks[v.kind]({ ...v, [k]: mutate(v[k]) })
      } catch {
        failed = true
      }
      assert.ok(failed, `${v.name}: changing ${k} went unnoticed`)
    }))
  }
})
