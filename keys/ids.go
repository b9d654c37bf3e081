// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// NewKey returns 32 random bytes: a user secret, KEK, login key or invite key.
func NewKey() []byte {
	b := make([]byte, KeySize)
	rand.Read(b)
	return b
}

// NewSalt returns 16 random bytes: a KDF salt or an account user salt.
func NewSalt() []byte {
	b := make([]byte, KDFSaltSize)
	rand.Read(b)
	return b
}

// TokenSize is the size of session, setup, reset and invite tokens.
const TokenSize = 32

// NewToken returns a fresh 32-byte token and its base64url form (cookie
// value, URL fragment). Store only HashToken(raw).
func NewToken() (raw []byte, encoded string) {
	raw = make([]byte, TokenSize)
	rand.Read(raw)
	return raw, EncodeBase64(raw)
}

// ParseToken decodes a base64url token (also an invite key or recovery
// proof) that must be exactly 32 bytes. Errors wrap ErrMalformed.
func ParseToken(s string) ([]byte, error) {
	b, err := DecodeBase64Len(s, TokenSize)
	if err != nil {
		return nil, fmt.Errorf("keys: parse token: %w", ErrMalformed)
	}
	return b, nil
}

// UserIDSize is the size of a visitor user id.
const UserIDSize = 16

func newHex16() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// parseHex16 decodes exactly 32 lowercase hex characters.
func parseHex16(what, s string) ([]byte, error) {
	if len(s) != 32 {
		return nil, fmt.Errorf("keys: parse %s: %w: want 32 hex characters", what, ErrMalformed)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return nil, fmt.Errorf("keys: parse %s: %w: want lowercase hex", what, ErrMalformed)
		}
	}
	b, _ := hex.DecodeString(s)
	return b, nil
}

// NewUserID returns a visitor user id: 16 random bytes as 32 lowercase hex.
func NewUserID() string { return newHex16() }

// ParseUserID decodes a user id (the user cookie): exactly 32 lowercase hex
// characters. Errors wrap ErrMalformed.
func ParseUserID(s string) ([]byte, error) { return parseHex16("user id", s) }

// NewKeyID returns a key id: 16 random bytes as 32 lowercase hex.
func NewKeyID() string { return newHex16() }

// ValidKeyID reports whether s is 32 lowercase hex characters.
func ValidKeyID(s string) bool {
	_, err := parseHex16("key id", s)
	return err == nil
}

// NewSessionID returns an event session id: 16 random bytes as 32 lowercase hex.
func NewSessionID() string { return newHex16() }

// NewUUID returns a random (version 4, RFC 9562) UUID in lowercase, the form
// of account and login ids.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b[:])
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ValidUUID reports whether s is a lowercase version 4 UUID
// (xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx).
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b')
}

// ULID: 48-bit big-endian Unix milliseconds followed by 80 random bits,
// written as 26 upper-case Crockford base32 symbols (the first covers only 3
// bits, so it is 0-7).
const ulidLen = 26

// maxULIDTime is the largest millisecond timestamp a ULID can hold.
const maxULIDTime = 1<<48 - 1

// NewULID returns a ULID for the time now() with 80 bits from crypto/rand.
// Pass the clock the caller uses (an injected one in tests).
func NewULID(now func() time.Time) string {
	var entropy [10]byte
	rand.Read(entropy[:])
	return ulid(now().UnixMilli(), entropy[:])
}

func ulid(ms int64, entropy []byte) string {
	var b [16]byte
	t := uint64(ms) & maxULIDTime
	for i := 0; i < 6; i++ {
		b[i] = byte(t >> (40 - 8*i))
	}
	copy(b[6:], entropy)
	// 128 bits as 26 symbols: prepend two zero bits (130 bits = 26 × 5).
	out := make([]byte, ulidLen)
	var acc uint32
	bits := 2
	j := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[j] = crockford[(acc>>bits)&31]
			j++
		}
	}
	return string(out)
}

// MinULID returns the smallest ULID with time t (random part all zero), so
// that event ids before t compare lower as strings: the bound for expiry and
// `before` tombstones.
func MinULID(t time.Time) string {
	return ulid(t.UnixMilli(), make([]byte, 10))
}

// ParseULID checks that s is a canonical ULID (26 upper-case Crockford
// symbols, first 0-7) and returns its time. Errors wrap ErrMalformed.
func ParseULID(s string) (time.Time, error) {
	if len(s) != ulidLen || s[0] > '7' {
		return time.Time{}, fmt.Errorf("keys: parse ulid: %w", ErrMalformed)
	}
	var ms uint64
	for i := 0; i < ulidLen; i++ {
		c := s[i]
		v := -1
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' {
			v = crockfordIndex[c]
		}
		if v < 0 {
			return time.Time{}, fmt.Errorf("keys: parse ulid: %w: invalid character", ErrMalformed)
		}
		if i < 10 {
			ms = ms<<5 | uint64(v)
		}
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

var crockfordIndex = func() (t [256]int) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(crockford); i++ {
		t[crockford[i]] = i
	}
	return t
}()
