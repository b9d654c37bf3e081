// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"crypto/ecdh"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
	"github.com/offen/offen/server"
)

// The visitor harness: the real router on a real SQLite store with a small
// script bundle (fstest.MapFS laid out like script/dist), accounts made as
// a client makes them, and visitors that do in Go what the vault does
// (PROTOCOL §4 "Visitor, first page view").

// testBundle is a built script bundle as script/dist holds it.
func testBundle() fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":                              {Data: nil},
		"manifest.json":                         {Data: []byte(`{"script.js":"script.js","vault.js":"vault/assets/vault-T3ST0001.js","vault.css":"vault/assets/vault-style-T3ST0002.css"}`)},
		"script.js":                             {Data: []byte(`(()=>{/* offen test script */})();`)},
		"vault/assets/vault-T3ST0001.js":        {Data: []byte(`/* vault */`)},
		"vault/assets/vault-style-T3ST0002.css": {Data: []byte(`/* vault styles */`)},
	}
}

// visitorEnv is one instance for visitor tests.
type visitorEnv struct {
	t      *testing.T
	h      http.Handler
	store  *relational.Store
	logs   *syncBuffer
	dbPath string
	// clock is the server's clock (throttles), standing still unless
	// advanced, so throttle scenarios do not depend on the machine's speed.
	clock *testClock
}

// envOptions change a visitorEnv before it starts.
type envOptions struct {
	publicURL string
	bundle    fs.FS // nil: testBundle(); use noBundle for none
	retention time.Duration
}

// noBundle is an empty script bundle, as in a binary built without Node.
var noBundle = fstest.MapFS{".gitkeep": {Data: nil}}

