// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
)

// Translate returns the text of key in lang with {name} placeholders filled
// from args. (*locales.Bundle).Translate has this signature; the keys used
// here live in locales/mail.
type Translate func(lang, key string, args map[string]string) string

//go:embed templates/message.txt templates/message.html
var templateFiles embed.FS

var (
	textTemplate = texttemplate.Must(texttemplate.ParseFS(templateFiles, "templates/message.txt"))
	htmlTemplate = htmltemplate.Must(htmltemplate.ParseFS(templateFiles, "templates/message.html"))
)

// content is what both templates render: translated paragraphs around one
// link.
type content struct {
	Lang, Subject, Greeting, Intro string
	Items                          []string
	Action, Link, Hint, Ignore     string
	Footer                         string
}

// PasswordReset is the message with the link of a password reset
// (<public URL>/reset-password/#<token>). link must be an absolute http or
// https URL; an error is returned otherwise.
func PasswordReset(t Translate, lang, to, link string) (Message, error) {
	return render(t, lang, to, "mail.reset", link, nil)
}

// Invitation is the message inviting a new login, with its join link
// (<public URL>/join/#<invite key>).
func Invitation(t Translate, lang, to, link string) (Message, error) {
	return render(t, lang, to, "mail.invite", link, nil)
}

// AccountsShared tells an existing login that accounts were shared with it,
// naming them, with the join link that accepts them.
func AccountsShared(t Translate, lang, to, link string, accounts []string) (Message, error) {
	return render(t, lang, to, "mail.shared", link, accounts)
}

func render(t Translate, lang, to, prefix, link string, items []string) (Message, error) {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Message{}, fmt.Errorf("%w: link %q is not an absolute http(s) URL", ErrInvalidMessage, link)
	}
	clean := make([]string, len(items))
	for i, item := range items {
		// Names are chosen by users; keep each on one line of the text part.
		clean[i] = strings.Join(strings.Fields(item), " ")
	}
	args := map[string]string{"count": strconv.Itoa(len(items))}
	c := content{
		Lang:     lang,
		Subject:  t(lang, prefix+".subject", args),
		Greeting: t(lang, "mail.greeting", nil),
		Intro:    t(lang, prefix+".intro", args),
		Items:    clean,
		Action:   t(lang, prefix+".action", args),
		Link:     link,
		Hint:     t(lang, "mail.link.hint", nil),
		Ignore:   t(lang, prefix+".ignore", args),
		Footer:   t(lang, "mail.footer", nil),
	}
	var text, html bytes.Buffer
	if err := textTemplate.Execute(&text, c); err != nil {
		return Message{}, fmt.Errorf("mailer: render %s: %w", prefix, err)
	}
	if err := htmlTemplate.Execute(&html, c); err != nil {
		return Message{}, fmt.Errorf("mailer: render %s: %w", prefix, err)
	}
	return Message{
		To:      to,
		Subject: c.Subject,
		Text:    strings.TrimLeft(text.String(), "\n"),
		HTML:    strings.TrimLeft(html.String(), "\n"),
	}, nil
}
