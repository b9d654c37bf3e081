// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator's key flows of PROTOCOL §2–§4, browser side, without any DOM: login,
// setup, reset, join, credential changes, accounts and invitations. Every function takes
// an `api` with `request(method, path, body)` (resolves with the parsed JSON or null for
// 204; rejects with an ApiError) and returns plain data, so the pages stay thin and the
// tests run the flows against an in-memory server with the real crypto module.
//
// Rules kept here: the password, master key, wrap key, login key, KEKs, recovery code and
// recovery key never enter a request; the invite key only when the server is asked to
// mail it. Every new wrapping is unwrapped again with its new key and compared before it
// is sent (the server cannot check wrappings, and a bad one would lock the login out).

import {
  CryptoError, KDF_ITERATIONS, toBase64Url, fromBase64Url, newUuid,
  deriveLoginKeys, generateKdfSalt, generateLoginKey, wrapLoginKey, unwrapLoginKey,
  generateRecoveryCode, formatRecoveryCode, parseRecoveryCode, deriveRecoveryKeys,
  recoveryWrapLoginKey, recoveryUnwrapLoginKey, generateKek, wrapKek, unwrapKek,
  generateAccountKeyPair, encryptPrivateKey, decryptPrivateKey, encryptLabel, decryptLabel,
  generateInviteKey, deriveInviteKeys
} from '../../../../keys/js/crypto.js'

/** The only password KDF a client accepts (PROTOCOL §2.2). */
export const KDF_ALG = 'pbkdf2-sha256'

/**
 * True for an error answer of the API (lib/api.js's ApiError: `status`, `message`,
 * `fields`, `retryAfter`; status 0 is a network failure).
 */
export const isApiError = (err) => !!err && err.name === 'ApiError' && typeof err.status === 'number'

// Requests where a 401 means a wrong password or the wrong login, not an ended session:
// the shell's API client then leaves the session alone.
const EXPECT_401 = { expect401: true }

/** A failed check on the client side; `code` names the problem for the UI. */
export class FlowError extends Error {
  constructor (code, message) {
    super(message || code)
    this.name = 'FlowError'
    this.code = code
  }
}

const equalBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i])

// checkKdf refuses any KDF weaker than PBKDF2-SHA256 with 600,000 iterations (the
// crypto module checks iterations and salt length again).
function checkKdf (kdf) {
  if (!kdf || kdf.alg !== KDF_ALG || !Number.isSafeInteger(kdf.iterations) || kdf.iterations < KDF_ITERATIONS) {
    throw new FlowError('weakKdf')
  }
  return fromBase64Url(kdf.salt)
}

/**
 * Derives the current auth key for re-authentication from the password and the
 * LoginState's KDF parameters; returns it base64url-encoded.
 */
export async function currentAuthKey (state, password) {
  const { authKey } = await deriveLoginKeys(password, checkKdf(state.kdf), state.kdf.iterations)
  return toBase64Url(authKey)
}

/**
 * Password credentials for loginId: a new salt, the auth key and the login key wrapped
 * under the new wrap key, verified by unwrapping. Returns the request part and the wrap
 * key to keep in IndexedDB.
 */
export async function passwordCredentials (loginId, password, loginKey) {
  const salt = generateKdfSalt()
  const { authKey, wrapKey } = await deriveLoginKeys(password, salt, KDF_ITERATIONS)
  const wrappedLoginKey = await wrapLoginKey(wrapKey, loginId, loginKey)
  if (!equalBytes(await unwrapLoginKey(wrapKey, loginId, wrappedLoginKey), loginKey)) throw new FlowError('verify')
  return { request: { salt: toBase64Url(salt), authKey: toBase64Url(authKey), wrappedLoginKey }, wrapKey }
}

/**
 * A new recovery code for loginId: the login key wrapped under its recovery key
 * (verified) and the proof. Returns the request part and the formatted code to show once.
 */
export async function recoveryCredentials (loginId, loginKey) {
  const code = generateRecoveryCode()
  const { recoveryKey, proof } = await deriveRecoveryKeys(code)
  const recoveryWrappedLoginKey = await recoveryWrapLoginKey(recoveryKey, loginId, loginKey)
  if (!equalBytes(await recoveryUnwrapLoginKey(recoveryKey, loginId, recoveryWrappedLoginKey), loginKey)) throw new FlowError('verify')
  return { request: { recoveryWrappedLoginKey, recoveryProof: toBase64Url(proof) }, recoveryCode: formatRecoveryCode(code) }
}

