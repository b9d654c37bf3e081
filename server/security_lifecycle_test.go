// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/keys/segment"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence/persistencetest"
)

// The security lifecycle (PROTOCOL §10 P1, P3, P4, P12): on each database,
// one instance goes through everything operators and visitors do, with Go
// clients that do exactly what the browser and the vault do (package keys):
// setup, visits to two accounts, account creation, invitations with and
// without mail and both joins, a password change, a new recovery code,
// resets with and without the code, a re-share and sign-ins from the salt.
// A recording middleware keeps every request byte, a mail catcher every
// mail. Then:
//
//   - P1: an attacker holding only the dump, OFFEN_SECRET and the addresses
//     tries every key it can derive on every ciphertext and opens none (the
//     same attack with one real key opens what that key protects, so the
//     attack works); no key a client held is in the dump in any encoding.
//   - P3: no request carries a password, master key, wrap key, login key,
//     KEK, recovery code or key, user secret or private key in any encoding;
//     the invite key is in the one request asking to mail it, and nowhere
//     else (no other request, not the dump, not the server log).
//   - P4: no address is in the dump or the log in any case or encoding.
//   - P12: every response that signs in sets the login cookie with its
//     attributes; cookies replayed after logout or a credential change fail.

// derivation is a password's client-side keys for one salt.
type derivation struct {
	salt               []byte
	master, auth, wrap []byte
}

// lifecyclePasswords are the passwords of the lifecycle, one per password
// set, each with the salt its client chose and the master key
// PBKDF2-HMAC-SHA256(NFC(password), salt, 600,000) of that salt. PBKDF2 at
// 600,000 iterations costs ~0.3 s, and ten times that under the race
// detector, so the master keys are computed once here; prewarm checks one
// of them, picked at random, against keys.DeriveLoginKeys on every run.
var lifecyclePasswords = []struct{ password, salt, master string }{
	{"correct horse battery staple", "54ce7b17d4c2bf2941f02ba05c2513f6", "2831098095a0f7dfc193ae888cb92ec360650388817af9b5e83fa6fbde58120e"}, // admin: setup
	{"Zweites Passwort für Ada", "e7d3bcbba781cce5b9e0b71064dce795", "9f172026b235b9c464a357f5a991887e17748c37d747486576bd7d7f878c4903"},     // admin: change
	{"mailed invitee first pass", "8fb7e45ed45c32fd4709f900a6d5e1fe", "9197a17053d187795cd014aaddc4edb3ecd55ac3fd8808bd9f89663f5b5ce807"},    // mailed: join
	{"mailed invitee after reset", "7b368e421a3c2bdeac1f1111ea4c287d", "78bcaee93abb077c51c7a4fc594b98ba3f6341968ed921765d7d2f65984402bf"},   // mailed: reset with the code
	{"copied invitee first pass", "a2fbb420dd548dc3ab260cd8ef71fa8c", "df31b5ca44a9a8b8760bd853a85b58fe79d04d6d071dfac2fde03192c80f513e"},    // copied: join
	{"copied invitee after reset", "8ddac03f81344db9ec2959cc4374557b", "8880205f3e951e85dd2e25adc61d2b69019cb7c1c44ad7b7667f51cf1d14e132"},   // copied: reset without the code
}

// derive returns the keys of one of the lifecycle's passwords: auth and
// wrap key by HKDF from the master key (PROTOCOL §2.2).
func derive(password string) *derivation {
	for _, p := range lifecyclePasswords {
		if p.password != password {
			continue
		}
		d := &derivation{}
		d.salt, _ = hex.DecodeString(p.salt)
		d.master, _ = hex.DecodeString(p.master)
		d.auth, _ = hkdf.Key(sha256.New, d.master, []byte("offen/v1/login"), "auth", keys.KeySize)
		d.wrap, _ = hkdf.Key(sha256.New, d.master, []byte("offen/v1/login"), "wrap", keys.KeySize)
		return d
	}
	panic("no derivation for " + password)
}

// prewarm checks that one of the table's derivations is the keys package's.
var prewarm = sync.OnceValue(func() error {
	p := lifecyclePasswords[mathrand.IntN(len(lifecyclePasswords))]
	d := derive(p.password)
	lk, err := keys.DeriveLoginKeys(p.password, d.salt, keys.KDFIterations)
	if err != nil {
		return err
	}
	if !bytes.Equal(lk.AuthKey, d.auth) || !bytes.Equal(lk.WrapKey, d.wrap) {
		return fmt.Errorf("the master key of %q in the table is not PBKDF2 of its salt", p.password)
	}
	return nil
})

