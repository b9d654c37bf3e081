// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"crypto/hkdf"
	"crypto/pbkdf2"
	"crypto/sha256"
	"fmt"

	"golang.org/x/text/unicode/norm"
)

const (
	// KDFIterations is the PBKDF2-HMAC-SHA256 iteration count for new
	// passwords, and the minimum a client accepts.
	KDFIterations = 600_000
	// KDFSaltSize is the size of a login's KDF salt.
	KDFSaltSize = 16
	// KDFName is how the parameters are named in logins.kdf and LoginState.
	KDFName = "pbkdf2-sha256"
)

// LoginKeys are the keys derived from a password (PROTOCOL §2.2).
type LoginKeys struct {
	// AuthKey is sent at login; the server keeps HashAuthKey of it.
	AuthKey []byte
	// WrapKey wraps the login key; it never leaves the client.
	WrapKey []byte
}

// DeriveLoginKeys derives master key = PBKDF2-HMAC-SHA256(NFC(password),
// salt, iterations, 32 B), then auth and wrap keys by HKDF-SHA256 with salt
// "offen/v1/login" and info "auth" and "wrap". It refuses (ErrWeakKDF) fewer
// than KDFIterations iterations or a salt other than 16 bytes.
func DeriveLoginKeys(password string, salt []byte, iterations int) (LoginKeys, error) {
	if iterations < KDFIterations || len(salt) != KDFSaltSize {
		return LoginKeys{}, fmt.Errorf("keys: derive login keys: %w", ErrWeakKDF)
	}
	master, err := pbkdf2.Key(sha256.New, norm.NFC.String(password), salt, iterations, KeySize)
	if err != nil {
		return LoginKeys{}, fmt.Errorf("keys: derive login keys: %w", err)
	}
	auth, err := hkdf.Key(sha256.New, master, []byte("offen/v1/login"), "auth", KeySize)
	if err != nil {
		return LoginKeys{}, fmt.Errorf("keys: derive login keys: %w", err)
	}
	wrap, err := hkdf.Key(sha256.New, master, []byte("offen/v1/login"), "wrap", KeySize)
	if err != nil {
		return LoginKeys{}, fmt.Errorf("keys: derive login keys: %w", err)
	}
	return LoginKeys{AuthKey: auth, WrapKey: wrap}, nil
}

// RecoveryKeys are derived from a recovery code.
type RecoveryKeys struct {
	// Key wraps the login key (a1, see RecoveryWrapLoginKey).
	Key []byte
	// Proof authorizes a reset; the server keeps HashToken(Proof).
	Proof []byte
}

// DeriveRecoveryKeys derives recovery key and proof from the 20 code bytes
// by HKDF-SHA256 with salt "offen/v1/recovery" and info "wrap" and "proof".
func DeriveRecoveryKeys(code []byte) (RecoveryKeys, error) {
	if len(code) != RecoveryCodeSize {
		return RecoveryKeys{}, fmt.Errorf("keys: derive recovery keys: %w: code has %d bytes", ErrMalformed, len(code))
	}
	k, err1 := hkdf.Key(sha256.New, code, []byte("offen/v1/recovery"), "wrap", KeySize)
	p, err2 := hkdf.Key(sha256.New, code, []byte("offen/v1/recovery"), "proof", KeySize)
	if err1 != nil || err2 != nil {
		return RecoveryKeys{}, fmt.Errorf("keys: derive recovery keys: hkdf failed")
	}
	return RecoveryKeys{Key: k, Proof: p}, nil
}

// InviteKeys are derived from an invite key.
type InviteKeys struct {
	// WrapKey wraps KEKs for the invitee (see WrapKEK).
	WrapKey []byte
	// Token authorizes a join; the server keeps HashToken(Token).
	Token []byte
}

// DeriveInviteKeys derives the invite wrap key and token from a 32-byte
// invite key by HKDF-SHA256 with salt "offen/v1/invite" and info "wrap" and
// "token".
func DeriveInviteKeys(inviteKey []byte) (InviteKeys, error) {
	if err := checkKey("derive invite keys", inviteKey); err != nil {
		return InviteKeys{}, err
	}
	w, err1 := hkdf.Key(sha256.New, inviteKey, []byte("offen/v1/invite"), "wrap", KeySize)
	t, err2 := hkdf.Key(sha256.New, inviteKey, []byte("offen/v1/invite"), "token", KeySize)
	if err1 != nil || err2 != nil {
		return InviteKeys{}, fmt.Errorf("keys: derive invite keys: hkdf failed")
	}
	return InviteKeys{WrapKey: w, Token: t}, nil
}

// MinInstanceSecretSize is the minimum length of OFFEN_SECRET in bytes.
const MinInstanceSecretSize = 32

// InstanceKeys are the server's keys derived from the instance secret.
type InstanceKeys struct {
	EmailIndex   []byte // HMAC key of EmailIndex
	FakeSalt     []byte // HMAC key of FakeSalt
	Certificates []byte // AES key of EncryptCertificate
	Device       []byte // HMAC key of NewDeviceToken
}

// DeriveInstanceKeys derives the server keys from the instance secret (at
// least 32 bytes) by HKDF-SHA256 with salt "offen/v1/instance" and info
// "email-index", "fake-salt", "certificates" and "device".
func DeriveInstanceKeys(secret []byte) (InstanceKeys, error) {
	if len(secret) < MinInstanceSecretSize {
		return InstanceKeys{}, fmt.Errorf("keys: derive instance keys: %w: secret has %d bytes, want at least %d", ErrMalformed, len(secret), MinInstanceSecretSize)
	}
	var out [4][]byte
	for i, info := range []string{"email-index", "fake-salt", "certificates", "device"} {
		k, err := hkdf.Key(sha256.New, secret, []byte("offen/v1/instance"), info, KeySize)
		if err != nil {
			return InstanceKeys{}, fmt.Errorf("keys: derive instance keys: %w", err)
		}
		out[i] = k
	}
	return InstanceKeys{EmailIndex: out[0], FakeSalt: out[1], Certificates: out[2], Device: out[3]}, nil
}
