// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence"
)

// Operator sessions (PROTOCOL §3.4).
const (
	sessionCookie      = "login"
	sessionIdle        = 12 * time.Hour
	sessionLifetime    = 7 * 24 * time.Hour
	sessionTouchEvery  = time.Minute
	resetTokenLifetime = 24 * time.Hour
	inviteLifetime     = 7 * 24 * time.Hour
	mailTimeout        = 30 * time.Second
	backgroundTimeout  = 10 * time.Minute
)

// operators holds what the operator routes of PROTOCOL §7.3 share.
type operators struct {
	logger    *slog.Logger
	store     persistence.Store
	now       func() time.Time
	throttles *throttles
	// argon runs every argon2id verification and hash.
	argon *argonPool
	// ipOf is the client address of a request (clientIP).
	ipOf func(*http.Request) netip.Addr
	// instance and previous are the keys of OFFEN_SECRET and of
	// OFFEN_SECRET_PREVIOUS (nil when unset).
	instance *keys.InstanceKeys
	previous *keys.InstanceKeys
	// publicURL builds every mailed link; secure sets the cookie's Secure.
	publicURL string
	secure    bool
	// setupToken authorizes browser setup (empty: browser setup refused);
	// setupLoginID is the login id offered to the browser setup client.
	setupToken   string
	setupLoginID string
	mail         mailer.Mailer
	translate    mailer.Translate
	locale       string
	// languages are those the mails can be written in.
	languages []string
	// retention is the data retention, shown as retentionDays.
	retention time.Duration
	// pending counts mails being sent in the background, so Close can wait.
	pending sync.WaitGroup
}

// newOperators prepares the operator routes. A nil mail logs nothing and
// sends nothing; a nil loc renders mails with their keys.
func newOperators(logger *slog.Logger, opts Options, store persistence.Store, mail mailer.Mailer, loc *locales.Bundle) *operators {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	op := &operators{
		logger:       logger,
		store:        store,
		now:          now,
		throttles:    newThrottles(now, DefaultThrottleLimits()),
		argon:        newArgonPool(opts.Argon2Workers, argonQueueWait),
		ipOf:         clientIP,
		publicURL:    strings.TrimSuffix(opts.PublicURL, "/"),
		secure:       opts.secure(),
		setupToken:   opts.SetupToken,
		setupLoginID: keys.NewUUID(),
		mail:         mail,
		locale:       opts.Locale,
		retention:    opts.Retention,
	}
	if len(opts.InstanceSecret) > 0 {
		if k, err := keys.DeriveInstanceKeys(opts.InstanceSecret); err == nil {
			op.instance = &k
		} else {
			logger.Error("operator routes disabled: unusable instance secret", "error", err)
		}
	}
	if len(opts.PreviousSecret) > 0 {
		if k, err := keys.DeriveInstanceKeys(opts.PreviousSecret); err == nil {
			op.previous = &k
		}
	}
	if op.locale == "" {
		op.locale = "en"
	}
	if op.mail == nil {
		op.mail = mailer.NewLog(logger, false)
	}
	op.translate = func(lang, key string, args map[string]string) string { return key }
	if loc != nil {
		op.translate = loc.Translate
		op.languages = loc.Languages()
	}
	return op
}

// errNoInstanceSecret answers operator routes on an instance started
// without OFFEN_SECRET (as some tests do): nothing can be indexed.
var errNoInstanceSecret = errors.New("no instance secret configured")

// emailIndexes returns the e-mail index under the instance secret and, when
// a previous secret is configured, under that one.
func (op *operators) emailIndexes(email string) (current, previous string, err error) {
	if op.instance == nil {
		return "", "", errNoInstanceSecret
	}
	current, err = keys.EmailIndex(op.instance.EmailIndex, email)
	if err != nil {
		return "", "", err
	}
	if op.previous != nil {
		previous, _ = keys.EmailIndex(op.previous.EmailIndex, email)
	}
	return current, previous, nil
}