/** Full Credentials (PROTOCOL §7.1) for a password and a new recovery code. */
export async function newCredentials (loginId, password, loginKey) {
  const pw = await passwordCredentials(loginId, password, loginKey)
  const rc = await recoveryCredentials(loginId, loginKey)
  return { credentials: { ...pw.request, ...rc.request }, wrapKey: pw.wrapKey, recoveryCode: rc.recoveryCode }
}

/**
 * Unlocks a LoginState with the wrap key: the login key and the KEK of every active
 * grant. Grants whose KEK does not unwrap are left out and counted in `failed`.
 */
export async function unlock (state, wrapKey) {
  const loginKey = await unwrapLoginKey(wrapKey, state.loginId, state.wrappedLoginKey)
  return { loginKey, ...await unlockGrants(state, loginKey) }
}

/** The KEKs of a LoginState's active grants under a known login key: `{keks, failed}`. */
export async function unlockGrants (state, loginKey) {
  const keks = new Map()
  let failed = 0
  for (const g of state.grants || []) {
    if (g.state !== 'active' || !g.wrappedKek) continue
    try {
      keks.set(g.accountId, await unwrapKek(loginKey, g.accountId, g.wrappedKek))
    } catch {
      failed++
    }
  }
  return { keks, failed }
}

/** Login (PROTOCOL §4): salt, derivation, POST /api/login, unlock. */
export async function login (api, email, password) {
  const { kdf } = await api.request('POST', '/api/login/salt', { email })
  const salt = checkKdf(kdf)
  const { authKey, wrapKey } = await deriveLoginKeys(password, salt, kdf.iterations)
  const state = await api.request('POST', '/api/login', { email, authKey: toBase64Url(authKey) }, EXPECT_401)
  const keys = await unlock(state, wrapKey)
  return { state, wrapKey, ...keys }
}

// newAccountMaterial generates an account's id, key pair and KEK, encrypts the private
// key and the holder's label under the KEK and wraps the KEK under the login key, checking
// each wrapping by opening it again.
async function newAccountMaterial (loginKey, name, email) {
  const accountId = newUuid()
  const { publicKey, privateKey } = await generateAccountKeyPair()
  const kek = generateKek()
  const encryptedPrivateKey = await encryptPrivateKey(kek, accountId, privateKey)
  privateKey.fill(0)
  const wrappedKek = await wrapKek(loginKey, accountId, kek)
  const label = await encryptLabel(kek, accountId, email)
  if (!equalBytes(await unwrapKek(loginKey, accountId, wrappedKek), kek)) throw new FlowError('verify')
  await decryptPrivateKey(kek, accountId, encryptedPrivateKey)
  return { accountId, name, publicKey, encryptedPrivateKey, wrappedKek, label, kek }
}

/** GET /api/setup: `{required, loginId}`. */
export function setupStatus (api) {
  return api.request('GET', '/api/setup')
}

/**
 * Browser setup (PROTOCOL §4): login key, recovery code, account and every wrapping,
 * then POST /api/setup. Returns the LoginState, the unlocked keys, the wrap key and the
 * recovery code to show once.
 */
export async function setup (api, { setupToken, email, password, accountName }) {
  const status = await setupStatus(api)
  if (!status.required) throw new FlowError('setupDone')
  const loginId = status.loginId || newUuid()
  const loginKey = generateLoginKey()
  const { credentials, wrapKey, recoveryCode } = await newCredentials(loginId, password, loginKey)
  const a = await newAccountMaterial(loginKey, accountName, email)
  const state = await api.request('POST', '/api/setup', {
    setupToken,
    loginId,
    email,
    credentials,
    account: { accountId: a.accountId, name: a.name, publicKey: a.publicKey, encryptedPrivateKey: a.encryptedPrivateKey },
    grant: { wrappedKek: a.wrappedKek, label: a.label }
  })
  const keys = await unlock(state, wrapKey)
  return { state, wrapKey, recoveryCode, ...keys }
}

/** POST /api/forgot-password; the answer never depends on the address. The mail is written in `locale` where possible. */
export async function forgotPassword (api, email, locale) {
  await api.request('POST', '/api/forgot-password', locale ? { email, locale } : { email })
}

/** POST /api/reset-password/lookup: `{loginId, recoveryWrappedLoginKey, grants}`. */
export function resetLookup (api, token) {
  return api.request('POST', '/api/reset-password/lookup', { token })
}

