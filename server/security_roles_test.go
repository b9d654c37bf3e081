// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/keys/segment"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

// P7 (PROTOCOL §10): every /api/ operator route against every kind of
// caller, from a compact expectation table (§7.1 auth classes, §7.3 routes).
// Denials run on one shared copy of the world, whose database must be
// unchanged afterwards; each admitted state change runs on a copy of its own.

// The callers of the matrix.
var principals = []string{"none", "expired", "revoked", "nogrant", "pending", "viewer", "otheradmin", "admin", "setup", "retired"}

// roleWorld holds the logins of the matrix:
//
//	setup      the setup login, which gave up all its grants
//	admin      admin of A (its only admin) and former admin of R (retired)
//	viewer     viewer of A
//	otheradmin admin of C only
//	nogrant    signed in, its only grant (on C) revoked
//	pending    signed in, holding only a pending admin grant on A
//
// and the sessions "expired" (admin's, 12 hours idle) and "revoked"
// (admin's, logged out).
type roleWorld struct {
	*instance
	ops     map[string]*operator
	cookies map[string]string
	a, c, r string
	dbPath  string
}

func buildRoleWorld(t *testing.T) *roleWorld {
	t.Helper()
	in := newInstance(t, nil)
	w := &roleWorld{instance: in, ops: map[string]*operator{}, cookies: map[string]string{}}
	for _, n := range []string{"setup", "admin", "viewer", "otheradmin", "nogrant", "pending"} {
		w.ops[n] = newOperator(n + "@example.org")
	}
	s := w.ops["setup"]
	var r reply
	w.a, r = in.setup(t, s, "")
	r.must(t, http.StatusCreated)
	w.c, r = in.createAccount(t, s, "account C")
	r.must(t, http.StatusCreated)
	w.r, r = in.createAccount(t, s, "account R")
	r.must(t, http.StatusCreated)
	inviteJoin := func(who string, roles map[string]string) {
		t.Helper()
		inv, r := in.invite(t, s, w.ops[who].email, roles, false)
		r.must(t, http.StatusCreated)
		in.join(t, w.ops[who], inv).must(t, http.StatusOK)
		in.clock.Advance(time.Minute) // token throttles
	}
	inviteJoin("admin", map[string]string{w.a: "admin", w.r: "admin"})
	inviteJoin("viewer", map[string]string{w.a: "viewer"})
	inviteJoin("otheradmin", map[string]string{w.c: "admin"})
	inviteJoin("nogrant", map[string]string{w.c: "viewer"})
	inviteJoin("pending", map[string]string{w.c: "viewer"})
	for _, who := range []string{"nogrant", "pending"} {
		in.do(call{method: "DELETE", path: "/api/accounts/" + w.c + "/grants/" + w.ops[who].loginID, cookie: w.ops["otheradmin"].cookie}).must(t, http.StatusNoContent)
	}
	_, r = in.invite(t, w.ops["admin"], w.ops["pending"].email, map[string]string{w.a: "admin"}, false)
	r.must(t, http.StatusCreated)
	for _, id := range []string{w.a, w.c, w.r} {
		in.do(call{method: "DELETE", path: "/api/accounts/" + id + "/grants/" + s.loginID, cookie: s.cookie}).must(t, http.StatusNoContent)
	}
	adm := w.ops["admin"]
	in.do(call{method: "POST", path: "/api/accounts/" + w.r + "/retire", cookie: adm.cookie, body: map[string]any{"currentAuthKey": b64(adm.authKey)}}).must(t, http.StatusNoContent)
	// A visitor's events in A.
	v := newVisitor(t, in.h)
	k := vaultExchange(t, v, w.a)
	v.send(w.a, k, "https://www.example.net/1", "https://www.example.net/2").must(t, http.StatusCreated)

	// Sessions: one left idle for 12 hours, one logged out, fresh ones.
	expired := *adm
	in.login(t, &expired, "10.9.0.1").must(t, http.StatusOK)
	in.clock.Advance(12*time.Hour + time.Second)
	for n, o := range w.ops {
		in.login(t, o, "10.9.0.2").must(t, http.StatusOK)
		w.cookies[n] = o.cookie
	}
	revoked := *adm
	in.login(t, &revoked, "10.9.0.3").must(t, http.StatusOK)
	in.do(call{method: "POST", path: "/api/logout", cookie: revoked.cookie, body: "{}"}).must(t, http.StatusNoContent)
	w.cookies["expired"], w.cookies["revoked"], w.cookies["none"] = expired.cookie, revoked.cookie, ""
	w.cookies["retired"] = adm.cookie
	if err := w.closeStore(); err != nil {
		t.Fatal(err)
	}
	w.dbPath = filepath.Join(in.dbDir, "offen.db")
	return w
}

