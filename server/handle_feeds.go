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
		if err == nil {
			err = startQuery(r, &q)
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		extendDeadlines(w, r)
		pw := newPageWriter(w, "events", "tombstones")
		defer pw.release()
		page, err := v.store.AccountEvents(r.Context(), chi.URLParam(r, "id"), q, persistence.FeedItems{
			Event: pw.event,
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
// the account's wrapped user secrets, streamed; with ?keys= the secrets of
// those key ids instead (handleSecretsLookup).
func handleAccountSecrets(v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("keys") {
			handleSecretsLookup(v, w, r)
			return
		}
		q, err := feedQuery(r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		extendDeadlines(w, r)
		pw := newPageWriter(w, "secrets")
		defer pw.release()
		page, err := v.store.AccountSecrets(r.Context(), chi.URLParam(r, "id"), q, persistence.FeedItems{
			Secret: pw.secret,
		})
		if err == nil {
			err = pw.end(tailOf(page))
		}
		if err != nil {
			pw.fail(r, err)
		}
	}
}

// The items of the operator's feeds are encoded by hand into the page's
// buffer (a cold dashboard load asks for a million of them); the bytes are
// those encoding/json gives for
//
//	struct{ EventID, SecretID, KeyID, Payload string } // eventId, secretId, keyId, payload
//	struct{ KeyID, SecretID, WrappedSecret string }     // keyId, secretId, wrappedSecret
//
// as feed_internal_test.go checks.

// eventJSONSize is the length of e's item when no value needs escaping.
func eventJSONSize(e persistence.Event) int {
	return len(`{"eventId":"","secretId":"","keyId":"","payload":""}`) + len(e.EventID) + len(e.SecretID) + len(e.KeyID) + len(e.Payload)
}

func appendEventJSON(b []byte, e persistence.Event) []byte {
	b = append(b, `{"eventId":`...)
	b = appendJSONString(b, e.EventID)
	b = append(b, `,"secretId":`...)
	b = appendJSONString(b, e.SecretID)
	b = append(b, `,"keyId":`...)
	b = appendJSONString(b, e.KeyID)
	b = append(b, `,"payload":`...)
	b = appendJSONString(b, e.Payload)
	return append(b, '}')
}

// secretJSONSize is the length of s's item when no value needs escaping.
func secretJSONSize(s persistence.Secret) int {
	return len(`{"keyId":"","secretId":"","wrappedSecret":""}`) + len(s.KeyID) + len(s.SecretID) + len(s.WrappedSecret)
}

func appendSecretJSON(b []byte, s persistence.Secret) []byte {
	b = append(b, `{"keyId":`...)
	b = appendJSONString(b, s.KeyID)
	b = append(b, `,"secretId":`...)
	b = appendJSONString(b, s.SecretID)
	b = append(b, `,"wrappedSecret":`...)
	b = appendJSONString(b, s.WrappedSecret)
	return append(b, '}')
}
