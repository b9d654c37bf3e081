// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// An in-memory stand-in for the operator routes of PROTOCOL §7.3, with the request and
// response shapes of server/handle_*.go. Like the real server it stores what clients send
// and cannot check wrappings; the tests open them with the real crypto module. Every
// request body is recorded so tests can search them for secrets. The session cookie is
// modelled as the signed-in login id.

import { ApiError } from '../../src/lib/api.js'
import { KDF_ITERATIONS, toBase64Url, randomBytes, newUuid, deriveInviteKeys, fromBase64Url } from '../../../keys/js/crypto.js'

const clone = (v) => v === undefined ? v : JSON.parse(JSON.stringify(v))

export function createFakeApi ({ setupToken = 'setup-token', publicUrl = 'http://offen.test' } = {}) {
  const db = {
    setupLoginId: newUuid(),
    logins: new Map(), // loginId -> {loginId, email, fromSetup, salt, authKey, wrappedLoginKey, recoveryWrappedLoginKey, recoveryProof}
    accounts: new Map(), // accountId -> {accountId, name, publicKey, encryptedPrivateKey, allowedOrigins, bannerCss, retired, createdAt}
    grants: [], // {loginId, accountId, role, wrappedKek, inviteWrappedKek, label, invitation}
    resetTokens: new Map(), // token -> loginId
    invites: new Map(), // token -> {loginId, accountIds}
    mails: []
  }
  const fake = {
    db,
    session: null, // signed-in login id (the login cookie)
    requests: [], // {method, path, body}
    throttle: 0, // > 0: every POST /api/login answers 429 with this Retry-After
    failNext: null, // {path, status, message, fields}: the next request to path fails
    async request (method, path, body) {
      fake.requests.push({ method, path, body: clone(body) })
      // PROTOCOL §7.1: every POST, PUT and DELETE carries a JSON body (content type), else 403.
      if (method !== 'GET' && body === undefined) throw new ApiError(403, 'forbidden: content type must be application/json')
      if (fake.failNext && fake.failNext.path === path) {
        const f = fake.failNext
        fake.failNext = null
        throw new ApiError(f.status, f.message, f.fields, f.retryAfter)
      }
      const out = await route(method, path, clone(body))
      return out === undefined ? null : clone(out)
    },
    bodies: () => JSON.stringify(fake.requests.map((r) => r.body)),
    /**
     * A fetch for lib/api.js's createApi: requests other than GET without the JSON content
     * type are 403 (the CSRF rule of PROTOCOL §7.1); errors become {error, status, fields}
     * bodies with Retry-After on 429.
     */
    async fetch (url, init = {}) {
      const method = init.method || 'GET'
      const headers = init.headers || {}
      const json = (status, value, extra = {}) => new Response(value === null ? null : JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json', ...extra } })
      if (method !== 'GET' && headers['Content-Type'] !== 'application/json') return json(403, { error: 'forbidden', status: 403 })
      try {
        const out = await fake.request(method, new URL(url, publicUrl).pathname, init.body === undefined ? undefined : JSON.parse(init.body))
        return out === null ? new Response(null, { status: 204 }) : json(200, out)
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        return json(err.status, { error: err.message, status: err.status, fields: err.fields || undefined }, err.retryAfter ? { 'Retry-After': String(err.retryAfter) } : {})
      }
    }
  }

  const fail = (status, message = 'error', fields) => { throw new ApiError(status, message, fields) }
  const byEmail = (email) => [...db.logins.values()].find((l) => l.email === email.trim().toLowerCase())
  const grantState = (g) => g.wrappedKek ? 'active' : g.inviteWrappedKek ? 'pending' : 'reshare'
  const me = () => {
    const l = fake.session && db.logins.get(fake.session)
    if (!l) fail(401, 'unauthorized')
    return l
  }
  const grantOf = (loginId, accountId) => db.grants.find((g) => g.loginId === loginId && g.accountId === accountId)
  const requireGrant = (l, accountId, admin) => {
    const g = grantOf(l.loginId, accountId)
    const a = db.accounts.get(accountId)
    if (!g || grantState(g) !== 'active' || !a || a.retired) fail(404, 'not found')
    if (admin && g.role !== 'admin') fail(403, 'forbidden')
    return { g, a }
  }
  const kdf = (l) => ({ alg: 'pbkdf2-sha256', iterations: KDF_ITERATIONS, salt: l.salt })
  const loginState = (l) => ({
    loginId: l.loginId,
    canCreateAccounts: l.fromSetup || db.grants.some((g) => g.loginId === l.loginId && g.role === 'admin' && grantState(g) === 'active'),
    kdf: kdf(l),
    wrappedLoginKey: l.wrappedLoginKey,
    grants: db.grants.filter((g) => g.loginId === l.loginId && !db.accounts.get(g.accountId).retired).map((g) => ({
      accountId: g.accountId, name: db.accounts.get(g.accountId).name, role: g.role, state: grantState(g), wrappedKek: g.wrappedKek || undefined
    })),
    sessionExpiresAt: new Date(Date.now() + 12 * 3600e3).toISOString()
  })
  const account = (a) => ({
    accountId: a.accountId, name: a.name, publicKey: a.publicKey, encryptedPrivateKey: a.encryptedPrivateKey,
    allowedOrigins: a.allowedOrigins.map((o) => ({ origin: o, sameSite: new URL(o).hostname.endsWith('offen.test') })),
    bannerCss: a.bannerCss, goals: a.goals || '', retentionDays: 186, createdAt: a.createdAt
  })
  const setCredentials = (l, c) => Object.assign(l, {
    salt: c.salt, authKey: c.authKey, wrappedLoginKey: c.wrappedLoginKey,
    recoveryWrappedLoginKey: c.recoveryWrappedLoginKey, recoveryProof: c.recoveryProof
  })
  const checkAuth = (l, authKey) => { if (!l || !l.authKey || l.authKey !== authKey) fail(401, 'unauthorized') }
  const createAccount = (loginId, a, grant) => {
    if (db.accounts.has(a.accountId)) fail(409, 'conflict')
    db.accounts.set(a.accountId, { ...a, allowedOrigins: [], bannerCss: '', retired: false, createdAt: new Date().toISOString() })
    db.grants.push({ loginId, accountId: a.accountId, role: 'admin', wrappedKek: grant.wrappedKek, label: grant.label })
  }

  async function route (method, path, body) {
    const key = method + ' ' + path.replace(/[0-9a-f-]{36}/g, ':id')
    switch (key) {
      case 'POST /api/login/salt': {
        const l = byEmail(body.email)
        return { kdf: l && l.salt ? kdf(l) : { alg: 'pbkdf2-sha256', iterations: KDF_ITERATIONS, salt: toBase64Url(randomBytes(16)) } }
      }
      case 'POST /api/login': {
        if (fake.throttle) throw new ApiError(429, 'too many requests', null, fake.throttle)
        const l = byEmail(body.email)
        checkAuth(l, body.authKey)
        fake.session = l.loginId
        return loginState(l)
      }
      case 'GET /api/login':
        return loginState(me())
      case 'POST /api/logout':
        fake.session = null
        return undefined
      case 'GET /api/setup':
        return db.logins.size ? { required: false } : { required: true, loginId: db.setupLoginId }
      case 'POST /api/setup': {
        if (body.setupToken !== setupToken) fail(403, 'forbidden')
        if (db.logins.size) fail(409, 'conflict')
        const l = { loginId: body.loginId || db.setupLoginId, email: body.email.toLowerCase(), fromSetup: true }
        setCredentials(l, body.credentials)
        db.logins.set(l.loginId, l)
        createAccount(l.loginId, body.account, body.grant)
        fake.session = l.loginId
        return loginState(l)
      }
      case 'POST /api/forgot-password': {
        const l = byEmail(body.email)
        if (l && l.authKey) {
          const token = toBase64Url(randomBytes(32))
          for (const [t, id] of db.resetTokens) if (id === l.loginId) db.resetTokens.delete(t)
          db.resetTokens.set(token, l.loginId)
          db.mails.push({ to: body.email, link: publicUrl + '/reset-password/#' + token, locale: body.locale })
        }
        return undefined
      }
      case 'POST /api/reset-password/lookup': {
        const l = db.logins.get(db.resetTokens.get(body.token))
        if (!l) fail(404, 'not found')
        return {
          loginId: l.loginId,
          recoveryWrappedLoginKey: l.recoveryWrappedLoginKey,
          grants: db.grants.filter((g) => g.loginId === l.loginId && grantState(g) === 'active').map((g) => ({ accountId: g.accountId, name: db.accounts.get(g.accountId).name }))
        }
      }
      case 'POST /api/reset-password': {
        const l = db.logins.get(db.resetTokens.get(body.token))
        if (!l) fail(404, 'not found')
        if (body.recoveryProof !== undefined && body.recoveryProof !== l.recoveryProof) fail(403, 'forbidden')
        db.resetTokens.delete(body.token)
        setCredentials(l, body.credentials)
        if (body.recoveryProof === undefined) {
          for (const g of db.grants) if (g.loginId === l.loginId && g.wrappedKek) g.wrappedKek = null
        }
        fake.session = l.loginId
        return loginState(l)
      }
      case 'POST /api/change-password': {
        const l = me()
        checkAuth(l, body.currentAuthKey)
        Object.assign(l, { salt: body.credentials.salt, authKey: body.credentials.authKey, wrappedLoginKey: body.credentials.wrappedLoginKey })
        return loginState(l)
      }
      case 'POST /api/change-email': {
        const l = me()
        checkAuth(l, body.currentAuthKey)
        const other = byEmail(body.email)
        if (other && other !== l) fail(409, 'conflict')
        l.email = body.email.toLowerCase()
        for (const { accountId, label } of body.labels) {
          const g = grantOf(l.loginId, accountId)
          if (g) g.label = label
        }
        return undefined
      }
      case 'POST /api/recovery-code': {
        const l = me()
        checkAuth(l, body.currentAuthKey)
        Object.assign(l, { recoveryWrappedLoginKey: body.recoveryWrappedLoginKey, recoveryProof: body.recoveryProof })
        return undefined
      }
      case 'GET /api/accounts': {
        const l = me()
        return {
          accounts: db.grants.filter((g) => g.loginId === l.loginId && !db.accounts.get(g.accountId).retired).map((g) => {
            const a = db.accounts.get(g.accountId)
            return { accountId: a.accountId, name: a.name, role: g.role, state: grantState(g), createdAt: a.createdAt }
          })
        }
      }
      case 'POST /api/accounts': {
        const l = me()
        if (!loginState(l).canCreateAccounts) fail(403, 'forbidden')
        const { wrappedKek, label, ...a } = body
        createAccount(l.loginId, a, { wrappedKek, label })
        return account(db.accounts.get(a.accountId))
      }
      case 'GET /api/accounts/:id':
        return account(requireGrant(me(), path.split('/')[3]).a)
      case 'POST /api/accounts/:id/retire': {
        const l = me()
        const { a } = requireGrant(l, path.split('/')[3], true)
        checkAuth(l, body.currentAuthKey)
        a.retired = true
        db.grants = db.grants.filter((g) => g.accountId !== a.accountId)
        return undefined
      }
      case 'PUT /api/accounts/:id/allowed-origins': {
        const { a } = requireGrant(me(), path.split('/')[3], true)
        // Like the server, every bad entry is named, joined by "; ".
        const bad = body.origins.filter((o) => !/^https:\/\/[a-z0-9.-]+$/.test(o)).map((o) => 'not an origin: ' + o)
        if (bad.length) fail(400, 'invalid', { origins: bad.join('; ') })
        a.allowedOrigins = [...new Set(body.origins)]
        return { origins: account(a).allowedOrigins }
      }
      case 'PUT /api/accounts/:id/banner-styles': {
        const { a } = requireGrant(me(), path.split('/')[3], true)
        if (/url\(|@import/.test(body.css)) fail(400, 'invalid', { css: 'rule 1: url() is not allowed' })
        const css = body.css.trim()
        if (!body.dryRun) a.bannerCss = css
        return { css }
      }
      case 'PUT /api/accounts/:id/goals': {
        const { a } = requireGrant(me(), path.split('/')[3], true)
        if (body.goals !== '' && !/^a1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(body.goals)) fail(400, 'invalid', { goals: 'must be an a1 ciphertext' })
        a.goals = body.goals
        return { goals: body.goals }
      }
      case 'GET /api/accounts/:id/grants': {
        const { a } = requireGrant(me(), path.split('/')[3])
        return { grants: db.grants.filter((g) => g.accountId === a.accountId).map((g) => ({ loginId: g.loginId, role: g.role, state: grantState(g), label: g.label, createdAt: a.createdAt })) }
      }
      case 'PUT /api/accounts/:id/grants/:id':
      case 'DELETE /api/accounts/:id/grants/:id': {
        const [, , , accountId, , loginId] = path.split('/')
        const l = me()
        const { g: own } = requireGrant(l, accountId, method === 'PUT' || loginId !== l.loginId)
        void own
        const g = grantOf(loginId, accountId)
        if (!g) fail(404, 'not found')
        const admins = db.grants.filter((x) => x.accountId === accountId && x.role === 'admin' && grantState(x) === 'active')
        const losesAdmin = g.role === 'admin' && grantState(g) === 'active' && (method === 'DELETE' || body.role !== 'admin')
        if (losesAdmin && admins.length === 1) fail(409, 'an account keeps at least one active admin')
        if (method === 'PUT') g.role = body.role
        else db.grants = db.grants.filter((x) => x !== g)
        return undefined
      }
      case 'POST /api/invitations': {
        const l = me()
        for (const g of body.grants) requireGrant(l, g.accountId, true)
        if (body.sendEmail) {
          const { token } = await deriveInviteKeys(fromBase64Url(body.inviteKey))
          if (toBase64Url(token) !== body.token) fail(400, 'invalid', { inviteKey: 'does not derive the token' })
        }
        let invitee = byEmail(body.email)
        if (!invitee) {
          invitee = { loginId: newUuid(), email: body.email.toLowerCase(), fromSetup: false }
          db.logins.set(invitee.loginId, invitee)
        }
        const added = []
        for (const g of body.grants) {
          const existing = grantOf(invitee.loginId, g.accountId)
          if (existing && grantState(existing) === 'active') continue
          db.grants = db.grants.filter((x) => x !== existing)
          db.grants.push({ loginId: invitee.loginId, accountId: g.accountId, role: g.role, inviteWrappedKek: g.inviteWrappedKek, label: g.label, invitation: body.token })
          added.push(g.accountId)
        }
        if (!added.length) fail(409, 'the invitee already holds these accounts')
        db.invites.set(body.token, { loginId: invitee.loginId })
        if (body.sendEmail) db.mails.push({ to: body.email, link: publicUrl + '/join/#' + body.inviteKey, locale: body.locale })
        return { joinUrl: publicUrl + '/join/', expiresAt: new Date(Date.now() + 7 * 864e5).toISOString() }
      }
      case 'POST /api/join/lookup': {
        const inv = db.invites.get(body.token)
        if (!inv) fail(404, 'not found')
        const l = db.logins.get(inv.loginId)
        return {
          loginId: l.loginId,
          existingLogin: !!l.authKey,
          grants: db.grants.filter((g) => g.loginId === l.loginId && g.invitation === body.token && grantState(g) === 'pending')
            .map((g) => ({ accountId: g.accountId, name: db.accounts.get(g.accountId).name, role: g.role, inviteWrappedKek: g.inviteWrappedKek }))
        }
      }
      case 'POST /api/join': {
        const inv = db.invites.get(body.token)
        if (!inv) fail(404, 'not found')
        const l = db.logins.get(inv.loginId)
        if (l.authKey) {
          if (fake.session !== l.loginId) fail(401, 'unauthorized')
          if (body.credentials) fail(400, 'invalid', { credentials: 'not sent for an existing login' })
        } else {
          if (!body.credentials) fail(400, 'invalid', { credentials: 'required for a new login' })
          setCredentials(l, body.credentials)
        }
        const pending = db.grants.filter((g) => g.loginId === l.loginId && g.invitation === body.token && grantState(g) === 'pending')
        if (pending.length !== body.grants.length) fail(409, 'the invitation\'s grants changed')
        for (const { accountId, wrappedKek } of body.grants) {
          const g = pending.find((x) => x.accountId === accountId)
          if (!g) fail(409, 'the invitation\'s grants changed')
          g.wrappedKek = wrappedKek
          g.inviteWrappedKek = null
        }
        db.invites.delete(body.token)
        fake.session = l.loginId
        return loginState(l)
      }
    }
    fail(404, 'no route ' + key)
  }
  return fake
}
