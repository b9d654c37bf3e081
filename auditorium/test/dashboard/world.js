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
import { segmentCoverage } from '../../../keys/js/segment.js'

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

const periodOfId = (eventId) => {
  let ms = 0
  for (let i = 0; i < 10; i++) ms = ms * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(eventId[i].toUpperCase())
  return new Date(ms).toISOString().slice(0, 10)
}

const apiError = (status, message) => Object.assign(new Error(message), { status })

/**
 * createFakeApi serves the account feeds and the segment routes (PROTOCOL §13) of the given
 * accounts; `requests` records every path. A cursor is 'p<position>'; the cursor 'expired'
 * answers a reset. A stored segment is valid while it covers exactly the live events of its
 * period (so a tombstone makes it stale); periods close 60 s after their end, at now().
 */
export function createFakeApi (accounts, { now = () => Date.now() } = {}) {
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
  const live = (acc, period) => acc.log.filter(e => e.kind === 'event' && periodOfId(e.item.eventId) === period).map(e => e.item)
  const openFrom = () => new Date(now() - 60000).toISOString().slice(0, 10)
  const segmentsOf = (acc) => (acc.segments || (acc.segments = new Map()))
  async function valid (acc) {
    const out = []
    for (const [period, seg] of segmentsOf(acc)) {
      const c = await segmentCoverage(live(acc, period).map(e => e.eventId))
      if (c.count === seg.count && c.digest === seg.digest) out.push(seg)
    }
    return out.sort((a, b) => (a.period < b.period ? -1 : 1))
  }
  async function get (path) {
    requests.push(path)
    const url = new URL(path, 'http://offen.test')
    const m = /^\/api\/accounts\/([^/]+)(\/(events|secrets|segments)(\/(\d{4}-\d{2}-\d{2})(\/events)?)?)?$/.exec(url.pathname)
    const acc = m && byId.get(m[1])
    if (!acc) throw apiError(404, 'not found')
    if (!m[3]) return acc.account
    const since = url.searchParams.get('since') || undefined
    const limit = Number(url.searchParams.get('limit') || 1000)
    if (m[3] === 'segments') {
      const period = m[5]
      if (!period) {
        const events = acc.log.filter(e => e.kind === 'event').map(e => e.item.eventId).sort()
        return {
          segments: (await valid(acc)).map(({ period, version, size, count, digest }) => ({ period, version, size, count, digest })),
          firstPeriod: events.length ? periodOfId(events[0]) : null,
          openFrom: openFrom(),
          retentionDays: acc.account.retentionDays
        }
      }
      if (!m[6]) {
        const seg = (await valid(acc)).find(s => s.period === period)
        if (!seg) throw apiError(404, 'no such segment')
        return seg.segment
      }
      const after = url.searchParams.get('after') || ''
      const all = live(acc, period).filter(e => e.eventId > after).sort((a, b) => (a.eventId < b.eventId ? -1 : 1))
      const events = all.slice(0, limit)
      const keyIds = new Set(events.map(e => e.keyId))
      return {
        events,
        secrets: acc.secrets.filter(s => keyIds.has(s.keyId)).map(({ keyId, secretId, wrappedSecret }) => ({ keyId, secretId, wrappedSecret })),
        next: events.length ? events[events.length - 1].eventId : after,
        more: all.length > events.length
      }
    }
    if (m[3] === 'secrets') {
      const keys = url.searchParams.get('keys')
      if (keys !== null) {
        const wanted = new Set(keys.split(','))
        return { secrets: acc.secrets.filter(s => wanted.has(s.keyId)).map(({ keyId, secretId, wrappedSecret }) => ({ keyId, secretId, wrappedSecret })) }
      }
      for (const s of acc.secrets) s.pos = s.pos || ++posCounter
      return page(acc.secrets, since, limit, chunk => ({ secrets: chunk.map(({ keyId, secretId, wrappedSecret }) => ({ keyId, secretId, wrappedSecret })) }))
    }
    const start = url.searchParams.get('start')
    const from = start !== null && !since ? ulidAt(Number(start)) : null
    const log = from === null ? acc.log : acc.log.filter(e => e.kind !== 'event' || e.item.eventId >= from)
    stamp(acc.log)
    return page(log, since, limit, chunk => ({
      events: chunk.filter(e => e.kind === 'event').map(e => e.item),
      tombstones: chunk.filter(e => e.kind === 'tombstone').map(e => e.item),
      retentionDays: acc.account.retentionDays
    }))
  }
  async function put (path, body) {
    requests.push('PUT ' + path)
    const m = /^\/api\/accounts\/([^/]+)\/segments\/(\d{4}-\d{2}-\d{2})$/.exec(path)
    const acc = m && byId.get(m[1])
    if (!acc) throw apiError(404, 'not found')
    const period = m[2]
    if (period >= openFrom()) throw apiError(400, 'open period')
    const c = await segmentCoverage(live(acc, period).map(e => e.eventId))
    if (body.count !== c.count || body.digest !== c.digest) throw apiError(409, 'coverage differs')
    const seg = { period, version: body.version, size: body.segment.length, count: body.count, digest: body.digest, segment: body.segment }
    segmentsOf(acc).set(period, seg)
    return { period, version: seg.version, size: seg.size, count: seg.count, digest: seg.digest }
  }
  return { requests, get, put }
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
      const shard = createDashboardShard()
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
