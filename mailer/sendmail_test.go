// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offen/offen/mailer"
)

// fakeSendmail writes a shell script that records its arguments and stdin in
// dir, the same interface a real sendmail has, and exits with status.
func fakeSendmail(t *testing.T, status int, stderr string) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "sendmail")
	script := "#!/bin/sh\n" +
		"printf '%s\\n' \"$@\" > '" + dir + "/args'\n" +
		"cat > '" + dir + "/stdin'\n"
	if stderr != "" {
		script += "echo '" + stderr + "' >&2\n"
	}
	script += "exit " + string(rune('0'+status)) + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, dir
}

func TestSendmail(t *testing.T) {
	path, dir := fakeSendmail(t, 0, "")
	m, err := mailer.NewSendmail(path, "Offen <offen@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), testMessage); err != nil {
		t.Fatalf("Send: %v", err)
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(args), "-t\n-i\n"; got != want {
		t.Errorf("got arguments %q, want %q", got, want)
	}
	stdin, err := os.ReadFile(filepath.Join(dir, "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stdin, []byte("\r")) {
		t.Error("got CR in the message on stdin, want local LF line endings")
	}
	checkMessage(t, stdin, testMessage)
}

func TestSendmailFails(t *testing.T) {
	path, _ := fakeSendmail(t, 1, "sendmail: cannot reach the queue")
	m, err := mailer.NewSendmail(path, "offen@example.com")
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), testMessage)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the queue") {
		t.Fatalf("got %v, want the program's stderr in the error", err)
	}

	missing, err := mailer.NewSendmail(filepath.Join(t.TempDir(), "nope"), "offen@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Send(context.Background(), testMessage); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}

	if _, err := mailer.NewSendmail(path, "not an address"); err == nil {
		t.Fatal("got no error for a bad sender")
	}
	bad := testMessage
	bad.Subject = "a\nb"
	if err := m.Send(context.Background(), bad); !errors.Is(err, mailer.ErrInvalidMessage) {
		t.Fatalf("got %v, want ErrInvalidMessage", err)
	}
}

func TestFindSendmail(t *testing.T) {
	path, dir := fakeSendmail(t, 0, "")
	t.Setenv("PATH", dir)
	got, ok := mailer.FindSendmail()
	if !ok || got != path {
		t.Fatalf("got %q, %v, want %q, true", got, ok, path)
	}
}
