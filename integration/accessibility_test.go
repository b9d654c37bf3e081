// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
)

// languages are those of PRODUCT.md §6.
var languages = []string{"en", "de", "fr", "es", "pt", "vi"}

// journeyAccessibility: axe-core finds nothing on every page of the
// auditorium in every language, signed out and signed in (PRODUCT.md §6).
// The other journeys check the pages in their states (forms with errors,
// the recovery code, the banner, the dashboards) in English.
func journeyAccessibility(t *testing.T, d Database) {
	if d.Dialect != "sqlite3" {
		t.Skip("the pages do not depend on the database; checked on sqlite3")
	}
	o := withOperator(t, d)
	var b *Browser
	visit := func(path, lang, ready string) {
		t.Helper()
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		b.Navigate(o.URL + path + sep + "locale=" + lang)
		b.UntilJS(fmt.Sprintf(`document.documentElement.lang === %q && !!document.querySelector('main h1')`, lang), path+" in "+lang)
		b.WaitVisible(ready)
		b.Axe(path + " in " + lang)
	}
	// Signed in, in a fresh browser; then signed out in another one.
	b = NewBrowser(t)
	login(b, o, o.Email, o.Password)
	for _, lang := range languages {
		visit("/console/", lang, "[data-testid=accounts]")
		visit("/auditorium/?account="+o.AccountID, lang, ".dashboard[data-state=ready]")
	}
	b = NewBrowser(t)
	for _, lang := range languages {
		for _, p := range []string{"/", "/auditorium/", "/login/", "/forgot-password/", "/setup/", "/reset-password/", "/join/"} {
			visit(p, lang, "main h1")
		}
	}
}