// clone copies the world's database into a new instance with its own clock
// and throttles.
func (w *roleWorld) clone(t *testing.T) *roleWorld {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Dir(w.dbPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(w.dbPath), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clock := &testClock{now: w.clock.Now()}
	path := filepath.Join(dir, "offen.db")
	store := persistencetest.OpenStore(t, persistencetest.Dialect{Name: relational.DialectSQLite, DSN: path}, persistencetest.WithNow(clock.Now))
	in := startOperatorInstance(t, store, clock, w.secret, w.setupToken, nil)
	c := &roleWorld{instance: in, ops: map[string]*operator{}, cookies: w.cookies, a: w.a, c: w.c, r: w.r, dbPath: path}
	for n, o := range w.ops {
		c.ops[n] = o.clone()
	}
	return c
}

// caller is the operator whose keys a principal's request uses.
func (w *roleWorld) caller(p string) *operator {
	switch p {
	case "none", "expired", "revoked", "retired":
		return w.ops["admin"]
	}
	return w.ops[p]
}

// target is the account a principal's request names.
func (w *roleWorld) target(p string) string {
	if p == "retired" {
		return w.r
	}
	return w.a
}

// matrixRoute is one route with its auth class of §7.3.
type matrixRoute struct {
	method, path string // path placeholders: {id} (the target), {viewer}, {admin}
	// class: "session", "grant", "admin", "creator", "invite", "revoke-viewer",
	// "revoke-admin" (the only admin of A), or "public:<status>".
	class string
	ok    int // status when admitted
	// mutates: an admitted request changes state. Changes of the caller's
	// own login and new accounts run one after the other on a copy of
	// their own (each caller's password change last); the others
	// (isolated) each on a copy.
	mutates, isolated bool
	body              func(t *testing.T, w *roleWorld, p string) any
	// check inspects an admitted response.
	check func(t *testing.T, w *roleWorld, p string, r reply)
}

// expect returns the status §7.1 and §7.3 prescribe for p on rt, and false
// where the cell does not apply.
func (rt matrixRoute) expect(p string) (int, bool) {
	if s, ok := strings.CutPrefix(rt.class, "public:"); ok {
		var n int
		fmt.Sscan(s, &n)
		return n, true
	}
	switch p {
	case "none", "expired", "revoked":
		return http.StatusUnauthorized, true
	}
	onID := strings.Contains(rt.path, "{id}") || rt.class == "invite"
	if p == "retired" && !onID && rt.class != "session" {
		return 0, false
	}
	if p == "retired" && rt.class == "session" && rt.mutates {
		return 0, false // the admin's own credentials: the admin column
	}
	switch rt.class {
	case "session":
		return rt.ok, true
	case "creator":
		switch p {
		case "otheradmin", "admin", "setup":
			return rt.ok, true
		}
		return http.StatusForbidden, true
	}
	// Routes on an account: without an active grant it does not exist.
	switch p {
	case "viewer":
		switch rt.class {
		case "grant":
			return rt.ok, true
		case "revoke-viewer":
			return http.StatusNoContent, true // giving up one's own grant
		}
		return http.StatusForbidden, true
	case "admin":
		if rt.class == "revoke-admin" {
			return http.StatusConflict, true // the last admin
		}
		return rt.ok, true
	}
	return http.StatusNotFound, true
}

func matrixRoutes() []matrixRoute {
	reauth := func(t *testing.T, w *roleWorld, p string) any {
		return map[string]any{"currentAuthKey": b64(w.caller(p).authKey)}
	}
	hasA := func(want map[string]string) func(t *testing.T, w *roleWorld, p string, r reply) {
		return func(t *testing.T, w *roleWorld, p string, r reply) {
			body := string(r.body)
			if strings.Contains(body, w.r) {
				t.Errorf("%s sees the retired account: %s", p, body)
			}
			state, listed := want[p]
			if !listed {
				if strings.Contains(body, w.a) {
					t.Errorf("%s sees A: %s", p, body)
				}
				if p == "setup" || p == "nogrant" || p == "pending" {
					if strings.Contains(body, w.c) {
						t.Errorf("%s sees C: %s", p, body)
					}
				}
				return
			}
			if !strings.Contains(body, w.a) || !strings.Contains(body, state) {
				t.Errorf("%s: got %s, want A with %s", p, body, state)
			}
		}
	}
	listed := map[string]string{"pending": `"state":"pending"`, "viewer": `"role":"viewer"`, "admin": `"role":"admin"`, "retired": `"role":"admin"`}
	return []matrixRoute{
		{method: "GET", path: "/api/login", class: "session", ok: 200, check: hasA(listed)},
		{method: "GET", path: "/api/accounts", class: "session", ok: 200, check: hasA(listed)},
		{method: "POST", path: "/api/accounts", class: "creator", ok: 201, mutates: true,
			body: func(t *testing.T, w *roleWorld, p string) any {
				o := w.caller(p)
				id, acc := o.newAccount(t, "new "+p)
				acc["wrappedKek"], acc["label"] = o.wrapKEK(t, id)
				return acc
			}},
		{method: "POST", path: "/api/change-email", class: "session", ok: 204, mutates: true,
			body: func(t *testing.T, w *roleWorld, p string) any {
				o := w.caller(p)
				var labels []any
				for id, kek := range o.keks {
					l, _ := keys.EncryptLabel(kek, id, "new-"+o.email)
					labels = append(labels, map[string]any{"accountId": id, "label": l})
				}
				return map[string]any{"currentAuthKey": b64(o.authKey), "email": "new-" + o.email, "labels": labels}
			}},
		{method: "POST", path: "/api/recovery-code", class: "session", ok: 204, mutates: true,
			body: func(t *testing.T, w *roleWorld, p string) any {
				o := w.caller(p)
				rk, _ := keys.DeriveRecoveryKeys(keys.NewRecoveryCode())
				wrapped, _ := keys.RecoveryWrapLoginKey(rk.Key, o.loginID, o.loginKey)
				return map[string]any{"currentAuthKey": b64(o.authKey), "recoveryWrappedLoginKey": wrapped, "recoveryProof": b64(rk.Proof)}
			}},
		{method: "POST", path: "/api/change-password", class: "session", ok: 200, mutates: true,
			body: func(t *testing.T, w *roleWorld, p string) any {
				o := w.caller(p)
				return map[string]any{"currentAuthKey": b64(o.authKey), "credentials": map[string]any{
					"salt": b64(keys.NewSalt()), "authKey": b64(keys.NewKey()), "wrappedLoginKey": mustWrap(t, o)}}
			}},
		{method: "POST", path: "/api/invitations", class: "invite", ok: 201, mutates: true, isolated: true,
			body: func(t *testing.T, w *roleWorld, p string) any {
				return inviteBody(t, w.caller(p), w.target(p), "invitee@example.org", false)
			}},
		{method: "GET", path: "/api/accounts/{id}", class: "grant", ok: 200,
			check: func(t *testing.T, w *roleWorld, p string, r reply) {
				if !strings.Contains(string(r.body), `"encryptedPrivateKey":"a1.`) {
					t.Errorf("got %s", r.body)
				}
			}},
		{method: "GET", path: "/api/accounts/{id}/grants", class: "grant", ok: 200},
		{method: "GET", path: "/api/accounts/{id}/events", class: "grant", ok: 200,
			check: func(t *testing.T, w *roleWorld, p string, r reply) {
				if bytes.Count(r.body, []byte(`"payload":"a1.`)) != 2 {
					t.Errorf("got %s, want the two events", r.body)
				}
			}},
		{method: "GET", path: "/api/accounts/{id}/secrets", class: "grant", ok: 200,
			check: func(t *testing.T, w *roleWorld, p string, r reply) {
				if !strings.Contains(string(r.body), `"wrappedSecret":"e1.`) {
					t.Errorf("got %s", r.body)
				}
			}},
		{method: "GET", path: "/api/accounts/{id}/secrets?keys=" + strings.Repeat("0", 32), class: "grant", ok: 200},
		{method: "GET", path: "/api/accounts/{id}/events?start=0", class: "grant", ok: 200,
			check: func(t *testing.T, w *roleWorld, p string, r reply) {
				if bytes.Count(r.body, []byte(`"payload":"a1.`)) != 2 {
					t.Errorf("got %s, want the two events", r.body)
				}
			}},
		{method: "GET", path: "/api/accounts/{id}/segments", class: "grant", ok: 200},
		{method: "GET", path: "/api/accounts/{id}/segments/{period}/events", class: "grant", ok: 200},
		{method: "PUT", path: "/api/accounts/{id}/segments/{period}", class: "grant", ok: 201, mutates: true, isolated: true,
			body: func(*testing.T, *roleWorld, string) any {
				_, digest, _ := segment.Coverage(nil)
				return map[string]any{"version": 1, "count": 0, "digest": digest, "segment": sealed(32)}
			}},
		{method: "POST", path: "/api/accounts/{id}/retire", class: "admin", ok: 204, mutates: true, isolated: true, body: reauth},
		{method: "PUT", path: "/api/accounts/{id}/allowed-origins", class: "admin", ok: 200, mutates: true, isolated: true,
			body: func(*testing.T, *roleWorld, string) any {
				return map[string]any{"origins": []string{"https://www.example.org"}}
			}},
		{method: "PUT", path: "/api/accounts/{id}/banner-styles", class: "admin", ok: 200, mutates: true, isolated: true,
			body: func(*testing.T, *roleWorld, string) any {
				return map[string]any{"css": ".offen-banner{color:#333}", "dryRun": false}
			}},
		{method: "PUT", path: "/api/accounts/{id}/grants/{viewer}", class: "admin", ok: 204, mutates: true, isolated: true,
			body: func(*testing.T, *roleWorld, string) any { return map[string]any{"role": "admin"} }},
		{method: "DELETE", path: "/api/accounts/{id}/grants/{viewer}", class: "revoke-viewer", ok: 204, mutates: true, isolated: true},
		{method: "DELETE", path: "/api/accounts/{id}/grants/{admin}", class: "revoke-admin", ok: 204, mutates: true, isolated: true},
		// Routes without session auth answer everyone alike.
		{method: "GET", path: "/api/setup", class: "public:200"},
		{method: "POST", path: "/api/login/salt", class: "public:200",
			body: func(*testing.T, *roleWorld, string) any { return map[string]any{"email": "viewer@example.org"} }},
		{method: "POST", path: "/api/forgot-password", class: "public:204",
			body: func(_ *testing.T, _ *roleWorld, p string) any {
				return map[string]any{"email": "nobody-" + p + "@example.org"}
			}},
		{method: "POST", path: "/api/reset-password/lookup", class: "public:404",
			body: func(*testing.T, *roleWorld, string) any {
				_, tok := keys.NewToken()
				return map[string]any{"token": tok}
			}},
		{method: "POST", path: "/api/join/lookup", class: "public:404",
			body: func(*testing.T, *roleWorld, string) any {
				_, tok := keys.NewToken()
				return map[string]any{"token": tok}
			}},
		{method: "POST", path: "/api/join", class: "public:404",
			body: func(*testing.T, *roleWorld, string) any {
				_, tok := keys.NewToken()
				return map[string]any{"token": tok, "grants": []any{}}
			}},
	}
}

func (w *roleWorld) request(t *testing.T, rt matrixRoute, p string, ip string) reply {
	t.Helper()
	// {period}: a closed day without events, three days back.
	period := w.clock.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
	path := strings.NewReplacer("{id}", w.target(p), "{viewer}", w.ops["viewer"].loginID, "{admin}", w.ops["admin"].loginID,
		"{period}", period).Replace(rt.path)
	var body any
	if rt.body != nil {
		body = rt.body(t, w, p)
	} else if rt.method != "GET" && rt.method != "DELETE" {
		body = "{}"
	}
	return w.do(call{method: rt.method, path: path, body: body, cookie: w.cookies[p], ip: ip})
}

// comparable is the dump without the sessions table (an expired session may
// be deleted when presented) and the migration bookkeeping.
func comparableDump(t *testing.T, path string) string {
	t.Helper()
	d := persistencetest.Dump(t, persistencetest.Dialect{Name: relational.DialectSQLite, DSN: path})
	var b strings.Builder
	for _, name := range d.TableNames() {
		if name == "sessions" || name == "locks" {
			continue
		}
		var rows []string
		for _, row := range d.Tables[name] {
			var cols []string
			for c, v := range row {
				cols = append(cols, c+"="+string(v))
			}
			sort.Strings(cols)
			rows = append(rows, strings.Join(cols, ","))
		}
		sort.Strings(rows)
		b.WriteString(name + ":\n" + strings.Join(rows, "\n") + "\n")
	}
	return b.String()
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	tm := buildRoleWorld(t)
	routes := matrixRoutes()
	cells := 0

	// Denials and reads on one shared copy.
	t.Run("shared", func(t *testing.T) {
		w := tm.clone(t)
		before := comparableDump(t, w.dbPath)
		ip := 0
		for _, rt := range routes {
			for _, p := range principals {
				want, ok := rt.expect(p)
				if !ok || (rt.mutates && want < 300) {
					continue
				}
				ip++
				cells++
				r := w.request(t, rt, p, fmt.Sprintf("10.10.%d.%d", ip/250, ip%250+1))
				if r.status != want {
					t.Errorf("%s %s as %s: got %d, want %d; %s", rt.method, rt.path, p, r.status, want, r.body)
					continue
				}
				if want < 300 && rt.check != nil {
					rt.check(t, w, p, r)
				}
				// A dead session's cookie is cleared where it lives (§7.1).
				if want == http.StatusUnauthorized && w.cookies[p] != "" {
					if c := r.setCookie; c == nil || c.MaxAge >= 0 || c.Path != "/api" || c.Value != "" || !c.HttpOnly {
						t.Errorf("%s %s as %s: got cookie %+v, want the login cookie cleared on Path=/api", rt.method, rt.path, p, c)
					}
				}
			}
		}
		if after := comparableDump(t, w.dbPath); after != before {
			t.Errorf("refused requests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		// Control: an admitted change shows in the comparison.
		w.do(call{method: "PUT", path: "/api/accounts/" + w.a + "/allowed-origins", cookie: w.cookies["admin"],
			body: `{"origins":["https://control.example.org"]}`}).must(t, http.StatusOK)
		if comparableDump(t, w.dbPath) == before {
			t.Error("control: an admitted change does not show in the database comparison")
		}
	})
	// Admitted changes of one's own login and new accounts, in order on one
	// copy.
	t.Run("own", func(t *testing.T) {
		t.Parallel()
		w := tm.clone(t)
		ip := 0
		for _, rt := range routes {
			for _, p := range principals {
				if want, ok := rt.expect(p); ok && rt.mutates && !rt.isolated && want < 300 {
					ip++
					r := w.request(t, rt, p, fmt.Sprintf("10.15.0.%d", ip))
					if r.status != want {
						t.Errorf("%s %s as %s: got %d, want %d; %s", rt.method, rt.path, p, r.status, want, r.body)
					}
				}
			}
		}
	})
	for _, rt := range routes {
		for _, p := range principals {
			want, ok := rt.expect(p)
			if !ok || !rt.mutates || want >= 300 {
				continue
			}
			cells++
			if !rt.isolated {
				continue
			}
			t.Run(rt.method+" "+rt.path+" as "+p, func(t *testing.T) {
				t.Parallel()
				w := tm.clone(t)
				r := w.request(t, rt, p, "10.11.0.1")
				if r.status != want {
					t.Fatalf("got %d, want %d; %s", r.status, want, r.body)
				}
				if rt.check != nil {
					rt.check(t, w, p, r)
				}
			})
		}
	}
	t.Logf("%d routes, %d cells", len(routes), cells)
	t.Run("an invitation naming an account not held changes nothing", func(t *testing.T) {
		t.Parallel()
		w := tm.clone(t)
		before := comparableDump(t, w.dbPath)
		inv, r := w.invite(t, w.ops["admin"], "mixed@example.org", map[string]string{w.a: "admin", w.c: "viewer"}, false)
		r.must(t, http.StatusNotFound)
		_, r = w.invite(t, w.ops["admin"], w.ops["viewer"].email, map[string]string{w.a: "admin", w.r: "viewer"}, false)
		r.must(t, http.StatusNotFound)
		if after := comparableDump(t, w.dbPath); after != before {
			t.Errorf("a refused invitation changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		w.do(call{method: "POST", path: "/api/join/lookup", body: map[string]any{"token": b64(inv.token)}}).must(t, http.StatusNotFound)
	})
	t.Run("lost grant loses rights", func(t *testing.T) {
		t.Parallel()
		lostGrantLosesRights(t, tm.clone(t))
	})
}

// lostGrantLosesRights: a demoted admin and a revoked viewer lose their
// rights on their very next request (P7).
func lostGrantLosesRights(t *testing.T, w *roleWorld) {
	adm, view := w.cookies["admin"], w.cookies["viewer"]
	a := w.a
	vid := w.ops["viewer"].loginID
	banner := func() int {
		return w.do(call{method: "PUT", path: "/api/accounts/" + a + "/banner-styles", cookie: view, body: `{"css":"","dryRun":true}`}).status
	}
	if got := banner(); got != http.StatusForbidden {
		t.Fatalf("viewer edits banner styles: got %d", got)
	}
	w.do(call{method: "PUT", path: "/api/accounts/" + a + "/grants/" + vid, cookie: adm, body: `{"role":"admin"}`}).must(t, http.StatusNoContent)
	if got := banner(); got != http.StatusOK {
		t.Fatalf("promoted: got %d, want 200", got)
	}
	w.do(call{method: "PUT", path: "/api/accounts/" + a + "/grants/" + vid, cookie: adm, body: `{"role":"viewer"}`}).must(t, http.StatusNoContent)
	if got := banner(); got != http.StatusForbidden {
		t.Errorf("demoted, banner styles: got %d, want 403", got)
	}
	if r := w.do(call{method: "POST", path: "/api/invitations", cookie: view, body: inviteBody(t, w.ops["viewer"], a, "x@example.org", false)}); r.status != http.StatusForbidden {
		t.Errorf("demoted, invitation: got %d, want 403", r.status)
	}
	if r := w.do(call{method: "PUT", path: "/api/accounts/" + a + "/grants/" + w.ops["admin"].loginID, cookie: view, body: `{"role":"viewer"}`}); r.status != http.StatusForbidden {
		t.Errorf("demoted, demoting the admin: got %d, want 403", r.status)
	}
	w.do(call{method: "GET", path: "/api/accounts/" + a + "/events", cookie: view}).must(t, http.StatusOK)

	w.do(call{method: "DELETE", path: "/api/accounts/" + a + "/grants/" + vid, cookie: adm}).must(t, http.StatusNoContent)
	for _, p := range []string{"", "/events", "/secrets", "/grants"} {
		if got := w.do(call{method: "GET", path: "/api/accounts/" + a + p, cookie: view}).status; got != http.StatusNotFound {
			t.Errorf("revoked, GET /api/accounts/{a}%s: got %d, want 404", p, got)
		}
	}
	for _, p := range []string{"/api/accounts", "/api/login"} {
		r := w.do(call{method: "GET", path: p, cookie: view}).must(t, http.StatusOK)
		if strings.Contains(string(r.body), a) {
			t.Errorf("revoked, GET %s still lists A: %s", p, r.body)
		}
	}
	if got := w.do(call{method: "DELETE", path: "/api/accounts/" + a + "/grants/" + vid, cookie: view}).status; got != http.StatusNotFound {
		t.Errorf("revoked, giving up the grant again: got %d, want 404", got)
	}
}
