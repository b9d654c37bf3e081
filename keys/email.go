// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeEmail trims surrounding white space, applies NFC and lower-cases
// an e-mail address. The result must be valid UTF-8 of 3 to 254 bytes with
// exactly one "@" that has text on both sides; otherwise the error wraps
// ErrMalformed.
func NormalizeEmail(email string) (string, error) {
	if !utf8.ValidString(email) {
		return "", fmt.Errorf("keys: normalize email: %w: not utf-8", ErrMalformed)
	}
	e := strings.ToLower(norm.NFC.String(strings.TrimSpace(email)))
	if len(e) < 3 || len(e) > 254 {
		return "", fmt.Errorf("keys: normalize email: %w: length %d", ErrMalformed, len(e))
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return "", fmt.Errorf("keys: normalize email: %w: want one @", ErrMalformed)
	}
	return e, nil
}

func emailMAC(key []byte, email string) ([]byte, error) {
	if err := checkKey("email hmac", key); err != nil {
		return nil, err
	}
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(e))
	return m.Sum(nil), nil
}

// EmailIndex returns hex HMAC-SHA256(key, NormalizeEmail(email)), where key
// is InstanceKeys.EmailIndex.
func EmailIndex(key []byte, email string) (string, error) {
	mac, err := emailMAC(key, email)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(mac), nil
}

// FakeSalt returns the first 16 bytes of HMAC-SHA256(key,
// NormalizeEmail(email)), where key is InstanceKeys.FakeSalt: the stable KDF
// salt shown for addresses without a login.
func FakeSalt(key []byte, email string) ([]byte, error) {
	mac, err := emailMAC(key, email)
	if err != nil {
		return nil, err
	}
	return mac[:KDFSaltSize], nil
}
