// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
)

// TestLoginFlood is the acceptance test of the login throttles: 50 requests
// per second for 5 seconds with a wrong key from one address (each with a
// forged X-Forwarded-For, which an untrusted peer cannot use), then the real
// operator logs in at once from another address.
func TestLoginFlood(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	counts := map[int]int{}
	retryAfter := ""
	for i := range 250 {
		r := w.do(call{method: "POST", path: "/api/login", ip: "203.0.113.66",
			headers: map[string]string{"X-Forwarded-For": fmt.Sprintf("10.9.%d.%d", i/256, i%256)},
			body:    map[string]any{"email": w.admin.email, "authKey": b64(keys.NewKey())}})
		counts[r.status]++
		if r.status == http.StatusTooManyRequests && retryAfter == "" {
			retryAfter = r.header.Get("Retry-After")
		}
		w.clock.Advance(20 * time.Millisecond)
	}
	t.Logf("flood of 250 wrong logins from one address in 5 s: %d answered 429, %d answered 401, others %v",
		counts[429], counts[401], counts)
	if counts[429] < 238 {
		t.Errorf("got %d of 250 answered 429, want at least 95%% (238)", counts[429])
	}
	for status, n := range counts {
		if status >= 500 || (status != 429 && status != 401) {
			t.Errorf("got %d answers with status %d", n, status)
		}
	}
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 {
		t.Errorf("got Retry-After %q, want whole seconds", retryAfter)
	}
	w.login(t, w.admin, "198.51.100.77").must(t, http.StatusOK)
}

// TestBruteForceOneLogin spreads guesses at one login over many addresses:
// the failure budget (burst 30) stops them, for the real key too, until it
// refills (one guess per 10 minutes).
func TestBruteForceOneLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admitted := 0
	for i := range 40 {
		r := w.do(call{method: "POST", path: "/api/login", ip: fmt.Sprintf("10.1.0.%d", i+1),
			body: map[string]any{"email": w.admin.email, "authKey": b64(keys.NewKey())}})
		switch r.status {
		case http.StatusUnauthorized:
			admitted++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("guess %d: got %d %s", i, r.status, r.body)
		}
	}
	if admitted != 30 {
		t.Errorf("got %d guesses checked, want the budget's 30", admitted)
	}
	// The budget protects the login, not the guesser: the real key waits too.
	w.login(t, w.admin, "10.2.0.1").must(t, http.StatusTooManyRequests)
	w.clock.Advance(10 * time.Minute)
	w.login(t, w.admin, "10.2.0.1").must(t, http.StatusOK)
	// Re-authentication draws on the same budget and counts failures.
	for range 2 {
		r := w.do(call{method: "POST", path: "/api/recovery-code", cookie: w.admin.cookie, ip: "10.2.0.1",
			body: map[string]any{"currentAuthKey": b64(keys.NewKey()), "recoveryWrappedLoginKey": mustWrap(t, w.admin), "recoveryProof": b64(keys.NewKey())}})
		if r.status != http.StatusUnauthorized && r.status != http.StatusTooManyRequests {
			t.Errorf("wrong re-authentication: got %d", r.status)
		}
	}
	w.login(t, w.admin, "10.2.0.2").must(t, http.StatusTooManyRequests)
}

// TestTokenRoutesThrottled: reset and join lookups are limited per address
// (burst 10), with Retry-After.
func TestTokenRoutesThrottled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	limited := 0
	for range 15 {
		_, tok := keys.NewToken()
		r := w.do(call{method: "POST", path: "/api/reset-password/lookup", ip: "10.3.0.1", body: map[string]any{"token": tok}})
		if r.status == http.StatusTooManyRequests {
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		} else if r.status != http.StatusNotFound {
			t.Fatalf("got %d", r.status)
		}
	}
	if limited != 5 {
		t.Errorf("got %d of 15 lookups throttled, want 5", limited)
	}
	// Another address is not affected.
	_, tok := keys.NewToken()
	w.do(call{method: "POST", path: "/api/join/lookup", ip: "10.3.0.2", body: map[string]any{"token": tok}}).must(t, http.StatusNotFound)
}

