// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator key flows against the in-memory API with the real crypto module: every
// wrapping the browser sends is opened again here with keys derived independently from
// what the user holds (password, recovery code, invite link), and no secret appears in
// any request body.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  deriveLoginKeys, unwrapLoginKey, parseRecoveryCode, deriveRecoveryKeys, recoveryUnwrapLoginKey,
  unwrapKek, decryptPrivateKey, decryptLabel, fromBase64Url, toBase64Url, generateUserSecret,
  wrapUserSecret, unwrapUserSecret, deriveInviteKeys
} from '../../../keys/js/crypto.js'
import * as flows from '../../src/pages/auth/flows.js'
import { createFakeApi } from './fake-api.js'

const PASSWORD = 'correct horse battery staple'
const EMAIL = 'admin@example.org'

async function loginKeyOf (fake, loginId, password) {
  const l = fake.db.logins.get(loginId)
  const { authKey, wrapKey } = await deriveLoginKeys(password, fromBase64Url(l.salt), 600000)
  assert.equal(toBase64Url(authKey), l.authKey, 'auth key derives from the password')
  return unwrapLoginKey(wrapKey, loginId, l.wrappedLoginKey)
}

async function loginKeyByCode (fake, loginId, code) {
  const l = fake.db.logins.get(loginId)
  const { recoveryKey, proof } = await deriveRecoveryKeys(parseRecoveryCode(code))
  assert.equal(toBase64Url(proof), l.recoveryProof, 'proof derives from the code')
  return recoveryUnwrapLoginKey(recoveryKey, loginId, l.recoveryWrappedLoginKey)
}

function assertNoSecret (fake, ...secrets) {
  const bodies = fake.bodies()
  for (const s of secrets) {
    if (typeof s === 'string') {
      assert.ok(!bodies.includes(s), 'request bodies leak ' + s.slice(0, 12))
    } else {
      for (const enc of [toBase64Url(s), Buffer.from(s).toString('hex'), Buffer.from(s).toString('base64')]) {
        assert.ok(!bodies.includes(enc), 'request bodies leak a key')
      }
    }
  }
}

async function setUp () {
  const fake = createFakeApi()
  const r = await flows.setup(fake, { setupToken: 'setup-token', email: EMAIL, password: PASSWORD, accountName: 'example.org' })
  return { fake, r, accountId: r.state.grants[0].accountId }
}

test('setup produces credentials and an account that open with what the user holds', async () => {
  const { fake, r, accountId } = await setUp()
  const loginId = r.state.loginId
  assert.equal(loginId, fake.db.setupLoginId, 'the login id of GET /api/setup is used in the AAD')
  const byPassword = await loginKeyOf(fake, loginId, PASSWORD)
  assert.deepEqual(byPassword, r.loginKey)
  assert.deepEqual(await loginKeyByCode(fake, loginId, r.recoveryCode), r.loginKey)
  assert.match(r.recoveryCode, /^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$/)

  const g = fake.db.grants[0]
  assert.equal(g.role, 'admin')
  const kek = await unwrapKek(byPassword, accountId, g.wrappedKek)
  assert.deepEqual(kek, r.keks.get(accountId))
  assert.equal(await decryptLabel(kek, accountId, g.label), EMAIL)
  const a = fake.db.accounts.get(accountId)
  assert.equal(a.name, 'example.org')
  const priv = await decryptPrivateKey(kek, accountId, a.encryptedPrivateKey)
  const secret = generateUserSecret()
  assert.deepEqual(await unwrapUserSecret(priv, accountId, await wrapUserSecret(a.publicKey, accountId, secret)), secret, 'key pair matches')

  assertNoSecret(fake, PASSWORD, r.recoveryCode, r.loginKey, kek)
  const body = fake.requests.find((x) => x.method === 'POST' && x.path === '/api/setup').body
  assert.deepEqual(Object.keys(body).sort(), ['account', 'credentials', 'email', 'grant', 'loginId', 'setupToken'])
  assert.deepEqual(Object.keys(body.credentials).sort(), ['authKey', 'recoveryProof', 'recoveryWrappedLoginKey', 'salt', 'wrappedLoginKey'])
})

