// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The shared vectors (keys/testdata/vectors.json) through the vault's own path: the user
// secret as the non-extractable CryptoKey kept in IndexedDB, and the e1 wrapping sent in
// the exchange. keys/js checks every vector kind; this checks what the vault relies on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as keys from '../src/crypto.js'

const { vectors } = JSON.parse(readFileSync(new URL('../../keys/testdata/vectors.json', import.meta.url), 'utf8'))
const b = keys.fromBase64Url

test('event vectors with the stored non-extractable key', async () => {
  const events = vectors.filter((v) => v.kind === 'a1' && v.purpose === 'event')
  assert.ok(events.some((v) => v.valid) && events.some((v) => !v.valid))
  for (const v of events) {
    const key = await keys.importAesKey(b(v.key))
    assert.equal(key.extractable, false)
    if (v.valid) {
      assert.deepEqual(await keys.decryptEvent(key, v.id, v.ciphertext), JSON.parse(new TextDecoder().decode(b(v.plaintext))), v.name)
      assert.equal(await keys.encryptEvent(key, v.id, JSON.parse(new TextDecoder().decode(b(v.plaintext))), b(v.nonce)), v.ciphertext, v.name)
    } else {
      await assert.rejects(keys.decryptEvent(key, v.id, v.ciphertext), v.name)
    }
  }
})

test('e1 user secret vectors', async () => {
  const e1 = vectors.filter((v) => v.kind === 'e1' && v.valid)
  assert.ok(e1.length)
  for (const v of e1) {
    const got = await keys.wrapUserSecret(v.accountPublicKey, v.accountId, b(v.secret), { ephemeralPkcs8: b(v.ephemeralPrivateKey), nonce: b(v.nonce) })
    assert.equal(got, v.ciphertext, v.name)
  }
})
