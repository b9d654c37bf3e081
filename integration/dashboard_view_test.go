// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// journeyDashboardView: the dashboard's view lives in the address. Range,
// custom dates and two filters survive a reload, back and forward and a
// language switch, and at each step every panel shows the figures computed
// here from the plaintext sent; no table clips at 1366, 390 and 360 px. With
// OFFEN_UPDATE_SCREENSHOTS=1 it writes the screenshots of the docs
// (auditorium/docs/dashboard-{1366,390}.png).
func journeyDashboardView(t *testing.T, d Database) {
	if d.Dialect != "sqlite3" {
		t.Skip("the dashboard's view does not depend on the database; checked on sqlite3")
	}
	o := withOperator(t, d)
	now := time.Now()
	sendPlan(t, o, now)
	b := NewBrowser(t)
	signIn(b, o, o.Email, o.Password)
	b.WaitVisible(".dashboard[data-state=ready]")
	// the countries map is fetched once there are countries to show
	b.WaitVisible(`[data-panel=countries] svg.world-map path[data-country=DE].shade-5`)

	for _, width := range []int64{1366, 390, 360} {
		b.do(chromedp.EmulateViewport(width, 900))
		b.UntilJS(fmt.Sprintf(`innerWidth === %d`, width), "the viewport")
		noClipping(b, fmt.Sprintf("%d px", width))
		if width != 360 {
			screenshot(b, fmt.Sprintf("dashboard-%d.png", width))
		}
	}
	b.do(chromedp.EmulateViewport(1366, 900))

	// the chart's tooltip follows the pointer and the arrow keys
	var bar struct{ X, Y float64 }
	b.evalJS(`(() => { const r = [...document.querySelectorAll('.chart .bar-views')].at(-1).getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 } })()`, &bar)
	b.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, bar.X, bar.Y))
	b.UntilJS(`!!document.querySelector('.chart .chart-tip') && /page views/.test(document.querySelector('#chart-readout').textContent)`, "the chart's tooltip under the pointer")
	b.evalJS(`document.querySelector('.chart-wrap').focus(), true`, nil)
	b.do(chromedp.KeyEvent(kb.ArrowLeft))
	var readout string
	b.evalJS(`document.querySelector('#chart-readout').textContent`, &readout)
	var label string
	b.evalJS(`[...document.querySelectorAll('.chart-wrap + .chart-readout + details tbody th')].at(-2).textContent`, &label)
	if !strings.HasPrefix(readout, label+":") {
		t.Errorf("after ArrowLeft the chart reads %q, want the period before the last (%s)", readout, label)
	}

	// exports: a table's CSV is the table shown; the events of the range
	// are decrypted in the browser
	b.EnableDownloads()
	b.Click(`[data-export=pages]`)
	var shown string
	b.evalJS(`[...document.querySelectorAll('[data-panel=pages] tr')].map(tr => [...tr.children].map(c => c.textContent.trim()).join(',')).join('\r\n') + '\r\n'`, &shown)
	if got := string(b.Download("-pages-" + rangeStamp(b) + ".csv")); got != shown {
		t.Errorf("the CSV of top pages is\n%q\nthe table shows\n%q", got, shown)
	}
	b.Click(`[data-action=export-events-json]`)
	var events []map[string]any
	if err := json.Unmarshal(b.Download("-events-"+rangeStamp(b)+".json"), &events); err != nil {
		t.Fatalf("the events export: %v", err)
	}
	if want := expect(now, time.UnixMilli(int64(weekStart(b)))).figures["pageViews"]; fmt.Sprint(len(events)) != want {
		t.Errorf("the events export has %d events, want %s", len(events), want)
	}
	for _, e := range events {
		if h, _ := e["href"].(string); !strings.HasPrefix(h, planSite+"/") {
			t.Errorf("an exported event has href %v", e["href"])
		}
	}

	// 30 days, then custom dates: they start from the range shown
	selectOption(b, "#range-select", "30d")
	waitView(b, "range=30d")
	selectOption(b, "#range-select", "custom")
	var first, last string
	b.evalJS(`(() => { const d = new Date(); d.setHours(0, 0, 0, 0); d.setDate(d.getDate() - 29); return d.toLocaleDateString('sv') })()`, &first)
	b.evalJS(`new Date().toLocaleDateString('sv')`, &last)
	waitView(b, "range=custom", "from="+first, "to="+last)

	// reversed dates: the figures stay, dimmed and marked stale
	b.Fill("#range-from", time.Now().AddDate(0, 0, 2).Format("2006-01-02"))
	b.WaitVisible(".dashboard[data-state=invalid] .metrics.stale")
	b.WaitVisible("[data-stale-notice]")

	// the last three days, then two filters
	var fromMs float64
	b.evalJS(`(() => { const d = new Date(); d.setHours(0, 0, 0, 0); d.setDate(d.getDate() - 3); return d.getTime() })()`, &fromMs)
	from := time.UnixMilli(int64(fromMs))
	b.Fill("#range-from", from.Format("2006-01-02"))
	waitView(b, "from="+from.Format("2006-01-02"))
	var toMs float64
	b.evalJS(`(() => { const d = new Date(); d.setHours(0, 0, 0, 0); d.setDate(d.getDate() + 1); return d.getTime() })()`, &toMs)
	to := time.UnixMilli(int64(toMs))
	compareDashboard(t, "custom dates", dashboardShows(b), expectView(now, from, to, viewFilters{}))

	b.Click(`[data-panel=countries] tr[data-key="DE"] .row-button`)
	waitView(b, "country=DE")
	countryOnly := expectView(now, from, to, viewFilters{country: "DE"})
	compareDashboard(t, "country filter", dashboardShows(b), countryOnly)
	b.Click(`[data-panel=pages] tr[data-key="` + planSite + `/about"] .row-button`)
	waitView(b, "page="+url.QueryEscape(planSite+"/about"))
	both := expectView(now, from, to, viewFilters{country: "DE", page: "/about"})
	b.UntilJS(`!!document.querySelector('.chip[data-filter=page]')`, "the page filter")
	compareDashboard(t, "two filters", dashboardShows(b), both)
	for _, p := range []string{"realtime", "retention"} {
		b.WaitVisible(fmt.Sprintf(`[data-panel=%s] .panel-note`, p))
	}
	filtered := currentURL(b)

	b.Navigate(filtered)
	b.WaitVisible(".dashboard[data-state=ready]")
	if got := currentURL(b); got != filtered {
		t.Errorf("after a reload the address is %s, want %s", got, filtered)
	}
	compareDashboard(t, "reload", dashboardShows(b), both)
	var inputs []string
	b.evalJS(`['#range-select', '#range-from', '#range-to'].map(s => document.querySelector(s).value)`, &inputs)
	if want := []string{"custom", from.Format("2006-01-02"), last}; fmt.Sprint(inputs) != fmt.Sprint(want) {
		t.Errorf("after a reload the toolbar shows %v, want %v", inputs, want)
	}

	b.evalJS(`history.back(), true`, nil)
	b.UntilJS(`!new URLSearchParams(location.search).has('page') && !!document.querySelector('.dashboard[data-state=ready]')`, "the view before the page filter")
	compareDashboard(t, "back", dashboardShows(b), countryOnly)
	b.evalJS(`history.forward(), true`, nil)
	b.UntilJS(`new URLSearchParams(location.search).has('page') && !!document.querySelector('.dashboard[data-state=ready]')`, "the view with both filters")
	compareDashboard(t, "forward", dashboardShows(b), both)

	// a language switch keeps the view (the figures compared are those
	// that read the same in German)
	b.Click(`.languages a[lang=de]`)
	b.UntilJS(`document.documentElement.lang === 'de' && !!document.querySelector('.dashboard[data-state=ready]')`, "the German dashboard")
	gotDE := dashboardShows(b)
	for _, k := range []string{"pageViews", "uniqueVisitors", "uniqueSessions"} {
		if gotDE.figures[k] != both.figures[k] {
			t.Errorf("in German, figure %s reads %q, want %q", k, gotDE.figures[k], both.figures[k])
		}
	}
	for _, q := range []string{"country=DE", "range=custom", "from=" + from.Format("2006-01-02"), "account=" + o.AccountID} {
		if !strings.Contains(currentURL(b), q) {
			t.Errorf("after the language switch the address %s lacks %s", currentURL(b), q)
		}
	}
	b.Axe("the filtered dashboard in German")
	b.do(chromedp.EmulateViewport(390, 900))
	noClipping(b, "390 px, filtered, in German")
	for _, lang := range []string{"fr", "es", "pt", "vi"} {
		b.Click(`.languages a[lang=` + lang + `]`)
		b.UntilJS(fmt.Sprintf(`document.documentElement.lang === %q && !!document.querySelector('.dashboard[data-state=ready]')`, lang), "the dashboard in "+lang)
		noClipping(b, "390 px, filtered, in "+lang)
	}
}

