// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
	"github.com/offen/offen/server"
)

// The operator harness: an instance (the real router on a real SQLite
// store, with a settable clock and the log mailer revealing links), and
// operators that do in Go what the browser does (PROTOCOL §2, §4).

const publicURL = "https://offen.example.org"

// testClock is a settable clock shared by the server and the store.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type instance struct {
	t          *testing.T
	h          http.Handler
	store      *relational.Store
	clock      *testClock
	secret     []byte
	setupToken string
	logs       *syncBuffer // server log, with the mails of the log mailer
	dbDir      string      // directory of the SQLite file (newInstance only)
	closeStore func() error
}

// newInstance starts the router on a fresh SQLite store.
func newInstance(t *testing.T, mail func(logger *slog.Logger) mailer.Mailer) *instance {
	t.Helper()
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	db := persistencetest.NewDatabase(t, persistencetest.SQLite)
	store, err := relational.Open(t.Context(), relational.Options{Dialect: db.Name, DSN: db.DSN, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var closeOnce sync.Once
	t.Cleanup(func() { closeOnce.Do(func() { store.Close() }) })
	if err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, token := keys.NewToken()
	in := startOperatorInstance(t, store, clock, keys.NewKey(), token, mail)
	in.dbDir = filepath.Dir(db.DSN)
	in.closeStore = func() error {
		var err error
		closeOnce.Do(func() { err = store.Close() })
		return err
	}
	return in
}

// startInstance serves store with the given clock, instance secret and
// setup token.
func startOperatorInstance(t *testing.T, store *relational.Store, clock *testClock, secret []byte, setupToken string, mail func(logger *slog.Logger) mailer.Mailer) *instance {
	t.Helper()
	in := &instance{t: t, clock: clock, secret: secret, setupToken: setupToken, logs: &syncBuffer{}, store: store}
	logger := slog.New(slog.NewTextHandler(in.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var m mailer.Mailer = mailer.NewLog(logger, true)
	if mail != nil {
		m = mail(logger)
	}
	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	in.h = server.New(logger, server.Options{
		PublicURL:      publicURL,
		InstanceSecret: in.secret,
		SetupToken:     in.setupToken,
		Locale:         "en",
		Retention:      186 * 24 * time.Hour,
		Now:            clock.Now,
		RequestTimeout: testRequestTimeout,
	}, in.store, m, loc, nil, nil)
	return in
}

// testRequestTimeout is the request deadline of the test servers. The
// deadline is real time, unlike their clock, and under -race on a busy
// machine one argon2id run of a login has taken over 9 s (100 ms alone);
// these tests check what a request does, not how fast. The outage tests
// set a short one of their own.
const testRequestTimeout = 2 * time.Minute

// call is one request. body is sent as is when a string, else as JSON.
type call struct {
	method, path string
	body         any
	cookie       string // value of the login cookie
	device       string // value of the device cookie
	ip           string // client address, 192.0.2.10 when empty
	headers      map[string]string
}

type reply struct {
	status int
	body   []byte
	header http.Header
	// cookie is the login cookie the reply set ("" when none).
	cookie    string
	setCookie *http.Cookie
	// device is the device cookie the reply set ("" when none).
	device string
}

func (in *instance) do(c call) reply {
	in.t.Helper()
	var body io.Reader
	switch b := c.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			in.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	r := httptest.NewRequest(c.method, c.path, body)
	ip := c.ip
	if ip == "" {
		ip = "192.0.2.10"
	}
	r.RemoteAddr = ip + ":40000"
	if c.method != http.MethodGet {
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", publicURL)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if c.cookie != "" {
		r.AddCookie(&http.Cookie{Name: "login", Value: c.cookie})
	}
	if c.device != "" {
		r.AddCookie(&http.Cookie{Name: "device", Value: c.device})
	}
	for k, v := range c.headers {
		if k == "Host" {
			r.Host = v
			continue
		}
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	out := reply{status: res.StatusCode, body: b, header: res.Header}
	for _, ck := range res.Cookies() {
		switch ck.Name {
		case "login":
			out.setCookie = ck
			out.cookie = ck.Value
		case "device":
			out.device = ck.Value
		}
	}
	return out
}

// must fails the test unless the reply has status.
func (r reply) must(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("got status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// logOf returns the server's log lines about the request that r answers,
// which say why a request failed.
func (in *instance) logOf(r reply) string {
	id := r.header.Get("X-Request-Id")
	var lines []string
	for l := range strings.Lines(in.logs.String()) {
		if id != "" && strings.Contains(l, "request_id="+id) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "")
}

// links returns the links the log mailer logged so far, in order.
func (in *instance) links(prefix string) []string {
	re := regexp.MustCompile(regexp.QuoteMeta(prefix) + `#[A-Za-z0-9_-]+`)
	return re.FindAllString(in.logs.String(), -1)
}

// waitLink waits for the n-th mailed link with prefix (mail is sent in the
// background) and returns its fragment.
func (in *instance) waitLink(prefix string, n int) string {
	in.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if l := in.links(prefix); len(l) >= n {
			_, frag, _ := strings.Cut(l[n-1], "#")
			return frag
		}
		time.Sleep(5 * time.Millisecond)
	}
	in.t.Fatalf("no mail with a link to %s arrived; log:\n%s", prefix, in.logs.String())
	return ""
}

// operator is what a browser holds for one login.
type operator struct {
	email    string
	password string // "" for random keys (tests that need no derivation)
	loginID  string
	salt     []byte
	authKey  []byte
	wrapKey  []byte
	loginKey []byte
	recovery []byte // the recovery code
	keks     map[string][]byte
	cookie   string
}

func newOperator(email string) *operator {
	return &operator{email: email, keks: map[string][]byte{}}
}

// newPassword makes fresh password keys: derived from password when set,
// else random (the server cannot tell).
func (o *operator) newPassword(t *testing.T, password string) {
	t.Helper()
	o.password = password
	o.salt = keys.NewSalt()
	if password == "" {
		o.authKey, o.wrapKey = keys.NewKey(), keys.NewKey()
		return
	}
	lk, err := keys.DeriveLoginKeys(password, o.salt, keys.KDFIterations)
	if err != nil {
		t.Fatal(err)
	}
	o.authKey, o.wrapKey = lk.AuthKey, lk.WrapKey
}

// credentials creates a new login key and recovery code (unless keep) and
// returns the Credentials of PROTOCOL §7.1.
func (o *operator) credentials(t *testing.T, keep bool) map[string]any {
	t.Helper()
	if !keep || o.loginKey == nil {
		o.loginKey = keys.NewKey()
	}
	o.recovery = keys.NewRecoveryCode()
	rk, err := keys.DeriveRecoveryKeys(o.recovery)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := keys.WrapLoginKey(o.wrapKey, o.loginID, o.loginKey)
	if err != nil {
		t.Fatal(err)
	}
	recWrapped, err := keys.RecoveryWrapLoginKey(rk.Key, o.loginID, o.loginKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"salt":                    keys.EncodeBase64(o.salt),
		"authKey":                 keys.EncodeBase64(o.authKey),
		"wrappedLoginKey":         wrapped,
		"recoveryWrappedLoginKey": recWrapped,
		"recoveryProof":           keys.EncodeBase64(rk.Proof),
	}
}

// newAccount generates an account as a client does and returns its request
// fields, keeping the KEK.
func (o *operator) newAccount(t *testing.T, name string) (string, map[string]any) {
	t.Helper()
	id := keys.NewUUID()
	priv, err := keys.GenerateAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := keys.FormatPublicKey(priv.PublicKey())
	kek := keys.NewKey()
	encPriv, err := keys.EncryptPrivateKey(kek, id, priv)
	if err != nil {
		t.Fatal(err)
	}
	o.keks[id] = kek
	return id, map[string]any{"accountId": id, "name": name, "publicKey": pub, "encryptedPrivateKey": encPriv}
}

func (o *operator) wrapKEK(t *testing.T, accountID string) (wrapped, label string) {
	t.Helper()
	kek := o.keks[accountID]
	w, err := keys.WrapKEK(o.loginKey, accountID, kek)
	if err != nil {
		t.Fatal(err)
	}
	l, err := keys.EncryptLabel(kek, accountID, o.email)
	if err != nil {
		t.Fatal(err)
	}
	return w, l
}

// setup runs the browser setup for o with one account.
func (in *instance) setup(t *testing.T, o *operator, password string) (string, reply) {
	t.Helper()
	var status struct {
		Required bool   `json:"required"`
		LoginID  string `json:"loginId"`
	}
	in.do(call{method: "GET", path: "/api/setup"}).must(t, 200).decode(t, &status)
	o.loginID = status.LoginID
	o.newPassword(t, password)
	id, acc := o.newAccount(t, "first site")
	creds := o.credentials(t, false)
	wrapped, label := o.wrapKEK(t, id)
	r := in.do(call{method: "POST", path: "/api/setup", ip: "198.51.100.1", body: map[string]any{
		"setupToken": in.setupToken, "email": o.email, "credentials": creds,
		"account": acc, "grant": map[string]any{"wrappedKek": wrapped, "label": label},
	}})
	if r.status == http.StatusCreated {
		o.cookie = r.cookie
	}
	return id, r
}

// createAccount creates an account for o through the API.
func (in *instance) createAccount(t *testing.T, o *operator, name string) (string, reply) {
	t.Helper()
	id, acc := o.newAccount(t, name)
	acc["wrappedKek"], acc["label"] = o.wrapKEK(t, id)
	return id, in.do(call{method: "POST", path: "/api/accounts", cookie: o.cookie, body: acc})
}

// invitation is what an inviter's browser made.
type invitation struct {
	key   []byte
	token []byte
	wrap  []byte
}

// invite invites email to accounts (id -> role) as the inviter.
func (in *instance) invite(t *testing.T, inviter *operator, email string, roles map[string]string, sendEmail bool, more ...map[string]any) (invitation, reply) {
	t.Helper()
	inv := invitation{key: keys.NewKey()}
	ik, err := keys.DeriveInviteKeys(inv.key)
	if err != nil {
		t.Fatal(err)
	}
	inv.token, inv.wrap = ik.Token, ik.WrapKey
	var grants []map[string]any
	for id, role := range roles {
		kek := inviter.keks[id]
		if kek == nil {
			kek = keys.NewKey() // an account the inviter cannot read
		}
		w, _ := keys.WrapKEK(inv.wrap, id, kek)
		l, _ := keys.EncryptLabel(kek, id, email)
		grants = append(grants, map[string]any{"accountId": id, "role": role, "inviteWrappedKek": w, "label": l})
	}
	body := map[string]any{"email": email, "token": keys.EncodeBase64(inv.token), "grants": grants, "sendEmail": sendEmail}
	if sendEmail {
		body["inviteKey"] = keys.EncodeBase64(inv.key)
	}
	for _, m := range more {
		maps.Copy(body, m)
	}
	return inv, in.do(call{method: "POST", path: "/api/invitations", cookie: inviter.cookie, body: body})
}

type lookupGrant struct {
	AccountID        string `json:"accountId"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	InviteWrappedKEK string `json:"inviteWrappedKek"`
}

// join accepts an invitation as o (new logins get credentials), unwrapping
// the KEKs with the invite wrap key and re-wrapping them with the login key.
func (in *instance) join(t *testing.T, o *operator, inv invitation) reply {
	t.Helper()
	var lookup struct {
		LoginID       string        `json:"loginId"`
		ExistingLogin bool          `json:"existingLogin"`
		Grants        []lookupGrant `json:"grants"`
	}
	in.do(call{method: "POST", path: "/api/join/lookup", ip: "198.51.100.2", body: map[string]any{"token": keys.EncodeBase64(inv.token)}}).
		must(t, 200).decode(t, &lookup)
	o.loginID = lookup.LoginID
	body := map[string]any{"token": keys.EncodeBase64(inv.token)}
	if !lookup.ExistingLogin {
		if o.authKey == nil {
			o.newPassword(t, "")
		}
		body["credentials"] = o.credentials(t, false)
	}
	var grants []map[string]any
	for _, g := range lookup.Grants {
		kek, err := keys.UnwrapKEK(inv.wrap, g.AccountID, g.InviteWrappedKEK)
		if err != nil {
			t.Fatalf("unwrap invited KEK: %v", err)
		}
		o.keks[g.AccountID] = kek
		w, _ := keys.WrapKEK(o.loginKey, g.AccountID, kek)
		grants = append(grants, map[string]any{"accountId": g.AccountID, "wrappedKek": w})
	}
	body["grants"] = grants
	r := in.do(call{method: "POST", path: "/api/join", ip: "198.51.100.2", cookie: o.cookie, body: body})
	if r.status == http.StatusOK {
		o.cookie = r.cookie
	}
	return r
}

// login signs o in with its current auth key.
func (in *instance) login(t *testing.T, o *operator, ip string) reply {
	t.Helper()
	r := in.do(call{method: "POST", path: "/api/login", ip: ip, body: map[string]any{
		"email": o.email, "authKey": keys.EncodeBase64(o.authKey),
	}})
	if r.status == http.StatusOK {
		o.cookie = r.cookie
	}
	return r
}

// loginState is the LoginState of PROTOCOL §7.1.
type loginState struct {
	LoginID           string `json:"loginId"`
	CanCreateAccounts bool   `json:"canCreateAccounts"`
	KDF               struct {
		Alg        string `json:"alg"`
		Iterations int    `json:"iterations"`
		Salt       string `json:"salt"`
	} `json:"kdf"`
	WrappedLoginKey string `json:"wrappedLoginKey"`
	Grants          []struct {
		AccountID  string `json:"accountId"`
		Name       string `json:"name"`
		Role       string `json:"role"`
		State      string `json:"state"`
		WrappedKEK string `json:"wrappedKek"`
	} `json:"grants"`
	SessionExpiresAt string `json:"sessionExpiresAt"`
}

// world is an instance with the logins of the role table (P7):
// admin (the setup login, admin of A and B), viewer (viewer of A), other
// (admin of C only), and pending (invited to A, not joined).
type world struct {
	*instance
	admin, viewer, other, pending *operator
	a, b, c                       string
	pendingInvite                 invitation
	// notes carry values from a scenario's before hook to its after hook.
	notes map[string]string
}

// newWorld builds a world on a fresh instance: a setup, two accounts
// created, three invitations and two joins (about half a second, most of it
// argon2id). Scenario tables clone a template world instead.
func newWorld(t *testing.T) *world {
	t.Helper()
	in := newInstance(t, nil)
	w := &world{instance: in, notes: map[string]string{},
		admin: newOperator("admin@example.org"), viewer: newOperator("viewer@example.org"),
		other: newOperator("other@example.org"), pending: newOperator("pending@example.org"),
	}
	var r reply
	w.a, r = in.setup(t, w.admin, "")
	r.must(t, http.StatusCreated)
	w.b, r = in.createAccount(t, w.admin, "second site")
	r.must(t, http.StatusCreated)
	w.c, r = in.createAccount(t, w.admin, "third site")
	r.must(t, http.StatusCreated)
	inv, r := in.invite(t, w.admin, w.viewer.email, map[string]string{w.a: "viewer"}, false)
	r.must(t, http.StatusCreated)
	in.join(t, w.viewer, inv).must(t, http.StatusOK)
	inv, r = in.invite(t, w.admin, w.other.email, map[string]string{w.c: "admin"}, false)
	r.must(t, http.StatusCreated)
	in.join(t, w.other, inv).must(t, http.StatusOK)
	w.pendingInvite, r = in.invite(t, w.admin, w.pending.email, map[string]string{w.a: "viewer"}, false)
	r.must(t, http.StatusCreated)
	var lookup struct {
		LoginID string `json:"loginId"`
	}
	in.do(call{method: "POST", path: "/api/join/lookup", ip: "198.51.100.2", body: map[string]any{"token": b64(w.pendingInvite.token)}}).
		must(t, http.StatusOK).decode(t, &lookup)
	w.pending.loginID = lookup.LoginID
	return w
}

// worldTemplate is a built world whose database file each scenario copies.
type worldTemplate struct {
	dir   string
	world *world
}

// newWorldTemplate builds a world on a SQLite file in t's temporary
// directory (t being the parent of the scenarios) and closes its store.
func newWorldTemplate(t *testing.T) *worldTemplate {
	t.Helper()
	w := newWorld(t)
	if err := w.closeStore(); err != nil {
		t.Fatal(err)
	}
	return &worldTemplate{dir: w.dbDir, world: w}
}

// clone returns a copy of the template world with its own database file,
// router, clock and throttles.
func (tm *worldTemplate) clone(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(tm.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(tm.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src := tm.world
	clock := &testClock{now: src.clock.Now()}
	store := persistencetest.OpenStore(t, persistencetest.Dialect{Name: relational.DialectSQLite, DSN: filepath.Join(dir, "offen.db")},
		persistencetest.WithNow(clock.Now))
	in := startOperatorInstance(t, store, clock, src.secret, src.setupToken, nil)
	w := &world{instance: in, a: src.a, b: src.b, c: src.c, pendingInvite: src.pendingInvite, notes: map[string]string{},
		admin: src.admin.clone(), viewer: src.viewer.clone(), other: src.other.clone(), pending: src.pending.clone()}
	return w
}

func (o *operator) clone() *operator {
	c := *o
	c.keks = map[string][]byte{}
	for k, v := range o.keks {
		c.keks[k] = v
	}
	return &c
}

// expand replaces {a}, {b}, {c}, {admin}, {viewer}, {other}, {pending} in a
// path with the world's ids.
func (w *world) expand(s string) string {
	return strings.NewReplacer("{a}", w.a, "{b}", w.b, "{c}", w.c,
		"{admin}", w.admin.loginID, "{viewer}", w.viewer.loginID, "{other}", w.other.loginID, "{pending}", w.pending.loginID,
		"{unknown}", keys.NewUUID()).Replace(s)
}

func b64(b []byte) string { return keys.EncodeBase64(b) }

var _ = fmt.Sprint

// checkBody asserts the JSON error shape of a 4xx/5xx reply and the fragments a
// scenario wants in its body or not (after expand).
func (r reply) checkBody(t *testing.T, expand func(string) string, want, not []string) {
	t.Helper()
	if r.status >= 400 {
		var e struct {
			Error  string `json:"error"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(r.body, &e); err != nil || e.Status != r.status || e.Error == "" {
			t.Errorf("got error body %.300s, want {error, status}", r.body)
		}
	}
	for _, f := range want {
		if !strings.Contains(string(r.body), expand(f)) {
			t.Errorf("got body %.500s, want it to contain %q", r.body, expand(f))
		}
	}
	for _, f := range not {
		if strings.Contains(string(r.body), expand(f)) {
			t.Errorf("got body %.500s, want it not to contain %q", r.body, expand(f))
		}
	}
}
