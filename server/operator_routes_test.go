// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// sealedGoals has the form of goals sealed under a KEK (keys/PROTOCOL.md §12); the server
// only checks the form.
var sealedGoals = "a1.AAAAAAAAAAAAAAAA." + strings.Repeat("A", 43)

// opScenario is one request against a fresh world (see newWorld).
type opScenario struct {
	name string
	// as is whose login cookie the request carries: "", "admin", "viewer",
	// "other", "expired" (admin's, 13 hours idle), "revoked" (admin's after
	// logout), "aged" (admin's, used every hour for more than 7 days).
	as     string
	method string
	path   string // with the placeholders of world.expand
	body   func(t *testing.T, w *world) any
	// headers override the browser headers of call (empty value: remove).
	headers    map[string]string
	before     func(t *testing.T, w *world)
	wantStatus int
	wantBody   []string
	notBody    []string
	after      func(t *testing.T, w *world, r reply)
}

func (sc opScenario) run(t *testing.T, tm *worldTemplate) {
	t.Run(sc.name, func(t *testing.T) {
		t.Parallel()
		w := tm.clone(t)
		if sc.before != nil {
			sc.before(t, w)
		}
		cookie := ""
		switch sc.as {
		case "admin":
			cookie = w.admin.cookie
		case "viewer":
			cookie = w.viewer.cookie
		case "other":
			cookie = w.other.cookie
		case "expired":
			cookie = w.admin.cookie
			w.clock.Advance(12*time.Hour + time.Second)
		case "revoked":
			cookie = w.admin.cookie
			w.do(call{method: "POST", path: "/api/logout", cookie: cookie, body: "{}"}).must(t, http.StatusNoContent)
		case "aged":
			cookie = w.admin.cookie
			for range 7*24 - 1 {
				w.clock.Advance(time.Hour)
				w.do(call{method: "GET", path: "/api/login", cookie: cookie}).must(t, http.StatusOK)
			}
			w.clock.Advance(time.Hour)
		}
		var body any
		if sc.body != nil {
			body = sc.body(t, w)
		}
		if s, ok := body.(string); ok {
			body = w.expand(s)
		}
		r := w.do(call{method: sc.method, path: w.expand(sc.path), body: body, cookie: cookie, headers: sc.headers})
		if r.status != sc.wantStatus {
			t.Fatalf("got status %d, want %d; body %s", r.status, sc.wantStatus, r.body)
		}
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("got Cache-Control %q, want no-store", got)
		}
		r.checkBody(t, w.expand, sc.wantBody, sc.notBody)
		if sc.after != nil {
			sc.after(t, w, r)
		}
	})
}

func raw(s string) func(*testing.T, *world) any {
	return func(*testing.T, *world) any { return s }
}

// reauth is a body with the admin's current auth key (or a wrong one).
func reauth(right bool) func(*testing.T, *world) any {
	return func(t *testing.T, w *world) any {
		key := keys.NewKey()
		if right {
			key = w.admin.authKey
		}
		return map[string]any{"currentAuthKey": b64(key)}
	}
}

// stillSignedIn checks that a cookie still works (or not).
func stillSignedIn(t *testing.T, w *world, cookie string, want bool) {
	t.Helper()
	status := w.do(call{method: "GET", path: "/api/login", cookie: cookie}).status
	if (status == http.StatusOK) != want {
		t.Errorf("GET /api/login: got %d, want signed in %v", status, want)
	}
}

func grantOf(t *testing.T, w *world, loginID, accountID string) persistence.Grant {
	t.Helper()
	g, err := w.store.FindGrant(t.Context(), loginID, accountID)
	if err != nil {
		t.Fatalf("find grant: %v", err)
	}
	return g
}

