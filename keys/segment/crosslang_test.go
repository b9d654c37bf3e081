// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/offen/offen/keys"
)

// randomSegment returns a segment of random events of all kinds, with
// fields of unexpected types and unknown fields among them.
func randomSegment(t *testing.T, rng *rand.Rand, accountID string, day time.Time, n int) Segment {
	pick := func(xs ...any) any { return xs[rng.Intn(len(xs))] }
	var recs []Record
	var unreadable []string
	for i := 0; i < n; i++ {
		tm := day.Add(time.Duration(rng.Int63n(int64(24 * time.Hour))))
		id := detID(tm, fmt.Sprint("random", rng.Int63()))
		if rng.Intn(20) == 0 {
			unreadable = append(unreadable, id)
			continue
		}
		m := map[string]any{"v": 1, "type": pick("PAGEVIEW", "PAGEVIEW", "EVENT", "OUTBOUND", "LATER"),
			"href": pick("https://example.com/", "https://example.com/ä", 7, nil), "referrer": pick("", "https://www.google.com/"),
			"pageload": pick(nil, 0.4, 321.5, -2), "timestamp": pick(tm.Add(-time.Second).Format(isoLayout), float64(tm.UnixMilli()+3), "soon"),
			"sessionId": pick(nil, "s1", "s2"), "geo": pick(nil, "DE", "fr"), "isMobile": pick(true, false, "no"),
			"props": pick(nil, map[string]any{"a": "x", "n": 1.5}, map[string]any{}, []any{1}), "name": pick(nil, "Größe 🙂"),
			"browser": pick(nil, "Chrome"), "screen": pick(nil, "xlarge"), "future": pick(nil, map[string]any{"k": []any{1, "v"}})}
		for k, v := range m {
			if v == nil && rng.Intn(2) == 0 {
				delete(m, k)
			}
		}
		b, _ := json.Marshal(m)
		var back map[string]any
		json.Unmarshal(b, &back)
		p, err := PayloadFromMap(back)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, Record{EventID: id, SecretID: fmt.Sprint("secret", rng.Intn(9)), KeyID: fmt.Sprint("key", rng.Intn(13)), Payload: p})
	}
	s, err := New(accountID, day.Format(time.DateOnly), recs, unreadable)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCrossLanguage proves that a segment Go seals, keys/js/segment.js
// opens and decodes to the same records, and that what JavaScript seals Go
// reads as the records JavaScript encoded, byte for byte the plaintext Go
// writes for them.
func TestCrossLanguage(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node not found (required under CI=true)")
		}
		t.Skip("node not found: skipping the cross-language test")
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	accountID, kek := keys.NewUUID(), keys.NewKey()
	key, _ := DeriveKey(kek)
	day := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
	s := randomSegment(t, rng, accountID, day, 400)
	sealed, err := SealSegment(key, s)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"accountId": accountID, "period": s.Period, "kek": keys.EncodeBase64(kek), "sealed": sealed})
	cmd := exec.Command(node, "../js/segment-roundtrip.mjs")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var res struct {
		Read *vecSegment
		Made struct {
			vecSegment
			Sealed    string
			Plaintext string
			Coverage  struct {
				Count  int
				Digest string
			}
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output: %v", err)
	}

	t.Run("JS reads Go", func(t *testing.T) {
		want := fromSegment(s)
		if !reflect.DeepEqual(res.Read.Records, want.Records) || !reflect.DeepEqual(res.Read.Unreadable, want.Unreadable) {
			g, _ := json.Marshal(res.Read)
			w, _ := json.Marshal(want)
			t.Fatalf("got  %.2000s\nwant %.2000s", g, w)
		}
	})

	t.Run("Go reads JS", func(t *testing.T) {
		got, err := OpenSegment(key, accountID, s.Period, 1, res.Made.Sealed)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := toRecords(res.Made.vecSegment)
		if err != nil {
			t.Fatal(err)
		}
		mine, err := New(accountID, s.Period, recs, res.Made.Unreadable)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromSegment(got), fromSegment(mine)) {
			t.Fatal("Go decodes other records than JavaScript encoded")
		}
		pt, _ := Encode(mine)
		if keys.EncodeBase64(pt) != res.Made.Plaintext {
			t.Fatal("Go writes other bytes than JavaScript for the same records")
		}
		n, d, _ := mine.Coverage()
		if n != res.Made.Coverage.Count || d != res.Made.Coverage.Digest {
			t.Fatalf("coverage: Go %d %s, JavaScript %d %s", n, d, res.Made.Coverage.Count, res.Made.Coverage.Digest)
		}
	})
}
