// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator's IndexedDB cache of one account besides its sealed segments (segments.js):
// the encrypted keyring of unwrapped user secrets (seal.js) in operatorSnapshots. Event
// ciphertexts and wrapped secrets are not kept one by one (storage version 3 dropped those
// stores), nor the workers' decrypted columns (version 4 did: segments replace them).

import { toBase64Url } from '../../../keys/js/crypto.js'
import { OPERATOR_SEGMENTS, OPERATOR_SNAPSHOTS, transact } from '../../../script/src/storage.js'
import { segmentsRange } from './segments.js'

const HIGH = '\uffff'

/** keyringRange selects an account's keyring chunks in the operatorSnapshots store. */
export function keyringRange (loginId, accountId) {
  return IDBKeyRange.bound([loginId, accountId, 'keys|'], [loginId, accountId, 'keys|' + HIGH])
}

/**
 * createKeyring keeps the account's unwrapped user secrets, encrypted under its cache key
 * (seal.js), in chunks of JSON [[keyId, secretId, secret (base64url) or null], ...] (null: the
 * wrapped secret did not unwrap). load() returns {keys: Map keyId -> {secretId, secret:
 * Uint8Array(32) or its base64url}, unreadable: Set of key ids, complete: false when a chunk did not open};
 * add([{keyId, secretId, secret}], unreadable [{keyId, secretId}]) appends a chunk;
 * replace(keys, unreadable) rewrites all chunks (after purges).
 */
export function createKeyring ({ factory = globalThis.indexedDB, loginId, accountId, cacheKey, seal, open }) {
  const run = (mode, fn) => transact(factory, OPERATOR_SNAPSHOTS, mode, fn)
  const utf8 = new TextEncoder()
  const write = async (name, entries) => {
    const json = JSON.stringify(entries.map(k => [k.keyId, k.secretId, typeof k.secret === 'string' ? k.secret : k.secret ? toBase64Url(k.secret) : null]))
    const parts = await seal(cacheKey, accountId, name, utf8.encode(json))
    await run('readwrite', s => { s[OPERATOR_SNAPSHOTS].put({ loginId, accountId, shard: name, parts, savedAt: Date.now() }) })
  }
  let counter = 0
  return {
    async load () {
      const records = await run('readonly', s => s[OPERATOR_SNAPSHOTS].getAll(keyringRange(loginId, accountId)))
      const keys = new Map()
      const unreadable = new Map()
      let complete = true
      for (const rec of records) {
        let entries
        try {
          entries = JSON.parse(new TextDecoder().decode(await open(cacheKey, accountId, rec.shard, rec.parts)))
        } catch {
          complete = false
          continue // another KEK or damage: those secrets are unwrapped again
        }
        for (const [keyId, secretId, secret] of entries) {
          if (secret === null) unreadable.set(keyId, secretId)
          else keys.set(keyId, { secretId, secret }) // base64url: decoded when a worker needs it
        }
      }
      for (const keyId of keys.keys()) unreadable.delete(keyId)
      return { keys, unreadable: new Set(unreadable.keys()), complete }
    },
    add: (entries, unreadable = []) => entries.length + unreadable.length === 0
      ? Promise.resolve()
      : write(`keys|${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`, entries.concat(unreadable.map(u => ({ keyId: u.keyId, secretId: u.secretId, secret: null })))),
    async replace (map, unreadable = []) {
      await run('readwrite', s => { s[OPERATOR_SNAPSHOTS].delete(keyringRange(loginId, accountId)) })
      const entries = [...map].map(([keyId, k]) => ({ keyId, secretId: k.secretId, secret: k.secret }))
      for (const keyId of unreadable) entries.push({ keyId, secretId: '', secret: null })
      for (let i = 0; i < entries.length; i += 20000) await write(`keys|${String(i).padStart(9, '0')}`, entries.slice(i, i + 20000))
    }
  }
}

/** dropCaches deletes an account's keyring and cached segments (or a login's, without accountId). */
export function dropCaches (factory, loginId, accountId) {
  const range = accountId
    ? IDBKeyRange.bound([loginId, accountId], [loginId, accountId, []])
    : IDBKeyRange.bound([loginId], [loginId, []])
  return transact(factory, [OPERATOR_SNAPSHOTS, OPERATOR_SEGMENTS], 'readwrite', s => {
    s[OPERATOR_SNAPSHOTS].delete(range)
    s[OPERATOR_SEGMENTS].delete(segmentsRange(loginId, accountId))
  })
}