func TestOperatorRoutes(t *testing.T) {
	t.Parallel()
	tm := newWorldTemplate(t)
	for _, sc := range []opScenario{
		// Login salt and login (P4: unknown addresses look alike).
		{name: "salt of a login", method: "POST", path: "/api/login/salt",
			body:       raw(`{"email":"Admin@Example.org "}`),
			wantStatus: 200, wantBody: []string{`"alg":"pbkdf2-sha256"`, `"iterations":600000`},
			after: func(t *testing.T, w *world, r reply) {
				if !strings.Contains(string(r.body), b64(w.admin.salt)) {
					t.Errorf("got %s, want the admin's salt", r.body)
				}
			}},
		{name: "salt of an unknown address is fake and stable", method: "POST", path: "/api/login/salt",
			body: raw(`{"email":"nobody@example.org"}`), wantStatus: 200, wantBody: []string{`"iterations":600000`},
			after: func(t *testing.T, w *world, r reply) {
				again := w.do(call{method: "POST", path: "/api/login/salt", body: `{"email":"NOBODY@example.org"}`}).must(t, 200)
				if string(again.body) != string(r.body) {
					t.Errorf("fake salt changed: %s then %s", r.body, again.body)
				}
				pending := w.do(call{method: "POST", path: "/api/login/salt", body: `{"email":"pending@example.org"}`}).must(t, 200)
				if len(pending.body) != len(r.body) {
					t.Errorf("pending login's answer differs in shape: %s vs %s", pending.body, r.body)
				}
			}},
		{name: "salt of a malformed address", method: "POST", path: "/api/login/salt",
			body: raw(`{"email":"no-at-sign"}`), wantStatus: 400, wantBody: []string{`"fields"`}},
		{name: "login with a wrong key", method: "POST", path: "/api/login",
			body: func(t *testing.T, w *world) any {
				return map[string]any{"email": w.admin.email, "authKey": b64(keys.NewKey())}
			},
			wantStatus: 401, wantBody: []string{`{"error":"unauthorized","status":401}`},
			after: func(t *testing.T, w *world, r reply) {
				unknown := w.do(call{method: "POST", path: "/api/login", body: map[string]any{"email": "nobody@example.org", "authKey": b64(keys.NewKey())}})
				if unknown.status != 401 || string(unknown.body) != string(r.body) {
					t.Errorf("unknown address: got %d %s, want the same as a wrong key", unknown.status, unknown.body)
				}
				pending := w.do(call{method: "POST", path: "/api/login", body: map[string]any{"email": "pending@example.org", "authKey": b64(keys.NewKey())}})
				if pending.status != 401 {
					t.Errorf("pending login: got %d, want 401", pending.status)
				}
			}},
		{name: "login sets the session cookie", method: "POST", path: "/api/login",
			body: func(t *testing.T, w *world) any {
				return map[string]any{"email": w.admin.email, "authKey": b64(w.admin.authKey)}
			},
			wantStatus: 200, wantBody: []string{`"loginId":"{admin}"`, `"canCreateAccounts":true`, `"accountId":"{a}"`, `"state":"active"`, `"sessionExpiresAt"`},
			after: func(t *testing.T, w *world, r reply) {
				c := r.setCookie
				if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/api" || c.MaxAge != 7*24*3600 {
					t.Errorf("got cookie %+v, want HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age=604800", c)
				}
				if raw, err := keys.ParseToken(c.Value); err != nil || len(raw) != 32 {
					t.Errorf("got cookie value %q, want 32 bytes in base64url", c.Value)
				}
				stillSignedIn(t, w, c.Value, true)
			}},

		// Sessions (P12): whoami, logout, expiry.
		{name: "whoami without a session", method: "GET", path: "/api/login", wantStatus: 401},
		{name: "whoami of the viewer", as: "viewer", method: "GET", path: "/api/login",
			wantStatus: 200, wantBody: []string{`"loginId":"{viewer}"`, `"canCreateAccounts":false`, `"role":"viewer"`}, notBody: []string{"{b}"}},
		{name: "whoami after 12 idle hours", as: "expired", method: "GET", path: "/api/login", wantStatus: 401,
			after: func(t *testing.T, w *world, r reply) {
				if r.setCookie == nil || r.setCookie.MaxAge >= 0 {
					t.Errorf("got cookie %+v, want it cleared", r.setCookie)
				}
			}},
		{name: "whoami after 7 days in use", as: "aged", method: "GET", path: "/api/login", wantStatus: 401},
		{name: "whoami after logout", as: "revoked", method: "GET", path: "/api/login", wantStatus: 401},
		{name: "logout", as: "admin", method: "POST", path: "/api/logout", body: raw(`{}`), wantStatus: 204,
			after: func(t *testing.T, w *world, r reply) {
				if r.setCookie == nil || r.setCookie.MaxAge >= 0 {
					t.Errorf("got cookie %+v, want it cleared", r.setCookie)
				}
				stillSignedIn(t, w, w.admin.cookie, false)
				stillSignedIn(t, w, w.viewer.cookie, true)
			}},
		{name: "logout without a session", method: "POST", path: "/api/logout", body: raw(`{}`), wantStatus: 204},

		// Setup.
		{name: "setup status after setup", method: "GET", path: "/api/setup", wantStatus: 200,
			wantBody: []string{`{"required":false}`}},
		{name: "setup again", method: "POST", path: "/api/setup",
			body: func(t *testing.T, w *world) any {
				o := newOperator("second@example.org")
				o.loginID = keys.NewUUID()
				o.newPassword(t, "")
				creds := o.credentials(t, false)
				id, acc := o.newAccount(t, "x")
				wk, l := o.wrapKEK(t, id)
				return map[string]any{"setupToken": w.setupToken, "loginId": o.loginID, "email": o.email,
					"credentials": creds, "account": acc, "grant": map[string]any{"wrappedKek": wk, "label": l}}
			},
			wantStatus: 409},
		{name: "setup with a wrong token", method: "POST", path: "/api/setup",
			body: func(t *testing.T, w *world) any {
				o := newOperator("second@example.org")
				o.loginID = keys.NewUUID()
				o.newPassword(t, "")
				creds := o.credentials(t, false)
				id, acc := o.newAccount(t, "x")
				wk, l := o.wrapKEK(t, id)
				_, tok := keys.NewToken()
				return map[string]any{"setupToken": tok, "email": o.email,
					"credentials": creds, "account": acc, "grant": map[string]any{"wrappedKek": wk, "label": l}}
			},
			wantStatus: 403},

		// Credentials (reauth).
		{name: "change password with a wrong current key", as: "admin", method: "POST", path: "/api/change-password",
			body: func(t *testing.T, w *world) any {
				return map[string]any{"currentAuthKey": b64(keys.NewKey()), "credentials": map[string]any{
					"salt": b64(keys.NewSalt()), "authKey": b64(keys.NewKey()), "wrappedLoginKey": mustWrap(t, w.admin)}}
			},
			wantStatus: 401,
			after: func(t *testing.T, w *world, r reply) {
				stillSignedIn(t, w, w.admin.cookie, true)
			}},
		{name: "change password revokes the other sessions", as: "admin", method: "POST", path: "/api/change-password",
			before: func(t *testing.T, w *world) {
				second := *w.admin
				w.login(t, &second, "203.0.113.5").must(t, 200)
				w.pending.cookie = second.cookie // keep the second session's cookie
			},
			body: func(t *testing.T, w *world) any {
				old := w.admin.authKey
				w.admin.newPassword(t, "")
				return map[string]any{"currentAuthKey": b64(old), "credentials": map[string]any{
					"salt": b64(w.admin.salt), "authKey": b64(w.admin.authKey), "wrappedLoginKey": mustWrap(t, w.admin)}}
			},
			wantStatus: 200, wantBody: []string{`"loginId":"{admin}"`},
			after: func(t *testing.T, w *world, r reply) {
				stillSignedIn(t, w, w.admin.cookie, false)
				stillSignedIn(t, w, w.pending.cookie, false)
				stillSignedIn(t, w, r.cookie, true)
				w.login(t, w.admin, "203.0.113.6").must(t, 200)
			}},
		{name: "change e-mail to a taken address", as: "admin", method: "POST", path: "/api/change-email",
			body: func(t *testing.T, w *world) any {
				return map[string]any{"currentAuthKey": b64(w.admin.authKey), "email": "viewer@example.org", "labels": []any{}}
			},
			wantStatus: 409},
		{name: "change e-mail", as: "admin", method: "POST", path: "/api/change-email",
			body: func(t *testing.T, w *world) any {
				l, _ := keys.EncryptLabel(w.admin.keks[w.a], w.a, "new@example.org")
				return map[string]any{"currentAuthKey": b64(w.admin.authKey), "email": "new@example.org",
					"labels": []any{map[string]any{"accountId": w.a, "label": l}}}
			},
			wantStatus: 204,
			after: func(t *testing.T, w *world, r reply) {
				old := *w.admin
				w.login(t, &old, "203.0.113.7").must(t, 401)
				w.admin.email = "new@example.org"
				w.login(t, w.admin, "203.0.113.7").must(t, 200)
				label := grantOf(t, w, w.admin.loginID, w.a).Label
				if got, _ := keys.DecryptLabel(w.admin.keks[w.a], w.a, label); got != "new@example.org" {
					t.Errorf("got label %q, want the new address", got)
				}
			}},
		{name: "recovery code", as: "admin", method: "POST", path: "/api/recovery-code",
			body: func(t *testing.T, w *world) any {
				code := keys.NewRecoveryCode()
				rk, _ := keys.DeriveRecoveryKeys(code)
				wrapped, _ := keys.RecoveryWrapLoginKey(rk.Key, w.admin.loginID, w.admin.loginKey)
				return map[string]any{"currentAuthKey": b64(w.admin.authKey), "recoveryWrappedLoginKey": wrapped, "recoveryProof": b64(rk.Proof)}
			},
			wantStatus: 204},
		{name: "recovery code with a wrong current key", as: "admin", method: "POST", path: "/api/recovery-code",
			body: func(t *testing.T, w *world) any {
				rk, _ := keys.DeriveRecoveryKeys(keys.NewRecoveryCode())
				wrapped, _ := keys.RecoveryWrapLoginKey(rk.Key, w.admin.loginID, w.admin.loginKey)
				return map[string]any{"currentAuthKey": b64(keys.NewKey()), "recoveryWrappedLoginKey": wrapped, "recoveryProof": b64(rk.Proof)}
			},
			wantStatus: 401},
		{name: "change password without a session", method: "POST", path: "/api/change-password",
			body: raw(`{}`), wantStatus: 401},

		// Forgot and reset.
		{name: "forgot an unknown address", method: "POST", path: "/api/forgot-password",
			body: raw(`{"email":"nobody@example.org"}`), wantStatus: 204},
		{name: "reset lookup with an unknown token", method: "POST", path: "/api/reset-password/lookup",
			body:       func(t *testing.T, w *world) any { _, tok := keys.NewToken(); return map[string]any{"token": tok} },
			wantStatus: 404},
		{name: "reset with an unknown token", method: "POST", path: "/api/reset-password",
			body: func(t *testing.T, w *world) any {
				_, tok := keys.NewToken()
				w.admin.newPassword(t, "")
				return map[string]any{"token": tok, "credentials": w.admin.credentials(t, true)}
			},
			wantStatus: 404},

		// Accounts.
		{name: "list accounts without a session", method: "GET", path: "/api/accounts", wantStatus: 401},
		{name: "list accounts of the admin", as: "admin", method: "GET", path: "/api/accounts", wantStatus: 200,
			wantBody: []string{`"accountId":"{a}"`, `"accountId":"{b}"`, `"accountId":"{c}"`, `"role":"admin"`}},
		{name: "list accounts of the viewer", as: "viewer", method: "GET", path: "/api/accounts", wantStatus: 200,
			wantBody: []string{`"accountId":"{a}"`, `"role":"viewer"`, `"state":"active"`}, notBody: []string{"{b}", "{c}"}},
		{name: "create an account as a viewer", as: "viewer", method: "POST", path: "/api/accounts",
			body: func(t *testing.T, w *world) any {
				id, acc := w.viewer.newAccount(t, "mine")
				acc["wrappedKek"], acc["label"] = w.viewer.wrapKEK(t, id)
				return acc
			},
			wantStatus: 403},
		{name: "create an account as an admin of another account", as: "other", method: "POST", path: "/api/accounts",
			body: func(t *testing.T, w *world) any {
				id, acc := w.other.newAccount(t, "mine")
				acc["wrappedKek"], acc["label"] = w.other.wrapKEK(t, id)
				return acc
			},
			wantStatus: 201, wantBody: []string{`"name":"mine"`, `"allowedOrigins":[]`, `"retentionDays":186`}},
		{name: "create an account with a taken id", as: "admin", method: "POST", path: "/api/accounts",
			body: func(t *testing.T, w *world) any {
				_, acc := w.admin.newAccount(t, "dup")
				acc["accountId"] = w.a
				w.admin.keks[w.a] = w.admin.keks[w.a]
				acc["wrappedKek"], acc["label"] = w.admin.wrapKEK(t, w.a)
				return acc
			},
			wantStatus: 409},
		{name: "create an account with a malformed key", as: "admin", method: "POST", path: "/api/accounts",
			body: func(t *testing.T, w *world) any {
				id, acc := w.admin.newAccount(t, "bad")
				acc["wrappedKek"], acc["label"] = w.admin.wrapKEK(t, id)
				acc["publicKey"] = "p256.AAAA"
				return acc
			},
			wantStatus: 400, wantBody: []string{`"publicKey"`}},
		{name: "get an account as viewer", as: "viewer", method: "GET", path: "/api/accounts/{a}", wantStatus: 200,
			wantBody: []string{`"accountId":"{a}"`, `"publicKey":"p256.`, `"encryptedPrivateKey":"a1.`, `"bannerCss":""`}},
		{name: "get an account without a grant", as: "other", method: "GET", path: "/api/accounts/{a}", wantStatus: 404},
		{name: "get an account with a pending grant", as: "other", method: "GET", path: "/api/accounts/{a}",
			before: func(t *testing.T, w *world) {
				_, r := w.invite(t, w.admin, w.other.email, map[string]string{w.a: "admin"}, false)
				r.must(t, 201)
			},
			wantStatus: 404,
			after: func(t *testing.T, w *world, r reply) {
				list := w.do(call{method: "GET", path: "/api/accounts", cookie: w.other.cookie}).must(t, 200)
				if !strings.Contains(string(list.body), `"accountId":"`+w.a+`","name":"first site","role":"admin","state":"pending"`) {
					t.Errorf("got %s, want A listed as pending", list.body)
				}
				w.do(call{method: "GET", path: "/api/accounts/" + w.a + "/grants", cookie: w.other.cookie}).must(t, 404)
				w.do(call{method: "PUT", path: "/api/accounts/" + w.a + "/banner-styles", cookie: w.other.cookie, body: `{"css":"","dryRun":true}`}).must(t, 404)
			}},
		{name: "get a retired account", as: "admin", method: "GET", path: "/api/accounts/{a}",
			before: func(t *testing.T, w *world) {
				if err := w.store.RetireAccount(t.Context(), w.a); err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: 404},
		{name: "get an unknown account", as: "admin", method: "GET", path: "/api/accounts/{unknown}", wantStatus: 404},
		{name: "get a malformed account id", as: "admin", method: "GET", path: "/api/accounts/x", wantStatus: 404},
		{name: "get an account after 12 idle hours", as: "expired", method: "GET", path: "/api/accounts/{a}", wantStatus: 401},
		{name: "retire as viewer", as: "viewer", method: "POST", path: "/api/accounts/{a}/retire", body: reauth(true), wantStatus: 403},
		{name: "retire without a grant", as: "other", method: "POST", path: "/api/accounts/{a}/retire", body: reauth(true), wantStatus: 404},
		{name: "retire with a wrong current key", as: "admin", method: "POST", path: "/api/accounts/{a}/retire", body: reauth(false), wantStatus: 401},
		{name: "retire", as: "admin", method: "POST", path: "/api/accounts/{a}/retire", body: reauth(true), wantStatus: 204,
			before: func(t *testing.T, w *world) {
				// A visitor's secret and event in the account.
				a, _ := w.store.FindAccount(t.Context(), w.a)
				pub, _ := keys.ParsePublicKey(a.PublicKey)
				wrapped, err := keys.WrapUserSecret(pub, w.a, keys.NewKey())
				if err != nil {
					t.Fatal(err)
				}
				secretID, _ := keys.SecretID(a.UserSalt, make([]byte, 16))
				sec, err := w.store.CreateSecret(t.Context(), persistence.Secret{KeyID: keys.NewKeyID(), AccountID: w.a, SecretID: secretID, WrappedSecret: wrapped})
				if err != nil {
					t.Fatal(err)
				}
				w.notes["secretId"], w.notes["keyId"] = secretID, sec.KeyID
				cipher, _ := keys.NewCipher(keys.NewKey())
				_, err = w.store.CreateEvents(t.Context(), persistence.NewEvents{AccountID: w.a, SecretID: secretID, KeyID: sec.KeyID,
					Payloads: []string{keys.EncryptEvent(cipher, w.a, []byte(`{"v":1}`))}})
				if err != nil {
					t.Fatal(err)
				}
			},
			after: func(t *testing.T, w *world, r reply) {
				// The events and secrets go in the background.
				deadline := time.Now().Add(10 * time.Second)
				for {
					n := 0
					err := w.store.ExportEvents(t.Context(), []string{w.notes["secretId"]}, func(persistence.Event) error { n++; return nil })
					_, ferr := w.store.FindSecret(t.Context(), w.notes["keyId"])
					if err == nil && n == 0 && errors.Is(ferr, persistence.ErrNotFound) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the retired account's data is still there: %d events, secret %v", n, ferr)
					}
					time.Sleep(10 * time.Millisecond)
				}
				w.do(call{method: "GET", path: "/api/accounts/" + w.a, cookie: w.admin.cookie}).must(t, 404)
				w.do(call{method: "GET", path: "/api/accounts/" + w.a, cookie: w.viewer.cookie}).must(t, 404)
				a, err := w.store.FindAccount(t.Context(), w.a)
				if err != nil || !a.Retired {
					t.Errorf("got %+v, %v, want retired", a, err)
				}
			}},
		{name: "allowed origins", as: "admin", method: "PUT", path: "/api/accounts/{a}/allowed-origins",
			body:       raw(`{"origins":["https://www.Example.org","https://shop.other.net:8443","http://localhost:8080","https://www.example.org/"]}`),
			wantStatus: 200,
			wantBody: []string{`{"origin":"https://www.example.org","sameSite":true}`, `{"origin":"https://shop.other.net:8443","sameSite":false}`,
				`{"origin":"http://localhost:8080","sameSite":false}`},
			after: func(t *testing.T, w *world, r reply) {
				a, _ := w.store.FindAccount(t.Context(), w.a)
				if len(a.AllowedOrigins) != 3 {
					t.Errorf("got %v stored, want three distinct origins", a.AllowedOrigins)
				}
			}},
		{name: "allowed origins over http", as: "admin", method: "PUT", path: "/api/accounts/{a}/allowed-origins",
			body: raw(`{"origins":["http://www.example.org"]}`), wantStatus: 400, wantBody: []string{`"origins"`}},
		{name: "allowed origins with a path", as: "admin", method: "PUT", path: "/api/accounts/{a}/allowed-origins",
			body: raw(`{"origins":["https://www.example.org/page"]}`), wantStatus: 400},
		{name: "every bad allowed origin named", as: "admin", method: "PUT", path: "/api/accounts/{a}/allowed-origins",
			body: raw(`{"origins":["https://ok.example.org","http://www.example.org","nope","https://www.example.org/page"]}`), wantStatus: 400,
			wantBody: []string{"http://www.example.org", "not an origin: nope", "https://www.example.org/page"}},
		{name: "too many allowed origins", as: "admin", method: "PUT", path: "/api/accounts/{a}/allowed-origins",
			body: func(t *testing.T, w *world) any {
				var o []string
				for i := range 51 {
					o = append(o, "https://s"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+".example.org")
				}
				return map[string]any{"origins": o}
			},
			wantStatus: 400},
		{name: "allowed origins as viewer", as: "viewer", method: "PUT", path: "/api/accounts/{a}/allowed-origins",
			body: raw(`{"origins":[]}`), wantStatus: 403},
		{name: "banner styles", as: "admin", method: "PUT", path: "/api/accounts/{a}/banner-styles",
			body: raw(`{"css":".offen-banner{color:#333}","dryRun":false}`), wantStatus: 200,
			wantBody: []string{`".offen-banner {\n  color: #333;\n}\n"`},
			after: func(t *testing.T, w *world, r reply) {
				w.do(call{method: "GET", path: "/api/accounts/" + w.a, cookie: w.viewer.cookie}).must(t, 200)
				a, _ := w.store.FindAccount(t.Context(), w.a)
				if a.BannerCSS != ".offen-banner {\n  color: #333;\n}\n" {
					t.Errorf("got stored css %q", a.BannerCSS)
				}
			}},
		{name: "banner styles dry run", as: "admin", method: "PUT", path: "/api/accounts/{a}/banner-styles",
			body: raw(`{"css":".offen-banner{color:#333}","dryRun":true}`), wantStatus: 200,
			after: func(t *testing.T, w *world, r reply) {
				if a, _ := w.store.FindAccount(t.Context(), w.a); a.BannerCSS != "" {
					t.Errorf("dry run stored %q", a.BannerCSS)
				}
			}},
		{name: "bad banner styles", as: "admin", method: "PUT", path: "/api/accounts/{a}/banner-styles",
			body: raw(`{"css":".offen-banner{background:url(https://evil.example/x)}","dryRun":false}`), wantStatus: 400,
			wantBody: []string{`"fields":{"css":`, `url() is not allowed`, `background:url(https://evil.example/x)`}},
		{name: "banner styles as viewer", as: "viewer", method: "PUT", path: "/api/accounts/{a}/banner-styles",
			body: raw(`{"css":"","dryRun":true}`), wantStatus: 403},

		{name: "goals", as: "admin", method: "PUT", path: "/api/accounts/{a}/goals",
			body: raw(`{"goals":"` + sealedGoals + `"}`), wantStatus: 200, wantBody: []string{sealedGoals},
			after: func(t *testing.T, w *world, r reply) {
				// every grant holder reads them with the account; an empty value clears them
				if got := w.do(call{method: "GET", path: "/api/accounts/" + w.a, cookie: w.viewer.cookie}).must(t, 200); !strings.Contains(string(got.body), `"goals":"`+sealedGoals+`"`) {
					t.Errorf("got account %s, want the goals", got.body)
				}
				w.do(call{method: "PUT", path: "/api/accounts/" + w.a + "/goals", cookie: w.admin.cookie, body: `{"goals":""}`}).must(t, 200)
				if a, _ := w.store.FindAccount(t.Context(), w.a); a.Goals != "" {
					t.Errorf("got goals %q after clearing", a.Goals)
				}
			}},
		{name: "goals in clear", as: "admin", method: "PUT", path: "/api/accounts/{a}/goals",
			body: raw(`{"goals":"{\"goals\":[{\"name\":\"Signup\"}]}"}`), wantStatus: 400, wantBody: []string{`"goals":`}},
		{name: "goals too large", as: "admin", method: "PUT", path: "/api/accounts/{a}/goals",
			body: raw(`{"goals":"a1.AAAAAAAAAAAAAAAA.` + strings.Repeat("A", 48*1024) + `"}`), wantStatus: 400},
		{name: "goals as viewer", as: "viewer", method: "PUT", path: "/api/accounts/{a}/goals",
			body: raw(`{"goals":""}`), wantStatus: 403},

		// Grants.
		{name: "list grants as viewer", as: "viewer", method: "GET", path: "/api/accounts/{a}/grants", wantStatus: 200,
			wantBody: []string{`"loginId":"{admin}"`, `"loginId":"{viewer}"`, `"loginId":"{pending}"`, `"state":"pending"`, `"label":"a1.`}},
		{name: "list grants without a grant", as: "other", method: "GET", path: "/api/accounts/{a}/grants", wantStatus: 404},
		{name: "promote a viewer", as: "admin", method: "PUT", path: "/api/accounts/{a}/grants/{viewer}",
			body: raw(`{"role":"admin"}`), wantStatus: 204,
			after: func(t *testing.T, w *world, r reply) {
				if g := grantOf(t, w, w.viewer.loginID, w.a); g.Role != persistence.RoleAdmin {
					t.Errorf("got role %s, want admin", g.Role)
				}
				// The promoted viewer has admin rights on the next request.
				w.do(call{method: "PUT", path: "/api/accounts/" + w.a + "/banner-styles", cookie: w.viewer.cookie, body: `{"css":"","dryRun":true}`}).must(t, 200)
			}},
		{name: "demote the last admin", as: "admin", method: "PUT", path: "/api/accounts/{a}/grants/{admin}",
			body: raw(`{"role":"viewer"}`), wantStatus: 409, wantBody: []string{"at least one active admin"}},
		{name: "role change as viewer", as: "viewer", method: "PUT", path: "/api/accounts/{a}/grants/{viewer}",
			body: raw(`{"role":"admin"}`), wantStatus: 403},
		{name: "role change of an unknown grant", as: "admin", method: "PUT", path: "/api/accounts/{a}/grants/{other}",
			body: raw(`{"role":"admin"}`), wantStatus: 404},
		{name: "unknown role", as: "admin", method: "PUT", path: "/api/accounts/{a}/grants/{viewer}",
			body: raw(`{"role":"owner"}`), wantStatus: 400},
		{name: "revoke a viewer", as: "admin", method: "DELETE", path: "/api/accounts/{a}/grants/{viewer}", wantStatus: 204,
			after: func(t *testing.T, w *world, r reply) {
				// A revoked grant loses its rights on the next request.
				w.do(call{method: "GET", path: "/api/accounts/" + w.a, cookie: w.viewer.cookie}).must(t, 404)
			}},
		{name: "give up one's own pending grant", as: "other", method: "DELETE", path: "/api/accounts/{a}/grants/{other}",
			before: func(t *testing.T, w *world) {
				_, r := w.invite(t, w.admin, w.other.email, map[string]string{w.a: "viewer"}, false)
				r.must(t, 201)
			},
			wantStatus: 204},
		{name: "give up one's own grant", as: "viewer", method: "DELETE", path: "/api/accounts/{a}/grants/{viewer}", wantStatus: 204},
		{name: "revoke another's grant as viewer", as: "viewer", method: "DELETE", path: "/api/accounts/{a}/grants/{admin}", wantStatus: 403},
		{name: "revoke the last admin", as: "admin", method: "DELETE", path: "/api/accounts/{a}/grants/{admin}", wantStatus: 409},
		{name: "revoke without a grant", as: "other", method: "DELETE", path: "/api/accounts/{a}/grants/{viewer}", wantStatus: 404},

		// Invitations and join.
		{name: "invite as viewer", as: "viewer", method: "POST", path: "/api/invitations",
			body: func(t *testing.T, w *world) any { return inviteBody(t, w.viewer, w.a, "x@example.org", false) }, wantStatus: 403},
		{name: "invite to an account not held", as: "other", method: "POST", path: "/api/invitations",
			body: func(t *testing.T, w *world) any { return inviteBody(t, w.other, w.a, "x@example.org", false) }, wantStatus: 404},
		{name: "invite someone holding the account", as: "admin", method: "POST", path: "/api/invitations",
			body: func(t *testing.T, w *world) any { return inviteBody(t, w.admin, w.a, "viewer@example.org", false) }, wantStatus: 409},
		{name: "invite with a key that does not derive the token", as: "admin", method: "POST", path: "/api/invitations",
			body: func(t *testing.T, w *world) any {
				b := inviteBody(t, w.admin, w.a, "x@example.org", true)
				b["inviteKey"] = b64(keys.NewKey())
				return b
			},
			wantStatus: 400, wantBody: []string{`"inviteKey"`}},
		{name: "invite without mail", as: "admin", method: "POST", path: "/api/invitations",
			body:       func(t *testing.T, w *world) any { return inviteBody(t, w.admin, w.b, "x@example.org", false) },
			wantStatus: 201, wantBody: []string{`"joinUrl":"https://offen.example.org/join/"`, `"expiresAt"`}, notBody: []string{"#"}},
		{name: "join lookup with an unknown token", method: "POST", path: "/api/join/lookup",
			body: func(t *testing.T, w *world) any { _, tok := keys.NewToken(); return map[string]any{"token": tok} }, wantStatus: 404},
		{name: "join lookup", method: "POST", path: "/api/join/lookup",
			body:       func(t *testing.T, w *world) any { return map[string]any{"token": b64(w.pendingInvite.token)} },
			wantStatus: 200, wantBody: []string{`"loginId":"{pending}"`, `"existingLogin":false`, `"accountId":"{a}"`, `"name":"first site"`, `"role":"viewer"`}},
		{name: "join lookup of an expired invitation", method: "POST", path: "/api/join/lookup",
			before: func(t *testing.T, w *world) { w.clock.Advance(7*24*time.Hour + time.Second) },
			body:   func(t *testing.T, w *world) any { return map[string]any{"token": b64(w.pendingInvite.token)} }, wantStatus: 404},
		{name: "join with changed grants", method: "POST", path: "/api/join",
			body: func(t *testing.T, w *world) any {
				w.pending.newPassword(t, "")
				return map[string]any{"token": b64(w.pendingInvite.token), "credentials": w.pending.credentials(t, false),
					"grants": []any{map[string]any{"accountId": w.b, "wrappedKek": mustWrap(t, w.pending)}}}
			},
			wantStatus: 409},
		{name: "join an existing login without its session", as: "viewer", method: "POST", path: "/api/join",
			before: func(t *testing.T, w *world) {
				inv, r := w.invite(t, w.admin, w.other.email, map[string]string{w.a: "viewer"}, false)
				r.must(t, 201)
				w.pendingInvite = inv
			},
			body: func(t *testing.T, w *world) any {
				return map[string]any{"token": b64(w.pendingInvite.token), "grants": []any{map[string]any{"accountId": w.a, "wrappedKek": mustWrap(t, w.other)}}}
			},
			wantStatus: 401},
	} {
		sc.run(t, tm)
	}
}

