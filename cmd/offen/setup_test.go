// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
	"github.com/offen/offen/server"
)

// runWithStdin runs offen with stdin and an env file of the test.
func runWithStdin(t *testing.T, vars map[string]string, envFile, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(env{getenv: mapenv(vars), stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr})
	root.SetArgs(append([]string{"--envfile", envFile}, args...))
	err := root.ExecuteContext(t.Context())
	return stdout.String(), stderr.String(), err
}

// TestSetupThenLogin is the acceptance test of issue 5: `offen setup` on an
// empty SQLite database, then a login through the API with the same
// password (Go doing the browser's derivations), which unlocks the account;
// a second setup without --force fails with a clear message.
func TestSetupThenLogin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "offen.env")
	writeFile(t, envFile, "")
	dbPath := filepath.Join(dir, "offen.db")
	vars := map[string]string{
		"OFFEN_DATABASE_CONNECTIONSTRING": dbPath,
		"OFFEN_APP_LOGLEVEL":              "warn",
		"OFFEN_SERVER_PUBLICURL":          "https://offen.example.org",
	}
	const password = "correct horse battery staple"

	// --populate writes the missing secret to the env file.
	out, stderr, err := runWithStdin(t, vars, envFile, password+"\n",
		"setup", "--email", "Ops@Example.org", "--name", "My site", "--populate")
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, stderr)
	}
	envText, _ := os.ReadFile(envFile)
	secretLine := regexp.MustCompile(`(?m)^OFFEN_SECRET=(\S+)$`).FindSubmatch(envText)
	if secretLine == nil {
		t.Fatalf("env file has no OFFEN_SECRET: %q", envText)
	}
	accountID := regexp.MustCompile(`Account id: ([0-9a-f-]{36})`).FindStringSubmatch(out)
	if accountID == nil {
		t.Fatalf("no account id in %q", out)
	}
	for _, want := range []string{
		`<script async src="https://offen.example.org/script.js" data-account-id="` + accountID[1] + `"></script>`,
		"Recovery code",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code := regexp.MustCompile(`[0-9A-Z]{4}(-[0-9A-Z]{4}){7}`).FindString(out)
	if _, err := keys.ParseRecoveryCode(code); err != nil {
		t.Errorf("got recovery code %q: %v", code, err)
	}
	if strings.Contains(out, password) || strings.Contains(stderr, password) {
		t.Error("the password was echoed")
	}

	// Again, without --force: refused with one clear line.
	_, _, err = runWithStdin(t, vars, envFile, password+"\n", "setup", "--email", "b@example.org", "--name", "x")
	if err == nil || !strings.Contains(err.Error(), "already has a login") || !strings.Contains(err.Error(), "--force") || strings.Contains(err.Error(), "\n") {
		t.Errorf("second setup: got %v, want a one-line refusal naming --force", err)
	}

	// Log in through the API as a browser would.
	secret, err := decodeSecret(string(secretLine[1]))
	if err != nil {
		t.Fatal(err)
	}
	store := persistencetest.OpenStore(t, persistencetest.Dialect{Name: relational.DialectSQLite, DSN: dbPath})
	h := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{
		PublicURL: "https://offen.example.org", InstanceSecret: secret,
	}, store, nil, nil, nil, nil)
	post := func(path string, body any) (int, []byte, []*http.Cookie) {
		b, _ := json.Marshal(body)
		r := httptest.NewRequest("POST", path, bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.Bytes(), w.Result().Cookies()
	}
	status, body, _ := post("/api/login/salt", map[string]string{"email": "ops@example.org"})
	var salt struct {
		KDF struct {
			Iterations int    `json:"iterations"`
			Salt       string `json:"salt"`
		} `json:"kdf"`
	}
	if status != 200 || json.Unmarshal(body, &salt) != nil {
		t.Fatalf("salt: got %d %s", status, body)
	}
	saltBytes, _ := keys.DecodeBase64(salt.KDF.Salt)
	lk, err := keys.DeriveLoginKeys(password, saltBytes, salt.KDF.Iterations)
	if err != nil {
		t.Fatal(err)
	}
	status, body, cookies := post("/api/login", map[string]string{"email": " OPS@example.org", "authKey": keys.EncodeBase64(lk.AuthKey)})
	if status != 200 || len(cookies) == 0 {
		t.Fatalf("login: got %d %s", status, body)
	}
	var state struct {
		LoginID         string `json:"loginId"`
		WrappedLoginKey string `json:"wrappedLoginKey"`
		Grants          []struct {
			AccountID  string `json:"accountId"`
			Name       string `json:"name"`
			Role       string `json:"role"`
			WrappedKEK string `json:"wrappedKek"`
		} `json:"grants"`
	}
	if err := json.Unmarshal(body, &state); err != nil || len(state.Grants) != 1 {
		t.Fatalf("login state %s: %v", body, err)
	}
	g := state.Grants[0]
	if g.AccountID != accountID[1] || g.Name != "My site" || g.Role != "admin" {
		t.Errorf("got grant %+v", g)
	}
	loginKey, err := keys.UnwrapLoginKey(lk.WrapKey, state.LoginID, state.WrappedLoginKey)
	if err != nil {
		t.Fatalf("unwrap login key: %v", err)
	}
	kek, err := keys.UnwrapKEK(loginKey, g.AccountID, g.WrappedKEK)
	if err != nil {
		t.Fatalf("unwrap KEK: %v", err)
	}
	a, err := store.FindAccount(t.Context(), g.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.DecryptPrivateKey(kek, a.ID, a.EncryptedPrivateKey); err != nil {
		t.Errorf("decrypt private key: %v", err)
	}
	// The recovery code unwraps the same login key.
	raw, _ := keys.ParseRecoveryCode(code)
	rk, _ := keys.DeriveRecoveryKeys(raw)
	login, _ := store.FindLogin(t.Context(), state.LoginID)
	if got, err := keys.RecoveryUnwrapLoginKey(rk.Key, state.LoginID, login.RecoveryWrappedLoginKey); err != nil || !keys.Equal(got, loginKey) {
		t.Errorf("recovery code does not unwrap the login key: %v", err)
	}
}

func TestSetupRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		stdin   string
		args    []string
		noSec   bool
		wantErr string
	}{
		{name: "short password", stdin: "short\n", args: []string{"--email", "a@example.org", "--name", "x"}, wantErr: "at least 10 characters"},
		{name: "no password", stdin: "", args: []string{"--email", "a@example.org", "--name", "x"}, wantErr: "no password"},
		{name: "bad email", args: []string{"--email", "nope", "--name", "x"}, wantErr: "--email"},
		{name: "no name", args: []string{"--email", "a@example.org"}, wantErr: "--name"},
		{name: "no secret", noSec: true, stdin: "long enough password\n", args: []string{"--email", "a@example.org", "--name", "x"}, wantErr: "OFFEN_SECRET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := sqliteEnv(t, nil)
			if tc.noSec {
				delete(vars, "OFFEN_SECRET")
			}
			envFile := filepath.Join(t.TempDir(), "offen.env")
			writeFile(t, envFile, "")
			_, _, err := runWithStdin(t, vars, envFile, tc.stdin, append([]string{"setup"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestSetupChecksDatabaseFirst: a second setup with a short password is
// told that the database is taken, not that the password is short.
func TestSetupChecksDatabaseFirst(t *testing.T) {
	t.Parallel()
	vars := sqliteEnv(t, nil)
	envFile := filepath.Join(t.TempDir(), "offen.env")
	writeFile(t, envFile, "")
	args := []string{"setup", "--email", "a@example.org", "--name", "x"}
	if _, stderr, err := runWithStdin(t, vars, envFile, "long enough password\n", args...); err != nil {
		t.Fatalf("first setup: %v\n%s", err, stderr)
	}
	_, _, err := runWithStdin(t, vars, envFile, "short\n", args...)
	if err == nil || !strings.Contains(err.Error(), "already has a login") {
		t.Errorf("got %v, want the database refused before the password", err)
	}
}

// TestSetupPrintsTestPageHint: a local public URL gets the test page on
// the same host name; a public one the same-site advice.
func TestSetupPrintsTestPageHint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ publicURL, want string }{
		{"http://localhost:3000", "open http://localhost:8800/. Use the host name localhost"},
		{"http://127.0.0.1:3000", "open http://127.0.0.1:8800/. Use the host name 127.0.0.1"},
		{"https://offen.example.org", "same site as offen.example.org (for example www.example.org"},
	} {
		vars := sqliteEnv(t, map[string]string{"OFFEN_SERVER_PUBLICURL": tc.publicURL})
		envFile := filepath.Join(t.TempDir(), "offen.env")
		writeFile(t, envFile, "")
		out, stderr, err := runWithStdin(t, vars, envFile, "long enough password\n", "setup", "--email", "a@example.org", "--name", "x")
		if err != nil {
			t.Fatalf("setup: %v\n%s", err, stderr)
		}
		if !strings.Contains(out, `<script async src="`+tc.publicURL+`/script.js" data-account-id="`) || !strings.Contains(out, tc.want) {
			t.Errorf("%s: output lacks the tag or %q:\n%s", tc.publicURL, tc.want, out)
		}
	}
}

func TestSetupForce(t *testing.T) {
	t.Parallel()
	vars := sqliteEnv(t, nil)
	envFile := filepath.Join(t.TempDir(), "offen.env")
	writeFile(t, envFile, "")
	const pw = "a long enough password\n"
	if _, _, err := runWithStdin(t, vars, envFile, pw, "setup", "--email", "a@example.org", "--name", "one"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runWithStdin(t, vars, envFile, pw, "setup", "--email", "b@example.org", "--name", "two", "--force"); err != nil {
		t.Fatalf("forced setup: %v", err)
	}
	_, stderr, err := runWithStdin(t, vars, envFile, "", "setup", "--email", "c@example.org", "--name", "three", "--force", "--password", "given on the command line")
	if err != nil || !strings.Contains(stderr, "warning: --password") {
		t.Errorf("--password: got %v, stderr %q, want success with a warning", err, stderr)
	}
	if _, _, err := runWithStdin(t, vars, envFile, pw, "setup", "--email", "A@example.org", "--name", "dup", "--force"); err == nil || !strings.Contains(err.Error(), "e-mail") {
		t.Errorf("forced setup with a taken address: got %v", err)
	}
}

// TestSetupLink: serve logs <public URL>/setup/#<token> while no login
// exists, and nothing once one does.
func TestSetupLink(t *testing.T) {
	t.Parallel()
	store := persistencetest.NewSQLiteStore(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	token, err := setupLink(t.Context(), logger, store, "https://offen.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := keys.ParseToken(token); err != nil || len(raw) != 32 {
		t.Fatalf("got token %q, want 32 bytes in base64url", token)
	}
	if !strings.Contains(logs.String(), "https://offen.example.org/setup/#"+token) {
		t.Errorf("log lacks the setup link: %s", logs.String())
	}
	secret, _ := decodeSecret(validSecret)
	instance, _ := keys.DeriveInstanceKeys(secret)
	in, _, err := setupInput(instance, "a@example.org", "site", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Setup(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	token, err = setupLink(t.Context(), logger, store, "https://offen.example.org")
	if err != nil || token != "" || logs.Len() != 0 {
		t.Errorf("after setup: got %q, %v, log %q, want no token", token, err, logs.String())
	}
}
