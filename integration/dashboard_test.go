// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
)

// The dashboard journey sends a planned set of page views through the
// visitor API as the vault would (keys is the Go side of the client
// cryptography: a test client needs it as a browser needs keys/js), then
// compares every figure and table of the dashboard with values computed
// here, independently, from the plaintext (PRODUCT.md §5 definitions).

const planSite = "https://www.example.com"

type planEvent struct {
	after    time.Duration // after the session's start
	path     string        // path and query
	referrer string
	pageload int // 0: null
}

type planSession struct {
	ago    time.Duration // session start before now
	events []planEvent
}

type planVisitor struct {
	mobile   bool
	geo      string // "" : null
	sessions []planSession
}

// plan: six visitors; one came back after 10 days (outside the 7-day
// range: a returning visitor), one is active right now (real time).
var plan = []planVisitor{
	{geo: "DE", sessions: []planSession{
		{ago: 48 * time.Hour, events: []planEvent{
			{0, "/", "https://www.google.com/", 400},
			{30 * time.Second, "/pricing/", planSite + "/", 600},
			{2 * time.Minute, "/about", planSite + "/pricing/", 500},
		}},
		{ago: 26 * time.Hour, events: []planEvent{
			{0, "/blog/post?utm_source=newsletter&utm_campaign=launch", "", 300},
		}},
	}},
	{mobile: true, geo: "FR", sessions: []planSession{
		{ago: 36 * time.Hour, events: []planEvent{
			{0, "/", "https://duckduckgo.com/", 900},
			{time.Minute, "/pricing", planSite + "/", 1100},
		}},
	}},
	{geo: "US", sessions: []planSession{
		{ago: 10 * 24 * time.Hour, events: []planEvent{{0, "/", "", 650}}},
		{ago: 20 * time.Hour, events: []planEvent{
			{0, "/docs/", "https://news.ycombinator.com/", 700},
			{45 * time.Second, "/docs/start", planSite + "/docs/", 800},
			{time.Minute, "/pricing/", planSite + "/docs/start", 0},
		}},
	}},
	{mobile: true, sessions: []planSession{
		{ago: 3 * time.Hour, events: []planEvent{
			{0, "/?utm_source=mastodon&utm_campaign=launch", "https://mastodon.social/@offen", 1200},
		}},
	}},
	{geo: "DE", sessions: []planSession{
		{ago: 5 * time.Hour, events: []planEvent{
			{0, "/about/", "https://blog.example.org/post", 350},
			{2*time.Minute + 5*time.Second, "/", planSite + "/about/", 450},
		}},
	}},
	{geo: "GB", sessions: []planSession{
		{ago: 2 * time.Minute, events: []planEvent{{0, "/pricing/", "", 500}}},
	}},
}