/**
 * Reset (PROTOCOL §4). With the recovery code the old login key is recovered (a wrong
 * code fails as FlowError 'wrongCode' before anything is sent) and re-wrapped, so every
 * grant stays; without it a new login key is made and the grants become `reshare`.
 * Returns the LoginState, keys, wrap key, the new recovery code and, without the code,
 * the accounts that an admin must share again.
 */
export async function resetPassword (api, { token, lookup, password, recoveryCode }) {
  const loginId = lookup.loginId
  let loginKey
  let recoveryProof
  if (recoveryCode) {
    let code
    try {
      code = parseRecoveryCode(recoveryCode)
    } catch {
      throw new FlowError('malformedCode')
    }
    const { recoveryKey, proof } = await deriveRecoveryKeys(code)
    try {
      loginKey = await recoveryUnwrapLoginKey(recoveryKey, loginId, lookup.recoveryWrappedLoginKey)
    } catch (err) {
      if (err instanceof CryptoError) throw new FlowError('wrongCode')
      throw err
    }
    recoveryProof = toBase64Url(proof)
  } else {
    loginKey = generateLoginKey()
  }
  const creds = await newCredentials(loginId, password, loginKey)
  const body = { token, credentials: creds.credentials }
  if (recoveryProof) body.recoveryProof = recoveryProof
  let state
  try {
    state = await api.request('POST', '/api/reset-password', body)
  } catch (err) {
    if (isApiError(err) && err.status === 403) throw new FlowError('wrongCode')
    throw err
  }
  const keys = await unlock(state, creds.wrapKey)
  const reshare = recoveryCode
    ? []
    : (state.grants || []).filter((g) => g.state === 'reshare').map((g) => ({ accountId: g.accountId, name: g.name }))
  return { state, wrapKey: creds.wrapKey, recoveryCode: creds.recoveryCode, reshare, ...keys }
}

/** Decodes the invite key of a join link's fragment (32 bytes base64url) and derives the token. */
export async function inviteFromFragment (fragment) {
  let key
  try {
    key = fromBase64Url(fragment)
  } catch {
    throw new FlowError('badLink')
  }
  if (key.length !== 32) throw new FlowError('badLink')
  const { wrapKey, token } = await deriveInviteKeys(key)
  return { inviteWrapKey: wrapKey, token: toBase64Url(token) }
}

/** POST /api/join/lookup: `{loginId, existingLogin, grants: [{accountId, name, role, inviteWrappedKek}]}`. */
export function joinLookup (api, token) {
  return api.request('POST', '/api/join/lookup', { token })
}

/**
 * Join (PROTOCOL §4). The invited KEKs are unwrapped with the invite wrap key and wrapped
 * again under the login key (verified). A new login (`password` given) also gets a login
 * key, a recovery code and credentials; an existing one passes its unlocked `loginKey`
 * and must be signed in as the invitee.
 */
export async function join (api, { token, inviteWrapKey, lookup, password, loginKey }) {
  const fresh = !lookup.existingLogin
  if (fresh) loginKey = generateLoginKey()
  if (!loginKey) throw new FlowError('signIn')
  const grants = []
  for (const g of lookup.grants) {
    let kek
    try {
      kek = await unwrapKek(inviteWrapKey, g.accountId, g.inviteWrappedKek)
    } catch {
      throw new FlowError('badLink')
    }
    const wrappedKek = await wrapKek(loginKey, g.accountId, kek)
    if (!equalBytes(await unwrapKek(loginKey, g.accountId, wrappedKek), kek)) throw new FlowError('verify')
    grants.push({ accountId: g.accountId, wrappedKek })
  }
  const body = { token, grants }
  let creds
  if (fresh) {
    creds = await newCredentials(lookup.loginId, password, loginKey)
    body.credentials = creds.credentials
  }
  const state = await api.request('POST', '/api/join', body, EXPECT_401)
  const out = { state, recoveryCode: creds ? creds.recoveryCode : null, wrapKey: creds ? creds.wrapKey : null }
  Object.assign(out, creds ? await unlock(state, creds.wrapKey) : { loginKey, ...await unlockGrants(state, loginKey) })
  return out
}

/**
 * Change password (PROTOCOL §4): re-authentication, a new salt and wrap key, the same
 * login key re-wrapped. Every other session is revoked by the server.
 */