// findLoginByEmail looks the address up under the current and the previous
// instance secret. It returns the current index too (for re-indexing).
func (op *operators) findLoginByEmail(ctx context.Context, email string) (persistence.Login, string, error) {
	current, previous, err := op.emailIndexes(email)
	if err != nil {
		return persistence.Login{}, "", err
	}
	l, err := op.store.FindLoginByEmailIndex(ctx, current)
	if errors.Is(err, persistence.ErrNotFound) && previous != "" {
		l, err = op.store.FindLoginByEmailIndex(ctx, previous)
	}
	return l, current, err
}

// hashHex is hex SHA-256, the stored form of tokens and proofs.
func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// newSession makes a session for login with a fresh token.
func (op *operators) newSession(loginID string) (persistence.Session, string) {
	raw, encoded := keys.NewToken()
	now := op.now().UTC()
	return persistence.Session{
		TokenHash:  hashHex(raw),
		LoginID:    loginID,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(sessionIdle),
	}, encoded
}

// setSessionCookie sets the login cookie of PROTOCOL §3.1.
func (op *operators) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/api",
		MaxAge:   int(sessionLifetime / time.Second),
		HttpOnly: true,
		Secure:   op.secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// clearSessionCookie removes the login cookie.
func (op *operators) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    "",
		Path:     "/api",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   op.secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// sessionState is the signed-in caller of a request.
type sessionState struct {
	session persistence.Session
	login   persistence.Login
}

type sessionKey struct{}

// sessionFrom returns the caller that requireLogin admitted.
func sessionFrom(ctx context.Context) (sessionState, bool) {
	s, ok := ctx.Value(sessionKey{}).(sessionState)
	return s, ok
}

// currentSession reads and checks the login cookie. It returns
// errUnauthorized for a missing, malformed, unknown, revoked or expired
// session; an expired one is deleted. A session used for the first time in a
// minute gets its last use and idle expiry moved.
func (op *operators) currentSession(r *http.Request) (sessionState, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return sessionState{}, errUnauthorized
	}
	raw, err := keys.ParseToken(c.Value)
	if err != nil {
		return sessionState{}, errUnauthorized
	}
	ctx := r.Context()
	hash := hashHex(raw)
	s, err := op.store.FindSession(ctx, hash)
	if errors.Is(err, persistence.ErrNotFound) {
		return sessionState{}, errUnauthorized
	}
	if err != nil {
		return sessionState{}, err
	}
	now := op.now().UTC()
	absolute := s.CreatedAt.Add(sessionLifetime)
	if !now.Before(s.ExpiresAt) || !now.Before(absolute) || !now.Before(s.LastSeenAt.Add(sessionIdle)) {
		if err := op.store.DeleteSession(ctx, hash); err != nil {
			return sessionState{}, err
		}
		return sessionState{}, errUnauthorized
	}
	if now.Sub(s.LastSeenAt) >= sessionTouchEvery {
		s.LastSeenAt = now
		s.ExpiresAt = minTime(now.Add(sessionIdle), absolute)
		if err := op.store.TouchSession(ctx, hash, s.LastSeenAt, s.ExpiresAt); err != nil {
			if errors.Is(err, persistence.ErrNotFound) {
				return sessionState{}, errUnauthorized
			}
			return sessionState{}, err
		}
	}
	l, err := op.store.FindLogin(ctx, s.LoginID)
	if errors.Is(err, persistence.ErrNotFound) {
		return sessionState{}, errUnauthorized
	}
	if err != nil {
		return sessionState{}, err
	}
	return sessionState{session: s, login: l}, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// requireLogin is middleware admitting only requests with a valid session
// (PROTOCOL §7.1 "session"): otherwise 401 and the cookie is cleared. It
// also applies the per-session throttle of §7.5.
func requireLogin(op *operators) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := op.currentSession(r)
			if err != nil {
				if errors.Is(err, errUnauthorized) {
					op.clearSessionCookie(w)
				}
				respondError(w, r, err)
				return
			}
			if wait, ok := op.throttles.session.Allow(op.now(), s.session.TokenHash); !ok {
				respondError(w, r, throttled(wait))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
		})
	}
}

