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

type invitationRequest struct {
	Email  string `json:"email"`
	Token  string `json:"token"`
	Grants []struct {
		AccountID        string           `json:"accountId"`
		Role             persistence.Role `json:"role"`
		InviteWrappedKEK string           `json:"inviteWrappedKek"`
		Label            string           `json:"label"`
	} `json:"grants"`
	SendEmail bool   `json:"sendEmail"`
	InviteKey string `json:"inviteKey,omitempty"`
	// Locale is the language of the mail (the inviter's page language).
	Locale string `json:"locale,omitempty"`
}

func (req invitationRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	checkEmail(fields, "email", req.Email)
	if _, err := keys.ParseToken(req.Token); err != nil {
		fields["token"] = "must be 32 bytes in base64url"
	}
	if len(req.Grants) == 0 || len(req.Grants) > 1000 {
		fields["grants"] = "must name 1 to 1000 accounts"
	}
	seen := map[string]bool{}
	for _, g := range req.Grants {
		switch {
		case !keys.ValidUUID(g.AccountID) || seen[g.AccountID]:
			fields["grants"] = "must name distinct account ids"
		case !g.Role.Valid():
			fields["grants"] = "roles must be viewer or admin"
		case !isA1(g.InviteWrappedKEK) || !isA1(g.Label):
			fields["grants"] = "inviteWrappedKek and label must be a1 ciphertexts"
		}
		seen[g.AccountID] = true
	}
	if req.SendEmail && !isKey32(req.InviteKey) {
		fields["inviteKey"] = "must be 32 bytes in base64url to send the e-mail"
	}
	if !req.SendEmail && req.InviteKey != "" {
		fields["inviteKey"] = "only sent when the server mails the link"
	}
	checkLocale(fields, "locale", req.Locale)
	return fields
}

// handleCreateInvitation invites a login to accounts the caller is admin
// of: pending grants and a 7-day token (only its hash is kept). Only when
// asked to mail does it receive the invite key, which must derive the
// token; the key is forgotten once the mail is handed over.
func handleCreateInvitation(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionFrom(r.Context())
		req, err := decode[invitationRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		ctx := r.Context()
		names := map[string]string{}
		for _, g := range req.Grants {
			own, err := op.store.FindGrant(ctx, s.login.ID, g.AccountID)
			if errors.Is(err, persistence.ErrNotFound) || (err == nil && own.State() != persistence.GrantActive) {
				respondError(w, r, errNotFound)
				return
			}
			if err != nil {
				respondError(w, r, err)
				return
			}
			if own.Role != persistence.RoleAdmin {
				respondError(w, r, errForbidden)
				return
			}
			a, err := op.store.FindAccount(ctx, g.AccountID)
			if err == nil && a.Retired {
				err = errNotFound
			}
			if err != nil {
				respondError(w, r, err)
				return
			}
			names[a.ID] = a.Name
		}
		token, _ := keys.ParseToken(req.Token)
		var inviteKey []byte
		if req.SendEmail {
			inviteKey, _ = keys.DecodeBase64Len(req.InviteKey, keys.KeySize)
			derived, err := keys.DeriveInviteKeys(inviteKey)
			if err != nil || subtle.ConstantTimeCompare(derived.Token, token) != 1 {
				respondError(w, r, &validationError{fields: map[string]string{"inviteKey": "does not derive the token"}})
				return
			}
		}
		index, _, err := op.emailIndexes(req.Email)
		if err != nil {
			respondError(w, r, err)
			return
		}
		now := op.now().UTC()
		expires := now.Add(inviteLifetime)
		in := persistence.InvitationInput{
			EmailIndex: index,
			NewLoginID: keys.NewUUID(),
			Token: persistence.Token{
				Hash:      hashHex(token),
				Kind:      persistence.TokenInvite,
				CreatedBy: s.login.ID,
				ExpiresAt: expires,
				CreatedAt: now,
			},
			InvitedBy: s.login.ID,
		}
		for _, g := range req.Grants {
			in.Grants = append(in.Grants, persistence.Grant{
				AccountID:        g.AccountID,
				Role:             g.Role,
				InviteWrappedKEK: g.InviteWrappedKEK,
				Label:            g.Label,
				CreatedBy:        s.login.ID,
			})
		}
		res, err := op.store.CreateInvitation(ctx, in)
		if err != nil {
			if errors.Is(err, persistence.ErrConflict) {
				err = &httpError{status: http.StatusConflict, message: "the invitee already holds these accounts", err: err}
			}
			respondError(w, r, err)
			return
		}
		if req.SendEmail {
			link := op.link("/join/", keys.EncodeBase64(inviteKey))
			var m mailer.Message
			if res.ExistingLogin {
				var shared []string
				for _, id := range res.AccountIDs {
					shared = append(shared, names[id])
				}
				m, err = mailer.AccountsShared(op.translate, op.mailLanguage(req.Locale), req.Email, link, shared)
			} else {
				m, err = mailer.Invitation(op.translate, op.mailLanguage(req.Locale), req.Email, link)
			}
			if err != nil {
				respondError(w, r, err)
				return
			}
			op.sendMail("invitation", m)
		}
		respondJSON(w, r, http.StatusCreated, struct {
			JoinURL   string   `json:"joinUrl"`
			ExpiresAt jsonTime `json:"expiresAt"`
		}{op.publicURL + "/join/", jsonTime(expires)})
	}
}

