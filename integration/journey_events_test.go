// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// eventNames are the words of the events journey, each a marker: event
// names, a property value, paths of the link targets, goal and funnel names.
type eventNames struct {
	signup, plan, play, video, file, out, goal, funnel string
}

// eventSite is an operator's site with everything beyond page views:
// tagged button, outbound and download links, opt-in hash routing. /missing
// answers 404. The same server answers as 127.0.0.1 (another host: the
// outbound link) slowly, as a site far away would, which the click must not
// wait for.
type eventSite struct {
	Origin, Elsewhere string
}

func startEventSite(t *testing.T, offenURL, accountID string, n eventNames) *eventSite {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	s := &eventSite{Origin: "http://localhost:" + port, Elsewhere: "http://127.0.0.1:" + port}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case strings.HasPrefix(r.Host, "127.0.0.1"):
			time.Sleep(300 * time.Millisecond)
			fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Elsewhere</title></head><body><main><h1>Another site</h1></main></body></html>`)
			return
		case strings.HasPrefix(r.URL.Path, "/files/"):
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", "attachment")
			fmt.Fprint(w, "%PDF-1.4\n")
			return
		case r.URL.Path == "/favicon.ico":
			http.NotFound(w, r)
			return
		case r.URL.Path == "/missing":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>`+
			`<script async src="%s/script.js" data-account-id="%s" data-outbound-links data-file-downloads data-hash-routing></script></head>`+
			`<body><main><h1>Shop</h1>`+
			`<button id="signup" type="button" data-offen-event="%s" data-offen-prop-plan="%s">Sign up</button> `+
			`<a id="download" href="/files/%s.pdf">Guide</a> <a id="out" href="%s/%s">Elsewhere</a></main></body></html>`,
			offenURL, accountID, html.EscapeString(n.signup), html.EscapeString(n.plan), n.file, s.Elsewhere, n.out)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// panelRows reads every table row of the dashboard's panels and funnels as
// cell texts: {"events": [["name", "2", "1", "100%"], ...], "funnel:Buy": ...}.
func panelRows(b *Browser) map[string][][]string {
	b.t.Helper()
	var out map[string][][]string
	b.evalJS(`(() => {
		const text = (el) => el.textContent.replace(/\s+/g, ' ').trim()
		const rows = (el) => [...el.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(text))
		const out = {}
		for (const p of document.querySelectorAll('[data-panel]')) out[p.getAttribute('data-panel')] = rows(p)
		for (const f of document.querySelectorAll('[data-funnel]')) out['funnel:' + f.getAttribute('data-funnel')] = rows(f)
		for (const t of document.querySelectorAll('[data-props]')) out['props:' + t.getAttribute('data-props')] = rows(t)
		return out
	})()`, &out)
	return out
}

