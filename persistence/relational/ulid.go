// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newULID returns a ULID (26 Crockford base32 characters) for t's
// millisecond with 80 bits of crypto/rand entropy. ULIDs of later
// milliseconds compare greater as strings.
func newULID(t time.Time) string {
	var entropy [10]byte
	_, _ = rand.Read(entropy[:]) // never fails (crypto/rand panics instead)
	return ulidString(t, entropy)
}

// ulidLowerBound returns the smallest ULID of t's millisecond: every ULID
// made before t's millisecond compares less, every later one greater or equal.
func ulidLowerBound(t time.Time) string {
	return ulidString(t, [10]byte{})
}

func ulidString(t time.Time, entropy [10]byte) string {
	var out [26]byte
	ms := uint64(t.UnixMilli())
	if t.UnixMilli() < 0 {
		ms = 0
	}
	for i := 9; i >= 0; i-- {
		out[i] = crockford[ms&31]
		ms >>= 5
	}
	hi := uint64(binary.BigEndian.Uint16(entropy[0:2]))
	lo := binary.BigEndian.Uint64(entropy[2:10])
	// 80 bits as 16 groups of 5, most significant first.
	for i := 25; i >= 10; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | (hi&31)<<59
		hi >>= 5
	}
	return string(out[:])
}

// ulidTime returns the millisecond a well-formed ULID was made at.
func ulidTime(id string) (time.Time, bool) {
	if len(id) != 26 {
		return time.Time{}, false
	}
	var ms uint64
	for i := 0; i < 10; i++ {
		v := indexCrockford(id[i])
		if v < 0 {
			return time.Time{}, false
		}
		ms = ms<<5 | uint64(v)
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}

func indexCrockford(c byte) int {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return -1
}
