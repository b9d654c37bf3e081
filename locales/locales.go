// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package locales holds every user-facing string of Offen, in English, German,
// French, Spanish, Portuguese and Vietnamese, and serves them to Go (e-mails,
// server pages, the command line) and, through Catalog, to JavaScript.
//
// # Files
//
// Translations are gettext .po files, one per domain and language:
// locales/<domain>/<lang>.po. The domains are vault, auditorium, mail and
// server; every domain has one file for each language of Languages. msgids are
// dotted keys, prefixed with the domain by convention ("mail.reset.subject");
// the English text is the msgstr of en.po, which is the reference set of keys
// for its domain. A key may exist in one domain only. Placeholders are written
// {name} and filled from the args of Translate. Every file has a Plural-Forms
// header, for example
//
//	"Plural-Forms: nplurals=2; plural=(n != 1);\n"
//
// # Adding strings
//
// Add the key with its English text to <domain>/en.po and the same key with a
// real translation to the five other files of that domain, keeping the
// placeholders. locales_test.go fails on a missing or extra key, different
// placeholders, an empty msgstr or a missing Plural-Forms header.
//
// # Plurals
//
// A plural entry has msgid_plural (by convention the key again) and one
// msgstr[n] per form of the language:
//
//	msgid "mail.shared.subject"
//	msgid_plural "mail.shared.subject"
//	msgstr[0] "An account was shared with you"
//	msgstr[1] "{count} accounts were shared with you"
//
// Translate picks the form from args["count"]. Catalog exposes each form under
// key + "[" + CLDR category + "]" ("mail.shared.subject[one]",
// "mail.shared.subject[other]") and the most general form under the bare key,
// so JavaScript selects with
//
//	catalog[key + "[" + new Intl.PluralRules(lang).select(n) + "]"] ?? catalog[key]
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:embed */*.po
var files embed.FS

// Fallback is the language used for unknown languages and missing keys.
const Fallback = "en"

// languages are the supported languages, Fallback first.
var languages = []string{"en", "de", "fr", "es", "pt", "vi"}

// Bundle holds the parsed translations of every domain. It is safe for
// concurrent use and never changes after New.
type Bundle struct {
	catalogs map[string]*catalog
}

type catalog struct {
	rule     pluralRule
	messages map[string][]string // key -> msgstr (one) or msgstr[n] (plural)
	plural   map[string]bool
	flat     map[string]string // the view returned by Catalog
}

// New parses the embedded .po files. It returns an error when a file cannot be
// parsed, a domain lacks a language or has an unknown one, a Plural-Forms
// header is missing or unsupported, or a key appears in two domains.
func New() (*Bundle, error) {
	return newBundle(files)
}

func newBundle(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{catalogs: map[string]*catalog{}}
	for _, lang := range languages {
		b.catalogs[lang] = &catalog{messages: map[string][]string{}, plural: map[string]bool{}}
	}
	domains, err := domainsOf(fsys)
	if err != nil {
		return nil, err
	}
	owner := map[string]string{} // key -> domain, per language below
	for _, domain := range domains {
		for _, lang := range languages {
			name := path.Join(domain, lang+".po")
			po, err := readPO(fsys, name)
			if err != nil {
				return nil, err
			}
			rule, err := parsePluralForms(po.Header["Plural-Forms"])
			if err != nil {
				return nil, fmt.Errorf("locales: %s: %w", name, err)
			}
			c := b.catalogs[lang]
			if c.rule.index != nil && c.rule.expr != rule.expr {
				return nil, fmt.Errorf("locales: %s: Plural-Forms differs from other domains of %s", name, lang)
			}
			c.rule = rule
			for _, e := range po.Entries {
				if d, ok := owner[lang+"\x00"+e.ID]; ok {
					return nil, fmt.Errorf("locales: %s: key %q also in domain %s", name, e.ID, d)
				}
				owner[lang+"\x00"+e.ID] = domain
				if e.Plural != "" && len(e.Str) != rule.nplurals {
					return nil, fmt.Errorf("locales: %s:%d: %q has %d forms, want %d", name, e.Line, e.ID, len(e.Str), rule.nplurals)
				}
				c.messages[e.ID] = e.Str
				c.plural[e.ID] = e.Plural != ""
			}
		}
	}
	for _, c := range b.catalogs {
		c.flat = map[string]string{}
		for key, forms := range c.messages {
			if !c.plural[key] {
				c.flat[key] = forms[0]
				continue
			}
			for i, form := range forms {
				c.flat[key+"["+c.rule.categories[i]+"]"] = form
			}
			c.flat[key] = forms[len(forms)-1]
		}
	}
	return b, nil
}

// domainsOf lists the top-level directories holding .po files and checks that
// each has exactly the supported languages.
func domainsOf(fsys fs.FS) ([]string, error) {
	matches, err := fs.Glob(fsys, "*/*.po")
	if err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	seen := map[string]bool{}
	var domains []string
	for _, m := range matches {
		domain, file := path.Split(m)
		domain = strings.TrimSuffix(domain, "/")
		if lang := strings.TrimSuffix(file, ".po"); !slices.Contains(languages, lang) {
			return nil, fmt.Errorf("locales: %s: unsupported language %q", m, lang)
		}
		if !seen[domain] {
			seen[domain] = true
			domains = append(domains, domain)
		}
	}
	sort.Strings(domains)
	return domains, nil
}

