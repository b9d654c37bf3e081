// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/offen/offen/keys"
)

// plaintexts are event plaintexts of every kind the script and vault send,
// and some they do not.
func plaintexts(day time.Time) []map[string]any {
	ts := func(d time.Duration) string { return day.Add(d).UTC().Format(isoLayout) }
	return []map[string]any{
		{"v": 1, "type": "PAGEVIEW", "href": "https://example.com/a", "referrer": "", "pageload": 412.6, "timestamp": ts(time.Hour), "sessionId": "s1", "geo": nil, "isMobile": false},
		{"v": 1, "type": "PAGEVIEW", "href": "https://example.com/ä?utm_source=x", "rawHref": "https://example.com/ä?utm_source=x&y", "referrer": "https://news.example.net/", "pageload": nil, "timestamp": ts(2 * time.Hour), "sessionId": "s2", "geo": "DE", "isMobile": true, "notFound": true, "browser": "Firefox", "os": "Linux", "device": "desktop", "screen": "large"},
		{"v": 1, "type": "EVENT", "name": "Signup ✓", "props": map[string]any{"plan": "pro", "seats": 3.5, "z": -0.0}, "href": "https://example.com/a", "timestamp": ts(3 * time.Hour)},
		{"v": 1, "type": "OUTBOUND", "target": "https://other.example.org/x", "timestamp": float64(day.Add(4 * time.Hour).UnixMilli())},
		{"v": 1, "type": "FUTURE", "timestamp": "yesterday", "pageload": -3, "isMobile": "yes", "props": map[string]any{"nested": map[string]any{"a": 1}}, "newField": []any{"x", 1e21, nil, "\u2028\"\\\n"}, "href": 7},
	}
}

func sampleSegment(t *testing.T) Segment {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var recs []Record
	for i, m := range plaintexts(day) {
		b, _ := json.Marshal(m)
		r, err := FromPlaintext(detID(day.Add(time.Duration(5-i)*time.Hour), fmt.Sprint(i)), fmt.Sprintf("secret%d", i%2), fmt.Sprintf("key%d", i%3), b)
		if err != nil {
			t.Fatalf("plaintext %d: %v", i, err)
		}
		recs = append(recs, r)
	}
	s, err := New("acct", "2026-11-22", recs, []string{detID(day.Add(time.Minute), "u")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	s := sampleSegment(t)
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != len(s.Records) || !reflect.DeepEqual(got.Unreadable, s.Unreadable) {
		t.Fatalf("got %d records, unreadable %v", len(got.Records), got.Unreadable)
	}
	for i := range s.Records {
		w, _ := json.Marshal(s.Records[i].Payload)
		g, _ := json.Marshal(got.Records[i].Payload)
		if !bytes.Equal(w, g) || got.Records[i].EventID != s.Records[i].EventID || got.Records[i].KeyID != s.Records[i].KeyID || got.Records[i].SecretID != s.Records[i].SecretID {
			t.Errorf("record %d:\n got %s\nwant %s", i, g, w)
		}
	}
	again, err := Encode(got)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("re-encoding differs: %v", err)
	}
	for cut := 0; cut < len(b); cut++ {
		if _, err := Decode(b[:cut]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d: %v", cut, err)
		}
	}
	if _, err := Decode(append(b, 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestSeal(t *testing.T) {
	s := sampleSegment(t)
	key, err := DeriveKey(keys.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := SealSegment(key, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSegment(key, "acct", "2026-11-22", 1, sealed); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][3]any{{"other", "2026-11-22", 1}, {"acct", "2026-11-23", 1}, {"acct", "2026-11-22", 2}} {
		if _, err := OpenSegment(key, c[0].(string), c[1].(string), c[2].(int), sealed); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("%v: %v", c, err)
		}
	}
}
