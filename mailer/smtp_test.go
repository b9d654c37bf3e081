// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offen/offen/mailer"
	"github.com/offen/offen/mailer/smtptest"
)

var testMessage = mailer.Message{
	To:      "Ada Lovelace <ada@example.com>",
	Subject: "Réinitialisez votre mot de passe",
	Text:    "Bonjour,\n\nhttps://offen.example.com/reset-password/#tok\n\n. a line with a dot\n",
	HTML:    "<p>Bonjour,</p><p><a href=\"https://offen.example.com/reset-password/#tok\">link</a></p>",
}

// withAuth is a server that offers the SASL mechanism mech and requires
// the user offen with the password s3cret.
func withAuth(security, mech string) smtptest.Options {
	return smtptest.Options{Security: security, Mechanisms: []string{mech}, User: "offen", Password: "s3cret"}
}

func TestSMTP(t *testing.T) {
	tests := []struct {
		name     string
		server   smtptest.Options
		auth     string
		password string
		wantErr  string // substring; "" means delivered
	}{
		{"plain text, no auth", smtptest.Options{Security: mailer.SecurityNone}, mailer.AuthNone, "", ""},
		{"starttls, no auth", smtptest.Options{Security: mailer.SecurityStartTLS}, mailer.AuthNone, "", ""},
		{"starttls, plain", withAuth(mailer.SecurityStartTLS, smtptest.Plain), mailer.AuthPlain, "s3cret", ""},
		{"starttls, login", withAuth(mailer.SecurityStartTLS, smtptest.Login), mailer.AuthLogin, "s3cret", ""},
		{"starttls, cram-md5", withAuth(mailer.SecurityStartTLS, smtptest.CRAMMD5), mailer.AuthCRAMMD5, "s3cret", ""},
		{"implicit tls, plain", withAuth(mailer.SecurityTLS, smtptest.Plain), mailer.AuthPlain, "s3cret", ""},
		{"implicit tls, login", withAuth(mailer.SecurityTLS, smtptest.Login), mailer.AuthLogin, "s3cret", ""},
		{"implicit tls, cram-md5", withAuth(mailer.SecurityTLS, smtptest.CRAMMD5), mailer.AuthCRAMMD5, "s3cret", ""},
		{"plain text, cram-md5", withAuth(mailer.SecurityNone, smtptest.CRAMMD5), mailer.AuthCRAMMD5, "s3cret", ""},
		{"wrong password, plain", withAuth(mailer.SecurityStartTLS, smtptest.Plain), mailer.AuthPlain, "wrong", "535"},
		{"wrong password, login", withAuth(mailer.SecurityStartTLS, smtptest.Login), mailer.AuthLogin, "wrong", "535"},
		{"wrong password, cram-md5", withAuth(mailer.SecurityTLS, smtptest.CRAMMD5), mailer.AuthCRAMMD5, "wrong", "535"},
		{"auth required but not configured", withAuth(mailer.SecurityStartTLS, smtptest.Plain), mailer.AuthNone, "", "mail from"},
		{"auth configured but not offered", smtptest.Options{Security: mailer.SecurityStartTLS}, mailer.AuthPlain, "s3cret", "does not offer AUTH"},
		{"mechanism not offered", withAuth(mailer.SecurityStartTLS, smtptest.Plain), mailer.AuthCRAMMD5, "s3cret", "auth cram-md5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := smtptest.Start(t, tt.server)
			m, err := mailer.NewSMTP(mailer.SMTPOptions{
				Host: "127.0.0.1", Port: ts.Port, Security: tt.server.Security,
				Username: "offen", Password: tt.password, Auth: tt.auth,
				Sender: "Offen <offen@example.com>", TLSConfig: &tls.Config{RootCAs: ts.Roots},
			})
			if err != nil {
				t.Fatal(err)
			}
			err = m.Send(context.Background(), testMessage)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if got := ts.Messages(); len(got) != 0 {
					t.Fatalf("got %d messages delivered, want none", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := ts.Messages()
			if len(got) != 1 {
				t.Fatalf("got %d messages, want 1", len(got))
			}
			r := got[0]
			if r.From != "offen@example.com" || r.To != "ada@example.com" {
				t.Errorf("got envelope %q -> %q, want offen@example.com -> ada@example.com", r.From, r.To)
			}
			if wantTLS := tt.server.Security != mailer.SecurityNone; r.TLS != wantTLS {
				t.Errorf("got tls %v, want %v", r.TLS, wantTLS)
			}
			if tt.auth != mailer.AuthNone && r.User != "offen" {
				t.Errorf("got authenticated user %q, want offen", r.User)
			}
			checkMessage(t, r.Data, testMessage)
		})
	}
}

// checkMessage parses data as an RFC 5322 message and compares it with want.
func checkMessage(t *testing.T, data []byte, want mailer.Message) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != want.Subject {
		t.Errorf("got subject %q (%v), want %q", subject, err, want.Subject)
	}
	if got := msg.Header.Get("From"); got != `"Offen" <offen@example.com>` {
		t.Errorf("got From %q", got)
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil || to.Name != "Ada Lovelace" || to.Address != "ada@example.com" {
		t.Errorf("got To %q (%v)", msg.Header.Get("To"), err)
	}
	for _, h := range []string{"Date", "Message-Id", "Mime-Version"} {
		if msg.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("got content type %q (%v), want multipart/alternative", mediaType, err)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for _, wantPart := range []struct{ contentType, body string }{
		{"text/plain", want.Text},
		{"text/html", want.HTML},
	} {
		p, err := parts.NextPart()
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		body, _ := io.ReadAll(p)
		if ct != wantPart.contentType {
			t.Errorf("got part %q, want %q", ct, wantPart.contentType)
		}
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != wantPart.body {
			t.Errorf("got %s body %q, want %q", ct, got, wantPart.body)
		}
	}
}

func TestSMTPRejectedRecipient(t *testing.T) {
	ts := smtptest.Start(t, smtptest.Options{Security: mailer.SecurityNone})
	m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.Port, Security: "none", Sender: "offen@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	msg := testMessage
	msg.To = "nobody@example.com"
	err = m.Send(context.Background(), msg)
	if err == nil || !strings.Contains(err.Error(), "rcpt to") || !strings.Contains(err.Error(), "550") {
		t.Fatalf("got %v, want a rcpt to error with 550", err)
	}
}

func TestSMTPRefusesUnverifiedTLS(t *testing.T) {
	for _, security := range []string{mailer.SecurityStartTLS, mailer.SecurityTLS} {
		t.Run(security, func(t *testing.T) {
			ts := smtptest.Start(t, smtptest.Options{Security: security})
			// No RootCAs: the system pool does not trust the test certificate.
			m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.Port, Security: security, Sender: "offen@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			var unknown x509.UnknownAuthorityError
			if err := m.Send(context.Background(), testMessage); !errors.As(err, &unknown) {
				t.Fatalf("got %v, want an unknown authority error", err)
			}
		})
	}
}

func TestSMTPStartTLSNotOffered(t *testing.T) {
	ts := smtptest.Start(t, smtptest.Options{Security: mailer.SecurityNone})
	m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.Port, Security: "starttls", Sender: "offen@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), testMessage); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("got %v, want a STARTTLS error", err)
	}
	if got := ts.Messages(); len(got) != 0 {
		t.Fatalf("got %d messages delivered in clear text, want none", len(got))
	}
}

// silentServer accepts connections and never answers, like a stuck relay.
func silentServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestSMTPTimeout(t *testing.T) {
	port := silentServer(t)
	t.Run("timeout option", func(t *testing.T) {
		m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: port, Security: "none", Sender: "offen@example.com", Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Send(context.Background(), testMessage); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("got %v, want a deadline error", err)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: port, Security: "tls", Sender: "offen@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := m.Send(ctx, testMessage); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: port, Security: "none", Sender: "offen@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		if err := m.Send(ctx, testMessage); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}

func TestNewSMTP(t *testing.T) {
	tests := []struct {
		name    string
		opts    mailer.SMTPOptions
		wantErr string
	}{
		{"minimal", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com"}, ""},
		{"user implies plain", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Username: "u", Password: "p"}, ""},
		{"upper case values", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Username: "u", Password: "p", Auth: "CRAM-MD5", Security: "STARTTLS"}, ""},
		{"no host", mailer.SMTPOptions{Sender: "offen@example.com"}, "no host"},
		{"bad sender", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen"}, "sender"},
		{"unknown auth", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Auth: "xoauth2"}, "unknown auth"},
		{"unknown security", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Security: "ssl3"}, "unknown security"},
		{"plain in clear text", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Username: "u", Password: "p", Security: "none"}, "clear text"},
		{"login in clear text", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Username: "u", Password: "p", Auth: "login", Security: "none"}, "clear text"},
		{"cram-md5 in clear text", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Username: "u", Password: "p", Auth: "cram-md5", Security: "none"}, ""},
		{"plain in clear text to localhost", mailer.SMTPOptions{Host: "localhost", Sender: "offen@example.com", Username: "u", Password: "p", Security: "none"}, ""},
		{"login without password", mailer.SMTPOptions{Host: "smtp.example.com", Sender: "offen@example.com", Auth: "login", Username: "u"}, "needs a username and a password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mailer.NewSMTP(tt.opts)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestInvalidMessages(t *testing.T) {
	ts := smtptest.Start(t, smtptest.Options{Security: mailer.SecurityNone})
	m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.Port, Security: "none", Sender: "offen@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for name, msg := range map[string]mailer.Message{
		"header injection": {To: "ada@example.com", Subject: "hi\r\nBcc: eve@example.com", Text: "x"},
		"bad recipient":    {To: "ada", Subject: "hi", Text: "x"},
		"two recipients":   {To: "ada@example.com, eve@example.com", Subject: "hi", Text: "x"},
		"empty text":       {To: "ada@example.com", Subject: "hi"},
	} {
		if err := m.Send(context.Background(), msg); !errors.Is(err, mailer.ErrInvalidMessage) {
			t.Errorf("%s: got %v, want ErrInvalidMessage", name, err)
		}
	}
	if got := ts.Messages(); len(got) != 0 {
		t.Errorf("got %d messages delivered, want none", len(got))
	}
}
