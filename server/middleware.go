// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// requestInfo is the request-scoped state shared by the middleware: the
// request id and the error, if any, that the request log reports.
type requestInfo struct {
	id  string
	err error
	// client is set by resolveClient (when hasClient): both live in this
	// one context value, so that a request's context is copied once.
	client    client
	hasClient bool
	// deadline ends the request's context (requestDeadline); streaming
	// routes push it back (extendDeadlines).
	deadline *time.Timer
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// requestIDFrom returns the id of the request ctx belongs to, or "".
func requestIDFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// noteError records err for the request log line of the current request.
func noteError(ctx context.Context, err error) {
	if info := infoFrom(ctx); info != nil && info.err == nil {
		info.err = err
	}
}

// requestID gives each request a random id, returned in X-Request-Id. Ids
// sent by clients are ignored: they would let anyone write into the log.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		info := &requestInfo{id: hex.EncodeToString(b[:])}
		w.Header()["X-Request-Id"] = []string{info.id}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

// requestDeadline bounds the time a request may spend, above all in the
// database: once d has passed its context ends with errRequestDeadline,
// which the store calls return and respondError answers with 503. A
// timer rather than context.WithTimeout, so that streaming routes can
// extend it (extendDeadlines), which a context deadline cannot be.
func requestDeadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithCancelCause(r.Context())
			defer cancel(nil)
			t := time.AfterFunc(d, func() { cancel(errRequestDeadline) })
			defer t.Stop()
			if info := infoFrom(ctx); info != nil {
				info.deadline = t
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// outageQuiet is how long without an unavailable error ends an outage
// episode: the next one starts a new episode (and an error line).
const outageQuiet = 30 * time.Second

// outages counts the unavailable responses of an outage so that it is
// logged as an error once, when it starts, and not once per request.
type outages struct {
	mu    sync.Mutex
	now   func() time.Time
	last  time.Time
	count int
}

// note records one unavailable response and reports whether it starts an
// episode, with the number of responses of the episode before.
func (o *outages) note() (first bool, previous int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	first = o.count == 0 || now.Sub(o.last) >= outageQuiet
	if first {
		previous, o.count = o.count, 0
	}
	o.last = now
	o.count++
	return first, previous
}

// logRequests writes one log line per request: method, route pattern, status,
// response size, duration and request id, plus the error of 5xx responses.
// The database being unavailable is an error line once per outage episode;
// its other 503s are info lines without the error. It never logs the raw
// URL, query, client address, cookies, Referer, User-Agent or bodies.
func logRequests(logger *slog.Logger, now func() time.Time) func(http.Handler) http.Handler {
	outage := &outages{now: now}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			route := "-"
			if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePattern() != "" {
				route = rctx.RoutePattern()
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int("size", ww.BytesWritten()),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", requestIDFrom(r.Context())),
			}
			level := slog.LevelInfo
			if status >= http.StatusInternalServerError {
				level = slog.LevelError
				if info := infoFrom(r.Context()); info != nil && info.err != nil {
					err := info.err
					switch {
					case unavailableError(err):
						first, previous := outage.note()
						if !first {
							level, err = slog.LevelInfo, nil
						} else if previous > 0 {
							attrs = append(attrs, slog.Int("previous_outage_responses", previous))
						}
					case errors.Is(err, context.Canceled):
						level = slog.LevelWarn // the client left; not our failure
					}
					if err != nil {
						attrs = append(attrs, slog.String("error", err.Error()))
					}
				}
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}

// recoverPanics turns a panicking handler into a 500 whose cause and stack
// reach the request log. http.ErrAbortHandler keeps its meaning.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			respondError(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies at n bytes; reading more fails with
// *http.MaxBytesError, which respondError answers with 413. A route's own
// limit replaces the one of an enclosing group (routes.go sets the default
// for all): it limits the unlimited body again, so it may also be larger.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw := r.Body
			if l, ok := raw.(*limitedBody); ok {
				raw = l.raw
			}
			r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, raw, n), raw: raw}
			next.ServeHTTP(w, r)
		})
	}
}

