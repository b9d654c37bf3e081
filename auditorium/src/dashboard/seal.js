// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Encrypted local caches of the dashboard. The browser keeps only ciphertexts (PROTOCOL
// §3.5): the unwrapped user secrets (one ECDH per visitor per browser) are stored AES-GCM
// encrypted under a cache key derived from the account's KEK, which itself lives in memory
// only. So the IndexedDB files alone reveal nothing; the cache survives logout and is as
// readable as the events it came from, to the same people. (Segments, segment-ops.js, are
// sealed under their own key and cached as the server serves them.)
//
//   cache key = HKDF-SHA256(KEK, salt 'offen/v1/dashboard-cache', info 'cache'), AES-256-GCM
//   AAD       = 'offen/v1/dashboard-cache|<accountId>|<name>|<part>' (name: the keyring chunk)

const utf8 = new TextEncoder()
const PART = 32 * 1024 * 1024 // bytes per AES-GCM operation

/** deriveKek derives a non-extractable AES-GCM key from the KEK: HKDF-SHA256 with salt and info. */
export async function deriveKek (kek, salt, info) {
  const subtle = globalThis.crypto.subtle
  const ikm = await subtle.importKey('raw', kek, 'HKDF', false, ['deriveKey'])
  return subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: utf8.encode(salt), info: utf8.encode(info) },
    ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

/** deriveCacheKey derives the non-extractable AES-GCM cache key of an account from its KEK. */
export function deriveCacheKey (kek) {
  return deriveKek(kek, 'offen/v1/dashboard-cache', 'cache')
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
