// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestValidateBannerCSSAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"comment only", "/* nothing */", ""},
		{
			"colours and fonts",
			`.offen-banner { background-color: #fff; color: rgb(10, 20, 30); font-family: "Helvetica Neue", sans-serif }`,
			".offen-banner {\n  background-color: #fff;\n  color: rgb(10, 20, 30);\n  font-family: \"Helvetica Neue\", sans-serif;\n}\n",
		},
		{
			"selector list, states and combinators",
			".offen-banner .offen-banner__button:hover,.offen-banner__buttons>.offen-banner__button--allow:focus-visible{border-radius:4px;padding:0.5em 1em !important;}",
			".offen-banner .offen-banner__button:hover, .offen-banner__buttons > .offen-banner__button--allow:focus-visible {\n  border-radius: 4px;\n  padding: 0.5em 1em !important;\n}\n",
		},
		{
			"case of property names, whitespace and comments",
			"/* a */\n.offen-banner__link {\n  COLOR :  hsl(200,  50%, 40%) ; /* b */ text-decoration: underline;\n}\n",
			".offen-banner__link {\n  color: hsl(200, 50%, 40%);\n  text-decoration: underline;\n}\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := validateBannerCSS(tc.in)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			// The canonical form is a fixed point.
			again, err := validateBannerCSS(got)
			if err != nil || again != got {
				t.Errorf("canonical form not stable: %q, %v", again, err)
			}
		})
	}
}

func TestValidateBannerCSSRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, reason string }{
		{"url", `.offen-banner { background: url(https://evil.example/x.png) }`, "url()"},
		{"url in upper case", `.offen-banner { background: URL(x) }`, "url()"},
		{"url in a string", `.offen-banner { font-family: "url(x)" }`, "url()"},
		{"import", `@import "https://evil.example/x.css";`, "at-rules"},
		{"font-face", `@font-face { font-family: x; src: url(x) }`, "at-rules"},
		{"media", `@media (max-width: 10px) { .offen-banner { color: red } }`, "at-rules"},
		{"expression", `.offen-banner { color: expression(alert(1)) }`, "scripts"},
		{"javascript", `.offen-banner { color: javascript:alert(1) }`, "value may only"},
		{"escape", `.offen-banner { background: u\72l(x) }`, "escapes"},
		{"closing style tag", `.offen-banner { color: red } </style><script>`, `"<"`},
		{"image-set", `.offen-banner { background: image-set("x" 1x) }`, "function image-set()"},
		{"var", `.offen-banner { color: var(--x) }`, "function var()"},
		{"nested function", `.offen-banner { width: calc(1px + rgb(1,2,3)) }`, "property"},
		{"nested rgb", `.offen-banner { color: rgb(rgb(1,2,3)) }`, "nested"},
		{"display", `.offen-banner__button--deny { display: none }`, `property "display"`},
		{"opacity", `.offen-banner__button--deny { opacity: 0 }`, `property "opacity"`},
		{"position", `.offen-banner { position: fixed }`, `property "position"`},
		{"custom property", `.offen-banner { --x: red }`, "property"},
		{"foreign class", `.evil { color: red }`, `class "evil"`},
		{"element selector", `body { color: red }`, "selectors may only"},
		{"universal selector", `* { color: red }`, "selectors may only"},
		{"attribute selector", `.offen-banner[title] { color: red }`, "selectors may only"},
		{"id selector", `#offen-banner { color: red }`, "selectors may only"},
		{"sibling combinator", `.offen-banner__text + .offen-banner__buttons { color: red }`, "selectors may only"},
		{"pseudo-element", `.offen-banner::before { color: red }`, "pseudo-class"},
		{"unknown pseudo-class", `.offen-banner:has(.x) { color: red }`, "selectors may only"},
		{"pseudo-class alone", `:hover { color: red }`, "must follow a class"},
		{"nested block", `.offen-banner { .offen-banner__text { color: red } }`, "nested blocks"},
		{"missing brace", `.offen-banner { color: red`, "missing }"},
		{"stray declaration", `color: red;`, "expected a selector"},
		{"unterminated comment", `.offen-banner { color: red } /*`, "unterminated comment"},
		{"unterminated string", `.offen-banner { font-family: "abc; color: red }`, "unterminated string"},
		{"no value", `.offen-banner { color: }`, "empty value"},
		{"no colon", `.offen-banner { color red }`, "expected property"},
		{"control character", ".offen-banner { color: red\x00 }", "control characters"},
		{"too large", ".offen-banner { color: red }" + strings.Repeat(" ", maxBannerCSSBytes), "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := validateBannerCSS(tc.in)
			var ce *cssError
			if !errors.As(err, &ce) {
				t.Fatalf("got %q, %v, want a cssError", got, err)
			}
			if !strings.Contains(ce.Error(), tc.reason) {
				t.Errorf("got %q, want a reason containing %q", ce.Error(), tc.reason)
			}
		})
	}
}