func readPO(fsys fs.FS, name string) (*poFile, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	defer f.Close()
	po, err := parsePO(f)
	if err != nil {
		return nil, fmt.Errorf("locales: %s: %w", name, err)
	}
	return po, nil
}

// Languages returns the supported language codes, "en" first. The slice is a
// copy.
func (b *Bundle) Languages() []string {
	return slices.Clone(languages)
}

// Translate returns the text of key in lang with each {name} placeholder
// replaced by args[name]; placeholders without an arg stay as they are. An
// unknown lang falls back to English, and a key missing from lang too; a key
// missing from English is returned as is. A regional lang ("de-AT", "pt_BR")
// uses its base language. For plural entries args["count"]
// (a decimal integer) selects the form; without it the most general form is
// used.
func (b *Bundle) Translate(lang, key string, args map[string]string) string {
	c := b.catalog(lang)
	forms, ok := c.messages[key]
	if !ok {
		c = b.catalogs[Fallback]
		if forms, ok = c.messages[key]; !ok {
			return key
		}
	}
	text := forms[0]
	if c.plural[key] {
		text = forms[len(forms)-1]
		if n, err := strconv.Atoi(args["count"]); err == nil {
			text = forms[c.rule.index(n)]
		}
	}
	return fill(text, args)
}

// Catalog returns every key of every domain for lang (its base language for
// a regional one, English for an unknown one) as a fresh map, ready to be encoded as JSON. Plural entries appear as
// key + "[one]", key + "[other]" (the CLDR categories of the language's forms)
// and, with the most general form, as the bare key.
func (b *Bundle) Catalog(lang string) map[string]string {
	return maps.Clone(b.catalog(lang).flat)
}

// catalog returns the catalog of lang, of its base language ("de-AT" -> "de")
// or of Fallback.
func (b *Bundle) catalog(lang string) *catalog {
	if c, ok := b.catalogs[lang]; ok {
		return c
	}
	if c, ok := b.catalogs[Match(lang)]; ok {
		return c
	}
	return b.catalogs[Fallback]
}

// Match picks the supported language that best fits an Accept-Language header
// ("de-CH,de;q=0.9,en;q=0.5"), a ?locale= parameter or a data-locale value
// ("pt_BR", "fr"). Region subtags are ignored. It returns "" when nothing
// matches, so that the caller can fall back to the instance default.
func Match(acceptLanguageOrParam string) string {
	type choice struct {
		lang string
		q    float64
	}
	var choices []choice
	for _, part := range strings.Split(acceptLanguageOrParam, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		tag, _, _ = strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.TrimSpace(name) == "q" {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					v = 0
				}
				q = v
			}
		}
		if q > 0 && slices.Contains(languages, tag) {
			choices = append(choices, choice{tag, q})
		}
	}
	if len(choices) == 0 {
		return ""
	}
	sort.SliceStable(choices, func(i, j int) bool { return choices[i].q > choices[j].q })
	return choices[0].lang
}

// fill replaces {name} placeholders with args[name].
func fill(text string, args map[string]string) string {
	if len(args) == 0 || !strings.Contains(text, "{") {
		return text
	}
	var b strings.Builder
	for {
		start := strings.IndexByte(text, '{')
		if start < 0 {
			break
		}
		end := strings.IndexByte(text[start:], '}')
		if end < 0 {
			break
		}
		name := text[start+1 : start+end]
		value, ok := args[name]
		if !ok || !isPlaceholderName(name) {
			b.WriteString(text[:start+1])
			text = text[start+1:]
			continue
		}
		b.WriteString(text[:start])
		b.WriteString(value)
		text = text[start+end+1:]
	}
	b.WriteString(text)
	return b.String()
}

func isPlaceholderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
