// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/script"
	"github.com/offen/offen/server"
)

// staticScenario is one GET of the visitor's static routes on a fresh
// instance holding an active account {active} (allowed origin
// https://www.example.org, banner CSS), an account without allowed origins
// {open} and a retired account {retired}.
type staticScenario struct {
	name        string
	env         envOptions
	path        string
	headers     map[string]string
	wantStatus  int
	wantBody    []string
	notBody     []string
	wantHeaders map[string]string // "" means absent
	after       func(t *testing.T, res *http.Response, body string)
}

const testBannerCSS = ".offen-banner {\n  background-color: #112233;\n}\n"

func (sc staticScenario) run(t *testing.T) {
	t.Run(sc.name, func(t *testing.T) {
		t.Parallel()
		e := newVisitorEnv(t, sc.env)
		active := e.account("active site", "https://www.example.org")
		if err := e.store.UpdateBannerCSS(t.Context(), active.ID, testBannerCSS); err != nil {
			t.Fatal(err)
		}
		open := e.account("open site")
		retired := e.account("retired site", "https://old.example.org")
		retire(t, e.store, retired.ID)
		expand := strings.NewReplacer("{active}", active.ID, "{open}", open.ID, "{retired}", retired.ID, "{unknown}", keys.NewUUID()).Replace

		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, expand(sc.path), nil)
		for k, v := range sc.headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		res := rec.Result()
		b, _ := io.ReadAll(res.Body)
		body := string(b)
		if res.StatusCode != sc.wantStatus {
			t.Errorf("got status %d, want %d; body %s", res.StatusCode, sc.wantStatus, body)
		}
		for _, f := range sc.wantBody {
			if f = expand(f); !strings.Contains(body, f) {
				t.Errorf("got body %q, want it to contain %q", body, f)
			}
		}
		for _, f := range sc.notBody {
			if f = expand(f); strings.Contains(body, f) {
				t.Errorf("got body %q, want it not to contain %q", body, f)
			}
		}
		for k, want := range sc.wantHeaders {
			if got := res.Header.Get(k); got != expand(want) {
				t.Errorf("header %s: got %q, want %q", k, got, expand(want))
			}
		}
		if sc.after != nil {
			sc.after(t, res, body)
		}
	})
}

const (
	vaultCSPPrefix = "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors "
	otherCSP = "default-src 'none'; frame-ancestors 'none'"
)

// vaultConfigOf returns the config block of a vault page, nil when absent.
func vaultConfigOf(t *testing.T, body string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="offen-vault-config">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		return nil
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("config block %q: %v", m[1], err)
	}
	return cfg
}