// sendPlan exchanges a secret for every visitor of the plan and sends its
// events, encrypted, through the visitor API (no browser, like a script:
// no Origin header). It returns each visitor's user cookie.
func sendPlan(t *testing.T, o *Offen, now time.Time) []*http.Cookie {
	t.Helper()
	users := make([]*http.Cookie, len(plan))
	var key struct{ PublicKey string }
	getJSON(t, o.URL+"/api/exchange?accountId="+o.AccountID, &key)
	pub, err := keys.ParsePublicKey(key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range plan {
		secret := keys.NewKey()
		wrapped, err := keys.WrapUserSecret(pub, o.AccountID, secret)
		if err != nil {
			t.Fatal(err)
		}
		keyID := keys.NewKeyID()
		consent := &http.Cookie{Name: "consent", Value: "allow"}
		res := postJSON(t, o.URL+"/api/exchange", map[string]string{"accountId": o.AccountID, "keyId": keyID, "wrappedSecret": wrapped}, consent)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("exchange for visitor %d: got %d", i, res.StatusCode)
		}
		var user *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "user" {
				user = c
			}
		}
		if user == nil {
			t.Fatalf("exchange for visitor %d set no user cookie", i)
		}
		users[i] = user
		aead, err := keys.NewCipher(secret)
		if err != nil {
			t.Fatal(err)
		}
		var payloads []string
		for _, s := range v.sessions {
			sessionID := keys.NewSessionID()
			for _, e := range s.events {
				p := map[string]any{
					"v": 1, "type": "PAGEVIEW", "href": planSite + e.path, "referrer": e.referrer,
					"timestamp": now.Add(-s.ago).Add(e.after).UTC().Format("2006-01-02T15:04:05.000Z"),
					"sessionId": sessionID, "isMobile": v.mobile, "pageload": nil, "geo": nil,
				}
				if e.pageload > 0 {
					p["pageload"] = e.pageload
				}
				if v.geo != "" {
					p["geo"] = v.geo
				}
				plain, _ := json.Marshal(p)
				payloads = append(payloads, keys.EncryptEvent(aead, o.AccountID, plain))
			}
		}
		res = postJSON(t, o.URL+"/api/events", map[string]any{"accountId": o.AccountID, "keyId": keyID, "payloads": payloads},
			&http.Cookie{Name: "consent", Value: "allow"}, &http.Cookie{Name: "user", Value: user.Value})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("events of visitor %d: got %d", i, res.StatusCode)
		}
	}
	return users
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func postJSON(t *testing.T, u string, body any, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// expected is what the dashboard must show for the plan over [from, now].
type expected struct {
	figures map[string]string
	tables  map[string]map[string]string // panel -> row label -> first value column
}

// viewFilters are filters of the dashboard: a country code and a page path
// (as the dashboard shows it on a one-host account); empty means none.
type viewFilters struct{ country, page string }

// expect computes the figures of PRODUCT.md §5 from the plan, formatted as
// the English dashboard formats them.
func expect(now, from time.Time) expected {
	return expectView(now, from, now.Add(time.Hour), viewFilters{})
}

// expectView computes the figures of the range [from, to) under filters, as
// src/metrics/README.md defines them: the country filter selects sessions,
// the page filter events (and the sessions that have one); event figures
// count selected events, session figures selected sessions with all their
// in-range events. Real time ignores range and filters.
func expectView(now, from, to time.Time, f viewFilters) expected {
	return expectViewOf(plan, now, from, to, f)
}

// expectViewOf is expectView over the visitors vs only.
func expectViewOf(vs []planVisitor, now, from, to time.Time, f viewFilters) expected {
	type ev struct {
		t        time.Time
		path     string
		query    url.Values
		referrer string
		pageload int
		mobile   bool
	}
	var (
		events, sessionEvents, mobile, loads, loadSum, sessions, bounces, visitors, returning int
		gaps, lengths                                                                         []float64
		pages, referrers, campaigns, sources, countries, landing, exit                        = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
		realtime                                                                              int
	)
	// the page key's path (origin + path without a trailing slash, PRODUCT
	// §5): on a one-host account the dashboard shows the path alone
	key := func(p string) string {
		u, _ := url.Parse(planSite + p)
		path := strings.TrimRight(u.Path, "/")
		if path == "" {
			path = "/"
		}
		return path
	}
	grouped := map[string]string{"google.com": "Google", "duckduckgo.com": "DuckDuckGo", "news.ycombinator.com": "Hacker News", "mastodon.social": "Mastodon"}
	for _, v := range vs {
		var earliest, latest time.Time
		selectedVisitor := false
		for _, s := range v.sessions {
			var list []ev
			for _, e := range s.events {
				at := now.Add(-s.ago).Add(e.after)
				if earliest.IsZero() || at.Before(earliest) {
					earliest = at
				}
				if at.After(latest) {
					latest = at
				}
				u, _ := url.Parse(planSite + e.path)
				if at.Before(from) || !at.Before(to) {
					continue
				}
				list = append(list, ev{at, e.path, u.Query(), e.referrer, e.pageload, v.mobile})
			}
			if len(list) == 0 || (f.country != "" && v.geo != f.country) {
				continue
			}
			selected := make([]bool, len(list))
			any := false
			for i, e := range list {
				selected[i] = f.page == "" || key(e.path) == f.page
				any = any || selected[i]
			}
			if !any {
				continue
			}
			selectedVisitor = true
			sessions++
			sessionEvents += len(list)
			if len(list) == 1 {
				bounces++
			} else {
				lengths = append(lengths, float64(list[len(list)-1].t.Sub(list[0].t).Milliseconds()))
				exit[key(list[len(list)-1].path)]++
			}
			for i, e := range list {
				if !selected[i] {
					continue
				}
				events++
				pages[key(e.path)]++
				if e.mobile {
					mobile++
				}
				if e.pageload > 0 {
					loads++
					loadSum += e.pageload
				}
				if i+1 < len(list) {
					gaps = append(gaps, float64(list[i+1].t.Sub(e.t).Milliseconds()))
				}
			}
			first := list[0]
			landing[key(first.path)]++
			if first.referrer != "" {
				r, _ := url.Parse(first.referrer)
				host := strings.TrimPrefix(r.Hostname(), "www.")
				if host != "example.com" {
					label := host
					if g, ok := grouped[host]; ok {
						label = g
					}
					referrers[label]++
				}
			}
			for _, e := range list {
				if c := e.query.Get("utm_campaign"); c != "" {
					campaigns[c]++
					break
				}
			}
			for _, e := range list {
				if c := e.query.Get("utm_source"); c != "" {
					sources[c]++
					break
				}
			}
			if v.geo != "" {
				countries[countryName[v.geo]]++
			}
		}
		if selectedVisitor {
			visitors++
			if earliest.Before(from) {
				returning++
			}
		}
		if now.Sub(latest) <= 15*time.Minute {
			realtime++
		}
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	ratio := func(a, b int) string { return percent(float64(a) / float64(b)) }
	tables := map[string]map[string]string{}
	for name, m := range map[string]map[string]int{"pages": pages, "referrers": referrers, "campaigns": campaigns, "sources": sources, "countries": countries, "landingPages": landing, "exitPages": exit} {
		tables[name] = map[string]string{}
		for k, n := range m {
			tables[name][k] = fmt.Sprint(n)
		}
	}
	rt := "visitors in the last 15 minutes"
	if realtime == 1 {
		rt = "visitor in the last 15 minutes"
	}
	figures := map[string]string{
		"pageViews":         fmt.Sprint(events),
		"uniqueVisitors":    fmt.Sprint(visitors),
		"uniqueSessions":    fmt.Sprint(sessions),
		"avgPageDepth":      decimal(float64(sessionEvents) / float64(sessions)),
		"bounceRate":        ratio(bounces, sessions),
		"returningVisitors": ratio(returning, visitors),
		"mobileShare":       ratio(mobile, events),
		"avgPageload":       fmt.Sprintf("%d ms", int(math.Round(float64(loadSum)/float64(loads)))),
		"avgTimeOnPage":     duration(mean(gaps)),
		"avgSessionLength":  duration(mean(lengths)),
		"realtime":          fmt.Sprintf("%d %s", realtime, rt),
	}
	if loads == 0 {
		figures["avgPageload"] = "–"
	}
	if len(gaps) == 0 {
		figures["avgTimeOnPage"] = "–"
	}
	if len(lengths) == 0 {
		figures["avgSessionLength"] = "–"
	}
	return expected{figures: figures, tables: tables}
}

var countryName = map[string]string{"DE": "Germany", "FR": "France", "US": "United States", "GB": "United Kingdom"}

// percent, decimal and duration format as the English dashboard does
// (Intl.NumberFormat, at most one fraction digit; i18n.duration).
func percent(r float64) string { return decimal(r*100) + "%" }

func decimal(x float64) string {
	s := fmt.Sprintf("%.1f", math.Round(x*10)/10)
	return strings.TrimSuffix(s, ".0")
}

func duration(ms float64) string {
	s := int(math.Round(ms / 1000))
	if s < 60 {
		return fmt.Sprintf("%ds", s)
	}
	m := s / 60
	if m < 60 {
		return fmt.Sprintf("%dm %ds", m, s%60)
	}
	return fmt.Sprintf("%dh %dm", m/60, m%60)
}

// dashboardShows reads the figures and tables of the rendered dashboard.
func dashboardShows(b *Browser) expected {
	b.t.Helper()
	var raw struct {
		Figures map[string]string
		Tables  map[string]map[string]string
	}
	b.evalJS(`(() => {
		const text = (el) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : null)
		const figures = {}
		for (const li of document.querySelectorAll('[data-figure]')) {
			const v = li.matches('.figure-value') ? li : li.querySelector('.figure-value')
			figures[li.getAttribute('data-figure')] = text(v)
		}
		const tables = {}
		for (const p of document.querySelectorAll('[data-panel]')) {
			const rows = {}
			for (const tr of p.querySelectorAll('tbody tr')) {
				const th = tr.querySelector('th'), td = tr.querySelector('td')
				if (th && td) rows[text(th)] = text(td)
			}
			tables[p.getAttribute('data-panel')] = rows
		}
		return { figures, tables }
	})()`, &raw)
	return expected{figures: raw.Figures, tables: raw.Tables}
}

// journeyDashboardNumbers: the operator dashboard shows exactly the figures
// computed from the plaintext that was sent.
func journeyDashboardNumbers(t *testing.T, d Database) {
	o := withOperator(t, d)
	now := time.Now()
	sendPlan(t, o, now)
	b := NewBrowser(t)
	signIn(b, o, o.Email, o.Password)
	// a sign-in leads to the dashboard, its account named in the address
	b.UntilJS(fmt.Sprintf(`new URLSearchParams(location.search).get('account') === %q`, o.AccountID), "the account in the address")
	b.WaitVisible(".dashboard[data-state=ready]")
	b.Axe("the operator dashboard")
	// The default range is 7 days: from the start of the day six days ago
	// in the browser's time zone.
	compareDashboard(t, "the default range", dashboardShows(b), expect(now, time.UnixMilli(int64(weekStart(b)))))
}

// compareDashboard reports every figure and table row that differs.
func compareDashboard(t *testing.T, step string, got, want expected) {
	t.Helper()
	names := make([]string, 0, len(want.figures))
	for k := range want.figures {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if got.figures[k] != want.figures[k] {
			t.Errorf("%s: figure %s: the dashboard shows %q, want %q", step, k, got.figures[k], want.figures[k])
		}
	}
	for panel, rows := range want.tables {
		if len(got.tables[panel]) != len(rows) {
			t.Errorf("%s: table %s: the dashboard shows %v, want %v", step, panel, got.tables[panel], rows)
			continue
		}
		for k, v := range rows {
			if got.tables[panel][k] != v {
				t.Errorf("%s: table %s, row %s: the dashboard shows %q, want %q (all: %v)", step, panel, k, got.tables[panel][k], v, got.tables[panel])
			}
		}
	}
}
