// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// vaultFrame is the URL prefix of the vault iframe of an instance.
func vaultFrame(o *Offen) string { return o.URL + "/vault/" }

// waitBanner waits until the vault shows the consent banner.
func waitBanner(b *Browser, o *Offen) {
	b.t.Helper()
	b.UntilInFrame(vaultFrame(o), `document.getElementById('offen-banner-allow') && document.getElementById('offen-banner-deny')`, "the consent banner")
	b.UntilJS(`(() => { const f = document.querySelector('iframe[data-testid=offen-vault]'); return f && f.getBoundingClientRect().height > 20 })()`, "the banner iframe to be shown")
}

// choose clicks "allow" or "deny" in the banner.
func choose(b *Browser, o *Offen, choice string) {
	b.t.Helper()
	b.FrameEval(vaultFrame(o), fmt.Sprintf(`document.getElementById('offen-banner-%s').click(), true`, choice), nil)
}

// waitVisitorEvents waits until the visitor feed, read in the vault frame
// with the visitor's cookie, has n events.
func waitVisitorEvents(b *Browser, o *Offen, n int) {
	b.t.Helper()
	b.UntilInFrame(vaultFrame(o), fmt.Sprintf(`fetch('/api/events', {credentials: 'include'}).then(r => r.json()).then(p => (p.events || []).length === %d)`, n),
		fmt.Sprintf("%d events in the visitor feed", n))
}

// decryptedVisitorEvents reads the visitor feed in the vault frame and
// decrypts it with the user secrets the vault keeps in IndexedDB, returning
// the plaintexts: proof that what the server holds is what was sent.
func decryptedVisitorEvents(b *Browser, o *Offen) []map[string]any {
	b.t.Helper()
	var out []map[string]any
	b.FrameEval(vaultFrame(o), `(async () => {
		const db = await new Promise((resolve, reject) => { const r = indexedDB.open('offen'); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error) })
		const secrets = await new Promise((resolve, reject) => { const r = db.transaction('secrets').objectStore('secrets').getAll(); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error) })
		db.close()
		const page = await fetch('/api/events', { credentials: 'include' }).then(r => r.json())
		const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))
		const out = []
		for (const e of page.events) {
			const rec = secrets.find((s) => s.keyId === e.keyId)
			if (!rec) throw new Error('no secret for key ' + e.keyId)
			const [label, nonce, sealed] = e.payload.split('.')
			if (label !== 'a1') throw new Error('payload is not a1')
			const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes(nonce), additionalData: new TextEncoder().encode('offen/v1/event|' + e.accountId) }, rec.key, bytes(sealed))
			out.push(JSON.parse(new TextDecoder().decode(plain)))
		}
		return out
	})()`, &out)
	return out
}

// offenCookies returns the names of the browser's cookies for the
// instance's API.
func offenCookies(b *Browser, o *Offen) map[string]string {
	b.t.Helper()
	out := map[string]string{}
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{o.URL + "/api/events", o.URL + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			out[c.Name] = c.Value
		}
		return nil
	}))
	return out
}

// journeyHostAllow: a visitor of the operator's site (another origin) sees
// the banner, allows, and their page views are stored and readable with
// their key only.
func journeyHostAllow(t *testing.T, d Database) {
	o := withOperator(t, d)
	site := startHostSite(t, o.URL, o.AccountID)
	b := NewBrowser(t)
	b.Navigate(site.Origin + "/welcome")
	waitBanner(b, o)
	b.Axe("the host page with the banner", vaultFrame(o))
	if cookies := offenCookies(b, o); len(cookies) > 0 {
		t.Errorf("cookies before consent: %v", cookies)
	}
	choose(b, o, "allow")
	waitVisitorEvents(b, o, 1)
	if c := offenCookies(b, o); c["consent"] != "allow" || c["user"] == "" {
		t.Errorf("after allow: got cookies %v, want consent=allow and a user id", c)
	}
	b.Click("#next")
	b.WaitPath("/next-page")
	waitVisitorEvents(b, o, 2)
	events := decryptedVisitorEvents(b, o)
	if len(events) != 2 {
		t.Fatalf("got %d events, want 2", len(events))
	}
	if events[0]["href"] != site.Origin+"/welcome" || events[1]["href"] != site.Origin+"/next-page" {
		t.Errorf("got hrefs %v and %v", events[0]["href"], events[1]["href"])
	}
	if events[0]["sessionId"] != events[1]["sessionId"] || events[0]["type"] != "PAGEVIEW" {
		t.Errorf("want two page views of one session, got %v", events)
	}
	// The banner does not come back once decided.
	var banner bool
	b.FrameEval(vaultFrame(o), `!!document.getElementById('offen-banner')`, &banner)
	if banner {
		t.Error("the banner is shown again after the decision")
	}
}

