// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator's session and keys (PROTOCOL §3.4, §4 Login). The `login` cookie is HttpOnly,
// so the state comes from the server (POST /api/login, GET /api/login). The wrap key is kept
// as a non-extractable CryptoKey in IndexedDB (store wrapKeys, keyed by login id) so reloads
// and new tabs need no password. Login key, KEKs and account private keys are unwrapped into
// memory only and dropped on logout. The wrap key is deleted on logout, on a 401 from
// GET /api/login and when another login signs in.

import {
  decryptPrivateKey,
  deriveLoginKeys,
  fromBase64Url,
  toBase64Url,
  unwrapKek,
  unwrapLoginKey
} from '../../../keys/js/crypto.js'
import { DB_NAME, WRAP_KEYS, createStorage, transact } from '../../../script/src/storage.js'

/**
 * Session states:
 *   unknown        not asked yet (restore() pending)
 *   anonymous      no valid login cookie
 *   locked         signed in, but this browser has no wrap key (password needed to unlock)
 *   ready          signed in with the login key and KEKs of the active grants in memory
 */
export const UNKNOWN = 'unknown'
export const ANONYMOUS = 'anonymous'
export const LOCKED = 'locked'
export const READY = 'ready'

/**
 * createSession({api, factory}) returns the session service:
 *   state                  {status, login: LoginState|null}
 *   subscribe(fn)          fn(state) after every change; returns the unsubscribe function
 *   restore()              GET /api/login and unlock with the stored wrap key
 *   login(email, password) salt, key derivation, POST /api/login, unlock
 *   unlock(password)       for `locked`: derives the wrap key again from the password
 *   adopt(loginState, wrapKey)  for setup, join and reset pages: they derived the keys and
 *                          got a LoginState with the cookie; store the wrap key and unlock
 *   refresh()              GET /api/login again (grants changed) and re-unwrap
 *   logout()               POST /api/logout, forget keys and caches
 *   forget()               the same without the request (after a 401)
 *   loginKey()             Uint8Array (console: re-wrapping on credential changes)
 *   kek(accountId)         Uint8Array or null
 *   account(accountId)     {account, privateKey}: GET /api/accounts/{id}, private key
 *                          decrypted with the KEK and imported non-extractable (memoised)
 *   onForget(fn)           fn(loginId) runs when keys are forgotten (cache cleanup)
 */
// hasDatabase tells whether the `offen` database exists (true where the factory cannot say).
async function hasDatabase (factory) {
  if (!factory) return false
  if (typeof factory.databases !== 'function') return true
  try {
    return (await factory.databases()).some((d) => d.name === DB_NAME)
  } catch {
    return true
  }
}

