// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

/**
 * The one JavaScript crypto module of Offen, shared by the vault (script/)
 * and the auditorium. It implements the formats of PROTOCOL §2 exactly like
 * the Go package `keys` (see keys/doc.go) on WebCrypto only
 * (`globalThis.crypto.subtle`), without dependencies. Every export is a
 * named export so bundlers drop what a bundle does not use.
 *
 * Conventions: byte strings are `Uint8Array`; versioned strings are
 * `a1.…`, `e1.…`, `p256.…`; ids are strings and enter the AES-GCM associated
 * data as UTF-8. Functions that take an AES key accept either the 32 raw
 * bytes or an AES-GCM `CryptoKey`. Malformed input throws a `CryptoError`
 * with `code` "MALFORMED" before any cryptographic operation; a ciphertext
 * that does not authenticate (wrong key, wrong id, tampered) throws code
 * "DECRYPT"; weak KDF parameters throw "WEAK_KDF".
 *
 * Functions that encrypt take a last parameter for fixed test vectors
 * (`nonce`, or `{ ephemeralPkcs8, nonce }`); production code omits it.
 * @module crypto
 */

const subtle = () => globalThis.crypto.subtle
const utf8 = new TextEncoder()

/** PBKDF2-HMAC-SHA256 iteration count for new passwords and the minimum accepted. */
export const KDF_ITERATIONS = 600000

const KEY_SIZE = 32
const NONCE_SIZE = 12
const TAG_SIZE = 16
const POINT_SIZE = 65
const SALT_SIZE = 16
const RECOVERY_CODE_SIZE = 20

/** Error thrown by this module; `code` is "MALFORMED", "DECRYPT" or "WEAK_KDF". */
export class CryptoError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor (code, message) {
    super(message)
    this.name = 'CryptoError'
    this.code = code
  }
}

const malformed = (m) => new CryptoError('MALFORMED', 'crypto: ' + m)

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
// Dashboards decode hundreds of thousands of payloads; a table lookup per
// character is several times faster than searching the alphabet.
const B64_INDEX = new Uint8Array(128)
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i

/**
 * Encodes bytes as base64url without padding (RFC 4648 §5).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function toBase64Url (bytes) {
  let s = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = bytes[i] << 16 | bytes[i + 1] << 8 | bytes[i + 2]
    s += B64[n >> 18] + B64[n >> 12 & 63] + B64[n >> 6 & 63] + B64[n & 63]
  }
  if (bytes.length - i === 1) {
    const n = bytes[i] << 16
    s += B64[n >> 18] + B64[n >> 12 & 63]
  } else if (bytes.length - i === 2) {
    const n = bytes[i] << 16 | bytes[i + 1] << 8
    s += B64[n >> 18] + B64[n >> 12 & 63] + B64[n >> 6 & 63]
  }
  return s
}

/**
 * Decodes canonical base64url without padding. Throws MALFORMED on padding,
 * white space, the standard alphabet, an impossible length or non-zero
 * trailing bits, so each byte string has exactly one accepted encoding.
 * @param {string} str
 * @returns {Uint8Array}
 */
export function fromBase64Url (str) {
  if (typeof str !== 'string' || !/^[A-Za-z0-9_-]*$/.test(str) || str.length % 4 === 1) {
    throw malformed('invalid base64url')
  }
  const out = new Uint8Array(str.length * 3 >> 2)
  let acc = 0
  let bits = 0
  let j = 0
  for (let i = 0; i < str.length; i++) {
    acc = (acc << 6 | B64_INDEX[str.charCodeAt(i)]) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[j++] = acc >> bits & 255
    }
  }
  if (acc & ((1 << bits) - 1)) throw malformed('non-canonical base64url')
  return out
}

/**
 * Returns n bytes from the platform's cryptographic random generator.
 * @param {number} n
 * @returns {Uint8Array}
 */
export function randomBytes (n) {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i += 65536) {
    globalThis.crypto.getRandomValues(b.subarray(i, i + 65536))
  }
  return b
}

const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

/**
 * Returns a new key id: 16 random bytes as 32 lowercase hex characters.
 * @returns {string}
 */
export function newKeyId () {
  return toHex(randomBytes(16))
}

/**
 * Returns a new event session id (one per tab): 32 lowercase hex characters.
 * @returns {string}
 */
export function newSessionId () {
  return toHex(randomBytes(16))
}

