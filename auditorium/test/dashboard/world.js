// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// An in-memory Offen for the dashboard tests: real keys and ciphertexts (keys/js/crypto.js),
// feeds with opaque cursors, tombstones and resets as in PROTOCOL §6, served through a fake
// fetch, plus in-process metrics workers (the dashboard worker's shard without a Worker).

import {
  encryptEvent,
  encryptPrivateKey,
  decryptPrivateKey,
  generateAccountKeyPair,
  generateKek,
  generateUserSecret,
  newKeyId,
  newSessionId,
  newUuid,
  wrapUserSecret
} from '../../../keys/js/crypto.js'
import { MetricsClient } from '../../src/metrics/client.js'
import { createDashboardShard } from '../../src/dashboard/worker.js'
import { ulidAt } from '../../src/dashboard/ulid.js'

let ulidCounter = 0
/** nextUlid returns increasing ULIDs at time ms. */
export function nextUlid (ms) {
  let n = ulidCounter++
  let tail = ''
  for (let i = 0; i < 16; i++) {
    tail = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[n % 32] + tail
    n = Math.floor(n / 32)
  }
  return ulidAt(ms).slice(0, 10) + tail
}

/** createAccount makes an account with its key pair and KEK. */
export async function createAccount ({ name = 'Example', retentionDays = 186 } = {}) {
  const accountId = newUuid()
  const { publicKey, privateKey } = await generateAccountKeyPair()
  const kek = generateKek()
  const encryptedPrivateKey = await encryptPrivateKey(kek, accountId, privateKey)
  return {
    accountId,
    kek,
    privateKey: await decryptPrivateKey(kek, accountId, encryptedPrivateKey),
    account: { accountId, name, publicKey, encryptedPrivateKey, allowedOrigins: [], bannerCss: '', retentionDays, createdAt: new Date().toISOString() },
    secrets: [], // {keyId, secretId, wrappedSecret, raw}
    log: [] // feed of events and tombstones: {pos, kind: 'event'|'tombstone', item}
  }
}

/** addVisitor gives the account a visitor (one secret); returns {keyId, secretId, raw}. */
export async function addVisitor (acc, { secretId = newKeyId(), broken = false } = {}) {
  const raw = generateUserSecret()
  const keyId = newKeyId()
  let wrappedSecret = await wrapUserSecret(acc.account.publicKey, acc.accountId, raw)
  if (broken) wrappedSecret = wrappedSecret.slice(0, -3) + (wrappedSecret.endsWith('AAA') ? 'BBB' : 'AAA')
  const s = { keyId, secretId, wrappedSecret, raw }
  acc.secrets.push(s)
  return s
}

/** addEvent encrypts a page view of visitor v at time ms (payload fields may be overridden). */
export async function addEvent (acc, v, ms, fields = {}, { tamper = false } = {}) {
  const payload = {
    v: 1,
    type: 'PAGEVIEW',
    href: 'https://www.example.com/',
    referrer: '',
    pageload: 100,
    timestamp: new Date(ms).toISOString(),
    sessionId: v.sessionId || (v.sessionId = newSessionId()),
    geo: 'DE',
    isMobile: false,
    ...fields
  }
  let a1 = await encryptEvent(v.raw, acc.accountId, payload)
  if (tamper) a1 = a1.slice(0, -2) + (a1.endsWith('AA') ? 'BB' : 'AA')
  const item = { eventId: nextUlid(ms), secretId: v.secretId, keyId: v.keyId, payload: a1 }
  acc.log.push({ kind: 'event', item, plain: payload })
  return item
}

/** addTombstone deletes what it covers from the feed and appends the tombstone. */
export function addTombstone (acc, kind, target) {
  acc.log = acc.log.filter(e => {
    if (e.kind !== 'event') return true
    if (kind === 'event') return e.item.eventId !== target
    if (kind === 'secret') return e.item.keyId !== target && e.item.secretId !== target
    return e.item.eventId >= target
  })
  if (kind === 'secret') acc.secrets = acc.secrets.filter(s => s.keyId !== target)
  acc.log.push({ kind: 'tombstone', item: { kind, target } })
}

let posCounter = 0
function stamp (list) {
  for (const e of list) if (e.pos === undefined) e.pos = ++posCounter
}

/**
 * createApi serves the account feeds of the given accounts; `requests` records every path.
 * A cursor is 'p<position>'; the cursor 'expired' answers a reset.
 */
export function createFakeApi (accounts) {
  const requests = []
  const byId = new Map(accounts.map(a => [a.accountId, a]))
  const page = (list, since, limit, extra) => {
    stamp(list)
    const after = since && since !== 'expired' ? Number(since.slice(1)) : 0
    const items = list.filter(e => e.pos > after).sort((a, b) => a.pos - b.pos)
    const chunk = items.slice(0, limit)
    const last = chunk.length ? chunk[chunk.length - 1].pos : after
    return { ...extra(chunk), next: 'p' + last, more: items.length > chunk.length, reset: since === 'expired' }
  }
  async function get (path) {
    requests.push(path)
    const url = new URL(path, 'http://offen.test')
    const m = /^\/api\/accounts\/([^/]+)(\/(events|secrets))?$/.exec(url.pathname)
    const acc = m && byId.get(m[1])
    if (!acc) throw Object.assign(new Error('not found'), { status: 404 })
    if (!m[3]) return acc.account
    const since = url.searchParams.get('since') || undefined
    const limit = Number(url.searchParams.get('limit') || 1000)
    if (m[3] === 'secrets') {
      for (const s of acc.secrets) s.pos = s.pos || ++posCounter
      return page(acc.secrets, since, limit, chunk => ({ secrets: chunk.map(({ keyId, secretId, wrappedSecret }) => ({ keyId, secretId, wrappedSecret })) }))
    }
    return page(acc.log, since, limit, chunk => ({
      events: chunk.filter(e => e.kind === 'event').map(e => e.item),
      tombstones: chunk.filter(e => e.kind === 'tombstone').map(e => e.item),
      retentionDays: acc.account.retentionDays
    }))
  }
  return { requests, get }
}

/** fakeSession hands out the accounts' private keys as the session service does. */
export function fakeSession (accounts) {
  const byId = new Map(accounts.map(a => [a.accountId, a]))
  return {
    account: async (id) => ({ account: byId.get(id).account, privateKey: byId.get(id).privateKey }),
    kek: (id) => byId.get(id).kek
  }
}

/** inProcessMetrics is a MetricsClient over dashboard shards running in this thread. */
export function inProcessMetrics (factory, workers = 2) {
  return new MetricsClient({
    workers,
    createWorker: () => {
      const shard = createDashboardShard({ factory })
      const w = {
        onmessage: null,
        onerror: null,
        postMessage (msg) { shard.handle(msg).then(reply => w.onmessage({ data: reply })) },
        terminate () {}
      }
      return w
    }
  })
}
