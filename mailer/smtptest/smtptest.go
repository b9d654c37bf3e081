// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package smtptest runs a real SMTP server (emersion/go-smtp) on 127.0.0.1 for
// tests, with optional STARTTLS or implicit TLS on a self-signed certificate
// and optional SASL authentication (PLAIN, LOGIN, CRAM-MD5). It keeps every
// message it accepts.
//
// It is for tests only: the offen binary must not import it (NOTICE lists
// what the binary ships, and go-smtp is not part of it).
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Values of Options.Security; they are the same words mailer.SMTPOptions uses.
const (
	SecurityNone     = "none"     // plain text, no STARTTLS offered
	SecurityStartTLS = "starttls" // plain text, STARTTLS offered
	SecurityTLS      = "tls"      // TLS from the first byte
)

// Mechanisms that Options.Mechanisms may name.
const (
	Plain   = sasl.Plain
	Login   = sasl.Login
	CRAMMD5 = "CRAM-MD5"
)

// DefaultWaitTimeout is how long Wait waits when Options.WaitTimeout is zero.
const DefaultWaitTimeout = 10 * time.Second

// Options configure the server.
type Options struct {
	// Security is SecurityNone (also ""), SecurityStartTLS or SecurityTLS.
	Security string
	// Mechanisms are the SASL mechanisms offered (Plain, Login, CRAMMD5).
	// With any, a client must authenticate as User with Password before
	// MAIL FROM; with none, AUTH is not offered.
	Mechanisms []string
	User       string
	Password   string
	// WaitTimeout bounds Wait; zero means DefaultWaitTimeout.
	WaitTimeout time.Duration
}

// Message is one message as the server received it.
type Message struct {
	From string // envelope sender (MAIL FROM)
	To   string // envelope recipient (RCPT TO); the last one given
	Data []byte // the message as sent after DATA, headers and body
	User string // the authenticated user, "" without AUTH
	TLS  bool   // whether the connection was encrypted
}

// Server is a running SMTP server. It stops when the test that started it
// ends.
type Server struct {
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Roots trusts the server's certificate (valid for 127.0.0.1 and
	// localhost), for a client's tls.Config.RootCAs.
	Roots *x509.CertPool
	// CertPEM is the same certificate PEM-encoded, for example for a child
	// process's SSL_CERT_FILE.
	CertPEM []byte

	opts    Options
	mu      sync.Mutex
	msgs    []Message
	arrived chan struct{} // closed and replaced when a message arrives
}

// Start starts a server on 127.0.0.1 with a free port and closes it in
// t.Cleanup. Recipients starting with "nobody@" are refused with 550.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	switch o.Security {
	case "":
		o.Security = SecurityNone
	case SecurityNone, SecurityStartTLS, SecurityTLS:
	default:
		t.Fatalf("smtptest: unknown security %q", o.Security)
	}
	for _, m := range o.Mechanisms {
		if m != Plain && m != Login && m != CRAMMD5 {
			t.Fatalf("smtptest: unknown mechanism %q", m)
		}
	}
	if o.WaitTimeout == 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	cert, err := newCertificate()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Roots:   x509.NewCertPool(),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}),
		opts:    o,
		arrived: make(chan struct{}),
	}
	s.Roots.AddCert(cert.Leaf)

	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = discardLogger{}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.Security != SecurityNone {
		srv.TLSConfig = tlsConfig
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	if o.Security == SecurityTLS {
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
	return s
}

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Wait returns the n-th message (1-based) once it has arrived, and fails the
// test when it has not within Options.WaitTimeout (10 s by default).
func (s *Server) Wait(t testing.TB, n int) Message {
	t.Helper()
	timeout := time.NewTimer(s.opts.WaitTimeout)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			m := s.msgs[n-1]
			s.mu.Unlock()
			return m
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-timeout.C:
			t.Fatalf("smtptest: message %d did not arrive within %s", n, s.opts.WaitTimeout)
			return Message{}
		}
	}
}

func (s *Server) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// session implements smtp.Session and smtp.AuthSession.
type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   string
}

func (c *session) AuthMechanisms() []string { return c.s.opts.Mechanisms }

func (c *session) Auth(mech string) (sasl.Server, error) {
	o := c.s.opts
	if !slices.Contains(o.Mechanisms, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	check := func(user, pass string) error {
		if user != o.User || pass != o.Password {
			return smtp.ErrAuthFailed
		}
		c.user = user
		return nil
	}
	switch mech {
	case Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case Login:
		return &loginServer{check: check}, nil
	case CRAMMD5:
		return &cramServer{secret: o.Password, check: func(user string, ok bool) error {
			if !ok || user != o.User {
				return smtp.ErrAuthFailed
			}
			c.user = user
			return nil
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(c.s.opts.Mechanisms) > 0 && c.user == "" {
		return smtp.ErrAuthRequired
	}
	c.from = from
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	c.to = to
	return nil
}

func (c *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := c.conn.TLSConnectionState()
	c.s.add(Message{From: c.from, To: c.to, Data: data, User: c.user, TLS: isTLS})
	return nil
}

// Reset forgets the envelope; the authenticated user stays.
func (c *session) Reset() {
	c.from, c.to = "", ""
}

func (c *session) Logout() error { return nil }

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
		c.challenge = fmt.Appendf(nil, "<%x.%d@localhost>", nonce, time.Now().Unix())
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

// newCertificate makes a self-signed certificate for 127.0.0.1 and localhost
// that is its own CA, so that it can stand alone in a root pool or in
// SSL_CERT_FILE.
func newCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
