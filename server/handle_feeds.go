// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/offen/offen/persistence"
)

// The operator's account feeds (PROTOCOL §6, §7.3): what a dashboard syncs.
// Both run behind requireGrant, which has checked the caller's active grant
// on {id}; retired accounts keep their feeds while a grant could exist.

// handleAccountEvents serves GET /api/accounts/{id}/events: one page of the
// account's events, then tombstones, streamed.
func handleAccountEvents(v *visitors) http.HandlerFunc {
	type event struct {
		EventID  string `json:"eventId"`
		SecretID string `json:"secretId"`
		KeyID    string `json:"keyId"`
		Payload  string `json:"payload"`
	}
	type tombstone struct {
		Kind   string `json:"kind"`
		Target string `json:"target"`
	}
	type tail struct {
		RetentionDays int `json:"retentionDays"`
		pageTail
	}
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := feedQuery(r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		extendWriteDeadline(w)
		pw := newPageWriter(w, "events", "tombstones")
		page, err := v.store.AccountEvents(r.Context(), chi.URLParam(r, "id"), q, persistence.FeedItems{
			Event: func(e persistence.Event) error {
				return pw.item("events", event{EventID: e.EventID, SecretID: e.SecretID, KeyID: e.KeyID, Payload: e.Payload})
			},
			Tombstone: func(t persistence.Tombstone) error {
				return pw.item("tombstones", tombstone{Kind: t.Kind, Target: t.Target})
			},
		})
		if err == nil {
			err = pw.end(tail{RetentionDays: v.retentionDays(), pageTail: tailOf(page)})
		}
		if err != nil {
			pw.fail(r, err)
		}
	}
}

// handleAccountSecrets serves GET /api/accounts/{id}/secrets: one page of
// the account's wrapped user secrets, streamed.
func handleAccountSecrets(v *visitors) http.HandlerFunc {
	type secret struct {
		KeyID         string `json:"keyId"`
		SecretID      string `json:"secretId"`
		WrappedSecret string `json:"wrappedSecret"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := feedQuery(r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		extendWriteDeadline(w)
		pw := newPageWriter(w, "secrets")
		page, err := v.store.AccountSecrets(r.Context(), chi.URLParam(r, "id"), q, persistence.FeedItems{
			Secret: func(s persistence.Secret) error {
				return pw.item("secrets", secret{KeyID: s.KeyID, SecretID: s.SecretID, WrappedSecret: s.WrappedSecret})
			},
		})
		if err == nil {
			err = pw.end(tailOf(page))
		}
		if err != nil {
			pw.fail(r, err)
		}
	}
}
