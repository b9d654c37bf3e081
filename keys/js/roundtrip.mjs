// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Cross-language round trip, driven by keys/crosslang_test.go: reads what Go
// made (JSON on stdin), decrypts every format, encrypts every format itself
// and writes both as JSON on stdout for Go to check.

import * as c from './crypto.js'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const go = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const b = c.fromBase64Url
const e = c.toBase64Url
const utf8 = new TextEncoder()

const { accountId, loginId } = go
const kek = b(go.kek)
const loginKey = b(go.loginKey)
const userSecret = b(go.userSecret)
const inviteKey = b(go.inviteKey)
const code = c.parseRecoveryCode(go.recoveryCodeFormatted)

// What JS reads from Go.
const { authKey, wrapKey } = await c.deriveLoginKeys(go.password, b(go.salt), go.iterations)
const { recoveryKey, proof } = await c.deriveRecoveryKeys(code)
const invite = await c.deriveInviteKeys(inviteKey)
const goPrivate = await c.decryptPrivateKey(kek, accountId, go.encryptedPrivateKey, true)
const jwk = await globalThis.crypto.subtle.exportKey('jwk', goPrivate)
const read = {
  authKey: e(authKey),
  recoveryCode: e(code),
  recoveryProof: e(proof),
  inviteToken: e(invite.token),
  loginKey: e(await c.unwrapLoginKey(wrapKey, loginId, go.wrappedLoginKey)),
  recoveryLoginKey: e(await c.recoveryUnwrapLoginKey(recoveryKey, loginId, go.recoveryWrappedLoginKey)),
  kek: e(await c.unwrapKek(loginKey, accountId, go.wrappedKek)),
  inviteKek: e(await c.unwrapKek(invite.wrapKey, accountId, go.inviteWrappedKek)),
  privateKeyPublic: 'p256.' + e(new Uint8Array([4, ...b(jwk.x), ...b(jwk.y)])),
  userSecret: e(await c.unwrapUserSecret(goPrivate, accountId, go.wrappedSecret)),
  event: e(utf8.encode(JSON.stringify(await c.decryptEvent(userSecret, accountId, go.event)))),
  label: await c.decryptLabel(kek, accountId, go.label),
  certificate: e(await c.openA1(b(go.certificatesKey), 'offen/v1/certificate|' + go.certificateName, go.certificate))
}

// What JS makes for Go.
const pair = await c.generateAccountKeyPair()
const made = {
  accountPublicKey: pair.publicKey,
  accountPrivateKey: e(pair.privateKey),
  wrappedSecretForGo: await c.wrapUserSecret(go.publicKey, accountId, userSecret),
  wrappedSecretForJs: await c.wrapUserSecret(pair.publicKey, accountId, userSecret),
  encryptedPrivateKey: await c.encryptPrivateKey(kek, accountId, pair.privateKey),
  event: await c.encryptEvent(userSecret, accountId, JSON.parse(go.eventJson)),
  wrappedLoginKey: await c.wrapLoginKey(wrapKey, loginId, loginKey),
  recoveryWrappedLoginKey: await c.recoveryWrapLoginKey(recoveryKey, loginId, loginKey),
  wrappedKek: await c.wrapKek(loginKey, accountId, kek),
  inviteWrappedKek: await c.wrapKek(invite.wrapKey, accountId, kek),
  label: await c.encryptLabel(kek, accountId, go.labelText),
  certificate: await c.sealA1(b(go.certificatesKey), 'offen/v1/certificate|' + go.certificateName, utf8.encode(go.certificateText)),
  recoveryCodeFormatted: c.formatRecoveryCode(code),
  newRecoveryCode: c.formatRecoveryCode(c.generateRecoveryCode()),
  keyId: c.newKeyId(),
  sessionId: c.newSessionId(),
  uuid: c.newUuid()
}

process.stdout.write(JSON.stringify({ read, made }))