func newVisitorEnv(t *testing.T, o envOptions) *visitorEnv {
	t.Helper()
	db := persistencetest.NewDatabase(t, persistencetest.SQLite)
	store, err := relational.Open(t.Context(), relational.Options{Dialect: db.Name, DSN: db.DSN})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if o.publicURL == "" {
		o.publicURL = "https://offen.example.org"
	}
	var bundle fs.FS = testBundle()
	if o.bundle != nil {
		bundle = o.bundle
	}
	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	e := &visitorEnv{t: t, store: store, logs: &syncBuffer{}, dbPath: db.DSN, clock: &testClock{now: time.Now()}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.h = server.New(logger, server.Options{
		PublicURL:      o.publicURL,
		Locale:         "en",
		Retention:      o.retention,
		Now:            e.clock.Now,
		RequestTimeout: testRequestTimeout,
	}, store, nil, loc, nil, bundle)
	return e
}

// testAccount is an account made as a client makes it, with its private
// key for decrypting what visitors sent.
type testAccount struct {
	persistence.Account
	priv *ecdh.PrivateKey
}

// account creates an account with allowed origins.
func (e *visitorEnv) account(name string, origins ...string) testAccount {
	e.t.Helper()
	return createTestAccount(e.t, e.store, name, origins...)
}

func createTestAccount(t *testing.T, store persistence.Store, name string, origins ...string) testAccount {
	t.Helper()
	id := keys.NewUUID()
	priv, err := keys.GenerateAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.FormatPublicKey(priv.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	encPriv, err := keys.EncryptPrivateKey(keys.NewKey(), id, priv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := store.CreateAccount(t.Context(), persistence.Account{
		ID: id, Name: name, PublicKey: pub, EncryptedPrivateKey: encPriv, AllowedOrigins: origins,
	})
	if err != nil {
		t.Fatal(err)
	}
	return testAccount{Account: a, priv: priv}
}

// retire retires the account as an admin would (flag, then data deletion).
func retire(t *testing.T, store persistence.Store, id string) {
	t.Helper()
	if err := store.RetireAccount(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

// vreply is a response to a visitor request.
type vreply struct {
	status int
	body   []byte
	header http.Header
	// user is the user cookie the response set; cleared says it was removed.
	user      *http.Cookie
	cookieSet bool
}

func (r vreply) must(t *testing.T, status int) vreply {
	t.Helper()
	if r.status != status {
		t.Fatalf("got status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

func (r vreply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// visitor is a browser with the vault's keys: a user cookie, the consent
// cookie and user secrets by key id.
type visitor struct {
	t       *testing.T
	h       http.Handler
	ip      string
	user    string // user cookie value; "" none
	consent string // consent cookie value; "" none
	secrets map[string]visitorSecret
	// extra are headers set on every request ("" deletes one); replace is
	// applied to string bodies.
	extra   map[string]string
	replace map[string]string
}

type visitorSecret struct {
	accountID string
	secret    []byte
}

func newVisitor(t *testing.T, h http.Handler) *visitor {
	return &visitor{t: t, h: h, ip: "203.0.113.7", consent: "allow", secrets: map[string]visitorSecret{}}
}

// do sends a request as the vault does (same-origin fetch with JSON) and
// keeps the user cookie the response sets or clears.
func (v *visitor) do(method, path string, body any) vreply {
	v.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		for old, n := range v.replace {
			b = strings.ReplaceAll(b, old, n)
		}
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			v.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequestWithContext(v.t.Context(), method, path, rd)
	r.RemoteAddr = v.ip + ":50000"
	if method != http.MethodGet {
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, val := range v.extra {
		if val == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, val)
		}
	}
	if v.user != "" {
		r.AddCookie(&http.Cookie{Name: "user", Value: v.user})
	}
	if v.consent != "" {
		r.AddCookie(&http.Cookie{Name: "consent", Value: v.consent})
	}
	w := httptest.NewRecorder()
	v.h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	out := vreply{status: res.StatusCode, body: b, header: res.Header}
	for _, c := range res.Cookies() {
		if c.Name == "user" {
			out.user, out.cookieSet = c, true
			if c.MaxAge < 0 {
				v.user = ""
			} else {
				v.user = c.Value
			}
		}
	}
	return out
}

// exchange makes a new user secret for the account, wraps it and sends it;
// it returns the key id.
func (v *visitor) exchange(a testAccount) (string, vreply) {
	v.t.Helper()
	secret := keys.NewKey()
	wrapped, err := keys.WrapUserSecret(a.priv.PublicKey(), a.ID, secret)
	if err != nil {
		v.t.Fatal(err)
	}
	keyID := keys.NewKeyID()
	r := v.do("POST", "/api/exchange", map[string]string{"accountId": a.ID, "keyId": keyID, "wrappedSecret": wrapped})
	if r.status == http.StatusCreated {
		v.secrets[keyID] = visitorSecret{accountID: a.ID, secret: secret}
	}
	return keyID, r
}

// payload encrypts an event under the key id's secret.
func (v *visitor) payload(keyID string, event map[string]any) string {
	v.t.Helper()
	s, ok := v.secrets[keyID]
	if !ok {
		v.t.Fatalf("no secret %s", keyID)
	}
	return encryptEvent(v.t, s.secret, s.accountID, event)
}

func encryptEvent(t *testing.T, secret []byte, accountID string, event map[string]any) string {
	t.Helper()
	c, err := keys.NewCipher(secret)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	return keys.EncryptEvent(c, accountID, b)
}

// send posts page views with the given hrefs under keyID.
func (v *visitor) send(accountID, keyID string, hrefs ...string) vreply {
	v.t.Helper()
	payloads := make([]string, len(hrefs))
	for i, h := range hrefs {
		payloads[i] = v.payload(keyID, map[string]any{"v": 1, "type": "PAGEVIEW", "href": h})
	}
	return v.do("POST", "/api/events", map[string]any{"accountId": accountID, "keyId": keyID, "payloads": payloads})
}

// dbBytes returns the SQLite file with its WAL, for searching the dump.
func (e *visitorEnv) dbBytes() []byte {
	e.t.Helper()
	return readDatabaseFiles(e.t, e.dbPath)
}

func readDatabaseFiles(t *testing.T, dbPath string) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(dbPath + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatalf("no database file at %s (%v)", dbPath, filepath.Base(dbPath))
	}
	return all
}
