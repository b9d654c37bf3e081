// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"unicode/utf8"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// setupIdentity keys the instance-wide backoff of wrong setup tokens.
const setupIdentity = "setup"

// handleSetupStatus answers whether setup is still required (no login
// exists) and, while it is, the login id the setup client wraps its login
// key for (the AAD of the wrapped login key names it).
func handleSetupStatus(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		has, err := op.store.HasLogins(r.Context())
		if err != nil {
			respondError(w, r, err)
			return
		}
		resp := struct {
			Required bool   `json:"required"`
			LoginID  string `json:"loginId,omitempty"`
		}{Required: !has}
		if !has {
			resp.LoginID = op.setupLoginID
		}
		respondJSON(w, r, http.StatusOK, resp)
	}
}

type newAccountRequest struct {
	AccountID           string `json:"accountId"`
	Name                string `json:"name"`
	PublicKey           string `json:"publicKey"`
	EncryptedPrivateKey string `json:"encryptedPrivateKey"`
}

func (a newAccountRequest) check(fields map[string]string, prefix string) {
	if !keys.ValidUUID(a.AccountID) {
		fields[prefix+"accountId"] = "must be a lowercase UUIDv4"
	}
	if n := utf8.RuneCountInString(a.Name); n < 1 || n > persistence.MaxAccountNameLength || !utf8.ValidString(a.Name) {
		fields[prefix+"name"] = "must be 1 to 100 characters"
	}
	if _, err := keys.ParsePublicKey(a.PublicKey); err != nil {
		fields[prefix+"publicKey"] = "must be a p256 public key"
	}
	if !isA1(a.EncryptedPrivateKey) {
		fields[prefix+"encryptedPrivateKey"] = "must be an a1 ciphertext"
	}
}

func (a newAccountRequest) account() persistence.Account {
	return persistence.Account{
		ID:                  a.AccountID,
		Name:                a.Name,
		PublicKey:           a.PublicKey,
		EncryptedPrivateKey: a.EncryptedPrivateKey,
	}
}

type setupRequest struct {
	SetupToken  string             `json:"setupToken"`
	LoginID     string             `json:"loginId,omitempty"`
	Email       string             `json:"email"`
	Credentials credentialsRequest `json:"credentials"`
	Account     newAccountRequest  `json:"account"`
	Grant       struct {
		WrappedKEK string `json:"wrappedKek"`
		Label      string `json:"label"`
	} `json:"grant"`
}

func (req setupRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if req.LoginID != "" && !keys.ValidUUID(req.LoginID) {
		fields["loginId"] = "must be a lowercase UUIDv4"
	}
	checkEmail(fields, "email", req.Email)
	req.Credentials.check(fields, "credentials.")
	req.Account.check(fields, "account.")
	if !isA1(req.Grant.WrappedKEK) {
		fields["grant.wrappedKek"] = "must be an a1 ciphertext"
	}
	if !isA1(req.Grant.Label) {
		fields["grant.label"] = "must be an a1 ciphertext"
	}
	return fields
}

// handleSetup creates the first login, its account and admin grant from the
// browser (PROTOCOL §4 "Setup"), authorized by the setup token that serve
// logged. A wrong token is 403 and backs off instance-wide; any existing
// login makes it 409.
func handleSetup(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := op.throttles.checkIdentity(setupIdentity); err != nil {
			respondError(w, r, err)
			return
		}
		req, err := decode[setupRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		if op.setupToken == "" || subtle.ConstantTimeCompare([]byte(req.SetupToken), []byte(op.setupToken)) != 1 {
			op.throttles.failIdentity(setupIdentity)
			respondError(w, r, errForbidden)
			return
		}
		index, _, err := op.emailIndexes(req.Email)
		if err != nil {
			respondError(w, r, err)
			return
		}
		creds, err := req.Credentials.credentials(r.Context(), op.argon)
		if err != nil {
			respondError(w, r, err)
			return
		}
		loginID := req.LoginID
		if loginID == "" {
			loginID = op.setupLoginID
		}
		login := persistence.Login{ID: loginID, EmailIndex: index, FromSetup: true, Credentials: creds}
		s, token := op.newSession(loginID)
		_, err = op.store.Setup(r.Context(), persistence.SetupInput{
			Login:   login,
			Account: req.Account.account(),
			Grant: persistence.Grant{
				Role:       persistence.RoleAdmin,
				WrappedKEK: req.Grant.WrappedKEK,
				Label:      req.Grant.Label,
			},
			Session: &s,
		})
		if err != nil {
			respondError(w, r, err)
			return
		}
		op.throttles.clearIdentity(setupIdentity)
		l, err := op.store.FindLogin(r.Context(), loginID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		op.respondLoginState(w, r, http.StatusCreated, l, s, token)
	}
}