test('setup refuses a wrong token and a finished instance', async () => {
  const fake = createFakeApi()
  await assert.rejects(flows.setup(fake, { setupToken: 'nope', email: EMAIL, password: PASSWORD, accountName: 'x' }), { status: 403 })
  await flows.setup(fake, { setupToken: 'setup-token', email: EMAIL, password: PASSWORD, accountName: 'x' })
  await assert.rejects(flows.setup(fake, { setupToken: 'setup-token', email: EMAIL, password: PASSWORD, accountName: 'x' }), { code: 'setupDone' })
})

test('login unlocks the login key and KEKs; a wrong password is a 401', async () => {
  const { fake, r, accountId } = await setUp()
  fake.session = null
  const l = await flows.login(fake, EMAIL, PASSWORD)
  assert.deepEqual(l.loginKey, r.loginKey)
  assert.deepEqual(l.keks.get(accountId), r.keks.get(accountId))
  await assert.rejects(flows.login(fake, EMAIL, 'wrong password!!'), { status: 401 })
  assertNoSecret(fake, PASSWORD, 'wrong password!!')
})

test('login refuses weak KDF parameters before sending anything derived', async () => {
  const { fake } = await setUp()
  const weak = { ...fake, request: async (m, p, b) => p === '/api/login/salt' ? { kdf: { alg: 'pbkdf2-sha256', iterations: 1000, salt: toBase64Url(new Uint8Array(16)) } } : fake.request(m, p, b) }
  fake.requests.length = 0
  await assert.rejects(flows.login(weak, EMAIL, PASSWORD), { code: 'weakKdf' })
  assert.equal(fake.requests.length, 0)
})

test('change password keeps the login key and the grants', async () => {
  const { fake, r, accountId } = await setUp()
  const before = fake.db.grants[0].wrappedKek
  const out = await flows.changePassword(fake, { state: r.state, loginKey: r.loginKey, currentPassword: PASSWORD, newPassword: 'a new passphrase for offen' })
  assert.deepEqual(await loginKeyOf(fake, r.state.loginId, 'a new passphrase for offen'), r.loginKey)
  assert.deepEqual(await unwrapLoginKey(out.wrapKey, r.state.loginId, out.state.wrappedLoginKey), r.loginKey)
  assert.equal(fake.db.grants[0].wrappedKek, before)
  assert.deepEqual(await loginKeyByCode(fake, r.state.loginId, r.recoveryCode), r.loginKey, 'the recovery code still works')
  await assert.rejects(flows.changePassword(fake, { state: out.state, loginKey: r.loginKey, currentPassword: PASSWORD, newPassword: 'x'.repeat(12) }), { status: 401 })
  assertNoSecret(fake, PASSWORD, 'a new passphrase for offen', r.loginKey)
  void accountId
})

test('a new recovery code wraps the same login key', async () => {
  const { fake, r } = await setUp()
  const code = await flows.regenerateRecoveryCode(fake, { state: r.state, loginKey: r.loginKey, password: PASSWORD })
  assert.notEqual(code, r.recoveryCode)
  assert.deepEqual(await loginKeyByCode(fake, r.state.loginId, code), r.loginKey)
  await assert.rejects(loginKeyByCode(fake, r.state.loginId, r.recoveryCode))
  assertNoSecret(fake, code, r.recoveryCode)
})

test('change e-mail re-encrypts the grant labels', async () => {
  const { fake, r, accountId } = await setUp()
  await flows.changeEmail(fake, { state: r.state, keks: r.keks, password: PASSWORD, email: 'new@example.org' })
  assert.equal(await decryptLabel(r.keks.get(accountId), accountId, fake.db.grants[0].label), 'new@example.org')
  assert.equal(await flows.ownEmail(fake, { state: r.state, keks: r.keks }), 'new@example.org')
})

