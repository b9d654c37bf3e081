// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tdewolff/parse/v2"
	css3 "github.com/tdewolff/parse/v2/css"
)

// Banner styles (PROTOCOL §7.3, PUT /api/accounts/{id}/banner-styles) are CSS
// an account's admin writes for the consent banner. The vault serves them on
// the Offen origin inside every embedding site, so they are reduced to what
// styling the banner needs: plain rules whose selectors name only the
// banner's documented classes (script/README.md) and whose declarations set
// only listed properties to values made of words, numbers, lengths, colours,
// strings and colour functions. Nothing can load a resource (no url(), no
// image-set(), no @import or @font-face), run anything (no expression(), no
// javascript:), escape the rule (no escapes, no nested blocks, no "<") or
// reach outside the banner. The validator re-serializes what it accepts, so
// the stored text is the canonical form of what was checked.

// maxBannerCSSBytes is the most banner CSS an account may store.
const maxBannerCSSBytes = 16 * 1024

// bannerClasses are the class names of the consent banner that the vault
// documents as stable (script/README.md).
var bannerClasses = []string{
	"offen-banner",
	"offen-banner--notice",
	"offen-banner__title",
	"offen-banner__text",
	"offen-banner__link",
	"offen-banner__buttons",
	"offen-banner__button",
	"offen-banner__button--allow",
	"offen-banner__button--deny",
	"offen-banner__button--close",
}

// bannerPseudoClasses are the states a selector may add to a class.
var bannerPseudoClasses = []string{"hover", "focus", "focus-visible", "active"}

// bannerProperties may be set; layout properties that could hide or move
// one of the two choices (display, visibility, opacity, position,
// transform, width, height, z-index, content...) are absent on purpose.
var bannerProperties = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range []string{
		"color", "background", "background-color", "accent-color", "caret-color",
		"border", "border-color", "border-style", "border-width", "border-radius",
		"border-top", "border-right", "border-bottom", "border-left",
		"border-top-color", "border-right-color", "border-bottom-color", "border-left-color",
		"border-top-style", "border-right-style", "border-bottom-style", "border-left-style",
		"border-top-width", "border-right-width", "border-bottom-width", "border-left-width",
		"border-top-left-radius", "border-top-right-radius", "border-bottom-left-radius", "border-bottom-right-radius",
		"outline", "outline-color", "outline-style", "outline-width", "outline-offset",
		"box-shadow", "text-shadow",
		"font", "font-family", "font-size", "font-style", "font-weight", "font-variant",
		"letter-spacing", "word-spacing", "line-height", "text-align", "text-transform",
		"text-decoration", "text-decoration-color", "text-decoration-line", "text-decoration-style",
		"text-decoration-thickness", "text-underline-offset",
		"padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
		"margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
		"gap", "row-gap", "column-gap", "justify-content", "align-items", "flex-direction", "flex-wrap",
		"max-width", "min-width", "min-height", "cursor",
		"transition", "transition-duration", "transition-property", "transition-timing-function",
	} {
		m[p] = true
	}
	return m
}()

// bannerFunctions are the only functions a value may call.
var bannerFunctions = []string{"rgb", "rgba", "hsl", "hsla"}

// cssError is a rejected banner style: the rule (selector or declaration)
// that broke the allow-list and why. respondError answers 400.
type cssError struct {
	Rule   string
	Reason string
}

func (e *cssError) Error() string {
	if e.Rule == "" {
		return "banner css: " + e.Reason
	}
	return fmt.Sprintf("banner css: %s: %q", e.Reason, e.Rule)
}

// validateBannerCSS checks css against the allow-list and returns its
// canonical form, or a *cssError naming the first offending rule. The text
// is split into tokens by a CSS Syntax Level 3 tokenizer, so that what is
// checked is what a browser will see (a string is a string, a comment is
// gone); the rules are then read from the tokens by the small grammar
// below, which accepts only the allowed shapes.
func validateBannerCSS(css string) (string, error) {
	if len(css) > maxBannerCSSBytes {
		return "", &cssError{Reason: fmt.Sprintf("longer than %d bytes", maxBannerCSSBytes)}
	}
	// Refused wherever they occur, comments and strings included: escapes
	// could spell any name, "<" could end the style element that serves the
	// text, "@" starts every at-rule.
	for _, c := range css {
		switch {
		case c == '\\':
			return "", &cssError{Reason: "escapes are not allowed"}
		case c == '<':
			return "", &cssError{Reason: `"<" is not allowed`}
		case c == '@':
			return "", &cssError{Reason: "at-rules (@import, @font-face, @media...) are not allowed"}
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f', c == 0x7f:
			return "", &cssError{Reason: "control characters are not allowed"}
		}
	}
	toks, err := cssTokens(css)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for {
		toks = trimSpace(toks)
		if len(toks) == 0 {
			return out.String(), nil
		}
		open := slices.IndexFunc(toks, func(t cssToken) bool {
			return t.typ == css3.LeftBraceToken || t.typ == css3.RightBraceToken || t.typ == css3.SemicolonToken
		})
		if open < 0 || toks[open].typ != css3.LeftBraceToken {
			return "", &cssError{Rule: clip(joinTokens(toks)), Reason: "expected a selector followed by {"}
		}
		selectors, err := canonicalSelectors(toks[:open])
		if err != nil {
			return "", err
		}
		end := slices.IndexFunc(toks[open+1:], func(t cssToken) bool {
			return t.typ == css3.LeftBraceToken || t.typ == css3.RightBraceToken
		})
		switch {
		case end < 0:
			return "", &cssError{Rule: clip(joinTokens(toks[:open])), Reason: "missing }"}
		case toks[open+1+end].typ == css3.LeftBraceToken:
			return "", &cssError{Rule: clip(joinTokens(toks[:open])), Reason: "nested blocks are not allowed"}
		}
		decls, err := canonicalDeclarations(toks[open+1 : open+1+end])
		if err != nil {
			return "", err
		}
		out.WriteString(selectors + " {\n")
		for _, d := range decls {
			out.WriteString("  " + d + ";\n")
		}
		out.WriteString("}\n")
		toks = toks[open+1+end+1:]
	}
}

