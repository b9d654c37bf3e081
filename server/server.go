// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package server turns HTTP requests into calls on persistence. New builds the
// one handler of the instance; Listen serves it until the context ends.
package server

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence"
)

// Options are the plain values the handler needs from the configuration.
type Options struct {
	// Version and Revision identify the running binary at /versionz.
	Version  string
	Revision string
	// PublicURL is the instance's own URL (scheme://host[:port], no trailing
	// slash). It builds mailed links and decides the secure context: an https
	// URL turns on Strict-Transport-Security.
	PublicURL string
	// TrustedProxies are the peers whose X-Forwarded-For and -Proto headers
	// are believed (clientip.go); empty means none.
	TrustedProxies []netip.Prefix

	// InstanceSecret and PreviousSecret are the decoded OFFEN_SECRET and
	// OFFEN_SECRET_PREVIOUS (nil when unset); operator routes need the first.
	InstanceSecret []byte
	PreviousSecret []byte
	// SetupToken authorizes browser setup while no login exists (serve logs
	// it as <public URL>/setup/#<token>); empty refuses browser setup.
	SetupToken string
	// InstanceOrigins are further origins of the instance besides the public
	// URL's (https://<host> per autotls host), accepted by the CSRF check.
	InstanceOrigins []string
	// Locale is the default language of mails ("en" when empty).
	Locale string
	// Retention is how long events are kept (OFFEN_APP_RETENTION).
	Retention time.Duration
	// Argon2Workers is how many argon2id runs (19 MiB each) may go on at
	// once, for logins, re-authentication and new passwords; 0 means
	// DefaultArgonWorkers.
	Argon2Workers int
	// Now is the clock of sessions, throttles and the outage log; nil means
	// time.Now.
	Now func() time.Time
	// RequestTimeout bounds a request's database work (a streaming feed
	// page gets 120 s): when it passes the request is answered 503. Zero
	// means 10 seconds.
	RequestTimeout time.Duration
}

// defaultRequestTimeout is RequestTimeout's default: well below the
// vault's own 30 s, so that it sees a 503 and retries, not a timeout.
const defaultRequestTimeout = 10 * time.Second

func (o Options) requestTimeout() time.Duration {
	if o.RequestTimeout > 0 {
		return o.RequestTimeout
	}
	return defaultRequestTimeout
}

func (o Options) clock() func() time.Time {
	if o.Now != nil {
		return o.Now
	}
	return time.Now
}

// New returns the handler serving every route of the instance. logger
// receives the request log and errors; store is used for all state; mail
// sends operator mails, translated with loc (nil: the embedded bundle for
// the visitor side, keys for mails). scriptFS is the built script bundle
// (script.FS, laid out like script/dist); nil or one without a build
// serves a "run make build" page for the script and the vault.
// auditoriumFS is the built auditorium (auditorium.FS(), laid out like
// auditorium/dist); without a build its pages get that page too.
func New(logger *slog.Logger, opts Options, store persistence.Store, mail mailer.Mailer, loc *locales.Bundle, auditoriumFS, scriptFS fs.FS) http.Handler {
	r := chi.NewRouter()
	addRoutes(r, logger, opts, store, mail, loc, auditoriumFS, scriptFS)
	return r
}

// secure reports whether the instance is served over https.
func (o Options) secure() bool {
	return strings.HasPrefix(o.PublicURL, "https://")
}