test('reset with the recovery code keeps the login key and every grant', async () => {
  const { fake, r, accountId } = await setUp()
  fake.session = null
  await flows.forgotPassword(fake, EMAIL)
  const token = fake.db.mails.at(-1).link.split('#')[1]
  const lookup = await flows.resetLookup(fake, token)
  await assert.rejects(flows.resetPassword(fake, { token, lookup, password: 'another long passphrase', recoveryCode: '0000-0000-0000-0000-0000-0000-0000-0000' }), { code: 'wrongCode' })
  assert.ok(!fake.requests.some((x) => x.path === '/api/reset-password'), 'a wrong code sends nothing')
  await assert.rejects(flows.resetPassword(fake, { token, lookup, password: 'another long passphrase', recoveryCode: 'not a code' }), { code: 'malformedCode' })
  const out = await flows.resetPassword(fake, { token, lookup, password: 'another long passphrase', recoveryCode: r.recoveryCode.toLowerCase().replace(/-/g, ' ') })
  assert.deepEqual(out.loginKey, r.loginKey)
  assert.deepEqual(out.keks.get(accountId), r.keks.get(accountId))
  assert.deepEqual(out.reshare, [])
  assert.deepEqual(await loginKeyOf(fake, r.state.loginId, 'another long passphrase'), r.loginKey)
  assert.deepEqual(await loginKeyByCode(fake, r.state.loginId, out.recoveryCode), r.loginKey)
  assertNoSecret(fake, r.recoveryCode, out.recoveryCode, 'another long passphrase', r.loginKey)
  await assert.rejects(flows.resetLookup(fake, token), { status: 404 }, 'the token is used up')
})

test('reset without the code makes a new login key and names the accounts to share again', async () => {
  const { fake, r } = await setUp()
  await flows.forgotPassword(fake, EMAIL)
  const token = fake.db.mails.at(-1).link.split('#')[1]
  const lookup = await flows.resetLookup(fake, token)
  assert.deepEqual(lookup.grants.map((g) => g.name), ['example.org'])
  const out = await flows.resetPassword(fake, { token, lookup, password: 'another long passphrase' })
  assert.notDeepEqual(out.loginKey, r.loginKey)
  assert.deepEqual(out.reshare.map((a) => a.name), ['example.org'])
  assert.equal(out.keks.size, 0)
  assert.deepEqual(await loginKeyOf(fake, r.state.loginId, 'another long passphrase'), out.loginKey)
  assert.ok(!fake.requests.find((x) => x.path === '/api/reset-password').body.recoveryProof)
})

test('invite and join as a new login re-wrap the KEK under the new login key', async () => {
  const { fake, r, accountId } = await setUp()
  const inv = await flows.invite(fake, { email: 'colleague@example.org', grants: [{ accountId, role: 'viewer' }], keks: r.keks, sendEmail: false })
  const [base, key] = inv.joinLink.split('#')
  assert.equal(base, 'http://offen.test/join/')
  assertNoSecret(fake, key, fromBase64Url(key), r.keks.get(accountId))
  const { token } = await deriveInviteKeys(fromBase64Url(key))
  assert.equal(fake.requests.at(-1).body.token, toBase64Url(token))
  assert.equal(fake.requests.at(-1).body.inviteKey, undefined)

  fake.session = null
  const invite = await flows.inviteFromFragment(key)
  const lookup = await flows.joinLookup(fake, invite.token)
  assert.equal(lookup.existingLogin, false)
  const out = await flows.join(fake, { token: invite.token, inviteWrapKey: invite.inviteWrapKey, lookup, password: 'colleague passphrase here' })
  const loginId = lookup.loginId
  const loginKey = await loginKeyOf(fake, loginId, 'colleague passphrase here')
  assert.deepEqual(loginKey, out.loginKey)
  assert.deepEqual(await loginKeyByCode(fake, loginId, out.recoveryCode), loginKey)
  const g = fake.db.grants.find((x) => x.loginId === loginId)
  assert.equal(g.role, 'viewer')
  assert.deepEqual(await unwrapKek(loginKey, accountId, g.wrappedKek), r.keks.get(accountId))
  assert.equal(await decryptLabel(r.keks.get(accountId), accountId, g.label), 'colleague@example.org')
  assertNoSecret(fake, key, fromBase64Url(key), 'colleague passphrase here', out.recoveryCode, loginKey)
})