// cssToken is one token of the tokenizer, its text copied.
type cssToken struct {
	typ  css3.TokenType
	text string
}

// cssTokens tokenizes css, dropping comments and refusing what a browser
// would read differently from the text (unterminated comments and strings).
func cssTokens(css string) ([]cssToken, error) {
	l := css3.NewLexer(parse.NewInputString(css))
	var toks []cssToken
	for {
		typ, b := l.Next()
		text := string(b)
		switch typ {
		case css3.ErrorToken:
			if !errors.Is(l.Err(), io.EOF) {
				return nil, &cssError{Reason: l.Err().Error()}
			}
			return toks, nil
		case css3.CommentToken:
			if len(text) < 4 || !strings.HasSuffix(text, "*/") {
				return nil, &cssError{Reason: "unterminated comment"}
			}
			continue
		case css3.BadStringToken:
			return nil, &cssError{Rule: clip(text), Reason: "unterminated string"}
		case css3.StringToken:
			if len(text) < 2 || text[len(text)-1] != text[0] {
				return nil, &cssError{Rule: clip(text), Reason: "unterminated string"}
			}
		}
		toks = append(toks, cssToken{typ, text})
	}
}

func trimSpace(toks []cssToken) []cssToken {
	for len(toks) > 0 && toks[0].typ == css3.WhitespaceToken {
		toks = toks[1:]
	}
	for len(toks) > 0 && toks[len(toks)-1].typ == css3.WhitespaceToken {
		toks = toks[:len(toks)-1]
	}
	return toks
}

// splitTokens splits toks at every token of type sep.
func splitTokens(toks []cssToken, sep css3.TokenType) [][]cssToken {
	var parts [][]cssToken
	start := 0
	for i, t := range toks {
		if t.typ == sep {
			parts = append(parts, toks[start:i])
			start = i + 1
		}
	}
	return append(parts, toks[start:])
}

// joinTokens writes toks back as text, whitespace as one space.
func joinTokens(toks []cssToken) string {
	var b strings.Builder
	for _, t := range toks {
		if t.typ == css3.WhitespaceToken {
			b.WriteByte(' ')
		} else {
			b.WriteString(t.text)
		}
	}
	return b.String()
}

func isDelim(t cssToken, d string) bool { return t.typ == css3.DelimToken && t.text == d }

func canonicalSelectors(toks []cssToken) (string, error) {
	var out []string
	for _, sel := range splitTokens(toks, css3.CommaToken) {
		sel = trimSpace(sel)
		if len(sel) == 0 {
			return "", &cssError{Rule: clip(joinTokens(toks)), Reason: "empty selector"}
		}
		rule := clip(joinTokens(sel))
		var canon strings.Builder
		needClass := true
		for i := 0; i < len(sel); i++ {
			t := sel[i]
			next := func() (cssToken, bool) {
				if i+1 < len(sel) && sel[i+1].typ == css3.IdentToken {
					i++
					return sel[i], true
				}
				return cssToken{}, false
			}
			switch {
			case isDelim(t, "."):
				name, ok := next()
				if !ok {
					return "", &cssError{Rule: rule, Reason: "selectors may only use the banner's classes, pseudo-classes, descendant and child combinators"}
				}
				if !slices.Contains(bannerClasses, name.text) {
					return "", &cssError{Rule: rule, Reason: fmt.Sprintf("class %q is not one of the banner's classes", name.text)}
				}
				canon.WriteString("." + name.text)
				needClass = false
			case t.typ == css3.ColonToken:
				if needClass {
					return "", &cssError{Rule: rule, Reason: "a pseudo-class must follow a class"}
				}
				name, ok := next()
				if !ok {
					if i+1 < len(sel) && sel[i+1].typ == css3.ColonToken {
						return "", &cssError{Rule: rule, Reason: "pseudo-elements are not allowed, only a pseudo-class"}
					}
					return "", &cssError{Rule: rule, Reason: "selectors may only use the banner's classes, pseudo-classes, descendant and child combinators"}
				}
				if !slices.Contains(bannerPseudoClasses, name.text) {
					return "", &cssError{Rule: rule, Reason: fmt.Sprintf("pseudo-class %q is not allowed", ":"+name.text)}
				}
				canon.WriteString(":" + name.text)
			case t.typ == css3.WhitespaceToken || isDelim(t, ">"):
				child := false
				for ; i < len(sel) && (sel[i].typ == css3.WhitespaceToken || isDelim(sel[i], ">")); i++ {
					if isDelim(sel[i], ">") {
						if child {
							return "", &cssError{Rule: rule, Reason: "a combinator must join two classes"}
						}
						child = true
					}
				}
				i--
				if needClass {
					return "", &cssError{Rule: rule, Reason: "a combinator must join two classes"}
				}
				if child {
					canon.WriteString(" > ")
				} else {
					canon.WriteString(" ")
				}
				needClass = true
			default:
				return "", &cssError{Rule: rule, Reason: "selectors may only use the banner's classes, pseudo-classes, descendant and child combinators"}
			}
		}
		if needClass {
			return "", &cssError{Rule: rule, Reason: "a selector must end with a class"}
		}
		out = append(out, canon.String())
	}
	return strings.Join(out, ", "), nil
}

