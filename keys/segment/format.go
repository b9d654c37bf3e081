// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"
)

// Version is the plaintext format version Encode writes and Decode reads.
const Version = 1

// MaxSize bounds a segment plaintext, so that its sealed form (4/3 of it in
// base64url) stays below the 64 MiB upload limit of PROTOCOL §13.
const MaxSize = 40 << 20

// maxProps bounds the props of one row; larger objects go to the extras.
const maxProps = 64

// maxSafe is the largest integer both Go and JavaScript represent exactly;
// every uvarint of the format stays at or below it.
const maxSafe = 1<<53 - 1

const magic = "OFSG"

// ErrMalformed marks a plaintext that is not a valid segment; ErrVersion one
// of a format version this package does not know (readers then fall back to
// the raw events of the period).
var (
	ErrMalformed = errors.New("segment: malformed")
	ErrVersion   = errors.New("segment: unknown version")
)

// Segment is the decoded content of one period of one account.
type Segment struct {
	AccountID string
	Period    string
	Version   int
	// Records are the readable events in ascending event id order.
	Records []Record
	// Unreadable are the ids of the events of the period that failed to
	// decrypt or validate, ascending.
	Unreadable []string
}

// Record is one readable event.
type Record struct {
	EventID, SecretID, KeyID string
	Payload                  Payload
}

// Payload is an event plaintext (PROTOCOL §1 and §12) in the form the
// segment stores it. A nil pointer is a field that is absent (or null).
// Values a column cannot hold (a field of another JSON type, a pageload that
// is not positive, a timestamp not in toISOString form) and fields without a
// column are kept in Extras, so that nothing of the plaintext is lost but
// null values and pageload fractions.
type Payload struct {
	V    int // always 1
	Type string
	Href, RawHref, Referrer, SessionID, Geo,
	Name, Target, Browser, OS, Device, Screen *string
	Timestamp *int64 // ms since the epoch
	Pageload  int64  // whole ms, at least 1; 0 is absent
	IsMobile  *bool
	NotFound  *bool
	// Props are sorted by key; nil is absent, empty is {}.
	Props []Prop
	// Extras holds JSON values as encoding/json decodes them into any.
	Extras map[string]any
}

// Prop is one entry of the props of a custom event: a string or a number.
type Prop struct {
	Key   string
	Str   string
	Num   float64
	IsNum bool
}

// string tables, in their order in the format
const (
	tSecret = iota
	tKey    // pairs: keyId and a secretIds index
	tSession
	tHref
	tReferrer
	tGeo
	tType
	tName
	tTarget
	tBrowser
	tOS
	tDevice
	tScreen
	tPropKey
	tPropString
	tExtras
	nTables
)

// New returns the segment of the given records and unreadable ids, both
// sorted by event id, or an error when an id is malformed, repeated or not of
// the period.
func New(accountID, period string, records []Record, unreadable []string) (Segment, error) {
	s := Segment{AccountID: accountID, Period: period, Version: Version, Records: records, Unreadable: unreadable}
	rb, ub, err := s.ids()
	if err != nil {
		return Segment{}, err
	}
	s.Records = permute(s.Records, idOrder(rb))
	s.Unreadable = permute(s.Unreadable, idOrder(ub))
	return s, nil
}

// idOrder returns the indexes of ids in ascending order of the ids.
func idOrder(ids [][16]byte) []int {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return bytes.Compare(ids[order[a]][:], ids[order[b]][:]) < 0 })
	return order
}

func permute[T any](xs []T, order []int) []T {
	out := make([]T, len(xs))
	for i, o := range order {
		out[i] = xs[o]
	}
	return out
}

