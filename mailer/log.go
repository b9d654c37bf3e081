// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// Log is a mailer that sends nothing and writes one line per message to a
// logger instead.
//
// The messages carry one-time links (password reset, invitations) that are
// as good as a password until used. With reveal, meant for development and
// `offen demo` only, the line holds the recipient and those links, because
// without a mail server the operator has no other way to follow them. Without
// reveal, the line is a warning that names the subject only: the message is
// lost, and its links never reach the log.
type Log struct {
	logger *slog.Logger
	reveal bool
}

// NewLog returns a Log mailer writing to logger; see Log for reveal.
func NewLog(logger *slog.Logger, reveal bool) *Log {
	return &Log{logger: logger, reveal: reveal}
}

// Send validates m like the other transports and logs it. It fails only for
// an invalid message.
func (l *Log) Send(ctx context.Context, m Message) error {
	if _, err := compose("offen@localhost.localdomain", m, time.Time{}); err != nil {
		return err
	}
	if !l.reveal {
		l.logger.LogAttrs(ctx, slog.LevelWarn, "mail not sent: no mail transport configured",
			slog.String("subject", m.Subject))
		return nil
	}
	l.logger.LogAttrs(ctx, slog.LevelInfo, "mail not sent, logged for development",
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.Any("links", links(m.Text)))
	return nil
}

// links returns the http and https URLs in text, in order.
func links(text string) []string {
	var out []string
	for _, word := range strings.Fields(text) {
		if strings.HasPrefix(word, "https://") || strings.HasPrefix(word, "http://") {
			out = append(out, word)
		}
	}
	return out
}
