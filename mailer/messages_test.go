// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/offen/offen/mailer"
	"github.com/offen/offen/mailer/smtptest"
)

// poTranslations reads the real mail strings from ../locales/mail. mailer is
// a leaf and may not import locales, so this reads the few forms our files
// use (single-line msgid, msgstr and msgstr[n]); locales has the full parser
// and the parity test.
func poTranslations(t *testing.T) map[string]map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "locales", "mail", "*.po"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no mail locales found (%v)", err)
	}
	all := map[string]map[string][]string{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		lang := strings.TrimSuffix(filepath.Base(name), ".po")
		all[lang] = map[string][]string{}
		var id string
		s := bufio.NewScanner(f)
		for s.Scan() {
			keyword, quoted, ok := strings.Cut(s.Text(), " ")
			if !ok || !strings.HasPrefix(keyword, "msg") {
				continue
			}
			value, err := strconv.Unquote(quoted)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, s.Text(), err)
			}
			switch {
			case keyword == "msgid":
				id = value
			case keyword == "msgstr" || strings.HasPrefix(keyword, "msgstr["):
				if id != "" {
					all[lang][id] = append(all[lang][id], value)
				}
			}
		}
		f.Close()
	}
	return all
}

// translator fills placeholders like locales.Bundle.Translate and marks
// missing keys, so that the test sees them.
func translator(all map[string]map[string][]string) mailer.Translate {
	return func(lang, key string, args map[string]string) string {
		forms, ok := all[lang][key]
		if !ok {
			return "MISSING " + key
		}
		text := forms[len(forms)-1]
		if len(forms) == 2 && args["count"] == "1" {
			text = forms[0]
		}
		for name, value := range args {
			text = strings.ReplaceAll(text, "{"+name+"}", value)
		}
		return text
	}
}

// untranslatedKey finds a dotted key such as mail.reset.subject (but not the
// word "e-mail.").
var untranslatedKey = regexp.MustCompile(`(^|[^-\w])mail\.[a-z]+\.?[a-z]*`)

func TestMessagesInEveryLanguage(t *testing.T) {
	all := poTranslations(t)
	tr := translator(all)
	const link = "https://offen.example.com/join/#k3y_with-chars"
	for _, lang := range []string{"en", "de", "fr", "es", "pt", "vi"} {
		if _, ok := all[lang]; !ok {
			t.Errorf("%s: no mail locale", lang)
			continue
		}
		build := map[string]func() (mailer.Message, error){
			"reset":  func() (mailer.Message, error) { return mailer.PasswordReset(tr, lang, "ada@example.com", link) },
			"invite": func() (mailer.Message, error) { return mailer.Invitation(tr, lang, "ada@example.com", link) },
			"shared one": func() (mailer.Message, error) {
				return mailer.AccountsShared(tr, lang, "ada@example.com", link, []string{"Blog"})
			},
			"shared many": func() (mailer.Message, error) {
				return mailer.AccountsShared(tr, lang, "ada@example.com", link, []string{"Blog", "Shop"})
			},
		}
		for name, fn := range build {
			t.Run(lang+"/"+name, func(t *testing.T) {
				m, err := fn()
				if err != nil {
					t.Fatal(err)
				}
				if m.To != "ada@example.com" || m.Subject == "" {
					t.Errorf("got To %q, Subject %q", m.To, m.Subject)
				}
				for part, body := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
					for _, bad := range []string{"MISSING", "{count}", "{{"} {
						if strings.Contains(body, bad) {
							t.Errorf("%s contains %q: %s", part, bad, body)
						}
					}
					if key := untranslatedKey.FindString(body); key != "" {
						t.Errorf("%s contains the key %q: %s", part, key, body)
					}
				}
				if !strings.Contains(m.Text, "\n"+link+"\n") {
					t.Errorf("text lacks the link on its own line:\n%s", m.Text)
				}
				if !strings.Contains(m.HTML, `href="`+link+`"`) {
					t.Errorf("html lacks the link:\n%s", m.HTML)
				}
				if !strings.Contains(m.HTML, `lang="`+lang+`"`) {
					t.Errorf("html lacks lang=%q", lang)
				}
				if strings.HasPrefix(name, "shared") && !strings.Contains(m.Text, "- Blog") {
					t.Errorf("text lacks the account names:\n%s", m.Text)
				}
				if name == "shared many" && lang != "en" && !strings.Contains(m.Subject, "2") {
					t.Errorf("plural subject lacks the count: %q", m.Subject)
				}
				if lang != "en" {
					if m.Subject == tr("en", "mail."+strings.Fields(name)[0]+".subject", map[string]string{"count": "2"}) {
						t.Errorf("subject is the English text: %q", m.Subject)
					}
				}
			})
		}
	}
}

func TestMessagesEscape(t *testing.T) {
	tr := translator(poTranslations(t))
	m, err := mailer.AccountsShared(tr, "en", "ada@example.com", "https://offen.example.com/join/#a&b", []string{"<script>alert(1)</script>", "Line\r\nBreak"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("html does not escape account names:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "#a&amp;b") {
		t.Errorf("html does not escape the link:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "- <script>alert(1)</script>\n") || !strings.Contains(m.Text, "- Line Break\n") {
		t.Errorf("text does not keep account names on one line each:\n%s", m.Text)
	}
	for _, link := range []string{"javascript:alert(1)", "/join/#k", "", "ftp://offen.example.com/"} {
		if _, err := mailer.PasswordReset(tr, "en", "ada@example.com", link); !errors.Is(err, mailer.ErrInvalidMessage) {
			t.Errorf("link %q: got %v, want ErrInvalidMessage", link, err)
		}
	}
}

// TestMessageThroughSMTP sends a rendered message through the real SMTP
// server and reads both parts back.
func TestMessageThroughSMTP(t *testing.T) {
	ts := smtptest.Start(t, smtptest.Options{Security: mailer.SecurityNone})
	m, err := mailer.NewSMTP(mailer.SMTPOptions{Host: "127.0.0.1", Port: ts.Port, Security: "none", Sender: "Offen <offen@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mailer.Invitation(translator(poTranslations(t)), "vi", "Ada Lovelace <ada@example.com>", "https://offen.example.com/join/#k")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := ts.Messages()
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	checkMessage(t, got[0].Data, msg)
}
