// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package smtptest_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"testing"

	"github.com/offen/offen/mailer/smtptest"
)

// TestServer drives the server with net/smtp: STARTTLS verified by Roots,
// AUTH PLAIN required, a refused recipient, and the message kept.
func TestServer(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Security: smtptest.SecurityStartTLS,
		Mechanisms: []string{smtptest.Plain}, User: "u", Password: "p"})
	c, err := smtp.Dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{ServerName: "localhost", RootCAs: srv.Roots}); err != nil {
		t.Fatalf("starttls: %v", err)
	}
	if err := c.Mail("a@example.com"); err == nil || !strings.Contains(err.Error(), "authenticate") {
		t.Fatalf("mail before auth: got %v, want an authentication error", err)
	}
	if err := c.Auth(smtp.PlainAuth("", "u", "p", "127.0.0.1")); err != nil {
		t.Fatalf("auth: %v", err)
	}
	if err := c.Mail("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("nobody@example.com"); err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("rcpt nobody@: got %v, want 550", err)
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1)
	if got.From != "a@example.com" || got.To != "b@example.com" || got.User != "u" || !got.TLS ||
		string(got.Data) != "Subject: hi\r\n\r\nhello\r\n" {
		t.Errorf("got %+v", got)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("got %d messages, want 1", n)
	}
}

// TestCertPEM: the PEM certificate alone is a root for 127.0.0.1 and
// localhost, as a child process's SSL_CERT_FILE needs.
func TestCertPEM(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Security: smtptest.SecurityTLS})
	block, _ := pem.Decode(srv.CertPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CertPEM is not a PEM certificate: %q", srv.CertPEM)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
		conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)), &tls.Config{ServerName: host, RootCAs: srv.Roots})
		if err != nil {
			t.Errorf("implicit TLS as %s: %v", host, err)
			continue
		}
		conn.Close()
	}
}