// ids returns the binary ids of records and unreadable events after checking
// that each lies in the period and none repeats.
func (s Segment) ids() ([][16]byte, [][16]byte, error) {
	start, end, err := PeriodBounds(s.Period)
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[[16]byte]struct{}, len(s.Records)+len(s.Unreadable))
	conv := func(id string) ([16]byte, error) {
		b, err := ULIDBytes(id)
		if err != nil {
			return b, err
		}
		if t := ulidTime(b[:]); t < start.UnixMilli() || t >= end.UnixMilli() {
			return b, fmt.Errorf("%w: event %s is not of period %s", ErrMalformed, id, s.Period)
		}
		if _, dup := seen[b]; dup {
			return b, fmt.Errorf("%w: event %s repeats", ErrMalformed, id)
		}
		seen[b] = struct{}{}
		return b, nil
	}
	rb := make([][16]byte, len(s.Records))
	for i, r := range s.Records {
		if rb[i], err = conv(r.EventID); err != nil {
			return nil, nil, err
		}
	}
	ub := make([][16]byte, len(s.Unreadable))
	for i, id := range s.Unreadable {
		if ub[i], err = conv(id); err != nil {
			return nil, nil, err
		}
	}
	return rb, ub, nil
}

// Coverage returns count and digest of the events the segment covers, as
// the server checks them on upload.
func (s Segment) Coverage() (int, string, error) {
	ids := make([]string, 0, len(s.Records)+len(s.Unreadable))
	for _, r := range s.Records {
		ids = append(ids, r.EventID)
	}
	return Coverage(append(ids, s.Unreadable...))
}

func ulidTime(b []byte) int64 {
	var ms int64
	for i := 0; i < 6; i++ {
		ms = ms<<8 | int64(b[i])
	}
	return ms
}

// tables assigns each distinct string of a table an index in order of first
// appearance, so that Go and JavaScript write the same bytes.
type tables struct {
	idx  [nTables]map[string]int
	list [nTables][]string
	// keys are the (keyId, secretIds index) pairs of the keys table
	keyIdx map[[2]string]int
	keys   []keyEntry
}

type keyEntry struct {
	keyID  string
	secret int
}

func (t *tables) add(tab int, s string) int {
	if t.idx[tab] == nil {
		t.idx[tab] = map[string]int{}
	}
	if i, ok := t.idx[tab][s]; ok {
		return i
	}
	i := len(t.list[tab])
	t.idx[tab][s] = i
	t.list[tab] = append(t.list[tab], s)
	return i
}

