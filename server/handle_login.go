// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

type emailRequest struct {
	Email string `json:"email"`
}

func (req emailRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	checkEmail(fields, "email", req.Email)
	return fields
}

// handleLoginSalt answers the KDF parameters of an address: the login's, or
// for an unknown or pending address stable fake ones, so the answer never
// tells whether a login exists (P4).
func handleLoginSalt(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[emailRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		l, _, err := op.findLoginByEmail(r.Context(), req.Email)
		if err != nil && !errors.Is(err, persistence.ErrNotFound) {
			respondError(w, r, err)
			return
		}
		var kdf kdfParams
		if err == nil && !l.Pending() {
			kdf = parseKDF(l.KDF, l.KDFSalt)
		} else {
			salt, err := keys.FakeSalt(op.instance.FakeSalt, req.Email)
			if err != nil {
				respondError(w, r, err)
				return
			}
			kdf = parseKDF(kdfName, salt)
		}
		respondJSON(w, r, http.StatusOK, struct {
			KDF kdfParams `json:"kdf"`
		}{kdf})
	}
}

type loginRequest struct {
	Email   string `json:"email"`
	AuthKey string `json:"authKey"`
}

func (req loginRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	checkEmail(fields, "email", req.Email)
	if !isKey32(req.AuthKey) {
		fields["authKey"] = "must be 32 bytes in base64url"
	}
	return fields
}

// handleLogin checks an auth key and starts a session. Unknown and pending
// addresses cost the same argon2id run (against a dummy hash, in the same
// pool) and fail the same way as a wrong key. Every attempt passes the login
// throttles first.
func handleLogin(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[loginRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		current, _, err := op.emailIndexes(req.Email)
		if err != nil {
			respondError(w, r, err)
			return
		}
		attempt, err := op.throttles.beginLogin(ipKey(op.ipOf(r)), current, op.deviceToken(r, current))
		if err != nil {
			respondError(w, r, err)
			return
		}
		defer attempt.Cancel() // no-op once the outcome is recorded
		ctx := r.Context()
		l, index, err := op.findLoginByEmail(ctx, req.Email)
		if err != nil && !errors.Is(err, persistence.ErrNotFound) {
			respondError(w, r, err)
			return
		}
		hash := keys.DummyAuthHash
		known := err == nil && !l.Pending()
		if known {
			hash = l.AuthHash
		}
		authKey, _ := keys.DecodeBase64Len(req.AuthKey, keys.KeySize)
		ok, err := op.argon.verifyAuthKey(ctx, attempt.trusted, hash, authKey)
		if err != nil {
			respondError(w, r, err)
			return
		}
		if !ok || !known {
			attempt.Done(false)
			respondError(w, r, errUnauthorized)
			return
		}
		attempt.Done(true)
		if err := op.store.RecordLogin(ctx, l.ID, index); err != nil {
			respondError(w, r, err)
			return
		}
		l.EmailIndex = index // RecordLogin re-indexed it; the device cookie follows
		s, token := op.newSession(l.ID)
		if err := op.store.CreateSession(ctx, s); err != nil {
			respondError(w, r, err)
			return
		}
		op.respondLoginState(w, r, http.StatusOK, l, s, token)
	}
}

// handleWhoami answers the caller's LoginState (GET /api/login).
func handleWhoami(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionFrom(r.Context())
		op.respondLoginState(w, r, http.StatusOK, s.login, s.session, "")
	}
}

// handleLogout deletes the caller's session, if any, and clears the cookie.
func handleLogout(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			if _, err := decode[struct{}](w, r); err != nil {
				respondError(w, r, err)
				return
			}
		}
		if c, err := r.Cookie(sessionCookie); err == nil {
			if raw, err := keys.ParseToken(c.Value); err == nil {
				if err := op.store.DeleteSession(r.Context(), hashHex(raw)); err != nil {
					respondError(w, r, err)
					return
				}
			}
		}
		op.clearSessionCookie(w)
		w.WriteHeader(http.StatusNoContent)
	}
}
