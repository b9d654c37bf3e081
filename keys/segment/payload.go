// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrUnreadable marks an event plaintext the dashboard counts as unreadable.
var ErrUnreadable = errors.New("segment: unreadable event")

const (
	maxHref      = 2048
	maxSessionID = 128
	// timestamps in ms beyond ±2^51 (the year 71,000) go to the extras,
	// so that the delta to the event id time fits a 53-bit varint
	maxTimestamp = 1 << 51
	isoLayout    = "2006-01-02T15:04:05.000Z"
)

// FromPlaintext turns a decrypted event plaintext into the record a segment
// holds. It returns an error wrapping ErrUnreadable where the dashboard's
// validatePayload (auditorium/src/metrics/normalize.js) returns null: not a
// JSON object, v not 1, type not a string, and for PAGEVIEW an href that is
// not an http(s) URL of 1–2048 characters, a timestamp that is not a time,
// or a sessionId that is not a string of 1–128 characters. Events of other
// types are records (readers ignore types they do not count). Go parses
// hrefs with net/url and timestamps as RFC 3339 or a date, where the browser
// uses the WHATWG URL parser and Date.parse: for what the script sends they
// agree.
func FromPlaintext(eventID, secretID, keyID string, plaintext []byte) (Record, error) {
	var m map[string]any
	if err := json.Unmarshal(plaintext, &m); err != nil || m == nil {
		return Record{}, fmt.Errorf("%w: not a JSON object", ErrUnreadable)
	}
	if err := validate(m); err != nil {
		return Record{}, err
	}
	p, err := PayloadFromMap(m)
	if err != nil {
		return Record{}, err
	}
	return Record{EventID: eventID, SecretID: secretID, KeyID: keyID, Payload: p}, nil
}

// jsLen is the length of s in UTF-16 code units, as JavaScript counts it.
func jsLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func validate(m map[string]any) error {
	if v, ok := m["v"].(float64); !ok || v != 1 {
		return fmt.Errorf("%w: v is not 1", ErrUnreadable)
	}
	typ, ok := m["type"].(string)
	if !ok {
		return fmt.Errorf("%w: type is not a string", ErrUnreadable)
	}
	if typ != "PAGEVIEW" {
		return nil
	}
	href, _ := m["href"].(string)
	if n := jsLen(href); n == 0 || n > maxHref {
		return fmt.Errorf("%w: href", ErrUnreadable)
	}
	u, err := url.Parse(href)
	if err != nil || (strings.ToLower(u.Scheme) != "http" && strings.ToLower(u.Scheme) != "https") || u.Host == "" {
		return fmt.Errorf("%w: href is not an http(s) URL", ErrUnreadable)
	}
	switch ts := m["timestamp"].(type) {
	case float64:
	case string:
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			if _, err := time.Parse(time.DateOnly, ts); err != nil {
				return fmt.Errorf("%w: timestamp", ErrUnreadable)
			}
		}
	default:
		return fmt.Errorf("%w: timestamp", ErrUnreadable)
	}
	if sid, present := m["sessionId"]; present && sid != nil {
		s, ok := sid.(string)
		if n := jsLen(s); !ok || n == 0 || n > maxSessionID {
			return fmt.Errorf("%w: sessionId", ErrUnreadable)
		}
	}
	return nil
}

// PayloadFromMap sorts the fields of a plaintext (as encoding/json decodes it
// into a map) into columns and extras. v must be 1 and type a string. A
// field goes to its column when its value has the column's form; null is the
// same as absent; anything else goes to Extras:
//   - strings (href, rawHref, referrer, sessionId, geo, name, target,
//     browser, os, device, screen): any string;
//   - timestamp: an integer of at most 2^51 ms, or a string in the form of
//     toISOString ("2026-11-22T05:00:00.000Z"), stored as ms;
//   - pageload: a positive number of at most 2^53 - 1, rounded to whole ms
//     (at least 1);
//   - isMobile, notFound: booleans;
//   - props: an object of at most 64 entries, each a string or a number.
func PayloadFromMap(m map[string]any) (Payload, error) {
	if v, ok := m["v"].(float64); !ok || v != 1 {
		return Payload{}, fmt.Errorf("%w: v is not 1", ErrUnreadable)
	}
	p := Payload{V: 1}
	var ok bool
	if p.Type, ok = m["type"].(string); !ok {
		return Payload{}, fmt.Errorf("%w: type is not a string", ErrUnreadable)
	}
	extra := func(k string, v any) {
		if p.Extras == nil {
			p.Extras = map[string]any{}
		}
		p.Extras[k] = v
	}
	for k, v := range m {
		if sp := p.stringField(k); sp != nil {
			switch s := v.(type) {
			case nil:
			case string:
				*sp = &s
			default:
				extra(k, v)
			}
			continue
		}
		switch k {
		case "v", "type":
		case "timestamp":
			if ms, ok := timestampMS(v); ok {
				p.Timestamp = &ms
			} else if v != nil {
				extra(k, v)
			}
		case "pageload":
			if f, ok := v.(float64); ok && f > 0 && f <= maxSafe {
				p.Pageload = max(1, int64(math.Round(f)))
			} else if v != nil {
				extra(k, v)
			}
		case "isMobile", "notFound":
			bp := &p.IsMobile
			if k == "notFound" {
				bp = &p.NotFound
			}
			if b, ok := v.(bool); ok {
				*bp = &b
			} else if v != nil {
				extra(k, v)
			}
		case "props":
			if props, ok := propsOf(v); ok {
				p.Props = props
			} else if v != nil {
				extra(k, v)
			}
		default:
			extra(k, v)
		}
	}
	return p, nil
}

