// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package keys implements every cryptographic primitive and format of Offen
// (PROTOCOL.md §2 and the derived values of §3): versioned ciphertext strings,
// the password, recovery and invite derivations, ECIES wrapping of user
// secrets, the server's keyed indexes and the random identifiers.
// keys/js/crypto.js implements the client side of the same formats on
// WebCrypto, testdata/vectors.json pins the bytes for both, and
// keys/PROTOCOL.md describes the protocol as implemented for third parties.
//
// The package is a leaf: standard library and golang.org/x only, pure
// functions over bytes, randomness from crypto/rand, constant-time
// comparisons, no logging. Malformed input yields an error wrapping
// ErrMalformed, detected before any cryptographic operation; a ciphertext
// that fails to authenticate (wrong key, foreign account or login id,
// tampered bytes) yields one wrapping ErrDecrypt. Nothing panics on input.
//
// # Encodings
//
// Binary values in strings are base64url without padding (RFC 4648 §5).
// Decoders accept only the canonical form: no "=", no white space, no "+" or
// "/", no length ≡ 1 (mod 4) and zero unused trailing bits. Hex is lowercase.
//
// # Versioned strings
//
//	value = label "." part *( "." part )   ; each part non-empty base64url
//
// The label fixes the algorithm, the number of parts and their lengths, and
// readers check all three before decoding further:
//
//	a1.<nonce>.<ct>              AES-256-GCM
//	    nonce  12 bytes, random per encryption
//	    ct     ciphertext ‖ 16-byte tag, ≥ 16 bytes (= 48 for a wrapped 32-byte key)
//	e1.<point>.<nonce>.<ct>      ECIES on P-256
//	    point  65 bytes: 0x04 ‖ X (32, big-endian) ‖ Y (32), ephemeral public key
//	    nonce  12 bytes
//	    ct     48 bytes: AES-256-GCM of the 32-byte user secret ‖ 16-byte tag
//	p256.<point>                 account public key, 65-byte uncompressed point
//	argon2id1.<salt>.<hash>      salt 16 bytes, hash 32 bytes
//
// # a1 and its associated data
//
// a1 = AES-256-GCM(key, nonce, plaintext, AAD) where AAD is the UTF-8 string
// "<prefix>|<id>" ("|" is the byte 0x7C):
//
//	EncryptEvent          user secret      event JSON              offen/v1/event|<accountId>
//	EncryptPrivateKey     KEK              PKCS#8 DER (P-256)      offen/v1/private-key|<accountId>
//	WrapKEK               login key or
//	                      invite wrap key  KEK (32 B)              offen/v1/kek|<accountId>
//	WrapLoginKey          wrap key         login key (32 B)        offen/v1/login-key|<loginId>
//	RecoveryWrapLoginKey  recovery key     login key (32 B)        offen/v1/recovery-login-key|<loginId>
//	EncryptLabel          KEK              e-mail address (UTF-8)  offen/v1/label|<accountId>
//	EncryptCertificate    certificates key autocert data           offen/v1/certificate|<name>
//
// Account and login ids are lowercase UUID strings as they appear in the API.
//
// # e1
//
// WrapUserSecret: generate an ephemeral P-256 key pair e; Z = the 32-byte
// big-endian x-coordinate of ECDH(e, account public key) (WebCrypto
// deriveBits with length 256); K = HKDF-SHA256(IKM Z, salt "offen/v1/e1",
// info "user-secret", 32 bytes); ct = AES-256-GCM(K, nonce, user secret,
// AAD "offen/v1/user-secret|<accountId>"); output e1.<e.pub>.<nonce>.<ct>.
// UnwrapUserSecret recomputes Z with the account private key and e.pub.
//
// # Private keys
//
// Account private keys travel as PKCS#8 DER (RFC 5208): PrivateKeyInfo with
// version 0, algorithm id-ecPublicKey (1.2.840.10045.2.1) with parameter
// prime256v1 (1.2.840.10045.3.1.7), and an ECPrivateKey (RFC 5915) of
// version 1 with the 32-byte big-endian scalar, optionally the curve [0] and
// optionally the public key [1]; this is WebCrypto's exportKey("pkcs8"). A
// present public key must match the scalar.
//
// # Derivations
//
// HKDF is HKDF-SHA256 (RFC 5869) with UTF-8 salt and info strings and a 32-byte
// output:
//
//	master key    = PBKDF2-HMAC-SHA256(UTF-8(NFC(password)), salt 16 B, 600,000 iterations, 32 B)
//	auth key      = HKDF(master key, "offen/v1/login", "auth")
//	wrap key      = HKDF(master key, "offen/v1/login", "wrap")
//	recovery key  = HKDF(recovery code (20 B), "offen/v1/recovery", "wrap")
//	recovery proof= HKDF(recovery code, "offen/v1/recovery", "proof")
//	invite wrap   = HKDF(invite key (32 B), "offen/v1/invite", "wrap")
//	invite token  = HKDF(invite key, "offen/v1/invite", "token")
//	instance keys = HKDF(OFFEN_SECRET (≥ 32 B), "offen/v1/instance", "email-index" | "fake-salt" | "certificates" | "device")
//
// Clients refuse fewer than 600,000 iterations or a salt other than 16 bytes
// (ErrWeakKDF).
//
// # Server-side values
//
//	argon2id1     argon2id(auth key, salt 16 B random, t = 2, m = 19,456 KiB, p = 1, 32 B)
//	token hash    SHA-256(token bytes): sessions, reset and invite tokens, recovery proofs
//	secretId      hex HMAC-SHA256(key = account user salt (16 B), message = user id (16 B))
//	e-mail index  hex HMAC-SHA256(email-index key, normalized address)
//	fake salt     first 16 bytes of HMAC-SHA256(fake-salt key, normalized address)
//	device token  nonce 16 B ‖ first 16 bytes of HMAC-SHA256(device key, "offen/v1/device|" ‖ e-mail index ‖ "|" ‖ nonce)
//
// A normalized address is the input with surrounding white space trimmed,
// NFC-normalized and lower-cased (Unicode), 3 to 254 bytes, with exactly one
// "@" that has text on both sides.
//
// # Recovery codes
//
// 20 random bytes written big-endian, 5 bits per symbol, as 32 symbols of
// Crockford's base32 alphabet 0123456789ABCDEFGHJKMNPQRSTVWXYZ, in eight
// groups of four joined by "-". Parsing ignores case, "-" and " ", reads O as
// 0 and I, L as 1, and rejects every other character and any count but 32.
//
// # Identifiers
//
//	account, login id  UUID version 4, lowercase, 8-4-4-4-12 hex
//	key id, session id 16 random bytes as 32 lowercase hex (also the visitor user id)
//	tokens, keys       32 random bytes, base64url where they appear in text
//	event id           ULID: 48-bit big-endian Unix milliseconds ‖ 80 random bits
//	                   (crypto/rand), 26 upper-case Crockford symbols (2 leading
//	                   zero bits, so the first symbol is 0-7); sorts by time
package keys
