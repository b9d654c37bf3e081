// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
)

// runOffen executes the offen command line in-process with the given
// environment and arguments. An empty env file is passed so that no file on
// the machine leaks into the test.
func runOffen(t *testing.T, vars map[string]string, args ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "empty.env")
	writeFile(t, envFile, "")
	var stdout, stderr bytes.Buffer
	root := newRootCmd(env{
		getenv: mapenv(vars),
		stdin:  strings.NewReader(""),
		stdout: &stdout,
		stderr: &stderr,
	})
	root.SetArgs(append([]string{"--envfile", envFile}, args...))
	err := root.ExecuteContext(t.Context())
	if testing.Verbose() && stderr.Len() > 0 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return stdout.String(), err
}

func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    []string // fragments of stdout
		notWant []string
		wantErr []string // fragments of the error; nil means success
	}{
		{name: "version", args: []string{"version"}, want: []string{"offen ", "commit ", "built "}},
		{name: "secret default", args: []string{"secret"}, want: []string{"\n"}},
		{name: "secret too short", args: []string{"secret", "--length", "16"}, wantErr: []string{"--length 16 is too short"}},
		{name: "secret no count", args: []string{"secret", "--count", "0"}, wantErr: []string{"--count 0"}},
		{name: "unknown command", args: []string{"nope"}, wantErr: []string{`unknown command "nope"`, "`offen --help`"}},
		{name: "unknown command near one", args: []string{"confg"}, wantErr: []string{`unknown command "confg"; did you mean "config"?`}},
		{name: "unknown command near another", args: []string{"setpu"}, wantErr: []string{`did you mean "setup"?`}},
		{
			name: "config redacts secrets",
			env: map[string]string{
				"OFFEN_SECRET":                    validSecret,
				"OFFEN_SMTP_PASSWORD":             "hunter2",
				"OFFEN_DATABASE_DIALECT":          "postgres",
				"OFFEN_DATABASE_CONNECTIONSTRING": "host=db user=offen password=sesame dbname=offen",
			},
			args: []string{"config"},
			want: []string{
				"OFFEN_SECRET=(redacted)\n", "OFFEN_SMTP_PASSWORD=(redacted)\n", "OFFEN_DATABASE_CONNECTIONSTRING=(redacted)\n",
				"OFFEN_SECRET_PREVIOUS=\n", "OFFEN_SERVER_PORT=3000\n", "OFFEN_APP_RETENTION=6months\n",
				"OFFEN_SERVER_PUBLICURL=http://localhost:3000\n", "# Server\n", "# SMTP\n",
			},
			notWant: []string{validSecret, "hunter2", "sesame"},
		},
		{
			name: "config shows a SQLite path",
			env:  map[string]string{"OFFEN_DATABASE_CONNECTIONSTRING": "/data/offen.db", "OFFEN_SECRET": validSecret},
			args: []string{"config"},
			want: []string{"OFFEN_DATABASE_CONNECTIONSTRING=/data/offen.db\n"},
		},
		{
			name:    "config shows the raw bad values and fails",
			env:     map[string]string{"OFFEN_SERVER_PORT": "abc", "OFFEN_APP_RETENTION": "1year", "OFFEN_SECRET": validSecret},
			args:    []string{"config"},
			want:    []string{"OFFEN_SERVER_PORT=abc  # invalid", "OFFEN_APP_RETENTION=1year  # invalid"},
			notWant: []string{"OFFEN_SERVER_PORT=3000", "OFFEN_APP_RETENTION=6months"},
			wantErr: []string{"invalid configuration", `OFFEN_SERVER_PORT="abc": must be a whole number`, `OFFEN_APP_RETENTION="1year": must be one of`},
		},
		{
			name:    "config flags a missing secret",
			args:    []string{"config"},
			want:    []string{"OFFEN_SECRET=\n"},
			wantErr: []string{"invalid configuration", "OFFEN_SECRET: required", "offen secret"},
		},
		{
			name:    "serve names every bad setting",
			env:     map[string]string{"OFFEN_SERVER_PORT": "abc", "OFFEN_APP_RETENTION": "forever"},
			args:    []string{"serve"},
			wantErr: []string{"OFFEN_SERVER_PORT", "OFFEN_APP_RETENTION", "OFFEN_SECRET: required"},
		},
		{
			name:    "bare offen serves",
			env:     map[string]string{"OFFEN_APP_RETENTION": "forever", "OFFEN_SECRET": validSecret},
			wantErr: []string{"OFFEN_APP_RETENTION"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := runOffen(t, tt.env, tt.args...)
			checkErr(t, err, tt.wantErr)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("got output %q, want it to contain %q", out, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("got output %q, want it not to contain %q", out, w)
				}
			}
		})
	}
}

