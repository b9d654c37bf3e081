// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package segment implements sealed segments (PROTOCOL.md §13): the decrypted
// events of one closed UTC day of one account, re-encoded and sealed under a
// key derived from the account's KEK.
package segment

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Coverage returns the count and digest of a set of event ids (ULIDs in
// Crockford base32, any case): SHA-256 over their 16-byte binary forms in
// ascending order, as lowercase hex. The server compares it with an upload.
func Coverage(eventIDs []string) (int, string, error) {
	bins := make([][16]byte, len(eventIDs))
	for i, id := range eventIDs {
		b, err := ULIDBytes(id)
		if err != nil {
			return 0, "", err
		}
		bins[i] = b
	}
	sort.Slice(bins, func(i, j int) bool { return string(bins[i][:]) < string(bins[j][:]) })
	h := sha256.New()
	for i := range bins {
		h.Write(bins[i][:])
	}
	return len(bins), hex.EncodeToString(h.Sum(nil)), nil
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var crockfordValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(crockford); i++ {
		t[crockford[i]] = byte(i)
		t[strings.ToLower(crockford)[i]] = byte(i)
	}
	return t
}()

// ErrULID marks a malformed event id.
var ErrULID = errors.New("segment: malformed event id")

// ULIDBytes decodes a 26-symbol ULID into its 16 bytes.
func ULIDBytes(id string) ([16]byte, error) {
	var out [16]byte
	if len(id) != 26 || crockfordValue[id[0]] > 7 {
		return out, fmt.Errorf("%w: %q", ErrULID, id)
	}
	// 130 bits: two leading zero bits, then the 128 bits of the id
	var acc uint64
	bits, n := 0, 0
	for i := 0; i < 26; i++ {
		v := crockfordValue[id[i]]
		if v == 0xff {
			return out, fmt.Errorf("%w: %q", ErrULID, id)
		}
		acc = acc<<5 | uint64(v)
		bits += 5
		if i == 0 {
			bits -= 2 // the two padding bits
			acc &= 0x7
		}
		for bits >= 8 {
			bits -= 8
			out[n] = byte(acc >> uint(bits))
			n++
		}
	}
	return out, nil
}

// Period returns the UTC day (YYYY-MM-DD) of an event id's ULID time.
func Period(eventID string) (string, error) {
	b, err := ULIDBytes(eventID)
	if err != nil {
		return "", err
	}
	var ms int64
	for i := 0; i < 6; i++ {
		ms = ms<<8 | int64(b[i])
	}
	return time.UnixMilli(ms).UTC().Format(time.DateOnly), nil
}

// PeriodBounds parses a period and returns its start and end (exclusive).
func PeriodBounds(period string) (time.Time, time.Time, error) {
	start, err := time.Parse(time.DateOnly, period)
	if err != nil || start.Format(time.DateOnly) != period {
		return time.Time{}, time.Time{}, fmt.Errorf("segment: malformed period %q", period)
	}
	return start, start.AddDate(0, 0, 1), nil
}