// FuzzValidateBannerCSS: whatever the validator accepts is its own canonical
// form, and holds nothing that could load, run or reach beyond the banner:
// every class it names is a banner class, and no url(, escape, "<", "@" or
// brace beyond the rules' own survives.
func FuzzValidateBannerCSS(f *testing.F) {
	for _, seed := range []string{
		"",
		`.offen-banner { background-color: #fff; color: rgb(10, 20, 30); font-family: "Helvetica Neue", sans-serif }`,
		".offen-banner .offen-banner__button:hover,.offen-banner__buttons>.offen-banner__button--allow:focus-visible{border-radius:4px;padding:0.5em 1em !important;}",
		`.offen-banner { background: url(https://evil.example/x.png) }`,
		`.offen-banner { color: red } </style><script>`,
		`.offen-banner { font-family: "abc; color: red }`,
		`.offen-banner { .offen-banner__text { color: red } }`,
		"/* a */ .offen-banner__link { COLOR : hsl(200, 50%, 40%) }",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := validateBannerCSS(in)
		if err != nil {
			var ce *cssError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a cssError", err)
			}
			return
		}
		again, err := validateBannerCSS(out)
		if err != nil || again != out {
			t.Fatalf("canonical form %q is not stable: %q, %v", out, again, err)
		}
		lower := strings.ToLower(out)
		for _, bad := range []string{"url(", "\\", "<", "@", "expression", "javascript:"} {
			if strings.Contains(lower, bad) {
				t.Fatalf("accepted %q holds %q", out, bad)
			}
		}
		for _, rule := range strings.SplitAfter(out, "}\n") {
			if rule == "" {
				continue
			}
			selectors, body, ok := strings.Cut(rule, " {\n")
			if !ok || strings.ContainsAny(body[:len(body)-2], "{}") {
				t.Fatalf("rule %q is not one selector list and one flat block", rule)
			}
			for _, word := range strings.FieldsFunc(selectors, func(r rune) bool { return r == ' ' || r == ',' || r == '>' }) {
				class, _, _ := strings.Cut(strings.TrimPrefix(word, "."), ":")
				if !strings.HasPrefix(word, ".") || !slices.Contains(bannerClasses, class) {
					t.Fatalf("selector %q of %q names no banner class", word, out)
				}
			}
		}
	})
}

// TestBannerEditorListsTheClasses: the console's banner editor names
// exactly the classes the validator allows, so what an operator reads there
// is what may be styled.
func TestBannerEditorListsTheClasses(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../auditorium/src/pages/console/banner.js")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range regexp.MustCompile(`\['(offen-banner[a-z_-]*)', 'console\.banner\.class\.`).FindAllSubmatch(b, -1) {
		listed = append(listed, string(m[1]))
	}
	if !slices.Equal(listed, bannerClasses) {
		t.Errorf("the editor lists %v, the validator allows %v", listed, bannerClasses)
	}
}
