// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAccountFeeds runs the operator's account feeds (PROTOCOL §7.3) for
// the logins of the role world, with a visitor's events and secret in
// account a.
func TestAccountFeeds(t *testing.T) {
	t.Parallel()
	tm := newWorldTemplate(t)
	type feedScenario struct {
		name       string
		as         string // admin, viewer, other, pending or "" (no session)
		path       string
		retire     bool
		wantStatus int
		wantBody   []string
		notBody    []string
	}
	for _, sc := range []feedScenario{
		{name: "events as admin", as: "admin", path: "/api/accounts/{a}/events", wantStatus: 200,
			wantBody: []string{`"events":[{"eventId":"`, `"secretId":"`, `"keyId":"{key}"`, `"payload":"a1.`, `"tombstones":[]`, `"retentionDays":186`, `"more":false`, `"reset":false`, `"next":"`}},
		{name: "events as viewer", as: "viewer", path: "/api/accounts/{a}/events", wantStatus: 200, wantBody: []string{`"keyId":"{key}"`}},
		{name: "events of another account", as: "admin", path: "/api/accounts/{b}/events", wantStatus: 200,
			wantBody: []string{`{"events":[],"tombstones":[]`}, notBody: []string{"{key}"}},
		{name: "events as admin of another account", as: "other", path: "/api/accounts/{a}/events", wantStatus: 404, notBody: []string{"{key}"}},
		{name: "events as pending invitee", as: "pending", path: "/api/accounts/{a}/events", wantStatus: 401},
		{name: "events without session", path: "/api/accounts/{a}/events", wantStatus: 401},
		{name: "events of an unknown account", as: "admin", path: "/api/accounts/{unknown}/events", wantStatus: 404},
		{name: "events of a retired account", as: "admin", path: "/api/accounts/{a}/events", retire: true, wantStatus: 404},
		{name: "events with a malformed cursor", as: "admin", path: "/api/accounts/{a}/events?since=x.y", wantStatus: 400},
		{name: "events with limit 0", as: "admin", path: "/api/accounts/{a}/events?limit=0", wantStatus: 400},
		{name: "events, one a page", as: "admin", path: "/api/accounts/{a}/events?limit=1", wantStatus: 200, wantBody: []string{`"more":false`}},
		{name: "secrets as admin", as: "admin", path: "/api/accounts/{a}/secrets", wantStatus: 200,
			wantBody: []string{`{"secrets":[{"keyId":"{key}","secretId":"`, `"wrappedSecret":"e1.`, `"more":false`}, notBody: []string{"retentionDays"}},
		{name: "secrets as viewer", as: "viewer", path: "/api/accounts/{a}/secrets?limit=5000", wantStatus: 200, wantBody: []string{"{key}"}},
		{name: "secrets as admin of another account", as: "other", path: "/api/accounts/{a}/secrets", wantStatus: 404},
		{name: "secrets without session", path: "/api/accounts/{a}/secrets", wantStatus: 401},
		{name: "secrets with a malformed cursor", as: "admin", path: "/api/accounts/{a}/secrets?since=%00", wantStatus: 400},
		{name: "secrets with limit 5001", as: "admin", path: "/api/accounts/{a}/secrets?limit=5001", wantStatus: 400},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			w := tm.clone(t)
			vis := newVisitor(t, w.h)
			key := vis.exchangeRemote(w.a)
			vis.send(w.a, key, "https://a.example/").must(t, 201)
			if sc.retire {
				retire(t, w.store, w.a)
			}
			cookie := ""
			switch sc.as {
			case "admin":
				cookie = w.admin.cookie
			case "viewer":
				cookie = w.viewer.cookie
			case "other":
				cookie = w.other.cookie
			case "pending":
				cookie = w.pending.cookie
			}
			expand := func(s string) string { return strings.ReplaceAll(w.expand(s), "{key}", key) }
			r := w.do(call{method: http.MethodGet, path: expand(sc.path), cookie: cookie})
			if r.status != sc.wantStatus {
				t.Errorf("got status %d, want %d; body %s", r.status, sc.wantStatus, r.body)
			}
			for _, s := range sc.wantBody {
				if !strings.Contains(string(r.body), expand(s)) {
					t.Errorf("got body %s, want it to contain %q", r.body, expand(s))
				}
			}
			for _, s := range sc.notBody {
				if strings.Contains(string(r.body), expand(s)) {
					t.Errorf("got body %s, want it not to contain %q", r.body, expand(s))
				}
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("got Cache-Control %q", got)
			}
		})
	}
}
