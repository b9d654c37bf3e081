// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Security modes of an SMTP connection.
const (
	// SecurityStartTLS connects in plain text and upgrades with STARTTLS
	// before authenticating; a server that does not offer it is an error.
	SecurityStartTLS = "starttls"
	// SecurityTLS speaks TLS from the first byte (usually port 465).
	SecurityTLS = "tls"
	// SecurityNone never encrypts; for relays on the same host or network.
	SecurityNone = "none"
)

// Authentication mechanisms of an SMTP connection.
const (
	AuthPlain   = "plain"
	AuthLogin   = "login"
	AuthCRAMMD5 = "cram-md5"
	AuthNone    = "none"
)

// DefaultTimeout bounds a whole SMTP conversation when SMTPOptions.Timeout is
// zero.
const DefaultTimeout = 30 * time.Second

// SMTPOptions configure NewSMTP. All fields are plain values.
type SMTPOptions struct {
	Host string
	// Port defaults to 465 for SecurityTLS and 587 otherwise.
	Port int
	// Username and Password are the credentials; empty Username means no
	// authentication unless Auth says otherwise.
	Username string
	Password string
	// Sender is the From address of every message ("Offen <offen@example.com>").
	Sender string
	// Auth is one of AuthPlain, AuthLogin, AuthCRAMMD5, AuthNone (case does not
	// matter). Empty means AuthPlain with a Username, else AuthNone.
	Auth string
	// Security is one of SecurityStartTLS, SecurityTLS, SecurityNone. Empty
	// means SecurityTLS on port 465, else SecurityStartTLS.
	Security string
	// Timeout bounds dialing and the whole conversation of one Send
	// (DefaultTimeout when zero). A shorter ctx deadline wins.
	Timeout time.Duration
	// HeloName is the name sent with EHLO ("localhost" when empty).
	HeloName string
	// TLSConfig is optional, for a private CA; ServerName defaults to Host.
	TLSConfig *tls.Config
}

// SMTP sends messages through an SMTP server, one connection per message.
type SMTP struct {
	opts SMTPOptions
	addr string
	now  func() time.Time
}

// NewSMTP checks opts and returns an SMTP mailer. It does not connect. It
// returns an error for a missing host or sender, an unknown Auth or Security,
// credentials missing for the chosen Auth, or PLAIN or LOGIN without TLS to a
// host other than localhost.
func NewSMTP(opts SMTPOptions) (*SMTP, error) {
	opts.Auth = strings.ToLower(strings.TrimSpace(opts.Auth))
	opts.Security = strings.ToLower(strings.TrimSpace(opts.Security))
	if opts.Host == "" {
		return nil, errors.New("mailer: smtp: no host")
	}
	if _, err := compose(opts.Sender, Message{To: "x@example.com", Text: "x"}, time.Time{}); err != nil {
		return nil, fmt.Errorf("mailer: smtp: sender %q is not an address", opts.Sender)
	}
	if opts.Security == "" {
		opts.Security = SecurityStartTLS
		if opts.Port == 465 {
			opts.Security = SecurityTLS
		}
	}
	switch opts.Security {
	case SecurityStartTLS, SecurityNone:
		if opts.Port == 0 {
			opts.Port = 587
		}
	case SecurityTLS:
		if opts.Port == 0 {
			opts.Port = 465
		}
	default:
		return nil, fmt.Errorf("mailer: smtp: unknown security %q (want starttls, tls or none)", opts.Security)
	}
	if opts.Auth == "" {
		opts.Auth = AuthNone
		if opts.Username != "" {
			opts.Auth = AuthPlain
		}
	}
	switch opts.Auth {
	case AuthNone:
	case AuthPlain, AuthLogin, AuthCRAMMD5:
		if opts.Username == "" || opts.Password == "" {
			return nil, fmt.Errorf("mailer: smtp: auth %s needs a username and a password", opts.Auth)
		}
	default:
		return nil, fmt.Errorf("mailer: smtp: unknown auth %q (want plain, login, cram-md5 or none)", opts.Auth)
	}
	if opts.Security == SecurityNone && (opts.Auth == AuthPlain || opts.Auth == AuthLogin) && !isLocalhost(opts.Host) {
		return nil, fmt.Errorf("mailer: smtp: auth %s without TLS would send the password in clear text (use security starttls or tls, or auth cram-md5)", opts.Auth)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.HeloName == "" {
		opts.HeloName = "localhost"
	}
	return &SMTP{
		opts: opts,
		addr: net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)),
		now:  time.Now,
	}, nil
}