// journeyHostDeny: denying sends nothing and stores nothing.
func journeyHostDeny(t *testing.T, d Database) {
	o := withOperator(t, d)
	site := startHostSite(t, o.URL, o.AccountID)
	b := NewBrowser(t)
	b.Navigate(site.Origin + "/welcome")
	waitBanner(b, o)
	choose(b, o, "deny")
	b.UntilInFrame(vaultFrame(o), `document.cookie.includes('consent=deny')`, "the deny cookie")
	b.Click("#next")
	b.WaitPath("/next-page")
	b.UntilInFrame(vaultFrame(o), `document.readyState === 'complete' && !document.getElementById('offen-banner')`, "the vault without a banner")
	if c := offenCookies(b, o); c["user"] != "" {
		t.Errorf("a user cookie was set after deny: %v", c)
	}
	logs := o.Log()
	for _, route := range []string{"route=/api/exchange", "route=/api/events"} {
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, route) && strings.Contains(line, "method=POST") {
				t.Errorf("a request was sent after deny: %s", line)
			}
		}
	}
}

// journeyPrivacyScan: unique markers in page paths, queries, titles,
// canonical links and referrers (same-origin and cross-origin, with
// Referrer-Policy: unsafe-url) reach the encrypted events but appear nowhere
// in the database dump or the server's logs (PROTOCOL §10 P2).
func journeyPrivacyScan(t *testing.T, d Database) {
	o := withOperator(t, d)
	site := startHostSite(t, o.URL, o.AccountID)
	referring := startHostSite(t, o.URL, o.AccountID)
	b := NewBrowser(t)

	b.Navigate(site.Origin + "/start")
	waitBanner(b, o)
	choose(b, o, "allow")
	waitVisitorEvents(b, o, 1)

	markers := map[string]string{
		"path": marker("pathmk"), "query": marker("querymk"), "canonical": marker("canonmk"),
		"referrer path": marker("refpathmk"), "referrer query": marker("refquerymk"),
		"same-origin referrer": marker("sameref"),
	}
	// A cross-origin referrer: a page of another site links to the tracked page.
	target := site.Origin + "/p-" + markers["path"] + "/?q=" + markers["query"] + "&canonical=/c-" + markers["canonical"]
	b.Navigate(referring.Origin + "/link-" + markers["referrer path"] + "?to=" + url.QueryEscape(target) + "&from=" + markers["referrer query"])
	b.Click("#go")
	b.WaitPath("/p-" + markers["path"])
	waitVisitorEvents(b, o, 2)
	// A same-origin referrer with a marker in its query.
	b.Navigate(site.Origin + "/link?to=" + url.QueryEscape(site.Origin+"/second") + "&m=" + markers["same-origin referrer"])
	b.Click("#go")
	b.WaitPath("/second")
	waitVisitorEvents(b, o, 3)
	// A custom event (keys/PROTOCOL.md §12): its name and props travel only encrypted.
	markers["event name"], markers["event prop"] = marker("evnamemk"), marker("evpropmk")
	var sent bool
	b.evalJS(fmt.Sprintf(`offen.event(%q, {p: %q})`, markers["event name"], markers["event prop"]), &sent)
	if !sent {
		t.Fatal("offen.event resolved false")
	}
	waitVisitorEvents(b, o, 4)
	var ua string
	b.evalJS(`navigator.userAgent`, &ua)

	events := decryptedVisitorEvents(b, o)
	var plain bytes.Buffer
	for _, e := range events {
		fmt.Fprintf(&plain, "%v\n", e)
	}
	for what, m := range markers {
		if what == "referrer query" {
			// Cross-origin referrers lose their query (the vault removes
			// it), so this marker is gone even from the plaintext.
			if strings.Contains(plain.String(), m) {
				t.Errorf("the cross-origin referrer kept its query: %s", plain.String())
			}
			continue
		}
		if !strings.Contains(plain.String(), m) {
			t.Errorf("the %s marker is not in the decrypted events (the scan would prove nothing): %s", what, plain.String())
		}
	}

	dump := bytes.ToLower(o.Dump())
	logs := strings.ToLower(o.Log())
	for what, m := range markers {
		if bytes.Contains(dump, []byte(m)) {
			t.Errorf("the %s marker is in the %s database", what, o.Database.Dialect)
		}
		if strings.Contains(logs, m) {
			t.Errorf("the %s marker is in the server log", what)
		}
	}
	// The vault reduces the user agent to families: neither the string nor
	// the browser's build name is stored or logged.
	for _, ua := range []string{strings.ToLower(ua), "headlesschrome"} {
		if bytes.Contains(dump, []byte(ua)) || strings.Contains(logs, ua) {
			t.Errorf("the user agent %q is in the %s database or the log", ua, o.Database.Dialect)
		}
		if strings.Contains(strings.ToLower(plain.String()), ua) {
			t.Errorf("the user agent %q is in the decrypted events", ua)
		}
	}
	if bytes.Contains(dump, []byte(o.Email)) {
		t.Errorf("the operator's e-mail address is in the %s database", o.Database.Dialect)
	}
}