/**
 * Returns a new lowercase version 4 UUID (account and login ids).
 * @returns {string}
 */
export function newUuid () {
  const b = randomBytes(16)
  b[6] = b[6] & 0x0f | 0x40
  b[8] = b[8] & 0x3f | 0x80
  const h = toHex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * Returns a new 32-byte user secret (per visitor and account).
 * @returns {Uint8Array}
 */
export function generateUserSecret () {
  return randomBytes(KEY_SIZE)
}

/**
 * Returns a new 32-byte login key.
 * @returns {Uint8Array}
 */
export function generateLoginKey () {
  return randomBytes(KEY_SIZE)
}

/**
 * Returns a new 32-byte key encryption key (KEK) for an account.
 * @returns {Uint8Array}
 */
export function generateKek () {
  return randomBytes(KEY_SIZE)
}

/**
 * Returns a new 32-byte invite key (sent only in the join link's fragment,
 * base64url).
 * @returns {Uint8Array}
 */
export function generateInviteKey () {
  return randomBytes(KEY_SIZE)
}

/**
 * Returns a new 16-byte KDF salt (new at every password set).
 * @returns {Uint8Array}
 */
export function generateKdfSalt () {
  return randomBytes(SALT_SIZE)
}

/**
 * Splits and decodes a versioned string, checking label, part count and
 * part lengths. specs: [length, exact] per part.
 * @param {string} s
 * @param {string} label
 * @param {Array<[number, boolean]>} specs
 * @returns {Uint8Array[]}
 */
function parseVersioned (s, label, specs) {
  if (typeof s !== 'string' || !s.startsWith(label + '.')) {
    throw malformed(`want a ${label} string`)
  }
  const raw = s.slice(label.length + 1).split('.')
  if (raw.length !== specs.length) throw malformed(`${label}: wrong number of parts`)
  return raw.map((p, i) => {
    if (p === '') throw malformed(`${label}: empty part`)
    const b = fromBase64Url(p)
    const [n, exact] = specs[i]
    if (exact ? b.length !== n : b.length < n) throw malformed(`${label}: part ${i + 1} has wrong length`)
    return b
  })
}

/**
 * Imports 32 raw bytes as a non-extractable (unless asked) AES-256-GCM key.
 * A CryptoKey is returned unchanged.
 * @param {Uint8Array|ArrayBuffer|CryptoKey} key
 * @param {boolean} [extractable=false]
 * @returns {Promise<CryptoKey>}
 */
export async function importAesKey (key, extractable = false) {
  if (key instanceof ArrayBuffer) key = new Uint8Array(key)
  if (!(key instanceof Uint8Array)) return key
  if (key.length !== KEY_SIZE) throw malformed('AES key must have 32 bytes')
  return subtle().importKey('raw', key, { name: 'AES-GCM' }, extractable, ['encrypt', 'decrypt'])
}

/**
 * Encrypts bytes as `a1.<nonce>.<ciphertext‖tag>` with AES-256-GCM and the
 * given associated data (a string, UTF-8 encoded). The generic form of the
 * purpose-specific functions below.
 * @param {Uint8Array|CryptoKey} key
 * @param {string} aad
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} [nonce] tests only
 * @returns {Promise<string>}
 */
export async function sealA1 (key, aad, plaintext, nonce = randomBytes(NONCE_SIZE)) {
  const k = await importAesKey(key)
  const ct = await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(aad) }, k, plaintext)
  return 'a1.' + toBase64Url(nonce) + '.' + toBase64Url(new Uint8Array(ct))
}

/**
 * Decrypts an `a1` string sealed under the same associated data.
 * @param {Uint8Array|CryptoKey} key
 * @param {string} aad
 * @param {string} a1
 * @param {number} [size] exact plaintext length, checked before decrypting
 * @returns {Promise<Uint8Array>}
 */
export async function openA1 (key, aad, a1, size = -1) {
  const [nonce, ct] = parseVersioned(a1, 'a1', [[NONCE_SIZE, true], [TAG_SIZE, false]])
  if (size >= 0 && ct.length !== size + TAG_SIZE) throw malformed('a1: wrong ciphertext length')
  const k = await importAesKey(key)
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode(aad) }, k, ct))
  } catch {
    throw new CryptoError('DECRYPT', 'crypto: decryption failed')
  }
}