type grantKey struct{}

// grantFrom returns the caller's grant that requireGrant admitted.
func grantFrom(ctx context.Context) persistence.Grant {
	g, _ := ctx.Value(grantKey{}).(persistence.Grant)
	return g
}

// requireGrant is middleware (after requireLogin) for routes on
// /accounts/{id}: the caller needs an active grant on the account, else 404
// as for an unknown account; with admin also the admin role, else 403.
func requireGrant(op *operators, admin bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := sessionFrom(r.Context())
			id := chi.URLParam(r, "id")
			if !keys.ValidUUID(id) {
				respondError(w, r, errNotFound)
				return
			}
			g, err := op.store.FindGrant(r.Context(), s.login.ID, id)
			if errors.Is(err, persistence.ErrNotFound) || (err == nil && g.State() != persistence.GrantActive) {
				respondError(w, r, errNotFound)
				return
			}
			if err != nil {
				respondError(w, r, err)
				return
			}
			if admin && g.Role != persistence.RoleAdmin {
				respondError(w, r, errForbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), grantKey{}, g)))
		})
	}
}

// requireCreator is middleware (after requireLogin) admitting logins that
// may create accounts: the setup login, or one holding an active admin
// grant (else 403).
func requireCreator(op *operators) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := sessionFrom(r.Context())
			ok, err := op.canCreateAccounts(r.Context(), s.login)
			if err != nil {
				respondError(w, r, err)
				return
			}
			if !ok {
				respondError(w, r, errForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (op *operators) canCreateAccounts(ctx context.Context, l persistence.Login) (bool, error) {
	if l.FromSetup {
		return true, nil
	}
	grants, err := op.store.ListLoginGrants(ctx, l.ID)
	if err != nil {
		return false, err
	}
	for _, g := range grants {
		if g.Role == persistence.RoleAdmin && g.State() == persistence.GrantActive {
			return true, nil
		}
	}
	return false, nil
}

// reauthenticate checks currentAuthKey for the signed-in login (PROTOCOL
// §7.1 "reauth"): throttled like a login and counted as a failed one when
// wrong (401).
func (op *operators) reauthenticate(r *http.Request, l persistence.Login, currentAuthKey string) error {
	attempt, err := op.throttles.beginLogin(ipKey(op.ipOf(r)), l.EmailIndex, op.deviceToken(r, l.EmailIndex))
	if err != nil {
		return err
	}
	authKey, err := keys.DecodeBase64Len(currentAuthKey, keys.KeySize)
	ok := false
	if err == nil && !l.Pending() {
		if ok, err = op.argon.verifyAuthKey(r.Context(), attempt.trusted, l.AuthHash, authKey); err != nil {
			attempt.Cancel()
			return err
		}
	}
	attempt.Done(ok)
	if !ok {
		return errUnauthorized
	}
	return nil
}

// loginState is the LoginState of PROTOCOL §7.1.
type loginState struct {
	LoginID           string       `json:"loginId"`
	CanCreateAccounts bool         `json:"canCreateAccounts"`
	KDF               kdfParams    `json:"kdf"`
	WrappedLoginKey   string       `json:"wrappedLoginKey"`
	Grants            []stateGrant `json:"grants"`
	SessionExpiresAt  jsonTime     `json:"sessionExpiresAt"`
}

type stateGrant struct {
	AccountID  string `json:"accountId"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	State      string `json:"state"`
	WrappedKEK string `json:"wrappedKek,omitempty"`
}

// kdfParams are the client's password KDF parameters.
type kdfParams struct {
	Alg        string `json:"alg"`
	Iterations int    `json:"iterations"`
	Salt       string `json:"salt"`
}

// kdfName is how logins.kdf records the parameters of new passwords.
var kdfName = keys.KDFName + ":" + strconv.Itoa(keys.KDFIterations)

// parseKDF reads a logins.kdf value such as "pbkdf2-sha256:600000".
func parseKDF(s string, salt []byte) kdfParams {
	alg, iter, _ := strings.Cut(s, ":")
	n, _ := strconv.Atoi(iter)
	return kdfParams{Alg: alg, Iterations: n, Salt: keys.EncodeBase64(salt)}
}

// jsonTime renders RFC 3339 UTC with milliseconds (PROTOCOL §0).
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`), nil
}

// buildLoginState assembles the LoginState of l with session s.
func (op *operators) buildLoginState(ctx context.Context, l persistence.Login, s persistence.Session) (loginState, error) {
	grants, err := op.store.ListLoginGrants(ctx, l.ID)
	if err != nil {
		return loginState{}, err
	}
	ids := make([]string, len(grants))
	for i, g := range grants {
		ids[i] = g.AccountID
	}
	accounts, err := op.store.ListAccounts(ctx, ids)
	if err != nil {
		return loginState{}, err
	}
	names := map[string]persistence.Account{}
	for _, a := range accounts {
		names[a.ID] = a
	}
	st := loginState{
		LoginID:          l.ID,
		KDF:              parseKDF(l.KDF, l.KDFSalt),
		WrappedLoginKey:  l.WrappedLoginKey,
		Grants:           []stateGrant{},
		SessionExpiresAt: jsonTime(s.ExpiresAt),
	}
	st.CanCreateAccounts = l.FromSetup
	for _, g := range grants {
		a, ok := names[g.AccountID]
		if !ok || a.Retired {
			continue
		}
		if g.Role == persistence.RoleAdmin && g.State() == persistence.GrantActive {
			st.CanCreateAccounts = true
		}
		st.Grants = append(st.Grants, stateGrant{
			AccountID:  g.AccountID,
			Name:       a.Name,
			Role:       string(g.Role),
			State:      string(g.State()),
			WrappedKEK: g.WrappedKEK,
		})
	}
	return st, nil
}

// startSession creates nothing itself: it sets the cookie for a session the
// store has created and answers LoginState with status.
func (op *operators) respondLoginState(w http.ResponseWriter, r *http.Request, status int, l persistence.Login, s persistence.Session, token string) {
	st, err := op.buildLoginState(r.Context(), l, s)
	if err != nil {
		respondError(w, r, err)
		return
	}
	if token != "" {
		op.setSessionCookie(w, token)
		op.setDeviceCookie(w, r, l.EmailIndex)
	}
	respondJSON(w, r, status, st)
}

// sendMail sends m in the background, bounded by mailTimeout, and logs a
// failure without the address.
func (op *operators) sendMail(kind string, m mailer.Message) {
	op.pending.Add(1)
	go func() {
		defer op.pending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), mailTimeout)
		defer cancel()
		if err := op.mail.Send(ctx, m); err != nil {
			op.logger.Error("sending mail failed", "kind", kind, "error", err)
		}
	}()
}

// background runs fn detached from the request, bounded by backgroundTimeout.
func (op *operators) background(fn func(ctx context.Context)) {
	op.pending.Add(1)
	go func() {
		defer op.pending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), backgroundTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// link builds an absolute link from the configured public URL, never from
// the request (P13).
func (op *operators) link(path, fragment string) string {
	return strings.TrimSuffix(op.publicURL, "/") + path + "#" + fragment
}

// mailLanguage is the language of a mail asked for in requested (the
// language of the page that sent the request, e.g. "de" or "pt-BR"): its
// base language when mails can be written in it, else OFFEN_APP_LOCALE.
func (op *operators) mailLanguage(requested string) string {
	base, _, _ := strings.Cut(strings.ReplaceAll(requested, "_", "-"), "-")
	base = strings.ToLower(base)
	if slices.Contains(op.languages, base) {
		return base
	}
	return op.locale
}

// checkLocale validates an optional language tag sent with a request that
// mails someone.
func checkLocale(fields map[string]string, name, tag string) {
	if tag != "" && !languageTag.MatchString(tag) {
		fields[name] = "must be a language tag such as en or pt-BR"
	}
}

var languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$`)