// rangeStamp is the range shown as the export file names have it.
func rangeStamp(b *Browser) string {
	b.t.Helper()
	var s string
	b.evalJS(`(() => { const d = new Date(); d.setHours(0, 0, 0, 0); const last = d.toLocaleDateString('sv'); d.setDate(d.getDate() - 6); return d.toLocaleDateString('sv') + '_' + last })()`, &s)
	return s
}

// weekStart is the start of the default range (7 days) in ms.
func weekStart(b *Browser) float64 {
	b.t.Helper()
	var ms float64
	b.evalJS(`(() => { const d = new Date(); d.setHours(0, 0, 0, 0); d.setDate(d.getDate() - 6); return d.getTime() })()`, &ms)
	return ms
}

// selectOption picks value in the select sel as a user would.
func selectOption(b *Browser, sel, value string) {
	b.t.Helper()
	b.WaitVisible(sel)
	sj, _ := json.Marshal(sel)
	vj, _ := json.Marshal(value)
	b.evalJS(fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.value = %s; s.dispatchEvent(new Event('change', { bubbles: true })); return true })()`, sj, vj), nil)
}

// waitView waits until the address holds every part and the dashboard is ready.
func waitView(b *Browser, parts ...string) {
	b.t.Helper()
	pj, _ := json.Marshal(parts)
	b.UntilJS(fmt.Sprintf(`%s.every(p => location.search.includes(p)) && !!document.querySelector('.dashboard[data-state=ready]')`, pj), "the view "+strings.Join(parts, "&"))
}

func currentURL(b *Browser) string {
	b.t.Helper()
	var u string
	b.evalJS(`location.href`, &u)
	return u
}

// noClipping opens every table (the chart's table equivalent too) and fails
// for each table wider than its panel, each panel that scrolls sideways and
// a page wider than the viewport.
func noClipping(b *Browser, what string) {
	b.t.Helper()
	var problems []string
	b.evalJS(`(async () => {
		for (const d of document.querySelectorAll('.dashboard details')) d.open = true
		await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))
		const out = []
		const tables = document.querySelectorAll('.dashboard table')
		if (tables.length < 8) out.push('only ' + tables.length + ' tables')
		for (const table of tables) {
			const panel = table.closest('.panel')
			const name = panel.getAttribute('data-panel')
			const box = panel.getBoundingClientRect()
			const style = getComputedStyle(panel)
			const right = box.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight) + 0.5
			const t = table.getBoundingClientRect()
			if (t.right > right || table.scrollWidth > table.clientWidth + 0.5) out.push(name + ': table ' + Math.round(t.width) + ' px in a panel of ' + Math.round(right - box.left) + ' px')
		}
		for (const panel of document.querySelectorAll('.dashboard .panel')) {
			if (panel.scrollWidth > panel.clientWidth + 0.5) out.push(panel.getAttribute('data-panel') + ': scrolls sideways (' + panel.scrollWidth + ' > ' + panel.clientWidth + ')')
		}
		if (document.documentElement.scrollWidth > innerWidth) out.push('page ' + document.documentElement.scrollWidth + ' px wide at ' + innerWidth)
		for (const d of document.querySelectorAll('.dashboard details')) d.open = false
		return out
	})()`, &problems)
	for _, p := range problems {
		b.t.Errorf("at %s: %s", what, p)
	}
}

// screenshot takes a full-page screenshot; with OFFEN_UPDATE_SCREENSHOTS=1
// it replaces the one in auditorium/docs/.
func screenshot(b *Browser, name string) {
	b.t.Helper()
	var png []byte
	if err := b.tryDo(chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
		png, err = chromedp.FullScreenshot(100)(ctx, t)
		return err
	})); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) < 1000 {
		b.t.Errorf("screenshot %s: %d bytes", name, len(png))
	}
	if os.Getenv("OFFEN_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	path := filepath.Join("..", "auditorium", "docs", name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("write %s: %v", path, err)
	}
}