/**
 * Encrypts an event object (JSON) under the visitor's user secret for the
 * account: `a1` with AAD `offen/v1/event|<accountId>`.
 * @param {Uint8Array|CryptoKey} secretBytesOrKey
 * @param {string} accountId
 * @param {object} eventObject
 * @param {Uint8Array} [nonce] tests only
 * @returns {Promise<string>}
 */
export function encryptEvent (secretBytesOrKey, accountId, eventObject, nonce) {
  return sealA1(secretBytesOrKey, 'offen/v1/event|' + accountId, utf8.encode(JSON.stringify(eventObject)), nonce)
}

/**
 * Decrypts and parses an event; throws MALFORMED for non-JSON plaintext.
 * @param {Uint8Array|CryptoKey} secretBytesOrKey
 * @param {string} accountId
 * @param {string} a1String
 * @returns {Promise<object>}
 */
export async function decryptEvent (secretBytesOrKey, accountId, a1String) {
  const pt = await openA1(secretBytesOrKey, 'offen/v1/event|' + accountId, a1String)
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(pt))
  } catch {
    throw malformed('event is not JSON')
  }
}

const EVENT_NONCE_END = 3 + 16 // 'a1.' and 12 bytes of nonce in 16 characters
// Made at the first decryptEvents, so that bundles without it (the vault) carry none of it:
// B64_VALUE maps every UTF-16 code unit to its base64url value, or -1.
let B64_VALUE = null
let fatalUtf8 = null

// decodeInto decodes the canonical base64url characters str[from, to) into out at offset at,
// as fromBase64Url does; it returns the number of bytes, or -1 where fromBase64Url throws.
function decodeInto (str, from, to, out, at) {
  const rest = (to - from) & 3
  if (rest === 1) return -1
  const end = to - rest
  let j = at
  for (let i = from; i < end; i += 4) {
    const a = B64_VALUE[str.charCodeAt(i)]
    const b = B64_VALUE[str.charCodeAt(i + 1)]
    const c = B64_VALUE[str.charCodeAt(i + 2)]
    const d = B64_VALUE[str.charCodeAt(i + 3)]
    if ((a | b | c | d) < 0) return -1
    const n = a << 18 | b << 12 | c << 6 | d
    out[j] = n >> 16
    out[j + 1] = n >> 8 & 255
    out[j + 2] = n & 255
    j += 3
  }
  if (rest === 2) {
    const a = B64_VALUE[str.charCodeAt(end)]
    const b = B64_VALUE[str.charCodeAt(end + 1)]
    if ((a | b) < 0 || (b & 15) !== 0) return -1
    out[j++] = a << 2 | b >> 4
  } else if (rest === 3) {
    const a = B64_VALUE[str.charCodeAt(end)]
    const b = B64_VALUE[str.charCodeAt(end + 1)]
    const c = B64_VALUE[str.charCodeAt(end + 2)]
    if ((a | b | c) < 0 || (c & 3) !== 0) return -1
    out[j++] = a << 2 | b >> 4
    out[j++] = (b & 15) << 4 | c >> 2
  }
  return j - at
}

const decryptFailed = () => new CryptoError('DECRYPT', 'crypto: decryption failed')

/**
 * Decrypts many events of one account at once, as decryptEvent does each: every AES-GCM
 * operation is started before any is awaited, and one buffer holds all ciphertexts. Where
 * decryptEvent would throw, the result holds the CryptoError instead.
 * @param {string} accountId
 * @param {CryptoKey[]} keys the AES-GCM key of each event (from importAesKey)
 * @param {string[]} a1Strings
 * @returns {Promise<Array<object|CryptoError>>}
 */