// recorder is the recording middleware: every request as bytes on the wire
// (request line, headers with cookies, body).
type recorder struct {
	mu   sync.Mutex
	reqs []recordedRequest
}

type recordedRequest struct {
	method, path string
	raw          []byte
}

func (rc *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := httputil.DumpRequest(r, true)
		if err != nil {
			panic(err)
		}
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, recordedRequest{method: r.Method, path: r.URL.Path, raw: raw})
		rc.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// mailCatcher is a mail transport keeping every message.
type mailCatcher struct {
	mu   sync.Mutex
	msgs []mailer.Message
}

func (m *mailCatcher) Send(_ context.Context, msg mailer.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// link waits for the n-th mail with a link to prefix and returns the
// link's fragment.
func (m *mailCatcher) link(t *testing.T, prefix string, n int) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(prefix) + `#([A-Za-z0-9_-]+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		var found []string
		for _, msg := range m.msgs {
			if s := re.FindStringSubmatch(msg.Text); s != nil {
				found = append(found, s[1])
			}
		}
		m.mu.Unlock()
		if len(found) >= n {
			return found[n-1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no mail %d with a link to %s", n, prefix)
	return ""
}

// held is a value a client held. never: it must never reach the server
// (P3); every held value must be absent from the dump (P1).
type held struct {
	name  string
	b     []byte
	never bool
}

// lifecycle is one instance after the whole lifecycle.
type lifecycle struct {
	*instance
	db        persistencetest.Dialect
	rec       *recorder
	mail      *mailCatcher
	held      []held
	texts     []held // passwords and formatted recovery codes (text)
	addresses []string
	// inviteKeys are all invite keys; mailedInvite the one sent to be mailed.
	inviteKeys   [][]byte
	mailedInvite []byte
	// control are real keys with what each must open (the attack's
	// positive control).
	control map[string][]byte
	// accountA is the first account.
	accountA string
	events   int // events the visitors sent
}

func (l *lifecycle) hold(name string, b []byte, never bool) {
	l.t.Helper()
	if len(b) == 0 {
		l.t.Fatalf("holding an empty %s", name)
	}
	l.held = append(l.held, held{name: name, b: append([]byte(nil), b...), never: never})
}

// holdOperator records everything o's browser holds right now.
func (l *lifecycle) holdOperator(o *operator) {
	l.t.Helper()
	d := derive(o.password)
	l.texts = append(l.texts, held{name: o.email + " password", b: []byte(o.password), never: true})
	l.hold(o.email+" master key", d.master, true)
	l.hold(o.email+" wrap key", o.wrapKey, true)
	l.hold(o.email+" auth key", o.authKey, false)
	l.hold(o.email+" login key", o.loginKey, true)
	l.hold(o.email+" recovery code", o.recovery, true)
	l.texts = append(l.texts, held{name: o.email + " recovery code", b: []byte(keys.FormatRecoveryCode(o.recovery)), never: true})
	rk, err := keys.DeriveRecoveryKeys(o.recovery)
	if err != nil {
		l.t.Fatal(err)
	}
	l.hold(o.email+" recovery key", rk.Key, true)
	l.hold(o.email+" recovery proof", rk.Proof, false)
	for id, kek := range o.keks {
		l.hold(o.email+" KEK of "+id, kek, true)
	}
	if o.cookie != "" {
		tok, _ := keys.ParseToken(o.cookie)
		l.hold(o.email+" session token", tok, false)
	}
}

// holdAccount records the private key of an account (from its KEK).
func (l *lifecycle) holdAccount(id string, kek []byte) {
	l.t.Helper()
	a, err := l.store.FindAccount(l.t.Context(), id)
	if err != nil {
		l.t.Fatal(err)
	}
	priv, err := keys.DecryptPrivateKey(kek, id, a.EncryptedPrivateKey)
	if err != nil {
		l.t.Fatalf("decrypt the private key of %s: %v", id, err)
	}
	der, _ := keys.MarshalPrivateKey(priv)
	l.hold("private key (PKCS#8) of "+id, der, true)
	l.hold("private key (scalar) of "+id, priv.Bytes(), true)
}

// setPassword gives o the keys of password (cached derivation).
func setPassword(o *operator, password string) {
	d := derive(password)
	o.password, o.salt, o.authKey, o.wrapKey = password, d.salt, d.auth, d.wrap
}

// checkLoginCookie asserts the attributes of §3.1 on a response that signs
// in (P12), in the secure context of publicURL.
func checkLoginCookie(t *testing.T, what string, r reply) {
	t.Helper()
	c := r.setCookie
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/api" || c.MaxAge != 7*24*3600 {
		t.Errorf("%s: got login cookie %+v, want HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age=604800", what, c)
	}
}

// vaultExchange does what the vault does for a new secret: fetch the
// account's public key, wrap a new user secret, send it.
func vaultExchange(t *testing.T, v *visitor, accountID string) string {
	t.Helper()
	var pk struct {
		AccountID string `json:"accountId"`
		PublicKey string `json:"publicKey"`
	}
	v.do("GET", "/api/exchange?accountId="+accountID, nil).must(t, http.StatusOK).decode(t, &pk)
	pub, err := keys.ParsePublicKey(pk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	secret := keys.NewKey()
	wrapped, err := keys.WrapUserSecret(pub, accountID, secret)
	if err != nil {
		t.Fatal(err)
	}
	keyID := keys.NewKeyID()
	v.do("POST", "/api/exchange", map[string]string{"accountId": accountID, "keyId": keyID, "wrappedSecret": wrapped}).must(t, http.StatusCreated)
	v.secrets[keyID] = visitorSecret{accountID: accountID, secret: secret}
	return keyID
}

// loginFromSalt signs o in as a browser does: salt, derivation, login;
// it returns the login state and unwraps login key and KEKs into o.
func (l *lifecycle) loginFromSalt(t *testing.T, o *operator, ip string) loginState {
	t.Helper()
	var salt struct {
		KDF struct {
			Alg        string `json:"alg"`
			Iterations int    `json:"iterations"`
			Salt       string `json:"salt"`
		} `json:"kdf"`
	}
	l.do(call{method: "POST", path: "/api/login/salt", ip: ip, body: map[string]any{"email": o.email}}).must(t, 200).decode(t, &salt)
	d := derive(o.password)
	if salt.KDF.Alg != keys.KDFName || salt.KDF.Iterations < keys.KDFIterations || salt.KDF.Salt != keys.EncodeBase64(d.salt) {
		t.Fatalf("%s: got kdf %+v, want the salt of the current password", o.email, salt.KDF)
	}
	r := l.login(t, o, ip).must(t, http.StatusOK)
	checkLoginCookie(t, "login of "+o.email, r)
	var st loginState
	r.decode(t, &st)
	lk, err := keys.UnwrapLoginKey(d.wrap, st.LoginID, st.WrappedLoginKey)
	if err != nil {
		t.Fatalf("%s: unwrap the login key: %v", o.email, err)
	}
	o.loginKey = lk
	for _, g := range st.Grants {
		if g.State != "active" {
			continue
		}
		kek, err := keys.UnwrapKEK(lk, g.AccountID, g.WrappedKEK)
		if err != nil {
			t.Fatalf("%s: unwrap the KEK of %s: %v", o.email, g.AccountID, err)
		}
		o.keks[g.AccountID] = kek
	}
	return st
}

// readEvents decrypts all events of an account as the dashboard does and
// returns how many it read.
func (l *lifecycle) readEvents(t *testing.T, o *operator, accountID string) int {
	t.Helper()
	var acc struct {
		EncryptedPrivateKey string `json:"encryptedPrivateKey"`
	}
	l.do(call{method: "GET", path: "/api/accounts/" + accountID, cookie: o.cookie}).must(t, 200).decode(t, &acc)
	priv, err := keys.DecryptPrivateKey(o.keks[accountID], accountID, acc.EncryptedPrivateKey)
	if err != nil {
		t.Fatalf("decrypt the private key of %s: %v", accountID, err)
	}
	var secrets struct {
		Secrets []struct {
			KeyID         string `json:"keyId"`
			WrappedSecret string `json:"wrappedSecret"`
		} `json:"secrets"`
	}
	l.do(call{method: "GET", path: "/api/accounts/" + accountID + "/secrets", cookie: o.cookie}).must(t, 200).decode(t, &secrets)
	ciphers := map[string]cipher.AEAD{}
	for _, s := range secrets.Secrets {
		sec, err := keys.UnwrapUserSecret(priv, accountID, s.WrappedSecret)
		if err != nil {
			t.Fatalf("unwrap user secret %s: %v", s.KeyID, err)
		}
		c, _ := keys.NewCipher(sec)
		ciphers[s.KeyID] = c
	}
	var events struct {
		Events []struct {
			KeyID   string `json:"keyId"`
			Payload string `json:"payload"`
		} `json:"events"`
	}
	l.do(call{method: "GET", path: "/api/accounts/" + accountID + "/events", cookie: o.cookie}).must(t, 200).decode(t, &events)
	n := 0
	for _, e := range events.Events {
		c, ok := ciphers[e.KeyID]
		if !ok {
			t.Fatalf("event under unknown key %s", e.KeyID)
		}
		pt, err := keys.DecryptEvent(c, accountID, e.Payload)
		if err != nil || !bytes.Contains(pt, []byte(`"PAGEVIEW"`)) {
			t.Fatalf("decrypt event: %v %s", err, pt)
		}
		n++
	}
	return n
}

// runLifecycle runs the whole lifecycle on a fresh database of d.
func runLifecycle(t *testing.T, d persistencetest.Dialect) *lifecycle {
	t.Helper()
	if err := prewarm(); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	db := persistencetest.NewDatabase(t, d)
	store := persistencetest.OpenStore(t, db, persistencetest.WithNow(clock.Now))
	if err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	mail := &mailCatcher{}
	_, setupToken := keys.NewToken()
	in := startOperatorInstance(t, store, clock, keys.NewKey(), setupToken, func(*slog.Logger) mailer.Mailer { return mail })
	rec := &recorder{}
	in.h = rec.wrap(in.h)
	l := &lifecycle{instance: in, db: db, rec: rec, mail: mail, control: map[string][]byte{}}
	l.hold("instance secret", in.secret, true)
	setupRaw, _ := keys.ParseToken(setupToken)
	l.hold("setup token", setupRaw, false)
	tick := func() { clock.Advance(time.Minute) } // refills the token throttles

	admin := newOperator("Ada.Admin@Example.org")
	mailed := newOperator("mia.mailed@example.org")
	copied := newOperator("Carl.Copied@example.org")
	pendingAddr := "paul.pending@example.org"
	l.addresses = []string{admin.email, mailed.email, copied.email, pendingAddr}

	// Setup in the browser: login id from the status, password, login key,
	// recovery code and the first account.
	var status struct {
		Required bool   `json:"required"`
		LoginID  string `json:"loginId"`
	}
	in.do(call{method: "GET", path: "/api/setup"}).must(t, 200).decode(t, &status)
	if !status.Required {
		t.Fatal("setup not required on a fresh instance")
	}
	admin.loginID = status.LoginID
	setPassword(admin, lifecyclePasswords[0].password)
	a, acc := admin.newAccount(t, "site A")
	creds := admin.credentials(t, false)
	wk, label := admin.wrapKEK(t, a)
	r := in.do(call{method: "POST", path: "/api/setup", ip: "198.51.100.1", body: map[string]any{
		"setupToken": in.setupToken, "email": admin.email, "credentials": creds,
		"account": acc, "grant": map[string]any{"wrappedKek": wk, "label": label},
	}}).must(t, http.StatusCreated)
	checkLoginCookie(t, "setup", r)
	admin.cookie = r.cookie
	b, r := in.createAccount(t, admin, "site B")
	r.must(t, http.StatusCreated)
	l.holdAccount(a, admin.keks[a])
	l.holdAccount(b, admin.keks[b])
	l.holdOperator(admin)
	l.control["kek"] = admin.keks[a]
	l.accountA = a
	l.control["login key"] = admin.loginKey

	// Visitors: one in both accounts, one with two keys in A.
	v1, v2 := newVisitor(t, in.h), newVisitor(t, in.h)
	v2.ip = "203.0.113.8"
	k1a := vaultExchange(t, v1, a)
	k1b := vaultExchange(t, v1, b)
	k2a := vaultExchange(t, v2, a)
	k2a2 := vaultExchange(t, v2, a)
	for _, s := range []struct {
		v       *visitor
		account string
		key     string
		n       int
	}{{v1, a, k1a, 3}, {v1, b, k1b, 2}, {v2, a, k2a, 2}, {v2, a, k2a2, 1}} {
		var hrefs []string
		for i := range s.n {
			hrefs = append(hrefs, fmt.Sprintf("https://www.example.net/page-%d?q=%s", i, s.key))
		}
		s.v.send(s.account, s.key, hrefs...).must(t, http.StatusCreated)
		l.events += s.n
	}
	for _, v := range []*visitor{v1, v2} {
		uid, _ := hex.DecodeString(v.user)
		l.hold("visitor user id", uid, false)
		for keyID, s := range v.secrets {
			l.hold("user secret "+keyID, s.secret, true)
		}
	}
	l.control["user secret"] = v1.secrets[k1a].secret

	// Invitation with mail: the mailed invitee joins with a new login.
	inv, r := in.invite(t, admin, mailed.email, map[string]string{a: "viewer"}, true)
	r.must(t, http.StatusCreated)
	if got := mail.link(t, publicURL+"/join/", 1); got != keys.EncodeBase64(inv.key) {
		t.Fatalf("mailed invite key %q is not the one sent", got)
	}
	l.mailedInvite = inv.key
	l.inviteKeys = append(l.inviteKeys, inv.key)
	l.hold("invite wrap key (mailed)", inv.wrap, true)
	l.hold("invite token (mailed)", inv.token, false)
	l.hold("invite key (mailed)", inv.key, false)
	setPassword(mailed, lifecyclePasswords[2].password)
	r = in.join(t, mailed, inv).must(t, http.StatusOK)
	checkLoginCookie(t, "join", r)
	l.holdOperator(mailed)
	tick()

	// Invitation without mail: the copied invitee gets A (viewer) and B
	// (admin) and creates account C.
	inv, r = in.invite(t, admin, copied.email, map[string]string{a: "viewer", b: "admin"}, false)
	r.must(t, http.StatusCreated)
	l.inviteKeys = append(l.inviteKeys, inv.key)
	l.hold("invite key (copied)", inv.key, true)
	l.hold("invite wrap key (copied)", inv.wrap, true)
	l.hold("invite token (copied)", inv.token, false)
	setPassword(copied, lifecyclePasswords[4].password)
	in.join(t, copied, inv).must(t, http.StatusOK)
	c, r := in.createAccount(t, copied, "site C")
	r.must(t, http.StatusCreated)
	l.holdAccount(c, copied.keks[c])
	k1c := vaultExchange(t, v1, c)
	v1.send(c, k1c, "https://www.example.net/c").must(t, http.StatusCreated)
	l.events++
	l.hold("user secret "+k1c, v1.secrets[k1c].secret, true)
	l.holdOperator(copied)

	// A pending invitation that is never accepted.
	inv, r = in.invite(t, admin, pendingAddr, map[string]string{b: "viewer"}, false)
	r.must(t, http.StatusCreated)
	l.inviteKeys = append(l.inviteKeys, inv.key)
	l.hold("invite key (pending)", inv.key, true)
	l.hold("invite wrap key (pending)", inv.wrap, true)
	tick()

	// Password change: the old session and every other one end.
	oldAuth, oldCookie := admin.authKey, admin.cookie
	second := admin.clone()
	in.login(t, second, "198.51.100.9").must(t, http.StatusOK)
	setPassword(admin, lifecyclePasswords[1].password)
	wrapped, err := keys.WrapLoginKey(admin.wrapKey, admin.loginID, admin.loginKey)
	if err != nil {
		t.Fatal(err)
	}
	r = in.do(call{method: "POST", path: "/api/change-password", cookie: admin.cookie, body: map[string]any{
		"currentAuthKey": b64(oldAuth), "credentials": map[string]any{"salt": b64(admin.salt), "authKey": b64(admin.authKey), "wrappedLoginKey": wrapped},
	}}).must(t, http.StatusOK)
	checkLoginCookie(t, "password change", r)
	admin.cookie = r.cookie
	for _, ck := range []string{oldCookie, second.cookie} {
		for _, p := range []string{"/api/login", "/api/accounts", "/api/accounts/" + a, "/api/accounts/" + a + "/events"} {
			if got := in.do(call{method: "GET", path: p, cookie: ck}).status; got != http.StatusUnauthorized {
				t.Errorf("P12: GET %s with a session of before the password change: got %d, want 401", p, got)
			}
		}
	}

	// A new recovery code.
	creds = admin.credentials(t, true)
	in.do(call{method: "POST", path: "/api/recovery-code", cookie: admin.cookie, body: map[string]any{
		"currentAuthKey": b64(admin.authKey), "recoveryWrappedLoginKey": creds["recoveryWrappedLoginKey"], "recoveryProof": creds["recoveryProof"],
	}}).must(t, http.StatusNoContent)
	l.holdOperator(admin)
	tick()

	// Reset with the recovery code (mailed): same login key, new password
	// and code.
	in.do(call{method: "POST", path: "/api/forgot-password", ip: "10.7.0.1", body: map[string]any{"email": mailed.email}}).must(t, http.StatusNoContent)
	token := mail.link(t, publicURL+"/reset-password/", 1)
	var lookup resetState
	in.do(call{method: "POST", path: "/api/reset-password/lookup", ip: "10.7.0.1", body: map[string]any{"token": token}}).must(t, 200).decode(t, &lookup)
	rk, _ := keys.DeriveRecoveryKeys(mailed.recovery)
	lk, err := keys.RecoveryUnwrapLoginKey(rk.Key, lookup.LoginID, lookup.RecoveryWrappedLoginKey)
	if err != nil || !bytes.Equal(lk, mailed.loginKey) {
		t.Fatalf("unwrap the login key with the recovery code: %v", err)
	}
	mailedOldCookie := mailed.cookie
	setPassword(mailed, lifecyclePasswords[3].password)
	r = in.do(call{method: "POST", path: "/api/reset-password", ip: "10.7.0.1", body: map[string]any{
		"token": token, "recoveryProof": b64(rk.Proof), "credentials": mailed.credentials(t, true)}}).must(t, http.StatusOK)
	checkLoginCookie(t, "reset with the code", r)
	mailed.cookie = r.cookie
	if got := in.do(call{method: "GET", path: "/api/login", cookie: mailedOldCookie}).status; got != http.StatusUnauthorized {
		t.Errorf("P12: a session of before the reset: got %d, want 401", got)
	}
	l.holdOperator(mailed)
	tick()

	// Reset without the code (copied): a new login key, grants to re-share.
	in.do(call{method: "POST", path: "/api/forgot-password", ip: "10.7.0.2", body: map[string]any{"email": copied.email}}).must(t, http.StatusNoContent)
	token = mail.link(t, publicURL+"/reset-password/", 2)
	setPassword(copied, lifecyclePasswords[5].password)
	copied.keks = map[string][]byte{}
	var st loginState
	r = in.do(call{method: "POST", path: "/api/reset-password", ip: "10.7.0.2", body: map[string]any{
		"token": token, "credentials": copied.credentials(t, false)}}).must(t, http.StatusOK)
	checkLoginCookie(t, "reset without the code", r)
	r.decode(t, &st)
	copied.cookie = r.cookie
	for _, g := range st.Grants {
		if g.State != "reshare" || g.WrappedKEK != "" {
			t.Errorf("after a reset without the code: got grant %+v, want reshare", g)
		}
	}
	tick()
	// The admin shares A and B again with the existing login, which joins.
	inv, r = in.invite(t, admin, copied.email, map[string]string{a: "viewer", b: "admin"}, false)
	r.must(t, http.StatusCreated)
	l.inviteKeys = append(l.inviteKeys, inv.key)
	l.hold("invite key (re-share)", inv.key, true)
	l.hold("invite wrap key (re-share)", inv.wrap, true)
	in.join(t, copied, inv).must(t, http.StatusOK)
	l.holdOperator(copied)

	// Everyone signs in from the salt and reads what they may.
	l.loginFromSalt(t, admin, "10.8.0.1")
	l.loginFromSalt(t, mailed, "10.8.0.2")
	l.loginFromSalt(t, copied, "10.8.0.3")
	read := l.readEvents(t, admin, a) + l.readEvents(t, admin, b)
	if read != l.events-1 {
		t.Fatalf("the admin read %d events of A and B, want %d", read, l.events-1)
	}
	if n := l.readEvents(t, copied, b); n != 2 {
		t.Fatalf("the re-shared login read %d events of B, want 2", n)
	}
	for _, o := range []*operator{admin, mailed, copied} {
		l.holdOperator(o)
	}
	// A session after logout is dead.
	in.do(call{method: "POST", path: "/api/logout", cookie: mailed.cookie, body: "{}"}).must(t, http.StatusNoContent)
	for _, p := range []string{"/api/login", "/api/accounts", "/api/accounts/" + a} {
		if got := in.do(call{method: "GET", path: p, cookie: mailed.cookie}).status; got != http.StatusUnauthorized {
			t.Errorf("P12: GET %s after logout: got %d, want 401", p, got)
		}
	}
	l.sealSegment(t, admin, a)
	return l
}

// sealSegment has o's browser seal the day of the clock in account
// accountID once it closed (keys/PROTOCOL.md §13): the period's events
// decrypted, re-encoded (here as their JSON lines) and sealed under the
// segment key, so the dump holds a segment.
func (l *lifecycle) sealSegment(t *testing.T, o *operator, accountID string) {
	t.Helper()
	period := l.clock.Now().UTC().Format(time.DateOnly)
	start, _ := time.Parse(time.DateOnly, period)
	for target := start.Add(24*time.Hour + time.Minute + time.Second); l.clock.Now().Before(target); {
		l.clock.Advance(min(6*time.Hour, target.Sub(l.clock.Now())))
		l.do(call{method: "GET", path: "/api/login", cookie: o.cookie}).must(t, http.StatusOK)
	}
	var acc struct {
		EncryptedPrivateKey string `json:"encryptedPrivateKey"`
	}
	l.do(call{method: "GET", path: "/api/accounts/" + accountID, cookie: o.cookie}).must(t, 200).decode(t, &acc)
	priv, err := keys.DecryptPrivateKey(o.keks[accountID], accountID, acc.EncryptedPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Events []struct {
			EventID string `json:"eventId"`
			KeyID   string `json:"keyId"`
			Payload string `json:"payload"`
		} `json:"events"`
		Secrets []struct {
			KeyID         string `json:"keyId"`
			WrappedSecret string `json:"wrappedSecret"`
		} `json:"secrets"`
	}
	l.do(call{method: "GET", path: "/api/accounts/" + accountID + "/segments/" + period + "/events", cookie: o.cookie}).must(t, 200).decode(t, &page)
	ciphers := map[string]cipher.AEAD{}
	for _, s := range page.Secrets {
		sec, err := keys.UnwrapUserSecret(priv, accountID, s.WrappedSecret)
		if err != nil {
			t.Fatal(err)
		}
		ciphers[s.KeyID], _ = keys.NewCipher(sec)
	}
	var plain bytes.Buffer
	var ids []string
	for _, e := range page.Events {
		pt, err := keys.DecryptEvent(ciphers[e.KeyID], accountID, e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Href string `json:"href"`
		}
		if json.Unmarshal(pt, &ev) == nil && ev.Href != "" {
			l.texts = append(l.texts, held{name: "page of a segment", b: []byte(ev.Href)})
		}
		plain.Write(append(pt, '\n'))
		ids = append(ids, e.EventID)
	}
	key, err := hkdf.Key(sha256.New, o.keks[accountID], []byte("offen/v1/segment"), "segment", keys.KeySize)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := keys.NewCipher(key)
	sealed := keys.SealA1(c, []byte("offen/v1/segment|"+accountID+"|"+period+"|1"), plain.Bytes())
	n, digest, err := segment.Coverage(ids)
	if err != nil {
		t.Fatal(err)
	}
	l.do(call{method: "PUT", path: "/api/accounts/" + accountID + "/segments/" + period, cookie: o.cookie,
		body: map[string]any{"version": 1, "count": n, "digest": digest, "segment": sealed}}).must(t, http.StatusCreated)
	l.hold("segment key", key, true)
	l.control["segment key"] = key
}

// encodings are the forms a key may take on the wire or at rest.
func encodings(b []byte) []string {
	return []string{
		string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		url.QueryEscape(base64.StdEncoding.EncodeToString(b)),
	}
}

// textForms are the forms a text value may take: as is, in any case, URL-
// and JSON-escaped, and encoded like a key.
func textForms(s string) []string {
	j, _ := json.Marshal(s)
	out := []string{s, strings.ToLower(s), strings.ToUpper(s), url.QueryEscape(s), url.PathEscape(s), string(j[1 : len(j)-1])}
	if c := strings.ReplaceAll(s, "-", ""); c != s {
		out = append(out, c, strings.ToLower(c))
	}
	for _, e := range encodings([]byte(s))[1:] {
		out = append(out, e)
	}
	return out
}

// containsAny reports the first form found in hay (case-insensitively when
// fold is set).
func containsAny(hay []byte, forms []string, fold bool) (string, bool) {
	var lower []byte
	if fold {
		lower = bytes.ToLower(hay)
	}
	for _, f := range forms {
		if len(f) < 8 {
			continue
		}
		if bytes.Contains(hay, []byte(f)) || fold && bytes.Contains(lower, []byte(strings.ToLower(f))) {
			return f, true
		}
	}
	return "", false
}

func TestSecurityLifecycle(t *testing.T) {
	t.Parallel()
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		start := time.Now()
		l := runLifecycle(t, d)
		t.Logf("lifecycle on %s: %d requests, %d mails, %d held values, %v", d.Name, len(l.rec.reqs), len(l.mail.msgs), len(l.held), time.Since(start).Round(time.Millisecond))
		dump := persistencetest.Dump(t, l.db)
		all := dump.Bytes()

		t.Run("P1 attack", func(t *testing.T) {
			start := time.Now()
			cts := findCiphertexts(dump)
			wantMin := map[string]int{"a1": l.events + 4, "e1": 5}
			got := map[string]int{}
			for _, c := range cts {
				got[c.label]++
			}
			if got["a1"] < wantMin["a1"] || got["e1"] < wantMin["e1"] {
				t.Fatalf("found %v ciphertexts in the dump, want at least %v", got, wantMin)
			}
			bases := candidateBases(t, dump, l.secret, l.addresses)
			cands := append(candidateKeys(bases), instanceCombos(t, dump, l.secret)...)
			res := attack(cts, cands, bases)
			t.Logf("%s: %d bases, %d candidate keys, %d ciphertexts (%v), %d trials, %v", d.Name, len(bases), res.keys, res.ciphertexts, got, res.trials, time.Since(start).Round(time.Millisecond))
			for _, o := range res.opened {
				t.Errorf("the dump attacker decrypted %s", o)
			}
			// Control: the same attack with one real key opens what it
			// protects, so a key derivable from the dump would be found.
			for name, k := range l.control {
				res := attack(cts, [][]byte{k}, nil)
				want := map[string]string{"kek": "accounts.encrypted_private_key", "login key": "grants.wrapped_kek", "user secret": "events.payload", "segment key": "segments.sealed"}[name]
				ok := false
				for _, o := range res.opened {
					ok = ok || strings.HasPrefix(o, want)
				}
				if !ok {
					t.Errorf("control: the real %s opened %v, want %s", name, res.opened, want)
				}
			}
		})

		t.Run("P1 no client key in the dump", func(t *testing.T) {
			// Control: what the dump must hold is found in its encoding.
			a, err := l.store.FindAccount(t.Context(), l.accountA)
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := keys.ParsePublicKey(a.PublicKey)
			if _, ok := containsAny(all, encodings(pub.Bytes()), false); !ok {
				t.Error("control: the account's public key is not found in the dump")
			}
			for _, h := range l.held {
				if f, ok := containsAny(all, encodings(h.b), false); ok {
					t.Errorf("the dump contains %s as %q", h.name, f)
				}
			}
			for _, h := range l.texts {
				if f, ok := containsAny(all, textForms(string(h.b)), true); ok {
					t.Errorf("the dump contains %s as %q", h.name, f)
				}
			}
			for _, k := range l.inviteKeys {
				if f, ok := containsAny(all, encodings(k), false); ok {
					t.Errorf("the dump contains an invite key as %q", f)
				}
			}
		})

		t.Run("P3 requests", func(t *testing.T) {
			logs := []byte(l.logs.String())
			if !bytes.Contains(logs, []byte("/api/reset-password")) {
				t.Fatalf("control: the request log does not show the requests:\n%s", logs)
			}
			for _, h := range l.held {
				if !h.never {
					continue
				}
				for _, req := range l.rec.reqs {
					if f, ok := containsAny(req.raw, encodings(h.b), false); ok {
						t.Errorf("%s %s carries %s as %q", req.method, req.path, h.name, f)
					}
				}
			}
			// The request log keeps no value at all that a client held or
			// sent: no token, key, hash input or visitor id.
			for _, h := range l.held {
				if f, ok := containsAny(logs, encodings(h.b), false); ok {
					t.Errorf("the server log contains %s as %q", h.name, f)
				}
			}
			for _, h := range l.texts {
				for _, req := range l.rec.reqs {
					if f, ok := containsAny(req.raw, textForms(string(h.b)), true); ok {
						t.Errorf("%s %s carries %s as %q", req.method, req.path, h.name, f)
					}
				}
			}
			// The invite key: in the one request asking to mail it, never
			// anywhere else.
			for _, k := range l.inviteKeys {
				var carriers []string
				for _, req := range l.rec.reqs {
					if _, ok := containsAny(req.raw, encodings(k), false); ok {
						carriers = append(carriers, req.method+" "+req.path)
					}
				}
				mailed := bytes.Equal(k, l.mailedInvite)
				if mailed && (len(carriers) != 1 || carriers[0] != "POST /api/invitations") {
					t.Errorf("the mailed invite key reached the server in %v, want exactly one POST /api/invitations", carriers)
				}
				if !mailed && len(carriers) != 0 {
					t.Errorf("an invite key that was not to be mailed reached the server in %v", carriers)
				}
				if f, ok := containsAny(logs, encodings(k), false); ok {
					t.Errorf("the server log contains an invite key as %q", f)
				}
			}
		})

		t.Run("P4 no address at rest", func(t *testing.T) {
			logs := []byte(l.logs.String())
			for _, a := range l.addresses {
				n, _ := keys.NormalizeEmail(a)
				forms := append(textForms(a), textForms(n)...)
				if f, ok := containsAny(all, forms, true); ok {
					t.Errorf("the dump contains the address %s as %q", a, f)
				}
				if f, ok := containsAny(logs, forms, true); ok {
					t.Errorf("the server log contains the address %s as %q", a, f)
				}
			}
		})
	})
}
