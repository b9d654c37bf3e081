// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/mailer"
)

// smtpSink is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0 that
// keeps every message.
type smtpSink struct {
	port  int
	mu    sync.Mutex
	mails []string
}

func startSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: sink}, nil }))
	srv.Domain = "mail.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.port = l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		l.Close()
		<-done
	})
	return sink
}

type sinkSession struct{ sink *smtpSink }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	s.sink.mails = append(s.sink.mails, string(b))
	return nil
}

// wait returns the n-th message once it arrived, decoded from
// quoted-printable.
func (s *smtpSink) wait(t *testing.T, n int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		if len(s.mails) >= n {
			m := s.mails[n-1]
			s.mu.Unlock()
			b, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m)))
			return string(b)
		}
		s.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %d. mail arrived", n)
	return ""
}

// TestMailedLinksUsePublicURL: reset and invitation mails, caught by a real
// SMTP server, link to the configured public URL even when the requests
// carry a forged Host and X-Forwarded-Host (P13).
func TestMailedLinksUsePublicURL(t *testing.T) {
	t.Parallel()
	sink := startSMTPSink(t)
	in := newInstance(t, func(logger *slog.Logger) mailer.Mailer {
		m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: sink.port, Sender: "offen@example.org",
			Security: mailer.SecurityNone, Auth: mailer.AuthNone})
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
	o := newOperator("ops@example.org")
	a, r := in.setup(t, o, "")
	r.must(t, http.StatusCreated)
	forged := map[string]string{"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
	links := regexp.MustCompile(`https?://[^\s"<>]+`)

	in.do(call{method: "POST", path: "/api/forgot-password", headers: forged, body: map[string]any{"email": o.email}}).must(t, http.StatusNoContent)
	mail := sink.wait(t, 1)
	found := links.FindAllString(mail, -1)
	if !strings.Contains(mail, publicURL+"/reset-password/#") {
		t.Errorf("reset mail lacks a link to the public URL: %q", found)
	}
	for _, l := range found {
		if strings.Contains(l, "evil.example") {
			t.Errorf("reset mail links to the forged host: %s", l)
		}
	}
	if !strings.Contains(mail, "To: <ops@example.org>") && !strings.Contains(mail, "ops@example.org") {
		t.Errorf("reset mail not addressed to the operator")
	}

	inv, r := in.invite(t, o, "new@example.org", map[string]string{a: "viewer"}, true)
	r.must(t, http.StatusCreated)
	mail = sink.wait(t, 2)
	if !strings.Contains(mail, publicURL+"/join/#"+keys.EncodeBase64(inv.key)) {
		t.Errorf("invitation mail lacks the join link with the invite key: %q", links.FindAllString(mail, -1))
	}
	if strings.Contains(mail, "evil.example") {
		t.Error("invitation mail mentions the forged host")
	}
	// An unknown address gets no mail but the same answer.
	in.do(call{method: "POST", path: "/api/forgot-password", headers: forged, body: map[string]any{"email": "nobody@example.org"}}).
		must(t, http.StatusNoContent)
}