export async function decryptEvents (accountId, keys, a1Strings) {
  if (B64_VALUE === null) {
    B64_VALUE = new Int8Array(65536).fill(-1)
    for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i
    fatalUtf8 = new TextDecoder('utf-8', { fatal: true })
  }
  const n = a1Strings.length
  let size = 0
  for (let i = 0; i < n; i++) {
    const s = a1Strings[i]
    if (typeof s === 'string' && s.length > EVENT_NONCE_END) size += NONCE_SIZE + (((s.length - EVENT_NONCE_END) * 3) >> 2) + 3
  }
  const buf = new Uint8Array(size)
  const aad = utf8.encode('offen/v1/event|' + accountId)
  const out = new Array(n)
  const ops = []
  const at = []
  let off = 0
  for (let i = 0; i < n; i++) {
    const s = a1Strings[i]
    if (typeof s !== 'string' || !s.startsWith('a1.') || s.length <= EVENT_NONCE_END + 1 || s.charCodeAt(EVENT_NONCE_END) !== 46) {
      out[i] = malformed('want an a1 string with two parts')
      continue
    }
    if (decodeInto(s, 3, EVENT_NONCE_END, buf, off) !== NONCE_SIZE) {
      out[i] = malformed('a1: invalid nonce')
      continue
    }
    const len = decodeInto(s, EVENT_NONCE_END + 1, s.length, buf, off + NONCE_SIZE)
    if (len < TAG_SIZE) {
      out[i] = malformed(len < 0 ? 'a1: invalid base64url' : 'a1: part 2 has wrong length')
      continue
    }
    const iv = buf.subarray(off, off + NONCE_SIZE)
    const ct = buf.subarray(off + NONCE_SIZE, off + NONCE_SIZE + len)
    off += NONCE_SIZE + len
    ops.push(subtle().decrypt({ name: 'AES-GCM', iv, additionalData: aad }, keys[i], ct).then(null, decryptFailed))
    at.push(i)
  }
  const plain = await Promise.all(ops)
  for (let k = 0; k < at.length; k++) {
    const pt = plain[k]
    if (pt instanceof CryptoError) {
      out[at[k]] = pt
      continue
    }
    try {
      out[at[k]] = JSON.parse(fatalUtf8.decode(pt))
    } catch {
      out[at[k]] = malformed('event is not JSON')
    }
  }
  return out
}

const rawPoint = async (publicKey) => new Uint8Array(await subtle().exportKey('raw', publicKey))

/**
 * Imports a `p256.…` account public key for ECDH.
 * @param {string} p256String
 * @returns {Promise<CryptoKey>}
 */
export async function importPublicKey (p256String) {
  const [point] = parseVersioned(p256String, 'p256', [[POINT_SIZE, true]])
  return importPoint(point)
}

async function importPoint (point) {
  if (point[0] !== 4) throw malformed('p256: not an uncompressed point')
  try {
    return await subtle().importKey('raw', point, { name: 'ECDH', namedCurve: 'P-256' }, true, [])
  } catch {
    throw malformed('p256: not a point on P-256')
  }
}

/**
 * Imports the PKCS#8 DER of a P-256 private key for ECDH (deriveBits).
 * @param {Uint8Array} pkcs8
 * @param {boolean} [extractable=false]
 * @returns {Promise<CryptoKey>}
 */
export async function importPrivateKey (pkcs8, extractable = false) {
  try {
    return await subtle().importKey('pkcs8', pkcs8, { name: 'ECDH', namedCurve: 'P-256' }, extractable, ['deriveBits', 'deriveKey'])
  } catch {
    throw malformed('not a PKCS#8 P-256 private key')
  }
}

/**
 * Generates an account key pair.
 * @returns {Promise<{publicKey: string, privateKey: Uint8Array}>} the public
 *   key as `p256.…` and the private key as PKCS#8 DER (encrypt it at once
 *   with encryptPrivateKey and drop it)
 */
export async function generateAccountKeyPair () {
  const kp = await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])
  return {
    publicKey: 'p256.' + toBase64Url(await rawPoint(kp.publicKey)),
    privateKey: new Uint8Array(await subtle().exportKey('pkcs8', kp.privateKey))
  }
}

const hkdfParams = (salt, info) => ({ name: 'HKDF', hash: 'SHA-256', salt: utf8.encode(salt), info: utf8.encode(info) })
const hkdfInput = (ikm, usage) => subtle().importKey('raw', ikm, 'HKDF', false, [usage])

// hkdf returns 32 bytes of HKDF-SHA256 output.
async function hkdf (ikm, salt, info) {
  return new Uint8Array(await subtle().deriveBits(hkdfParams(salt, info), await hkdfInput(ikm, 'deriveBits'), 256))
}

