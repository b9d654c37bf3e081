// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/offen/offen/mailer"
)

func TestNew(t *testing.T) {
	path, dir := fakeSendmail(t, 0, "")
	empty := t.TempDir()
	tests := []struct {
		name        string
		opts        mailer.SMTPOptions
		pathEnv     string
		development bool
		want        string // type of the transport
		wantLog     string
	}{
		{"smtp when configured", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com"}, dir, false, "*mailer.SMTP", "security=starttls"},
		{"sendmail when found", mailer.SMTPOptions{Sender: "offen@example.com"}, dir, false, "*mailer.Sendmail", path},
		{"log with a warning", mailer.SMTPOptions{Sender: "offen@example.com"}, empty, false, "*mailer.Log", "level=WARN"},
		{"log in development", mailer.SMTPOptions{Sender: "offen@example.com"}, empty, true, "*mailer.Log", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.pathEnv)
			var buf bytes.Buffer
			m, err := mailer.New(tt.opts, slog.New(slog.NewTextHandler(&buf, nil)), tt.development)
			if err != nil {
				t.Fatal(err)
			}
			if got := typeName(m); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !strings.Contains(buf.String(), tt.wantLog) {
				t.Errorf("got log %q, want it to contain %q", buf.String(), tt.wantLog)
			}
			if tt.development && buf.Len() != 0 {
				t.Errorf("got log %q, want none in development", buf.String())
			}
		})
	}
	if _, err := mailer.New(mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Auth: "bogus"}, slog.New(slog.DiscardHandler), false); err == nil {
		t.Error("got no error for a bad SMTP configuration")
	}
}

func typeName(m mailer.Mailer) string {
	switch m.(type) {
	case *mailer.SMTP:
		return "*mailer.SMTP"
	case *mailer.Sendmail:
		return "*mailer.Sendmail"
	case *mailer.Log:
		return "*mailer.Log"
	}
	return "unknown"
}