// journeyVisitorView: after page views on the operator's site the visitor
// opens /auditorium/ on the instance and sees their data, exports it (JSON
// and CSV of the decrypted events), deletes it, and finally opts out.
func journeyVisitorView(t *testing.T, d Database) {
	o := withOperator(t, d)
	site := startHostSite(t, o.URL, o.AccountID)
	b := NewBrowser(t)
	b.EnableDownloads()
	b.Navigate(site.Origin + "/first-page")
	waitBanner(b, o)
	choose(b, o, "allow")
	waitVisitorEvents(b, o, 1)
	b.Click("#next")
	b.WaitPath("/next-page")
	waitVisitorEvents(b, o, 2)

	b.Navigate(o.URL + "/auditorium/")
	b.WaitVisible(".dashboard.visitor[data-state=ready]")
	b.Axe("the visitor view")
	b.UntilJS(`(document.querySelector('[data-panel=pages]')?.textContent || '').includes('/next-page')`, "the visited pages in the visitor view")

	b.Click("[data-action=export-json]")
	exported := string(b.Download(".json"))
	if !strings.Contains(exported, site.Origin+"/first-page") || !strings.Contains(exported, site.Origin+"/next-page") {
		t.Errorf("the JSON export lacks the page views: %s", short(exported))
	}
	b.Click("[data-action=export-csv]")
	if csv := string(b.Download(".csv")); !strings.Contains(csv, site.Origin+"/next-page") {
		t.Errorf("the CSV export lacks the page views: %s", short(csv))
	}

	// Delete (asks once more), then the events are gone on the server.
	b.evalJS(`document.querySelectorAll('[data-panel=rights] > .button-danger')[0].click(), true`, nil)
	b.WaitVisible("[data-panel=rights] [role=group] .button-danger")
	b.Axe("the visitor view asking to confirm")
	b.Click("[data-panel=rights] [role=group] .button-danger")
	b.UntilJS(`fetch('/api/events', {credentials: 'include'}).then(r => r.json()).then(p => (p.events || []).length === 0)`, "the events to be deleted")
	if n := o.Count("events"); n != 0 {
		t.Errorf("got %d events after delete, want 0", n)
	}
	// Deleting keeps the consent: a new page view is recorded again.
	b.Navigate(site.Origin + "/after-delete")
	waitVisitorEvents(b, o, 1)

	b.Navigate(o.URL + "/auditorium/")
	b.WaitVisible(".dashboard.visitor[data-state=ready]")
	b.evalJS(`(() => { const bs = document.querySelectorAll('[data-panel=rights] > .button-danger'); bs[bs.length - 1].click(); return true })()`, nil)
	b.Click("[data-panel=rights] [role=group] .button-danger")
	b.UntilJS(`document.cookie.includes('consent=deny') && !!document.querySelector('[data-action=opt-in]')`, "the opt-out")
	b.UntilJS(`fetch('/api/events', {credentials: 'include'}).then(r => r.json()).then(p => (p.events || []).length === 0)`, "the events to be gone")
	// The purge's answer clears the user cookie; it may arrive a moment
	// after the rows are gone.
	Until(t, "the user cookie to be cleared by the opt-out", func() (bool, error) {
		return offenCookies(b, o)["user"] == "", nil
	})
	for _, table := range []string{"events", "secrets"} {
		if n := o.Count(table); n != 0 {
			t.Errorf("got %d %s rows after the opt-out, want 0", n, table)
		}
	}
	b.Navigate(site.Origin + "/after-opt-out")
	b.UntilInFrame(vaultFrame(o), `document.readyState === 'complete' && !document.getElementById('offen-banner')`, "the vault without a banner")
	if n := o.Count("events"); n != 0 {
		t.Errorf("got %d events after the opt-out and another page view", n)
	}
}
