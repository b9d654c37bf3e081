// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/server"
)

// scenario is one request through the real router on its own SQLite store.
type scenario struct {
	name    string
	method  string
	path    string
	body    string
	headers map[string]string
	opts    server.Options
	// store returns the store to use; nil means a fresh migrated SQLite store.
	store func(t *testing.T) persistence.Store
	// wantStatus is the expected status code.
	wantStatus int
	// wantBody and notBody are fragments the body must and must not contain.
	wantBody []string
	notBody  []string
	// wantHeaders must match exactly; an empty value means absent.
	wantHeaders map[string]string
	// after inspects the response and the log.
	after func(t *testing.T, res *http.Response, body, log string)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (sc scenario) run(t *testing.T) {
	t.Helper()
	t.Run(sc.name, func(t *testing.T) {
		t.Parallel()
		var store persistence.Store
		if sc.store != nil {
			store = sc.store(t)
		} else {
			store = persistencetest.NewSQLiteStore(t)
		}
		logs := &syncBuffer{}
		logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts := sc.opts
		if opts.PublicURL == "" {
			opts.PublicURL = "http://localhost:3000"
		}
		h := server.New(logger, opts, store, nil, nil, nil, nil)

		method := sc.method
		if method == "" {
			method = http.MethodGet
		}
		req := httptest.NewRequestWithContext(t.Context(), method, sc.path, strings.NewReader(sc.body))
		for k, v := range sc.headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		b, _ := io.ReadAll(res.Body)
		body := string(b)

		if res.StatusCode != sc.wantStatus {
			t.Errorf("got status %d, want %d; body %s", res.StatusCode, sc.wantStatus, body)
		}
		for _, f := range sc.wantBody {
			if !strings.Contains(body, f) {
				t.Errorf("got body %q, want it to contain %q", body, f)
			}
		}
		for _, f := range sc.notBody {
			if strings.Contains(body, f) {
				t.Errorf("got body %q, want it not to contain %q", body, f)
			}
		}
		for k, want := range sc.wantHeaders {
			if got := res.Header.Get(k); got != want {
				t.Errorf("header %s: got %q, want %q", k, got, want)
			}
		}
		if sc.after != nil {
			sc.after(t, res, body, logs.String())
		}
	})
}

// closedStore is a migrated store whose connections are already closed, as
// if the database had gone away.
func closedStore(t *testing.T) persistence.Store {
	s := persistencetest.NewSQLiteStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return s
}

// unmigratedStore is a store on an empty database.
func unmigratedStore(t *testing.T) persistence.Store {
	return persistencetest.OpenStore(t, persistencetest.NewDatabase(t, persistencetest.SQLite))
}

// isJSONError checks the one error shape.
func isJSONError(status int) func(t *testing.T, res *http.Response, body, log string) {
	return func(t *testing.T, res *http.Response, body, _ string) {
		t.Helper()
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("got Content-Type %q, want JSON", ct)
		}
		var e struct {
			Error  string `json:"error"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" || e.Status != status {
			t.Errorf("got body %s (%v), want {error, status: %d}", body, err, status)
		}
	}
}

// baseHeaders are the security headers of PROTOCOL.md §8 on a plain route.
var baseHeaders = map[string]string{
	"X-Content-Type-Options":    "nosniff",
	"Referrer-Policy":           "no-referrer",
	"X-Frame-Options":           "DENY",
	"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
	"Strict-Transport-Security": "",
}

func with(base map[string]string, extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	scenarios := []scenario{
		{
			name: "healthz ok", path: "/healthz",
			wantStatus:  http.StatusOK,
			wantBody:    []string{`{"ok":true}`},
			wantHeaders: with(baseHeaders, map[string]string{"Cache-Control": "no-store", "Content-Type": "application/json; charset=utf-8"}),
			after: func(t *testing.T, res *http.Response, _, _ string) {
				if id := res.Header.Get("X-Request-Id"); len(id) != 16 {
					t.Errorf("got X-Request-Id %q, want 16 hex digits", id)
				}
			},
		},
		{
			name: "healthz database closed", path: "/healthz", store: closedStore,
			wantStatus:  http.StatusServiceUnavailable,
			wantBody:    []string{`"status":503`},
			notBody:     []string{"closed", "sql"},
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
			after: func(t *testing.T, res *http.Response, body, log string) {
				isJSONError(http.StatusServiceUnavailable)(t, res, body, log)
				if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "route=/healthz") || !strings.Contains(log, "error=") {
					t.Errorf("want the cause logged once with the route, got log:\n%s", log)
				}
			},
		},
		{
			name: "HEAD answered like GET", method: http.MethodHead, path: "/robots.txt",
			wantStatus: http.StatusOK,
		},
		{
			name: "healthz schema outdated", path: "/healthz", store: unmigratedStore,
			wantStatus: http.StatusServiceUnavailable,
			after:      isJSONError(http.StatusServiceUnavailable),
		},
		{
			name: "versionz", path: "/versionz",
			opts:        server.Options{Version: "v1.2.3", Revision: "abc123"},
			wantStatus:  http.StatusOK,
			wantBody:    []string{`"version":"v1.2.3"`, `"revision":"abc123"`, `"schema":"`},
			notBody:     []string{`"schema":""`},
			wantHeaders: map[string]string{"Cache-Control": "no-store"},
		},
		{
			name: "robots.txt", path: "/robots.txt",
			wantStatus:  http.StatusOK,
			wantBody:    []string{"User-agent: *\nDisallow: /\n"},
			wantHeaders: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		},
		{
			name: "favicon.ico is an icon", path: "/favicon.ico",
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{"Content-Type": "image/x-icon"},
			after: func(t *testing.T, _ *http.Response, body, _ string) {
				// One entry (type 1 = icon) whose image is a 32x32 PNG.
				b := []byte(body)
				if len(b) < 22 || binary.LittleEndian.Uint16(b[2:]) != 1 || binary.LittleEndian.Uint16(b[4:]) != 1 {
					t.Fatalf("not an ICO directory of one icon: % x", b[:min(len(b), 22)])
				}
				off := binary.LittleEndian.Uint32(b[18:])
				img, err := png.Decode(bytes.NewReader(b[off:]))
				if err != nil || img.Bounds().Dx() != 32 || img.Bounds().Dy() != 32 {
					t.Errorf("icon image: %v, %v", err, img)
				}
			},
		},
		{
			name: "NOTICE.txt is the given notice", path: "/NOTICE.txt",
			opts:        server.Options{Notice: []byte("Offen\nbundles: chi (MIT)\n")},
			wantStatus:  http.StatusOK,
			wantBody:    []string{"Offen\nbundles: chi (MIT)\n"},
			wantHeaders: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		},
		{
			name: "no notice is 404", path: "/NOTICE.txt",
			wantStatus: http.StatusNotFound,
		},
		{
			name: "unknown API path is JSON 404", path: "/api/nothing-here",
			wantStatus: http.StatusNotFound,
			wantHeaders: with(baseHeaders, map[string]string{
				"Cache-Control": "no-store", "Cross-Origin-Resource-Policy": "same-origin",
			}),
			after: isJSONError(http.StatusNotFound),
		},
		{
			name: "API root is JSON 404", path: "/api",
			wantStatus: http.StatusNotFound,
			after:      isJSONError(http.StatusNotFound),
		},
		{
			name: "unknown page is 404", path: "/nothing-here",
			wantStatus:  http.StatusNotFound,
			wantHeaders: baseHeaders,
		},
		{
			name: "wrong method is 405 with Allow", method: http.MethodPost, path: "/healthz",
			wantStatus:  http.StatusMethodNotAllowed,
			wantHeaders: map[string]string{"Allow": "GET"},
			after:       isJSONError(http.StatusMethodNotAllowed),
		},
		{
			name: "HSTS in a secure context", path: "/healthz",
			opts:        server.Options{PublicURL: "https://offen.example.org"},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{"Strict-Transport-Security": "max-age=31536000"},
		},
		{
			name: "request log keeps visitors out", path: "/healthz?user=visitor-secret",
			headers: map[string]string{
				"User-Agent": "agent-fingerprint", "Referer": "https://site.example/private",
				"Cookie": "user=cookie-value", "X-Forwarded-For": "203.0.113.9",
			},
			wantStatus: http.StatusOK,
			after: func(t *testing.T, _ *http.Response, _, log string) {
				for _, want := range []string{"method=GET", "route=/healthz", "status=200", "size=", "duration=", "request_id="} {
					if !strings.Contains(log, want) {
						t.Errorf("log lacks %q:\n%s", want, log)
					}
				}
				for _, never := range []string{"visitor-secret", "agent-fingerprint", "site.example", "cookie-value", "203.0.113.9", "192.0.2.1"} {
					if strings.Contains(log, never) {
						t.Errorf("log contains %q:\n%s", never, log)
					}
				}
			},
		},
	}
	for _, sc := range scenarios {
		sc.run(t)
	}
}
