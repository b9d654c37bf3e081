// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
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

var (
	cssIdent     = regexp.MustCompile(`^-?[a-z][a-z0-9-]*$`)
	cssValueChar = regexp.MustCompile(`^[a-zA-Z0-9 #%.,+\-/'"()]*$`)
	cssFunction  = regexp.MustCompile(`([a-zA-Z-]*)\(`)
	cssSelector  = regexp.MustCompile(`^(\.[a-z0-9_-]+|:[a-z-]+|\s*>\s*|\s+)+$`)
	cssSelPart   = regexp.MustCompile(`\.[a-z0-9_-]+|:[a-z-]+|\s*>\s*|\s+`)
)

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
// canonical form, or a *cssError naming the first offending rule.
func validateBannerCSS(css string) (string, error) {
	if len(css) > maxBannerCSSBytes {
		return "", &cssError{Reason: fmt.Sprintf("longer than %d bytes", maxBannerCSSBytes)}
	}
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
	src, err := stripCSSComments(css)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for {
		src = strings.TrimSpace(src)
		if src == "" {
			break
		}
		open := strings.IndexAny(src, "{};\"'")
		if open < 0 || src[open] != '{' {
			return "", &cssError{Rule: clip(src), Reason: "expected a selector followed by {"}
		}
		selectors, err := canonicalSelectors(src[:open])
		if err != nil {
			return "", err
		}
		body, rest, err := cssBlock(src[open+1:])
		if err != nil {
			return "", &cssError{Rule: clip(src[:open]), Reason: err.Error()}
		}
		decls, err := canonicalDeclarations(body)
		if err != nil {
			return "", err
		}
		out.WriteString(selectors + " {\n")
		for _, d := range decls {
			out.WriteString("  " + d + ";\n")
		}
		out.WriteString("}\n")
		src = rest
	}
	return out.String(), nil
}

func stripCSSComments(s string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		j := strings.Index(s[i+2:], "*/")
		if j < 0 {
			return "", &cssError{Reason: "unterminated comment"}
		}
		s = s[i+2+j+2:]
	}
}

// cssBlock splits s (after a "{") into the block's body and what follows
// its "}". Strings may not span the braces; nested blocks are refused.
func cssBlock(s string) (body, rest string, err error) {
	var quote rune
	for i, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\n' || c == '{' || c == '}' || c == ';' {
				return "", "", fmt.Errorf("unterminated string")
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '{':
			return "", "", fmt.Errorf("nested blocks are not allowed")
		case c == '}':
			return s[:i], s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("missing }")
}

func canonicalSelectors(s string) (string, error) {
	var out []string
	for _, sel := range strings.Split(s, ",") {
		sel = strings.TrimSpace(sel)
		if sel == "" {
			return "", &cssError{Rule: clip(s), Reason: "empty selector"}
		}
		if !cssSelector.MatchString(sel) {
			return "", &cssError{Rule: clip(sel), Reason: "selectors may only use the banner's classes, pseudo-classes, descendant and child combinators"}
		}
		var canon strings.Builder
		needClass := true
		for _, part := range cssSelPart.FindAllString(sel, -1) {
			switch {
			case strings.HasPrefix(part, "."):
				if !slices.Contains(bannerClasses, part[1:]) {
					return "", &cssError{Rule: clip(sel), Reason: fmt.Sprintf("class %q is not one of the banner's classes", part[1:])}
				}
				canon.WriteString(part)
				needClass = false
			case strings.HasPrefix(part, ":"):
				if needClass {
					return "", &cssError{Rule: clip(sel), Reason: "a pseudo-class must follow a class"}
				}
				if !slices.Contains(bannerPseudoClasses, part[1:]) {
					return "", &cssError{Rule: clip(sel), Reason: fmt.Sprintf("pseudo-class %q is not allowed", part)}
				}
				canon.WriteString(part)
			default:
				if needClass {
					return "", &cssError{Rule: clip(sel), Reason: "a combinator must join two classes"}
				}
				if strings.Contains(part, ">") {
					canon.WriteString(" > ")
				} else {
					canon.WriteString(" ")
				}
				needClass = true
			}
		}
		if needClass {
			return "", &cssError{Rule: clip(sel), Reason: "a selector must end with a class"}
		}
		out = append(out, canon.String())
	}
	return strings.Join(out, ", "), nil
}

func canonicalDeclarations(body string) ([]string, error) {
	var out []string
	for _, decl := range splitDeclarations(body) {
		decl = strings.TrimSpace(decl)
		if decl == "" {
			continue
		}
		name, value, ok := strings.Cut(decl, ":")
		if !ok {
			return nil, &cssError{Rule: clip(decl), Reason: "expected property: value"}
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.Join(strings.Fields(value), " ")
		if !cssIdent.MatchString(name) || !bannerProperties[name] {
			return nil, &cssError{Rule: clip(decl), Reason: fmt.Sprintf("property %q is not allowed", name)}
		}
		important := false
		if v, ok := strings.CutSuffix(value, "!important"); ok {
			value, important = strings.TrimSpace(v), true
		}
		if err := checkCSSValue(value); err != "" {
			return nil, &cssError{Rule: clip(decl), Reason: err}
		}
		if important {
			value += " !important"
		}
		out = append(out, name+": "+value)
	}
	return out, nil
}

// splitDeclarations splits on ";" outside strings (cssBlock has checked
// that strings are closed).
func splitDeclarations(s string) []string {
	var parts []string
	var quote rune
	start := 0
	for i, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ';':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// checkCSSValue returns why value is refused, or "".
func checkCSSValue(value string) string {
	if value == "" {
		return "empty value"
	}
	if len(value) > 256 {
		return "value longer than 256 bytes"
	}
	lower := strings.ToLower(value)
	if strings.Contains(lower, "url(") {
		return "url() is not allowed"
	}
	if strings.Contains(lower, "expression") {
		return "scripts are not allowed"
	}
	if !cssValueChar.MatchString(value) {
		return "value may only hold words, numbers, lengths, colours, strings and rgb()/hsl()"
	}
	depth := 0
	for _, c := range value {
		switch c {
		case '(':
			depth++
			if depth > 1 {
				return "nested functions are not allowed"
			}
		case ')':
			depth--
			if depth < 0 {
				return "unbalanced parentheses"
			}
		}
	}
	if depth != 0 {
		return "unbalanced parentheses"
	}
	for _, m := range cssFunction.FindAllStringSubmatch(value, -1) {
		fn := strings.ToLower(m[1])
		if fn == "url" {
			return "url() is not allowed"
		}
		if !slices.Contains(bannerFunctions, fn) {
			return fmt.Sprintf("function %s() is not allowed (only rgb, rgba, hsl, hsla)", fn)
		}
	}
	return ""
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
