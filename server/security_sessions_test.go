// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
	"github.com/offen/offen/server"
)

// P4 (PROTOCOL §10): the answers of salt, login and forgot-password do not
// tell an address with a login (active or pending) from an unknown one, and
// fake salts are stable across calls, spellings and restarts with the same
// secret.
func TestAddressesIndistinguishable(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	addresses := map[string]string{"active": w.admin.email, "pending": w.pending.email, "unknown": "nobody-p4@example.org"}
	kinds := []string{"active", "pending", "unknown"}

	// shape is a JSON body with every string replaced by its length and
	// every number kept (iterations are public parameters).
	shape := func(body []byte) string {
		var v any
		if len(body) == 0 {
			return ""
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("not JSON: %s", body)
		}
		var walk func(v any) any
		walk = func(v any) any {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					v[k] = walk(x)
				}
				return v
			case []any:
				for i, x := range v {
					v[i] = walk(x)
				}
				return v
			case string:
				return fmt.Sprintf("string(%d)", len(v))
			}
			return v
		}
		b, _ := json.Marshal(walk(v))
		return string(b)
	}
	headerNames := func(h http.Header) string {
		var names []string
		for k := range h {
			if k != "Date" && k != "X-Request-Id" {
				names = append(names, k+"="+strings.Join(h.Values(k), ";"))
			}
		}
		sort.Strings(names)
		return strings.Join(names, "\n")
	}
	type answer struct {
		status  int
		shape   string
		body    string
		headers string
	}
	compare := func(what string, got map[string]answer, sameBody bool) {
		t.Helper()
		ref := got["unknown"]
		for _, k := range kinds {
			a := got[k]
			if a.status != ref.status || a.shape != ref.shape || a.headers != ref.headers || sameBody && a.body != ref.body {
				t.Errorf("%s: the %s address answers %+v, an unknown one %+v", what, k, a, ref)
			}
		}
	}
	ip := 0
	ask := func(path string, body any) answer {
		ip++
		r := w.do(call{method: "POST", path: path, body: body, ip: fmt.Sprintf("10.12.0.%d", ip)})
		return answer{status: r.status, shape: shape(r.body), body: string(r.body), headers: headerNames(r.header)}
	}
	salts, logins, forgots := map[string]answer{}, map[string]answer{}, map[string]answer{}
	for _, k := range kinds {
		salts[k] = ask("/api/login/salt", map[string]any{"email": addresses[k]})
		logins[k] = ask("/api/login", map[string]any{"email": addresses[k], "authKey": b64(keys.NewKey())})
		forgots[k] = ask("/api/forgot-password", map[string]any{"email": addresses[k]})
	}
	compare("POST /api/login/salt", salts, false)
	compare("POST /api/login with a wrong key", logins, true)
	compare("POST /api/forgot-password", forgots, true)
	if salts["unknown"].status != 200 || logins["unknown"].status != 401 || forgots["unknown"].status != 204 {
		t.Errorf("got salt %d, login %d, forgot %d; want 200, 401, 204", salts["unknown"].status, logins["unknown"].status, forgots["unknown"].status)
	}

	// Fake salts: stable across calls, spellings and a restart with the same
	// secret; another secret or address gives another salt.
	saltOf := func(h http.Handler, email string) string {
		t.Helper()
		ip++
		r := httptest.NewRequest("POST", "/api/login/salt", strings.NewReader(`{"email":`+string(mustJSON(t, email))+`}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = fmt.Sprintf("10.13.0.%d:1000", ip)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var s struct {
			KDF struct {
				Salt string `json:"salt"`
			} `json:"kdf"`
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &s) != nil {
			t.Fatalf("salt: got %d %s", rec.Code, rec.Body)
		}
		raw, err := keys.DecodeBase64(s.KDF.Salt)
		if err != nil || len(raw) != keys.KDFSaltSize {
			t.Fatalf("salt %q is not 16 bytes in base64url", s.KDF.Salt)
		}
		return s.KDF.Salt
	}
	first := saltOf(w.h, "nobody-p4@example.org")
	for _, spelling := range []string{"nobody-p4@example.org", "NoBody-P4@Example.ORG", "  nobody-p4@example.org "} {
		if got := saltOf(w.h, spelling); got != first {
			t.Errorf("fake salt of %q: got %s, want %s", spelling, got, first)
		}
	}
	restarted := startOperatorInstance(t, w.store, w.clock, w.secret, w.setupToken, nil)
	if got := saltOf(restarted.h, "nobody-p4@example.org"); got != first {
		t.Errorf("fake salt after a restart: got %s, want %s", got, first)
	}
	if got := saltOf(restarted.h, w.pending.email); got == saltOf(restarted.h, "nobody-p4@example.org") {
		t.Error("two unknown addresses get the same fake salt")
	}
	other := startOperatorInstance(t, w.store, w.clock, keys.NewKey(), w.setupToken, nil)
	if got := saltOf(other.h, "nobody-p4@example.org"); got == first {
		t.Error("control: another instance secret gives the same fake salt")
	}
	// The real salt is served for the active login, not a fake one.
	if got := saltOf(w.h, w.admin.email); got != b64(w.admin.salt) {
		t.Errorf("salt of the active login: got %s, want its own", got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// P12: outside a secure context (http://localhost) the login cookie keeps
// HttpOnly, SameSite=Strict and Path=/api but drops Secure.
func TestLoginCookieInsecureContext(t *testing.T) {
	t.Parallel()
	const local = "http://localhost:9876"
	store := persistencetest.NewSQLiteStore(t)
	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	_, token := keys.NewToken()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := server.New(logger, server.Options{PublicURL: local, InstanceSecret: keys.NewKey(), SetupToken: token, Locale: "en",
		Retention: 186 * 24 * time.Hour}, store, mailer.NewLog(logger, false), loc, nil, nil)
	in := &instance{t: t, setupToken: token, logs: &syncBuffer{}, store: store, clock: &testClock{now: time.Now()}}
	// The harness sends the browser's Origin of publicURL; this instance
	// lives at local.
	in.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == publicURL {
			r.Header.Set("Origin", local)
		}
		h.ServeHTTP(w, r)
	})
	o := newOperator("local@example.org")
	_, r := in.setup(t, o, "")
	r.must(t, http.StatusCreated)
	for what, r := range map[string]reply{"setup": r, "login": in.login(t, o, "127.0.0.1").must(t, http.StatusOK)} {
		c := r.setCookie
		if c == nil || !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/api" || c.MaxAge != 7*24*3600 {
			t.Errorf("%s on %s: got login cookie %+v, want HttpOnly; SameSite=Strict; Path=/api; Max-Age=604800; not Secure", what, local, c)
		}
	}
}

// csrfRequest is a request a browser of another site could send: every
// state-changing route with a body that would be accepted.
type csrfRequest struct {
	method, path string
	body         any
	cookies      []*http.Cookie
	want         int // status with the right headers
}

// P12: every POST, PUT and DELETE under /api/, with a body and cookies that
// would be accepted, is refused with 403 and changes nothing in the
// database (sessions included) and sends no mail when it comes with a
// foreign Origin, Sec-Fetch-Site other than same-origin or a content type
// other than JSON. The same requests with the right headers then succeed.
func TestCSRFChangesNoState(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := filepath.Join(w.dbDir, "offen.db")
	login := func(o *operator) []*http.Cookie { return []*http.Cookie{{Name: "login", Value: o.cookie}} }

	// What the requests need: a reset token (mailed now), the pending
	// invitee's join, a visitor with consent and a user secret.
	resetToken := w.forgot(t, w.viewer, 1)
	w.clock.Advance(time.Minute)
	v := newVisitor(t, w.h)
	k := vaultExchange(t, v, w.a)
	visitor := []*http.Cookie{{Name: "user", Value: v.user}, {Name: "consent", Value: "allow"}}
	a, _ := w.store.FindAccount(t.Context(), w.a)
	pub, _ := keys.ParsePublicKey(a.PublicKey)
	wrapped, _ := keys.WrapUserSecret(pub, w.a, keys.NewKey())
	newKeyID := keys.NewKeyID()

	pendingJoin := func() map[string]any {
		w.pending.newPassword(t, "")
		var grants []any
		for id, kek := range w.admin.keks {
			if id == w.a {
				w.pending.loginKey = keys.NewKey()
				wk, _ := keys.WrapKEK(w.pending.loginKey, id, kek)
				grants = append(grants, map[string]any{"accountId": id, "wrappedKek": wk})
			}
		}
		return map[string]any{"token": b64(w.pendingInvite.token), "credentials": w.pending.credentials(t, true), "grants": grants}
	}()
	newAccount := func() map[string]any {
		id, acc := w.admin.newAccount(t, "csrf")
		acc["wrappedKek"], acc["label"] = w.admin.wrapKEK(t, id)
		return acc
	}()
	recovery := func() map[string]any {
		rk, _ := keys.DeriveRecoveryKeys(keys.NewRecoveryCode())
		wr, _ := keys.RecoveryWrapLoginKey(rk.Key, w.admin.loginID, w.admin.loginKey)
		return map[string]any{"currentAuthKey": b64(w.admin.authKey), "recoveryWrappedLoginKey": wr, "recoveryProof": b64(rk.Proof)}
	}()
	labels := []any{}
	for id, kek := range w.admin.keks {
		l, _ := keys.EncryptLabel(kek, id, "moved@example.org")
		labels = append(labels, map[string]any{"accountId": id, "label": l})
	}
	viewerReset := func() map[string]any {
		o := w.viewer.clone()
		o.newPassword(t, "")
		return map[string]any{"token": resetToken, "credentials": o.credentials(t, false)}
	}()
	// The admin's password change comes after the e-mail change, both with
	// the current key.
	newAuth := keys.NewKey()
	setupBody := func() map[string]any {
		o := newOperator("second@example.org")
		o.loginID = keys.NewUUID()
		o.newPassword(t, "")
		id, acc := o.newAccount(t, "x")
		creds := o.credentials(t, false)
		wk, l := o.wrapKEK(t, id)
		return map[string]any{"setupToken": w.setupToken, "email": o.email, "credentials": creds, "account": acc,
			"grant": map[string]any{"wrappedKek": wk, "label": l}}
	}()

	admin := login(w.admin)
	reqs := []csrfRequest{
		{"POST", "/api/login/salt", map[string]any{"email": w.admin.email}, nil, 200},
		{"POST", "/api/login", map[string]any{"email": w.admin.email, "authKey": b64(w.admin.authKey)}, nil, 200},
		{"POST", "/api/exchange", map[string]any{"accountId": w.a, "keyId": newKeyID, "wrappedSecret": wrapped}, visitor, 201},
		{"POST", "/api/events", map[string]any{"accountId": w.a, "keyId": k, "payloads": []string{v.payload(k, map[string]any{"v": 1, "type": "PAGEVIEW"})}}, visitor, 201},
		{"POST", "/api/purge", map[string]any{"forget": true}, visitor, 204},
		{"PUT", "/api/accounts/" + w.a + "/allowed-origins", map[string]any{"origins": []string{"https://csrf.example.org"}}, admin, 200},
		{"PUT", "/api/accounts/" + w.a + "/banner-styles", map[string]any{"css": ".offen-banner{color:#000}", "dryRun": false}, admin, 200},
		{"PUT", "/api/accounts/" + w.a + "/grants/" + w.viewer.loginID, map[string]any{"role": "admin"}, admin, 204},
		{"DELETE", "/api/accounts/" + w.a + "/grants/" + w.viewer.loginID, nil, admin, 204},
		{"POST", "/api/invitations", inviteBody(t, w.admin, w.b, "csrf-invitee@example.org", true), admin, 201},
		{"POST", "/api/accounts", newAccount, admin, 201},
		{"POST", "/api/join/lookup", map[string]any{"token": b64(w.pendingInvite.token)}, nil, 200},
		{"POST", "/api/join", pendingJoin, nil, 200},
		{"POST", "/api/recovery-code", recovery, admin, 204},
		{"POST", "/api/change-email", map[string]any{"currentAuthKey": b64(w.admin.authKey), "email": "moved@example.org", "labels": labels}, admin, 204},
		{"POST", "/api/forgot-password", map[string]any{"email": w.other.email}, nil, 204},
		{"POST", "/api/reset-password/lookup", map[string]any{"token": resetToken}, nil, 200},
		{"POST", "/api/reset-password", viewerReset, nil, 200},
		{"POST", "/api/setup", setupBody, nil, 409},
		{"POST", "/api/change-password", map[string]any{"currentAuthKey": b64(w.admin.authKey), "credentials": map[string]any{
			"salt": b64(keys.NewSalt()), "authKey": b64(newAuth), "wrappedLoginKey": mustWrap(t, w.admin)}}, admin, 200},
		{"POST", "/api/accounts/" + w.b + "/retire", map[string]any{"currentAuthKey": b64(newAuth)}, nil, 204}, // cookie set below
		{"POST", "/api/logout", map[string]any{}, nil, 204},
	}
	n := 0
	send := func(rq csrfRequest, cookies []*http.Cookie, headers map[string]string) *httptest.ResponseRecorder {
		t.Helper()
		n++
		var body io.Reader = http.NoBody
		if rq.body != nil {
			body = bytes.NewReader(mustJSON(t, rq.body))
		}
		r := httptest.NewRequest(rq.method, rq.path, body)
		r.RemoteAddr = fmt.Sprintf("10.14.%d.%d:1000", n/250, n%250+1)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", publicURL)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		for k, v := range headers {
			if v == "" {
				r.Header.Del(k)
			} else {
				r.Header.Set(k, v)
			}
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, r)
		return rec
	}
	variants := map[string]map[string]string{
		"foreign Origin":             {"Origin": "https://evil.example"},
		"Origin null":                {"Origin": "null"},
		"Origin of another port":     {"Origin": publicURL + ":8443"},
		"Sec-Fetch-Site cross-site":  {"Sec-Fetch-Site": "cross-site", "Origin": ""},
		"Sec-Fetch-Site same-site":   {"Sec-Fetch-Site": "same-site", "Origin": ""},
		"Sec-Fetch-Site none":        {"Sec-Fetch-Site": "none"},
		"text/plain":                 {"Content-Type": "text/plain"},
		"form":                       {"Content-Type": "application/x-www-form-urlencoded"},
		"multipart":                  {"Content-Type": "multipart/form-data; boundary=x"},
		"no content type":            {"Content-Type": ""},
		"text/plain, no other hints": {"Content-Type": "text/plain", "Origin": "", "Sec-Fetch-Site": ""},
	}
	mails := len(w.links(publicURL))
	before := persistencetest.Dump(t, persistencetest.Dialect{Name: relational.DialectSQLite, DSN: path}).Tables
	delete(before, "locks")
	for _, rq := range reqs {
		for name, headers := range variants {
			cookies := rq.cookies
			if cookies == nil && (rq.path == "/api/logout" || strings.HasSuffix(rq.path, "/retire")) {
				cookies = admin
			}
			rec := send(rq, cookies, headers)
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s %s with %s: got %d, want 403; %s", rq.method, rq.path, name, rec.Code, rec.Body)
			}
			if sc := rec.Result().Cookies(); len(sc) != 0 {
				t.Errorf("%s %s with %s: a refused request sets cookies %v", rq.method, rq.path, name, sc)
			}
		}
	}
	time.Sleep(50 * time.Millisecond) // mail is sent in the background
	after := persistencetest.Dump(t, persistencetest.Dialect{Name: relational.DialectSQLite, DSN: path}).Tables
	delete(after, "locks")
	if !reflect.DeepEqual(before, after) {
		for table := range before {
			if !reflect.DeepEqual(before[table], after[table]) {
				t.Errorf("refused requests changed table %s:\nbefore %q\nafter  %q", table, before[table], after[table])
			}
		}
	}
	if got := len(w.links(publicURL)); got != mails {
		t.Errorf("refused requests sent %d mails", got-mails)
	}

	// The same requests from the instance's own pages succeed, so each
	// would have changed something.
	for _, rq := range reqs {
		cookies := rq.cookies
		if rq.path == "/api/logout" || strings.HasSuffix(rq.path, "/retire") {
			// The password change replaced the admin's session.
			cookies = []*http.Cookie{{Name: "login", Value: w.admin.cookie}}
		}
		rec := send(rq, cookies, nil)
		if rec.Code != rq.want {
			t.Errorf("control: %s %s with the right headers: got %d, want %d; %s", rq.method, rq.path, rec.Code, rq.want, rec.Body)
		}
		if rq.path == "/api/change-password" {
			for _, c := range rec.Result().Cookies() {
				if c.Name == "login" {
					w.admin.cookie = c.Value
				}
			}
		}
	}
}
