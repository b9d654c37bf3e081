// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// The client address decides whose rate limit a request counts against, so
// the rules of PROTOCOL.md §7.5 are checked here one by one; the exported
// surface has no route that shows the address.
func TestResolveClient(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.7", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		trusted    []netip.Prefix
		remote     string
		tls        bool
		xff        []string
		proto      string
		wantIP     string
		wantSecure bool
	}{
		{name: "no proxies configured: headers ignored", remote: "203.0.113.9:5000", xff: []string{"198.51.100.1"}, proto: "https", wantIP: "203.0.113.9"},
		{name: "untrusted peer: headers ignored", trusted: trusted, remote: "203.0.113.9:5000", xff: []string{"198.51.100.1"}, proto: "https", wantIP: "203.0.113.9"},
		{name: "trusted peer without header", trusted: trusted, remote: "10.1.2.3:5000", wantIP: "10.1.2.3"},
		{name: "trusted peer forwards the client", trusted: trusted, remote: "10.1.2.3:5000", xff: []string{"198.51.100.1"}, proto: "https", wantIP: "198.51.100.1", wantSecure: true},
		{name: "spoofed left entries are skipped", trusted: trusted, remote: "10.1.2.3:5000", xff: []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, wantIP: "198.51.100.1"},
		{name: "chain of trusted proxies", trusted: trusted, remote: "10.1.2.3:5000", xff: []string{"198.51.100.1, 192.0.2.7", "10.9.9.9"}, wantIP: "198.51.100.1"},
		{name: "only trusted hops: leftmost", trusted: trusted, remote: "10.1.2.3:5000", xff: []string{"10.0.0.5, 10.0.0.6"}, wantIP: "10.0.0.5"},
		{name: "garbage behind trusted hops", trusted: trusted, remote: "10.1.2.3:5000", xff: []string{"198.51.100.1, nonsense, 10.0.0.6"}, wantIP: "10.0.0.6"},
		{name: "address with port", trusted: trusted, remote: "10.1.2.3:5000", xff: []string{"198.51.100.1:4711"}, wantIP: "198.51.100.1"},
		{name: "IPv6 with port", trusted: trusted, remote: "[fd00::1]:5000", xff: []string{"[2001:db8::1]:4711"}, wantIP: "2001:db8::1"},
		{name: "IPv4-mapped peer", trusted: trusted, remote: "[::ffff:10.1.2.3]:5000", xff: []string{"::ffff:198.51.100.1"}, wantIP: "198.51.100.1"},
		{name: "plain http from trusted proxy", trusted: trusted, remote: "10.1.2.3:5000", tls: true, proto: "http", wantIP: "10.1.2.3"},
		{name: "own TLS listener", remote: "203.0.113.9:5000", tls: true, wantIP: "203.0.113.9", wantSecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			var gotIP netip.Addr
			var gotSecure bool
			resolveClient(tt.trusted)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				gotIP, gotSecure = clientIP(r), secureRequest(r)
			})).ServeHTTP(httptest.NewRecorder(), r)
			if gotIP.String() != tt.wantIP {
				t.Errorf("got ip %s, want %s", gotIP, tt.wantIP)
			}
			if gotSecure != tt.wantSecure {
				t.Errorf("got secure %v, want %v", gotSecure, tt.wantSecure)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/8", "not an address"}); err == nil {
		t.Error("got no error for a bad entry")
	}
	got, err := ParseTrustedProxies([]string{" 10.1.2.3/8 ", "::1", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "::1/128" {
		t.Errorf("got %v", got)
	}
}
