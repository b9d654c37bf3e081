// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

type grantResponse struct {
	LoginID   string   `json:"loginId"`
	Role      string   `json:"role"`
	State     string   `json:"state"`
	Label     string   `json:"label"`
	CreatedAt jsonTime `json:"createdAt"`
}

// handleListGrants lists who holds the account (any active grant).
func handleListGrants(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		grants, err := op.store.ListAccountGrants(r.Context(), grantFrom(r.Context()).AccountID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		out := []grantResponse{}
		for _, g := range grants {
			out = append(out, grantResponse{
				LoginID: g.LoginID, Role: string(g.Role), State: string(g.State()),
				Label: g.Label, CreatedAt: jsonTime(g.CreatedAt),
			})
		}
		respondJSON(w, r, http.StatusOK, struct {
			Grants []grantResponse `json:"grants"`
		}{out})
	}
}

type grantRoleRequest struct {
	Role persistence.Role `json:"role"`
}

func (req grantRoleRequest) Valid(context.Context) map[string]string {
	if !req.Role.Valid() {
		return map[string]string{"role": "must be viewer or admin"}
	}
	return nil
}

// handleGrantRole sets the role of a grant on the account (admin); 409 when
// it would demote the last active admin.
func handleGrantRole(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[grantRoleRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		loginID := chi.URLParam(r, "loginId")
		if !keys.ValidUUID(loginID) {
			respondError(w, r, errNotFound)
			return
		}
		err = op.store.UpdateGrantRole(r.Context(), grantFrom(r.Context()).AccountID, loginID, req.Role)
		if err != nil {
			respondError(w, r, grantError(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// handleRevokeGrant deletes a grant: any grant of the account for an admin
// of it, and their own grant, in any state, for everyone; 409 for the last
// active admin. It runs after requireLogin only and authorizes itself.
func handleRevokeGrant(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			if _, err := decode[struct{}](w, r); err != nil {
				respondError(w, r, err)
				return
			}
		}
		s, _ := sessionFrom(r.Context())
		accountID, loginID := chi.URLParam(r, "id"), chi.URLParam(r, "loginId")
		if !keys.ValidUUID(accountID) || !keys.ValidUUID(loginID) {
			respondError(w, r, errNotFound)
			return
		}
		if loginID != s.login.ID {
			own, err := op.store.FindGrant(r.Context(), s.login.ID, accountID)
			switch {
			case errors.Is(err, persistence.ErrNotFound), err == nil && own.State() != persistence.GrantActive:
				respondError(w, r, errNotFound)
				return
			case err != nil:
				respondError(w, r, err)
				return
			case own.Role != persistence.RoleAdmin:
				respondError(w, r, errForbidden)
				return
			}
		}
		if err := op.store.DeleteGrant(r.Context(), accountID, loginID); err != nil {
			respondError(w, r, grantError(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// grantError gives the last-admin conflict its own message.
func grantError(err error) error {
	if errors.Is(err, persistence.ErrLastAdmin) {
		return &httpError{status: http.StatusConflict, message: "an account keeps at least one active admin", err: err}
	}
	return err
}
