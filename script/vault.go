// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package script

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strings"
)

// VaultConfig is the JSON data block of the vault HTML (script/README.md, "Config block").
type VaultConfig struct {
	// AccountID is the validated account id of the request (lowercase UUID).
	AccountID string `json:"accountId"`
	// AllowedOrigins are the account's allowed origins; empty allows every origin.
	AllowedOrigins []string `json:"allowedOrigins"`
	// Locale is the language of Strings.
	Locale string `json:"locale"`
	// Strings holds every key of the vault domain translated into Locale; see
	// VaultStrings.
	Strings map[string]string `json:"strings"`
	// SecureContext tells whether the public URL is https (or localhost): the consent
	// cookie is then Secure; SameSite=None, else SameSite=Lax.
	SecureContext bool `json:"secureContext"`
	// RetentionDays is the instance's retention; older waiting events are dropped.
	RetentionDays int `json:"retentionDays"`
}

// VaultStrings returns the vault domain's entries (keys starting with "vault.") of a
// translation catalog such as locales.Bundle.Catalog(lang).
func VaultStrings(catalog map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range catalog {
		if strings.HasPrefix(k, "vault.") {
			out[k] = v
		}
	}
	return out
}

var vaultPage = template.Must(template.New("vault").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<link rel="stylesheet" href="/{{.CSS}}">
{{- if .BannerCSS}}
<link rel="stylesheet" href="{{.BannerCSS}}">
{{- end}}
{{- if .Config}}
<script type="application/json" id="offen-vault-config">{{.Config}}</script>
{{- end}}
<script defer src="/{{.JS}}"></script>
</head>
<body>
<div id="offen-vault" aria-live="polite">{{if .Message}}<p hidden>{{.Message}}</p>{{end}}</div>
</body>
</html>
`))

// VaultHTML renders the vault page for cfg with the built assets of FS. With inert
// set (malformed, unknown or retired account) the page carries no config block, so the
// vault answers every message with ERROR and shows nothing; cfg then only needs Locale
// and Strings. It fails when FS holds no build.
func VaultHTML(cfg VaultConfig, inert bool) ([]byte, error) {
	m, err := Manifest()
	if err != nil {
		return nil, err
	}
	return RenderVault(VaultAssets{CSS: m["vault.css"], JS: m["vault.js"]}, cfg, inert)
}

// VaultAssets are the paths of the vault's built script and style below the
// server root (without the leading slash), as Manifest names them.
type VaultAssets struct{ CSS, JS string }

// RenderVault renders the vault page as VaultHTML does, with the given asset
// paths, for servers that read the bundle from another fs.FS.
func RenderVault(assets VaultAssets, cfg VaultConfig, inert bool) ([]byte, error) {
	if assets.JS == "" || assets.CSS == "" {
		return nil, fmt.Errorf("script: manifest lacks the vault assets")
	}
	if cfg.AllowedOrigins == nil {
		cfg.AllowedOrigins = []string{}
	}
	data := struct {
		Lang, Title, CSS, JS, BannerCSS, Message string
		Config                                   template.JS
	}{Lang: cfg.Locale, Title: cfg.Strings["vault.title"], CSS: assets.CSS, JS: assets.JS}
	if data.Lang == "" {
		data.Lang = "en"
	}
	if data.Title == "" {
		data.Title = "Offen"
	}
	if inert {
		data.Message = cfg.Strings["vault.error.unknownAccount"]
	} else {
		// json.Marshal escapes <, > and &, so the block cannot end the script element.
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("script: encode vault config: %w", err)
		}
		data.Config = template.JS(b)
		data.BannerCSS = "/vault/banner.css?accountId=" + url.QueryEscape(cfg.AccountID)
	}
	var buf bytes.Buffer
	if err := vaultPage.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("script: render vault: %w", err)
	}
	return buf.Bytes(), nil
}
