// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The IndexedDB database `offen` on the Offen origin (PROTOCOL §3.5). This module is the
// one place that knows its version, its object stores and their indexes; the vault uses
// it directly and the auditorium imports it by relative path, so both agree on the schema.
// The schema is documented in script/README.md ("Browser storage").
//
// Values are stored with the structured clone algorithm, so CryptoKey objects (also
// non-extractable ones) are kept as they are.

export const DB_NAME = 'offen'
export const DB_VERSION = 4

// Object store names.
export const SECRETS = 'secrets' // visitor user secrets, one record per keyId
export const OUTBOX = 'outbox' // encrypted events waiting to be sent
export const CURSORS = 'cursors' // sync cursors of the visitor and operator feeds
export const VISITOR_EVENTS = 'visitorEvents' // visitor view: cached ciphertexts of own events
export const OPERATOR_EVENTS = 'operatorEvents' // dashboard: cached event ciphertexts (versions 1 and 2)
export const OPERATOR_SECRETS = 'operatorSecrets' // dashboard: cached wrapped user secrets (versions 1 and 2)
export const WRAP_KEYS = 'wrapKeys' // operator wrap keys (non-extractable CryptoKey) per login
export const OPERATOR_SNAPSHOTS = 'operatorSnapshots' // dashboard: the encrypted keyring (and, versions 2 and 3, decrypted columns per metrics shard)
export const OPERATOR_SEGMENTS = 'operatorSegments' // dashboard: sealed segments as the server serves them

// upgrade creates or migrates the schema from oldVersion to DB_VERSION. Every future
// version adds one `if (oldVersion < N)` step below and never edits an earlier one.
export function upgrade (db, oldVersion, tx) {
  if (oldVersion < 1) {
    // {keyId, accountId, key: CryptoKey (AES-GCM 256, non-extractable, encrypt+decrypt),
    //  createdAt: ms, exchanged: boolean, raw?: Uint8Array(32) kept only until exchanged}
    const secrets = db.createObjectStore(SECRETS, { keyPath: 'keyId' })
    secrets.createIndex('accountId', 'accountId')

    // {id (auto), accountId, keyId, payload: 'a1.…', createdAt: ms}
    const outbox = db.createObjectStore(OUTBOX, { keyPath: 'id', autoIncrement: true })
    outbox.createIndex('accountId', 'accountId')

    // {feed: string, cursor: string, updatedAt: ms}; feed names: 'visitor',
    // 'operator/<loginId>/<accountId>/events', 'operator/<loginId>/<accountId>/secrets'
    db.createObjectStore(CURSORS, { keyPath: 'feed' })

    // {eventId, accountId, keyId, payload: 'a1.…'}
    const visitorEvents = db.createObjectStore(VISITOR_EVENTS, { keyPath: 'eventId' })
    visitorEvents.createIndex('accountId', 'accountId')
    visitorEvents.createIndex('keyId', 'keyId')

    // {loginId, accountId, eventId, secretId, keyId, payload: 'a1.…'}
    const operatorEvents = db.createObjectStore(OPERATOR_EVENTS, { keyPath: ['loginId', 'accountId', 'eventId'] })
    operatorEvents.createIndex('account', ['loginId', 'accountId'])
    operatorEvents.createIndex('secret', ['loginId', 'accountId', 'secretId'])
    operatorEvents.createIndex('key', ['loginId', 'accountId', 'keyId'])

    // {loginId, accountId, keyId, secretId, wrappedSecret: 'e1.…'}
    const operatorSecrets = db.createObjectStore(OPERATOR_SECRETS, { keyPath: ['loginId', 'accountId', 'keyId'] })
    operatorSecrets.createIndex('account', ['loginId', 'accountId'])
    operatorSecrets.createIndex('secret', ['loginId', 'accountId', 'secretId'])

    // {loginId, key: CryptoKey (AES-GCM, non-extractable)}
    db.createObjectStore(WRAP_KEYS, { keyPath: 'loginId' })
  }
  if (oldVersion < 2) {
    // The dashboard's encrypted caches (auditorium/src/dashboard/seal.js): per metrics shard
    // {loginId, accountId, shard: number, shards, cursor, version, parts} (its columns, so a
    // warm load decrypts no event again) and keyring chunks {loginId, accountId,
    // shard: 'keys|…', parts} (unwrapped user secrets), AES-GCM under a key from the KEK.
    const snapshots = db.createObjectStore(OPERATOR_SNAPSHOTS, { keyPath: ['loginId', 'accountId', 'shard'] })
    snapshots.createIndex('account', ['loginId', 'accountId'])
  }
  if (oldVersion < 3) {
    // The dashboard no longer keeps event ciphertexts and wrapped secrets one record each:
    // its encrypted snapshots and keyring (operatorSnapshots) cache the same, and writing a
    // million records cost more than the download they saved.
    db.deleteObjectStore(OPERATOR_EVENTS)
    db.deleteObjectStore(OPERATOR_SECRETS)
  }
  if (oldVersion < 4) {
    // Sealed segments (keys/PROTOCOL.md §13) replace the shard snapshots: {loginId, accountId,
    // period, version, digest, sealed: 'a1.…'}, kept as fetched (sealed under the segment key).
    // The snapshots and the feed cursors they and the keyring carried are dropped; keyring
    // chunks stay (they save an ECDH per visitor).
    db.createObjectStore(OPERATOR_SEGMENTS, { keyPath: ['loginId', 'accountId', 'period'] })
    if (tx && oldVersion >= 2) {
      tx.objectStore(OPERATOR_SNAPSHOTS).openCursor().onsuccess = (e) => {
        const c = e.target.result
        if (!c) return
        if (typeof c.value.shard === 'number') c.delete()
        c.continue()
      }
      tx.objectStore(CURSORS).openCursor().onsuccess = (e) => {
        const c = e.target.result
        if (!c) return
        if (/^operator\/.*\/(events|keyring)$/.test(c.value.feed)) c.delete()
        c.continue()
      }
    }
  }
}

