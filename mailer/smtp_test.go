// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/offen/offen/mailer"
)

// received is one message as the test server saw it.
type received struct {
	from, to string
	data     []byte
	user     string // authenticated user, "" without AUTH
	tls      bool
}

type serverOptions struct {
	security   string   // mailer.SecurityNone, SecurityStartTLS or SecurityTLS
	mechs      []string // offered SASL mechanisms; none means no AUTH
	user, pass string
}

// testServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0.
type testServer struct {
	port  int
	roots *x509.CertPool
	mu    sync.Mutex
	mails []received
}

func (s *testServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mails...)
}

func startServer(t *testing.T, o serverOptions) *testServer {
	t.Helper()
	cert, roots := testCertificate(t)
	ts := &testServer{roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ts: ts, opts: o, conn: c}, nil
	}))
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = discardLogger{}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.security != mailer.SecurityNone {
		srv.TLSConfig = tlsConfig
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.port = l.Addr().(*net.TCPAddr).Port
	if o.security == mailer.SecurityTLS {
		l = tls.NewListener(l, tlsConfig)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		// Close the listener too: Serve may not have registered it with
		// srv yet when a short test ends.
		srv.Close()
		l.Close()
		<-done
	})
	return ts
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

type session struct {
	ts   *testServer
	opts serverOptions
	conn *smtp.Conn
	user string
	from string
	to   string
}

