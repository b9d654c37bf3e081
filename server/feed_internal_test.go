// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFeedWriteDeadline checks that a feed handler can extend its write
// deadline through the middleware's response writer wrappers on a real
// server (PROTOCOL §7.1: feed pages 120 s, other routes 60 s).
func TestFeedWriteDeadline(t *testing.T) {
	t.Parallel()
	var got error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = extendWriteDeadline(w)
	})
	srv := httptest.NewServer(requestID(logRequests(slog.New(slog.DiscardHandler))(recoverPanics(noStore(h)))))
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
