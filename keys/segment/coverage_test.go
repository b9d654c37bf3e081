// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestULIDBytesAndCoverage(t *testing.T) {
	b, err := ULIDBytes("01ARZ3NDEKTSV4RRFFQ69G5FAV")
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b[:]); got != "01563e3ab5d3d6764c61efb99302bd5b" {
		t.Fatalf("bytes %s", got)
	}
	if _, err := ULIDBytes("81ARZ3NDEKTSV4RRFFQ69G5FAV"); err == nil {
		t.Fatal("overflowing ULID accepted")
	}
	if _, err := ULIDBytes("01ARZ3NDEKTSV4RRFFQ69G5FAU!"); err == nil {
		t.Fatal("bad length accepted")
	}
	n, d, err := Coverage([]string{"01ARZ3NDEKTSV4RRFFQ69G5FAW", "01arz3ndektsv4rrffq69g5fav"})
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	a, _ := ULIDBytes("01ARZ3NDEKTSV4RRFFQ69G5FAV")
	c, _ := ULIDBytes("01ARZ3NDEKTSV4RRFFQ69G5FAW")
	sum := sha256.Sum256(append(a[:], c[:]...))
	if d != hex.EncodeToString(sum[:]) {
		t.Fatalf("digest %s", d)
	}
	if p, _ := Period("01ARZ3NDEKTSV4RRFFQ69G5FAV"); p != "2016-07-30" {
		t.Fatalf("period %s", p)
	}
	if _, _, err := PeriodBounds("2026-02-30"); err == nil {
		t.Fatal("impossible date accepted")
	}
}