func timestampMS(v any) (int64, bool) {
	switch t := v.(type) {
	case float64:
		if t == math.Trunc(t) && math.Abs(t) <= maxTimestamp {
			return int64(t), true
		}
	case string:
		if tm, err := time.Parse(isoLayout, t); err == nil && tm.Format(isoLayout) == t {
			return tm.UnixMilli(), true
		}
	}
	return 0, false
}

func propsOf(v any) ([]Prop, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) > maxProps {
		return nil, false
	}
	props := make([]Prop, 0, len(m))
	for k, x := range m {
		switch x := x.(type) {
		case string:
			props = append(props, Prop{Key: k, Str: x})
		case float64:
			props = append(props, Prop{Key: k, Num: x, IsNum: true})
		default:
			return nil, false
		}
	}
	sort.Slice(props, func(i, j int) bool { return props[i].Key < props[j].Key })
	return props, true
}

// stringField returns the field of a string column named k, or nil.
func (p *Payload) stringField(k string) **string {
	switch k {
	case "href":
		return &p.Href
	case "rawHref":
		return &p.RawHref
	case "referrer":
		return &p.Referrer
	case "sessionId":
		return &p.SessionID
	case "geo":
		return &p.Geo
	case "name":
		return &p.Name
	case "target":
		return &p.Target
	case "browser":
		return &p.Browser
	case "os":
		return &p.OS
	case "device":
		return &p.Device
	case "screen":
		return &p.Screen
	}
	return nil
}

var stringFields = []string{"href", "rawHref", "referrer", "sessionId", "geo", "name", "target", "browser", "os", "device", "screen"}

// Map returns the payload as a plaintext object: what JSON encoding gives
// the dashboard, with timestamp in ms and the extras merged in.
func (p Payload) Map() map[string]any {
	m := map[string]any{"v": p.V, "type": p.Type}
	for _, k := range stringFields {
		if s := *p.stringField(k); s != nil {
			m[k] = *s
		}
	}
	if p.Timestamp != nil {
		m["timestamp"] = *p.Timestamp
	}
	if p.Pageload != 0 {
		m["pageload"] = p.Pageload
	}
	if p.IsMobile != nil {
		m["isMobile"] = *p.IsMobile
	}
	if p.NotFound != nil {
		m["notFound"] = *p.NotFound
	}
	if p.Props != nil {
		props := make(map[string]any, len(p.Props))
		for _, e := range p.Props {
			if e.IsNum {
				props[e.Key] = e.Num
			} else {
				props[e.Key] = e.Str
			}
		}
		m["props"] = props
	}
	for k, v := range p.Extras {
		m[k] = v
	}
	return m
}

// MarshalJSON writes Map().
func (p Payload) MarshalJSON() ([]byte, error) { return json.Marshal(p.Map()) }

// canonicalJSON writes a JSON value as JavaScript's JSON.stringify does, with
// object keys sorted by code point, so that Go and JavaScript write the same
// extras.
func canonicalJSON(v any) (string, error) {
	var sb strings.Builder
	if err := writeCanonical(&sb, v); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func writeCanonical(sb *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		sb.WriteString("null")
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("number not finite")
		}
		if x == 0 {
			x = 0 // -0 is "0" in JSON.stringify
		}
		b, _ := json.Marshal(x) // encoding/json formats numbers as ECMAScript does
		sb.Write(b)
	case string:
		writeJSString(sb, x)
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			if err := writeCanonical(sb, e); err != nil {
				return err
			}
		}
		sb.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // byte order of UTF-8 is code point order
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSString(sb, k)
			sb.WriteByte(':')
			if err := writeCanonical(sb, x[k]); err != nil {
				return err
			}
		}
		sb.WriteByte('}')
	default:
		return fmt.Errorf("%T is not a JSON value", v)
	}
	return nil
}

// writeJSString quotes s as JSON.stringify does: only ", \ and control
// characters are escaped.
func writeJSString(sb *strings.Builder, s string) {
	const hexDigits = "0123456789abcdef"
	sb.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				sb.WriteByte(c)
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			sb.WriteRune(r) // invalid UTF-8 becomes U+FFFD, as TextEncoder writes it
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			sb.WriteString(`\u00`)
			sb.WriteByte(hexDigits[c>>4])
			sb.WriteByte(hexDigits[c&15])
		}
		i++
	}
	sb.WriteByte('"')
}
