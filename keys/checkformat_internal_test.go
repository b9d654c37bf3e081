// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// wellFormed (CheckFormat's fast path) agrees with parseVersioned on valid
// strings and on many mutations of them.
func TestWellFormedAgreesWithParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	valid := map[string][]string{}
	for _, n := range []int{0, 1, 2, 3, 16, 17, 18, 100} {
		valid[LabelA1] = append(valid[LabelA1], formatVersioned(LabelA1, random(nonceSize), random(tagSize+n)))
	}
	valid[LabelE1] = []string{formatVersioned(LabelE1, random(pointSize), random(nonceSize), random(userSecretSize+tagSize))}
	valid[LabelP256] = []string{formatVersioned(LabelP256, random(pointSize))}
	valid[LabelArgon2id] = []string{formatVersioned(LabelArgon2id, random(argonSaltSize), random(argonHashSize))}
	alphabet := "AZaz09-_.=+/ \\nBbQgw"
	checks := 0
	for label, list := range valid {
		for _, v := range list {
			cases := []string{v, v + ".", "." + v, v + "A", v + "AA", v + "AAA", v[:len(v)-1], v[:len(v)-2], label, label + ".", label + "..", strings.ToUpper(label) + v[len(label):]}
			for range 2000 {
				b := []byte(v)
				switch rng.IntN(3) {
				case 0:
					b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
				case 1:
					i := rng.IntN(len(b))
					b = append(b[:i], b[i+1:]...)
				case 2:
					i := rng.IntN(len(b) + 1)
					b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
				}
				cases = append(cases, string(b))
			}
			for _, c := range cases {
				for l := range formats {
					_, err := parseVersioned(c, l)
					if got, want := wellFormed(c, l), err == nil; got != want {
						t.Fatalf("wellFormed(%q, %s) = %v, parse says %v (%v)", c, l, got, want, err)
					}
					if (CheckFormat(c, l) == nil) != (err == nil) {
						t.Fatalf("CheckFormat(%q, %s) disagrees with parse (%v)", c, l, err)
					}
					checks++
				}
			}
		}
	}
	if checks < 10000 {
		t.Fatalf("only %d checks", checks)
	}
}
