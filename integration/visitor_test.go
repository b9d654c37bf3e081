// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
)

// The visitor's path in a real browser (issue 4, PROTOCOL §10 P2 and P6):
// an operator's site on http://127.0.0.1:<port> embeds the script from the
// instance on http://localhost:<port>.

var sitePage = template.Must(template.New("site").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Shop {{.Marker}}</title>
</head>
<body>
<h1>A page of the operator's site</h1>
<script async src="{{.Offen}}/script.js" data-account-id="{{.Account}}"{{if .UseAPI}} data-use-api{{end}}></script>
</body>
</html>
`))

// site serves the operator's website: every path is a page embedding the
// script. The page's address carries markers, and it asks browsers to send
// its full URL as Referer (P2).
func site(t *testing.T, o *Offen, marker string, useAPI bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		var buf bytes.Buffer
		if err := sitePage.Execute(&buf, map[string]any{"Marker": marker, "Offen": o.URL, "Account": o.AccountID, "UseAPI": useAPI}); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Referrer-Policy", "unsafe-url")
		w.Write(buf.Bytes())
	})
}

func newMarker() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "mark" + hex.EncodeToString(b)
}

func cookieNamed(cookies []*network.Cookie, name string) *network.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// waitForBanner waits until the vault shows the banner and the script has
// made the iframe visible.
func waitForBanner(t *testing.T, b *Browser) {
	t.Helper()
	Until(t, "the consent banner", func() (bool, error) {
		var shown bool
		err := b.VaultEval(`!!document.querySelector('[data-testid=offen-allow]') && !!document.querySelector('[data-testid=offen-deny]')`, &shown)
		return shown, err
	})
	Until(t, "the vault iframe to be shown", func() (bool, error) {
		var visible bool
		err := b.Eval(`(() => { const f = document.querySelector('iframe[src*="/vault/"]'); return !!f && f.style.visibility === 'visible' && f.getBoundingClientRect().height > 0 })()`, &visible)
		return visible, err
	})
}

// apiRoutes returns the request-log lines of /api/ routes.
func apiRoutes(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "route=/api/") {
			out = append(out, l)
		}
	}
	return out
}

// TestVisitorAllows: the visitor clicks "I allow"; the page view is stored
// encrypted, and its marker appears nowhere in the database files or the
// server's output.
func TestVisitorAllows(t *testing.T) {
	t.Parallel()
	requireFrontends(t)
	b := NewBrowser(t)
	o := StartOffen(t, Options{})
	marker := newMarker()
	host := StartSite(t, site(t, o, marker, false))

	b.Navigate(host.URL + "/page-" + marker + "?q=" + marker + "#" + marker)
	waitForBanner(t, b)

	// Undecided: nothing asked of the API, nothing stored, no user cookie.
	if lines := apiRoutes(o.Log()); len(lines) != 0 {
		t.Errorf("API called before a decision:\n%s", strings.Join(lines, "\n"))
	}
	if n := o.Count("secrets") + o.Count("events"); n != 0 {
		t.Errorf("got %d rows before a decision", n)
	}
	if c := cookieNamed(b.Cookies(o.URL+"/api/"), "user"); c != nil {
		t.Errorf("user cookie before a decision: %+v", c)
	}

	b.ClickInVault("[data-testid=offen-allow]")
	Until(t, "the page view to be stored", func() (bool, error) { return o.Count("events") >= 1, nil })

	if n := o.Count("secrets"); n != 1 {
		t.Errorf("got %d secrets, want 1", n)
	}
	cookies := b.Cookies(o.URL + "/api/")
	user := cookieNamed(cookies, "user")
	switch {
	case user == nil:
		t.Error("no user cookie after allowing")
	case !user.HTTPOnly || user.Path != "/api" || !user.Secure || user.SameSite != network.CookieSameSiteNone:
		t.Errorf("got user cookie %+v, want HttpOnly; Path=/api; Secure; SameSite=None (localhost is a secure context)", user)
	}
	if c := cookieNamed(cookies, "consent"); c == nil || c.Value != "allow" {
		t.Errorf("got consent cookie %+v, want allow", c)
	}
	if !strings.Contains(o.Log(), "route=/api/events") {
		t.Fatalf("the server's output has no request log, so the marker check would prove nothing:\n%s", o.Log())
	}

	check := func(when string) {
		t.Helper()
		dump := o.DatabaseBytes()
		if !bytes.Contains(dump, []byte(o.AccountID)) {
			t.Fatalf("%s: the database files do not hold the account id, so the marker check would prove nothing", when)
		}
		if bytes.Contains(dump, []byte(marker)) {
			t.Errorf("%s: the marker is in the database files", when)
		}
		if strings.Contains(o.Log(), marker) {
			t.Errorf("%s: the marker is in the server's output:\n%s", when, o.Log())
		}
	}
	check("while serving")
	o.Stop() // checkpoints the WAL into the database file
	check("after stopping")
	if n := o.Count("events"); n < 1 {
		t.Errorf("got %d events after stopping", n)
	}
}

// TestVisitorDenies: the visitor clicks "I don't allow"; no exchange or
// event request reaches the server, nothing is stored, no user cookie is
// set (P6).
func TestVisitorDenies(t *testing.T) {
	t.Parallel()
	requireFrontends(t)
	b := NewBrowser(t)
	o := StartOffen(t, Options{})
	marker := newMarker()
	host := StartSite(t, site(t, o, marker, true))

	b.Navigate(host.URL + "/deny-" + marker)
	Until(t, "window.offen", func() (bool, error) {
		var ok bool
		err := b.Eval(`typeof window.offen === 'object' && typeof window.offen.pageview === 'function'`, &ok)
		return ok, err
	})
	// The page view waits for the decision; its promise resolves once the
	// vault has handled it.
	b.MustEval(`window.firstView = window.offen.pageview(); true`, nil)
	waitForBanner(t, b)
	b.ClickInVault("[data-testid=offen-deny]")
	var done bool
	b.MustEval(`window.firstView`, &done)
	if !done {
		t.Error("the held page view was not answered DONE after deny")
	}
	b.MustEval(`window.offen.pageview()`, &done)
	if !done {
		t.Error("a page view after deny was not answered DONE")
	}

	if lines := apiRoutes(o.Log()); len(lines) != 0 {
		t.Errorf("API called after deny:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.Contains(o.Log(), "route=/vault/assets/") {
		t.Errorf("the server's output has no request log of the vault:\n%s", o.Log())
	}
	for _, table := range []string{"secrets", "events", "tombstones"} {
		if n := o.Count(table); n != 0 {
			t.Errorf("got %d %s rows after deny", n, table)
		}
	}
	cookies := b.Cookies(o.URL + "/api/")
	if c := cookieNamed(cookies, "user"); c != nil {
		t.Errorf("user cookie after deny: %+v", c)
	}
	if c := cookieNamed(cookies, "consent"); c == nil || c.Value != "deny" {
		t.Errorf("got consent cookie %+v, want deny", c)
	}
	if strings.Contains(o.Log(), marker) {
		t.Errorf("the marker is in the server's output")
	}
}