// limitedBody is a request body under limitBody's limit; raw is the body
// without it.
type limitedBody struct {
	io.ReadCloser
	raw io.ReadCloser
}

// noStore forbids caching the response.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// surface names a part of the site with its own security headers
// (PROTOCOL.md §8).
type surface int

const (
	// surfaceOther is everything not named below: nothing may be loaded,
	// nothing may frame it.
	surfaceOther surface = iota
	// surfaceAPI is /api/: never cached, same-origin resource policy.
	surfaceAPI
	// surfaceShell is the auditorium's SPA shell and app pages.
	surfaceShell
	// surfaceVault is /vault/, the only surface that may be framed; its
	// handler narrows frame-ancestors with vaultCSP per account.
	surfaceVault
	// surfaceScript is /script.js, loaded cross-origin by tracked sites.
	surfaceScript
)

const (
	cspOther = "default-src 'none'; frame-ancestors 'none'"
	cspShell = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
	permissionsPolicy = "camera=(), microphone=(), geolocation=(), browsing-topics=()"
)

// vaultCSP returns the vault HTML's Content-Security-Policy allowing the
// given origins to frame it; an empty list allows any.
func vaultCSP(frameAncestors []string) string {
	ancestors := "*"
	if len(frameAncestors) > 0 {
		ancestors = strings.Join(frameAncestors, " ")
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors " + ancestors
}

// securityHeaders sets the headers of surface s. The global middleware sets
// surfaceOther; route groups override with their own surface. secure (an
// https public URL), or a request that came over https (secureRequest: our
// TLS, or a trusted proxy's X-Forwarded-Proto), adds Strict-Transport-Security.
func securityHeaders(s surface, secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setSecurityHeaders(w.Header(), s, secure || secureRequest(r))
			next.ServeHTTP(w, r)
		})
	}
}

func setSecurityHeaders(h http.Header, s surface, secure bool) {
	// The values are shared, read-only one-element slices (capacity 1, so
	// an Add elsewhere copies instead of writing into them), assigned under
	// their canonical keys: this runs on every request, and Header.Set would
	// allocate a slice per header.
	h["X-Content-Type-Options"] = hvNosniff
	h["Referrer-Policy"] = hvNoReferrer
	if secure {
		h["Strict-Transport-Security"] = hvHSTS
	}
	h["X-Frame-Options"] = hvDeny
	switch s {
	case surfaceAPI:
		h["Content-Security-Policy"] = hvCSPOther
		h["Cross-Origin-Resource-Policy"] = hvSameOrigin
		h["Cache-Control"] = hvNoStore
	case surfaceShell:
		h["Content-Security-Policy"] = hvCSPShell
		h["Cross-Origin-Opener-Policy"] = hvSameOrigin
		h["Permissions-Policy"] = hvPermissions
	case surfaceVault:
		h.Del("X-Frame-Options")
		h.Set("Content-Security-Policy", vaultCSP(nil))
		h["Permissions-Policy"] = hvPermissions
	case surfaceScript:
		h["Content-Security-Policy"] = hvCSPOther
		h["Cross-Origin-Resource-Policy"] = hvCrossOrigin
	default:
		h["Content-Security-Policy"] = hvCSPOther
	}
}

// headerValue returns a one-element header value with no spare capacity.
func headerValue(v string) []string { return []string{v}[:1:1] }

var (
	hvNosniff     = headerValue("nosniff")
	hvNoReferrer  = headerValue("no-referrer")
	hvHSTS        = headerValue("max-age=31536000")
	hvDeny        = headerValue("DENY")
	hvCSPOther    = headerValue(cspOther)
	hvCSPShell    = headerValue(cspShell)
	hvSameOrigin  = headerValue("same-origin")
	hvCrossOrigin = headerValue("cross-origin")
	hvNoStore     = headerValue("no-store")
	hvPermissions = headerValue(permissionsPolicy)
)
