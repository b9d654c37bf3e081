// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Sendmail hands messages to a local sendmail-compatible program (sendmail,
// Postfix, OpenSMTPD, msmtp...) as `<path> -t -i`, the message on stdin.
type Sendmail struct {
	path   string
	sender string
	now    func() time.Time
}

// NewSendmail returns a mailer that runs the program at path. sender is the
// From address of every message. It returns an error when sender is not an
// address; whether path runs is found out by Send.
func NewSendmail(path, sender string) (*Sendmail, error) {
	if _, err := compose(sender, Message{To: "x@example.com", Text: "x"}, time.Time{}); err != nil {
		return nil, fmt.Errorf("mailer: sendmail: sender %q is not an address", sender)
	}
	return &Sendmail{path: path, sender: sender, now: time.Now}, nil
}

// FindSendmail returns the path of the first executable "sendmail" on PATH;
// ok is false when there is none.
func FindSendmail() (path string, ok bool) {
	p, err := exec.LookPath("sendmail")
	if err != nil {
		return "", false
	}
	return p, true
}

// Send runs the program once per message: -t takes the recipient from the
// To header, -i keeps a line with a single dot from ending the message. A
// non-zero exit is an error carrying the program's first line of stderr.
func (s *Sendmail) Send(ctx context.Context, m Message) error {
	env, err := compose(s.sender, m, s.now())
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, s.path, "-t", "-i")
	// Local submission uses the system's line ending.
	cmd.Stdin = bytes.NewReader(bytes.ReplaceAll(env.data, []byte("\r\n"), []byte("\n")))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if msg != "" {
			return fmt.Errorf("mailer: sendmail: %w: %s", err, msg)
		}
		return fmt.Errorf("mailer: sendmail: %w", err)
	}
	return nil
}
