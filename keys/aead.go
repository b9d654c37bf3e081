// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"unicode/utf8"
)

const (
	// KeySize is the size of every symmetric key: user secrets, KEKs, login
	// keys, invite keys and all derived AES-256 keys.
	KeySize   = 32
	nonceSize = 12
	tagSize   = 16
)

// Associated data prefixes of PROTOCOL §2.3; the AAD is prefix + "|" + id.
const (
	aadEvent            = "offen/v1/event"
	aadUserSecret       = "offen/v1/user-secret"
	aadPrivateKey       = "offen/v1/private-key"
	aadKEK              = "offen/v1/kek"
	aadLoginKey         = "offen/v1/login-key"
	aadRecoveryLoginKey = "offen/v1/recovery-login-key"
	aadLabel            = "offen/v1/label"
	aadCertificate      = "offen/v1/certificate"
)

func aad(prefix, id string) []byte {
	b := make([]byte, 0, len(prefix)+1+len(id))
	b = append(b, prefix...)
	b = append(b, '|')
	return append(b, id...)
}

// NewCipher returns the AES-256-GCM AEAD for a 32-byte key. Preparing it once
// and passing it to EncryptEvent or DecryptEvent makes each event cheap.
func NewCipher(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keys: new cipher: %w: key has %d bytes, want %d", ErrMalformed, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: new cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

func newNonce() []byte {
	n := make([]byte, nonceSize)
	rand.Read(n)
	return n
}

// sealA1 encrypts with a given nonce; production code passes newNonce().
func sealA1(c cipher.AEAD, nonce, ad, plaintext []byte) string {
	return formatVersioned(LabelA1, nonce, c.Seal(nil, nonce, plaintext, ad))
}

// openA1 parses and decrypts an a1 string. When size >= 0 the plaintext must
// have exactly size bytes, which is checked before decrypting.
func openA1(c cipher.AEAD, ad []byte, s string, size int) ([]byte, error) {
	parts, err := parseVersioned(s, LabelA1)
	if err != nil {
		return nil, err
	}
	if size >= 0 && len(parts[1]) != size+tagSize {
		return nil, fmt.Errorf("keys: parse a1: %w: ciphertext has %d bytes, want %d", ErrMalformed, len(parts[1]), size+tagSize)
	}
	pt, err := c.Open(nil, parts[0], parts[1], ad)
	if err != nil {
		return nil, fmt.Errorf("keys: open a1: %w", ErrDecrypt)
	}
	return pt, nil
}

func sealWithKey(key []byte, ad, plaintext []byte) (string, error) {
	c, err := NewCipher(key)
	if err != nil {
		return "", err
	}
	return sealA1(c, newNonce(), ad, plaintext), nil
}

func openWithKey(key []byte, ad []byte, s string, size int) ([]byte, error) {
	c, err := NewCipher(key)
	if err != nil {
		return nil, err
	}
	return openA1(c, ad, s, size)
}

func checkKey(what string, k []byte) error {
	if len(k) != KeySize {
		return fmt.Errorf("keys: %s: %w: %d bytes, want %d", what, ErrMalformed, len(k), KeySize)
	}
	return nil
}

// SealA1 encrypts plaintext under c with a fresh random nonce and the given
// associated data and returns "a1.<nonce>.<ciphertext‖tag>". It is the
// generic form of the purpose-specific functions below (e.g. for §11 rollups).
func SealA1(c cipher.AEAD, ad, plaintext []byte) string {
	return sealA1(c, newNonce(), ad, plaintext)
}

// OpenA1 parses and decrypts an a1 string sealed with SealA1 under the same
// associated data. Errors wrap ErrMalformed or ErrDecrypt.
func OpenA1(c cipher.AEAD, ad []byte, s string) ([]byte, error) {
	return openA1(c, ad, s, -1)
}

// EncryptEvent encrypts an event payload (the event JSON) under the user
// secret's cipher (see NewCipher) for the account: a1 with AAD
// "offen/v1/event|<accountID>".
func EncryptEvent(secret cipher.AEAD, accountID string, payload []byte) string {
	return sealA1(secret, newNonce(), aad(aadEvent, accountID), payload)
}

// DecryptEvent reverses EncryptEvent. Errors wrap ErrMalformed or ErrDecrypt.
func DecryptEvent(secret cipher.AEAD, accountID, s string) ([]byte, error) {
	return openA1(secret, aad(aadEvent, accountID), s, -1)
}

// EncryptPrivateKey encrypts the PKCS#8 DER of the account private key under
// the account's KEK: a1 with AAD "offen/v1/private-key|<accountID>".
func EncryptPrivateKey(kek []byte, accountID string, priv *ecdh.PrivateKey) (string, error) {
	der, err := MarshalPrivateKey(priv)
	if err != nil {
		return "", err
	}
	return sealWithKey(kek, aad(aadPrivateKey, accountID), der)
}

// DecryptPrivateKey reverses EncryptPrivateKey.
func DecryptPrivateKey(kek []byte, accountID, s string) (*ecdh.PrivateKey, error) {
	der, err := openWithKey(kek, aad(aadPrivateKey, accountID), s, -1)
	if err != nil {
		return nil, err
	}
	return ParsePrivateKey(der)
}

// WrapKEK wraps a 32-byte KEK under a login key or an invite wrap key: a1
// with AAD "offen/v1/kek|<accountID>".
func WrapKEK(key []byte, accountID string, kek []byte) (string, error) {
	if err := checkKey("wrap kek", kek); err != nil {
		return "", err
	}
	return sealWithKey(key, aad(aadKEK, accountID), kek)
}

// UnwrapKEK reverses WrapKEK and returns the 32-byte KEK.
func UnwrapKEK(key []byte, accountID, s string) ([]byte, error) {
	return openWithKey(key, aad(aadKEK, accountID), s, KeySize)
}

// WrapLoginKey wraps a 32-byte login key under the wrap key derived from the
// password: a1 with AAD "offen/v1/login-key|<loginID>".
func WrapLoginKey(wrapKey []byte, loginID string, loginKey []byte) (string, error) {
	if err := checkKey("wrap login key", loginKey); err != nil {
		return "", err
	}
	return sealWithKey(wrapKey, aad(aadLoginKey, loginID), loginKey)
}

// UnwrapLoginKey reverses WrapLoginKey and returns the 32-byte login key.
func UnwrapLoginKey(wrapKey []byte, loginID, s string) ([]byte, error) {
	return openWithKey(wrapKey, aad(aadLoginKey, loginID), s, KeySize)
}

// RecoveryWrapLoginKey wraps a 32-byte login key under the recovery key: a1
// with AAD "offen/v1/recovery-login-key|<loginID>".
func RecoveryWrapLoginKey(recoveryKey []byte, loginID string, loginKey []byte) (string, error) {
	if err := checkKey("recovery wrap login key", loginKey); err != nil {
		return "", err
	}
	return sealWithKey(recoveryKey, aad(aadRecoveryLoginKey, loginID), loginKey)
}

// RecoveryUnwrapLoginKey reverses RecoveryWrapLoginKey.
func RecoveryUnwrapLoginKey(recoveryKey []byte, loginID, s string) ([]byte, error) {
	return openWithKey(recoveryKey, aad(aadRecoveryLoginKey, loginID), s, KeySize)
}

// EncryptLabel encrypts a grant label (the holder's e-mail address, UTF-8)
// under the account's KEK: a1 with AAD "offen/v1/label|<accountID>".
func EncryptLabel(kek []byte, accountID, label string) (string, error) {
	return sealWithKey(kek, aad(aadLabel, accountID), []byte(label))
}

// DecryptLabel reverses EncryptLabel; a plaintext that is not UTF-8 is an
// error wrapping ErrMalformed.
func DecryptLabel(kek []byte, accountID, s string) (string, error) {
	pt, err := openWithKey(kek, aad(aadLabel, accountID), s, -1)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(pt) {
		return "", fmt.Errorf("keys: decrypt label: %w: not utf-8", ErrMalformed)
	}
	return string(pt), nil
}

// EncryptCertificate encrypts an autocert cache entry under the instance's
// certificates key: a1 with AAD "offen/v1/certificate|<name>".
func EncryptCertificate(key []byte, name string, data []byte) (string, error) {
	return sealWithKey(key, aad(aadCertificate, name), data)
}

// DecryptCertificate reverses EncryptCertificate.
func DecryptCertificate(key []byte, name, s string) ([]byte, error) {
	return openWithKey(key, aad(aadCertificate, name), s, -1)
}
