// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/offen/offen/locales"
)

// Static files of the visitor side (PROTOCOL §7.4, script/README.md
// "Serving"): the tracking script, the vault's hashed assets and the
// translation catalogs. The script bundle reaches the server as an fs.FS
// laid out like script/dist: manifest.json maps the logical names
// "script.js", "vault.js" and "vault.css" to paths in the FS, which are also
// URL paths below the server root.

// Cache lifetimes of PROTOCOL §7.4.
const (
	cacheScript    = "public, max-age=600"
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheBanner    = "public, max-age=300"
	cacheLocales   = "public, max-age=3600"
	cacheHTML      = "no-cache"
)

// scriptAssets is what the server needs of the script bundle, read once at
// start. built is false when the FS holds no usable build (no manifest, or
// one lacking an entry): the script and vault routes then answer with the
// "run make build" page.
type scriptAssets struct {
	built      bool
	fsys       fs.FS
	script     []byte
	scriptETag string
	// vaultJS and vaultCSS are paths in fsys and, with a leading slash, URL
	// paths.
	vaultJS  string
	vaultCSS string
}

// loadScriptAssets reads the manifest and the script of fsys; a nil fsys
// or a missing or incomplete build gives assets with built false.
func loadScriptAssets(fsys fs.FS) scriptAssets {
	a := scriptAssets{fsys: fsys}
	if fsys == nil {
		return a
	}
	b, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return a
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return a
	}
	for _, name := range []string{"script.js", "vault.js", "vault.css"} {
		p := m[name]
		if p == "" || !fs.ValidPath(p) {
			return a
		}
		if _, err := fs.Stat(fsys, p); err != nil {
			return a
		}
	}
	script, err := fs.ReadFile(fsys, m["script.js"])
	if err != nil {
		return a
	}
	sum := sha256.Sum256(script)
	a.script = script
	a.scriptETag = `"` + hex.EncodeToString(sum[:12]) + `"`
	a.vaultJS = m["vault.js"]
	a.vaultCSS = m["vault.css"]
	a.built = true
	return a
}

// handleScript serves /script.js: a stable URL cached briefly and
// revalidated by ETag, as site owners cannot change their tag (STYLE 7).
func handleScript(v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !v.assets.built {
			v.respondBuildMissing(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", cacheScript)
		h.Set("ETag", v.assets.scriptETag)
		http.ServeContent(w, r, "script.js", time.Time{}, bytes.NewReader(v.assets.script))
	}
}

// handleVaultAsset serves the vault's content-hashed files below
// /vault/assets/, cached for a year. Directories and unknown files are 404.
func handleVaultAsset(v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "*")
		p := path.Join("vault/assets", name)
		if v.assets.fsys == nil || name == "" || !fs.ValidPath(name) || strings.HasPrefix(path.Base(p), ".") {
			handleNotFound(w, r)
			return
		}
		b, err := fs.ReadFile(v.assets.fsys, p)
		if err != nil {
			handleNotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", cacheImmutable)
		http.ServeContent(w, r, path.Base(p), time.Time{}, bytes.NewReader(b))
	}
}

// handleLocales serves GET /locales/{lang}.json: the merged catalog of
// every domain for lang, English for an unsupported lang (STYLE 14).
func handleLocales(v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := chi.URLParam(r, "lang")
		supported := false
		for _, l := range v.loc.Languages() {
			supported = supported || l == lang
		}
		if !supported {
			lang = locales.Fallback
		}
		b, err := json.Marshal(v.loc.Catalog(lang))
		if err != nil {
			respondError(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", cacheLocales)
		h.Set("Content-Language", lang)
		w.Write(b)
	}
}

var buildMissingPage = template.Must(template.New("build").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Body}}</p>
</main>
</body>
</html>
`))

// respondBuildMissing answers 503 with a page telling the developer to run
// make build: the binary was compiled without the front-end bundle.
func (v *visitors) respondBuildMissing(w http.ResponseWriter, r *http.Request) {
	lang := v.locale(r.URL.Query().Get("locale"))
	var buf bytes.Buffer
	buildMissingPage.Execute(&buf, map[string]string{
		"Lang":  lang,
		"Title": v.loc.Translate(lang, "server.build.title", nil),
		"Body":  v.loc.Translate(lang, "server.build.body", map[string]string{"command": "make build"}),
	})
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write(buf.Bytes())
}

// redirectSlash sends /vault to /vault/, keeping the query.
func redirectSlash(w http.ResponseWriter, r *http.Request) {
	u := *r.URL
	u.Path += "/"
	u.RawPath = ""
	http.Redirect(w, r, u.RequestURI(), http.StatusMovedPermanently)
}
