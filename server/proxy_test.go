// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/server"
)

// TestRateLimitsBehindTrustedProxies sends POST /api/login/salt (30 per
// minute and client, PROTOCOL.md §7.5) through the real router in reverse
// proxy mode: limits key on the client named by a trusted proxy, and no
// X-Forwarded-For a client writes itself gets it a fresh bucket.
func TestRateLimitsBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	const limit = 30
	tests := []struct {
		name string
		// request i comes from peer with X-Forwarded-For xff(i)
		peer string
		xff  func(i int) string
		// after the limit, this request must still pass (another client)
		other, otherXFF string
	}{
		{
			name: "trusted proxy names the client",
			peer: "10.0.0.1", xff: func(int) string { return "198.51.100.7" },
			other: "10.0.0.1", otherXFF: "198.51.100.8",
		},
		{
			name: "client prepends made-up addresses through the proxy",
			peer: "10.0.0.1", xff: func(i int) string { return fmt.Sprintf("192.0.2.%d, 198.51.100.9", i+1) },
			other: "10.0.0.1", otherXFF: "198.51.100.10",
		},
		{
			name: "untrusted peer sends its own header",
			peer: "203.0.113.5", xff: func(i int) string { return fmt.Sprintf("192.0.2.%d", i+1) },
			other: "203.0.113.6", otherXFF: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newProxyTestHandler(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "https://offen.test")
			for i := range limit {
				if got := saltStatus(h, tt.peer, tt.xff(i)); got != http.StatusOK {
					t.Fatalf("request %d: got %d, want 200", i+1, got)
				}
			}
			if got := saltStatus(h, tt.peer, tt.xff(limit)); got != http.StatusTooManyRequests {
				t.Errorf("request %d: got %d, want 429", limit+1, got)
			}
			if got := saltStatus(h, tt.other, tt.otherXFF); got != http.StatusOK {
				t.Errorf("another client: got %d, want 200", got)
			}
		})
	}
}

// TestHSTSBehindTrustedProxies: with a plain http public URL, HSTS is sent
// only when a trusted proxy says the client used https.
func TestHSTSBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	h := newProxyTestHandler(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "http://offen.test")
	for _, tt := range []struct {
		peer, proto string
		want        bool
	}{
		{"10.0.0.1", "https", true},
		{"10.0.0.1", "http", false},
		{"10.0.0.1", "", false},
		{"203.0.113.5", "https", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://offen.test/healthz", nil)
		r.RemoteAddr = tt.peer + ":40000"
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Strict-Transport-Security") != ""; got != tt.want {
			t.Errorf("peer %s, X-Forwarded-Proto %q: got HSTS %v, want %v", tt.peer, tt.proto, got, tt.want)
		}
	}
}

func newProxyTestHandler(t *testing.T, trusted []netip.Prefix, publicURL string) http.Handler {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	return server.New(logger, server.Options{
		PublicURL:      publicURL,
		InstanceSecret: keys.NewKey(),
		Locale:         "en",
		TrustedProxies: trusted,
	}, persistencetest.NewSQLiteStore(t), mailer.NewLog(logger, true), loc, nil, nil)
}

func saltStatus(h http.Handler, peer, xff string) int {
	r := httptest.NewRequest(http.MethodPost, "https://offen.test/api/login/salt", strings.NewReader(`{"email":"someone@offen.test"}`))
	r.RemoteAddr = peer + ":40000"
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Origin", "https://offen.test")
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}
