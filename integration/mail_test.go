// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/mailer/smtptest"
)

// mailSink is a real SMTP server (mailer/smtptest) on 127.0.0.1 that offers
// STARTTLS with a self-signed certificate, which the offen process trusts
// through SSL_CERT_FILE (certFile). It keeps every message.
type mailSink struct {
	*smtptest.Server
	certFile string
}

func startMailSink(t *testing.T, dir string) *mailSink {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Options{Security: smtptest.SecurityStartTLS, WaitTimeout: 20 * time.Second})
	sink := &mailSink{Server: srv, certFile: filepath.Join(dir, "smtp-ca.pem")}
	if err := os.WriteFile(sink.certFile, srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return sink
}

var mailLink = regexp.MustCompile(`https?://[^\s"<>]+`)

// waitLink returns the first link with prefix in the n-th mail (1-based),
// waiting for it to arrive.
func (s *mailSink) waitLink(t *testing.T, n int, prefix string) string {
	t.Helper()
	data := s.Wait(t, n).Data
	mail, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data)))
	if err != nil {
		mail = data
	}
	for _, l := range mailLink.FindAllString(string(mail), -1) {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("mail %d has no link starting with %s:\n%s", n, prefix, mail)
	return ""
}