export function createSession ({ api, factory = globalThis.indexedDB } = {}) {
  const storage = factory ? createStorage(factory) : null
  const listeners = new Set()
  const forgetHooks = new Set()
  let state = { status: UNKNOWN, login: null }
  let keys = { loginKey: null, keks: new Map(), accounts: new Map() }

  const set = (next) => {
    state = next
    for (const fn of listeners) fn(state)
  }

  async function clearOtherWrapKeys (loginId) {
    if (!storage) return
    await transact(factory, WRAP_KEYS, 'readwrite', (s) => {
      const req = s[WRAP_KEYS].openKeyCursor()
      req.onsuccess = () => {
        const c = req.result
        if (!c) return
        if (c.primaryKey !== loginId) s[WRAP_KEYS].delete(c.primaryKey)
        c.continue()
      }
    })
  }

  async function unwrapAll (login, wrapKey) {
    const loginKey = await unwrapLoginKey(wrapKey, login.loginId, login.wrappedLoginKey)
    const keks = new Map()
    for (const g of login.grants || []) {
      if (g.state !== 'active' || !g.wrappedKek) continue
      try {
        keks.set(g.accountId, await unwrapKek(loginKey, g.accountId, g.wrappedKek))
      } catch {
        // A grant whose KEK does not unwrap is unusable; the console shows it as such.
      }
    }
    keys = { loginKey, keks, accounts: new Map() }
  }

  async function forget (loginId = state.login && state.login.loginId) {
    keys = { loginKey: null, keks: new Map(), accounts: new Map() }
    for (const fn of forgetHooks) {
      try {
        await fn(loginId)
      } catch {}
    }
    if (storage && loginId) {
      try {
        await storage.deleteWrapKey(loginId)
      } catch {}
    }
    set({ status: ANONYMOUS, login: null })
  }

  // adoptions counts sign-ins, so that a restore() that learned "signed out"
  // before a sign-in completed does not wipe the keys stored by it.
  let adoptions = 0

  async function adopt (login, wrapKey) {
    adoptions++
    await unwrapAll(login, wrapKey)
    if (storage) {
      await storage.putWrapKey(login.loginId, wrapKey)
      await clearOtherWrapKeys(login.loginId)
    }
    set({ status: READY, login })
    return state
  }

  async function derive (email, password, kdf) {
    if (!kdf || kdf.alg !== 'pbkdf2-sha256') throw new Error('unsupported key derivation')
    return deriveLoginKeys(password, fromBase64Url(kdf.salt), kdf.iterations)
  }

  const service = {
    get state () { return state },
    subscribe (fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    onForget (fn) {
      forgetHooks.add(fn)
      return () => forgetHooks.delete(fn)
    },
    async restore () {
      const before = adoptions
      let login
      try {
        login = await api.get('/api/login', { expect401: true })
      } catch (err) {
        if (err && err.status === 401) {
          if (adoptions !== before) return state // signed in meanwhile
          // A browser that never stored a wrap key has nothing to forget: do not create
          // the database on every signed-out page (an upgrade cut short by navigating
          // away can leave Chromium's IndexedDB stuck for the next open).
          if (!(await hasDatabase(factory))) {
            if (adoptions === before) set({ status: ANONYMOUS, login: null })
            return state
          }
          if (adoptions !== before) return state
          await forget(null)
          if (storage && adoptions === before) await clearOtherWrapKeys(null)
          return state
        }
        set({ status: ANONYMOUS, login: null }) // unreachable server: keep the wrap key
        throw err
      }
      const wrapKey = storage ? await storage.wrapKey(login.loginId).catch(() => undefined) : undefined
      if (!wrapKey) {
        set({ status: LOCKED, login })
        return state
      }
      try {
        await unwrapAll(login, wrapKey)
        set({ status: READY, login })
      } catch {
        // A stale wrap key (the password changed in another browser).
        if (storage) await storage.deleteWrapKey(login.loginId).catch(() => {})
        set({ status: LOCKED, login })
      }
      return state
    },
    async login (email, password) {
      const { kdf } = await api.post('/api/login/salt', { email })
      const { authKey, wrapKey } = await derive(email, password, kdf)
      const login = await api.post('/api/login', { email, authKey: toBase64Url(authKey) }, { expect401: true })
      if (state.login && state.login.loginId !== login.loginId) await forget(state.login.loginId)
      return adopt(login, wrapKey)
    },
    async unlock (password) {
      const login = state.login
      if (!login) throw new Error('not signed in')
      const { wrapKey } = await derive(null, password, login.kdf)
      await adopt(login, wrapKey) // a wrong password fails to unwrap the login key
      return state
    },
    adopt,
    async refresh () {
      const login = await api.get('/api/login')
      const wrapKey = storage ? await storage.wrapKey(login.loginId) : undefined
      if (wrapKey) {
        await unwrapAll(login, wrapKey)
        set({ status: READY, login })
      } else {
        set({ status: LOCKED, login })
      }
      return state
    },
    async logout () {
      try {
        await api.post('/api/logout', {}, { expect401: true })
      } finally {
        await forget()
      }
    },
    forget: () => forget(),
    loginKey: () => keys.loginKey,
    kek: (accountId) => keys.keks.get(accountId) || null,
    account (accountId) {
      if (!keys.accounts.has(accountId)) {
        const p = (async () => {
          const kek = keys.keks.get(accountId)
          if (!kek) throw new Error('no key for this account')
          const account = await api.get(`/api/accounts/${encodeURIComponent(accountId)}`)
          const privateKey = await decryptPrivateKey(kek, accountId, account.encryptedPrivateKey)
          return { account, privateKey }
        })()
        p.catch(() => keys.accounts.delete(accountId))
        keys.accounts.set(accountId, p)
      }
      return keys.accounts.get(accountId)
    }
  }
  return service
}
