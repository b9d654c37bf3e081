// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProtectCSRF(t *testing.T) {
	t.Parallel()
	reached := 0
	h := protectCSRF([]string{"https://Offen.Example.org:443/", "https://b.example.org"})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached++
			w.WriteHeader(http.StatusNoContent)
		}))
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		want    int
	}{
		{"get needs nothing", http.MethodGet, nil, 204},
		{"json without browser headers", http.MethodPost, map[string]string{"Content-Type": "application/json"}, 204},
		{"json with charset", http.MethodPut, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 204},
		{"same origin", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "https://offen.example.org", "Sec-Fetch-Site": "same-origin"}, 204},
		{"second instance origin", http.MethodDelete, map[string]string{"Content-Type": "application/json", "Origin": "https://b.example.org"}, 204},
		{"text/plain", http.MethodPost, map[string]string{"Content-Type": "text/plain"}, 403},
		{"form", http.MethodPost, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403},
		{"no content type", http.MethodDelete, nil, 403},
		{"foreign origin", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, 403},
		{"null origin", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
		{"http instead of https", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "http://offen.example.org"}, 403},
		{"other port", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "https://offen.example.org:8443"}, 403},
		{"cross-site fetch", http.MethodPost, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site fetch", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "https://offen.example.org", "Sec-Fetch-Site": "same-site"}, 403},
		{"user-initiated navigation", http.MethodPost, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "none"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := reached
			r := httptest.NewRequest(tc.method, "/api/x", strings.NewReader("{}"))
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("got %d, want %d", w.Code, tc.want)
			}
			if tc.want == 403 && reached != before {
				t.Error("the handler ran for a refused request")
			}
		})
	}
}

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://Example.ORG":      "https://example.org",
		"https://example.org:443":  "https://example.org",
		"http://localhost:3000/":   "http://localhost:3000",
		"http://127.0.0.1:80":      "http://127.0.0.1",
		"https://[::1]:8443":       "https://[::1]:8443",
		"ftp://example.org":        "",
		"null":                     "",
		"https://user@example.org": "",
	} {
		got, ok := normalizeOrigin(in)
		if (want == "") == ok || got != want {
			t.Errorf("normalizeOrigin(%q): got %q, %v, want %q", in, got, ok, want)
		}
	}
}
