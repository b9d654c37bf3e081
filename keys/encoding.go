// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrMalformed is returned (wrapped) for input that does not have the expected
// format: wrong label, part count or length, bad base64url, bad characters.
// It is always detected before any cryptographic operation.
var ErrMalformed = errors.New("malformed input")

// ErrDecrypt is returned (wrapped) when a well-formed ciphertext fails to
// authenticate: wrong key, wrong associated data (account or login id) or
// tampered bytes. Callers cannot tell these causes apart, by design.
var ErrDecrypt = errors.New("decryption failed")

// ErrWeakKDF is returned when KDF parameters are weaker than the protocol's
// minimum (PBKDF2-SHA256 with 600,000 iterations and a 16-byte salt).
var ErrWeakKDF = errors.New("kdf parameters too weak")

var b64 = base64.RawURLEncoding.Strict()

// EncodeBase64 encodes b as base64url without padding (RFC 4648 §5).
func EncodeBase64(b []byte) string {
	return b64.EncodeToString(b)
}

// DecodeBase64 decodes canonical base64url without padding. It rejects
// padding, whitespace, the standard alphabet and non-zero trailing bits, so
// every byte string has exactly one accepted encoding. Errors wrap ErrMalformed.
func DecodeBase64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !isBase64URLChar(s[i]) {
			return nil, fmt.Errorf("keys: decode base64url: %w: invalid character at %d", ErrMalformed, i)
		}
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("keys: decode base64url: %w", ErrMalformed)
	}
	return b, nil
}

// DecodeBase64Len is DecodeBase64 that also requires exactly n decoded bytes.
func DecodeBase64Len(s string, n int) ([]byte, error) {
	if len(s) != b64.EncodedLen(n) {
		return nil, fmt.Errorf("keys: decode base64url: %w: want %d bytes", ErrMalformed, n)
	}
	return DecodeBase64(s)
}

func isBase64URLChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Labels of the versioned string formats (PROTOCOL §2.1).
const (
	LabelA1       = "a1"
	LabelE1       = "e1"
	LabelP256     = "p256"
	LabelArgon2id = "argon2id1"
)

// partSpec describes one part of a versioned string: an exact length, or a
// minimum length when exact is false.
type partSpec struct {
	n     int
	exact bool
}

var formats = map[string][]partSpec{
	LabelA1:       {{nonceSize, true}, {tagSize, false}},
	LabelE1:       {{pointSize, true}, {nonceSize, true}, {userSecretSize + tagSize, true}},
	LabelP256:     {{pointSize, true}},
	LabelArgon2id: {{argonSaltSize, true}, {argonHashSize, true}},
}

// parseVersioned splits s into its parts and checks label, part count and
// part lengths before returning the decoded parts.
func parseVersioned(s, label string) ([][]byte, error) {
	spec := formats[label]
	rest, ok := strings.CutPrefix(s, label+".")
	if !ok {
		got, _, found := strings.Cut(s, ".")
		if !found {
			return nil, fmt.Errorf("keys: parse %s: %w: no label", label, ErrMalformed)
		}
		if len(got) > 16 {
			got = got[:16]
		}
		return nil, fmt.Errorf("keys: parse %s: %w: label %q", label, ErrMalformed, got)
	}
	raw := strings.Split(rest, ".")
	if len(raw) != len(spec) {
		return nil, fmt.Errorf("keys: parse %s: %w: %d parts, want %d", label, ErrMalformed, len(raw), len(spec))
	}
	parts := make([][]byte, len(raw))
	for i, p := range raw {
		if p == "" {
			return nil, fmt.Errorf("keys: parse %s: %w: empty part %d", label, ErrMalformed, i+1)
		}
		b, err := DecodeBase64(p)
		if err != nil {
			return nil, fmt.Errorf("keys: parse %s: part %d: %w", label, i+1, err)
		}
		if spec[i].exact && len(b) != spec[i].n || !spec[i].exact && len(b) < spec[i].n {
			return nil, fmt.Errorf("keys: parse %s: %w: part %d has %d bytes", label, ErrMalformed, i+1, len(b))
		}
		parts[i] = b
	}
	return parts, nil
}

func formatVersioned(label string, parts ...[]byte) string {
	var sb strings.Builder
	sb.WriteString(label)
	for _, p := range parts {
		sb.WriteByte('.')
		sb.WriteString(b64.EncodeToString(p))
	}
	return sb.String()
}

// CheckFormat reports whether s is a well-formed versioned string with the
// given label (LabelA1, LabelE1, LabelP256 or LabelArgon2id): right label,
// part count and part lengths, canonical base64url. It does no cryptography,
// so the server can validate ciphertexts it cannot read (event payloads,
// wrapped secrets) before storing them. Errors wrap ErrMalformed.
func CheckFormat(s, label string) error {
	if _, ok := formats[label]; !ok {
		return fmt.Errorf("keys: check format: %w: unknown label %q", ErrMalformed, label)
	}
	if !wellFormed(s, label) {
		// The slow path says what is wrong.
		if _, err := parseVersioned(s, label); err != nil {
			return err
		}
		return fmt.Errorf("keys: check format: %w", ErrMalformed)
	}
	return nil
}

// wellFormed is parseVersioned's verdict without decoding or allocating:
// the server checks every event payload with it.
func wellFormed(s, label string) bool {
	spec := formats[label]
	if len(s) <= len(label) || s[:len(label)] != label || s[len(label)] != '.' {
		return false
	}
	rest := s[len(label)+1:]
	for i, p := range spec {
		part := rest
		if i < len(spec)-1 {
			j := strings.IndexByte(rest, '.')
			if j < 0 {
				return false
			}
			part, rest = rest[:j], rest[j+1:]
		} else if strings.IndexByte(rest, '.') >= 0 {
			return false
		}
		n, ok := decodedLen(part)
		if !ok || p.exact && n != p.n || !p.exact && n < p.n {
			return false
		}
	}
	return true
}

// decodedLen returns the length of the canonical unpadded base64url string
// s decoded, and false when s is empty or not canonical base64url.
func decodedLen(s string) (int, bool) {
	if s == "" || len(s)%4 == 1 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isBase64URLChar(s[i]) {
			return 0, false
		}
	}
	// Strict decoding: the bits of the last character past the final
	// byte are zero.
	v := b64Value(s[len(s)-1])
	switch len(s) % 4 {
	case 2:
		if v&0x0f != 0 {
			return 0, false
		}
		return len(s)/4*3 + 1, true
	case 3:
		if v&0x03 != 0 {
			return 0, false
		}
		return len(s)/4*3 + 2, true
	}
	return len(s) / 4 * 3, true
}

// b64Value is the 6-bit value of a base64url character.
func b64Value(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	}
	return 63
}
