// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// The visitor routes of PROTOCOL §7.2. A request without consent=allow is
// answered 204 and changes nothing; the user id of the user cookie is used
// for HMACs and throttle keys only, never stored or logged.

// eventsBodyLimit bounds POST /api/events (PROTOCOL §7.1).
const eventsBodyLimit = 64 << 10

// handlePublicKey serves GET /api/exchange?accountId=: the account's public
// key, which the vault wraps a new user secret with.
func handlePublicKey(v *visitors) http.HandlerFunc {
	type response struct {
		AccountID string `json:"accountId"`
		PublicKey string `json:"publicKey"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := v.activeAccount(r, r.URL.Query().Get("accountId"))
		if err != nil {
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusOK, response{AccountID: a.ID, PublicKey: a.PublicKey})
	}
}

type exchangeRequest struct {
	AccountID     string `json:"accountId"`
	KeyID         string `json:"keyId"`
	WrappedSecret string `json:"wrappedSecret"`
}

func (req exchangeRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if !keys.ValidUUID(req.AccountID) {
		fields["accountId"] = "must be a lowercase UUIDv4"
	}
	if !keys.ValidKeyID(req.KeyID) {
		fields["keyId"] = "must be 32 lowercase hex characters"
	}
	if keys.CheckFormat(req.WrappedSecret, keys.LabelE1) != nil {
		fields["wrappedSecret"] = "must be an e1 ciphertext"
	}
	return fields
}

// handleExchange serves POST /api/exchange: it stores the visitor's wrapped
// user secret under their secret id in the account and sets (or renews) the
// user cookie, making a new user id when the request has none.
func handleExchange(v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[exchangeRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		if !hasConsent(r) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		a, err := v.activeAccount(r, req.AccountID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		user, encoded, ok := userID(r)
		if !ok {
			encoded = keys.NewUserID()
			user, _ = keys.ParseUserID(encoded)
		}
		secretID, err := keys.SecretID(a.UserSalt, user)
		if err != nil {
			respondError(w, r, fmt.Errorf("exchange: %w", err))
			return
		}
		if _, err := v.store.CreateSecret(r.Context(), persistence.Secret{
			KeyID:         req.KeyID,
			AccountID:     a.ID,
			SecretID:      secretID,
			WrappedSecret: req.WrappedSecret,
		}); err != nil {
			respondError(w, r, err)
			return
		}
		v.setUserCookie(w, encoded)
		respondJSON(w, r, http.StatusCreated, struct{}{})
	}
}

type eventsRequest struct {
	AccountID string   `json:"accountId"`
	KeyID     string   `json:"keyId"`
	Payloads  []string `json:"payloads"`
	// Resend: the vault sent some of the payloads before without seeing
	// the answer (persistence.NewEvents.Resend).
	Resend bool `json:"resend"`
}

// maxListedProblems bounds the payload problems an events 400 names; the
// rest are counted.
const maxListedProblems = 3

// check validates the request after the cheap checks of handleCreateEvents
// have passed, so a flood of invalid payloads costs a throttled request and
// a bounded answer.
func (req eventsRequest) check() error {
	// Made on the first problem only: this runs for every event request.
	var fields map[string]string
	problem := func(field, msg string) {
		if fields == nil {
			fields = map[string]string{}
		}
		fields[field] = msg
	}
	if !keys.ValidUUID(req.AccountID) {
		problem("accountId", "must be a lowercase UUIDv4")
	}
	if !keys.ValidKeyID(req.KeyID) {
		problem("keyId", "must be 32 lowercase hex characters")
	}
	if n := len(req.Payloads); n < 1 || n > persistence.MaxEventsPerRequest {
		problem("payloads", fmt.Sprintf("must hold 1 to %d payloads", persistence.MaxEventsPerRequest))
		return &validationError{fields: fields}
	}
	bad := 0
	for i, p := range req.Payloads {
		if len(p) > persistence.MaxPayloadBytes || keys.CheckFormat(p, keys.LabelA1) != nil {
			if bad++; bad <= maxListedProblems {
				problem(fmt.Sprintf("payloads[%d]", i), fmt.Sprintf("must be an a1 ciphertext of at most %d bytes", persistence.MaxPayloadBytes))
			}
		}
	}
	if bad > maxListedProblems {
		problem("payloads", fmt.Sprintf("%d of %d payloads are invalid", bad, len(req.Payloads)))
	}
	if fields != nil {
		return &validationError{fields: fields}
	}
	return nil
}

// decodeJSONFast reads the body the vault sends, {"accountId": "…",
// "keyId": "…", "payloads": ["…", …]}, without encoding/json (see
// fastDecoder). It gives up on anything else: other keys (a resend, which
// is rare), repeated keys, null,
// escapes, non-ASCII text (encoding/json then decides, with its errors).
func (req *eventsRequest) decodeJSONFast(body []byte) bool {
	s := jsonScan{b: body}
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return s.end()
	}
	var seen [3]bool
	for {
		key, ok := s.raw()
		if !ok || !s.consume(':') {
			return false
		}
		field := -1
		switch string(key) {
		case "accountId":
			field = 0
			req.AccountID, ok = s.str()
		case "keyId":
			field = 1
			req.KeyID, ok = s.str()
		case "payloads":
			field = 2
			ok = s.consume('[')
			// encoding/json makes [] an empty, non-nil slice.
			req.Payloads = []string{}
			if ok && !s.consume(']') {
				for {
					var p string
					if p, ok = s.str(); !ok {
						break
					}
					req.Payloads = append(req.Payloads, p)
					if s.consume(']') {
						break
					}
					if ok = s.consume(','); !ok {
						break
					}
				}
			}
		}
		if field < 0 || !ok || seen[field] {
			return false
		}
		seen[field] = true
		if s.consume('}') {
			return s.end()
		}
		if !s.consume(',') {
			return false
		}
	}
}

// handleCreateEvents serves POST /api/events, the ingest path: small,
// bounded and answered as soon as the events are durable. 409 tells the
// vault to exchange a new secret (no user cookie, or a key id that is not
// the caller's in the account).
func handleCreateEvents(v *visitors) http.HandlerFunc {
	type response struct {
		Accepted int `json:"accepted"`
	}
	// The responses, encoded once: {"accepted":n} for every possible n.
	accepted := make([]encodedJSON, persistence.MaxEventsPerRequest+1)
	for n := range accepted {
		b, err := json.Marshal(response{Accepted: n})
		if err != nil {
			panic(err)
		}
		accepted[n] = append(b, '\n')
	}
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[eventsRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		if !hasConsent(r) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		user, encoded, ok := userID(r)
		if !ok {
			respondError(w, r, errNoVisitor)
			return
		}
		// Charged before validation, so invalid requests are throttled too;
		// a count out of range costs the most a valid request may.
		if err := v.allowEvents(r, encoded, min(max(len(req.Payloads), 1), persistence.MaxEventsPerRequest)); err != nil {
			respondError(w, r, err)
			return
		}
		if err := req.check(); err != nil {
			respondError(w, r, err)
			return
		}
		a, err := v.activeAccount(r, req.AccountID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		secretID, err := keys.SecretID(a.UserSalt, user)
		if err != nil {
			respondError(w, r, fmt.Errorf("create events: %w", err))
			return
		}
		events, err := v.store.CreateEvents(r.Context(), persistence.NewEvents{
			AccountID: a.ID,
			SecretID:  secretID,
			KeyID:     req.KeyID,
			Payloads:  req.Payloads,
			Resend:    req.Resend,
		})
		if errors.Is(err, persistence.ErrConflict) {
			err = errForeignKey
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		v.setUserCookie(w, encoded)
		respondJSON(w, r, http.StatusCreated, accepted[len(events)])
	}
}

// Conflicts of POST /api/events that make the vault exchange a new secret.
var (
	errNoVisitor  = &httpError{status: http.StatusConflict, message: "no visitor id; exchange a secret first"}
	errForeignKey = &httpError{status: http.StatusConflict, message: "unknown key id; exchange a secret first"}
)

// handleVisitorEvents serves GET /api/events: one page of the caller's
// events and tombstones in every account (PROTOCOL §6), streamed, with the
// names of the accounts on the page. Without a user cookie it is an empty
// last page.
func handleVisitorEvents(v *visitors) http.HandlerFunc {
	type event struct {
		AccountID string `json:"accountId"`
		EventID   string `json:"eventId"`
		KeyID     string `json:"keyId"`
		Payload   string `json:"payload"`
	}
	type tombstone struct {
		AccountID string `json:"accountId"`
		Kind      string `json:"kind"`
		Target    string `json:"target"`
	}
	type account struct {
		Name string `json:"name"`
	}
	type tail struct {
		Accounts      map[string]account `json:"accounts"`
		RetentionDays int                `json:"retentionDays"`
		pageTail
	}
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := feedQuery(r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		var secretIDs []string
		if user, _, ok := userID(r); ok {
			if secretIDs, err = v.secretIDs(r, user, ""); err != nil {
				respondError(w, r, err)
				return
			}
		}
		extendDeadlines(w, r)
		pw := newPageWriter(w, "events", "tombstones")
		defer pw.release()
		seen := map[string]bool{}
		var order []string
		note := func(id string) {
			if !seen[id] {
				seen[id] = true
				order = append(order, id)
			}
		}
		page, err := v.store.VisitorEvents(r.Context(), secretIDs, q, persistence.FeedItems{
			Event: func(e persistence.Event) error {
				note(e.AccountID)
				return pw.item("events", event{AccountID: e.AccountID, EventID: e.EventID, KeyID: e.KeyID, Payload: e.Payload})
			},
			Tombstone: func(t persistence.Tombstone) error {
				note(t.AccountID)
				return pw.item("tombstones", tombstone{AccountID: t.AccountID, Kind: t.Kind, Target: t.Target})
			},
		})
		if err != nil {
			pw.fail(r, err)
			return
		}
		names := map[string]account{}
		if len(order) > 0 {
			accounts, err := v.store.ListAccounts(r.Context(), order)
			if err != nil {
				pw.fail(r, err)
				return
			}
			for _, a := range accounts {
				names[a.ID] = account{Name: a.Name}
			}
		}
		if err := pw.end(tail{Accounts: names, RetentionDays: v.retentionDays(), pageTail: tailOf(page)}); err != nil {
			pw.fail(r, err)
		}
	}
}

// handleExport serves GET /api/events/export: every event of the caller as
// NDJSON, streamed. Without a user cookie the body is empty.
func handleExport(v *visitors) http.HandlerFunc {
	type line struct {
		AccountID   string `json:"accountId"`
		AccountName string `json:"accountName"`
		EventID     string `json:"eventId"`
		KeyID       string `json:"keyId"`
		Payload     string `json:"payload"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var secretIDs []string
		if user, _, ok := userID(r); ok {
			var err error
			if secretIDs, err = v.secretIDs(r, user, ""); err != nil {
				respondError(w, r, err)
				return
			}
		}
		extendDeadlines(w, r)
		w.Header().Set("Content-Disposition", `attachment; filename="offen-events.ndjson"`)
		sw := newStreamWriter(w, "application/x-ndjson")
		defer sw.release()
		if len(secretIDs) == 0 {
			sw.finish()
			return
		}
		// Events come ordered by account id: one name lookup per account.
		var lastAccount, lastName string
		err := v.store.ExportEvents(r.Context(), secretIDs, func(e persistence.Event) error {
			if e.AccountID != lastAccount {
				a, err := v.store.FindAccountCached(r.Context(), e.AccountID)
				if err != nil && !errors.Is(err, persistence.ErrNotFound) {
					return err
				}
				lastAccount, lastName = e.AccountID, a.Name
			}
			b, err := json.Marshal(line{AccountID: e.AccountID, AccountName: lastName, EventID: e.EventID, KeyID: e.KeyID, Payload: e.Payload})
			if err != nil {
				return err
			}
			return sw.write(append(b, '\n'))
		})
		if err == nil {
			err = sw.finish()
		}
		if err != nil {
			sw.fail(r, err)
		}
	}
}

type purgeRequest struct {
	AccountID string `json:"accountId"`
	Forget    bool   `json:"forget"`
}

func (req purgeRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if req.AccountID != "" && !keys.ValidUUID(req.AccountID) {
		fields["accountId"] = "must be a lowercase UUIDv4"
	}
	return fields
}

// handlePurge serves POST /api/purge: it deletes the caller's events in one
// account or all (with tombstones, so operators' caches follow), with
// forget also their secrets. Forgetting every account also clears the user
// cookie; forgetting one keeps it, as it still names the caller's secrets
// elsewhere.
func handlePurge(v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[purgeRequest](w, r)
		if err != nil {
			respondError(w, r, err)
			return
		}
		user, _, ok := userID(r)
		if !ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		secretIDs, err := v.secretIDs(r, user, req.AccountID)
		if err != nil {
			respondError(w, r, err)
			return
		}
		if len(secretIDs) > 0 {
			if _, err := v.store.PurgeEvents(r.Context(), persistence.PurgeFilter{
				SecretIDs: secretIDs,
				AccountID: req.AccountID,
				Forget:    req.Forget,
			}); err != nil {
				respondError(w, r, err)
				return
			}
		}
		if req.Forget && req.AccountID == "" {
			v.clearUserCookie(w)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
