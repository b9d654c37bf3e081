// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence"
)

type changePasswordRequest struct {
	reauthRequest
	Credentials struct {
		Salt            string `json:"salt"`
		AuthKey         string `json:"authKey"`
		WrappedLoginKey string `json:"wrappedLoginKey"`
	} `json:"credentials"`
}

func (req changePasswordRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	req.reauthRequest.check(fields)
	if _, err := keys.DecodeBase64Len(req.Credentials.Salt, keys.KDFSaltSize); err != nil {
		fields["credentials.salt"] = "must be 16 bytes in base64url"
	}
	if !isKey32(req.Credentials.AuthKey) {
		fields["credentials.authKey"] = "must be 32 bytes in base64url"
	}
	if !isA1(req.Credentials.WrappedLoginKey) {
		fields["credentials.wrappedLoginKey"] = "must be an a1 ciphertext"
	}
	return fields
}

// handleChangePassword replaces the password credentials after
// re-authentication, revokes every session of the login and starts a new
// one for the caller.
func handleChangePassword(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, req, err := decodeReauthenticated[changePasswordRequest](op, w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		salt, _ := keys.DecodeBase64Len(req.Credentials.Salt, keys.KDFSaltSize)
		authHash, err := op.argon.hashAuthKey(r.Context(), true, req.Credentials.AuthKey)
		if err != nil {
			respondError(w, r, err)
			return
		}
		session, token := op.newSession(s.login.ID)
		err = op.store.ChangePassword(r.Context(), s.login.ID, persistence.PasswordChange{
			KDF:             kdfName,
			KDFSalt:         salt,
			AuthHash:        authHash,
			WrappedLoginKey: req.Credentials.WrappedLoginKey,
		}, session)
		if err != nil {
			respondError(w, r, err)
			return
		}
		l, err := op.store.FindLogin(r.Context(), s.login.ID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		op.respondLoginState(w, r, http.StatusOK, l, session, token)
	}
}

type changeEmailRequest struct {
	reauthRequest
	Email  string `json:"email"`
	Labels []struct {
		AccountID string `json:"accountId"`
		Label     string `json:"label"`
	} `json:"labels"`
}

func (req changeEmailRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	req.reauthRequest.check(fields)
	checkEmail(fields, "email", req.Email)
	for _, l := range req.Labels {
		if !keys.ValidUUID(l.AccountID) || !isA1(l.Label) {
			fields["labels"] = "must hold account ids and a1 labels"
		}
	}
	return fields
}

// handleChangeEmail moves the login to a new e-mail index after
// re-authentication and replaces its grant labels; 409 when the address
// belongs to another login.
func handleChangeEmail(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, req, err := decodeReauthenticated[changeEmailRequest](op, w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		index, _, err := op.emailIndexes(req.Email)
		if err != nil {
			respondError(w, r, err)
			return
		}
		labels := map[string]string{}
		for _, l := range req.Labels {
			labels[l.AccountID] = l.Label
		}
		if err := op.store.ChangeEmail(r.Context(), s.login.ID, index, labels); err != nil {
			respondError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

type recoveryCodeRequest struct {
	reauthRequest
	RecoveryWrappedLoginKey string `json:"recoveryWrappedLoginKey"`
	RecoveryProof           string `json:"recoveryProof"`
}

func (req recoveryCodeRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	req.reauthRequest.check(fields)
	if !isA1(req.RecoveryWrappedLoginKey) {
		fields["recoveryWrappedLoginKey"] = "must be an a1 ciphertext"
	}
	if !isKey32(req.RecoveryProof) {
		fields["recoveryProof"] = "must be 32 bytes in base64url"
	}
	return fields
}

// handleRecoveryCode stores a new recovery wrapping and proof hash after
// re-authentication.
func handleRecoveryCode(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, req, err := decodeReauthenticated[recoveryCodeRequest](op, w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		proof, _ := keys.DecodeBase64Len(req.RecoveryProof, keys.KeySize)
		if err := op.store.ChangeRecovery(r.Context(), s.login.ID, req.RecoveryWrappedLoginKey, hashHex(proof)); err != nil {
			respondError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

type forgotRequest struct {
	Email  string `json:"email"`
	Locale string `json:"locale,omitempty"`
}

func (req forgotRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	checkEmail(fields, "email", req.Email)
	checkLocale(fields, "locale", req.Locale)
	return fields
}

// handleForgotPassword always answers 204 at once. In the background, for a
// login with credentials and at most once per address per five minutes, it
// replaces the login's reset token and mails the link built from the public
// URL; the address is forgotten once the mail is handed over.
func handleForgotPassword(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[forgotRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		index, _, err := op.emailIndexes(req.Email)
		if err != nil {
			respondError(w, r, err)
			return
		}
		if err := op.throttles.checkIdentity(index); err != nil {
			respondError(w, r, err)
			return
		}
		op.throttles.failIdentity(index)
		email, lang := req.Email, op.mailLanguage(req.Locale)
		op.background(func(ctx context.Context) {
			if !op.throttles.allowResetMail(index) {
				return
			}
			l, _, err := op.findLoginByEmail(ctx, email)
			if err != nil || l.Pending() {
				if err != nil && !errors.Is(err, persistence.ErrNotFound) {
					op.logger.Error("forgot password: finding login failed", "error", err)
				}
				return
			}
			raw, encoded := keys.NewToken()
			now := op.now().UTC()
			err = op.store.ReplaceResetToken(ctx, persistence.Token{
				Hash:      hashHex(raw),
				Kind:      persistence.TokenReset,
				LoginID:   l.ID,
				ExpiresAt: now.Add(resetTokenLifetime),
				CreatedAt: now,
			})
			if err != nil {
				op.logger.Error("forgot password: storing token failed", "error", err)
				return
			}
			m, err := mailer.PasswordReset(op.translate, lang, email, op.link("/reset-password/", encoded))
			if err != nil {
				op.logger.Error("forgot password: composing mail failed", "error", err)
				return
			}
			if err := op.mail.Send(ctx, m); err != nil {
				op.logger.Error("forgot password: sending mail failed", "error", err)
			}
		})
		w.WriteHeader(http.StatusNoContent)
	}
}

type tokenRequest struct {
	Token string `json:"token"`
}

func (req tokenRequest) Valid(context.Context) map[string]string {
	if _, err := keys.ParseToken(req.Token); err != nil {
		return map[string]string{"token": "must be 32 bytes in base64url"}
	}
	return nil
}

// findToken looks a one-time token up under the identity backoff of its
// hash: 404 for an unknown, used or expired token (counted as a failure).
func (op *operators) findToken(ctx context.Context, kind persistence.TokenKind, encoded string) (persistence.Token, string, error) {
	raw, err := keys.ParseToken(encoded)
	if err != nil {
		return persistence.Token{}, "", errNotFound
	}
	hash := hashHex(raw)
	if err := op.throttles.checkIdentity(hash); err != nil {
		return persistence.Token{}, "", err
	}
	t, err := op.store.FindToken(ctx, kind, hash)
	if errors.Is(err, persistence.ErrNotFound) {
		op.throttles.failIdentity(hash)
		return persistence.Token{}, "", errNotFound
	}
	return t, hash, err
}

type accountRef struct {
	AccountID string `json:"accountId"`
	Name      string `json:"name"`
}

// handleResetLookup answers what a reset page needs: the login id, its
// recovery-wrapped login key and the accounts it holds actively.
func handleResetLookup(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[tokenRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		t, _, err := op.findToken(r.Context(), persistence.TokenReset, req.Token)
		if err != nil {
			respondError(w, r, err)
			return
		}
		l, err := op.store.FindLogin(r.Context(), t.LoginID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		refs, err := op.activeAccounts(r.Context(), l.ID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusOK, struct {
			LoginID                 string       `json:"loginId"`
			RecoveryWrappedLoginKey string       `json:"recoveryWrappedLoginKey"`
			Grants                  []accountRef `json:"grants"`
		}{l.ID, l.RecoveryWrappedLoginKey, refs})
	}
}

// activeAccounts lists the accounts the login holds actively.
func (op *operators) activeAccounts(ctx context.Context, loginID string) ([]accountRef, error) {
	grants, err := op.store.ListLoginGrants(ctx, loginID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, g := range grants {
		if g.State() == persistence.GrantActive {
			ids = append(ids, g.AccountID)
		}
	}
	accounts, err := op.store.ListAccounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	refs := []accountRef{}
	for _, a := range accounts {
		if !a.Retired {
			refs = append(refs, accountRef{AccountID: a.ID, Name: a.Name})
		}
	}
	return refs, nil
}

type resetRequest struct {
	Token         string             `json:"token"`
	RecoveryProof string             `json:"recoveryProof,omitempty"`
	Credentials   credentialsRequest `json:"credentials"`
}

func (req resetRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if _, err := keys.ParseToken(req.Token); err != nil {
		fields["token"] = "must be 32 bytes in base64url"
	}
	if req.RecoveryProof != "" && !isKey32(req.RecoveryProof) {
		fields["recoveryProof"] = "must be 32 bytes in base64url"
	}
	req.Credentials.check(fields, "credentials.")
	return fields
}

// handleResetPassword consumes a reset token and sets new credentials. With
// the old recovery proof the grants stay; without it every active grant
// becomes reshare (its wrapping was under the replaced login key) and the
// LoginState names them with state "reshare". All sessions are revoked.
func handleResetPassword(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[resetRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		ctx := r.Context()
		t, hash, err := op.findToken(ctx, persistence.TokenReset, req.Token)
		if err != nil {
			respondError(w, r, err)
			return
		}
		keep := req.RecoveryProof != ""
		if keep {
			l, err := op.store.FindLogin(ctx, t.LoginID)
			if err != nil {
				respondError(w, r, err)
				return
			}
			proof, _ := keys.DecodeBase64Len(req.RecoveryProof, keys.KeySize)
			if l.RecoveryProofHash == "" || subtle.ConstantTimeCompare([]byte(hashHex(proof)), []byte(l.RecoveryProofHash)) != 1 {
				op.throttles.failIdentity(hash)
				respondError(w, r, errForbidden)
				return
			}
		}
		creds, err := req.Credentials.credentials(r.Context(), op.argon)
		if err != nil {
			respondError(w, r, err)
			return
		}
		session, token := op.newSession(t.LoginID)
		l, _, err := op.store.ResetPassword(ctx, persistence.ResetInput{
			TokenHash:   hash,
			Credentials: creds,
			KeepGrants:  keep,
			Session:     session,
		})
		if errors.Is(err, persistence.ErrNotFound) {
			respondError(w, r, errNotFound)
			return
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		op.throttles.clearIdentity(hash)
		op.respondLoginState(w, r, http.StatusOK, l, session, token)
	}
}
