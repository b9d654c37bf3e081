// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"reflect"
	"testing"
	"time"
)

// FuzzDecode: Decode never panics, errors are ErrMalformed or ErrVersion,
// and whatever decodes encodes to a plaintext that decodes to the same
// segment and encodes to itself again. (The first encoding may differ from
// the input bytes: table order, unused entries and extras spelling are the
// writer's choice.) keys/fuzz.sh fuzzes it; without -fuzz the seeds (every
// vector plaintext) run as a test.
func FuzzDecode(f *testing.F) {
	if b, err := os.ReadFile(vectorsFile); err == nil {
		var doc struct{ Vectors []segmentVector }
		json.Unmarshal(b, &doc)
		for _, v := range doc.Vectors {
			if pt, err := hex.DecodeString(v.PlaintextHex); err == nil && v.PlaintextHex != "" {
				f.Add(pt)
			}
		}
	}
	s := randomSegment(&testing.T{}, rand.New(rand.NewSource(1)), "acct", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 20)
	b, _ := Encode(s)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		enc, err := Encode(s)
		if err != nil {
			t.Fatalf("decoded segment does not encode: %v", err)
		}
		s2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded segment does not decode: %v", err)
		}
		if !reflect.DeepEqual(fromSegment(s), fromSegment(s2)) || s.AccountID != s2.AccountID || s.Period != s2.Period {
			t.Fatal("re-encoded segment decodes differently")
		}
		enc2, _ := Encode(s2)
		if !bytes.Equal(enc, enc2) {
			t.Fatal("encoding is not stable")
		}
	})
}
