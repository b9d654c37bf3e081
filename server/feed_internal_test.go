// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/persistence"
)

// TestFeedWriteDeadline checks that a feed handler can extend its write
// deadline through the middleware's response writer wrappers on a real
// server (PROTOCOL §7.1: feed pages 120 s, other routes 60 s).
func TestFeedWriteDeadline(t *testing.T) {
	t.Parallel()
	var got error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = extendDeadlines(w, r)
	})
	srv := httptest.NewServer(requestID(logRequests(slog.New(slog.DiscardHandler), time.Now)(recoverPanics(noStore(h)))))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got != nil {
		t.Errorf("extend the write deadline: %v", got)
	}
}

// TestPageWriter checks the JSON shape of streamed pages.
func TestPageWriter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		items [][2]string // kind, value
		want  string
	}{
		{name: "empty", want: `{"events":[],"tombstones":[],"next":"n","more":false,"reset":false}` + "\n"},
		{name: "tombstones only", items: [][2]string{{"tombstones", "a"}, {"tombstones", "b"}},
			want: `{"events":[],"tombstones":["a","b"],"next":"n","more":false,"reset":false}` + "\n"},
		{name: "both", items: [][2]string{{"events", "a"}, {"events", "b"}, {"tombstones", "c"}},
			want: `{"events":["a","b"],"tombstones":["c"],"next":"n","more":false,"reset":false}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			pw := newPageWriter(rec, "events", "tombstones")
			for _, it := range tc.items {
				if err := pw.item(it[0], it[1]); err != nil {
					t.Fatal(err)
				}
			}
			if err := pw.end(pageTail{Next: "n"}); err != nil {
				t.Fatal(err)
			}
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("got Content-Type %q", ct)
			}
		})
	}
	pw := newPageWriter(httptest.NewRecorder(), "events", "tombstones")
	pw.item("tombstones", 1)
	if err := pw.item("events", 1); err == nil {
		t.Error("an event after a tombstone was accepted")
	}
}

// TestFeedItemJSON checks that the hand-written encoders of feed items give
// exactly the bytes of encoding/json, escapes included.
func TestFeedItemJSON(t *testing.T) {
	t.Parallel()
	values := []string{"", "01JABCDEFGHJKMNPQRSTVWXYZ0", "a1.AbC-_09.xyz+/=", `quote"back\slash`, "<script>&amp;</script>",
		"tab\tnewline\n\x00\x1f\x7f", "ünïcödé ✓", "\u2028\u2029", "bad utf-8 \xff\xfe", "a1." + strings.Repeat("Zz9-", 200)}
	for i, v := range values {
		w := values[(i+3)%len(values)]
		e := persistence.Event{EventID: v, SecretID: w, KeyID: values[(i+5)%len(values)], Payload: values[(i+7)%len(values)]}
		want, err := json.Marshal(struct {
			EventID  string `json:"eventId"`
			SecretID string `json:"secretId"`
			KeyID    string `json:"keyId"`
			Payload  string `json:"payload"`
		}{e.EventID, e.SecretID, e.KeyID, e.Payload})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendEventJSON([]byte("x"), e); string(got) != "x"+string(want) {
			t.Errorf("event %q:\ngot  %s\nwant x%s", v, got, want)
		}
		s := persistence.Secret{KeyID: v, SecretID: w, WrappedSecret: e.Payload}
		want, err = json.Marshal(struct {
			KeyID         string `json:"keyId"`
			SecretID      string `json:"secretId"`
			WrappedSecret string `json:"wrappedSecret"`
		}{s.KeyID, s.SecretID, s.WrappedSecret})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendSecretJSON(nil, s); string(got) != string(want) {
			t.Errorf("secret %q:\ngot  %s\nwant %s", v, got, want)
		}
	}
}

// TestPageWriterItemBuffer checks pages of hand-encoded items, among them
// items larger than the buffer and items that do not fit what is left.
func TestPageWriterItemBuffer(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	pw := newPageWriter(rec, "events", "tombstones")
	defer pw.release()
	var want []string
	for i, n := range []int{10, 40 << 10, 30 << 10, 5, 3 << 10, 32<<10 - 20} {
		v := strings.Repeat(string(rune('a'+i)), n)
		b, err := pw.itemBuffer("events", n+2)
		if err != nil {
			t.Fatal(err)
		}
		if err := pw.write(appendJSONString(b, v)); err != nil {
			t.Fatal(err)
		}
		want = append(want, `"`+v+`"`)
	}
	if err := pw.item("tombstones", "t"); err != nil {
		t.Fatal(err)
	}
	if err := pw.end(pageTail{Next: "n"}); err != nil {
		t.Fatal(err)
	}
	if got, w := rec.Body.String(), `{"events":[`+strings.Join(want, ",")+`],"tombstones":["t"],"next":"n","more":false,"reset":false}`+"\n"; got != w {
		t.Errorf("page differs (%d bytes, want %d)", len(got), len(w))
	}
}
