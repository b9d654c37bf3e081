// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/keys/segment"
	"github.com/offen/offen/persistence"
)

// segWorld is a cloned world in which a visitor sent three events to
// account a on a day that has since closed.
type segWorld struct {
	*world
	vis    *visitor
	key    string // the visitor's key id in a
	period string // the closed day of the events
	today  string // the open day the clock is on
	count  int
	digest string
}

func newSegWorld(t *testing.T, tm *worldTemplate) *segWorld {
	t.Helper()
	w := &segWorld{world: tm.clone(t)}
	vis := newVisitor(t, w.h)
	w.vis = vis
	w.key = vis.exchangeRemote(w.a)
	vis.send(w.a, w.key, "https://a.example/1", "https://a.example/2", "https://a.example/3").must(t, http.StatusCreated)
	now := w.clock.Now().UTC()
	w.period = now.Format(time.DateOnly)
	// Past the day's end and the sync window, keeping the sessions alive
	// (12 idle hours end them).
	start, _ := time.Parse(time.DateOnly, w.period)
	target := start.Add(24*time.Hour + persistence.SyncWindow + time.Second)
	for w.clock.Now().Before(target) {
		w.clock.Advance(min(6*time.Hour, target.Sub(w.clock.Now())))
		for _, o := range []*operator{w.admin, w.viewer, w.other} {
			w.do(call{method: "GET", path: "/api/login", cookie: o.cookie}).must(t, http.StatusOK)
		}
	}
	w.today = w.clock.Now().UTC().Format(time.DateOnly)
	var ids []string
	_, err := w.store.PeriodEvents(t.Context(), w.a, w.period, persistence.PeriodQuery{}, persistence.FeedItems{
		Event: func(e persistence.Event) error { ids = append(ids, e.EventID); return nil },
	})
	if err != nil || len(ids) != 3 {
		t.Fatalf("period events %v, %v", ids, err)
	}
	w.count, w.digest, err = segment.Coverage(ids)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *segWorld) expand(s string) string {
	start, _ := time.Parse(time.DateOnly, w.period)
	empty := start.AddDate(0, 0, -2).Format(time.DateOnly)
	return strings.NewReplacer("{period}", w.period, "{empty}", empty, "{today}", w.today, "{key}", w.key, "{digest}", w.digest).Replace(w.world.expand(s))
}

// sealed returns a well-formed a1 string with a ciphertext of n bytes.
func sealed(n int) string {
	return "a1." + b64(keys.NewKey()[:12]) + "." + b64(make([]byte, n))
}

// upload is a PUT body covering the world's period, changed by edit.
func upload(edit func(m map[string]any)) func(*testing.T, *segWorld) any {
	return func(t *testing.T, w *segWorld) any {
		m := map[string]any{"version": 1, "count": w.count, "digest": w.digest, "segment": sealed(64)}
		if edit != nil {
			edit(m)
		}
		return m
	}
}