// hkdfAesKey returns HKDF-SHA256 output as a non-extractable AES-256-GCM key.
async function hkdfAesKey (ikm, salt, info) {
  return subtle().deriveKey(hkdfParams(salt, info), await hkdfInput(ikm, 'deriveKey'), { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

let e1Params = null
const eciesKey = async (privateKey, publicKey) => {
  if (privateKey.usages.includes('deriveKey')) {
    // the shared secret straight into an HKDF key: one WebCrypto call less per unwrap
    const ikm = await subtle().deriveKey({ name: 'ECDH', public: publicKey }, privateKey, { name: 'HKDF' }, false, ['deriveKey'])
    e1Params = e1Params || hkdfParams('offen/v1/e1', 'user-secret')
    return subtle().deriveKey(e1Params, ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  }
  return hkdfAesKey(await subtle().deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256), 'offen/v1/e1', 'user-secret')
}

/**
 * Wraps a 32-byte user secret for the account public key (ECIES):
 * `e1.<ephemeral point>.<nonce>.<ciphertext‖tag>` with AAD
 * `offen/v1/user-secret|<accountId>`.
 * @param {string} publicKeyP256String
 * @param {string} accountId
 * @param {Uint8Array} secretBytes
 * @param {{ephemeralPkcs8: Uint8Array, nonce: Uint8Array}} [fixed] tests only
 * @returns {Promise<string>}
 */
export async function wrapUserSecret (publicKeyP256String, accountId, secretBytes, fixed) {
  if (!(secretBytes instanceof Uint8Array) || secretBytes.length !== KEY_SIZE) throw malformed('user secret must have 32 bytes')
  const pub = await importPublicKey(publicKeyP256String)
  let priv, point
  if (fixed) {
    priv = await importPrivateKey(fixed.ephemeralPkcs8, true)
    const jwk = await subtle().exportKey('jwk', priv)
    point = new Uint8Array([4, ...fromBase64Url(jwk.x), ...fromBase64Url(jwk.y)])
  } else {
    const kp = await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])
    priv = kp.privateKey
    point = await rawPoint(kp.publicKey)
  }
  const nonce = fixed ? fixed.nonce : randomBytes(NONCE_SIZE)
  const key = await eciesKey(priv, pub)
  const a1 = await sealA1(key, 'offen/v1/user-secret|' + accountId, secretBytes, nonce)
  return 'e1.' + toBase64Url(point) + a1.slice(2)
}

/**
 * Unwraps an `e1` user secret with the account's private key (a CryptoKey
 * from importPrivateKey or decryptPrivateKey).
 * @param {CryptoKey} privateCryptoKey
 * @param {string} accountId
 * @param {string} e1String
 * @returns {Promise<Uint8Array>} the 32-byte user secret
 */
export async function unwrapUserSecret (privateCryptoKey, accountId, e1String) {
  const [point, nonce, ct] = parseVersioned(e1String, 'e1', [[POINT_SIZE, true], [NONCE_SIZE, true], [KEY_SIZE + TAG_SIZE, true]])
  const eph = await importPoint(point)
  const key = await eciesKey(privateCryptoKey, eph)
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: nonce, additionalData: utf8.encode('offen/v1/user-secret|' + accountId) }, key, ct))
  } catch {
    throw new CryptoError('DECRYPT', 'crypto: decryption failed')
  }
}

const checkKey = (b, what) => {
  if (!(b instanceof Uint8Array) || b.length !== KEY_SIZE) throw malformed(what + ' must have 32 bytes')
  return b
}

/**
 * Derives the login keys from a password: master key =
 * PBKDF2-HMAC-SHA256(NFC(password), salt, iterations, 32 B); auth and wrap
 * keys by HKDF-SHA256 (salt `offen/v1/login`, info `auth` / `wrap`).
 * Throws WEAK_KDF for fewer than 600,000 iterations or a salt other than
 * 16 bytes.
 * @param {string} password
 * @param {Uint8Array} saltBytes
 * @param {number} iterations
 * @returns {Promise<{authKey: Uint8Array, wrapKey: CryptoKey}>} the auth key
 *   to send (base64url) and the wrap key as a non-extractable AES-GCM key
 */
export async function deriveLoginKeys (password, saltBytes, iterations) {
  if (!Number.isSafeInteger(iterations) || iterations < KDF_ITERATIONS || !(saltBytes instanceof Uint8Array) || saltBytes.length !== SALT_SIZE) {
    throw new CryptoError('WEAK_KDF', 'crypto: kdf parameters too weak')
  }
  const pw = await subtle().importKey('raw', utf8.encode(password.normalize('NFC')), 'PBKDF2', false, ['deriveBits'])
  const master = new Uint8Array(await subtle().deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: saltBytes, iterations }, pw, 256))
  return {
    authKey: await hkdf(master, 'offen/v1/login', 'auth'),
    wrapKey: await hkdfAesKey(master, 'offen/v1/login', 'wrap')
  }
}