func (s *session) AuthMechanisms() []string { return s.opts.mechs }

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.opts.user || pass != s.opts.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	if !slices.Contains(s.opts.mechs, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return &cramServer{secret: s.opts.pass, check: func(user string, ok bool) error {
			if !ok || user != s.opts.user {
				return smtp.ErrAuthFailed
			}
			s.user = user
			return nil
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.opts.mechs) > 0 && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ts.mu.Lock()
	s.ts.mails = append(s.ts.mails, received{from: s.from, to: s.to, data: data, user: s.user, tls: isTLS})
	s.ts.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism, which go-sasl does
// not provide: prompt for the user name, then for the password.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if response != nil { // initial response: the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(response)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// cramServer is the server side of CRAM-MD5 (RFC 2195): send a unique
// challenge, expect "user hex(HMAC-MD5(secret, challenge))".
type cramServer struct {
	secret    string
	check     func(user string, ok bool) error
	challenge []byte
}

func (c *cramServer) Next(response []byte) ([]byte, bool, error) {
	if c.challenge == nil {
		nonce := make([]byte, 8)
		_, _ = rand.Read(nonce)
		c.challenge = fmt.Appendf(nil, "<%x.%d@mail.test>", nonce, time.Now().Unix())
		return c.challenge, false, nil
	}
	user, digest, ok := strings.Cut(string(response), " ")
	if !ok {
		return nil, false, sasl.ErrUnexpectedClientResponse
	}
	mac := hmac.New(md5.New, []byte(c.secret))
	mac.Write(c.challenge)
	want := hex.EncodeToString(mac.Sum(nil))
	return nil, true, c.check(user, hmac.Equal([]byte(digest), []byte(want)))
}

// testCertificate makes a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func testCertificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mail.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

var testMessage = mailer.Message{
	To:      "Ada Lovelace <ada@example.com>",
	Subject: "Réinitialisez votre mot de passe",
	Text:    "Bonjour,\n\nhttps://offen.example.com/reset-password/#tok\n\n. a line with a dot\n",
	HTML:    "<p>Bonjour,</p><p><a href=\"https://offen.example.com/reset-password/#tok\">link</a></p>",
}

func TestSMTP(t *testing.T) {
	tests := []struct {
		name     string
		server   serverOptions
		auth     string
		password string
		wantErr  string // substring; "" means delivered
	}{
		{"plain text, no auth", serverOptions{security: mailer.SecurityNone}, mailer.AuthNone, "", ""},
		{"starttls, no auth", serverOptions{security: mailer.SecurityStartTLS}, mailer.AuthNone, "", ""},
		{"starttls, plain", serverOptions{mailer.SecurityStartTLS, []string{sasl.Plain}, "offen", "s3cret"}, mailer.AuthPlain, "s3cret", ""},
		{"starttls, login", serverOptions{mailer.SecurityStartTLS, []string{sasl.Login}, "offen", "s3cret"}, mailer.AuthLogin, "s3cret", ""},
		{"starttls, cram-md5", serverOptions{mailer.SecurityStartTLS, []string{"CRAM-MD5"}, "offen", "s3cret"}, mailer.AuthCRAMMD5, "s3cret", ""},
		{"implicit tls, plain", serverOptions{mailer.SecurityTLS, []string{sasl.Plain}, "offen", "s3cret"}, mailer.AuthPlain, "s3cret", ""},
		{"implicit tls, login", serverOptions{mailer.SecurityTLS, []string{sasl.Login}, "offen", "s3cret"}, mailer.AuthLogin, "s3cret", ""},
		{"implicit tls, cram-md5", serverOptions{mailer.SecurityTLS, []string{"CRAM-MD5"}, "offen", "s3cret"}, mailer.AuthCRAMMD5, "s3cret", ""},
		{"plain text, cram-md5", serverOptions{mailer.SecurityNone, []string{"CRAM-MD5"}, "offen", "s3cret"}, mailer.AuthCRAMMD5, "s3cret", ""},
		{"wrong password, plain", serverOptions{mailer.SecurityStartTLS, []string{sasl.Plain}, "offen", "s3cret"}, mailer.AuthPlain, "wrong", "535"},
		{"wrong password, login", serverOptions{mailer.SecurityStartTLS, []string{sasl.Login}, "offen", "s3cret"}, mailer.AuthLogin, "wrong", "535"},
		{"wrong password, cram-md5", serverOptions{mailer.SecurityTLS, []string{"CRAM-MD5"}, "offen", "s3cret"}, mailer.AuthCRAMMD5, "wrong", "535"},
		{"auth required but not configured", serverOptions{mailer.SecurityStartTLS, []string{sasl.Plain}, "offen", "s3cret"}, mailer.AuthNone, "", "mail from"},
		{"auth configured but not offered", serverOptions{security: mailer.SecurityStartTLS}, mailer.AuthPlain, "s3cret", "does not offer AUTH"},
		{"mechanism not offered", serverOptions{mailer.SecurityStartTLS, []string{sasl.Plain}, "offen", "s3cret"}, mailer.AuthCRAMMD5, "s3cret", "auth cram-md5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, tt.server)
			m, err := mailer.NewSMTP(mailer.SMTPOptions{
				Host: "127.0.0.1", Port: ts.port, Security: tt.server.security,
				Username: "offen", Password: tt.password, Auth: tt.auth,
				Sender: "Offen <offen@example.com>", TLSConfig: &tls.Config{RootCAs: ts.roots},
			})
			if err != nil {
				t.Fatal(err)
			}
			err = m.Send(context.Background(), testMessage)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if got := ts.received(); len(got) != 0 {
					t.Fatalf("got %d messages delivered, want none", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := ts.received()
			if len(got) != 1 {
				t.Fatalf("got %d messages, want 1", len(got))
			}
			r := got[0]
			if r.from != "offen@example.com" || r.to != "ada@example.com" {
				t.Errorf("got envelope %q -> %q, want offen@example.com -> ada@example.com", r.from, r.to)
			}
			if wantTLS := tt.server.security != mailer.SecurityNone; r.tls != wantTLS {
				t.Errorf("got tls %v, want %v", r.tls, wantTLS)
			}
			if tt.auth != mailer.AuthNone && r.user != "offen" {
				t.Errorf("got authenticated user %q, want offen", r.user)
			}
			checkMessage(t, r.data, testMessage)
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
	ts := startServer(t, serverOptions{security: mailer.SecurityNone})
	m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.port, Security: "none", Sender: "offen@example.com"})
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
			ts := startServer(t, serverOptions{security: security})
			// No RootCAs: the system pool does not trust the test certificate.
			m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.port, Security: security, Sender: "offen@example.com"})
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
	ts := startServer(t, serverOptions{security: mailer.SecurityNone})
	m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.port, Security: "starttls", Sender: "offen@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), testMessage); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("got %v, want a STARTTLS error", err)
	}
	if got := ts.received(); len(got) != 0 {
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
	ts := startServer(t, serverOptions{security: mailer.SecurityNone})
	m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.port, Security: "none", Sender: "offen@example.com"})
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
	if got := ts.received(); len(got) != 0 {
		t.Errorf("got %d messages delivered, want none", len(got))
	}
}
