// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator's IndexedDB cache of one account (PROTOCOL §3.5, §6): cursors, event
// ciphertexts and wrapped user secrets in the stores of script/src/storage.js, and the
// encrypted keyring of unwrapped secrets (seal.js) in operatorSnapshots. Every write is idempotent (keyed by id), so a page stored twice
// changes nothing.

import { fromBase64Url, toBase64Url } from '../../../keys/js/crypto.js'
import {
  CURSORS,
  OPERATOR_EVENTS,
  OPERATOR_SECRETS,
  OPERATOR_SNAPSHOTS,
  transact
} from '../../../script/src/storage.js'

const HIGH = '\uffff'

/** feedName is the cursor key of an operator feed ('events' or 'secrets'). */
export function feedName (loginId, accountId, feed) {
  return `operator/${loginId}/${accountId}/${feed}`
}

function eachKey (req, fn) {
  req.onsuccess = () => {
    const c = req.result
    if (!c) return
    fn(c.primaryKey)
    c.continue()
  }
}

/**
 * createOperatorCache({factory, loginId, accountId}) returns the cache of one account:
 *   cursor(feed), setCursor(feed, cursor)
 *   putEvents(events)            events of a page [{eventId, secretId, keyId, payload}]
 *   applyTombstones(tombstones)  event, secret (key id or secret id; also drops the secret),
 *                                before (every event below the ULID)
 *   clear(feed)                  a `reset`: drop the feed's items and cursor
 *   forEachEventBatch(fn, size)  cached events in id order, in batches
 *   putSecrets(secrets)          stores secrets not stored yet
 *   secrets()                    [{keyId, secretId, wrappedSecret}]
 *   secretsByKeyId(keyIds)       the same for some key ids
 *   putKeys([{keyId, key}])      caches unwrapped keys (non-extractable CryptoKeys)
 */
export function createOperatorCache ({ factory = globalThis.indexedDB, loginId, accountId }) {
  const run = (names, mode, fn) => transact(factory, names, mode, fn)
  const lower = [loginId, accountId, '']
  const upper = [loginId, accountId, HIGH]
  const accountRange = () => IDBKeyRange.bound(lower, upper)
  return {
    async cursor (feed) {
      const rec = await run(CURSORS, 'readonly', s => s[CURSORS].get(feedName(loginId, accountId, feed)))
      return rec ? rec.cursor : undefined
    },
    setCursor: (feed, cursor) => run(CURSORS, 'readwrite', s => {
      s[CURSORS].put({ feed: feedName(loginId, accountId, feed), cursor, updatedAt: Date.now() })
    }),
    putEvents: (events) => events.length === 0
      ? Promise.resolve()
      : run(OPERATOR_EVENTS, 'readwrite', s => {
        const store = s[OPERATOR_EVENTS]
        for (const e of events) {
          store.put({ loginId, accountId, eventId: e.eventId, secretId: e.secretId, keyId: e.keyId, payload: e.payload })
        }
      }),
    applyTombstones: (tombstones) => tombstones.length === 0
      ? Promise.resolve()
      : run([OPERATOR_EVENTS, OPERATOR_SECRETS], 'readwrite', s => {
        const events = s[OPERATOR_EVENTS]
        const secrets = s[OPERATOR_SECRETS]
        for (const ts of tombstones) {
          if (!ts || typeof ts.target !== 'string') continue
          if (ts.kind === 'event') {
            events.delete([loginId, accountId, ts.target])
          } else if (ts.kind === 'before') {
            events.delete(IDBKeyRange.bound(lower, [loginId, accountId, ts.target], false, true))
          } else if (ts.kind === 'secret') {
            for (const index of ['key', 'secret']) {
              eachKey(events.index(index).openKeyCursor([loginId, accountId, ts.target]), k => events.delete(k))
            }
            secrets.delete([loginId, accountId, ts.target])
            eachKey(secrets.index('secret').openKeyCursor([loginId, accountId, ts.target]), k => secrets.delete(k))
          }
        }
      }),
    clear: (feed) => run([feed === 'events' ? OPERATOR_EVENTS : OPERATOR_SECRETS, CURSORS], 'readwrite', s => {
      s[feed === 'events' ? OPERATOR_EVENTS : OPERATOR_SECRETS].delete(accountRange())
      s[CURSORS].delete(feedName(loginId, accountId, feed))
    }),
    async forEachEventBatch (fn, size = 10000) {
      let from = IDBKeyRange.bound(lower, upper)
      for (;;) {
        const batch = await run(OPERATOR_EVENTS, 'readonly', s => s[OPERATOR_EVENTS].getAll(from, size))
        if (batch.length === 0) return
        await fn(batch)
        if (batch.length < size) return
        from = IDBKeyRange.bound([loginId, accountId, batch[batch.length - 1].eventId], upper, true, false)
      }
    },
    putSecrets: (list) => list.length === 0
      ? Promise.resolve()
      : run(OPERATOR_SECRETS, 'readwrite', s => {
        for (const sec of list) {
          s[OPERATOR_SECRETS].put({ loginId, accountId, keyId: sec.keyId, secretId: sec.secretId, wrappedSecret: sec.wrappedSecret })
        }
      }),
    secrets: () => run(OPERATOR_SECRETS, 'readonly', s => s[OPERATOR_SECRETS].index('account').getAll([loginId, accountId])),
    // secretsByKeyId returns the stored secret records of the given key ids (missing ones skipped)
    async secretsByKeyId (keyIds) {
      const out = []
      await run(OPERATOR_SECRETS, 'readonly', s => {
        for (const keyId of keyIds) {
          const req = s[OPERATOR_SECRETS].get([loginId, accountId, keyId])
          req.onsuccess = () => { if (req.result) out.push(req.result) }
        }
      })
      return out
    }
  }
}