/**
 * Wraps the 32-byte login key under the wrap key: `a1` with AAD
 * `offen/v1/login-key|<loginId>`.
 * @param {Uint8Array|CryptoKey} wrapKey
 * @param {string} loginId
 * @param {Uint8Array} loginKey
 * @param {Uint8Array} [nonce] tests only
 * @returns {Promise<string>}
 */
export function wrapLoginKey (wrapKey, loginId, loginKey, nonce) {
  return sealA1(wrapKey, 'offen/v1/login-key|' + loginId, checkKey(loginKey, 'login key'), nonce)
}

/**
 * Unwraps a login key wrapped by wrapLoginKey.
 * @param {Uint8Array|CryptoKey} wrapKey
 * @param {string} loginId
 * @param {string} a1
 * @returns {Promise<Uint8Array>}
 */
export function unwrapLoginKey (wrapKey, loginId, a1) {
  return openA1(wrapKey, 'offen/v1/login-key|' + loginId, a1, KEY_SIZE)
}

/**
 * Returns a new recovery code (20 random bytes; show formatRecoveryCode).
 * @returns {Uint8Array}
 */
export function generateRecoveryCode () {
  return randomBytes(RECOVERY_CODE_SIZE)
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * Formats 20 code bytes as 32 Crockford base32 symbols (big-endian, 5 bits
 * each) in eight groups of four joined by "-".
 * @param {Uint8Array} codeBytes
 * @returns {string}
 */
export function formatRecoveryCode (codeBytes) {
  if (!(codeBytes instanceof Uint8Array) || codeBytes.length !== RECOVERY_CODE_SIZE) throw malformed('recovery code must have 20 bytes')
  let s = ''
  let acc = 0
  let bits = 0
  for (const c of codeBytes) {
    acc = (acc << 8 | c) & 0xfff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      s += CROCKFORD[acc >> bits & 31]
    }
  }
  return s.match(/.{4}/g).join('-')
}

/**
 * Parses a recovery code: ignores case, hyphens and spaces, maps O to 0 and
 * I, L to 1, and requires exactly 32 Crockford symbols; throws MALFORMED.
 * @param {string} str
 * @returns {Uint8Array} the 20 code bytes
 */
export function parseRecoveryCode (str) {
  if (typeof str !== 'string' || str.length > 128) throw malformed('invalid recovery code')
  const syms = str.replace(/[- ]/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1')
  if (syms.length !== 32) throw malformed('recovery code needs 32 symbols')
  const out = new Uint8Array(RECOVERY_CODE_SIZE)
  let acc = 0
  let bits = 0
  let j = 0
  for (const c of syms) {
    const v = CROCKFORD.indexOf(c)
    if (v < 0) throw malformed('invalid recovery code character')
    acc = (acc << 5 | v) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[j++] = acc >> bits & 255
    }
  }
  return out
}

/**
 * Derives recovery key and proof from the 20 code bytes by HKDF-SHA256
 * (salt `offen/v1/recovery`, info `wrap` / `proof`).
 * @param {Uint8Array} codeBytes
 * @returns {Promise<{recoveryKey: CryptoKey, proof: Uint8Array}>}
 */
export async function deriveRecoveryKeys (codeBytes) {
  if (!(codeBytes instanceof Uint8Array) || codeBytes.length !== RECOVERY_CODE_SIZE) throw malformed('recovery code must have 20 bytes')
  return {
    recoveryKey: await hkdfAesKey(codeBytes, 'offen/v1/recovery', 'wrap'),
    proof: await hkdf(codeBytes, 'offen/v1/recovery', 'proof')
  }
}

/**
 * Wraps the login key under the recovery key: `a1` with AAD
 * `offen/v1/recovery-login-key|<loginId>`.
 * @param {Uint8Array|CryptoKey} recoveryKey
 * @param {string} loginId
 * @param {Uint8Array} loginKey
 * @param {Uint8Array} [nonce] tests only
 * @returns {Promise<string>}
 */