func (t *tables) opt(tab int, s *string) uint64 {
	if s == nil {
		return 0
	}
	return uint64(t.add(tab, *s)) + 1
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendStr(b []byte, s string) []byte {
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// Encode writes the version 1 plaintext of a segment (PROTOCOL §13). Rows
// and unreadable ids are written in event id order whatever their order in s.
func Encode(s Segment) ([]byte, error) {
	if s.Version != Version {
		return nil, fmt.Errorf("%w: %d", ErrVersion, s.Version)
	}
	if !utf8.ValidString(s.AccountID) {
		return nil, fmt.Errorf("%w: account id is not UTF-8", ErrMalformed)
	}
	rb, ub, err := s.ids()
	if err != nil {
		return nil, err
	}
	start, _, _ := PeriodBounds(s.Period)
	order, uorder := idOrder(rb), idOrder(ub)

	n := len(order)
	const nCols = 19
	cols := make([][]uint64, nCols)
	for i := range cols {
		cols[i] = make([]uint64, n)
	}
	var props []byte
	t := tables{keyIdx: map[[2]string]int{}}
	prev := start.UnixMilli()
	for row, ri := range order {
		r := &s.Records[ri]
		p := &r.Payload
		if p.V != 1 {
			return nil, fmt.Errorf("%w: event %s: v is %d, want 1", ErrMalformed, r.EventID, p.V)
		}
		id := rb[ri]
		idt := ulidTime(id[:])
		cols[0][row] = uint64(idt - prev)
		prev = idt
		if p.Timestamp != nil {
			d := *p.Timestamp - idt
			if d > 1<<52 || d < -1<<52 || zigzag(d) >= maxSafe {
				return nil, fmt.Errorf("%w: event %s: timestamp out of range", ErrMalformed, r.EventID)
			}
			cols[1][row] = zigzag(d) + 1
		}
		k, ok := t.keyIdx[[2]string{r.KeyID, r.SecretID}]
		if !ok {
			k = len(t.keys)
			t.keyIdx[[2]string{r.KeyID, r.SecretID}] = k
			t.keys = append(t.keys, keyEntry{r.KeyID, t.add(tSecret, r.SecretID)})
		}
		cols[2][row] = uint64(k)
		cols[3][row] = t.opt(tSession, p.SessionID)
		cols[4][row] = uint64(t.add(tType, p.Type))
		cols[5][row] = t.opt(tHref, p.Href)
		cols[6][row] = t.opt(tHref, p.RawHref)
		cols[7][row] = t.opt(tReferrer, p.Referrer)
		if p.Pageload < 0 || p.Pageload > maxSafe {
			return nil, fmt.Errorf("%w: event %s: pageload out of range", ErrMalformed, r.EventID)
		}
		cols[8][row] = uint64(p.Pageload)
		cols[9][row] = t.opt(tGeo, p.Geo)
		cols[10][row] = tri(p.IsMobile) | tri(p.NotFound)<<2
		cols[11][row] = t.opt(tName, p.Name)
		cols[12][row] = t.opt(tTarget, p.Target)
		cols[13][row] = t.opt(tBrowser, p.Browser)
		cols[14][row] = t.opt(tOS, p.OS)
		cols[15][row] = t.opt(tDevice, p.Device)
		cols[16][row] = t.opt(tScreen, p.Screen)
		if p.Props != nil {
			if len(p.Props) > maxProps {
				return nil, fmt.Errorf("%w: event %s: more than %d props", ErrMalformed, r.EventID, maxProps)
			}
			for i := 1; i < len(p.Props); i++ {
				if p.Props[i-1].Key >= p.Props[i].Key {
					return nil, fmt.Errorf("%w: event %s: props not sorted by key", ErrMalformed, r.EventID)
				}
			}
			props = appendUvarint(props, uint64(len(p.Props))+1)
			for _, e := range p.Props {
				props = appendUvarint(props, uint64(t.add(tPropKey, e.Key)))
				if e.IsNum {
					if math.IsNaN(e.Num) || math.IsInf(e.Num, 0) {
						return nil, fmt.Errorf("%w: event %s: prop %q is not finite", ErrMalformed, r.EventID, e.Key)
					}
					props = appendUvarint(props, 1)
					props = binary.LittleEndian.AppendUint64(props, math.Float64bits(e.Num))
				} else {
					props = appendUvarint(props, 2*uint64(t.add(tPropString, e.Str)))
				}
			}
		} else {
			props = append(props, 0)
		}
		if len(p.Extras) > 0 {
			if err := checkExtras(p); err != nil {
				return nil, fmt.Errorf("%w: event %s: %v", ErrMalformed, r.EventID, err)
			}
			ex, err := canonicalJSON(p.Extras)
			if err != nil {
				return nil, fmt.Errorf("%w: event %s: extras: %v", ErrMalformed, r.EventID, err)
			}
			cols[18][row] = uint64(t.add(tExtras, ex)) + 1
		}
	}

	b := make([]byte, 0, 64+n*40)
	b = append(b, magic...)
	b = appendUvarint(b, Version)
	b = appendStr(b, s.AccountID)
	b = appendStr(b, s.Period)
	b = appendUvarint(b, uint64(n))
	for tab := 0; tab < nTables; tab++ {
		if tab == tKey {
			b = appendUvarint(b, uint64(len(t.keys)))
			for _, k := range t.keys {
				b = appendStr(b, k.keyID)
				b = appendUvarint(b, uint64(k.secret))
			}
			continue
		}
		b = appendUvarint(b, uint64(len(t.list[tab])))
		for _, str := range t.list[tab] {
			b = appendStr(b, str)
		}
	}
	for _, v := range cols[0] {
		b = appendUvarint(b, v)
	}
	for _, ri := range order {
		b = append(b, rb[ri][6:]...)
	}
	for c := 1; c < nCols; c++ {
		if c == 17 {
			b = append(b, props...)
			continue
		}
		for _, v := range cols[c] {
			b = appendUvarint(b, v)
		}
	}
	b = appendUvarint(b, uint64(len(uorder)))
	for _, ui := range uorder {
		b = append(b, ub[ui][:]...)
	}
	for _, tab := range t.list {
		for _, str := range tab {
			if !utf8.ValidString(str) {
				return nil, fmt.Errorf("%w: a string is not UTF-8", ErrMalformed)
			}
		}
	}
	for _, k := range t.keys {
		if !utf8.ValidString(k.keyID) {
			return nil, fmt.Errorf("%w: a key id is not UTF-8", ErrMalformed)
		}
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), MaxSize)
	}
	return b, nil
}

