// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// Fixed argon2id1 parameters (PROTOCOL §2.1).
const (
	argonMemory   = 19456 // KiB
	argonTime     = 2
	argonThreads  = 1
	argonSaltSize = 16
	argonHashSize = 32
)

// HashAuthKey returns "argon2id1.<salt>.<hash>" for a 32-byte auth key, with
// a fresh 16-byte salt and argon2id(m = 19,456 KiB, t = 2, p = 1, 32 B).
func HashAuthKey(authKey []byte) (string, error) {
	salt := make([]byte, argonSaltSize)
	rand.Read(salt)
	return hashAuthKey(authKey, salt)
}

func hashAuthKey(authKey, salt []byte) (string, error) {
	if err := checkKey("hash auth key", authKey); err != nil {
		return "", err
	}
	h := argon2.IDKey(authKey, salt, argonTime, argonMemory, argonThreads, argonHashSize)
	return formatVersioned(LabelArgon2id, salt, h), nil
}

// VerifyAuthKey reports whether authKey matches an argon2id1 hash, comparing
// in constant time. A malformed hash is an error wrapping ErrMalformed; an
// auth key of the wrong length is simply no match (after the same work).
func VerifyAuthKey(encoded string, authKey []byte) (bool, error) {
	parts, err := parseVersioned(encoded, LabelArgon2id)
	if err != nil {
		return false, err
	}
	h := argon2.IDKey(authKey, parts[0], argonTime, argonMemory, argonThreads, argonHashSize)
	ok := subtle.ConstantTimeCompare(h, parts[1]) == 1
	return ok && len(authKey) == KeySize, nil
}

// DummyAuthHash is a well-formed argon2id1 string whose hash part is a fixed
// text, not the output of argon2id for any known key, so no auth key matches.
// Verifying against it makes a login for an unknown address cost the same.
const DummyAuthHash = "argon2id1.AAAAAAAAAAAAAAAAAAAAAA.dummyDummyDummyDummyDummyDummyDummyDummyDUA"

// HashToken returns SHA-256 of a token, recovery proof or invite token, the
// form the server stores.
func HashToken(token []byte) []byte {
	h := sha256.Sum256(token)
	return h[:]
}

// Equal compares two byte strings in constant time (for equal lengths).
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// UserSaltSize is the size of an account's user salt.
const UserSaltSize = 16

// SecretID returns hex HMAC-SHA256(key = the account's 16-byte user salt,
// message = the 16 user id bytes), the per-account visitor pseudonym.
func SecretID(userSalt, userID []byte) (string, error) {
	if len(userSalt) != UserSaltSize || len(userID) != UserIDSize {
		return "", fmt.Errorf("keys: secret id: %w: want 16-byte salt and user id", ErrMalformed)
	}
	m := hmac.New(sha256.New, userSalt)
	m.Write(userID)
	return hex.EncodeToString(m.Sum(nil)), nil
}
