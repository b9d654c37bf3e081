// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package script_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/offen/offen/script"
)

var configBlock = regexp.MustCompile(`<script type="application/json" id="offen-vault-config">(.*?)</script>`)

func TestVaultHTML(t *testing.T) {
	if !script.Built() {
		t.Skip("dist/ not built: run `npm run build` in script/")
	}
	m, err := script.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cfg := script.VaultConfig{
		AccountID:      "9b63c4d8-3a6c-4e8e-9a55-2f1d7c0e5b11",
		AllowedOrigins: []string{"https://www.example.org"},
		Locale:         "de",
		Strings:        map[string]string{"vault.title": "Offen-Einwilligung", "vault.banner.text": `</script><script>alert("x")</script> & more`},
		SecureContext:  true,
		RetentionDays:  186,
	}

	t.Run("config block", func(t *testing.T) {
		page, err := script.VaultHTML(cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		s := string(page)
		for _, want := range []string{
			`<html lang="de">`,
			`<title>Offen-Einwilligung</title>`,
			`<link rel="stylesheet" href="/` + m["vault.css"] + `">`,
			`<link rel="stylesheet" href="/vault/banner.css?accountId=9b63c4d8-3a6c-4e8e-9a55-2f1d7c0e5b11">`,
			`<script defer src="/` + m["vault.js"] + `"></script>`,
			`<div id="offen-vault" aria-live="polite">`,
		} {
			if !strings.Contains(s, want) {
				t.Errorf("page lacks %s:\n%s", want, s)
			}
		}
		if strings.Contains(s, "<script>alert") {
			t.Fatalf("config escaped the script element:\n%s", s)
		}
		match := configBlock.FindStringSubmatch(s)
		if match == nil {
			t.Fatalf("no config block:\n%s", s)
		}
		var got script.VaultConfig
		if err := json.Unmarshal([]byte(match[1]), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Errorf("got %+v, want %+v", got, cfg)
		}
	})

	t.Run("no allowed origins is an empty list", func(t *testing.T) {
		c := cfg
		c.AllowedOrigins = nil
		page, err := script.VaultHTML(c, false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), `"allowedOrigins":[]`) {
			t.Errorf("got %s", page)
		}
	})

	t.Run("inert", func(t *testing.T) {
		c := cfg
		c.Strings = map[string]string{"vault.error.unknownAccount": "Dieses Offen-Konto existiert nicht."}
		page, err := script.VaultHTML(c, true)
		if err != nil {
			t.Fatal(err)
		}
		s := string(page)
		if configBlock.MatchString(s) || strings.Contains(s, "banner.css") {
			t.Errorf("inert page has a config block or banner styles:\n%s", s)
		}
		if !strings.Contains(s, "Dieses Offen-Konto existiert nicht.") || !strings.Contains(s, m["vault.js"]) {
			t.Errorf("inert page lacks message or script:\n%s", s)
		}
	})
}

func TestVaultStrings(t *testing.T) {
	got := script.VaultStrings(map[string]string{"vault.banner.allow": "I allow", "mail.greeting": "Hello", "vaulted": "x"})
	want := map[string]string{"vault.banner.allow": "I allow"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
