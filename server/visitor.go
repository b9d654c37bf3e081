// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/persistence"
)

// Visitor identity (PROTOCOL §3.1, §3.2).
const (
	// userCookie holds the visitor's user id, 32 hex; the server never
	// stores it.
	userCookie = "user"
	// consentCookie is set by the vault's JavaScript: "allow" or "deny".
	consentCookie = "consent"
	consentAllow  = "allow"
	// defaultRetention applies when Options.Retention is zero (6months).
	defaultRetention = 186 * 24 * time.Hour
)

// visitors holds what the visitor routes (PROTOCOL §7.2) and the static
// visitor files share.
type visitors struct {
	logger *slog.Logger
	store  persistence.Store
	now    func() time.Time
	ipOf   func(*http.Request) netip.Addr
	loc    *locales.Bundle
	assets scriptAssets
	// defaultLocale is the instance's language.
	defaultLocale string
	// retention is how long events are kept and the user cookie lives.
	retention time.Duration
	// secureContext is PROTOCOL §1's: https, or http on localhost or
	// 127.0.0.1. It decides the user cookie's Secure; SameSite=None.
	secureContext bool
	throttles     *visitorThrottles
	// userCookieTail is what follows the value in the Set-Cookie header
	// that sets or renews the user cookie ("; Path=/api; Max-Age=…").
	userCookieTail string
}

// newVisitors prepares the visitor routes. A nil loc loads the embedded
// translations; a nil scriptFS serves the "run make build" page.
func newVisitors(logger *slog.Logger, opts Options, store persistence.Store, loc *locales.Bundle, scriptFS fs.FS) *visitors {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		var err error
		if loc, err = locales.New(); err != nil {
			panic("server: embedded translations: " + err.Error())
		}
	}
	v := &visitors{
		logger:        logger,
		store:         store,
		now:           now,
		ipOf:          clientIP,
		loc:           loc,
		assets:        loadScriptAssets(scriptFS),
		defaultLocale: opts.Locale,
		retention:     opts.Retention,
		secureContext: isSecureContext(opts.PublicURL),
		throttles:     newVisitorThrottles(DefaultVisitorLimits()),
	}
	if v.retention <= 0 {
		v.retention = defaultRetention
	}
	v.userCookieTail = strings.TrimPrefix(v.userCookie("0", int(v.retention/time.Second)).String(), userCookie+"=0")
	if locales.Match(v.defaultLocale) != v.defaultLocale {
		v.defaultLocale = locales.Fallback
	}
	return v
}

// isSecureContext reports whether publicURL is a secure context in the
// sense of PROTOCOL §1: https, or http://localhost or http://127.0.0.1.
func isSecureContext(publicURL string) bool {
	u, err := url.Parse(publicURL)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return false
}

// locale is the language asked for by a ?locale= value when supported, else
// the instance default.
func (v *visitors) locale(param string) string {
	if param != "" {
		if l := locales.Match(param); l != "" {
			return l
		}
	}
	return v.defaultLocale
}

// retentionDays is the retention in whole days, as shown to clients.
func (v *visitors) retentionDays() int {
	return int(v.retention / (24 * time.Hour))
}

// userID returns the caller's user id from a well-formed user cookie; a
// missing or malformed cookie gives ok false (PROTOCOL §3.2: malformed
// counts as absent).
func userID(r *http.Request) (raw []byte, encoded string, ok bool) {
	c, err := r.Cookie(userCookie)
	if err != nil {
		return nil, "", false
	}
	raw, err = keys.ParseUserID(c.Value)
	if err != nil {
		return nil, "", false
	}
	return raw, c.Value, true
}

// hasConsent reports whether the request carries consent=allow.
func hasConsent(r *http.Request) bool {
	c, err := r.Cookie(consentCookie)
	return err == nil && c.Value == consentAllow
}

// setUserCookie sets or renews the user cookie of PROTOCOL §3.1.
func (v *visitors) setUserCookie(w http.ResponseWriter, id string) {
	// The header http.SetCookie writes, without building the cookie on
	// every event: id is a validated user id (hex), which needs no quoting.
	if v.userCookieTail == "" || !validCookieHex(id) {
		http.SetCookie(w, v.userCookie(id, int(v.retention/time.Second)))
		return
	}
	w.Header().Add("Set-Cookie", userCookie+"="+id+v.userCookieTail)
}

// validCookieHex reports whether s is non-empty lowercase hex.
func validCookieHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// clearUserCookie removes the user cookie.
func (v *visitors) clearUserCookie(w http.ResponseWriter) {
	http.SetCookie(w, v.userCookie("", -1))
}

func (v *visitors) userCookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name:     userCookie,
		Value:    value,
		Path:     "/api",
		MaxAge:   maxAge,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if v.secureContext {
		c.Secure = true
		c.SameSite = http.SameSiteNoneMode
	}
	return c
}

// secretIDs returns the caller's secret id in every account (retired ones
// included) or, with accountID set, in that account only.
func (v *visitors) secretIDs(r *http.Request, user []byte, accountID string) ([]string, error) {
	salts, err := v.store.ListUserSalts(r.Context())
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(salts))
	for _, s := range salts {
		if accountID != "" && s.AccountID != accountID {
			continue
		}
		id, err := keys.SecretID(s.UserSalt, user)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}