// journeyEvents: a visitor clicks a tagged button, the page calls
// offen.event with props, follows pushState and hash routes (a replaceState
// of the query alone is no page view), downloads a file, follows an outbound
// link and meets two pages not found (a 404 answer and a marked route). The
// admin defines goals and funnels in the console; the dashboard then shows
// exactly the counts of each event, property, goal, funnel step, browser and
// device. Nothing of it, nor the user agent string, is in the database or
// the log.
func journeyEvents(t *testing.T, d Database) {
	o := withOperator(t, d)
	n := eventNames{
		signup: marker("signupmk"), plan: marker("planmk"), play: marker("playmk"), video: marker("videomk"),
		file: marker("filemk"), out: marker("outmk"), goal: marker("goalmk"), funnel: marker("funnelmk"),
	}
	site := startEventSite(t, o.URL, o.AccountID, n)
	b := NewBrowser(t)
	b.EnableDownloads()

	b.Navigate(site.Origin + "/app")
	waitBanner(b, o)
	choose(b, o, "allow")
	waitVisitorEvents(b, o, 1)
	b.Click("#signup")
	waitVisitorEvents(b, o, 2)
	var sent bool
	b.evalJS(fmt.Sprintf(`offen.event(%q, {video: %q, seconds: 12, dropped: {}})`, n.play, n.video), &sent)
	if !sent {
		t.Fatal("offen.event resolved false")
	}
	waitVisitorEvents(b, o, 3)
	b.evalJS(`history.pushState({}, '', '/app/pricing'), true`, nil)
	waitVisitorEvents(b, o, 4)
	b.evalJS(`history.replaceState({}, '', '/app/pricing?tab=2'), location.hash = '#/inbox', true`, nil)
	waitVisitorEvents(b, o, 5)
	b.Click("#download")
	b.Download(n.file + ".pdf")
	waitVisitorEvents(b, o, 6)
	b.Click("#signup")
	waitVisitorEvents(b, o, 7)
	b.Click("#out")
	b.WaitPath("/" + n.out)
	// back on the site: a 404 answer, then a route the page marks as not found
	b.Navigate(site.Origin + "/missing")
	waitVisitorEvents(b, o, 9) // the outbound click (sent from the outbox if the navigation came first) and /missing
	b.evalJS(`document.body.insertAdjacentHTML('beforeend', '<p data-offen-not-found>Gone</p>'), history.pushState({}, '', '/app/gone'), true`, nil)
	waitVisitorEvents(b, o, 10)

	var ua string
	var width int
	b.evalJS(`navigator.userAgent`, &ua)
	b.evalJS(`screen.width`, &width)
	events := decryptedVisitorEvents(b, o)
	types := map[string]int{}
	sessions := map[any]bool{}
	for _, e := range events {
		types[fmt.Sprint(e["type"])]++
		sessions[e["sessionId"]] = true
		if e["browser"] != "Chrome" || e["os"] != "Linux" || e["device"] != "desktop" {
			t.Errorf("device fields of %v: want Chrome, Linux, desktop", e)
		}
		for k, v := range e {
			if s, ok := v.(string); ok && (strings.Contains(s, "Mozilla/") || strings.Contains(s, "HeadlessChrome") || strings.Contains(ua, s) && len(s) > 20) {
				t.Errorf("event field %s holds the user agent: %q", k, s)
			}
		}
	}
	if want := map[string]int{"PAGEVIEW": 5, "EVENT": 3, "DOWNLOAD": 1, "OUTBOUND": 1}; !reflect.DeepEqual(types, want) {
		t.Fatalf("got event types %v, want %v: %v", types, want, events)
	}

	login(b, o, o.Email, o.Password)
	b.Navigate(o.URL + "/console/accounts/" + o.AccountID + "/")
	b.Fill("#definitions-goals", n.goal+" = "+n.signup+"\nPricing = /app/pricing")
	b.Fill("#definitions-funnels", n.funnel+" = /app > /app/pricing > "+n.signup+"\nLate = /missing > "+n.signup)
	b.Submit("#definitions-goals")
	b.WaitVisible("[data-testid=goals] [role=status]")

	b.Navigate(o.URL + "/auditorium/?account=" + o.AccountID)
	b.WaitVisible(".dashboard[data-state=ready]")
	b.Axe("the dashboard with events, goals and funnels")
	got := panelRows(b)
	screen := "Very large (1440 px and more)"
	switch {
	case width < 576:
		screen = "Small (under 576 px)"
	case width < 992:
		screen = "Medium (576 to 991 px)"
	case width < 1440:
		screen = "Large (992 to 1439 px)"
	}
	s := fmt.Sprint(len(sessions))
	want := map[string][][]string{
		"events":    {{n.signup, "2", "1", "100%"}, {n.play, "1", "1", "100%"}},
		"goals":     {{n.goal, "1", "2", "100%"}, {"Pricing", "1", "1", "100%"}},
		"downloads": {{site.Origin + "/files/" + n.file + ".pdf", "1", "1", "100%"}},
		"outbound":  {{site.Elsewhere + "/" + n.out, "1", "1", "100%"}},
		// pages of a one-host account read as their paths (link targets stay whole)
		"notFound": {{"/app/gone", "1"}, {"/missing", "1"}},
		"browsers": {{"Chrome", s}},
		"oses":     {{"Linux", s}},
		"devices":  {{"Desktop", s}},
		"screens":  {{screen, s}},
		// the first Signup came before /app/pricing, the second after it
		"funnel:" + n.funnel: {{"1. /app", "1", "0", "100%"}, {"2. /app/pricing", "1", "0", "100%"}, {"3. " + n.signup, "1", "0", "100%"}},
		"funnel:Late":        {{"1. /missing", "1", "0", "100%"}, {"2. " + n.signup, "0", "1", "0%"}},
	}
	for panel, rows := range want {
		if !reflect.DeepEqual(got[panel], rows) {
			t.Errorf("%s: the dashboard shows %v, want %v", panel, got[panel], rows)
		}
	}
	// the hash route is a page of its own; durations depend on timing, so only the counts
	var pages []string
	for _, r := range got["pages"] {
		pages = append(pages, r[0]+" "+r[1])
	}
	wantPages := []string{"/app 1", "/app/gone 1", "/app/pricing 1", "/app/pricing#/inbox 1", "/missing 1"}
	if strings.Join(pages, ",") != strings.Join(wantPages, ",") {
		t.Errorf("pages: the dashboard shows %v, want %v", pages, wantPages)
	}

	// a click on the event: its props, and every other panel filtered to its sessions
	b.Click(`[data-panel=events] tr[data-key="` + n.signup + `"] th button`)
	b.WaitVisible(`[data-props="` + n.signup + `"]`)
	b.WaitVisible(".dashboard[data-state=ready]")
	if rows := panelRows(b)["props:"+n.signup]; !reflect.DeepEqual(rows, [][]string{{"plan", n.plan, "2", "1"}}) {
		t.Errorf("props of %s: the dashboard shows %v", n.signup, rows)
	}
	b.Click(`.chip[data-filter=event] button`)
	b.Click(`[data-panel=events] tr[data-key="` + n.play + `"] th button`)
	b.WaitVisible(`[data-props="` + n.play + `"]`)
	if rows := panelRows(b)["props:"+n.play]; !reflect.DeepEqual(rows, [][]string{{"seconds", "12", "1", "1"}, {"video", n.video, "1", "1"}}) {
		t.Errorf("props of %s: the dashboard shows %v", n.play, rows)
	}

	dump := bytes.ToLower(o.Dump())
	logs := strings.ToLower(o.Log())
	words := map[string]string{
		"event name": n.signup, "second event name": n.play, "tagged prop": n.plan, "prop": n.video, "download path": n.file,
		"outbound path": n.out, "goal name": n.goal, "funnel name": n.funnel, "user agent": strings.ToLower(ua),
		"browser build": "headlesschrome",
	}
	for what, w := range words {
		if bytes.Contains(dump, []byte(w)) {
			t.Errorf("the %s is in the %s database", what, o.Database.Dialect)
		}
		if strings.Contains(logs, w) {
			t.Errorf("the %s is in the server log", what)
		}
	}
	if raw, _ := json.Marshal(events); !bytes.Contains(raw, []byte(n.video)) || !bytes.Contains(raw, []byte(n.out)) {
		t.Errorf("the decrypted events lack the markers (the scan would prove nothing): %s", raw)
	}
}
