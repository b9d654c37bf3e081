// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package locales

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// poEntry is one message of a .po file. For a singular entry Str has one
// element; for a plural entry (msgid_plural present) Str holds msgstr[0..n-1].
type poEntry struct {
	ID     string
	Plural string
	Str    []string
	Line   int
}

// poFile is a parsed .po file: its header fields (from the entry with the
// empty msgid) and its entries in file order.
type poFile struct {
	Header  map[string]string
	Entries []poEntry
}

// parsePO reads the subset of the gettext PO format that our files use:
// comments, msgid, msgid_plural, msgstr, msgstr[n] and continuation lines of
// quoted strings. msgctxt and obsolete (#~) entries are rejected or skipped.
func parsePO(r io.Reader) (*poFile, error) {
	f := &poFile{Header: map[string]string{}}
	var (
		cur     *poEntry
		target  *string // the string that continuation lines extend
		seen    = map[string]bool{}
		header  bool
		lineNo  int
		scanner = bufio.NewScanner(r)
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		e := *cur
		cur, target = nil, nil
		if len(e.Str) == 0 {
			return fmt.Errorf("line %d: msgid %q has no msgstr", e.Line, e.ID)
		}
		if e.Plural == "" && len(e.Str) != 1 {
			return fmt.Errorf("line %d: msgid %q has msgstr[n] but no msgid_plural", e.Line, e.ID)
		}
		if e.ID == "" {
			if header {
				return fmt.Errorf("line %d: second header entry", e.Line)
			}
			header = true
			for _, l := range strings.Split(e.Str[0], "\n") {
				name, value, ok := strings.Cut(l, ":")
				if ok {
					f.Header[strings.TrimSpace(name)] = strings.TrimSpace(value)
				}
			}
			return nil
		}
		if seen[e.ID] {
			return fmt.Errorf("line %d: duplicate msgid %q", e.Line, e.ID)
		}
		seen[e.ID] = true
		f.Entries = append(f.Entries, e)
		return nil
	}
	for scanner.Scan() {
		lineNo++
		line := strings.TrimSpace(scanner.Text())
		switch {
		case line == "":
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		case strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, `"`):
			if target == nil {
				return nil, fmt.Errorf("line %d: string without keyword", lineNo)
			}
			s, err := unquotePO(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			*target += s
			continue
		}
		keyword, rest, _ := strings.Cut(line, " ")
		s, err := unquotePO(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		switch {
		case keyword == "msgid":
			if err := flush(); err != nil {
				return nil, err
			}
			cur = &poEntry{ID: s, Line: lineNo}
			target = &cur.ID
		case keyword == "msgid_plural":
			if cur == nil || len(cur.Str) > 0 {
				return nil, fmt.Errorf("line %d: msgid_plural out of place", lineNo)
			}
			cur.Plural = s
			target = &cur.Plural
		case keyword == "msgstr":
			if cur == nil || cur.Plural != "" || len(cur.Str) > 0 {
				return nil, fmt.Errorf("line %d: msgstr out of place", lineNo)
			}
			cur.Str = append(cur.Str, s)
			target = &cur.Str[0]
		case strings.HasPrefix(keyword, "msgstr[") && strings.HasSuffix(keyword, "]"):
			n, err := strconv.Atoi(keyword[len("msgstr[") : len(keyword)-1])
			if err != nil || cur == nil || cur.Plural == "" || n != len(cur.Str) {
				return nil, fmt.Errorf("line %d: %s out of place", lineNo, keyword)
			}
			cur.Str = append(cur.Str, s)
			target = &cur.Str[n]
		default:
			return nil, fmt.Errorf("line %d: unsupported keyword %q", lineNo, keyword)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return f, nil
}

// unquotePO decodes one C-style quoted PO string.
func unquotePO(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", fmt.Errorf("malformed string %s", s)
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			return "", fmt.Errorf("unescaped quote in %q", s)
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("dangling backslash in %q", s)
		}
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '"', '\\':
			b.WriteByte(s[i])
		default:
			return "", fmt.Errorf("unknown escape \\%c in %q", s[i], s)
		}
	}
	return b.String(), nil
}
