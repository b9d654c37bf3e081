// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// RecoveryCodeSize is the number of random bytes in a recovery code.
const RecoveryCodeSize = 20

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewRecoveryCode returns 20 random bytes.
func NewRecoveryCode() []byte {
	b := make([]byte, RecoveryCodeSize)
	rand.Read(b)
	return b
}

// FormatRecoveryCode writes 20 code bytes as 32 Crockford base32 symbols
// (big-endian, 5 bits each, upper case) in eight hyphen-separated groups of
// four, e.g. "7KQ2-…". Inputs of another length are encoded the same way
// (last symbol zero-padded) and ParseRecoveryCode rejects the result.
func FormatRecoveryCode(code []byte) string {
	syms := base32Crockford(code)
	var sb strings.Builder
	for i := 0; i < len(syms); i += 4 {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(syms[i:min(i+4, len(syms))])
	}
	return sb.String()
}

// base32Crockford encodes b big-endian, 5 bits per symbol, padding the last
// symbol with zero bits.
func base32Crockford(b []byte) string {
	out := make([]byte, 0, (len(b)*8+4)/5)
	var acc uint32
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, crockford[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		out = append(out, crockford[(acc<<(5-bits))&31])
	}
	return string(out)
}

// crockfordValue maps a symbol (any case, with O→0 and I, L→1) to its value,
// or -1.
func crockfordValue(c byte) int {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	switch c {
	case 'O':
		c = '0'
	case 'I', 'L':
		c = '1'
	}
	return strings.IndexByte(crockford, c)
}

// ParseRecoveryCode parses a recovery code: it ignores case, hyphens and
// spaces, maps O to 0 and I, L to 1, and requires exactly 32 symbols of the
// Crockford alphabet. Errors wrap ErrMalformed.
func ParseRecoveryCode(s string) ([]byte, error) {
	if len(s) > 128 {
		return nil, fmt.Errorf("keys: parse recovery code: %w: too long", ErrMalformed)
	}
	out := make([]byte, 0, RecoveryCodeSize)
	var acc uint32
	bits, n := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == ' ' {
			continue
		}
		v := crockfordValue(c)
		if v < 0 {
			return nil, fmt.Errorf("keys: parse recovery code: %w: invalid character", ErrMalformed)
		}
		n++
		if n > 32 {
			break
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if n != 32 {
		return nil, fmt.Errorf("keys: parse recovery code: %w: want 32 symbols", ErrMalformed)
	}
	return out, nil
}
