// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package locales

import (
	"fmt"
	"strconv"
	"strings"
)

// pluralRule turns a count into the index of a msgstr[n] form and names each
// form with its CLDR category, so that JavaScript can pick a form with
// Intl.PluralRules.
type pluralRule struct {
	expr       string // normalized plural expression, the key of knownRules
	nplurals   int
	index      func(n int) int
	categories []string
}

// knownRules lists the gettext plural expressions (spaces and outer
// parentheses removed) that our languages use. A language with another rule
// needs an entry here, which keeps the mapping to CLDR categories explicit.
var knownRules = map[string]pluralRule{
	// en, de, es, pt: 1 is singular, 0 and 2+ are plural.
	"n!=1": {"n!=1", 2, func(n int) int { return b2i(n != 1) }, []string{"one", "other"}},
	// fr (and pt-BR): 0 and 1 are singular.
	"n>1": {"n>1", 2, func(n int) int { return b2i(n > 1) }, []string{"one", "other"}},
	// vi: one form for every count.
	"0": {"0", 1, func(int) int { return 0 }, []string{"other"}},
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parsePluralForms reads a header value such as "nplurals=2; plural=(n != 1);".
func parsePluralForms(header string) (pluralRule, error) {
	if header == "" {
		return pluralRule{}, fmt.Errorf("missing Plural-Forms header")
	}
	var (
		nplurals = -1
		expr     string
	)
	for _, part := range strings.Split(header, ";") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(name) {
		case "nplurals":
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				return pluralRule{}, fmt.Errorf("bad nplurals in %q", header)
			}
			nplurals = n
		case "plural":
			expr = strings.ReplaceAll(value, " ", "")
			for len(expr) > 1 && expr[0] == '(' && expr[len(expr)-1] == ')' {
				expr = expr[1 : len(expr)-1]
			}
		}
	}
	rule, ok := knownRules[expr]
	if !ok {
		return pluralRule{}, fmt.Errorf("unsupported plural expression in %q", header)
	}
	if nplurals != rule.nplurals {
		return pluralRule{}, fmt.Errorf("nplurals=%d does not fit plural=%s", nplurals, expr)
	}
	return rule, nil
}
