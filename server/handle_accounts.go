// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/offen/offen/persistence"
)

// maxAllowedOrigins is the most origins an account may allow.
const maxAllowedOrigins = 50

type accountSummary struct {
	AccountID string   `json:"accountId"`
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	State     string   `json:"state"`
	CreatedAt jsonTime `json:"createdAt"`
}

// handleListAccounts lists the accounts the caller holds a grant on, in any
// state.
func handleListAccounts(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionFrom(r.Context())
		grants, err := op.store.ListLoginGrants(r.Context(), s.login.ID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		ids := make([]string, len(grants))
		byID := map[string]persistence.Grant{}
		for i, g := range grants {
			ids[i] = g.AccountID
			byID[g.AccountID] = g
		}
		accounts, err := op.store.ListAccounts(r.Context(), ids)
		if err != nil {
			respondError(w, r, err)
			return
		}
		out := []accountSummary{}
		for _, a := range accounts {
			if a.Retired {
				continue
			}
			g := byID[a.ID]
			out = append(out, accountSummary{
				AccountID: a.ID, Name: a.Name, Role: string(g.Role),
				State: string(g.State()), CreatedAt: jsonTime(a.CreatedAt),
			})
		}
		respondJSON(w, r, http.StatusOK, struct {
			Accounts []accountSummary `json:"accounts"`
		}{out})
	}
}

// allowedOrigin is an allowed origin and whether it is same-site with the
// Offen origin (PROTOCOL §1).
type allowedOrigin struct {
	Origin   string `json:"origin"`
	SameSite bool   `json:"sameSite"`
}

type accountResponse struct {
	AccountID           string          `json:"accountId"`
	Name                string          `json:"name"`
	PublicKey           string          `json:"publicKey"`
	EncryptedPrivateKey string          `json:"encryptedPrivateKey"`
	AllowedOrigins      []allowedOrigin `json:"allowedOrigins"`
	BannerCSS           string          `json:"bannerCss"`
	RetentionDays       int             `json:"retentionDays"`
	CreatedAt           jsonTime        `json:"createdAt"`
}

func (op *operators) accountResponse(a persistence.Account) accountResponse {
	return accountResponse{
		AccountID:           a.ID,
		Name:                a.Name,
		PublicKey:           a.PublicKey,
		EncryptedPrivateKey: a.EncryptedPrivateKey,
		AllowedOrigins:      op.allowedOrigins(a.AllowedOrigins),
		BannerCSS:           a.BannerCSS,
		RetentionDays:       int(op.retention.Hours() / 24),
		CreatedAt:           jsonTime(a.CreatedAt),
	}
}

func (op *operators) allowedOrigins(origins []string) []allowedOrigin {
	out := []allowedOrigin{}
	for _, o := range origins {
		out = append(out, allowedOrigin{Origin: o, SameSite: sameSite(o, op.publicURL)})
	}
	return out
}

// sameSite reports whether two origins are schemefully same-site: the same
// scheme and the same registrable domain by the public suffix list (or the
// same host, for hosts without one such as localhost and IP addresses).
func sameSite(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil || ua.Scheme != ub.Scheme {
		return false
	}
	ha, hb := strings.ToLower(ua.Hostname()), strings.ToLower(ub.Hostname())
	if ha == hb {
		return true
	}
	sa, errA := publicsuffix.EffectiveTLDPlusOne(ha)
	sb, errB := publicsuffix.EffectiveTLDPlusOne(hb)
	return errA == nil && errB == nil && sa == sb
}

type createAccountRequest struct {
	newAccountRequest
	WrappedKEK string `json:"wrappedKek"`
	Label      string `json:"label"`
}

func (req createAccountRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	req.check(fields, "")
	if !isA1(req.WrappedKEK) {
		fields["wrappedKek"] = "must be an a1 ciphertext"
	}
	if !isA1(req.Label) {
		fields["label"] = "must be an a1 ciphertext"
	}
	return fields
}

// handleCreateAccount stores an account the client generated and gives the
// caller an active admin grant on it (creator only); 409 when the id is
// taken.
func handleCreateAccount(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionFrom(r.Context())
		req, err := decode[createAccountRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		a, err := op.store.CreateAccountWithGrant(r.Context(), req.account(), persistence.Grant{
			LoginID:    s.login.ID,
			AccountID:  req.AccountID,
			Role:       persistence.RoleAdmin,
			WrappedKEK: req.WrappedKEK,
			Label:      req.Label,
			CreatedBy:  s.login.ID,
		})
		if err != nil {
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusCreated, op.accountResponse(a))
	}
}

// handleGetAccount answers the account the caller holds a grant on.
func handleGetAccount(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := op.store.FindAccount(r.Context(), grantFrom(r.Context()).AccountID)
		if err == nil && a.Retired {
			err = errNotFound
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusOK, op.accountResponse(a))
	}
}