// tri encodes an optional boolean: 0 absent, 1 false, 2 true.
func tri(b *bool) uint64 {
	switch {
	case b == nil:
		return 0
	case *b:
		return 2
	}
	return 1
}

// reader reads the plaintext; the first error sticks, so that decoding
// checks it once per section rather than after every value.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format+" (at byte %d)", append([]any{ErrMalformed}, append(args, r.off)...)...)
	}
	r.off = len(r.b)
}

func (r *reader) uvarint() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if r.off >= len(r.b) {
			r.fail("truncated")
			return 0
		}
		c := r.b[r.off]
		r.off++
		if shift == 49 && c > 0x0f { // beyond 53 bits
			r.fail("varint out of range")
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if c == 0 && shift > 0 {
				r.fail("varint not minimal")
				return 0
			}
			return v
		}
	}
}

// count reads a number of items that each need at least min bytes, so that
// no allocation exceeds what the input can hold.
func (r *reader) count(min int) int {
	v := r.uvarint()
	if v > uint64(len(r.b)-r.off)/uint64(min) {
		r.fail("count %d exceeds the input", v)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if n > len(r.b)-r.off {
		r.fail("truncated")
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) str() string {
	n := r.count(1)
	b := r.bytes(n)
	if !utf8.Valid(b) {
		r.fail("string is not UTF-8")
		return ""
	}
	return string(b)
}

// index reads an index into a table of size n; opt indexes are +1 with 0
// for absent. It returns -1 for absent and after an error.
func (r *reader) index(n int, opt bool) int {
	v := r.uvarint()
	if opt {
		if v == 0 {
			return -1
		}
		v--
	}
	if v >= uint64(n) {
		r.fail("index %d out of range %d", v, n)
		return -1
	}
	return int(v)
}

func unzigzag(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }

// Decode reads a segment plaintext. It rejects, without panicking, anything
// Encode would not write: a wrong magic, an unknown version (ErrVersion),
// indexes out of range, ids out of order or outside the period, malformed
// extras, truncated input and trailing bytes.
func Decode(b []byte) (Segment, error) {
	if len(b) > MaxSize {
		return Segment{}, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), MaxSize)
	}
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return Segment{}, fmt.Errorf("%w: no segment magic", ErrMalformed)
	}
	r := &reader{b: b, off: len(magic)}
	if v := r.uvarint(); r.err == nil && v != Version {
		return Segment{}, fmt.Errorf("%w: %d", ErrVersion, v)
	}
	s := Segment{Version: Version, AccountID: r.str(), Period: r.str()}
	if r.err != nil {
		return Segment{}, r.err
	}
	start, end, err := PeriodBounds(s.Period)
	if err != nil {
		return Segment{}, fmt.Errorf("%w: period %q", ErrMalformed, s.Period)
	}
	// a row needs at least its 10 random id bytes and one byte in each of the 19 other columns
	n := r.count(10 + 19)
	var tabs [nTables][]string
	var keySecret []int
	for tab := 0; tab < nTables && r.err == nil; tab++ {
		m := r.count(1)
		list := make([]string, m)
		for i := 0; i < m && r.err == nil; i++ {
			list[i] = r.str()
			if tab == tKey {
				keySecret = append(keySecret, r.index(len(tabs[tSecret]), false))
			}
		}
		tabs[tab] = list
	}
	extras := make([]map[string]any, len(tabs[tExtras]))
	for i, ex := range tabs[tExtras] {
		if err := json.Unmarshal([]byte(ex), &extras[i]); err != nil || len(extras[i]) == 0 {
			return Segment{}, fmt.Errorf("%w: extras %d is not a non-empty JSON object", ErrMalformed, i)
		}
	}
	if r.err != nil {
		return Segment{}, r.err
	}

	recs := make([]Record, n)
	ptr := func(tab, i int) *string {
		if i < 0 {
			return nil
		}
		return &tabs[tab][i]
	}
	ids := make([][16]byte, n)
	t := start.UnixMilli()
	for i := 0; i < n && r.err == nil; i++ {
		t += int64(r.uvarint())
		if t >= end.UnixMilli() {
			r.fail("event time outside the period")
		}
		for j := 5; j >= 0; j-- {
			ids[i][j] = byte(t >> (8 * (5 - j)))
		}
	}
	for i := 0; i < n && r.err == nil; i++ {
		copy(ids[i][6:], r.bytes(10))
		if i > 0 && bytes.Compare(ids[i-1][:], ids[i][:]) >= 0 {
			r.fail("event ids not ascending")
		}
		recs[i].EventID = ulidString(ids[i])
	}
	for i := 0; i < n && r.err == nil; i++ {
		recs[i].Payload.V = 1
		if v := r.uvarint(); v > 0 {
			ts := ulidTime(ids[i][:]) + unzigzag(v-1)
			recs[i].Payload.Timestamp = &ts
		}
	}
	for i := 0; i < n && r.err == nil; i++ {
		if k := r.index(len(tabs[tKey]), false); k >= 0 {
			recs[i].KeyID = tabs[tKey][k]
			recs[i].SecretID = tabs[tSecret][keySecret[k]]
		}
	}
	strCol := func(tab int, set func(p *Payload, s *string)) {
		for i := 0; i < n && r.err == nil; i++ {
			set(&recs[i].Payload, ptr(tab, r.index(len(tabs[tab]), true)))
		}
	}
	strCol(tSession, func(p *Payload, s *string) { p.SessionID = s })
	for i := 0; i < n && r.err == nil; i++ {
		if k := r.index(len(tabs[tType]), false); k >= 0 {
			recs[i].Payload.Type = tabs[tType][k]
		}
	}
	strCol(tHref, func(p *Payload, s *string) { p.Href = s })
	strCol(tHref, func(p *Payload, s *string) { p.RawHref = s })
	strCol(tReferrer, func(p *Payload, s *string) { p.Referrer = s })
	for i := 0; i < n && r.err == nil; i++ {
		recs[i].Payload.Pageload = int64(r.uvarint())
	}
	strCol(tGeo, func(p *Payload, s *string) { p.Geo = s })
	for i := 0; i < n && r.err == nil; i++ {
		f := r.uvarint()
		if f&3 == 3 || f>>2&3 == 3 || f>>4 != 0 {
			r.fail("flags %d", f)
		}
		recs[i].Payload.IsMobile, recs[i].Payload.NotFound = untri(f&3), untri(f>>2)
	}
	strCol(tName, func(p *Payload, s *string) { p.Name = s })
	strCol(tTarget, func(p *Payload, s *string) { p.Target = s })
	strCol(tBrowser, func(p *Payload, s *string) { p.Browser = s })
	strCol(tOS, func(p *Payload, s *string) { p.OS = s })
	strCol(tDevice, func(p *Payload, s *string) { p.Device = s })
	strCol(tScreen, func(p *Payload, s *string) { p.Screen = s })
	for i := 0; i < n && r.err == nil; i++ {
		c := r.uvarint()
		if c == 0 {
			continue
		}
		if c-1 > maxProps {
			r.fail("more than %d props", maxProps)
			break
		}
		props := make([]Prop, c-1)
		for j := range props {
			k := r.index(len(tabs[tPropKey]), false)
			if k < 0 {
				break
			}
			props[j].Key = tabs[tPropKey][k]
			if v := r.uvarint(); v == 1 {
				props[j].IsNum = true
				if raw := r.bytes(8); raw != nil {
					props[j].Num = math.Float64frombits(binary.LittleEndian.Uint64(raw))
				}
				if math.IsNaN(props[j].Num) || math.IsInf(props[j].Num, 0) {
					r.fail("prop number not finite")
				}
			} else if v%2 == 0 && v/2 < uint64(len(tabs[tPropString])) {
				props[j].Str = tabs[tPropString][v/2]
			} else {
				r.fail("prop value %d", v)
			}
			if r.err != nil {
				break
			}
			if j > 0 && props[j-1].Key >= props[j].Key {
				r.fail("props not sorted by key")
			}
		}
		recs[i].Payload.Props = props
	}
	for i := 0; i < n && r.err == nil; i++ {
		if e := r.index(len(extras), true); e >= 0 && r.err == nil {
			recs[i].Payload.Extras = extras[e]
			if err := checkExtras(&recs[i].Payload); err != nil {
				r.fail("event %s: %v", recs[i].EventID, err)
			}
		}
	}
	u := r.count(16)
	s.Unreadable = make([]string, u)
	ri := 0
	var prevU []byte
	for i := 0; i < u && r.err == nil; i++ {
		id := r.bytes(16)
		if id == nil {
			break
		}
		if tm := ulidTime(id); tm < start.UnixMilli() || tm >= end.UnixMilli() {
			r.fail("unreadable id outside the period")
		}
		if prevU != nil && bytes.Compare(prevU, id) >= 0 {
			r.fail("unreadable ids not ascending")
		}
		prevU = id
		for ri < n && bytes.Compare(ids[ri][:], id) < 0 {
			ri++
		}
		if ri < n && bytes.Equal(ids[ri][:], id) {
			r.fail("unreadable id is also a row")
		}
		s.Unreadable[i] = ulidString([16]byte(id))
	}
	if r.err != nil {
		return Segment{}, r.err
	}
	if r.off != len(b) {
		return Segment{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-r.off)
	}
	s.Records = recs
	return s, nil
}

func untri(v uint64) *bool {
	switch v {
	case 1:
		return &falseV
	case 2:
		return &trueV
	}
	return nil
}

var trueV, falseV = true, false

func ulidString(b [16]byte) string {
	var out [26]byte
	// 130 bits with two leading zero bits, 5 bits per symbol
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// checkExtras refuses extras that name a column present in the row: a field
// is either in its column or in the extras.
func checkExtras(p *Payload) error {
	present := map[string]bool{
		"v": true, "type": true, "href": p.Href != nil, "rawHref": p.RawHref != nil, "referrer": p.Referrer != nil,
		"sessionId": p.SessionID != nil, "geo": p.Geo != nil, "name": p.Name != nil, "target": p.Target != nil,
		"browser": p.Browser != nil, "os": p.OS != nil, "device": p.Device != nil, "screen": p.Screen != nil,
		"timestamp": p.Timestamp != nil, "pageload": p.Pageload != 0, "isMobile": p.IsMobile != nil,
		"notFound": p.NotFound != nil, "props": p.Props != nil,
	}
	for k := range p.Extras {
		if present[k] {
			return fmt.Errorf("extras field %q also has a column", k)
		}
	}
	return nil
}