test('an e-mailed invitation carries the invite key; joining as an existing login needs its session', async () => {
  const { fake, r, accountId } = await setUp()
  // A second login with its own account, then invited to the first account.
  const inv1 = await flows.invite(fake, { email: 'b@example.org', grants: [{ accountId, role: 'admin' }], keks: r.keks, sendEmail: true })
  const key1 = inv1.joinLink.split('#')[1]
  assert.equal(fake.requests.at(-1).body.inviteKey, key1)
  assert.equal(fake.db.mails.at(-1).link, inv1.joinLink)
  const i1 = await flows.inviteFromFragment(key1)
  const b = await flows.join(fake, { token: i1.token, inviteWrapKey: i1.inviteWrapKey, lookup: await flows.joinLookup(fake, i1.token), password: 'second login passphrase' })
  const own = await flows.createAccount(fake, { loginKey: b.loginKey, name: 'b.example.org', email: 'b@example.org' })
  const bAccount = own.account.accountId
  assert.deepEqual(await unwrapKek(b.loginKey, bAccount, fake.db.grants.find((g) => g.accountId === bAccount).wrappedKek), own.kek)

  // b shares its account with the first login, which already exists.
  const inv2 = await flows.invite(fake, { email: EMAIL, grants: [{ accountId: bAccount, role: 'viewer' }], keks: new Map([[bAccount, own.kek]]), sendEmail: false })
  const i2 = await flows.inviteFromFragment(inv2.joinLink.split('#')[1])
  const lookup = await flows.joinLookup(fake, i2.token)
  assert.equal(lookup.existingLogin, true)
  await assert.rejects(flows.join(fake, { token: i2.token, inviteWrapKey: i2.inviteWrapKey, lookup, loginKey: r.loginKey }), { status: 401 }, 'signed in as b')
  const a = await flows.login(fake, EMAIL, PASSWORD)
  const out = await flows.join(fake, { token: i2.token, inviteWrapKey: i2.inviteWrapKey, lookup, loginKey: a.loginKey })
  assert.equal(out.recoveryCode, null)
  assert.deepEqual(out.keks.get(bAccount), own.kek)
  assert.ok(!fake.requests.at(-1).body.credentials)
})

test('a damaged invite link is refused before any request', async () => {
  await assert.rejects(flows.inviteFromFragment('short'), { code: 'badLink' })
  await assert.rejects(flows.inviteFromFragment('!!!'), { code: 'badLink' })
})

test('grants list decrypts labels; the last admin cannot leave', async () => {
  const { fake, r, accountId } = await setUp()
  const grants = await flows.listGrants(fake, { accountId, kek: r.keks.get(accountId) })
  assert.equal(grants.length, 1)
  assert.equal(grants[0].email, EMAIL)
  await assert.rejects(fake.request('DELETE', `/api/accounts/${accountId}/grants/${r.state.loginId}`, {}), { status: 409 })
})

test('retire needs the password', async () => {
  const { fake, r, accountId } = await setUp()
  await assert.rejects(flows.retireAccount(fake, { state: r.state, accountId, password: 'not my password' }), { status: 401 })
  await flows.retireAccount(fake, { state: r.state, accountId, password: PASSWORD })
  assert.deepEqual(await flows.listAccounts(fake), [])
})