// reauthRequest is the body of a request that only re-authenticates, and is
// embedded in the bodies of the others that do.
type reauthRequest struct {
	CurrentAuthKey string `json:"currentAuthKey"`
}

func (req reauthRequest) currentAuthKey() string { return req.CurrentAuthKey }

func (req reauthRequest) check(fields map[string]string) {
	if !isKey32(req.CurrentAuthKey) {
		fields["currentAuthKey"] = "must be 32 bytes in base64url"
	}
}

func (req reauthRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	req.check(fields)
	return fields
}

// decodeReauthenticated decodes a request body that repeats the caller's
// auth key and verifies that key against the session's login, throttled
// like a login.
func decodeReauthenticated[T interface{ currentAuthKey() string }](op *operators, w http.ResponseWriter, r *http.Request) (sessionState, T, error) {
	s, _ := sessionFrom(r.Context())
	req, err := decode[T](w, r)
	if err == nil {
		err = op.reauthenticate(r, s.login, req.currentAuthKey())
	}
	return s, req, err
}

// handleRetireAccount retires the account after re-authentication (admin):
// flagged and its grants deleted in one transaction, then its events and
// secrets deleted in batches in the background (PROTOCOL §4 "Accounts").
func handleRetireAccount(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := decodeReauthenticated[reauthRequest](op, w, r); err != nil {
			respondError(w, r, err)
			return
		}
		id := grantFrom(r.Context()).AccountID
		if err := op.store.RetireAccount(r.Context(), id); err != nil {
			respondError(w, r, err)
			return
		}
		// The events, then the secrets (each with a secret tombstone) go in
		// batches after the response; after a failure the data stays
		// unreadable (no grants) until the next expiry finishes the deletion.
		op.background(func(ctx context.Context) {
			if _, err := op.store.DeleteAccountData(ctx, id); err != nil {
				op.logger.Error("deleting a retired account's data failed", "error", err)
			}
		})
		w.WriteHeader(http.StatusNoContent)
	}
}

type allowedOriginsRequest struct {
	Origins []string `json:"origins"`
}

func (req allowedOriginsRequest) Valid(context.Context) map[string]string {
	if req.Origins == nil {
		return map[string]string{"origins": errFieldRequired}
	}
	if len(req.Origins) > maxAllowedOrigins {
		return map[string]string{"origins": "at most 50 origins"}
	}
	for _, o := range req.Origins {
		if _, err := parseAllowedOrigin(o); err != nil {
			return map[string]string{"origins": err.Error()}
		}
	}
	return nil
}

// parseAllowedOrigin accepts an https origin, or http on localhost or a
// loopback address, and returns its normalized form.
func parseAllowedOrigin(s string) (string, error) {
	n, ok := normalizeOrigin(s)
	if !ok {
		return "", errors.New("not an origin: " + clip(s))
	}
	u, _ := url.Parse(s)
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("an origin has no path, query or fragment: " + clip(s))
	}
	if strings.HasPrefix(n, "http://") {
		h := u.Hostname()
		if h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return "", errors.New("origins must use https (or http on localhost): " + clip(s))
		}
	}
	return n, nil
}

// handleAllowedOrigins replaces the account's allowed origins (admin).
func handleAllowedOrigins(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[allowedOriginsRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		origins := []string{}
		seen := map[string]bool{}
		for _, o := range req.Origins {
			n, _ := parseAllowedOrigin(o)
			if !seen[n] {
				seen[n] = true
				origins = append(origins, n)
			}
		}
		if err := op.store.UpdateAllowedOrigins(r.Context(), grantFrom(r.Context()).AccountID, origins); err != nil {
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusOK, struct {
			Origins []allowedOrigin `json:"origins"`
		}{op.allowedOrigins(origins)})
	}
}

type bannerStylesRequest struct {
	CSS    *string `json:"css"`
	DryRun bool    `json:"dryRun"`
}

func (req bannerStylesRequest) Valid(context.Context) map[string]string {
	if req.CSS == nil {
		return map[string]string{"css": errFieldRequired}
	}
	return nil
}

// errFieldRequired is the problem of a PUT without its field ({} or null):
// clearing takes an explicit empty value.
const errFieldRequired = "required; send an empty value to clear"

// handleBannerStyles validates banner CSS against the allow-list and, unless
// dryRun, stores its canonical form (admin); 400 names the offending rule.
func handleBannerStyles(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[bannerStylesRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		css, err := validateBannerCSS(*req.CSS)
		if err != nil {
			respondError(w, r, &validationError{fields: map[string]string{"css": err.Error()}})
			return
		}
		if !req.DryRun {
			if err := op.store.UpdateBannerCSS(r.Context(), grantFrom(r.Context()).AccountID, css); err != nil {
				respondError(w, r, err)
				return
			}
		}
		respondJSON(w, r, http.StatusOK, struct {
			CSS string `json:"css"`
		}{css})
	}
}