// mustWrap returns some a1 ciphertext under o's login key.
func mustWrap(t *testing.T, o *operator) string {
	t.Helper()
	if o.loginKey == nil {
		o.loginKey = keys.NewKey()
	}
	w, err := keys.WrapLoginKey(o.wrapKey, o.loginID, o.loginKey)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// inviteBody is an invitation of email to accountID by inviter.
func inviteBody(t *testing.T, inviter *operator, accountID, email string, send bool) map[string]any {
	t.Helper()
	key := keys.NewKey()
	ik, _ := keys.DeriveInviteKeys(key)
	kek := inviter.keks[accountID]
	if kek == nil {
		kek = keys.NewKey()
	}
	w, _ := keys.WrapKEK(ik.WrapKey, accountID, kek)
	l, _ := keys.EncryptLabel(kek, accountID, email)
	b := map[string]any{"email": email, "token": b64(ik.Token), "sendEmail": send,
		"grants": []any{map[string]any{"accountId": accountID, "role": "viewer", "inviteWrappedKek": w, "label": l}}}
	if send {
		b["inviteKey"] = b64(key)
	}
	return b
}

// TestSessionLastUse: a session's last use moves at most once a minute, and
// each move extends the idle expiry up to the absolute lifetime (§3.4).
func TestSessionLastUse(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	raw, _ := keys.ParseToken(w.admin.cookie)
	hash := sha256hex(raw)
	before, err := w.store.FindSession(t.Context(), hash)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(30 * time.Second)
	w.do(call{method: "GET", path: "/api/login", cookie: w.admin.cookie}).must(t, 200)
	s, _ := w.store.FindSession(t.Context(), hash)
	if !s.LastSeenAt.Equal(before.LastSeenAt) {
		t.Errorf("last use moved after 30 s: %v -> %v", before.LastSeenAt, s.LastSeenAt)
	}
	w.clock.Advance(31 * time.Second)
	w.do(call{method: "GET", path: "/api/login", cookie: w.admin.cookie}).must(t, 200)
	s, _ = w.store.FindSession(t.Context(), hash)
	if !s.LastSeenAt.Equal(w.clock.Now()) || !s.ExpiresAt.Equal(w.clock.Now().Add(12*time.Hour)) {
		t.Errorf("after 61 s: got last use %v, expiry %v", s.LastSeenAt, s.ExpiresAt)
	}
	// Idle for 11 hours, then used: still valid, expiry moved again.
	w.clock.Advance(11 * time.Hour)
	w.do(call{method: "GET", path: "/api/login", cookie: w.admin.cookie}).must(t, 200)
}

func sha256hex(b []byte) string {
	return hex.EncodeToString(keys.HashToken(b))
}
