// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package mailer sends the few e-mails Offen writes to operators: password
// reset links, invitations and "accounts shared with you" notices.
//
// A Mailer has one method. Three transports implement it: SMTP (NewSMTP),
// a local sendmail binary (NewSendmail) and a logger for development and demo
// (NewLog). cmd/offen picks SMTP when a host is configured, else sendmail when
// FindSendmail finds one, else the log mailer with a warning.
//
// The messages of messages.go are rendered in the recipient's language through
// a Translate function that the caller passes in (locales.Bundle.Translate
// fits), so this package imports nothing from the project. The links in them
// come from the caller, built from the configured public URL.
package mailer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Mailer delivers a Message. Send returns once the transport accepted the
// message, or with an error that says why it did not; it honours ctx
// cancellation and deadlines.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Message is one e-mail to one recipient. The sender is the transport's
// configured address.
type Message struct {
	// To is one address, "ada@example.com" or "Ada <ada@example.com>".
	To string
	// Subject is a single line of text.
	Subject string
	// Text is the plain-text body; it is required.
	Text string
	// HTML is an optional HTML alternative of Text. The caller escapes any
	// untrusted text in it (html/template does).
	HTML string
}

// ErrInvalidMessage is returned (wrapped) for a message that cannot be sent as
// given: a malformed address, a multi-line subject or an empty body.
var ErrInvalidMessage = errors.New("mailer: invalid message")

// envelope is a message ready for a transport: the addresses for the SMTP
// envelope and the RFC 5322 bytes with CRLF line endings.
type envelope struct {
	from, to string
	data     []byte
}

// compose checks m and encodes it as a MIME message from sender.
func compose(sender string, m Message, now time.Time) (envelope, error) {
	from, err := mail.ParseAddress(sender)
	if err != nil {
		return envelope{}, fmt.Errorf("%w: sender %q: %v", ErrInvalidMessage, sender, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return envelope{}, fmt.Errorf("%w: recipient: %v", ErrInvalidMessage, err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return envelope{}, fmt.Errorf("%w: subject spans lines", ErrInvalidMessage)
	}
	if strings.TrimSpace(m.Text) == "" {
		return envelope{}, fmt.Errorf("%w: empty text", ErrInvalidMessage)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	_, domain, _ := strings.Cut(from.Address, "@")

	var buf bytes.Buffer
	header := func(name, value string) {
		buf.WriteString(name + ": " + value + "\r\n")
	}
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")

	if m.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString("\r\n")
		if err := writeQP(&buf, m.Text); err != nil {
			return envelope{}, err
		}
		return envelope{from: from.Address, to: to.Address, data: buf.Bytes()}, nil
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ contentType, text string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return envelope{}, err
		}
		if err := writeQP(w, part.text); err != nil {
			return envelope{}, err
		}
	}
	if err := mw.Close(); err != nil {
		return envelope{}, err
	}
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	buf.WriteString("\r\n")
	buf.Write(body.Bytes())
	return envelope{from: from.Address, to: to.Address, data: buf.Bytes()}, nil
}

// writeQP writes text quoted-printable encoded; its line breaks become CRLF.
func writeQP(w interface{ Write([]byte) (int, error) }, text string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(strings.ReplaceAll(text, "\r\n", "\n"))); err != nil {
		return err
	}
	return qp.Close()
}