const opened = new WeakMap()

// openDatabase opens (and creates or upgrades) the database with the given IDBFactory,
// by default globalThis.indexedDB. The connection is cached per factory and closes itself
// when another tab needs a newer version (an open blocked by an older tab waits for it).
export function openDatabase (factory = globalThis.indexedDB) {
  if (!factory) return Promise.reject(new Error('storage: indexedDB unavailable'))
  let p = opened.get(factory)
  if (!p) {
    p = openOnce(factory).catch((err) => {
      if (err !== STALLED) throw err
      // Chromium sometimes never answers an open issued while the previous page
      // of this origin is still shutting down its connection; a second request,
      // made once that page is gone, is answered.
      return openOnce(factory)
    }).catch((err) => { opened.delete(factory); throw err })
    opened.set(factory, p)
  }
  return p
}

const STALLED = new Error('storage: open stalled')
const OPEN_PATIENCE_MS = 3000

function openOnce (factory) {
  return new Promise((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => { settled = true; reject(STALLED) }, OPEN_PATIENCE_MS)
    const req = factory.open(DB_NAME, DB_VERSION)
    req.onupgradeneeded = (e) => upgrade(req.result, e.oldVersion, req.transaction)
    req.onsuccess = () => {
      const db = req.result
      if (settled) { db.close(); return } // answered after we gave up on it
      settled = true
      clearTimeout(timer)
      db.onversionchange = () => { db.close(); opened.delete(factory) }
      resolve(db)
    }
    req.onerror = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      reject(req.error)
    }
  })
}

// transact runs fn(stores) in one transaction over storeNames and resolves with fn's
// result once the transaction has committed. fn receives an object mapping each store
// name to its IDBObjectStore and may return a request (its result is used) or a value.
export async function transact (factory, storeNames, mode, fn) {
  const db = await openDatabase(factory)
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeNames, mode)
    const stores = {}
    for (const name of [].concat(storeNames)) stores[name] = tx.objectStore(name)
    let out
    try {
      out = fn(stores)
    } catch (err) {
      try { tx.abort() } catch {}
      reject(err)
      return
    }
    tx.oncomplete = () => resolve(out && typeof out === 'object' && 'readyState' in out && 'onsuccess' in out ? out.result : out)
    tx.onerror = () => reject(tx.error)
    tx.onabort = () => reject(tx.error || new Error('storage: transaction aborted'))
  })
}

// createStorage returns the typed operations the vault and the visitor view need.
export function createStorage (factory = globalThis.indexedDB) {
  const run = (names, mode, fn) => transact(factory, names, mode, fn)
  const byAccount = (name, accountId) => run(name, 'readonly', (s) => s[name].index('accountId').getAll(accountId))
  return {
    factory,
    // secrets of an account, oldest first
    secrets: async (accountId) => (await byAccount(SECRETS, accountId)).sort((a, b) => a.createdAt - b.createdAt),
    secret: (keyId) => run(SECRETS, 'readonly', (s) => s[SECRETS].get(keyId)),
    putSecret: (record) => run(SECRETS, 'readwrite', (s) => { s[SECRETS].put(record) }),
    deleteSecret: (keyId) => run(SECRETS, 'readwrite', (s) => { s[SECRETS].delete(keyId) }),
    // outbox items of an account in insertion order
    outbox: async (accountId) => (await byAccount(OUTBOX, accountId)).sort((a, b) => a.id - b.id),
    addOutbox: (item) => run(OUTBOX, 'readwrite', (s) => s[OUTBOX].add(item)),
    putOutbox: (items) => run(OUTBOX, 'readwrite', (s) => { for (const i of items) s[OUTBOX].put(i) }),
    deleteOutbox: (ids) => run(OUTBOX, 'readwrite', (s) => { for (const id of ids) s[OUTBOX].delete(id) }),
    // forgetVisitor deletes the visitor's secrets and waiting events of one account, or of
    // every account without accountId, plus the visitor view's cache and cursor (opt-out).
    forgetVisitor: (accountId) => run([SECRETS, OUTBOX, VISITOR_EVENTS, CURSORS], 'readwrite', (s) => {
      for (const name of [SECRETS, OUTBOX, VISITOR_EVENTS]) {
        if (accountId === undefined) {
          s[name].clear()
          continue
        }
        const req = s[name].index('accountId').openKeyCursor(accountId)
        req.onsuccess = () => {
          const c = req.result
          if (c) {
            s[name].delete(c.primaryKey)
            c.continue()
          }
        }
      }
      s[CURSORS].delete('visitor')
    }),
    cursor: async (feed) => ((await run(CURSORS, 'readonly', (s) => s[CURSORS].get(feed))) || {}).cursor,
    setCursor: (feed, cursor) => run(CURSORS, 'readwrite', (s) => { s[CURSORS].put({ feed, cursor, updatedAt: Date.now() }) }),
    wrapKey: async (loginId) => ((await run(WRAP_KEYS, 'readonly', (s) => s[WRAP_KEYS].get(loginId))) || {}).key,
    putWrapKey: (loginId, key) => run(WRAP_KEYS, 'readwrite', (s) => { s[WRAP_KEYS].put({ loginId, key }) }),
    deleteWrapKey: (loginId) => run(WRAP_KEYS, 'readwrite', (s) => { s[WRAP_KEYS].delete(loginId) })
  }
}