// resetState is the reset lookup answer.
type resetState struct {
	LoginID                 string `json:"loginId"`
	RecoveryWrappedLoginKey string `json:"recoveryWrappedLoginKey"`
	Grants                  []struct {
		AccountID string `json:"accountId"`
		Name      string `json:"name"`
	} `json:"grants"`
}

// forgot requests a reset mail for o and returns the mailed token.
func (w *world) forgot(t *testing.T, o *operator, n int) string {
	t.Helper()
	w.do(call{method: "POST", path: "/api/forgot-password", ip: "10.4.0.1", body: map[string]any{"email": o.email}}).must(t, http.StatusNoContent)
	return w.waitLink(publicURL+"/reset-password/", n)
}

// TestResetWithRecoveryCode: forgot -> reset with the recovery code keeps the
// login key, so every account's KEK still unwraps after signing in with
// the new password; the token cannot be used twice.
func TestResetWithRecoveryCode(t *testing.T) {
	t.Parallel()
	in := newInstance(t, nil)
	o := newOperator("ops@example.org")
	_, r := in.setup(t, o, "")
	r.must(t, http.StatusCreated)
	_, r = in.createAccount(t, o, "second")
	r.must(t, http.StatusCreated)
	oldAuthKey := o.authKey
	w := &world{instance: in, admin: o}

	token := w.forgot(t, o, 1)
	var lookup resetState
	in.do(call{method: "POST", path: "/api/reset-password/lookup", ip: "10.4.0.1", body: map[string]any{"token": token}}).
		must(t, http.StatusOK).decode(t, &lookup)
	if lookup.LoginID != o.loginID || len(lookup.Grants) != 2 {
		t.Fatalf("got lookup %+v", lookup)
	}
	// The browser: recovery key from the code, unwrap the login key.
	rk, _ := keys.DeriveRecoveryKeys(o.recovery)
	loginKey, err := keys.RecoveryUnwrapLoginKey(rk.Key, lookup.LoginID, lookup.RecoveryWrappedLoginKey)
	if err != nil {
		t.Fatalf("unwrap with the recovery code: %v", err)
	}
	o.loginKey = loginKey
	o.newPassword(t, "second password 456")
	body := map[string]any{"token": token, "recoveryProof": b64(rk.Proof), "credentials": o.credentials(t, true)}
	// A wrong proof is refused and changes nothing.
	wrong := map[string]any{"token": token, "recoveryProof": b64(keys.NewKey()), "credentials": body["credentials"]}
	in.do(call{method: "POST", path: "/api/reset-password", ip: "10.4.0.1", body: wrong}).must(t, http.StatusForbidden)
	// A wrong proof backs the token off for a second.
	in.do(call{method: "POST", path: "/api/reset-password", ip: "10.4.0.1", body: body}).must(t, http.StatusTooManyRequests)
	in.clock.Advance(time.Second)
	var state loginState
	r = in.do(call{method: "POST", path: "/api/reset-password", ip: "10.4.0.1", body: body}).must(t, http.StatusOK)
	r.decode(t, &state)
	// Replaying the token fails.
	in.do(call{method: "POST", path: "/api/reset-password", ip: "10.4.0.1", body: body}).must(t, http.StatusNotFound)

	// Sign in with the new password as a browser does, from the salt.
	var salt struct {
		KDF struct {
			Iterations int    `json:"iterations"`
			Salt       string `json:"salt"`
		} `json:"kdf"`
	}
	in.do(call{method: "POST", path: "/api/login/salt", body: map[string]any{"email": o.email}}).must(t, 200).decode(t, &salt)
	// The salt is the one the reset set, so the keys derived for it are
	// the browser's (one PBKDF2 run is enough for the test).
	if salt.KDF.Salt != b64(o.salt) || salt.KDF.Iterations != keys.KDFIterations {
		t.Fatalf("got kdf %+v, want the new salt", salt.KDF)
	}
	lk := keys.LoginKeys{AuthKey: o.authKey, WrapKey: o.wrapKey}
	r = in.do(call{method: "POST", path: "/api/login", body: map[string]any{"email": o.email, "authKey": b64(lk.AuthKey)}}).must(t, http.StatusOK)
	r.decode(t, &state)
	lkey, err := keys.UnwrapLoginKey(lk.WrapKey, state.LoginID, state.WrappedLoginKey)
	if err != nil {
		t.Fatalf("unwrap the login key with the new password: %v", err)
	}
	if len(state.Grants) != 2 {
		t.Fatalf("got %d grants, want 2", len(state.Grants))
	}
	for _, g := range state.Grants {
		if g.State != "active" {
			t.Errorf("grant on %s: got %s, want active", g.AccountID, g.State)
		}
		kek, err := keys.UnwrapKEK(lkey, g.AccountID, g.WrappedKEK)
		if err != nil {
			t.Errorf("KEK of %s does not unwrap: %v", g.AccountID, err)
			continue
		}
		a, _ := in.store.FindAccount(t.Context(), g.AccountID)
		if _, err := keys.DecryptPrivateKey(kek, a.ID, a.EncryptedPrivateKey); err != nil {
			t.Errorf("private key of %s: %v", g.AccountID, err)
		}
	}
	// The old password no longer works.
	in.do(call{method: "POST", path: "/api/login", ip: "10.4.0.9", body: map[string]any{"email": o.email, "authKey": b64(oldAuthKey)}}).
		must(t, http.StatusUnauthorized)
}

