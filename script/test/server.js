// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// An in-memory stand-in for the Offen visitor API (PROTOCOL §7.2) used as `fetch` by the
// sender tests. It holds a real P-256 key pair so tests can unwrap secrets and decrypt
// the payloads it received, proving what the server would (not) see.
import * as keys from '../src/crypto.js'

export async function fakeServer (accountId) {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])
  const publicKey = 'p256.' + keys.toBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)))
  const s = {
    down: false,
    status: 0, // when set, every request answers with it
    consent: true, // whether the consent cookie reaches the server
    user: null, // the visitor's `user` cookie
    secrets: new Map(), // keyId -> {user, wrappedSecret}
    events: [], // {keyId, payload}
    requests: [],
    async fetch (url, init = {}) {
      const method = init.method || 'GET'
      s.requests.push({ method, url, body: init.body, credentials: init.credentials })
      if (s.down) throw new TypeError('Failed to fetch')
      const res = (status, body) => ({ status, ok: status >= 200 && status < 300, json: async () => body })
      if (s.status) return res(s.status, { error: 'x', status: s.status })
      const u = new URL(url, 'https://offen.example.org')
      if (method === 'GET' && u.pathname === '/api/exchange') {
        return u.searchParams.get('accountId') === accountId ? res(200, { accountId, publicKey }) : res(404, {})
      }
      const body = JSON.parse(init.body)
      if (body.accountId !== accountId) return res(404, {})
      if (!s.consent) return res(204)
      if (method === 'POST' && u.pathname === '/api/exchange') {
        const known = s.secrets.get(body.keyId)
        if (!s.user) s.user = keys.newKeyId()
        if (known && (known.user !== s.user || known.wrappedSecret !== body.wrappedSecret)) return res(409, {})
        s.secrets.set(body.keyId, { user: s.user, wrappedSecret: body.wrappedSecret })
        return res(201, {})
      }
      if (method === 'POST' && u.pathname === '/api/events') {
        const known = s.secrets.get(body.keyId)
        if (!s.user || !known || known.user !== s.user) return res(409, {})
        if (!Array.isArray(body.payloads) || body.payloads.length < 1 || body.payloads.length > 10) return res(400, {})
        // a resend stores only what this visitor's events do not hold yet (as the real server)
        const held = (p) => body.resend && s.events.some((e) => e.user === s.user && e.payload === p)
        const fresh = body.payloads.filter((p) => !held(p))
        for (const payload of fresh) s.events.push({ keyId: body.keyId, payload, user: s.user })
        return res(201, { accepted: fresh.length })
      }
      return res(404, {})
    },
    // decrypted returns the plaintexts of every stored event, unwrapping as an operator would.
    async decrypted () {
      const out = []
      for (const e of s.events) {
        const secret = await keys.unwrapUserSecret(pair.privateKey, accountId, s.secrets.get(e.keyId).wrappedSecret)
        out.push(await keys.decryptEvent(secret, accountId, e.payload))
      }
      return out
    }
  }
  s.fetch = s.fetch.bind(s)
  return s
}