/** keyringRange selects an account's keyring chunks in the operatorSnapshots store. */
export function keyringRange (loginId, accountId) {
  return IDBKeyRange.bound([loginId, accountId, 'keys|'], [loginId, accountId, 'keys|' + HIGH])
}

/**
 * createKeyring keeps the account's unwrapped user secrets, encrypted under its cache key
 * (seal.js), in chunks of JSON [[keyId, secretId, secret (base64url)], ...]. load() returns a
 * Map keyId -> {secretId, secret: Uint8Array(32)}; add([{keyId, secretId, secret}]) appends a
 * chunk; replace(map) rewrites all chunks (after purges).
 */
export function createKeyring ({ factory = globalThis.indexedDB, loginId, accountId, cacheKey, seal, open }) {
  const run = (mode, fn) => transact(factory, OPERATOR_SNAPSHOTS, mode, fn)
  const utf8 = new TextEncoder()
  const write = async (name, entries) => {
    const json = JSON.stringify(entries.map(k => [k.keyId, k.secretId, toBase64Url(k.secret)]))
    const parts = await seal(cacheKey, accountId, name, utf8.encode(json))
    await run('readwrite', s => { s[OPERATOR_SNAPSHOTS].put({ loginId, accountId, shard: name, parts, savedAt: Date.now() }) })
  }
  let counter = 0
  return {
    async load () {
      const records = await run('readonly', s => s[OPERATOR_SNAPSHOTS].getAll(keyringRange(loginId, accountId)))
      const keys = new Map()
      for (const rec of records) {
        let entries
        try {
          entries = JSON.parse(new TextDecoder().decode(await open(cacheKey, accountId, rec.shard, rec.parts)))
        } catch {
          continue // another KEK or damage: those secrets are unwrapped again
        }
        for (const [keyId, secretId, secret] of entries) keys.set(keyId, { secretId, secret: fromBase64Url(secret) })
      }
      return keys
    },
    add: (entries) => entries.length === 0 ? Promise.resolve() : write(`keys|${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`, entries),
    async replace (map) {
      await run('readwrite', s => { s[OPERATOR_SNAPSHOTS].delete(keyringRange(loginId, accountId)) })
      const entries = [...map].map(([keyId, k]) => ({ keyId, secretId: k.secretId, secret: k.secret }))
      for (let i = 0; i < entries.length; i += 20000) await write(`keys|${String(i).padStart(9, '0')}`, entries.slice(i, i + 20000))
    }
  }
}

/** dropCaches deletes an account's encrypted snapshots and keyring (or a login's, without accountId). */
export function dropCaches (factory, loginId, accountId) {
  const range = accountId
    ? IDBKeyRange.bound([loginId, accountId], [loginId, accountId, []])
    : IDBKeyRange.bound([loginId], [loginId, []])
  return transact(factory, OPERATOR_SNAPSHOTS, 'readwrite', s => { s[OPERATOR_SNAPSHOTS].delete(range) })
}