// TestResetWithoutRecoveryCode: the login survives with a new login key, its
// grants become reshare and the LoginState names them; an admin re-shares
// one through an invitation to the existing login.
func TestResetWithoutRecoveryCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// The viewer forgets the password and the code.
	token := w.forgot(t, w.viewer, 1)
	oldCookie := w.viewer.cookie
	w.viewer.newPassword(t, "")
	var state loginState
	w.do(call{method: "POST", path: "/api/reset-password", ip: "10.4.0.1",
		body: map[string]any{"token": token, "credentials": w.viewer.credentials(t, false)}}).must(t, http.StatusOK).decode(t, &state)
	if state.LoginID != w.viewer.loginID || len(state.Grants) != 1 || state.Grants[0].State != "reshare" || state.Grants[0].AccountID != w.a {
		t.Fatalf("got %+v, want the login with its grant on A to re-share", state)
	}
	stillSignedIn(t, w, oldCookie, false)
	w.login(t, w.viewer, "10.4.0.2").must(t, http.StatusOK)
	// A reshare grant reads nothing.
	w.do(call{method: "GET", path: "/api/accounts/" + w.a, cookie: w.viewer.cookie}).must(t, http.StatusNotFound)
	// The admin shares A again; the existing login joins while signed in.
	inv, r := w.invite(t, w.admin, w.viewer.email, map[string]string{w.a: "viewer"}, false)
	r.must(t, http.StatusCreated)
	w.join(t, w.viewer, inv).must(t, http.StatusOK)
	r = w.do(call{method: "GET", path: "/api/login", cookie: w.viewer.cookie}).must(t, http.StatusOK)
	r.decode(t, &state)
	kek, err := keys.UnwrapKEK(w.viewer.loginKey, w.a, state.Grants[0].WrappedKEK)
	if err != nil || !keys.Equal(kek, w.admin.keks[w.a]) {
		t.Errorf("re-shared KEK: %v", err)
	}
}

