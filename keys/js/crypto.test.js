// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Round trips and tampering tests of crypto.js with fresh random keys (the
// fixed bytes are in vectors.test.js).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as c from './crypto.js'

async function rejects (fn, code) {
  let err
  try {
    await fn()
  } catch (e) {
    err = e
  }
  assert.ok(err, 'accepted')
  assert.equal(err.name, 'CryptoError', String(err))
  if (code) assert.equal(err.code, code)
}

const same = (a, b) => assert.equal(c.toBase64Url(a), c.toBase64Url(b))

async function formats () {
  const accountId = c.newUuid()
  const loginId = c.newUuid()
  const kek = c.generateKek()
  const loginKey = c.generateLoginKey()
  const secret = c.generateUserSecret()
  const pair = await c.generateAccountKeyPair()
  const priv = await c.importPrivateKey(pair.privateKey)
  const other = await c.importPrivateKey((await c.generateAccountKeyPair()).privateKey)
  return [
    { name: 'event', s: await c.encryptEvent(secret, accountId, { v: 1 }), open: (k, id, s) => c.decryptEvent(k, id, s), key: secret, wrong: c.generateUserSecret(), id: accountId },
    { name: 'private key', s: await c.encryptPrivateKey(kek, accountId, pair.privateKey), open: c.decryptPrivateKey, key: kek, wrong: c.generateKek(), id: accountId },
    { name: 'kek', s: await c.wrapKek(loginKey, accountId, kek), open: c.unwrapKek, key: loginKey, wrong: c.generateKek(), id: accountId },
    { name: 'login key', s: await c.wrapLoginKey(kek, loginId, loginKey), open: c.unwrapLoginKey, key: kek, wrong: c.generateKek(), id: loginId },
    { name: 'recovery login key', s: await c.recoveryWrapLoginKey(kek, loginId, loginKey), open: c.recoveryUnwrapLoginKey, key: kek, wrong: c.generateKek(), id: loginId },
    { name: 'label', s: await c.encryptLabel(kek, accountId, 'ä@example.org'), open: c.decryptLabel, key: kek, wrong: c.generateKek(), id: accountId },
    { name: 'user secret', s: await c.wrapUserSecret(pair.publicKey, accountId, secret), open: c.unwrapUserSecret, key: priv, wrong: other, id: accountId }
  ]
}

test('tampering: every flipped bit, truncation, label, key and id is rejected', async (t) => {
  for (const f of await formats()) {
    await t.test(f.name, async () => {
      await f.open(f.key, f.id, f.s)
      const parts = f.s.split('.')
      for (let i = 1; i < parts.length; i++) {
        const raw = c.fromBase64Url(parts[i])
        for (let bit = 0; bit < raw.length * 8; bit += f.name === 'user secret' ? 7 : 1) {
          const b = raw.slice()
          b[bit >> 3] ^= 1 << (bit & 7)
          const ps = parts.slice()
          ps[i] = c.toBase64Url(b)
          await rejects(() => f.open(f.key, f.id, ps.join('.')))
        }
      }
      for (let n = 0; n < f.s.length; n += 3) await rejects(() => f.open(f.key, f.id, f.s.slice(0, n)))
      const rest = f.s.slice(f.s.indexOf('.'))
      for (const label of ['a2', 'e2', 'A1', 'E1', 'p256', '']) await rejects(() => f.open(f.key, f.id, label + rest), 'MALFORMED')
      await rejects(() => f.open(f.key, f.id, f.s + '.AAAA'), 'MALFORMED')
      await rejects(() => f.open(f.key, f.id, f.s + '='), 'MALFORMED')
      await rejects(() => f.open(f.key, f.id + '0', f.s), 'DECRYPT')
      await rejects(() => f.open(f.key, '', f.s), 'DECRYPT')
      await rejects(() => f.open(f.wrong, f.id, f.s), 'DECRYPT')
    })
  }
})

test('base64url round trips and matches node', () => {
  for (let n = 0; n < 70; n++) {
    const b = c.randomBytes(n)
    const s = c.toBase64Url(b)
    assert.equal(s, Buffer.from(b).toString('base64url'))
    same(c.fromBase64Url(s), b)
  }
  for (const bad of ['=', 'AA==', 'A', 'AB', 'A+', 'A/', ' AA', 'AA\n', 'AA.', null, 5]) {
    assert.throws(() => c.fromBase64Url(bad), { name: 'CryptoError' })
  }
})

test('recovery codes round trip in every accepted spelling', () => {
  for (let i = 0; i < 100; i++) {
    const code = c.generateRecoveryCode()
    const s = c.formatRecoveryCode(code)
    assert.match(s, /^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$/)
    for (const v of [s, s.toLowerCase(), s.replaceAll('-', ' '), s.replaceAll('-', '')]) same(c.parseRecoveryCode(v), code)
  }
  assert.throws(() => c.formatRecoveryCode(new Uint8Array(19)), { code: 'MALFORMED' })
})