func canonicalDeclarations(body []cssToken) ([]string, error) {
	var out []string
	for _, decl := range splitTokens(body, css3.SemicolonToken) {
		decl = trimSpace(decl)
		if len(decl) == 0 {
			continue
		}
		rule := clip(joinTokens(decl))
		colon := slices.IndexFunc(decl, func(t cssToken) bool { return t.typ == css3.ColonToken })
		if colon < 0 {
			return nil, &cssError{Rule: rule, Reason: "expected property: value"}
		}
		nameToks := trimSpace(decl[:colon])
		name := strings.ToLower(joinTokens(nameToks))
		if len(nameToks) != 1 || nameToks[0].typ != css3.IdentToken || !bannerProperties[name] {
			return nil, &cssError{Rule: rule, Reason: fmt.Sprintf("property %q is not allowed", name)}
		}
		value := trimSpace(decl[colon+1:])
		important := false
		if n := len(value); n >= 2 && isDelim(value[n-2], "!") && strings.EqualFold(value[n-1].text, "important") {
			value, important = trimSpace(value[:n-2]), true
		}
		canon, err := canonicalValue(value)
		if err != "" {
			return nil, &cssError{Rule: rule, Reason: err}
		}
		if important {
			canon += " !important"
		}
		out = append(out, name+": "+canon)
	}
	return out, nil
}

// canonicalValue returns value as text, or why it is refused.
func canonicalValue(value []cssToken) (string, string) {
	if len(value) == 0 {
		return "", "empty value"
	}
	inFunction := false
	var b strings.Builder
	for i, t := range value {
		switch t.typ {
		case css3.IdentToken, css3.NumberToken, css3.PercentageToken, css3.DimensionToken, css3.HashToken:
			b.WriteString(t.text)
		case css3.StringToken:
			lower := strings.ToLower(t.text)
			if strings.Contains(lower, "url(") {
				return "", "url() is not allowed"
			}
			if strings.Contains(lower, "expression") || strings.Contains(lower, "javascript:") {
				return "", "scripts are not allowed"
			}
			b.WriteString(t.text)
		case css3.WhitespaceToken:
			// One space between terms; a comma brings its own, and
			// parentheses need none.
			if prev := value[i-1].typ; prev != css3.FunctionToken && prev != css3.CommaToken &&
				value[i+1].typ != css3.CommaToken && value[i+1].typ != css3.RightParenthesisToken {
				b.WriteByte(' ')
			}
		case css3.CommaToken:
			b.WriteString(", ")
		case css3.DelimToken:
			if t.text != "/" && t.text != "+" && t.text != "-" {
				return "", "value may only hold words, numbers, lengths, colours, strings and rgb()/hsl()"
			}
			b.WriteString(t.text)
		case css3.FunctionToken:
			fn := strings.ToLower(strings.TrimSuffix(t.text, "("))
			switch {
			case inFunction:
				return "", "nested functions are not allowed"
			case fn == "url":
				return "", "url() is not allowed"
			case fn == "expression":
				return "", "scripts are not allowed"
			case !slices.Contains(bannerFunctions, fn):
				return "", fmt.Sprintf("function %s() is not allowed (only rgb, rgba, hsl, hsla)", fn)
			}
			inFunction = true
			b.WriteString(fn + "(")
		case css3.RightParenthesisToken:
			if !inFunction {
				return "", "unbalanced parentheses"
			}
			inFunction = false
			b.WriteByte(')')
		case css3.LeftParenthesisToken:
			return "", "nested functions are not allowed"
		case css3.URLToken, css3.BadURLToken:
			return "", "url() is not allowed"
		default:
			return "", "value may only hold words, numbers, lengths, colours, strings and rgb()/hsl()"
		}
	}
	if inFunction {
		return "", "unbalanced parentheses"
	}
	text := strings.TrimSpace(b.String())
	if len(text) > 256 {
		return "", "value longer than 256 bytes"
	}
	return text, ""
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
