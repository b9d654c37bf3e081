// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// handleRobots asks every crawler to stay away.
func handleRobots(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("User-agent: *\nDisallow: /\n"))
}

// handleNotFound answers unknown paths: JSON under /api/, plain text elsewhere.
func handleNotFound(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
		// Also reached without the /api group's middleware (chi skips a
		// sub-router's middleware for paths it cannot route), so set the
		// API surface here too. HSTS, if any, is already set.
		setSecurityHeaders(w.Header(), surfaceAPI, false)
		respondError(w, r, errNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte("404 page not found\n"))
}

// allMethods are the methods checked when building an Allow header.
var allMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// handleMethodNotAllowed answers 405 with an Allow header listing the
// methods that mux routes for the path.
func handleMethodNotAllowed(mux *chi.Mux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allowed []string
		for _, m := range allMethods {
			if mux.Match(chi.NewRouteContext(), m, path) {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		respondError(w, r, errMethodNotAllowed)
	}
}
