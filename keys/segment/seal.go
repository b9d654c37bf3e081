// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strconv"

	"github.com/offen/offen/keys"
)

// DeriveKey derives the segment key of an account from its KEK:
// HKDF-SHA256(KEK, salt "offen/v1/segment", info "segment", 32 bytes).
func DeriveKey(kek []byte) ([]byte, error) {
	if len(kek) != keys.KeySize {
		return nil, fmt.Errorf("segment: derive key: %w: kek has %d bytes", keys.ErrMalformed, len(kek))
	}
	return hkdf.Key(sha256.New, kek, []byte("offen/v1/segment"), "segment", keys.KeySize)
}

// AAD is the associated data of a sealed segment:
// "offen/v1/segment|<accountId>|<period>|<version>".
func AAD(accountID, period string, version int) []byte {
	return []byte("offen/v1/segment|" + accountID + "|" + period + "|" + strconv.Itoa(version))
}

// Seal encrypts a segment plaintext as a1 under the segment key, bound to
// account, period and format version.
func Seal(key []byte, accountID, period string, version int, plaintext []byte) (string, error) {
	nonce := make([]byte, 12)
	rand.Read(nonce)
	return seal(key, nonce, accountID, period, version, plaintext)
}

func seal(key, nonce []byte, accountID, period string, version int, plaintext []byte) (string, error) {
	c, err := keys.NewCipher(key)
	if err != nil {
		return "", err
	}
	return "a1." + keys.EncodeBase64(nonce) + "." + keys.EncodeBase64(c.Seal(nil, nonce, plaintext, AAD(accountID, period, version))), nil
}

// Open reverses Seal. Errors wrap keys.ErrMalformed or keys.ErrDecrypt.
func Open(key []byte, accountID, period string, version int, sealed string) ([]byte, error) {
	c, err := keys.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) > MaxSize/3*4+64 {
		return nil, fmt.Errorf("segment: open: %w: %d characters", keys.ErrMalformed, len(sealed))
	}
	return keys.OpenA1(c, AAD(accountID, period, version), sealed)
}

// SealSegment encodes and seals a segment.
func SealSegment(key []byte, s Segment) (string, error) {
	pt, err := Encode(s)
	if err != nil {
		return "", err
	}
	return Seal(key, s.AccountID, s.Period, s.Version, pt)
}

// OpenSegment opens and decodes a sealed segment and checks that the
// plaintext names the account and period it was sealed for.
func OpenSegment(key []byte, accountID, period string, version int, sealed string) (Segment, error) {
	pt, err := Open(key, accountID, period, version, sealed)
	if err != nil {
		return Segment{}, err
	}
	s, err := Decode(pt)
	if err != nil {
		return Segment{}, err
	}
	if s.AccountID != accountID || s.Period != period || s.Version != version {
		return Segment{}, fmt.Errorf("%w: sealed for %s %s version %d, holds %s %s version %d",
			ErrMalformed, accountID, period, version, s.AccountID, s.Period, s.Version)
	}
	return s, nil
}