// TestCSRFChangesNothing: state-changing requests a browser could send from
// another site are refused with 403 before anything happens (P12).
func TestCSRFChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	newAuth := keys.NewKey()
	body := func() map[string]any {
		return map[string]any{"currentAuthKey": b64(w.admin.authKey), "credentials": map[string]any{
			"salt": b64(keys.NewSalt()), "authKey": b64(newAuth), "wrappedLoginKey": mustWrap(t, w.admin)}}
	}
	for name, headers := range map[string]map[string]string{
		"foreign origin":   {"Origin": "https://evil.example"},
		"cross-site fetch": {"Sec-Fetch-Site": "cross-site", "Origin": ""},
		"same-site fetch":  {"Sec-Fetch-Site": "same-site"},
		"text/plain":       {"Content-Type": "text/plain"},
		"form":             {"Content-Type": "application/x-www-form-urlencoded"},
		"no content type":  {"Content-Type": ""},
	} {
		r := w.do(call{method: "POST", path: "/api/change-password", cookie: w.admin.cookie, body: body(), headers: headers})
		if r.status != http.StatusForbidden {
			t.Errorf("%s: got %d, want 403", name, r.status)
		}
	}
	r := w.do(call{method: "DELETE", path: "/api/accounts/" + w.a + "/grants/" + w.viewer.loginID, cookie: w.admin.cookie,
		headers: map[string]string{"Origin": "https://evil.example"}})
	if r.status != http.StatusForbidden {
		t.Errorf("revoke from another origin: got %d, want 403", r.status)
	}
	stillSignedIn(t, w, w.admin.cookie, true)
	w.login(t, w.admin, "10.5.0.1").must(t, http.StatusOK)
	grantOf(t, w, w.viewer.loginID, w.a)
}

