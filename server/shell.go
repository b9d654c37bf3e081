// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// The auditorium (PROTOCOL §7.4): one SPA shell, index.html, answers every
// app page path without a file extension; its content-hashed scripts and
// styles live below /auditorium/assets/. The bundle reaches the server as an
// fs.FS laid out like auditorium/dist.

// shellPaths are the app pages the shell answers, each with everything
// below it.
var shellPaths = []string{"/auditorium/", "/login/", "/setup/", "/forgot-password/", "/reset-password/", "/join/", "/console/"}

// auditoriumShell is the shell read once at start; built is false when the
// FS holds no index.html.
type auditoriumShell struct {
	fsys  fs.FS
	built bool
	index []byte
	etag  string
}

// locale, when set, is the instance's default language, named to the app in
// a meta element so that pages without ?locale= follow OFFEN_APP_LOCALE.
func loadAuditoriumShell(fsys fs.FS, locale string) auditoriumShell {
	s := auditoriumShell{fsys: fsys}
	if fsys == nil {
		return s
	}
	b, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return s
	}
	if locale != "" {
		meta := `<head><meta name="offen-locale" content="` + html.EscapeString(locale) + `">`
		b = bytes.Replace(b, []byte("<head>"), []byte(meta), 1)
	}
	sum := sha256.Sum256(b)
	s.built, s.index, s.etag = true, b, `"`+hex.EncodeToString(sum[:8])+`"`
	return s
}

// handleShell serves the SPA shell (no-cache, ETag) for app page paths; a
// path whose last segment has a file extension is a missing file (404).
// Without a build it answers the "run make build" page.
func handleShell(s auditoriumShell, v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(path.Base(r.URL.Path), ".") && !strings.HasSuffix(r.URL.Path, "/") {
			handleNotFound(w, r)
			return
		}
		if !s.built {
			v.respondBuildMissing(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", cacheHTML)
		h.Set("ETag", s.etag)
		if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, s.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(s.index)
	}
}

// handleAuditoriumAsset serves the content-hashed files of /auditorium/assets/.
func handleAuditoriumAsset(s auditoriumShell) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "*")
		p := path.Join("assets", name)
		if s.fsys == nil || name == "" || !fs.ValidPath(name) || strings.HasPrefix(path.Base(p), ".") {
			handleNotFound(w, r)
			return
		}
		b, err := fs.ReadFile(s.fsys, p)
		if err != nil {
			handleNotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", cacheImmutable)
		http.ServeContent(w, r, path.Base(p), time.Time{}, bytes.NewReader(b))
	}
}