func TestStaticRoutes(t *testing.T) {
	t.Parallel()
	inert := func(t *testing.T, res *http.Response, body string) {
		if cfg := vaultConfigOf(t, body); cfg != nil {
			t.Errorf("inert page has a config block: %v", cfg)
		}
	}
	scenarios := []staticScenario{
		{
			name: "script", path: "/script.js", wantStatus: 200,
			wantBody: []string{"offen test script"},
			wantHeaders: map[string]string{
				"Cache-Control":                "public, max-age=600",
				"Cross-Origin-Resource-Policy": "cross-origin",
				"Content-Type":                 "text/javascript; charset=utf-8",
				"X-Content-Type-Options":       "nosniff",
				"Content-Security-Policy":      otherCSP,
			},
			after: func(t *testing.T, res *http.Response, body string) {
				if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(res.Header.Get("ETag")) {
					t.Errorf("got ETag %q, want a quoted hash", res.Header.Get("ETag"))
				}
			},
		},
		{
			name: "script revalidated", path: "/script.js", wantStatus: http.StatusNotModified,
			headers: map[string]string{"If-None-Match": scriptETag()},
		},
		{
			name: "script without build", path: "/script.js", env: envOptions{bundle: noBundle},
			wantStatus: http.StatusServiceUnavailable, wantBody: []string{"make build"},
		},
		{
			name: "vault", path: "/vault/?accountId={active}", wantStatus: 200,
			wantBody: []string{
				`<html lang="en">`,
				`<link rel="stylesheet" href="/vault/assets/vault-style-T3ST0002.css">`,
				`<link rel="stylesheet" href="/vault/banner.css?accountId={active}">`,
				`<script defer src="/vault/assets/vault-T3ST0001.js"></script>`,
				`<div id="offen-vault" aria-live="polite"></div>`,
				`"allowedOrigins":["https://www.example.org"]`,
				`"vault.banner.allow":"I allow"`,
			},
			notBody: []string{"active site", "<style"},
			wantHeaders: map[string]string{
				"Content-Security-Policy": vaultCSPPrefix + "https://www.example.org",
				"X-Frame-Options":         "",
				"Cache-Control":           "no-cache",
				"Content-Type":            "text/html; charset=utf-8",
				"Permissions-Policy":      "camera=(), microphone=(), geolocation=(), browsing-topics=()",
				"Referrer-Policy":         "no-referrer",
			},
			after: func(t *testing.T, res *http.Response, body string) {
				cfg := vaultConfigOf(t, body)
				if cfg == nil {
					t.Fatal("no config block")
				}
				if cfg["locale"] != "en" || cfg["secureContext"] != true || cfg["retentionDays"] != float64(186) {
					t.Errorf("got config %v", cfg)
				}
				strs, _ := cfg["strings"].(map[string]any)
				for k := range strs {
					if !strings.HasPrefix(k, "vault.") {
						t.Errorf("config strings hold %q, want only vault.*", k)
					}
				}
				if strs["vault.title"] == nil || !strings.Contains(body, "<title>"+strs["vault.title"].(string)+"</title>") {
					t.Errorf("title is not vault.title (%v)", strs["vault.title"])
				}
			},
		},
		{
			name: "vault in German", path: "/vault/?accountId={active}&locale=de-AT", wantStatus: 200,
			wantBody: []string{`<html lang="de">`, `"locale":"de"`},
			after: func(t *testing.T, res *http.Response, body string) {
				loc, _ := locales.New()
				strs := vaultConfigOf(t, body)["strings"].(map[string]any)
				if want := loc.Translate("de", "vault.banner.allow", nil); strs["vault.banner.allow"] != want {
					t.Errorf("got %v, want %q", strs["vault.banner.allow"], want)
				}
			},
		},
		{
			name: "vault with unsupported locale", path: "/vault/?accountId={active}&locale=xx", wantStatus: 200,
			wantBody: []string{`<html lang="en">`, `"locale":"en"`},
		},
		{
			name: "vault without allowed origins", path: "/vault/?accountId={open}", wantStatus: 200,
			wantBody:    []string{`"allowedOrigins":[]`},
			wantHeaders: map[string]string{"Content-Security-Policy": vaultCSPPrefix + "*"},
		},
		{
			name: "vault on localhost is a secure context", path: "/vault/?accountId={open}", wantStatus: 200,
			env: envOptions{publicURL: "http://localhost:9876"}, wantBody: []string{`"secureContext":true`},
		},
		{
			name: "vault on plain http is not a secure context", path: "/vault/?accountId={open}", wantStatus: 200,
			env: envOptions{publicURL: "http://offen.internal:8080"}, wantBody: []string{`"secureContext":false`},
		},
		{
			name: "vault for an unknown account", path: "/vault/?accountId={unknown}", wantStatus: 404,
			wantBody: []string{`<script defer src="/vault/assets/vault-T3ST0001.js">`, "vault-style-T3ST0002.css", "<p hidden>"},
			notBody:  []string{"banner.css", "offen-vault-config"},
			wantHeaders: map[string]string{
				"Content-Security-Policy": vaultCSPPrefix + "*", "X-Frame-Options": "",
			},
			after: inert,
		},
		{
			name: "vault for a retired account", path: "/vault/?accountId={retired}", wantStatus: 404,
			notBody: []string{"offen-vault-config", "old.example.org", "retired site"}, after: inert,
		},
		{
			name: "vault for a malformed account id", path: "/vault/?accountId=%3Cscript%3E", wantStatus: 404,
			notBody: []string{"<script>", "offen-vault-config"}, after: inert,
		},
		{
			name: "vault without account id", path: "/vault/", wantStatus: 404, after: inert,
		},
		{
			name: "vault without build", path: "/vault/?accountId={active}&locale=de", env: envOptions{bundle: noBundle},
			wantStatus: http.StatusServiceUnavailable, wantBody: []string{"make build", `lang="de"`},
		},
		{
			name: "vault redirect", path: "/vault?accountId={active}", wantStatus: http.StatusMovedPermanently,
			wantHeaders: map[string]string{"Location": "/vault/?accountId={active}"},
		},
		{
			name: "banner styles", path: "/vault/banner.css?accountId={active}", wantStatus: 200,
			wantBody: []string{"background-color: #112233"},
			wantHeaders: map[string]string{
				"Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300",
			},
		},
		{
			name: "banner styles of an account without", path: "/vault/banner.css?accountId={open}", wantStatus: 200,
			wantHeaders: map[string]string{"Content-Type": "text/css; charset=utf-8"},
		},
		{name: "banner styles of an unknown account", path: "/vault/banner.css?accountId={unknown}", wantStatus: 404},
		{name: "banner styles of a retired account", path: "/vault/banner.css?accountId={retired}", wantStatus: 404},
		{name: "banner styles of a malformed id", path: "/vault/banner.css?accountId=x", wantStatus: 404},
		{
			name: "vault asset", path: "/vault/assets/vault-T3ST0001.js", wantStatus: 200,
			wantBody: []string{"/* vault */"},
			wantHeaders: map[string]string{
				"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "text/javascript; charset=utf-8",
			},
		},
		{
			name: "vault style asset", path: "/vault/assets/vault-style-T3ST0002.css", wantStatus: 200,
			wantHeaders: map[string]string{"Content-Type": "text/css; charset=utf-8"},
		},
		{name: "missing vault asset", path: "/vault/assets/vault-NOPE.js", wantStatus: 404},
		{name: "vault asset directory", path: "/vault/assets/", wantStatus: 404},
		{name: "vault asset outside", path: "/vault/assets/../../manifest.json", wantStatus: 404},
		{
			name: "locales", path: "/locales/fr.json", wantStatus: 200,
			wantHeaders: map[string]string{
				"Cache-Control": "public, max-age=3600", "Content-Type": "application/json; charset=utf-8",
			},
			after: func(t *testing.T, res *http.Response, body string) {
				var got map[string]string
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatal(err)
				}
				loc, _ := locales.New()
				want := loc.Catalog("fr")
				if len(got) != len(want) || got["vault.banner.allow"] != want["vault.banner.allow"] {
					t.Errorf("got %d keys (allow %q), want the %d of fr", len(got), got["vault.banner.allow"], len(want))
				}
			},
		},
		{
			name: "locales fall back to English", path: "/locales/xx.json", wantStatus: 200,
			wantBody: []string{`"vault.banner.allow":"I allow"`},
		},
		{name: "locales without json", path: "/locales/de", wantStatus: 404},
	}
	for _, sc := range scenarios {
		sc.run(t)
	}
}