export function recoveryWrapLoginKey (recoveryKey, loginId, loginKey, nonce) {
  return sealA1(recoveryKey, 'offen/v1/recovery-login-key|' + loginId, checkKey(loginKey, 'login key'), nonce)
}

/**
 * Unwraps a login key wrapped by recoveryWrapLoginKey (a DECRYPT error
 * means a wrong recovery code).
 * @param {Uint8Array|CryptoKey} recoveryKey
 * @param {string} loginId
 * @param {string} a1
 * @returns {Promise<Uint8Array>}
 */
export function recoveryUnwrapLoginKey (recoveryKey, loginId, a1) {
  return openA1(recoveryKey, 'offen/v1/recovery-login-key|' + loginId, a1, KEY_SIZE)
}

/**
 * Derives invite wrap key and invite token from the 32-byte invite key by
 * HKDF-SHA256 (salt `offen/v1/invite`, info `wrap` / `token`).
 * @param {Uint8Array} inviteKey
 * @returns {Promise<{wrapKey: CryptoKey, token: Uint8Array}>}
 */
export async function deriveInviteKeys (inviteKey) {
  checkKey(inviteKey, 'invite key')
  return {
    wrapKey: await hkdfAesKey(inviteKey, 'offen/v1/invite', 'wrap'),
    token: await hkdf(inviteKey, 'offen/v1/invite', 'token')
  }
}

/**
 * Wraps an account KEK under a login key or invite wrap key: `a1` with AAD
 * `offen/v1/kek|<accountId>`.
 * @param {Uint8Array|CryptoKey} key
 * @param {string} accountId
 * @param {Uint8Array} kek
 * @param {Uint8Array} [nonce] tests only
 * @returns {Promise<string>}
 */
export function wrapKek (key, accountId, kek, nonce) {
  return sealA1(key, 'offen/v1/kek|' + accountId, checkKey(kek, 'KEK'), nonce)
}

/**
 * Unwraps a KEK wrapped by wrapKek.
 * @param {Uint8Array|CryptoKey} key
 * @param {string} accountId
 * @param {string} a1
 * @returns {Promise<Uint8Array>}
 */
export function unwrapKek (key, accountId, a1) {
  return openA1(key, 'offen/v1/kek|' + accountId, a1, KEY_SIZE)
}

/**
 * Encrypts the account private key (PKCS#8 DER, or an extractable CryptoKey)
 * under the KEK: `a1` with AAD `offen/v1/private-key|<accountId>`.
 * @param {Uint8Array|CryptoKey} kek
 * @param {string} accountId
 * @param {Uint8Array|CryptoKey} privateKey
 * @param {Uint8Array} [nonce] tests only
 * @returns {Promise<string>}
 */
export async function encryptPrivateKey (kek, accountId, privateKey, nonce) {
  const der = privateKey instanceof Uint8Array ? privateKey : new Uint8Array(await subtle().exportKey('pkcs8', privateKey))
  return sealA1(kek, 'offen/v1/private-key|' + accountId, der, nonce)
}

/**
 * Decrypts the account private key and imports it for ECDH.
 * @param {Uint8Array|CryptoKey} kek
 * @param {string} accountId
 * @param {string} a1
 * @param {boolean} [extractable=false]
 * @returns {Promise<CryptoKey>}
 */
export async function decryptPrivateKey (kek, accountId, a1, extractable = false) {
  return importPrivateKey(await openA1(kek, 'offen/v1/private-key|' + accountId, a1), extractable)
}

/**
 * Encrypts a grant label (the holder's e-mail address) under the KEK: `a1`
 * with AAD `offen/v1/label|<accountId>`.
 * @param {Uint8Array|CryptoKey} kek
 * @param {string} accountId
 * @param {string} label
 * @param {Uint8Array} [nonce] tests only
 * @returns {Promise<string>}
 */
export function encryptLabel (kek, accountId, label, nonce) {
  return sealA1(kek, 'offen/v1/label|' + accountId, utf8.encode(label), nonce)
}

/**
 * Decrypts a grant label.
 * @param {Uint8Array|CryptoKey} kek
 * @param {string} accountId
 * @param {string} a1
 * @returns {Promise<string>}
 */
export async function decryptLabel (kek, accountId, a1) {
  const pt = await openA1(kek, 'offen/v1/label|' + accountId, a1)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(pt)
  } catch {
    throw malformed('label is not UTF-8')
  }
}
