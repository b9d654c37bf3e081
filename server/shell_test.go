// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/offen/offen/server"
)

// TestAuditoriumShell: every app page path gets the SPA shell with the
// shell's headers; hashed assets are immutable; files that do not exist are
// 404; without a build the pages say how to build.
func TestAuditoriumShell(t *testing.T) {
	t.Parallel()
	const index = `<!DOCTYPE html><html lang="en"><head><title>Offen</title><script type="module" src="/auditorium/assets/index-AAAA.js"></script></head><body></body></html>`
	built := fstest.MapFS{
		"index.html":               {Data: []byte(index)},
		"assets/index-AAAA.js":     {Data: []byte("console.log(1)")},
		"assets/worker-BBBB.js":    {Data: []byte("self.onmessage = () => {}")},
		"assets/index-CCCC.css":    {Data: []byte("body{}")},
		"assets/.hidden":           {Data: []byte("no")},
		"not-an-asset/secret.json": {Data: []byte("{}")},
	}
	h := server.New(slog.New(slog.DiscardHandler), server.Options{PublicURL: "http://localhost:3000"}, nil, nil, nil, built, nil)
	get := func(path string, header ...string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Result()
	}
	for _, path := range []string{"/", "/auditorium/", "/login/", "/setup/", "/forgot-password/", "/reset-password/", "/join/", "/console/", "/console/accounts/x", "/join/anything"} {
		res := get(path)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || string(body) != index {
			t.Errorf("%s: got %d %q, want 200 and the shell", path, res.StatusCode, body)
			continue
		}
		if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("%s: got CSP %q, want the shell's", path, got)
		}
		if res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("ETag") == "" || res.Header.Get("Cross-Origin-Opener-Policy") != "same-origin" {
			t.Errorf("%s: got headers %v", path, res.Header)
		}
	}
	german := server.New(slog.New(slog.DiscardHandler), server.Options{PublicURL: "http://localhost:3000", Locale: "de"}, nil, nil, nil, built, nil)
	rec := httptest.NewRecorder()
	german.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login/", nil))
	if body := rec.Body.String(); !strings.Contains(body, `<head><meta name="offen-locale" content="de"><title>`) {
		t.Errorf("instance default de: got shell %q, want the offen-locale meta element", body)
	}
	etag := get("/login/").Header.Get("ETag")
	if res := get("/login/", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: got %d, want 304", res.StatusCode)
	}
	if res := get("/auditorium"); res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/auditorium/" {
		t.Errorf("/auditorium: got %d to %q, want a redirect to /auditorium/", res.StatusCode, res.Header.Get("Location"))
	}
	for _, path := range []string{"/auditorium/assets/index-AAAA.js", "/auditorium/assets/worker-BBBB.js", "/auditorium/assets/index-CCCC.css"} {
		res := get(path)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: got %d %q, want 200 and immutable", path, res.StatusCode, res.Header.Get("Cache-Control"))
		}
		if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
			t.Errorf("%s: got CSP %q, want the shell's (workers take it from their script)", path, got)
		}
	}
	for _, path := range []string{"/auditorium/assets/missing.js", "/auditorium/assets/.hidden", "/console/app.js", "/auditorium/index.html", "/auditorium/assets/../not-an-asset/secret.json", "/nothing"} {
		if res := get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", path, res.StatusCode)
		}
	}

	bare := server.New(slog.New(slog.DiscardHandler), server.Options{PublicURL: "http://localhost:3000"}, nil, nil, nil, fstest.MapFS{}, nil)
	w := httptest.NewRecorder()
	bare.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login/", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "make build") {
		t.Errorf("without a build: got %d %q, want 503 and the build hint", w.Code, w.Body.String())
	}
}