test('login keys refuse weak parameters and normalize to NFC', async () => {
  const salt = c.generateKdfSalt()
  await rejects(() => c.deriveLoginKeys('pw', salt, c.KDF_ITERATIONS - 1), 'WEAK_KDF')
  await rejects(() => c.deriveLoginKeys('pw', salt.slice(1), c.KDF_ITERATIONS), 'WEAK_KDF')
  await rejects(() => c.deriveLoginKeys('pw', salt, '600000'), 'WEAK_KDF')
  const a = await c.deriveLoginKeys('caf\u00e9', salt, c.KDF_ITERATIONS)
  const b = await c.deriveLoginKeys('cafe\u0301', salt, c.KDF_ITERATIONS)
  same(a.authKey, b.authKey)
  const loginKey = c.generateLoginKey()
  same(await c.unwrapLoginKey(b.wrapKey, 'l', await c.wrapLoginKey(a.wrapKey, 'l', loginKey)), loginKey)
  assert.equal(a.wrapKey.extractable, false)
})

test('account keys: the private key never leaves unless asked', async () => {
  const kek = c.generateKek()
  const pair = await c.generateAccountKeyPair()
  assert.match(pair.publicKey, /^p256\.[A-Za-z0-9_-]{87}$/)
  const enc = await c.encryptPrivateKey(kek, 'acct', pair.privateKey)
  const priv = await c.decryptPrivateKey(kek, 'acct', enc)
  assert.equal(priv.extractable, false)
  const secret = c.generateUserSecret()
  same(await c.unwrapUserSecret(priv, 'acct', await c.wrapUserSecret(pair.publicKey, 'acct', secret)), secret)
  await rejects(() => c.wrapUserSecret(pair.publicKey, 'acct', secret.slice(1)), 'MALFORMED')
  await rejects(() => c.importPrivateKey(new Uint8Array([48, 0])), 'MALFORMED')
})

test('ids', () => {
  const seen = new Set()
  for (let i = 0; i < 100; i++) {
    for (const id of [c.newKeyId(), c.newSessionId(), c.newUuid()]) {
      assert.ok(!seen.has(id))
      seen.add(id)
    }
    assert.match(c.newKeyId(), /^[0-9a-f]{32}$/)
    assert.match(c.newSessionId(), /^[0-9a-f]{32}$/)
    assert.match(c.newUuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  }
  assert.equal(c.randomBytes(70000).length, 70000)
})

test('invite keys wrap KEKs for the invitee', async () => {
  const inviteKey = c.generateInviteKey()
  const kek = c.generateKek()
  const inviter = await c.deriveInviteKeys(inviteKey)
  const invitee = await c.deriveInviteKeys(c.fromBase64Url(c.toBase64Url(inviteKey)))
  same(inviter.token, invitee.token)
  same(await c.unwrapKek(invitee.wrapKey, 'acct', await c.wrapKek(inviter.wrapKey, 'acct', kek)), kek)
})

test('decryptEvents: a batch gives each event what decryptEvent gives, errors in place', async () => {
  const accountId = c.newUuid()
  const secrets = [c.generateUserSecret(), c.generateUserSecret()]
  const keys = await Promise.all(secrets.map(s => c.importAesKey(s)))
  const events = [{ v: 1, href: 'https://a.test/ü' }, { v: 1, n: 2 }, { v: 1, n: 3 }]
  const good = await Promise.all(events.map((e, i) => c.encryptEvent(secrets[i % 2], accountId, e)))
  const tampered = good[0].slice(0, -2) + (good[0].endsWith('AA') ? 'AB' : 'AA')
  const notJson = await c.sealA1(secrets[0], 'offen/v1/event|' + accountId, new TextEncoder().encode('not json'))
  const nonCanonical = good[1].slice(0, -1) + String.fromCharCode(good[1].charCodeAt(good[1].length - 1) + 1)
  const inputs = [good[0], tampered, good[1], 'a1.short', good[2] + '.x', notJson, 42, good[2], good[1].replace('a1.', 'a2.'), nonCanonical]
  const keyOf = [0, 0, 1, 0, 0, 0, 0, 1 /* wrong key */, 1, 1]
  const got = await c.decryptEvents(accountId, keyOf.map(k => keys[k]), inputs)
  assert.equal(got.length, inputs.length)
  for (let i = 0; i < inputs.length; i++) {
    let want, err
    try {
      want = await c.decryptEvent(keys[keyOf[i]], accountId, inputs[i])
    } catch (e) {
      err = e
    }
    if (err) {
      assert.ok(got[i] instanceof c.CryptoError, `input ${i}: want an error`)
      assert.equal(got[i].code, err.code, `input ${i}`)
    } else {
      assert.deepEqual(got[i], want, `input ${i}`)
    }
  }
  assert.deepEqual(got[0], events[0])
  assert.ok(got[7] instanceof c.CryptoError && got[7].code === 'DECRYPT')
  assert.deepEqual(await c.decryptEvents(accountId, [], []), [])
})

test('unwrapUserSecret: the same with a private key that may only deriveBits', async () => {
  const accountId = c.newUuid()
  const { publicKey, privateKey } = await c.generateAccountKeyPair()
  const secret = c.generateUserSecret()
  const e1 = await c.wrapUserSecret(publicKey, accountId, secret)
  const both = await c.importPrivateKey(privateKey)
  assert.ok(both.usages.includes('deriveKey'))
  const bitsOnly = await globalThis.crypto.subtle.importKey('pkcs8', privateKey, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])
  same(await c.unwrapUserSecret(both, accountId, e1), secret)
  same(await c.unwrapUserSecret(bitsOnly, accountId, e1), secret)
  await rejects(() => c.unwrapUserSecret(bitsOnly, c.newUuid(), e1), 'DECRYPT')
})
