// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package locales

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// TestParity is the guard every translator runs into: each domain's files
// must carry exactly the keys of its en.po, with the same placeholders, no
// empty translation and a supported Plural-Forms header.
func TestParity(t *testing.T) {
	for _, err := range checkParity(files) {
		t.Error(err)
	}
	if _, err := New(); err != nil {
		t.Fatalf("New: %v", err)
	}
}

// checkParity compares every .po file of a domain with that domain's en.po.
// Domains are found by listing, so new domains are checked without changes
// here.
func checkParity(fsys fs.FS) []error {
	var errs []error
	report := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	domains, err := fs.Glob(fsys, "*")
	if err != nil {
		return []error{err}
	}
	ruleOf := map[string]string{} // lang -> "domain: expr" of the first domain
	for _, domain := range domains {
		if st, err := fs.Stat(fsys, domain); err != nil || !st.IsDir() {
			continue
		}
		parsed := map[string]*poFile{}
		rules := map[string]pluralRule{}
		for _, lang := range languages {
			name := path.Join(domain, lang+".po")
			po, err := readPO(fsys, name)
			if err != nil {
				report("%v", err)
				continue
			}
			rule, err := parsePluralForms(po.Header["Plural-Forms"])
			if err != nil {
				report("%s: %v", name, err)
				continue
			}
			parsed[lang], rules[lang] = po, rule
			if first, ok := ruleOf[lang]; !ok {
				ruleOf[lang] = domain + ": " + rule.expr
			} else if _, expr, _ := strings.Cut(first, ": "); expr != rule.expr {
				report("%s: plural rule %s differs from %s", name, rule.expr, first)
			}
		}
		others, _ := fs.Glob(fsys, path.Join(domain, "*"))
		for _, other := range others {
			if lang := strings.TrimSuffix(path.Base(other), ".po"); !slices.Contains(languages, lang) {
				report("%s: not a supported language file", other)
			}
		}
		en, ok := parsed[Fallback]
		if !ok {
			continue
		}
		want := map[string]poEntry{}
		for _, e := range en.Entries {
			want[e.ID] = e
		}
		for _, lang := range languages {
			po, ok := parsed[lang]
			if !ok {
				continue
			}
			name := path.Join(domain, lang+".po")
			got := map[string]bool{}
			for _, e := range po.Entries {
				got[e.ID] = true
				ref, ok := want[e.ID]
				if !ok {
					report("%s:%d: extra key %q (not in en.po)", name, e.Line, e.ID)
					continue
				}
				for i, s := range e.Str {
					if strings.TrimSpace(s) == "" {
						report("%s:%d: empty translation of %q (form %d)", name, e.Line, e.ID, i)
					}
				}
				if (e.Plural != "") != (ref.Plural != "") {
					report("%s:%d: %q is plural in one of en.po and %s.po only", name, e.Line, e.ID, lang)
					continue
				}
				if e.Plural != "" && len(e.Str) != rules[lang].nplurals {
					report("%s:%d: %q has %d forms, Plural-Forms says %d", name, e.Line, e.ID, len(e.Str), rules[lang].nplurals)
				}
				// Plural forms may drop {count} in the singular, so compare
				// the union of placeholders over all forms.
				if g, w := placeholdersOf(e.Str), placeholdersOf(ref.Str); !slices.Equal(g, w) {
					report("%s:%d: %q has placeholders %v, en.po has %v", name, e.Line, e.ID, g, w)
				}
			}
			for _, e := range en.Entries {
				if !got[e.ID] {
					report("%s: missing key %q", name, e.ID)
				}
			}
		}
	}
	return errs
}

// placeholdersOf returns the sorted distinct {name} placeholders of texts.
func placeholdersOf(texts []string) []string {
	var names []string
	for _, text := range texts {
		for {
			start := strings.IndexByte(text, '{')
			if start < 0 {
				break
			}
			end := strings.IndexByte(text[start:], '}')
			if end < 0 {
				break
			}
			if name := text[start+1 : start+end]; isPlaceholderName(name) {
				if !slices.Contains(names, name) {
					names = append(names, name)
				}
				text = text[start+end+1:]
				continue
			}
			text = text[start+1:]
		}
	}
	sort.Strings(names)
	return names
}

