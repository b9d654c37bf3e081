// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/mailer/smtptest"
)

// mailText returns the n-th message that srv received, once it arrived,
// decoded from quoted-printable.
func mailText(t *testing.T, srv *smtptest.Server, n int) string {
	t.Helper()
	b, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(srv.Wait(t, n).Data)))
	return string(b)
}

// newMailingInstance starts an instance that sends its mails over SMTP to
// a real server inside the test.
func newMailingInstance(t *testing.T) (*instance, *smtptest.Server) {
	t.Helper()
	sink := smtptest.Start(t, smtptest.Options{Security: smtptest.SecurityNone})
	in := newInstance(t, func(logger *slog.Logger) mailer.Mailer {
		m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: sink.Port, Sender: "offen@example.org",
			Security: mailer.SecurityNone, Auth: mailer.AuthNone})
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
	return in, sink
}

// TestMailedLinksUsePublicURL: reset and invitation mails, caught by a real
// SMTP server, link to the configured public URL even when the requests
// carry a forged Host and X-Forwarded-Host (P13).
func TestMailedLinksUsePublicURL(t *testing.T) {
	t.Parallel()
	in, sink := newMailingInstance(t)
	o := newOperator("ops@example.org")
	a, r := in.setup(t, o, "")
	r.must(t, http.StatusCreated)
	forged := map[string]string{"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
	links := regexp.MustCompile(`https?://[^\s"<>]+`)

	in.do(call{method: "POST", path: "/api/forgot-password", headers: forged, body: map[string]any{"email": o.email}}).must(t, http.StatusNoContent)
	mail := mailText(t, sink, 1)
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
	mail = mailText(t, sink, 2)
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

// TestMailLanguage: reset and invitation mails are written in the language
// of the page that asked for them when the mails exist in it (a regional tag
// uses its base language), else in the configured one; a malformed tag is
// refused before anything is sent.
func TestMailLanguage(t *testing.T) {
	t.Parallel()
	in, sink := newMailingInstance(t)
	o := newOperator("ops@example.org")
	a, r := in.setup(t, o, "")
	r.must(t, http.StatusCreated)

	for _, bad := range []string{"<b>", "de AT", strings.Repeat("x", 40)} {
		in.do(call{method: "POST", path: "/api/forgot-password", body: map[string]any{"email": o.email, "locale": bad}}).
			must(t, http.StatusBadRequest)
		_, r := in.invite(t, o, "new@example.org", map[string]string{a: "viewer"}, true, map[string]any{"locale": bad})
		r.must(t, http.StatusBadRequest)
	}
	in.do(call{method: "POST", path: "/api/forgot-password", body: map[string]any{"email": o.email, "locale": "de-AT"}}).
		must(t, http.StatusNoContent)
	if mail := mailText(t, sink, 1); !strings.Contains(mail, "Jemand, vermutlich Sie selbst") {
		t.Errorf("reset mail asked for in de-AT is not in German:\n%s", mail)
	}
	_, r = in.invite(t, o, "new@example.org", map[string]string{a: "viewer"}, true, map[string]any{"locale": "fr"})
	r.must(t, http.StatusCreated)
	if mail := mailText(t, sink, 2); !strings.Contains(mail, "Vous avez été invité") {
		t.Errorf("invitation asked for in fr is not in French:\n%s", mail)
	}
	_, r = in.invite(t, o, "other@example.org", map[string]string{a: "viewer"}, true, map[string]any{"locale": "tlh"})
	r.must(t, http.StatusCreated)
	if mail := mailText(t, sink, 3); !strings.Contains(mail, "You have been invited") {
		t.Errorf("invitation in an unknown language is not in the configured one (en):\n%s", mail)
	}
	if n := len(sink.Messages()); n != 3 {
		t.Errorf("got %d mails, want 3 (none for the refused requests)", n)
	}
}