// Send delivers m in one SMTP conversation. Errors are wrapped with the step
// that failed ("mailer: smtp: auth: ..."); a message the server rejects
// keeps the server's reply in the error.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	env, err := compose(s.opts.Sender, m, s.now())
	if err != nil {
		return err
	}
	err = s.send(ctx, env)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return err
}

func (s *SMTP) send(ctx context.Context, env envelope) error {
	deadline := time.Now().Add(s.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dialer := &net.Dialer{Deadline: deadline}
	tlsConfig := s.tlsConfig()

	var (
		conn net.Conn
		err  error
	)
	if s.opts.Security == SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return fmt.Errorf("mailer: smtp: dial: %w", err)
	}
	// The deadline covers every read and write, so a server that stalls at
	// any step cannot hold the caller longer than the timeout.
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return fmt.Errorf("mailer: smtp: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, s.opts.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mailer: smtp: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.opts.HeloName); err != nil {
		return fmt.Errorf("mailer: smtp: hello: %w", err)
	}
	if s.opts.Security == SecurityStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("mailer: smtp: server does not offer STARTTLS (set security to tls or none)")
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("mailer: smtp: starttls: %w", err)
		}
	}
	if auth := s.auth(); auth != nil {
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return errors.New("mailer: smtp: server does not offer AUTH")
		}
		if !slices.Contains(strings.Fields(strings.ToLower(mechs)), s.opts.Auth) {
			return fmt.Errorf("mailer: smtp: auth %s: server offers only %s", s.opts.Auth, mechs)
		}
		if err := c.Auth(auth); err != nil {
			return fmt.Errorf("mailer: smtp: auth %s: %w", s.opts.Auth, err)
		}
	}
	if err := c.Mail(env.from); err != nil {
		return fmt.Errorf("mailer: smtp: mail from: %w", err)
	}
	if err := c.Rcpt(env.to); err != nil {
		return fmt.Errorf("mailer: smtp: rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mailer: smtp: data: %w", err)
	}
	if _, err := w.Write(env.data); err != nil {
		return fmt.Errorf("mailer: smtp: data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mailer: smtp: data: %w", err)
	}
	// The message is accepted once DATA is acknowledged; a failing QUIT
	// does not undo that.
	_ = c.Quit()
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.opts.TLSConfig != nil {
		cfg = s.opts.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.opts.Host
	}
	return cfg
}

func (s *SMTP) auth() smtp.Auth {
	switch s.opts.Auth {
	case AuthPlain:
		// net/smtp refuses PLAIN without TLS unless the host is local.
		return smtp.PlainAuth("", s.opts.Username, s.opts.Password, s.opts.Host)
	case AuthLogin:
		return &loginAuth{username: s.opts.Username, password: s.opts.Password, host: s.opts.Host}
	case AuthCRAMMD5:
		return smtp.CRAMMD5Auth(s.opts.Username, s.opts.Password)
	}
	return nil
}

// loginAuth is the LOGIN mechanism: the server prompts for the user name and
// then the password, each sent base64 encoded. Like PLAIN it reveals the
// password, so it is refused without TLS unless the server is local.
type loginAuth struct {
	username, password, host string
	step                     int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	prompt := strings.ToLower(string(fromServer))
	switch {
	case strings.Contains(prompt, "user"):
		return []byte(a.username), nil
	case strings.Contains(prompt, "pass"):
		return []byte(a.password), nil
	case a.step == 1:
		return []byte(a.username), nil
	case a.step == 2:
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}