// stored returns the periods listed for every account of the world.
func (w *segWorld) stored(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, id := range []string{w.a, w.b, w.c} {
		segs, err := w.store.ListSegments(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range segs {
			out = append(out, id[:8]+"/"+s.Period)
		}
	}
	return out
}

type segScenario struct {
	name    string
	as      string // admin, viewer, other or "" (no session)
	method  string
	path    string
	body    func(t *testing.T, w *segWorld) any
	headers map[string]string
	before  func(t *testing.T, w *segWorld)
	// wantStored is the number of segments stored after the request.
	wantStatus, wantStored int
	wantBody, notBody      []string
	after                  func(t *testing.T, w *segWorld, r reply)
}

func (sc segScenario) run(t *testing.T, tm *worldTemplate) {
	t.Run(sc.name, func(t *testing.T) {
		t.Parallel()
		w := newSegWorld(t, tm)
		if sc.before != nil {
			sc.before(t, w)
		}
		cookie := map[string]string{"admin": w.admin.cookie, "viewer": w.viewer.cookie, "other": w.other.cookie}[sc.as]
		var body any
		if sc.body != nil {
			body = sc.body(t, w)
		}
		if s, ok := body.(string); ok {
			body = w.expand(s)
		}
		r := w.do(call{method: sc.method, path: w.expand(sc.path), body: body, cookie: cookie, headers: sc.headers})
		if r.status != sc.wantStatus {
			t.Fatalf("got status %d, want %d; body %.300s", r.status, sc.wantStatus, r.body)
		}
		r.checkBody(t, w.expand, sc.wantBody, sc.notBody)
		if got := w.stored(t); len(got) != sc.wantStored {
			t.Errorf("got segments %v stored, want %d", got, sc.wantStored)
		}
		if sc.after != nil {
			sc.after(t, w, r)
		}
	})
}

// put stores a segment of the world's period through the route.
func (w *segWorld) put(t *testing.T, as *operator, seg string) {
	t.Helper()
	w.do(call{method: "PUT", path: w.expand("/api/accounts/{a}/segments/{period}"), cookie: as.cookie,
		body: map[string]any{"version": 1, "count": w.count, "digest": w.digest, "segment": seg}}).must(t, http.StatusCreated)
}

func TestSegmentUploadRejects(t *testing.T) {
	t.Parallel()
	tm := newWorldTemplate(t)
	put := "/api/accounts/{a}/segments/{period}"
	for _, sc := range []segScenario{
		{name: "no grant", as: "other", method: "PUT", path: put, body: upload(nil), wantStatus: 404},
		{name: "no session", method: "PUT", path: put, body: upload(nil), wantStatus: 401},
		{name: "unknown account", as: "admin", method: "PUT", path: "/api/accounts/{unknown}/segments/{period}", body: upload(nil), wantStatus: 404},
		{name: "malformed account id", as: "admin", method: "PUT", path: "/api/accounts/A/segments/{period}", body: upload(nil), wantStatus: 404},
		{name: "retired account", as: "admin", method: "PUT", path: put, body: upload(nil), wantStatus: 404,
			before: func(t *testing.T, w *segWorld) { retire(t, w.store, w.a) }},
		{name: "open period", as: "admin", method: "PUT", path: "/api/accounts/{a}/segments/{today}", body: upload(nil), wantStatus: 400,
			wantBody: []string{"not closed"}},
		{name: "period closing within the sync window", as: "admin", method: "PUT", path: put, body: upload(nil), wantStatus: 400,
			before: func(t *testing.T, w *segWorld) {
				start, _ := time.Parse(time.DateOnly, w.period)
				w.clock.Advance(start.Add(24*time.Hour + persistence.SyncWindow - time.Second).Sub(w.clock.Now()))
			}},
		{name: "period beyond retention", as: "admin", method: "PUT", path: "/api/accounts/{a}/segments/2020-01-01", body: upload(nil), wantStatus: 400,
			wantBody: []string{"retention"}},
		{name: "malformed period", as: "admin", method: "PUT", path: "/api/accounts/{a}/segments/2026-13-01", body: upload(nil), wantStatus: 400},
		{name: "period not a date", as: "admin", method: "PUT", path: "/api/accounts/{a}/segments/yesterday", body: upload(nil), wantStatus: 400},
		{name: "count short", as: "admin", method: "PUT", path: put, wantStatus: 409,
			body: upload(func(m map[string]any) { m["count"] = m["count"].(int) - 1 })},
		{name: "digest of other events", as: "admin", method: "PUT", path: put, wantStatus: 409,
			body: upload(func(m map[string]any) { m["digest"] = strings.Repeat("ab", 32) })},
		{name: "digest uppercase", as: "admin", method: "PUT", path: put, wantStatus: 400, wantBody: []string{`"digest"`},
			body: upload(func(m map[string]any) { m["digest"] = strings.ToUpper(m["digest"].(string)) })},
		{name: "digest short", as: "admin", method: "PUT", path: put, wantStatus: 400, wantBody: []string{`"digest"`},
			body: upload(func(m map[string]any) { m["digest"] = m["digest"].(string)[:62] })},
		{name: "count negative", as: "admin", method: "PUT", path: put, wantStatus: 400, wantBody: []string{`"count"`},
			body: upload(func(m map[string]any) { m["count"] = -1 })},
		{name: "version 0", as: "admin", method: "PUT", path: put, wantStatus: 400, wantBody: []string{`"version"`},
			body: upload(func(m map[string]any) { m["version"] = 0 })},
		{name: "version as a string", as: "admin", method: "PUT", path: put, wantStatus: 400,
			body: upload(func(m map[string]any) { m["version"] = "1" })},
		{name: "version a fraction", as: "admin", method: "PUT", path: put, wantStatus: 400,
			body: upload(func(m map[string]any) { m["version"] = 1.5 })},
		{name: "segment not a1", as: "admin", method: "PUT", path: put, wantStatus: 400, wantBody: []string{`"segment"`},
			body: upload(func(m map[string]any) { m["segment"] = "e1" + m["segment"].(string)[2:] })},
		{name: "segment nonce of 11 bytes", as: "admin", method: "PUT", path: put, wantStatus: 400, wantBody: []string{`"segment"`},
			body: upload(func(m map[string]any) { m["segment"] = "a1." + b64(make([]byte, 11)) + "." + b64(make([]byte, 32)) })},
		{name: "segment ciphertext shorter than a tag", as: "admin", method: "PUT", path: put, wantStatus: 400,
			body: upload(func(m map[string]any) { m["segment"] = sealed(15) })},
		{name: "segment padded base64", as: "admin", method: "PUT", path: put, wantStatus: 400,
			body: upload(func(m map[string]any) { m["segment"] = sealed(16) + "=" })},
		{name: "segment with a third part", as: "admin", method: "PUT", path: put, wantStatus: 400,
			body: upload(func(m map[string]any) { m["segment"] = sealed(16) + ".AAAA" })},
		{name: "segment missing", as: "admin", method: "PUT", path: put, wantStatus: 400,
			body: upload(func(m map[string]any) { delete(m, "segment") })},
		{name: "unknown field", as: "admin", method: "PUT", path: put, wantStatus: 400,
			body: upload(func(m map[string]any) { m["period"] = "2026-01-01" })},
		{name: "trailing data", as: "admin", method: "PUT", path: put, wantStatus: 400,
			body: func(t *testing.T, w *segWorld) any {
				b, _ := json.Marshal(upload(nil)(t, w))
				return string(b) + "{}"
			}},
		{name: "not JSON", as: "admin", method: "PUT", path: put, wantStatus: 403, body: upload(nil),
			headers: map[string]string{"Content-Type": "text/plain"}},
		{name: "cross-site", as: "admin", method: "PUT", path: put, wantStatus: 403, body: upload(nil),
			headers: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{name: "body over 64 MiB", as: "admin", method: "PUT", path: put, wantStatus: 413,
			body: upload(func(m map[string]any) { m["segment"] = sealed(48 << 20) })},
	} {
		sc.run(t, tm)
	}
}

func TestSegmentRoutes(t *testing.T) {
	t.Parallel()
	tm := newWorldTemplate(t)
	put := "/api/accounts/{a}/segments/{period}"
	for _, sc := range []segScenario{
		{name: "upload as admin", as: "admin", method: "PUT", path: put, body: upload(nil), wantStatus: 201, wantStored: 1,
			wantBody: []string{`"period":"{period}"`, `"version":1`, `"count":3`, `"digest":"{digest}"`, `"size":`}},
		{name: "upload as viewer", as: "viewer", method: "PUT", path: put, body: upload(nil), wantStatus: 201, wantStored: 1},
		{name: "upload over the default body limit", as: "viewer", method: "PUT", path: put, wantStatus: 201, wantStored: 1,
			body: upload(func(m map[string]any) { m["segment"] = sealed(3 << 20) })},
		{name: "upload replaces", as: "admin", method: "PUT", path: put, wantStatus: 201, wantStored: 1,
			body:   upload(func(m map[string]any) { m["version"] = 2 }),
			before: func(t *testing.T, w *segWorld) { w.put(t, w.viewer, sealed(64)) }},
		{name: "upload of an empty closed day", as: "admin", method: "PUT", path: "/api/accounts/{a}/segments/{empty}", wantStatus: 201, wantStored: 1,
			body: upload(func(m map[string]any) {
				_, d, _ := segment.Coverage(nil)
				m["count"], m["digest"] = 0, d
			})},

		{name: "list as viewer", as: "viewer", method: "GET", path: "/api/accounts/{a}/segments", wantStatus: 200, wantStored: 1,
			before: func(t *testing.T, w *segWorld) { w.put(t, w.admin, sealed(64)) },
			wantBody: []string{`{"segments":[{"period":"{period}","version":1,"size":`, `"count":3,"digest":"{digest}"}]`,
				`"firstPeriod":"{period}"`, `"openFrom":"{today}"`, `"retentionDays":186`}},
		{name: "list without segments or events", as: "admin", method: "GET", path: "/api/accounts/{b}/segments", wantStatus: 200,
			wantBody: []string{`{"segments":[],"firstPeriod":null,"openFrom":"{today}"`}},
		{name: "list without a grant", as: "other", method: "GET", path: "/api/accounts/{a}/segments", wantStatus: 404},
		{name: "list without a session", method: "GET", path: "/api/accounts/{a}/segments", wantStatus: 401},

		{name: "fetch", as: "viewer", method: "GET", path: put, wantStatus: 200, wantStored: 1,
			before: func(t *testing.T, w *segWorld) { w.notes["seg"] = sealed(80); w.put(t, w.admin, w.notes["seg"]) },
			after: func(t *testing.T, w *segWorld, r reply) {
				if string(r.body) != w.notes["seg"] {
					t.Errorf("got %.100s, want the sealed string", r.body)
				}
				if got := r.header.Get("Cache-Control"); got != "private, max-age=31536000, immutable" {
					t.Errorf("Cache-Control %q", got)
				}
				etag := r.header.Get("ETag")
				if len(etag) < 3 || etag[0] != '"' {
					t.Fatalf("ETag %q", etag)
				}
				again := w.do(call{method: "GET", path: w.expand("/api/accounts/{a}/segments/{period}?digest={digest}"), cookie: w.admin.cookie,
					headers: map[string]string{"If-None-Match": etag}})
				if again.status != http.StatusNotModified || len(again.body) != 0 || again.header.Get("ETag") != etag {
					t.Errorf("revalidation: %d %q", again.status, again.body)
				}
				w.put(t, w.admin, sealed(80))
				if r := w.do(call{method: "GET", path: w.expand(put), cookie: w.admin.cookie, headers: map[string]string{"If-None-Match": etag}}); r.status != 200 {
					t.Errorf("after a new upload the old ETag got %d", r.status)
				}
			}},
		{name: "fetch of other coverage", as: "admin", method: "GET", path: put + "?digest=" + strings.Repeat("0", 64), wantStatus: 404, wantStored: 1,
			before: func(t *testing.T, w *segWorld) { w.put(t, w.admin, sealed(64)) }},
		{name: "fetch absent", as: "admin", method: "GET", path: put, wantStatus: 404},
		{name: "fetch malformed period", as: "admin", method: "GET", path: "/api/accounts/{a}/segments/2026-02-30", wantStatus: 400},
		{name: "fetch without a grant", as: "other", method: "GET", path: put, wantStatus: 404, wantStored: 1,
			before: func(t *testing.T, w *segWorld) { w.put(t, w.admin, sealed(64)) }},
		{name: "fetch after the visitor purged", as: "admin", method: "GET", path: put, wantStatus: 404,
			before: func(t *testing.T, w *segWorld) {
				w.put(t, w.admin, sealed(64))
				w.vis.do("POST", "/api/purge", map[string]any{}).must(t, http.StatusNoContent)
			},
			after: func(t *testing.T, w *segWorld, r reply) {
				list := w.do(call{method: "GET", path: w.expand("/api/accounts/{a}/segments"), cookie: w.admin.cookie}).must(t, 200)
				if !strings.Contains(string(list.body), `"segments":[]`) {
					t.Errorf("listed after the purge: %s", list.body)
				}
				_, d, _ := segment.Coverage(nil)
				w.do(call{method: "PUT", path: w.expand(put), cookie: w.admin.cookie,
					body: map[string]any{"version": 1, "count": 0, "digest": d, "segment": sealed(32)}}).must(t, http.StatusCreated)
			}},
		{name: "fetch after the visitor forgot", as: "admin", method: "GET", path: put, wantStatus: 404,
			before: func(t *testing.T, w *segWorld) {
				w.put(t, w.admin, sealed(64))
				w.vis.do("POST", "/api/purge", map[string]any{"accountId": w.a, "forget": true}).must(t, http.StatusNoContent)
			}},
		{name: "list after a retire", as: "admin", method: "GET", path: "/api/accounts/{a}/segments", wantStatus: 404,
			before: func(t *testing.T, w *segWorld) {
				w.put(t, w.admin, sealed(64))
				w.do(call{method: "POST", path: w.expand("/api/accounts/{a}/retire"), cookie: w.admin.cookie,
					body: map[string]any{"currentAuthKey": b64(w.admin.authKey)}}).must(t, http.StatusNoContent)
			}},

		{name: "period events as viewer", as: "viewer", method: "GET", path: "/api/accounts/{a}/segments/{period}/events?limit=2", wantStatus: 200,
			wantBody: []string{`{"events":[{"eventId":"`, `"keyId":"{key}","payload":"a1.`, `"secrets":[{"keyId":"{key}","secretId":"`, `"wrappedSecret":"e1.`, `"more":true`},
			after: func(t *testing.T, w *segWorld, r reply) {
				var page struct {
					Events []struct{ EventID string } `json:"events"`
					Next   string                     `json:"next"`
				}
				r.decode(t, &page)
				if len(page.Events) != 2 || page.Next != page.Events[1].EventID {
					t.Fatalf("page %+v", page)
				}
				rest := w.do(call{method: "GET", path: w.expand("/api/accounts/{a}/segments/{period}/events?after=" + page.Next), cookie: w.viewer.cookie}).must(t, 200)
				if strings.Count(string(rest.body), `"eventId"`) != 1 || !strings.Contains(string(rest.body), `"more":false`) {
					t.Errorf("second page %s", rest.body)
				}
			}},
		{name: "period events of an empty day", as: "admin", method: "GET", path: "/api/accounts/{a}/segments/{empty}/events", wantStatus: 200,
			wantBody: []string{`{"events":[],"secrets":[],"next":"","more":false}`}},
		{name: "period events with limit 0", as: "admin", method: "GET", path: "/api/accounts/{a}/segments/{period}/events?limit=0", wantStatus: 400},
		{name: "period events with a malformed cursor", as: "admin", method: "GET", path: "/api/accounts/{a}/segments/{period}/events?after=zz", wantStatus: 400},
		{name: "period events of a malformed period", as: "admin", method: "GET", path: "/api/accounts/{a}/segments/2026-1-1/events", wantStatus: 400},
		{name: "period events without a grant", as: "other", method: "GET", path: "/api/accounts/{a}/segments/{period}/events", wantStatus: 404, notBody: []string{"{key}"}},

		{name: "secrets by key id", as: "viewer", method: "GET", path: "/api/accounts/{a}/secrets?keys={key}," + strings.Repeat("0", 32), wantStatus: 200,
			wantBody: []string{`{"secrets":[{"keyId":"{key}","secretId":"`, `"wrappedSecret":"e1.`}, notBody: []string{`"next"`}},
		{name: "secrets by key id of another account", as: "admin", method: "GET", path: "/api/accounts/{b}/secrets?keys={key}", wantStatus: 200,
			wantBody: []string{`{"secrets":[]}`}},
		{name: "secrets by key id, none", as: "admin", method: "GET", path: "/api/accounts/{a}/secrets?keys=", wantStatus: 400},
		{name: "secrets by a malformed key id", as: "admin", method: "GET", path: "/api/accounts/{a}/secrets?keys={key},XYZ", wantStatus: 400},
		{name: "secrets by key id with a cursor", as: "admin", method: "GET", path: "/api/accounts/{a}/secrets?keys={key}&limit=5", wantStatus: 400},
		{name: "secrets by 500 key ids", as: "admin", method: "GET", wantStatus: 200,
			path: "/api/accounts/{a}/secrets?keys={key}" + strings.Repeat(","+strings.Repeat("1", 32), 499), wantBody: []string{"{key}"}},
		{name: "secrets by 501 key ids", as: "admin", method: "GET", wantStatus: 400,
			path: "/api/accounts/{a}/secrets?keys={key}" + strings.Repeat(","+strings.Repeat("1", 32), 500)},
		{name: "secrets by key id without a grant", as: "other", method: "GET", path: "/api/accounts/{a}/secrets?keys={key}", wantStatus: 404},

		{name: "events from a start", as: "viewer", method: "GET", wantStatus: 200,
			path: "/api/accounts/{a}/events?start=" + strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10),
			after: func(t *testing.T, w *segWorld, r reply) {
				if n := strings.Count(string(r.body), `"eventId"`); n != 3 {
					t.Errorf("got %d events from an hour before they were sent", n)
				}
				later := w.clock.Now().Add(-time.Minute).UnixMilli()
				r = w.do(call{method: "GET", path: w.expand(fmt.Sprintf("/api/accounts/{a}/events?start=%d", later)), cookie: w.viewer.cookie}).must(t, 200)
				if strings.Contains(string(r.body), `"eventId"`) {
					t.Errorf("events received before the start: %s", r.body)
				}
			}},
		{name: "events from a negative start", as: "admin", method: "GET", path: "/api/accounts/{a}/events?start=-1", wantStatus: 400},
		{name: "events from a start that is no number", as: "admin", method: "GET", path: "/api/accounts/{a}/events?start=today", wantStatus: 400},
		{name: "events from a start and a cursor", as: "admin", method: "GET", path: "/api/accounts/{a}/events?start=1&since=MQ", wantStatus: 400},
	} {
		sc.run(t, tm)
	}
}