const (
	header2 = "msgid \"\"\nmsgstr \"\"\n\"Plural-Forms: nplurals=2; plural=(n != 1);\\n\"\n\n"
	header1 = "msgid \"\"\nmsgstr \"\"\n\"Plural-Forms: nplurals=1; plural=0;\\n\"\n\n"
	goodEN  = header2 + "msgid \"x.hello\"\nmsgstr \"Hello {name}\"\n\n" +
		"msgid \"x.items\"\nmsgid_plural \"x.items\"\nmsgstr[0] \"One item\"\nmsgstr[1] \"{count} items\"\n"
)

// fixture is a domain "x" whose six files are good; edit replaces one of them.
func fixture(edit map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, lang := range languages {
		body := goodEN
		if lang == "vi" {
			body = header1 + "msgid \"x.hello\"\nmsgstr \"Xin chào {name}\"\n\n" +
				"msgid \"x.items\"\nmsgid_plural \"x.items\"\nmsgstr[0] \"{count} mục\"\n"
		}
		fsys["x/"+lang+".po"] = &fstest.MapFile{Data: []byte(body)}
	}
	for name, body := range edit {
		if body == "" {
			delete(fsys, name)
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

func TestCheckParityFindsProblems(t *testing.T) {
	plural := "\nmsgid \"x.items\"\nmsgid_plural \"x.items\"\nmsgstr[0] \"Ein Ding\"\nmsgstr[1] \"{count} Dinge\"\n"
	tests := []struct {
		name string
		edit map[string]string
		want string // substring of one reported error; "" means no error
	}{
		{"good files", nil, ""},
		{"missing key", map[string]string{"x/de.po": header2 + plural}, `missing key "x.hello"`},
		{"extra key", map[string]string{"x/de.po": header2 + "msgid \"x.hello\"\nmsgstr \"Hallo {name}\"\n\nmsgid \"x.bye\"\nmsgstr \"Tschüss\"\n" + plural}, `extra key "x.bye"`},
		{"placeholder renamed", map[string]string{"x/de.po": header2 + "msgid \"x.hello\"\nmsgstr \"Hallo {nom}\"\n" + plural}, "placeholders [nom]"},
		{"placeholder dropped", map[string]string{"x/de.po": header2 + "msgid \"x.hello\"\nmsgstr \"Hallo\"\n" + plural}, "placeholders []"},
		{"plural placeholder dropped", map[string]string{"x/de.po": header2 + "msgid \"x.hello\"\nmsgstr \"Hallo {name}\"\n\nmsgid \"x.items\"\nmsgid_plural \"x.items\"\nmsgstr[0] \"Ein Ding\"\nmsgstr[1] \"Dinge\"\n"}, `"x.items" has placeholders []`},
		{"empty translation", map[string]string{"x/de.po": header2 + "msgid \"x.hello\"\nmsgstr \"\"\n" + plural}, "empty translation"},
		{"empty plural form", map[string]string{"x/de.po": header2 + "msgid \"x.hello\"\nmsgstr \"Hallo {name}\"\n\nmsgid \"x.items\"\nmsgid_plural \"x.items\"\nmsgstr[0] \"\"\nmsgstr[1] \"{count} Dinge\"\n"}, "empty translation"},
		{"missing Plural-Forms", map[string]string{"x/de.po": "msgid \"\"\nmsgstr \"Language: de\\n\"\n\nmsgid \"x.hello\"\nmsgstr \"Hallo {name}\"\n" + plural}, "missing Plural-Forms"},
		{"no header at all", map[string]string{"x/de.po": "msgid \"x.hello\"\nmsgstr \"Hallo {name}\"\n" + plural}, "missing Plural-Forms"},
		{"wrong number of forms", map[string]string{"x/vi.po": header1 + "msgid \"x.hello\"\nmsgstr \"Xin chào {name}\"\n" + plural}, "has 2 forms"},
		{"plural only in en", map[string]string{"x/de.po": header2 + "msgid \"x.hello\"\nmsgstr \"Hallo {name}\"\n\nmsgid \"x.items\"\nmsgstr \"{count} Dinge\"\n"}, "plural in one of"},
		{"missing language file", map[string]string{"x/pt.po": ""}, "x/pt.po"},
		{"unknown language file", map[string]string{"x/xx.po": goodEN}, "x/xx.po: not a supported language"},
		{"plural rule differs between domains", map[string]string{"y/en.po": goodEN, "y/de.po": goodEN, "y/fr.po": strings.Replace(goodEN, "n != 1", "n > 1", 1), "y/es.po": goodEN, "y/pt.po": goodEN, "y/vi.po": strings.Replace(goodEN, "n != 1", "n > 1", 1)}, "y/fr.po: plural rule n>1 differs from x: n!=1"},
		{"syntax error", map[string]string{"x/de.po": header2 + "msgid \"x.hello\nmsgstr \"Hallo\"\n"}, "malformed string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := checkParity(fixture(tt.edit))
			if tt.want == "" {
				if len(errs) > 0 {
					t.Fatalf("got %v, want no errors", errs)
				}
				return
			}
			for _, err := range errs {
				if strings.Contains(err.Error(), tt.want) {
					return
				}
			}
			t.Fatalf("got %v, want an error containing %q", errs, tt.want)
		})
	}
}

func TestParsePO(t *testing.T) {
	src := "# comment\n#, fuzzy\nmsgid \"\"\nmsgstr \"\"\n\"Language: de\\n\"\n\"Plural-Forms: nplurals=2; plural=(n != 1);\\n\"\n\n" +
		"msgid \"a.b\"\nmsgstr \"\"\n\"first \\\"quoted\\\" \"\n\"second\\\\line\\nnext\\ttab\"\n\n" +
		"msgid \"a.c\"\nmsgid_plural \"a.c\"\nmsgstr[0] \"one\"\nmsgstr[1] \"many\"\n"
	po, err := parsePO(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := po.Header["Plural-Forms"], "nplurals=2; plural=(n != 1);"; got != want {
		t.Errorf("got header %q, want %q", got, want)
	}
	if got, want := len(po.Entries), 2; got != want {
		t.Fatalf("got %d entries, want %d", got, want)
	}
	if got, want := po.Entries[0].Str[0], "first \"quoted\" second\\line\nnext\ttab"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := po.Entries[1].Str, []string{"one", "many"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	for name, bad := range map[string]string{
		"duplicate":       "msgid \"a\"\nmsgstr \"x\"\n\nmsgid \"a\"\nmsgstr \"y\"\n",
		"msgctxt":         "msgctxt \"c\"\nmsgid \"a\"\nmsgstr \"x\"\n",
		"no msgstr":       "msgid \"a\"\n\nmsgid \"b\"\nmsgstr \"x\"\n",
		"skipped form":    "msgid \"a\"\nmsgid_plural \"a\"\nmsgstr[1] \"x\"\n",
		"bad escape":      "msgid \"a\"\nmsgstr \"\\q\"\n",
		"orphan string":   "\"x\"\n",
		"forms, singular": "msgid \"a\"\nmsgstr[0] \"x\"\n",
	} {
		if _, err := parsePO(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}

func TestTranslate(t *testing.T) {
	b, err := newBundle(fixture(nil))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, key string
		args      map[string]string
		want      string
	}{
		{"en", "x.hello", map[string]string{"name": "Ada"}, "Hello Ada"},
		{"vi", "x.hello", map[string]string{"name": "Ada"}, "Xin chào Ada"},
		{"xx", "x.hello", map[string]string{"name": "Ada"}, "Hello Ada"},
		{"vi-VN", "x.hello", map[string]string{"name": "Ada"}, "Xin chào Ada"},
		{"en", "x.hello", nil, "Hello {name}"},
		{"en", "x.hello", map[string]string{"name": "{name}"}, "Hello {name}"},
		{"en", "x.missing", nil, "x.missing"},
		{"en", "x.items", map[string]string{"count": "1"}, "One item"},
		{"en", "x.items", map[string]string{"count": "0"}, "0 items"},
		{"en", "x.items", map[string]string{"count": "3"}, "3 items"},
		{"en", "x.items", nil, "{count} items"},
		{"vi", "x.items", map[string]string{"count": "1"}, "1 mục"},
	}
	for _, tt := range tests {
		if got := b.Translate(tt.lang, tt.key, tt.args); got != tt.want {
			t.Errorf("Translate(%q, %q, %v): got %q, want %q", tt.lang, tt.key, tt.args, got, tt.want)
		}
	}
}

func TestFrenchPlural(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]string{"0": "Un compte", "1": "Un compte", "2": "2 comptes"} {
		if got := b.Translate("fr", "mail.shared.subject", map[string]string{"count": n}); !strings.HasPrefix(got, want) {
			t.Errorf("count %s: got %q, want prefix %q", n, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	b, err := newBundle(fixture(nil))
	if err != nil {
		t.Fatal(err)
	}
	en := b.Catalog("en")
	want := map[string]string{
		"x.hello":        "Hello {name}",
		"x.items":        "{count} items",
		"x.items[one]":   "One item",
		"x.items[other]": "{count} items",
	}
	if len(en) != len(want) {
		t.Errorf("got %v, want %v", en, want)
	}
	for k, v := range want {
		if en[k] != v {
			t.Errorf("en[%q]: got %q, want %q", k, en[k], v)
		}
	}
	vi := b.Catalog("vi")
	if got, want := vi["x.items[other]"], "{count} mục"; got != want {
		t.Errorf("vi plural: got %q, want %q", got, want)
	}
	if _, ok := vi["x.items[one]"]; ok {
		t.Error("vi has a [one] form, want only [other]")
	}
	if got, want := b.Catalog("xx")["x.hello"], "Hello {name}"; got != want {
		t.Errorf("unknown language: got %q, want %q", got, want)
	}
	en["x.hello"] = "changed"
	if got := b.Catalog("en")["x.hello"]; got == "changed" {
		t.Error("Catalog returned a shared map")
	}
}

func TestCatalogMergesDomains(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range b.Languages() {
		c := b.Catalog(lang)
		for _, key := range []string{"mail.reset.subject", "server.notfound.title", "mail.shared.subject[other]"} {
			if c[key] == "" {
				t.Errorf("%s: catalog lacks %q", lang, key)
			}
		}
		if lang != "en" && c["mail.reset.subject"] == b.Catalog("en")["mail.reset.subject"] {
			t.Errorf("%s: mail.reset.subject is the English text", lang)
		}
	}
}

func TestNewRejects(t *testing.T) {
	dup := fixture(nil)
	for _, lang := range languages {
		dup["y/"+lang+".po"] = dup["x/"+lang+".po"]
	}
	if _, err := newBundle(dup); err == nil || !strings.Contains(err.Error(), "also in domain") {
		t.Errorf("key in two domains: got %v", err)
	}
	if _, err := newBundle(fixture(map[string]string{"x/fr.po": ""})); err == nil {
		t.Error("missing language file: got no error")
	}
	if _, err := newBundle(fixture(map[string]string{"x/de.po": strings.Replace(goodEN, "n != 1", "n % 10 == 1", 1)})); err == nil {
		t.Error("unsupported plural expression: got no error")
	}
}

func TestMatch(t *testing.T) {
	tests := map[string]string{
		"de":                      "de",
		"pt_BR":                   "pt",
		"FR-ca":                   "fr",
		"de-CH,de;q=0.9,en;q=0.5": "de",
		"ja,en;q=0.5,vi;q=0.8":    "vi",
		"es;q=0.2, fr;q=0.9":      "fr",
		"de;q=0,en":               "en",
		"ja, zh-CN":               "",
		"":                        "",
		"*":                       "",
		"en-US,en;q=0.9":          "en",
		"xx;q=bad,es":             "es",
	}
	for in, want := range tests {
		if got := Match(in); got != want {
			t.Errorf("Match(%q): got %q, want %q", in, got, want)
		}
	}
}

// FuzzParsePO checks that no input makes the parser panic and that whatever
// it accepts is internally consistent.
func FuzzParsePO(f *testing.F) {
	f.Add(goodEN)
	f.Add(header1 + "msgid \"a\"\nmsgid_plural \"a\"\nmsgstr[0] \"x\"\n")
	f.Add("msgid \"a\\\"b\"\nmsgstr \"\"\n\"c\\n\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		po, err := parsePO(strings.NewReader(src))
		if err != nil {
			return
		}
		for _, e := range po.Entries {
			if e.ID == "" || len(e.Str) == 0 || (e.Plural == "" && len(e.Str) != 1) {
				t.Fatalf("inconsistent entry %+v", e)
			}
		}
	})
}