// TestConfigWarnsOfUnknownSettings: an OFFEN_* name that no setting reads,
// in the environment or the env file, is named with the nearest setting;
// known names (and the _FILE variants of secrets) are not.
func TestConfigWarnsOfUnknownSettings(t *testing.T) {
	t.Parallel()
	envFile := filepath.Join(t.TempDir(), "offen.env")
	writeFile(t, envFile, "OFFEN_SECRET="+validSecret+"\nOFFEN_SERVER_PROT=4000\nOFFEN_SMTP_PASSWORD_FILE=/dev/null\n")
	var stdout, stderr bytes.Buffer
	root := newRootCmd(env{
		getenv: mapenv(map[string]string{"OFFEN_TYPO": "1"}),
		environ: func() []string {
			return []string{"OFFEN_TYPO=1", "OFFEN_APP_LOCALE=", "HOME=/root", "OFFEN_APP_RETENTON=7days"}
		},
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
	})
	root.SetArgs([]string{"--envfile", envFile, "config"})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("unknown names are warnings, got error %v", err)
	}
	got := stderr.String()
	for _, want := range []string{
		"warning: OFFEN_SERVER_PROT is not a setting; did you mean OFFEN_SERVER_PORT?",
		"warning: OFFEN_APP_RETENTON is not a setting; did you mean OFFEN_APP_RETENTION?",
		"warning: OFFEN_TYPO is not a setting; did you mean ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	for _, notWant := range []string{"OFFEN_SMTP_PASSWORD_FILE", "OFFEN_APP_LOCALE", "HOME"} {
		if strings.Contains(got, notWant) {
			t.Errorf("stderr warns of %s:\n%s", notWant, got)
		}
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"config", "--help"}} {
		out, err := runOffen(t, nil, args...)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range settings {
			if !strings.Contains(out, s.env) || !strings.Contains(out, s.help) {
				t.Errorf("%v: help lacks %s and its description", args, s.env)
			}
		}
	}
}

func TestConfigOutputIsAnEnvFile(t *testing.T) {
	t.Parallel()
	out, err := runOffen(t, map[string]string{"OFFEN_APP_LOCALE": "vi", "OFFEN_SERVER_TRUSTEDPROXIES": "10.0.0.0/8, 192.168.0.0/16", "OFFEN_SECRET": validSecret}, "config")
	if err != nil {
		t.Fatal(err)
	}
	values, err := parseEnvFile([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(values) != len(settings) || values["OFFEN_APP_LOCALE"] != "vi" || values["OFFEN_SERVER_TRUSTEDPROXIES"] != "10.0.0.0/8,192.168.0.0/16" {
		t.Errorf("got %d values %v, want %d settings with the given ones", len(values), values, len(settings))
	}
}

func TestSecretCommand(t *testing.T) {
	t.Parallel()
	out, err := runOffen(t, nil, "secret", "--length", "48", "--count", "3")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(out)
	if len(lines) != 3 {
		t.Fatalf("got %d secrets, want 3", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		b, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(b) != 48 {
			t.Errorf("got %q (%d bytes, %v), want 48 bytes of base64", l, len(b), err)
		}
		if _, err := decodeSecret(l); err != nil {
			t.Errorf("configuration rejects generated secret: %v", err)
		}
		if seen[l] {
			t.Errorf("secret %q repeated", l)
		}
		seen[l] = true
	}
}

// sqliteEnv returns settings for a fresh SQLite file.
func sqliteEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{
		"OFFEN_DATABASE_CONNECTIONSTRING": filepath.Join(t.TempDir(), "offen.db"),
		"OFFEN_SECRET":                    validSecret,
		"OFFEN_APP_LOGLEVEL":              "warn",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t, nil)
	out, err := runOffen(t, env, "migrate")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "applied ") {
		t.Errorf("first run: got %q, want applied migrations", out)
	}
	out, err = runOffen(t, env, "migrate")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("second run: got %q, want nothing to do", out)
	}
}

func TestExpire(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t, map[string]string{"OFFEN_APP_RETENTION": "7days"})
	if _, err := runOffen(t, env, "expire"); err == nil || !strings.Contains(err.Error(), "run `offen migrate`") {
		t.Errorf("before migrating: got %v, want a hint to run offen migrate", err)
	}
	if _, err := runOffen(t, env, "migrate"); err != nil {
		t.Fatal(err)
	}
	out, err := runOffen(t, env, "expire")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "expired data older than 7days: 0 events") {
		t.Errorf("got %q, want a report of zero events", out)
	}
}

func TestServeRefusesStaleSchemaInMultiNodeMode(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t, map[string]string{"OFFEN_APP_SINGLENODE": "false"})
	_, err := runOffen(t, env, "serve", "--host", "127.0.0.1", "--port", "1")
	if err == nil || !strings.Contains(err.Error(), "run `offen migrate` first") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v, want one line with a hint to run offen migrate", err)
	}
}
