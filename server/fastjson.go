// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

// jsonScan reads the simple JSON of hot request bodies for fast decoders
// (see fastDecoder): objects, arrays and strings of printable ASCII without
// escapes. Whatever else it meets makes the caller give up, and the body
// goes to encoding/json instead.
type jsonScan struct {
	b []byte
	i int
}

// skipSpace skips JSON whitespace.
func (s *jsonScan) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c, reporting whether c was there.
func (s *jsonScan) consume(c byte) bool {
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// raw skips whitespace and reads a string, returning its bytes (which alias
// the body). ok is false for anything but a string of printable ASCII
// without escapes.
func (s *jsonScan) raw() (b []byte, ok bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			b = s.b[start:s.i]
			s.i++
			return b, true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// str is raw as a string of its own.
func (s *jsonScan) str() (string, bool) {
	b, ok := s.raw()
	return string(b), ok
}

// end skips whitespace and reports whether the body ends there.
func (s *jsonScan) end() bool {
	s.skipSpace()
	return s.i == len(s.b)
}