export async function changePassword (api, { state, loginKey, currentPassword, newPassword }) {
  const current = await currentAuthKey(state, currentPassword)
  const pw = await passwordCredentials(state.loginId, newPassword, loginKey)
  const next = await api.request('POST', '/api/change-password', { currentAuthKey: current, credentials: pw.request }, EXPECT_401)
  return { state: next, wrapKey: pw.wrapKey }
}

/** Change e-mail: the grant labels re-encrypted under each active grant's KEK. */
export async function changeEmail (api, { state, keks, password, email }) {
  const current = await currentAuthKey(state, password)
  const labels = []
  for (const [accountId, kek] of keks) labels.push({ accountId, label: await encryptLabel(kek, accountId, email) })
  await api.request('POST', '/api/change-email', { currentAuthKey: current, email, labels }, EXPECT_401)
}

/** A new recovery code; returns the formatted code to show once. */
export async function regenerateRecoveryCode (api, { state, loginKey, password }) {
  const current = await currentAuthKey(state, password)
  const rc = await recoveryCredentials(state.loginId, loginKey)
  await api.request('POST', '/api/recovery-code', { currentAuthKey: current, ...rc.request }, EXPECT_401)
  return rc.recoveryCode
}

/** GET /api/accounts: the caller's accounts. */
export async function listAccounts (api) {
  return (await api.request('GET', '/api/accounts')).accounts
}

/** Creates an account (PROTOCOL §4 "Accounts"); returns the Account and its KEK. */
export async function createAccount (api, { loginKey, name, email }) {
  const a = await newAccountMaterial(loginKey, name, email)
  const account = await api.request('POST', '/api/accounts', {
    accountId: a.accountId, name: a.name, publicKey: a.publicKey, encryptedPrivateKey: a.encryptedPrivateKey, wrappedKek: a.wrappedKek, label: a.label
  })
  return { account, kek: a.kek }
}

/** Retires an account after re-authentication. */
export async function retireAccount (api, { state, accountId, password }) {
  const current = await currentAuthKey(state, password)
  await api.request('POST', `/api/accounts/${accountId}/retire`, { currentAuthKey: current }, EXPECT_401)
}

/**
 * Invites an address to accounts (PROTOCOL §4): a new invite key, the KEK of each account
 * wrapped under the invite wrap key, the address as the grant label. `grants` is
 * `[{accountId, role}]`; `keks` maps account ids to KEKs. Returns the join link with the
 * invite key in its fragment and the expiry.
 */
export async function invite (api, { email, grants, keks, sendEmail, locale }) {
  const inviteKey = generateInviteKey()
  const { wrapKey, token } = await deriveInviteKeys(inviteKey)
  const out = []
  for (const g of grants) {
    const kek = keks.get(g.accountId)
    if (!kek) throw new FlowError('noKey')
    const inviteWrappedKek = await wrapKek(wrapKey, g.accountId, kek)
    if (!equalBytes(await unwrapKek(wrapKey, g.accountId, inviteWrappedKek), kek)) throw new FlowError('verify')
    out.push({ accountId: g.accountId, role: g.role, inviteWrappedKek, label: await encryptLabel(kek, g.accountId, email) })
  }
  const body = { email, token: toBase64Url(token), grants: out, sendEmail: !!sendEmail }
  if (sendEmail) body.inviteKey = toBase64Url(inviteKey)
  if (sendEmail && locale) body.locale = locale
  const res = await api.request('POST', '/api/invitations', body)
  return { joinLink: res.joinUrl + '#' + toBase64Url(inviteKey), expiresAt: res.expiresAt }
}

/** Lists an account's grants with their labels decrypted (null when a label does not open). */
export async function listGrants (api, { accountId, kek }) {
  const { grants } = await api.request('GET', `/api/accounts/${accountId}/grants`)
  const out = []
  for (const g of grants) {
    let email = null
    if (kek && g.label) {
      try {
        email = await decryptLabel(kek, accountId, g.label)
      } catch {}
    }
    out.push({ ...g, email })
  }
  return out
}

/**
 * The signed-in login's own address, read from its label on one of its accounts (the
 * server keeps no address). Null when no label opens.
 */
export async function ownEmail (api, { state, keks }) {
  for (const [accountId, kek] of keks) {
    try {
      const grants = await listGrants(api, { accountId, kek })
      const own = grants.find((g) => g.loginId === state.loginId && g.email)
      if (own) return own.email
    } catch {}
  }
  return null
}