type joinGrant struct {
	AccountID        string `json:"accountId"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	InviteWrappedKEK string `json:"inviteWrappedKek"`
}

// invitationGrants lists the pending grants an invite token carries.
func (op *operators) invitationGrants(ctx context.Context, t persistence.Token) ([]joinGrant, error) {
	grants, err := op.store.ListLoginGrants(ctx, t.LoginID)
	if err != nil {
		return nil, err
	}
	var ids []string
	byID := map[string]persistence.Grant{}
	for _, g := range grants {
		if g.InvitationID == t.ID && g.State() == persistence.GrantPending {
			ids = append(ids, g.AccountID)
			byID[g.AccountID] = g
		}
	}
	accounts, err := op.store.ListAccounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := []joinGrant{}
	for _, a := range accounts {
		if a.Retired {
			continue
		}
		g := byID[a.ID]
		out = append(out, joinGrant{AccountID: a.ID, Name: a.Name, Role: string(g.Role), InviteWrappedKEK: g.InviteWrappedKEK})
	}
	return out, nil
}

// handleJoinLookup answers what a join page needs: the invitee's login id,
// whether it already has credentials, and the invitation's pending grants.
func handleJoinLookup(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[tokenRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		t, _, err := op.findToken(r.Context(), persistence.TokenInvite, req.Token)
		if err != nil {
			respondError(w, r, err)
			return
		}
		l, err := op.store.FindLogin(r.Context(), t.LoginID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		grants, err := op.invitationGrants(r.Context(), t)
		if err != nil {
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusOK, struct {
			LoginID       string      `json:"loginId"`
			ExistingLogin bool        `json:"existingLogin"`
			Grants        []joinGrant `json:"grants"`
		}{l.ID, !l.Pending(), grants})
	}
}

type joinRequest struct {
	Token       string              `json:"token"`
	Credentials *credentialsRequest `json:"credentials,omitempty"`
	Grants      []struct {
		AccountID  string `json:"accountId"`
		WrappedKEK string `json:"wrappedKek"`
	} `json:"grants"`
}

func (req joinRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if _, err := keys.ParseToken(req.Token); err != nil {
		fields["token"] = "must be 32 bytes in base64url"
	}
	if req.Credentials != nil {
		req.Credentials.check(fields, "credentials.")
	}
	for _, g := range req.Grants {
		if !keys.ValidUUID(g.AccountID) || !isA1(g.WrappedKEK) {
			fields["grants"] = "must hold account ids and a1 wrapped KEKs"
		}
	}
	return fields
}

// handleJoin accepts an invitation: a pending login sets its credentials, an
// existing one must be signed in as itself (401 otherwise); the pending
// grants become active with KEKs wrapped under the login key (409 when the
// grants changed since the lookup), the token is consumed and a session
// starts.
func handleJoin(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[joinRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		ctx := r.Context()
		t, hash, err := op.findToken(ctx, persistence.TokenInvite, req.Token)
		if err != nil {
			respondError(w, r, err)
			return
		}
		l, err := op.store.FindLogin(ctx, t.LoginID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		in := persistence.JoinInput{TokenHash: hash, LoginID: l.ID, WrappedKEKs: map[string]string{}}
		for _, g := range req.Grants {
			in.WrappedKEKs[g.AccountID] = g.WrappedKEK
		}
		if l.Pending() {
			if req.Credentials == nil {
				respondError(w, r, &validationError{fields: map[string]string{"credentials": "required for a new login"}})
				return
			}
			creds, err := req.Credentials.credentials(r.Context(), op.argon)
			if err != nil {
				respondError(w, r, err)
				return
			}
			in.Credentials = &creds
		} else {
			s, err := op.currentSession(r)
			if err != nil || s.login.ID != l.ID {
				if err != nil && !errors.Is(err, errUnauthorized) {
					respondError(w, r, err)
					return
				}
				respondError(w, r, errUnauthorized)
				return
			}
			if req.Credentials != nil {
				respondError(w, r, &validationError{fields: map[string]string{"credentials": "not sent for an existing login"}})
				return
			}
		}
		session, token := op.newSession(l.ID)
		in.Session = session
		joined, err := op.store.Join(ctx, in)
		if err != nil {
			if errors.Is(err, persistence.ErrConflict) {
				err = &httpError{status: http.StatusConflict, message: "the invitation's grants changed", err: err}
			}
			respondError(w, r, err)
			return
		}
		op.throttles.clearIdentity(hash)
		op.respondLoginState(w, r, http.StatusOK, joined, session, token)
	}
}
