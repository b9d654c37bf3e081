// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/offen/offen/persistence"
)

// healthTimeout bounds the database checks of /healthz and /versionz.
const healthTimeout = 2 * time.Second

// handleHealth answers 200 {"ok":true} when the database answers and its
// schema is current, else 503.
func handleHealth(store persistence.Maintenance) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			respondError(w, r, unavailable(fmt.Errorf("health: %w", err)))
			return
		}
		status, err := store.SchemaStatus(ctx)
		if err != nil {
			respondError(w, r, unavailable(fmt.Errorf("health: %w", err)))
			return
		}
		if !status.Current() {
			respondError(w, r, unavailable(fmt.Errorf("health: %w: pending %v", persistence.ErrSchemaOutdated, status.Pending())))
			return
		}
		respondJSON(w, r, http.StatusOK, map[string]bool{"ok": true})
	}
}

// handleVersion reports the binary's version and the database's schema
// version (the last applied migration).
func handleVersion(store persistence.Maintenance, opts Options) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		status, err := store.SchemaStatus(ctx)
		if err != nil {
			respondError(w, r, unavailable(fmt.Errorf("version: %w", err)))
			return
		}
		schema := ""
		if n := len(status.Applied); n > 0 {
			schema = status.Applied[n-1]
		}
		respondJSON(w, r, http.StatusOK, struct {
			Version  string `json:"version"`
			Revision string `json:"revision"`
			Schema   string `json:"schema"`
		}{opts.Version, opts.Revision, schema})
	}
}
