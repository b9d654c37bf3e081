// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// apiFixture is a visitor-side world: accounts a and b, a retired account,
// a visitor who exchanged key {key} in a, {keyB} in b and {keyRetired} in
// the retired account before it was retired, and another visitor holding
// {otherKey} in a.
type apiFixture struct {
	e                             *visitorEnv
	a, b, retired                 testAccount
	vis, other                    *visitor
	key, keyB, keyRetired, other_ string
}

func newAPIFixture(t *testing.T, o envOptions) *apiFixture {
	t.Helper()
	e := newVisitorEnv(t, o)
	f := &apiFixture{e: e, a: e.account("site a", "https://www.example.org"), b: e.account("site b"), retired: e.account("old site")}
	f.vis, f.other = newVisitor(t, e.h), newVisitor(t, e.h)
	f.other.ip = "203.0.113.8"
	var r vreply
	f.key, r = f.vis.exchange(f.a)
	r.must(t, http.StatusCreated)
	f.keyB, r = f.vis.exchange(f.b)
	r.must(t, http.StatusCreated)
	f.keyRetired, r = f.vis.exchange(f.retired)
	r.must(t, http.StatusCreated)
	f.other_, r = f.other.exchange(f.a)
	r.must(t, http.StatusCreated)
	retire(t, e.store, f.retired.ID)
	return f
}

// expand fills the placeholders of a path or body.
func (f *apiFixture) expand(s string) string {
	return strings.NewReplacer(
		"{a}", f.a.ID, "{b}", f.b.ID, "{retired}", f.retired.ID, "{unknown}", keys.NewUUID(),
		"{key}", f.key, "{keyB}", f.keyB, "{otherKey}", f.other_, "{newKey}", keys.NewKeyID(),
		"{payload}", f.vis.payload(f.key, map[string]any{"v": 1, "type": "PAGEVIEW", "href": "https://www.example.org/"}),
		"{wrapped}", f.wrapped(f.a),
	).Replace(s)
}

// wrapped is a fresh user secret wrapped for account a.
func (f *apiFixture) wrapped(a testAccount) string {
	w, err := keys.WrapUserSecret(a.priv.PublicKey(), a.ID, keys.NewKey())
	if err != nil {
		f.e.t.Fatal(err)
	}
	return w
}

// counts are the rows the store holds for an account.
type counts struct{ events, secrets, tombstones int }

