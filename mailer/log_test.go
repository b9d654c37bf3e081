// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/offen/offen/mailer"
)

func TestLog(t *testing.T) {
	const link = "https://offen.example.com/reset-password/#tok"
	tests := []struct {
		name        string
		reveal      bool
		want, avoid []string
	}{
		{"development reveals the link", true, []string{"level=INFO", link, "ada@example.com", "subject="}, nil},
		{"production hides the link", false, []string{"level=WARN", "no mail transport", "subject="}, []string{link, "ada@example.com", "tok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := mailer.NewLog(slog.New(slog.NewTextHandler(&buf, nil)), tt.reveal)
			if err := m.Send(context.Background(), testMessage); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if n := strings.Count(out, "\n"); n != 1 {
				t.Errorf("got %d lines, want 1: %q", n, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("got %q, want it to contain %q", out, w)
				}
			}
			for _, a := range tt.avoid {
				if strings.Contains(out, a) {
					t.Errorf("got %q, want it not to contain %q", out, a)
				}
			}
		})
	}
	m := mailer.NewLog(slog.New(slog.DiscardHandler), true)
	if err := m.Send(context.Background(), mailer.Message{To: "nope", Text: "x"}); !errors.Is(err, mailer.ErrInvalidMessage) {
		t.Fatalf("got %v, want ErrInvalidMessage", err)
	}
}
