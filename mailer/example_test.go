// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer_test

import (
	"fmt"
	"strings"

	"github.com/offen/offen/mailer"
)

// In Offen the Translate function is the Translate method of the
// locales.Bundle; this example uses a map.
func ExampleAccountsShared() {
	texts := map[string]string{
		"mail.greeting":       "Hello,",
		"mail.shared.subject": "{count} accounts were shared with you in Offen",
		"mail.shared.intro":   "These Offen accounts were shared with you:",
		"mail.shared.action":  "Log in, then open the link below within 7 days to accept:",
		"mail.shared.ignore":  "If you do not want access to these accounts, ignore this e-mail.",
		"mail.link.hint":      "If the link does not open, copy it into the address bar of your browser.",
		"mail.footer":         "This e-mail was sent automatically by Offen.",
	}
	translate := func(lang, key string, args map[string]string) string {
		return strings.ReplaceAll(texts[key], "{count}", args["count"])
	}
	m, err := mailer.AccountsShared(translate, "en", "ada@example.com", "https://offen.example.com/join/#key", []string{"Blog", "Shop"})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Subject)
	fmt.Print(m.Text)
	// Output:
	// 2 accounts were shared with you in Offen
	// Hello,
	//
	// These Offen accounts were shared with you:
	//
	// - Blog
	// - Shop
	//
	// Log in, then open the link below within 7 days to accept:
	//
	// https://offen.example.com/join/#key
	//
	// If the link does not open, copy it into the address bar of your browser.
	//
	// If you do not want access to these accounts, ignore this e-mail.
	//
	// This e-mail was sent automatically by Offen.
}
