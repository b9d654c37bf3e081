// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the configuration table in README.md")

// validSecret is 32 bytes of standard base64.
var validSecret = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// fakeFiles serves file contents from a map, as loadOptions.ReadFile.
func fakeFiles(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

func mapenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, envFile, err := loadConfig(loadOptions{Getenv: mapenv(nil), ReadFile: fakeFiles(nil)})
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if envFile != "" {
		t.Errorf("got env file %q, want none", envFile)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"port", cfg.Server.Port, 3000},
		{"public url", cfg.Server.PublicURL, "http://localhost:3000"},
		{"dialect", cfg.Database.Dialect, "sqlite3"},
		{"dsn", cfg.Database.ConnectionString, "/var/opt/offen/offen.db"},
		{"single node", cfg.App.SingleNode, true},
		{"retention", cfg.App.Retention.Duration(), 186 * 24 * time.Hour},
		{"log level", cfg.App.LogLevel, "info"},
		{"smtp port", cfg.SMTP.Port, 587},
		{"smtp auth", cfg.SMTP.AuthType, "PLAIN"},
		{"acme", cfg.Server.ACMEDirectory, "https://acme-v02.api.letsencrypt.org/directory"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := cfg.RequireSecret(); err == nil || !strings.Contains(err.Error(), "OFFEN_SECRET") {
		t.Errorf("RequireSecret: got %v, want an error naming OFFEN_SECRET", err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flags map[string]string
		env   map[string]string
		file  string
		want  int
	}{
		{"default", nil, nil, "", 3000},
		{"file beats default", nil, nil, "OFFEN_SERVER_PORT=4001\n", 4001},
		{"environment beats file", nil, map[string]string{"OFFEN_SERVER_PORT": "4002"}, "OFFEN_SERVER_PORT=4001\n", 4002},
		{"flag beats environment", map[string]string{"OFFEN_SERVER_PORT": "4003"}, map[string]string{"OFFEN_SERVER_PORT": "4002"}, "OFFEN_SERVER_PORT=4001\n", 4003},
		{"empty environment falls through", nil, map[string]string{"OFFEN_SERVER_PORT": ""}, "OFFEN_SERVER_PORT=4001\n", 4001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{}
			if tt.file != "" {
				files["offen.env"] = tt.file
			}
			cfg, _, err := loadConfig(loadOptions{Getenv: mapenv(tt.env), Flags: tt.flags, ReadFile: fakeFiles(files)})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Server.Port != tt.want {
				t.Errorf("got port %d, want %d", cfg.Server.Port, tt.want)
			}
			if want := fmt.Sprintf("http://localhost:%d", tt.want); cfg.Server.PublicURL != want {
				t.Errorf("got public URL %q, want %q", cfg.Server.PublicURL, want)
			}
		})
	}
}

func TestConfigSecretFiles(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"/run/secrets/secret":   validSecret + "\n",
		"/run/secrets/password": "hunter2\n",
		"/run/secrets/dsn":      "/tmp/from-file.db",
	}
	tests := []struct {
		name    string
		env     map[string]string
		envFile string
		check   func(Config) error
		wantErr []string
	}{
		{
			name: "read from files, trailing newline trimmed",
			env: map[string]string{
				"OFFEN_SECRET_FILE":                    "/run/secrets/secret",
				"OFFEN_SMTP_PASSWORD_FILE":             "/run/secrets/password",
				"OFFEN_DATABASE_CONNECTIONSTRING_FILE": "/run/secrets/dsn",
			},
			check: func(c Config) error {
				if c.Secrets.Secret != validSecret || c.SMTP.Password != "hunter2" || c.Database.ConnectionString != "/tmp/from-file.db" {
					return fmt.Errorf("got %q %q %q", c.Secrets.Secret, c.SMTP.Password, c.Database.ConnectionString)
				}
				return nil
			},
		},
		{
			name:    "environment _FILE beats plain value in env file",
			env:     map[string]string{"OFFEN_SMTP_PASSWORD_FILE": "/run/secrets/password"},
			envFile: "OFFEN_SMTP_PASSWORD=from-env-file\n",
			check: func(c Config) error {
				if c.SMTP.Password != "hunter2" {
					return fmt.Errorf("got password %q, want hunter2", c.SMTP.Password)
				}
				return nil
			},
		},
		{
			name:    "_FILE in env file",
			envFile: "OFFEN_SECRET_PREVIOUS_FILE=/run/secrets/secret\n",
			check: func(c Config) error {
				if c.Secrets.SecretPrevious != validSecret {
					return fmt.Errorf("got previous secret %q", c.Secrets.SecretPrevious)
				}
				return nil
			},
		},
		{
			name:    "both forms at one level",
			env:     map[string]string{"OFFEN_SMTP_PASSWORD": "x", "OFFEN_SMTP_PASSWORD_FILE": "/run/secrets/password"},
			wantErr: []string{"OFFEN_SMTP_PASSWORD and OFFEN_SMTP_PASSWORD_FILE are both set"},
		},
		{
			name:    "missing file",
			env:     map[string]string{"OFFEN_SECRET_FILE": "/run/secrets/nope"},
			wantErr: []string{"OFFEN_SECRET_FILE: cannot read /run/secrets/nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := maps(files, map[string]string{"offen.env": tt.envFile})
			cfg, _, err := loadConfig(loadOptions{Getenv: mapenv(tt.env), ReadFile: fakeFiles(fs)})
			checkErr(t, err, tt.wantErr)
			if tt.check != nil {
				if err := tt.check(cfg); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func maps(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// checkErr wants err to contain every fragment, or to be nil when none.
func checkErr(t *testing.T, err error, fragments []string) {
	t.Helper()
	if len(fragments) == 0 {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want one containing %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("got error %q, want it to contain %q", err, f)
		}
	}
}

func TestEnvFileSearch(t *testing.T) {
	t.Parallel()
	env := map[string]string{"XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"}
	want := []string{"offen.env", "/xdg/offen/offen.env", "/home/u/.config/offen/offen.env", "/etc/offen/offen.env"}
	if got := envFileCandidates(mapenv(env)); !slices.Equal(got, want) {
		t.Errorf("got candidates %q, want %q", got, want)
	}
	all := map[string]string{}
	for i, name := range want {
		all[name] = fmt.Sprintf("OFFEN_SERVER_PORT=%d\n", 5000+i)
	}
	for i, name := range want {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{}
			for _, n := range want[i:] {
				files[n] = all[n]
			}
			cfg, found, err := loadConfig(loadOptions{Getenv: mapenv(env), ReadFile: fakeFiles(files)})
			if err != nil {
				t.Fatal(err)
			}
			if found != name || cfg.Server.Port != 5000+i {
				t.Errorf("got file %q and port %d, want %q and %d", found, cfg.Server.Port, name, 5000+i)
			}
		})
	}
	t.Run("--envfile wins and must exist", func(t *testing.T) {
		t.Parallel()
		files := map[string]string{"offen.env": "OFFEN_SERVER_PORT=5000\n", "/srv/my.env": "OFFEN_SERVER_PORT=6000\n"}
		cfg, _, err := loadConfig(loadOptions{Getenv: mapenv(env), EnvFile: "/srv/my.env", ReadFile: fakeFiles(files)})
		if err != nil || cfg.Server.Port != 6000 {
			t.Errorf("got port %d and error %v, want 6000", cfg.Server.Port, err)
		}
		_, _, err = loadConfig(loadOptions{Getenv: mapenv(env), EnvFile: "/srv/none.env", ReadFile: fakeFiles(files)})
		checkErr(t, err, []string{"read env file", "/srv/none.env"})
	})
	t.Run("XDG unset", func(t *testing.T) {
		t.Parallel()
		got := envFileCandidates(mapenv(map[string]string{"HOME": "/root"}))
		want := []string{"offen.env", "/root/.config/offen/offen.env", "/etc/offen/offen.env"}
		if !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestEnvFileOnDisk(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile(filepath.Join(dir, "offen.env"), []byte("OFFEN_APP_LOCALE=de\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, found, err := loadConfig(loadOptions{Getenv: mapenv(map[string]string{"HOME": dir})})
	if err != nil || found != "offen.env" || cfg.App.Locale != "de" {
		t.Errorf("got locale %q from %q (error %v), want de from offen.env", cfg.App.Locale, found, err)
	}
}

func TestParseEnvFile(t *testing.T) {
	t.Parallel()
	got, err := parseEnvFile([]byte(strings.Join([]string{
		"# a comment",
		"",
		"OFFEN_A=plain",
		"  export OFFEN_B = spaced  ",
		`OFFEN_C="double quoted # not a comment"`,
		`OFFEN_D='single'`,
		"OFFEN_E=",
		"OFFEN_F=a=b",
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"OFFEN_A": "plain", "OFFEN_B": "spaced", "OFFEN_C": "double quoted # not a comment",
		"OFFEN_D": "single", "OFFEN_E": "", "OFFEN_F": "a=b",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if _, err := parseEnvFile([]byte("OFFEN_A=1\nnot a pair\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("got %v, want an error naming line 2", err)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"port not a number", map[string]string{"OFFEN_SERVER_PORT": "abc"}, []string{`OFFEN_SERVER_PORT="abc": must be a whole number`}},
		{"port out of range", map[string]string{"OFFEN_SERVER_PORT": "70000"}, []string{"OFFEN_SERVER_PORT: 70000 is not a port"}},
		{"public url", map[string]string{"OFFEN_SERVER_PUBLICURL": "offen.example.org"}, []string{"OFFEN_SERVER_PUBLICURL: \"offen.example.org\" is not an http or https URL"}},
		{"reverse proxy", map[string]string{"OFFEN_SERVER_REVERSEPROXY": "sometimes"}, []string{`OFFEN_SERVER_REVERSEPROXY="sometimes": must be true or false`}},
		{"trusted proxies", map[string]string{"OFFEN_SERVER_TRUSTEDPROXIES": "10.0.0.0/8, nope"}, []string{`OFFEN_SERVER_TRUSTEDPROXIES: "nope" is not a CIDR or IP address`}},
		{"certificate without key", map[string]string{"OFFEN_SERVER_SSLCERTIFICATE": "/c.pem"}, []string{"OFFEN_SERVER_SSLCERTIFICATE: must be set together with OFFEN_SERVER_SSLKEY"}},
		{"certificate and autotls", map[string]string{"OFFEN_SERVER_SSLCERTIFICATE": "/c.pem", "OFFEN_SERVER_SSLKEY": "/k.pem", "OFFEN_SERVER_AUTOTLS": "a.example"}, []string{"OFFEN_SERVER_AUTOTLS: cannot be combined"}},
		{"autotls host", map[string]string{"OFFEN_SERVER_AUTOTLS": "a.example,bad host"}, []string{`OFFEN_SERVER_AUTOTLS: "bad host" is not a host name`}},
		{"acme email", map[string]string{"OFFEN_SERVER_LETSENCRYPTEMAIL": "nobody"}, []string{`OFFEN_SERVER_LETSENCRYPTEMAIL: "nobody" is not an e-mail address`}},
		{"acme directory", map[string]string{"OFFEN_SERVER_ACMEDIRECTORY": "ftp://x"}, []string{`OFFEN_SERVER_ACMEDIRECTORY: "ftp://x" is not an http or https URL`}},
		{"dialect", map[string]string{"OFFEN_DATABASE_DIALECT": "oracle"}, []string{`OFFEN_DATABASE_DIALECT: "oracle" must be sqlite3, mysql or postgres`}},
		{"connection string", map[string]string{"OFFEN_DATABASE_CONNECTIONSTRING": " "}, []string{"OFFEN_DATABASE_CONNECTIONSTRING: must not be empty"}},
		{"retries negative", map[string]string{"OFFEN_DATABASE_CONNECTIONRETRIES": "-1"}, []string{"OFFEN_DATABASE_CONNECTIONRETRIES: -1 must not be negative"}},
		{"argon2 workers negative", map[string]string{"OFFEN_SERVER_ARGON2WORKERS": "-1"}, []string{"OFFEN_SERVER_ARGON2WORKERS: -1 must be between 0 and 256"}},
		{"retries not a number", map[string]string{"OFFEN_DATABASE_CONNECTIONRETRIES": "many"}, []string{`OFFEN_DATABASE_CONNECTIONRETRIES="many": must be a whole number`}},
		{"secret not base64", map[string]string{"OFFEN_SECRET": "not base64!"}, []string{"OFFEN_SECRET: is not base64"}},
		{"secret short", map[string]string{"OFFEN_SECRET": base64.StdEncoding.EncodeToString(make([]byte, 16))}, []string{"OFFEN_SECRET: decodes to 16 bytes, want at least 32"}},
		{"previous secret short", map[string]string{"OFFEN_SECRET_PREVIOUS": "YWJj"}, []string{"OFFEN_SECRET_PREVIOUS: decodes to 3 bytes"}},
		{"log level", map[string]string{"OFFEN_APP_LOGLEVEL": "loud"}, []string{`OFFEN_APP_LOGLEVEL: "loud" must be debug, info, warn or error`}},
		{"log format", map[string]string{"OFFEN_APP_LOGFORMAT": "xml"}, []string{`OFFEN_APP_LOGFORMAT: "xml" must be text or json`}},
		{"single node", map[string]string{"OFFEN_APP_SINGLENODE": "maybe"}, []string{`OFFEN_APP_SINGLENODE="maybe": must be true or false`}},
		{"locale", map[string]string{"OFFEN_APP_LOCALE": "xx"}, []string{`OFFEN_APP_LOCALE: "xx" must be one of en, de, fr, es, pt, vi`}},
		{"root account", map[string]string{"OFFEN_APP_ROOTACCOUNT": "123"}, []string{`OFFEN_APP_ROOTACCOUNT: "123" is not an account id`}},
		{"retention", map[string]string{"OFFEN_APP_RETENTION": "forever"}, []string{`OFFEN_APP_RETENTION="forever": must be one of 7days, 30days, 6weeks, 12weeks, 6months`}},
		{"smtp port", map[string]string{"OFFEN_SMTP_PORT": "0"}, []string{"OFFEN_SMTP_PORT: 0 is not a port"}},
		{"smtp sender", map[string]string{"OFFEN_SMTP_SENDER": "nobody"}, []string{`OFFEN_SMTP_SENDER: "nobody" is not an e-mail address`}},
		{"smtp auth", map[string]string{"OFFEN_SMTP_AUTHTYPE": "kerberos"}, []string{`OFFEN_SMTP_AUTHTYPE: "KERBEROS" must be PLAIN, LOGIN, CRAM-MD5 or NONE`}},
		{"all problems at once", map[string]string{"OFFEN_SERVER_PORT": "abc", "OFFEN_APP_RETENTION": "forever", "OFFEN_DATABASE_DIALECT": "oracle"},
			[]string{"OFFEN_SERVER_PORT", "OFFEN_APP_RETENTION", "OFFEN_DATABASE_DIALECT"}},
		{"valid values", map[string]string{
			"OFFEN_SECRET": validSecret, "OFFEN_SERVER_TRUSTEDPROXIES": "10.0.0.0/8,::1", "OFFEN_APP_RETENTION": "7days",
			"OFFEN_APP_LOGLEVEL": "DEBUG", "OFFEN_SMTP_AUTHTYPE": "cram-md5", "OFFEN_APP_ROOTACCOUNT": "9b63c4d8-65c0-438c-9d30-cc4b01173393",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := loadConfig(loadOptions{Getenv: mapenv(tt.env), ReadFile: fakeFiles(nil)})
			checkErr(t, err, tt.want)
		})
	}
}

func TestSecretAlphabets(t *testing.T) {
	t.Parallel()
	raw := make([]byte, 33)
	for i := range raw {
		raw[i] = byte(0xfb + i) // exercises + / - _
	}
	for name, s := range map[string]string{
		"std":        base64.StdEncoding.EncodeToString(raw),
		"std raw":    base64.RawStdEncoding.EncodeToString(raw[:32]),
		"url":        base64.URLEncoding.EncodeToString(raw[:32]),
		"url raw":    base64.RawURLEncoding.EncodeToString(raw),
		"whitespace": " " + base64.StdEncoding.EncodeToString(raw) + "\n",
	} {
		if _, err := decodeSecret(s); err != nil {
			t.Errorf("%s: got %v, want it accepted", name, err)
		}
	}
}

func TestPublicURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://localhost:3000"},
		{map[string]string{"OFFEN_SERVER_PORT": "8080"}, "http://localhost:8080"},
		{map[string]string{"OFFEN_SERVER_AUTOTLS": "offen.example.org,www.offen.example.org"}, "https://offen.example.org"},
		{map[string]string{"OFFEN_SERVER_PUBLICURL": "https://stats.example.org/", "OFFEN_SERVER_AUTOTLS": "a.example"}, "https://stats.example.org"},
	}
	for _, tt := range tests {
		cfg, _, err := loadConfig(loadOptions{Getenv: mapenv(tt.env), ReadFile: fakeFiles(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Server.PublicURL != tt.want {
			t.Errorf("%v: got %q, want %q", tt.env, cfg.Server.PublicURL, tt.want)
		}
	}
}

func TestRetentionNames(t *testing.T) {
	t.Parallel()
	for name, days := range map[string]int{"7days": 7, "30days": 30, "6weeks": 42, "12weeks": 84, "6months": 186} {
		var r Retention
		if err := r.UnmarshalText([]byte(name)); err != nil {
			t.Fatal(err)
		}
		if r.Duration() != time.Duration(days)*24*time.Hour || r.String() != name {
			t.Errorf("%s: got %v (%s), want %d days", name, r.Duration(), r, days)
		}
	}
}

// TestSettingsComplete checks that every field carries its variable name
// and help text, and that names follow OFFEN_<SECTION>_<NAME>.
func TestSettingsComplete(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range settings {
		if s.env == "" || s.help == "" {
			t.Errorf("%s field %v lacks env or help tag", s.section, s.index)
		}
		if seen[s.env] {
			t.Errorf("%s declared twice", s.env)
		}
		seen[s.env] = true
		prefix := "OFFEN_" + strings.ToUpper(s.section) + "_"
		if s.section == "Secrets" {
			prefix = "OFFEN_SECRET"
		}
		if !strings.HasPrefix(s.env, prefix) {
			t.Errorf("%s does not start with %s", s.env, prefix)
		}
	}
}

// configTable renders the README's configuration table from the settings.
func configTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, s := range settings {
		def := "empty"
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		help := strings.ReplaceAll(s.help, "|", `\|`)
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.env, def, help)
	}
	return b.String()
}

const (
	tableStart = "<!-- config-table:start (generated by `go test ./cmd/offen -run TestREADMEConfigTable -update`) -->\n"
	tableEnd   = "<!-- config-table:end -->"
)

func TestREADMEConfigTable(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, tableStart)
	end := strings.Index(readme, tableEnd)
	if start < 0 || end < start {
		t.Fatalf("README.md lacks the markers %q and %q", tableStart, tableEnd)
	}
	got := readme[start+len(tableStart) : end]
	want := configTable()
	if got == want {
		return
	}
	if *update {
		readme = readme[:start+len(tableStart)] + want + readme[end:]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md configuration table is out of date; run `go test ./cmd/offen -run TestREADMEConfigTable -update`.\ngot:\n%s\nwant:\n%s", got, want)
}
