// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	stdmaps "maps"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
)

// TestTwoInstancesOnOneDatabase runs two offen processes on one PostgreSQL
// and one MySQL/MariaDB database and lets them expire the same old data at
// the same moment: first as two `offen expire` cron runs, then as two
// single-node `offen serve` processes, which expire at start. Each old row
// must be deleted exactly once, with one "before" tombstone per account and
// run, and neither process may report an error.
//
// A login on one instance must hold on the other, as sessions live in the
// database, and events a visitor sends to one must be readable through the
// other.
func TestTwoInstancesOnOneDatabase(t *testing.T) {
	t.Parallel()
	for _, d := range persistencetest.Dialects(t) {
		if d.Name == persistencetest.SQLite.Name {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			db := persistencetest.NewDatabase(t, d)
			store := persistencetest.OpenStore(t, db)
			if err := store.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			seed := newRawSeed(t, db)
			var accounts []string
			for i := range 2 {
				a, err := store.CreateAccount(t.Context(), persistence.Account{
					ID:                  newTestUUID(),
					Name:                fmt.Sprint("site ", i),
					PublicKey:           "p256." + randomTestHex(32),
					EncryptedPrivateKey: "a1." + randomTestHex(12) + "." + randomTestHex(48),
				})
				if err != nil {
					t.Fatal(err)
				}
				accounts = append(accounts, a.ID)
			}
			vars := map[string]string{
				"OFFEN_DATABASE_DIALECT":          db.Name,
				"OFFEN_DATABASE_CONNECTIONSTRING": db.DSN,
				"OFFEN_SECRET":                    validSecret,
				"OFFEN_APP_RETENTION":             "7days",
				"OFFEN_APP_LOGLEVEL":              "info",
			}
			const oldEvents, freshEvents, oldSessions = 1500, 4, 20

			t.Run("two cron runs of offen expire", func(t *testing.T) {
				seed.events(accounts, oldEvents, time.Now().Add(-30*24*time.Hour))
				seed.events(accounts, freshEvents, time.Now().Add(-time.Hour))
				seed.sessions(oldSessions, time.Now().Add(-time.Hour))
				seed.sessions(1, time.Now().Add(time.Hour))

				outputs := runConcurrently(t, vars, "expire")
				var events, sessions, skipped int
				done := regexp.MustCompile(`: (\d+) events, \d+ secrets, \d+ segments, \d+ tombstones, (\d+) sessions`)
				for _, out := range outputs {
					if m := done.FindStringSubmatch(out); m != nil {
						e, _ := strconv.Atoi(m[1])
						s, _ := strconv.Atoi(m[2])
						events, sessions = events+e, sessions+s
					} else if strings.Contains(out, "another instance is expiring") {
						skipped++
					} else {
						t.Errorf("unexpected output: %s", out)
					}
				}
				if events != oldEvents || sessions != oldSessions {
					t.Errorf("together they deleted %d events and %d sessions, want %d and %d\n%s",
						events, sessions, oldEvents, oldSessions, strings.Join(outputs, "\n"))
				}
				t.Logf("one of two runs skipped: %v", skipped == 1)
				seed.wantCount("events", freshEvents)
				seed.wantCount("sessions", 1)
				seed.wantCount("tombstones WHERE kind = 'before'", len(accounts))
			})

			t.Run("two single-node serve processes", func(t *testing.T) {
				seed.events(accounts, oldEvents, time.Now().Add(-20*24*time.Hour))
				serveVars := stdmaps.Clone(vars)
				serveVars["OFFEN_APP_LOGLEVEL"] = "debug" // to see "expire skipped"
				a, b := startOffen(t, serveVars), startOffen(t, serveVars)
				a.waitHealthy(t)
				b.waitHealthy(t)
				// Each instance ran expiry at start once it logs its outcome.
				deadline := time.Now().Add(time.Minute)
				for _, p := range []*process{a, b} {
					for out := p.output.String(); !strings.Contains(out, `msg="expired data"`) && !strings.Contains(out, "expire skipped"); out = p.output.String() {
						if time.Now().After(deadline) {
							t.Fatalf("no expiry outcome logged within a minute:\n%s", out)
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
				seed.wantCount("events", freshEvents)
				a.stop(t)
				b.stop(t)
				expired := regexp.MustCompile(`msg="expired data" events=(\d+)`)
				events := 0
				for _, p := range []*process{a, b} {
					out := p.output.String()
					for _, m := range expired.FindAllStringSubmatch(out, -1) {
						n, _ := strconv.Atoi(m[1])
						events += n
					}
					if strings.Contains(out, "level=ERROR") {
						t.Errorf("an instance logged an error:\n%s", out)
					}
				}
				if events != oldEvents {
					t.Errorf("the instances report %d expired events together, want %d\n%s\n%s", events, oldEvents, a.output, b.output)
				}
				seed.wantCount("tombstones WHERE kind = 'before'", 2*len(accounts))
			})

			t.Run("two multi-node serve processes", func(t *testing.T) {
				const email, password = "admin@offen.test", "two instances, one database"
				out, err := runOffen(t, vars, "setup", "--email", email, "--name", "shared", "--password", password, "--force")
				if err != nil {
					t.Fatalf("setup: %v", err)
				}
				m := regexp.MustCompile(`Account id: ([0-9a-f-]{36})`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("setup printed no account id:\n%s", out)
				}
				accountID := m[1]
				multi := stdmaps.Clone(vars)
				multi["OFFEN_APP_SINGLENODE"] = "false"
				multi["OFFEN_SERVER_PUBLICURL"] = "https://offen.test" // one name behind a load balancer
				a, b := startOffen(t, multi), startOffen(t, multi)
				a.waitHealthy(t)
				b.waitHealthy(t)

				t.Run("a session from one is valid on the other", func(t *testing.T) {
					cookie, loginID := logIn(t, a.url, "https://offen.test", email, password)
					for _, p := range []*process{b, a} {
						req, _ := http.NewRequest(http.MethodGet, p.url+"/api/login", nil)
						req.AddCookie(cookie)
						res, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						body, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"loginId":"`+loginID+`"`) {
							t.Errorf("GET %s/api/login with the session of %s: got %d %s, want 200 for login %s", p.url, a.url, res.StatusCode, body, loginID)
						}
					}
				})

				t.Run("events sent to one are read through the other", func(t *testing.T) {
					v := &testVisitor{t: t, origin: "https://offen.test"}
					var key struct {
						PublicKey string `json:"publicKey"`
					}
					v.call(a.url, http.MethodGet, "/api/exchange?accountId="+accountID, nil, http.StatusOK, &key)
					pub, err := keys.ParsePublicKey(key.PublicKey)
					if err != nil {
						t.Fatal(err)
					}
					secret := keys.NewKey()
					wrapped, err := keys.WrapUserSecret(pub, accountID, secret)
					if err != nil {
						t.Fatal(err)
					}
					keyID := keys.NewKeyID()
					v.call(a.url, http.MethodPost, "/api/exchange", map[string]string{"accountId": accountID, "keyId": keyID, "wrappedSecret": wrapped}, http.StatusCreated, nil)
					aead, err := keys.NewCipher(secret)
					if err != nil {
						t.Fatal(err)
					}
					want := `{"type":"pageview","href":"https://www.offen.test/two-instances"}`
					payload := keys.EncryptEvent(aead, accountID, []byte(want))
					v.call(a.url, http.MethodPost, "/api/events", map[string]any{"accountId": accountID, "keyId": keyID, "payloads": []string{payload}}, http.StatusCreated, nil)

					var page struct {
						Events []struct {
							AccountID, KeyID, Payload string
						} `json:"events"`
					}
					v.call(b.url, http.MethodGet, "/api/events", nil, http.StatusOK, &page)
					if len(page.Events) != 1 || page.Events[0].KeyID != keyID {
						t.Fatalf("instance B lists %+v, want the one event sent to A", page.Events)
					}
					got, err := keys.DecryptEvent(aead, accountID, page.Events[0].Payload)
					if err != nil || string(got) != want {
						t.Errorf("decrypted %q (%v), want %q", got, err, want)
					}
				})
				a.stop(t)
				b.stop(t)
			})
		})
	}
}

// testVisitor talks to instances as the vault does: JSON, same-origin, the
// consent and user cookies, which it keeps across instances.
type testVisitor struct {
	t      *testing.T
	origin string
	user   string
}

func (v *testVisitor) call(baseURL, method, path string, body any, wantStatus int, out any) {
	v.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, baseURL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", v.origin)
	}
	req.AddCookie(&http.Cookie{Name: "consent", Value: "allow"})
	if v.user != "" {
		req.AddCookie(&http.Cookie{Name: "user", Value: v.user})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		v.t.Fatalf("%s %s%s: got %d %s, want %d", method, baseURL, path, res.StatusCode, data, wantStatus)
	}
	for _, c := range res.Cookies() {
		if c.Name == "user" && c.Value != "" {
			v.user = c.Value
		}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			v.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// runConcurrently starts two offen processes with args at the same moment
// and returns their combined outputs; both must exit 0.
func runConcurrently(t *testing.T, vars map[string]string, args ...string) []string {
	t.Helper()
	bin := offenBinary(t)
	outputs := make([]string, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		dir := t.TempDir()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "PATH=/usr/bin:/bin"}
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		wg.Go(func() {
			<-start
			out, err := cmd.CombinedOutput()
			outputs[i], errs[i] = string(out), err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("offen %s #%d: %v\n%s", strings.Join(args, " "), i+1, err, outputs[i])
		}
	}
	return outputs
}

// logIn logs in as a browser does (salt, PBKDF2 and HKDF on the client, auth
// key to the server) and returns the session cookie and the login's id.
func logIn(t *testing.T, baseURL, origin, email, password string) (*http.Cookie, string) {
	t.Helper()
	post := func(path string, body any) *http.Response {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, baseURL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(res.Body)
			t.Fatalf("POST %s: got %d %s", path, res.StatusCode, msg)
		}
		return res
	}
	res := post("/api/login/salt", map[string]string{"email": email})
	var salt struct {
		KDF struct {
			Iterations int    `json:"iterations"`
			Salt       string `json:"salt"`
		} `json:"kdf"`
	}
	err := json.NewDecoder(res.Body).Decode(&salt)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	rawSalt, err := keys.DecodeBase64(salt.KDF.Salt)
	if err != nil {
		t.Fatal(err)
	}
	lk, err := keys.DeriveLoginKeys(password, rawSalt, salt.KDF.Iterations)
	if err != nil {
		t.Fatal(err)
	}
	res = post("/api/login", map[string]string{"email": email, "authKey": keys.EncodeBase64(lk.AuthKey)})
	var state struct {
		LoginID string `json:"loginId"`
	}
	err = json.NewDecoder(res.Body).Decode(&state)
	res.Body.Close()
	if err != nil || state.LoginID == "" {
		t.Fatalf("login answer: %v, login id %q", err, state.LoginID)
	}
	for _, c := range res.Cookies() {
		if c.Value != "" {
			return c, state.LoginID
		}
	}
	t.Fatal("login set no cookie")
	return nil, ""
}

// rawSeed writes rows of areas that have no store methods for this yet,
// straight into the test database.
type rawSeed struct {
	t       *testing.T
	db      *sql.DB
	dialect string
}

func newRawSeed(t *testing.T, d persistencetest.Dialect) rawSeed {
	t.Helper()
	driver := map[string]string{"postgres": "pgx", "mysql": "mysql"}[d.Name]
	db, err := sql.Open(driver, d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return rawSeed{t: t, db: db, dialect: d.Name}
}

func (s rawSeed) exec(query string, args ...any) {
	s.t.Helper()
	if s.dialect == "postgres" {
		n := 0
		query = regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string { n++; return "$" + strconv.Itoa(n) })
	}
	if _, err := s.db.ExecContext(s.t.Context(), query, args...); err != nil {
		s.t.Fatalf("seed: %v", err)
	}
}

// events inserts n events spread over accounts, made one second apart from at.
func (s rawSeed) events(accounts []string, n int, at time.Time) {
	s.t.Helper()
	for start := 0; start < n; start += 250 {
		var rows []string
		var args []any
		for i := start; i < min(n, start+250); i++ {
			ts := at.Add(time.Duration(i) * time.Second)
			rows = append(rows, "(?, ?, ?, ?, ?, ?)")
			args = append(args, testULID(ts), accounts[i%len(accounts)], randomTestHex(32), randomTestHex(16), "a1.payload", ts.UnixMicro())
		}
		s.exec("INSERT INTO events (event_id, account_id, secret_id, key_id, payload, seq) VALUES "+strings.Join(rows, ", "), args...)
	}
}

// sessions inserts n sessions of a new login, expiring at expires.
func (s rawSeed) sessions(n int, expires time.Time) {
	s.t.Helper()
	login := newTestUUID()
	now := time.Now().UTC()
	s.exec("INSERT INTO logins (login_id, email_index, from_setup, auth_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
		login, randomTestHex(32), false, "argon2id1.salt.hash", now, now)
	for range n {
		s.exec("INSERT INTO sessions (token_hash, login_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			randomTestHex(32), login, expires.Add(-time.Hour).UTC(), expires.Add(-time.Hour).UTC(), expires.UTC())
	}
}

func (s rawSeed) count(tableAndWhere string) int {
	s.t.Helper()
	var n int
	if err := s.db.QueryRowContext(s.t.Context(), "SELECT COUNT(*) FROM "+tableAndWhere).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s rawSeed) wantCount(tableAndWhere string, want int) {
	s.t.Helper()
	if got := s.count(tableAndWhere); got != want {
		s.t.Errorf("%s: got %d rows, want %d", tableAndWhere, got, want)
	}
}

func randomTestHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newTestUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// testULID is a ULID of t's millisecond with random entropy (26 Crockford
// base32 characters), as the server writes event ids.
func testULID(t time.Time) string {
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var out [26]byte
	ms := uint64(t.UnixMilli())
	for i := 9; i >= 0; i-- {
		out[i] = crockford[ms&31]
		ms >>= 5
	}
	r := make([]byte, 16)
	rand.Read(r)
	for i := 10; i < 26; i++ {
		out[i] = crockford[r[i-10]&31]
	}
	return string(out[:])
}
