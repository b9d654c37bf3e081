// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

// Internal tests: decode, respondError and the middleware are exercised
// through the real router with test-only routes, as no production route
// reads a body yet.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
)

type greeting struct {
	Name string `json:"name"`
}

func (g greeting) Valid(context.Context) map[string]string {
	if g.Name == "" {
		return map[string]string{"name": "must not be empty"}
	}
	return nil
}

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testRouter is the real router plus test-only routes.
func testRouter(t *testing.T) (http.Handler, *lockedLog) {
	t.Helper()
	logs := &lockedLog{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	r := chi.NewRouter()
	addRoutes(r, logger, Options{PublicURL: "http://localhost:3000"}, persistencetest.NewSQLiteStore(t), nil, nil, nil, nil)
	r.Post("/test/greet", func(w http.ResponseWriter, r *http.Request) {
		g, err := decode[greeting](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusOK, map[string]string{"hello": g.Name})
	})
	r.With(limitBody(16)).Post("/test/small", func(w http.ResponseWriter, r *http.Request) {
		_, err := decode[greeting](w, r)
		respondError(w, r, err)
	})
	r.Get("/test/error/{kind}", func(w http.ResponseWriter, r *http.Request) {
		errs := map[string]error{
			"notfound":   fmt.Errorf("find: %w", persistence.ErrNotFound),
			"conflict":   fmt.Errorf("create: %w", persistence.ErrConflict),
			"invalid":    fmt.Errorf("create: %w", persistence.ErrInvalid),
			"down":       fmt.Errorf("ping: %w", persistence.ErrUnavailable),
			"throttled":  fmt.Errorf("login: %w", &throttledError{retryAfter: 1500 * time.Millisecond}),
			"forbidden":  errForbidden,
			"canceled":   fmt.Errorf("find: %w", context.Canceled),
			"unexpected": fmt.Errorf("private detail db password=sesame"),
		}
		if r.PathValue("kind") == "panic" {
			panic("handler exploded")
		}
		respondError(w, r, errs[r.PathValue("kind")])
	})
	return r, logs
}

func TestDecodeAndErrors(t *testing.T) {
	t.Parallel()
	big := `{"name":"` + strings.Repeat("x", defaultBodyLimit) + `"}`
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		wantStatus  int
		wantBody    []string
		notBody     []string
		wantHeader  map[string]string
		wantLog     []string
		notLog      []string
	}{
		{name: "valid", path: "/test/greet", body: `{"name":"Ada"}`, wantStatus: 200, wantBody: []string{`{"hello":"Ada"}`}},
		{name: "charset parameter is fine", path: "/test/greet", contentType: "application/json; charset=utf-8", body: `{"name":"Ada"}`, wantStatus: 200},
		{name: "wrong content type", path: "/test/greet", contentType: "text/plain", body: `{"name":"Ada"}`, wantStatus: 415, wantBody: []string{`"status":415`}},
		{name: "missing content type", path: "/test/greet", contentType: "-", body: `{"name":"Ada"}`, wantStatus: 415},
		{name: "unknown field", path: "/test/greet", body: `{"name":"Ada","admin":true}`, wantStatus: 400, wantBody: []string{`unknown field \"admin\"`}},
		{name: "trailing data", path: "/test/greet", body: `{"name":"Ada"} {"name":"Bob"}`, wantStatus: 400, wantBody: []string{"unexpected data after the JSON value"}},
		{name: "trailing garbage", path: "/test/greet", body: `{"name":"Ada"}x`, wantStatus: 400},
		{name: "malformed", path: "/test/greet", body: `{"name":`, wantStatus: 400, wantBody: []string{`"error":"malformed JSON`}},
		{name: "wrong type", path: "/test/greet", body: `{"name":1}`, wantStatus: 400, wantBody: []string{`field \"name\" must be string`}},
		{name: "empty body", path: "/test/greet", body: ``, wantStatus: 400, wantBody: []string{"empty body"}},
		{name: "validation fields", path: "/test/greet", body: `{"name":""}`, wantStatus: 400, wantBody: []string{`"fields":{"name":"must not be empty"}`}},
		{name: "over the default limit", path: "/test/greet", body: big, wantStatus: 413, wantBody: []string{`"status":413`}},
		{name: "over a route limit", path: "/test/small", body: `{"name":"a long enough name"}`, wantStatus: 413},
		{name: "not found", method: "GET", path: "/test/error/notfound", wantStatus: 404},
		{name: "conflict", method: "GET", path: "/test/error/conflict", wantStatus: 409},
		{name: "invalid", method: "GET", path: "/test/error/invalid", wantStatus: 400},
		{name: "unavailable", method: "GET", path: "/test/error/down", wantStatus: 503},
		{name: "forbidden", method: "GET", path: "/test/error/forbidden", wantStatus: 403},
		{name: "throttled", method: "GET", path: "/test/error/throttled", wantStatus: 429, wantHeader: map[string]string{"Retry-After": "2"}},
		{
			name: "unexpected error is a generic 500 logged once", method: "GET", path: "/test/error/unexpected",
			wantStatus: 500, wantBody: []string{`{"error":"internal server error","status":500}`}, notBody: []string{"sesame"},
			wantLog: []string{"level=ERROR", "route=/test/error/{kind}", "request_id=", "private detail"},
		},
		{
			name: "panic is a 500", method: "GET", path: "/test/error/panic",
			wantStatus: 500, notBody: []string{"exploded"},
			wantLog: []string{"level=ERROR", "panic: handler exploded", "route=/test/error/{kind}"},
		},
		{name: "a client that left is a warning", method: "GET", path: "/test/error/canceled", wantStatus: 503, wantLog: []string{"level=WARN"}, notLog: []string{"level=ERROR"}},
		{name: "client errors are not logged as errors", method: "GET", path: "/test/error/notfound", wantStatus: 404, notLog: []string{"level=ERROR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, logs := testRouter(t)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequestWithContext(t.Context(), method, tt.path, strings.NewReader(tt.body))
			switch tt.contentType {
			case "":
				req.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			b, _ := io.ReadAll(rec.Result().Body)
			body := string(b)
			if rec.Code != tt.wantStatus {
				t.Errorf("got status %d, want %d; body %s", rec.Code, tt.wantStatus, body)
			}
			if tt.wantStatus >= 400 && !strings.Contains(body, fmt.Sprintf(`"status":%d`, tt.wantStatus)) {
				t.Errorf("got body %s, want the JSON error shape", body)
			}
			for _, f := range tt.wantBody {
				if !strings.Contains(body, f) {
					t.Errorf("got body %s, want it to contain %s", body, f)
				}
			}
			for _, f := range tt.notBody {
				if strings.Contains(body, f) {
					t.Errorf("got body %s, want it not to contain %s", body, f)
				}
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			log := logs.String()
			for _, f := range tt.wantLog {
				if !strings.Contains(log, f) {
					t.Errorf("log lacks %q:\n%s", f, log)
				}
			}
			for _, f := range tt.notLog {
				if strings.Contains(log, f) {
					t.Errorf("log contains %q:\n%s", f, log)
				}
			}
			if n := strings.Count(log, "level=ERROR"); n > 1 {
				t.Errorf("got %d error lines, want at most one:\n%s", n, log)
			}
		})
	}
}

func TestSurfaceHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		surface surface
		want    map[string]string
	}{
		{surfaceShell, map[string]string{"Content-Security-Policy": cspShell, "Cross-Origin-Opener-Policy": "same-origin", "Permissions-Policy": permissionsPolicy, "X-Frame-Options": "DENY"}},
		{surfaceVault, map[string]string{"X-Frame-Options": "", "Content-Security-Policy": vaultCSP(nil), "Permissions-Policy": permissionsPolicy}},
		{surfaceScript, map[string]string{"Cross-Origin-Resource-Policy": "cross-origin", "X-Frame-Options": "DENY"}},
		{surfaceAPI, map[string]string{"Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store"}},
	}
	for _, tt := range tests {
		h := http.Header{}
		setSecurityHeaders(h, surfaceOther, true)
		setSecurityHeaders(h, tt.surface, true)
		for k, v := range tt.want {
			if got := h.Get(k); got != v {
				t.Errorf("surface %d, %s: got %q, want %q", tt.surface, k, got, v)
			}
		}
		if h.Get("Strict-Transport-Security") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("surface %d lacks the headers common to all", tt.surface)
		}
	}
	if got, want := vaultCSP([]string{"https://a.example", "https://b.example"}), "frame-ancestors https://a.example https://b.example"; !strings.HasSuffix(got, want) {
		t.Errorf("got %q, want it to end in %q", got, want)
	}
}