// TestDatabaseHoldsNoSecrets runs every credential flow and then searches
// the SQLite files for each address, password and key the clients held, in
// raw, hex, base64 and base64url form (P1, P3, P4).
func TestDatabaseHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var secrets [][]byte
	var texts []string
	keep := func(o *operator) {
		secrets = append(secrets, o.authKey, o.wrapKey, o.loginKey, o.recovery)
		for _, k := range o.keks {
			secrets = append(secrets, k)
		}
		if rk, err := keys.DeriveRecoveryKeys(o.recovery); err == nil {
			secrets = append(secrets, rk.Key)
		}
		texts = append(texts, o.email)
		if o.password != "" {
			texts = append(texts, o.password)
		}
	}
	for _, o := range []*operator{w.admin, w.viewer, w.other} {
		keep(o)
	}
	texts = append(texts, w.pending.email)
	secrets = append(secrets, w.pendingInvite.key, w.pendingInvite.wrap)

	// Password change (with a real password), new recovery code, both resets.
	oldAuth := w.admin.authKey
	w.admin.newPassword(t, "a real password 789")
	keep(w.admin)
	var st loginState
	w.do(call{method: "POST", path: "/api/change-password", cookie: w.admin.cookie, body: map[string]any{
		"currentAuthKey": b64(oldAuth), "credentials": map[string]any{"salt": b64(w.admin.salt), "authKey": b64(w.admin.authKey), "wrappedLoginKey": mustWrap(t, w.admin)},
	}}).must(t, http.StatusOK).decode(t, &st)
	w.admin.cookie = w.do(call{method: "POST", path: "/api/login", ip: "10.6.0.1", body: map[string]any{"email": w.admin.email, "authKey": b64(w.admin.authKey)}}).must(t, 200).cookie
	creds := w.admin.credentials(t, true)
	keep(w.admin)
	w.do(call{method: "POST", path: "/api/recovery-code", cookie: w.admin.cookie, body: map[string]any{
		"currentAuthKey": b64(w.admin.authKey), "recoveryWrappedLoginKey": creds["recoveryWrappedLoginKey"], "recoveryProof": creds["recoveryProof"],
	}}).must(t, http.StatusNoContent)
	token := w.forgot(t, w.viewer, 1)
	rk, _ := keys.DeriveRecoveryKeys(w.viewer.recovery)
	w.viewer.newPassword(t, "")
	w.do(call{method: "POST", path: "/api/reset-password", ip: "10.6.0.2", body: map[string]any{
		"token": token, "recoveryProof": b64(rk.Proof), "credentials": w.viewer.credentials(t, true)}}).must(t, http.StatusOK)
	keep(w.viewer)
	secrets = append(secrets, rk.Proof)
	token = w.forgot(t, w.other, 2)
	w.other.newPassword(t, "")
	w.do(call{method: "POST", path: "/api/reset-password", ip: "10.6.0.3", body: map[string]any{
		"token": token, "credentials": w.other.credentials(t, false)}}).must(t, http.StatusOK)
	keep(w.other)
	// Invitation with mail: the invite key passes through the server once.
	inv, r := w.invite(t, w.admin, "mailed@example.org", map[string]string{w.b: "viewer"}, true)
	r.must(t, http.StatusCreated)
	w.waitLink(publicURL+"/join/", 1)
	secrets = append(secrets, inv.key, inv.wrap, inv.token)
	texts = append(texts, "mailed@example.org")
	// Setup token and session tokens are stored only hashed.
	texts = append(texts, w.setupToken, w.admin.cookie, w.viewer.cookie)

	if err := w.closeStore(); err != nil {
		t.Fatal(err)
	}
	var dump []byte
	entries, _ := os.ReadDir(w.dbDir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(w.dbDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dump = append(dump, b...)
	}
	if len(dump) == 0 {
		t.Fatal("empty dump")
	}
	lower := strings.ToLower(string(dump))
	for _, s := range texts {
		if s != "" && strings.Contains(lower, strings.ToLower(s)) {
			t.Errorf("the database contains %q", s)
		}
	}
	for i, s := range secrets {
		if len(s) == 0 {
			continue
		}
		for _, enc := range []string{string(s), hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s),
			base64.RawStdEncoding.EncodeToString(s), base64.URLEncoding.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s)} {
			if strings.Contains(string(dump), enc) || strings.Contains(lower, strings.ToLower(enc)) && len(enc) > 20 {
				t.Errorf("the database contains secret %d (%d bytes) as %q", i, len(s), enc)
			}
		}
	}
}

// TestConcurrentDemotions: two admins demoting each other at the same time
// through the API leave exactly one admin (P7).
func TestConcurrentDemotions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	lead, second := w.admin, w.viewer
	for round := range 4 {
		// The remaining admin makes the other one admin again.
		w.do(call{method: "PUT", path: "/api/accounts/" + w.a + "/grants/" + second.loginID, cookie: lead.cookie,
			body: `{"role":"admin"}`}).must(t, http.StatusNoContent)
		statuses := make(chan int, 2)
		for _, pair := range [][2]*operator{{w.admin, w.viewer}, {w.viewer, w.admin}} {
			go func() {
				r := w.do(call{method: "PUT", path: "/api/accounts/" + w.a + "/grants/" + pair[1].loginID, cookie: pair[0].cookie,
					body: `{"role":"viewer"}`})
				statuses <- r.status
			}()
		}
		got := map[int]int{}
		got[<-statuses]++
		got[<-statuses]++
		if got[http.StatusNoContent] != 1 || got[http.StatusConflict]+got[http.StatusForbidden] != 1 {
			t.Errorf("round %d: got statuses %v, want one 204 and one refusal", round, got)
		}
		grants, _ := w.store.ListAccountGrants(t.Context(), w.a)
		admins := 0
		for _, g := range grants {
			if g.Role == "admin" && g.State() == "active" {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("round %d: got %d active admins, want 1", round, admins)
		}
		if g := grantOf(t, w, lead.loginID, w.a); g.Role != "admin" {
			lead, second = second, lead
		}
	}
}
