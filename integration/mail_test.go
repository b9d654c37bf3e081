// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailSink is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that offers
// STARTTLS with a self-signed certificate, which the offen process trusts
// through SSL_CERT_FILE. It keeps every message.
type mailSink struct {
	port     int
	certFile string
	mu       sync.Mutex
	mails    []string
}

func startMailSink(t *testing.T, dir string) *mailSink {
	t.Helper()
	cert, pemBytes := selfSigned(t)
	sink := &mailSink{certFile: filepath.Join(dir, "smtp-ca.pem")}
	if err := os.WriteFile(sink.certFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: sink}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
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
		<-done
	})
	return sink
}

// selfSigned makes a certificate for 127.0.0.1 and localhost that is its
// own CA.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "offen integration smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemBytes
}

type sinkSession struct{ sink *mailSink }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	decoded, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(b))))
	if err != nil {
		decoded = b
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	s.sink.mails = append(s.sink.mails, string(decoded))
	return nil
}

var mailLink = regexp.MustCompile(`https?://[^\s"<>]+`)

// waitLink returns the first link with prefix in the n-th mail (1-based),
// waiting for it to arrive.
func (s *mailSink) waitLink(t *testing.T, n int, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		var mail string
		if len(s.mails) >= n {
			mail = s.mails[n-1]
		}
		s.mu.Unlock()
		if mail != "" {
			for _, l := range mailLink.FindAllString(mail, -1) {
				if strings.HasPrefix(l, prefix) {
					return l
				}
			}
			t.Fatalf("mail %d has no link starting with %s:\n%s", n, prefix, mail)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("mail %d did not arrive", n)
	return ""
}
