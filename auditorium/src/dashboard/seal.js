// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Encrypted local caches of the dashboard. The browser keeps only ciphertexts (PROTOCOL
// §3.5): the workers' decrypted columns (warm starts without decrypting every event again)
// and the unwrapped user secrets (one ECDH per visitor per browser) are stored AES-GCM
// encrypted under a cache key derived from the account's KEK, which itself lives in memory
// only. So the IndexedDB files alone reveal nothing; the cache survives logout and is as
// readable as the events it came from, to the same people.
//
//   cache key = HKDF-SHA256(KEK, salt 'offen/v1/dashboard-cache', info 'cache'), AES-256-GCM
//   AAD       = 'offen/v1/dashboard-cache|<accountId>|<name>' (name: shard number or keyring chunk)
//
// encodeSnapshot / decodeSnapshot turn a structured value with typed arrays (a metrics
// shard snapshot) into one byte string and back: a JSON header with the plain values, then
// every typed array's bytes, 8-byte aligned, viewed in place on decoding.

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()
const PART = 32 * 1024 * 1024 // bytes per AES-GCM operation
const TYPES = { Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array }

/** deriveCacheKey derives the non-extractable AES-GCM cache key of an account from its KEK. */
export async function deriveCacheKey (kek) {
  const subtle = globalThis.crypto.subtle
  const ikm = await subtle.importKey('raw', kek, 'HKDF', false, ['deriveKey'])
  return subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8.encode('offen/v1/dashboard-cache'), info: utf8.encode('cache') },
    ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

const aadOf = (accountId, name) => utf8.encode(`offen/v1/dashboard-cache|${accountId}|${name}`)

/** seal encrypts bytes in parts of at most 32 MiB: [{nonce, data: ArrayBuffer}]. */
export async function seal (key, accountId, name, bytes) {
  const parts = []
  for (let off = 0, i = 0; off < bytes.length || i === 0; off += PART, i++) {
    const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12))
    const data = await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aadOf(accountId, `${name}|${i}`) }, key, bytes.subarray(off, off + PART))
    parts.push({ nonce, data })
  }
  return parts
}

/** open decrypts what seal produced; it throws when anything was changed. */
export async function open (key, accountId, name, parts) {
  const plain = await Promise.all(parts.map((p, i) => globalThis.crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: p.nonce, additionalData: aadOf(accountId, `${name}|${i}`) }, key, p.data)))
  if (plain.length === 1) return new Uint8Array(plain[0])
  const out = new Uint8Array(plain.reduce((n, b) => n + b.byteLength, 0))
  let off = 0
  for (const b of plain) {
    out.set(new Uint8Array(b), off)
    off += b.byteLength
  }
  return out
}

/** encodeSnapshot serialises a value of JSON values and typed arrays into bytes. */
export function encodeSnapshot (value) {
  const align = (n) => (n + 7) & ~7
  const arrays = []
  let dataSize = 0
  const header = JSON.stringify(value, (k, v) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const at = dataSize
      arrays.push([v, at])
      dataSize = align(dataSize + v.byteLength)
      return { $ta: at, type: Object.prototype.toString.call(v).slice(8, -1), length: v.length }
    }
    return v
  })
  const head = utf8.encode(header)
  const base = align(8 + head.length)
  const out = new Uint8Array(base + dataSize)
  new DataView(out.buffer).setUint32(0, head.length, true)
  out.set(head, 8)
  for (const [a, at] of arrays) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), base + at)
  return out
}

/** decodeSnapshot reverses encodeSnapshot; typed arrays are views on bytes' buffer. */
export function decodeSnapshot (bytes) {
  const headLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  const base = bytes.byteOffset + ((8 + headLen + 7) & ~7)
  // no reviver: JSON.parse calls one for every value, and a snapshot's header holds hundreds
  // of thousands of strings; the markers of typed arrays are put back by a walk instead
  const typed = (v) => v !== null && typeof v === 'object' && typeof v.$ta === 'number' && Object.hasOwn(TYPES, v.type)
    ? new TYPES[v.type](bytes.buffer, base + v.$ta, v.length)
    : null
  const walk = (v) => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i]
        if (x === null || typeof x !== 'object') continue
        const t = typed(x)
        if (t) v[i] = t
        else walk(x)
      }
    } else {
      for (const k of Object.keys(v)) {
        const x = v[k]
        if (x === null || typeof x !== 'object') continue
        const t = typed(x)
        if (t) v[k] = t
        else walk(x)
      }
    }
    return v
  }
  const head = JSON.parse(fromUtf8.decode(bytes.subarray(8, 8 + headLen)))
  if (head === null || typeof head !== 'object') return head
  return typed(head) || walk(head)
}