// countRows reads an account's feeds from the beginning.
func countRows(t *testing.T, store persistence.Store, accountID string) counts {
	t.Helper()
	var c counts
	ctx := context.Background()
	q := persistence.FeedQuery{Limit: persistence.MaxFeedLimit}
	for more := true; more; {
		page, err := store.AccountEvents(ctx, accountID, q, persistence.FeedItems{
			Event:     func(persistence.Event) error { c.events++; return nil },
			Tombstone: func(persistence.Tombstone) error { c.tombstones++; return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		q.Since, more = page.Next, page.More
	}
	q.Since = ""
	for more := true; more; {
		page, err := store.AccountSecrets(ctx, accountID, q, persistence.FeedItems{
			Secret: func(persistence.Secret) error { c.secrets++; return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		q.Since, more = page.Next, page.More
	}
	return c
}

// apiScenario is one visitor API request on a fresh fixture.
type apiScenario struct {
	name   string
	env    envOptions
	method string
	path   string
	body   string
	// user is the user cookie: "" the fixture visitor's, "none", "malformed",
	// or "stranger" (well-formed, never exchanged).
	user string
	// consent is the consent cookie value; "" means allow, "none" absent.
	consent string
	headers map[string]string
	// before runs before the request (e.g. to exhaust a throttle).
	before      func(t *testing.T, f *apiFixture)
	wantStatus  int
	wantBody    []string
	notBody     []string
	wantHeaders map[string]string
	// wantA are the rows of account a afterwards (nil: not checked); the
	// fixture starts with 0 events and 2 secrets there.
	wantA *counts
	after func(t *testing.T, f *apiFixture, r vreply)
}

func (sc apiScenario) run(t *testing.T) {
	t.Run(sc.name, func(t *testing.T) {
		t.Parallel()
		f := newAPIFixture(t, sc.env)
		if sc.before != nil {
			sc.before(t, f)
		}
		v := f.vis
		switch sc.user {
		case "none":
			v.user = ""
		case "malformed":
			v.user = strings.ToUpper(v.user)
		case "stranger":
			v.user = keys.NewUserID()
		}
		switch sc.consent {
		case "":
			v.consent = "allow"
		case "none":
			v.consent = ""
		default:
			v.consent = sc.consent
		}
		method := sc.method
		if method == "" {
			method = http.MethodGet
		}
		var body any
		if sc.body != "" {
			body = f.expand(sc.body)
		}
		v.extra = sc.headers
		r := v.do(method, f.expand(sc.path), body)
		if r.status != sc.wantStatus {
			t.Errorf("got status %d, want %d; body %s", r.status, sc.wantStatus, r.body)
		}
		for _, s := range sc.wantBody {
			if !strings.Contains(string(r.body), f.expand(s)) {
				t.Errorf("got body %s, want it to contain %q", r.body, s)
			}
		}
		for _, s := range sc.notBody {
			if strings.Contains(string(r.body), f.expand(s)) {
				t.Errorf("got body %s, want it not to contain %q", r.body, s)
			}
		}
		for k, want := range sc.wantHeaders {
			if got := r.header.Get(k); got != want {
				t.Errorf("header %s: got %q, want %q", k, got, want)
			}
		}
		if sc.wantA != nil {
			if got := countRows(t, f.e.store, f.a.ID); got != *sc.wantA {
				t.Errorf("account a holds %+v, want %+v", got, *sc.wantA)
			}
		}
		if sc.after != nil {
			sc.after(t, f, r)
		}
	})
}

// userCookieSet checks the user cookie of PROTOCOL §3.1 in a secure context.
func userCookieSet(t *testing.T, r vreply) {
	t.Helper()
	c := r.user
	if c == nil {
		t.Fatal("no user cookie set")
	}
	if _, err := keys.ParseUserID(c.Value); err != nil {
		t.Errorf("user cookie %q: %v", c.Value, err)
	}
	if !c.HttpOnly || c.Path != "/api" || c.MaxAge != 186*24*3600 || !c.Secure || c.SameSite != http.SameSiteNoneMode {
		t.Errorf("got user cookie %+v, want HttpOnly; Path=/api; Max-Age=%d; Secure; SameSite=None", c, 186*24*3600)
	}
}

func noCookie(t *testing.T, _ *apiFixture, r vreply) {
	t.Helper()
	if r.cookieSet {
		t.Errorf("got user cookie %v, want none", r.user)
	}
}

func ptr(c counts) *counts { return &c }

func TestVisitorAPI(t *testing.T) {
	t.Parallel()
	unchanged := ptr(counts{secrets: 2})
	stored := func(n int) *counts { return ptr(counts{events: n, secrets: 2}) }
	tenPayloads := func(f *apiFixture) string {
		p := make([]string, 10)
		for i := range p {
			p[i] = f.vis.payload(f.key, map[string]any{"v": 1, "type": "PAGEVIEW", "href": fmt.Sprint("https://www.example.org/", i)})
		}
		b, _ := json.Marshal(map[string]any{"accountId": f.a.ID, "keyId": f.key, "payloads": p})
		return string(b)
	}
	sendTen := func(t *testing.T, f *apiFixture, v *visitor) vreply {
		return v.do("POST", "/api/events", tenPayloads(f))
	}
	scenarios := []apiScenario{
		// GET /api/exchange
		{
			name: "public key", path: "/api/exchange?accountId={a}", wantStatus: 200,
			wantBody: []string{`"accountId":"{a}"`, `"publicKey":"p256.`},
			wantHeaders: map[string]string{
				"Cache-Control": "no-store", "Cross-Origin-Resource-Policy": "same-origin",
				"Access-Control-Allow-Origin": "",
			},
		},
		{name: "public key of an unknown account", path: "/api/exchange?accountId={unknown}", wantStatus: 404},
		{name: "public key of a retired account", path: "/api/exchange?accountId={retired}", wantStatus: 404},
		{name: "public key of a malformed id", path: "/api/exchange?accountId=nope", wantStatus: 404},
		{name: "public key without id", path: "/api/exchange", wantStatus: 404},

		// POST /api/exchange
		{
			name: "exchange of a new visitor", method: "POST", path: "/api/exchange", user: "none",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 201, wantBody: []string{"{}"}, wantA: ptr(counts{secrets: 3}),
			after: func(t *testing.T, f *apiFixture, r vreply) {
				userCookieSet(t, r)
				if r.user.Value == f.other.user {
					t.Error("new visitor got another visitor's id")
				}
			},
		},
		{
			name: "exchange of a known visitor keeps the id", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 201, wantA: ptr(counts{secrets: 3}),
			before: func(t *testing.T, f *apiFixture) { f.vis.extra = nil },
			after: func(t *testing.T, f *apiFixture, r vreply) {
				userCookieSet(t, r)
				if f.vis.user != r.user.Value {
					t.Error("cookie not kept")
				}
			},
		},
		{
			name: "exchange with a malformed cookie gets a new id", method: "POST", path: "/api/exchange", user: "malformed",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 201, after: func(t *testing.T, f *apiFixture, r vreply) { userCookieSet(t, r) },
		},
		{
			name: "exchange repeated", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{a}","keyId":"{key}","wrappedSecret":"WRAPPED"}`,
			wantStatus: 201, wantA: unchanged,
			before: func(t *testing.T, f *apiFixture) {
				// Repeat the fixture's own exchange byte for byte.
				s, err := f.e.store.FindSecret(t.Context(), f.key)
				if err != nil {
					t.Fatal(err)
				}
				f.vis.replace = map[string]string{"WRAPPED": s.WrappedSecret}
			},
		},
		{
			name: "exchange without consent", method: "POST", path: "/api/exchange", user: "none", consent: "none",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 204, wantA: unchanged, after: noCookie,
		},
		{
			name: "exchange after deny", method: "POST", path: "/api/exchange", consent: "deny",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 204, wantA: unchanged, after: noCookie,
		},
		{
			name: "exchange with a key id taken", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{a}","keyId":"{otherKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 409, wantA: unchanged, after: noCookie,
		},
		{
			name: "exchange for an unknown account", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{unknown}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 404, after: noCookie,
		},
		{
			name: "exchange for a retired account", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{retired}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 404, after: noCookie,
		},
		{
			name: "exchange with bad JSON", method: "POST", path: "/api/exchange", body: `{"accountId":`,
			wantStatus: 400, wantA: unchanged,
		},
		{
			name: "exchange with an unknown field", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}","userId":"x"}`,
			wantStatus: 400, wantA: unchanged,
		},
		{
			name: "exchange with a malformed secret", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"a1.AAAA.BBBB"}`,
			wantStatus: 400, wantBody: []string{`"wrappedSecret"`}, wantA: unchanged,
		},
		{
			name: "exchange as text/plain", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			headers:    map[string]string{"Content-Type": "text/plain"},
			wantStatus: 403, wantA: unchanged,
		},
		{
			name: "exchange from a foreign origin", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			headers:    map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
			wantStatus: 403, wantA: unchanged,
		},
		{
			name: "exchange oversized", method: "POST", path: "/api/exchange",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"` + strings.Repeat("A", 1<<20) + `"}`,
			wantStatus: 413, wantA: unchanged,
		},
		{
			name: "exchange throttled", method: "POST", path: "/api/exchange", user: "none",
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 429, wantA: unchanged, after: noCookie,
			before: func(t *testing.T, f *apiFixture) {
				v := newVisitor(t, f.e.h) // same address as the fixture's visitor
				v.consent = ""
				for range 117 { // the fixture's visitor made 3 exchanges from here; burst 120
					v.do("POST", "/api/exchange", f.expand(`{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`)).must(t, 204)
				}
			},
			wantHeaders: map[string]string{"Retry-After": "1"},
		},
		{
			name: "exchange on plain http", method: "POST", path: "/api/exchange", env: envOptions{publicURL: "http://offen.internal:8080"},
			body:       `{"accountId":"{a}","keyId":"{newKey}","wrappedSecret":"{wrapped}"}`,
			wantStatus: 201,
			after: func(t *testing.T, f *apiFixture, r vreply) {
				if c := r.user; c == nil || c.Secure || c.SameSite != http.SameSiteLaxMode || !c.HttpOnly {
					t.Errorf("got user cookie %+v, want HttpOnly; SameSite=Lax without Secure", c)
				}
			},
		},

		// POST /api/events
		{
			name: "events", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}","{payload}"]}`,
			wantStatus: 201, wantBody: []string{`{"accepted":2}`}, wantA: stored(2),
			after: func(t *testing.T, f *apiFixture, r vreply) { userCookieSet(t, r) },
		},
		{
			// The vault missed the answer to {held}: sent again with a new
			// event, only the new one is stored and counted as accepted.
			name: "events resent", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{held}","{payload}"],"resend":true}`,
			wantStatus: 201, wantBody: []string{`{"accepted":1}`}, wantA: stored(2),
			before: func(t *testing.T, f *apiFixture) {
				held := f.vis.payload(f.key, map[string]any{"v": 1, "type": "PAGEVIEW", "href": "https://www.example.org/held"})
				f.vis.do("POST", "/api/events", map[string]any{"accountId": f.a.ID, "keyId": f.key, "payloads": []string{held}}).must(t, 201)
				f.vis.replace = map[string]string{"{held}": held}
			},
		},
		{
			name: "events without consent", method: "POST", path: "/api/events", consent: "none",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 204, wantA: unchanged, after: noCookie,
		},
		{
			name: "events after deny", method: "POST", path: "/api/events", consent: "deny",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 204, wantA: unchanged, after: noCookie,
		},
		{
			name: "events without user cookie", method: "POST", path: "/api/events", user: "none",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 409, wantA: unchanged, after: noCookie,
		},
		{
			name: "events with a malformed user cookie", method: "POST", path: "/api/events", user: "malformed",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 409, wantA: unchanged,
		},
		{
			name: "events under another visitor's key", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{otherKey}","payloads":["{payload}"]}`,
			wantStatus: 409, wantA: unchanged,
		},
		{
			name: "events of a stranger", method: "POST", path: "/api/events", user: "stranger",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 409, wantA: unchanged,
		},
		{
			name: "events under an unknown key", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{newKey}","payloads":["{payload}"]}`,
			wantStatus: 409, wantA: unchanged,
		},
		{
			name: "events under the visitor's key of another account", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{keyB}","payloads":["{payload}"]}`,
			wantStatus: 409, wantA: unchanged,
		},
		{
			name: "events for an unknown account", method: "POST", path: "/api/events",
			body:       `{"accountId":"{unknown}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 404, wantA: unchanged,
		},
		{
			name: "events for a retired account", method: "POST", path: "/api/events",
			body:       `{"accountId":"{retired}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 404,
		},
		{
			name: "events with bad JSON", method: "POST", path: "/api/events", body: `{"payloads":[`,
			wantStatus: 400, wantA: unchanged,
		},
		{
			name: "events without payloads", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":[]}`,
			wantStatus: 400, wantBody: []string{`"payloads"`}, wantA: unchanged,
		},
		{
			name: "events with eleven payloads", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"` + strings.Repeat(`,"{payload}"`, 10) + `]}`,
			wantStatus: 400, wantA: unchanged,
		},
		{
			name: "events with a payload that is no a1", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}","e1.AAAA"]}`,
			wantStatus: 400, wantBody: []string{`"payloads[1]"`}, wantA: unchanged,
		},
		{
			name: "events with a payload over 8 KiB", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["a1.AAAAAAAAAAAAAAAA.` + strings.Repeat("A", 8*1024) + `"]}`,
			wantStatus: 400, wantA: unchanged,
		},
		{
			name: "events oversized", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"],"pad":"` + strings.Repeat("A", 64<<10) + `"}`,
			wantStatus: 413, wantA: unchanged,
		},
		{
			name: "events as a form", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			headers:    map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			wantStatus: 403, wantA: unchanged,
		},
		{
			name: "events throttled per user", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 429, wantA: stored(60), after: noCookie,
			before: func(t *testing.T, f *apiFixture) {
				for range 6 {
					sendTen(t, f, f.vis).must(t, 201)
				}
			},
		},
		{
			name: "events throttled per address", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 429, wantA: unchanged,
			before: func(t *testing.T, f *apiFixture) {
				// 300 strangers behind one address: 10 events each.
				for range 300 {
					s := newVisitor(t, f.e.h)
					s.user = keys.NewUserID()
					sendTen(t, f, s).must(t, 409)
				}
			},
		},
		{
			name: "events of another address are not throttled", method: "POST", path: "/api/events",
			body:       `{"accountId":"{a}","keyId":"{key}","payloads":["{payload}"]}`,
			wantStatus: 201, wantA: stored(1),
			before: func(t *testing.T, f *apiFixture) {
				for range 300 {
					s := newVisitor(t, f.e.h)
					s.ip = "198.51.100.99"
					s.user = keys.NewUserID()
					sendTen(t, f, s).must(t, 409)
				}
			},
		},

		// GET /api/events
		{
			name: "feed without cookie", path: "/api/events", user: "none", wantStatus: 200,
			wantBody: []string{`{"events":[],"tombstones":[],"accounts":{},"retentionDays":186,`, `"more":false`},
		},
		{
			name: "feed", path: "/api/events", wantStatus: 200,
			before: func(t *testing.T, f *apiFixture) {
				f.vis.send(f.a.ID, f.key, "https://www.example.org/1").must(t, 201)
				f.other.send(f.a.ID, f.other_, "https://www.example.org/2").must(t, 201)
			},
			wantBody:    []string{`"accountId":"{a}"`, `"keyId":"{key}"`, `"accounts":{"{a}":{"name":"site a"}}`},
			notBody:     []string{"{otherKey}"},
			wantHeaders: map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
		},
		{name: "feed with a malformed cursor", path: "/api/events?since=nonsense", wantStatus: 400},
		{name: "feed with a malformed cursor and no cookie", path: "/api/events?since=nonsense", user: "none", wantStatus: 400},
		{name: "feed with limit 0", path: "/api/events?limit=0", wantStatus: 400, wantBody: []string{`"limit"`}},
		{name: "feed with limit 5001", path: "/api/events?limit=5001", wantStatus: 400},
		{name: "feed with a word for a limit", path: "/api/events?limit=ten", wantStatus: 400},
		{
			name: "feed throttled", path: "/api/events", wantStatus: 429,
			before: func(t *testing.T, f *apiFixture) {
				for range 20 {
					f.vis.do("GET", "/api/events", nil).must(t, 200)
				}
			},
		},

		// GET /api/events/export
		{
			name: "export without cookie", path: "/api/events/export", user: "none", wantStatus: 200,
			wantHeaders: map[string]string{"Content-Type": "application/x-ndjson"},
			after: func(t *testing.T, f *apiFixture, r vreply) {
				if len(r.body) != 0 {
					t.Errorf("got %q, want nothing", r.body)
				}
			},
		},
		{
			name: "export", path: "/api/events/export", wantStatus: 200,
			before: func(t *testing.T, f *apiFixture) {
				f.vis.send(f.a.ID, f.key, "https://www.example.org/1").must(t, 201)
				f.other.send(f.a.ID, f.other_, "https://www.example.org/2").must(t, 201)
			},
			wantBody: []string{`"accountId":"{a}","accountName":"site a","eventId":"`},
			notBody:  []string{"{otherKey}"},
		},
		{
			name: "export throttled", path: "/api/events/export", wantStatus: 429,
			before: func(t *testing.T, f *apiFixture) {
				for range 20 {
					f.vis.do("GET", "/api/events/export", nil).must(t, 200)
				}
			},
		},

		// POST /api/purge
		{
			name: "purge without cookie", method: "POST", path: "/api/purge", body: `{}`, user: "none",
			wantStatus: 204, wantA: stored(1),
			before: func(t *testing.T, f *apiFixture) {
				f.vis.send(f.a.ID, f.key, "https://www.example.org/1").must(t, 201)
			},
		},
		{
			name: "purge", method: "POST", path: "/api/purge", body: `{}`,
			wantStatus: 204, wantA: ptr(counts{events: 1, secrets: 2, tombstones: 1}), after: noCookie,
			before: func(t *testing.T, f *apiFixture) {
				f.vis.send(f.a.ID, f.key, "https://www.example.org/1").must(t, 201)
				f.other.send(f.a.ID, f.other_, "https://www.example.org/2").must(t, 201)
			},
		},
		{
			name: "purge of another account", method: "POST", path: "/api/purge", body: `{"accountId":"{b}"}`,
			wantStatus: 204, wantA: stored(1),
			before: func(t *testing.T, f *apiFixture) {
				f.vis.send(f.a.ID, f.key, "https://www.example.org/1").must(t, 201)
			},
		},
		{
			name: "purge and forget", method: "POST", path: "/api/purge", body: `{"forget":true}`,
			wantStatus: 204, wantA: ptr(counts{secrets: 1, tombstones: 2}), // an "event" and a "secret" tombstone
			before: func(t *testing.T, f *apiFixture) {
				f.vis.send(f.a.ID, f.key, "https://www.example.org/1").must(t, 201)
			},
			after: func(t *testing.T, f *apiFixture, r vreply) {
				if c := r.user; c == nil || c.MaxAge >= 0 || c.Path != "/api" {
					t.Errorf("got cookie %+v, want the user cookie cleared", c)
				}
			},
		},
		{
			name: "forget one account keeps the cookie", method: "POST", path: "/api/purge", body: `{"accountId":"{a}","forget":true}`,
			wantStatus: 204, wantA: ptr(counts{secrets: 1, tombstones: 1}), after: noCookie,
		},
		{name: "purge with bad JSON", method: "POST", path: "/api/purge", body: `{"forget":"yes"}`, wantStatus: 400},
		{name: "purge with a malformed account", method: "POST", path: "/api/purge", body: `{"accountId":"A"}`, wantStatus: 400},
		{
			name: "purge throttled", method: "POST", path: "/api/purge", body: `{}`, wantStatus: 429,
			before: func(t *testing.T, f *apiFixture) {
				for range 20 {
					f.vis.do("POST", "/api/purge", f.expand(`{"accountId":"{b}"}`)).must(t, 204)
				}
			},
		},
	}
	for _, sc := range scenarios {
		sc.run(t)
	}
}