// scriptETag is the ETag that /script.js has for testBundle.
func scriptETag() string {
	h := server.New(slog.New(slog.DiscardHandler), server.Options{PublicURL: "https://offen.example.org"}, nil, nil, nil, nil, testBundle())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/script.js", nil))
	return rec.Header().Get("ETag")
}

// TestVaultPageMatchesScriptPackage renders the vault with the real bundle
// and compares it with script.VaultHTML, the page script/README.md
// specifies. It needs a build of script/ (make build).
func TestVaultPageMatchesScriptPackage(t *testing.T) {
	t.Parallel()
	if !script.Built() {
		t.Skip("script/dist holds no build: run make build")
	}
	store := persistencetest.NewSQLiteStore(t)
	a := createTestAccount(t, store, "site", "https://www.example.org", "http://localhost:8080")
	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(slog.New(slog.DiscardHandler), server.Options{PublicURL: "http://localhost:3000", Locale: "fr"}, store, nil, loc, nil, script.FS)
	for _, tc := range []struct {
		name, query string
		inert       bool
		cfg         script.VaultConfig
	}{
		{name: "active", query: "?accountId=" + a.ID + "&locale=vi", cfg: script.VaultConfig{
			AccountID: a.ID, AllowedOrigins: a.AllowedOrigins, Locale: "vi",
			Strings: script.VaultStrings(loc.Catalog("vi")), SecureContext: true, RetentionDays: 186,
		}},
		{name: "inert", query: "?accountId=" + keys.NewUUID(), inert: true, cfg: script.VaultConfig{
			Locale: "fr", Strings: script.VaultStrings(loc.Catalog("fr")),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/vault/"+tc.query, nil))
			want, err := script.VaultHTML(tc.cfg, tc.inert)
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.Body.String(); got != string(want) {
				t.Errorf("got page\n%s\nwant\n%s", got, want)
			}
		})
	}
}
