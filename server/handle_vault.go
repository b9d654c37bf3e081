// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"errors"
	"net/http"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/script"
)

// renderVault renders the vault page of script/README.md for cfg; inert
// leaves out the config block (the vault then answers every message with
// ERROR) and the banner styles.
func (v *visitors) renderVault(cfg script.VaultConfig, inert bool) ([]byte, error) {
	return script.RenderVault(script.VaultAssets{CSS: v.assets.vaultCSS, JS: v.assets.vaultJS}, cfg, inert)
}

// activeAccount returns the account id names when it is well-formed,
// exists and is not retired; otherwise persistence.ErrNotFound.
func (v *visitors) activeAccount(r *http.Request, id string) (persistence.Account, error) {
	if !keys.ValidUUID(id) {
		return persistence.Account{}, persistence.ErrNotFound
	}
	a, err := v.store.FindAccountCached(r.Context(), id)
	if err != nil {
		return persistence.Account{}, err
	}
	if a.Retired {
		return persistence.Account{}, persistence.ErrNotFound
	}
	return a, nil
}

// handleVault serves GET /vault/?accountId=&locale=: the vault page with
// the account's allowed origins as its frame-ancestors. Malformed, unknown
// and retired accounts get a 404 with the inert page, which any site may
// frame so that the script learns the vault refuses.
func handleVault(v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !v.assets.built {
			v.respondBuildMissing(w, r)
			return
		}
		q := r.URL.Query()
		lang := v.locale(q.Get("locale"))
		cfg := script.VaultConfig{
			AccountID:     q.Get("accountId"),
			Locale:        lang,
			Strings:       script.VaultStrings(v.loc.Catalog(lang)),
			SecureContext: v.secureContext,
			RetentionDays: v.retentionDays(),
		}
		status := http.StatusOK
		a, err := v.activeAccount(r, cfg.AccountID)
		switch {
		case errors.Is(err, persistence.ErrNotFound):
			status = http.StatusNotFound
		case err != nil:
			respondError(w, r, err)
			return
		default:
			cfg.AllowedOrigins = a.AllowedOrigins
		}
		b, err := v.renderVault(cfg, status != http.StatusOK)
		if err != nil {
			respondError(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", cacheHTML)
		h.Set("Content-Security-Policy", vaultCSP(cfg.AllowedOrigins))
		w.WriteHeader(status)
		w.Write(b)
	}
}

// handleBannerCSS serves GET /vault/banner.css?accountId=: the account's
// banner styles, validated when they were stored (bannercss.go). Unknown,
// retired and malformed accounts are 404.
func handleBannerCSS(v *visitors) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := v.activeAccount(r, r.URL.Query().Get("accountId"))
		h := w.Header()
		h.Set("Content-Type", "text/css; charset=utf-8")
		switch {
		case errors.Is(err, persistence.ErrNotFound):
			h.Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusNotFound)
			return
		case err != nil:
			h.Del("Content-Type")
			respondError(w, r, err)
			return
		}
		h.Set("Cache-Control", cacheBanner)
		w.Write([]byte(a.BannerCSS))
	}
}
