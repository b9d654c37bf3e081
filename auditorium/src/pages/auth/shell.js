// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Plugs the sign-in pages and the console into the SPA shell (src/app.js): the route
// components of src/routes.js build the pages' `app` from the shell's i18n helper, API
// client, router and session service. `sessionKeys` presents the shell's session (which
// keeps the wrap key in IndexedDB and the login key and KEKs in memory, PROTOCOL §3.4) in
// the shape the pages use.

import { useMemo } from 'preact/hooks'
import { html } from '../../lib/html.js'
import { useI18n } from '../../lib/i18n.js'
import { useServices } from '../../lib/services.js'
import { LOCKED, READY } from '../../lib/session.js'
import { LoginPage as Login } from './login.js'
import { SetupPage as Setup } from './setup.js'
import { ForgotPage as Forgot } from './forgot.js'
import { ResetPage as Reset } from './reset.js'
import { JoinPage as Join } from './join.js'
import { ConsolePage as Console } from '../console/console.js'

const adapters = new WeakMap()

/**
 * sessionKeys(session) returns, once per session, `{current, subscribe, signedIn, update,
 * refresh, setEmail, restore, locked, unlock, signOut, forget}`. `current()` is null unless the session is ready,
 * else `{state, loginKey, keks, email}`; the address is only known from a sign-in or a
 * decrypted grant label in this tab (the server keeps none).
 */
export function sessionKeys (session) {
  if (adapters.has(session)) return adapters.get(session)
  let email = null // {loginId, email}
  const listeners = new Set()
  const current = () => {
    const s = session.state
    if (s.status !== READY || !s.login) return null
    const keks = new Map()
    for (const g of s.login.grants || []) {
      const k = g.state === 'active' ? session.kek(g.accountId) : null
      if (k) keks.set(g.accountId, k)
    }
    return { state: s.login, loginKey: session.loginKey(), keks, email: email && email.loginId === s.login.loginId ? email.email : null }
  }
  const emit = () => { const c = current(); for (const fn of listeners) fn(c) }
  session.subscribe(emit)
  const keys = {
    current,
    subscribe (fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    async signedIn ({ state, wrapKey }, address) {
      const before = session.state.login
      // Another login signs in: the previous one's keys and caches go first (onForget hooks).
      if (before && before.loginId !== state.loginId) await session.forget()
      if (address) email = { loginId: state.loginId, email: address }
      await session.adopt(state, wrapKey)
      return current()
    },
    async update (state, wrapKey) {
      if (wrapKey) await session.adopt(state, wrapKey)
      else await session.refresh()
      return current()
    },
    async refresh () {
      await session.refresh()
      return current()
    },
    setEmail (address) {
      const s = session.state.login
      if (!s) return
      email = { loginId: s.loginId, email: address }
      emit()
    },
    async restore () {
      if (session.state.status !== READY) await session.restore()
      return current()
    },
    /** True when signed in but this browser holds no usable wrap key (password needed). */
    locked: () => session.state.status === LOCKED,
    async unlock (password) {
      await session.unlock(password)
      return current()
    },
    signOut: () => session.logout(),
    forget: () => session.forget()
  }
  adapters.set(session, keys)
  return keys
}

/** useApp builds the pages' `app` ({t, lang, api, keys, navigate, origin}) from the shell. */
export function useApp () {
  const i18n = useI18n()
  const services = useServices()
  return useMemo(() => ({
    t: i18n.t,
    lang: i18n.lang,
    api: services.api,
    keys: sessionKeys(services.session),
    // Pages that read a token from the fragment leave with { replace: true }, so the
    // address with the token does not stay in the history.
    navigate: (href, options) => services.router.navigate(href, options),
    origin: globalThis.location.origin
  }), [i18n, services.api, services.session, services.router])
}

export const LoginPage = () => html`<${Login} app=${useApp()} />`
export const SetupPage = () => html`<${Setup} app=${useApp()} />`
export const ForgotPasswordPage = () => html`<${Forgot} app=${useApp()} />`
export const ResetPasswordPage = () => html`<${Reset} app=${useApp()} />`
export const JoinPage = () => html`<${Join} app=${useApp()} />`
export const ConsolePage = () => html`<${Console} app=${useApp()} />`
