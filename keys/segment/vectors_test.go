// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package segment

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
)

// The vectors in ../testdata/segments.json were written by
//
//	go test ./keys/segment -run TestVectors -update
//
// from the deterministic inputs below; keys/js/segment.test.js checks them
// too. Once other code relies on them they are fixed: a format change is a
// new version with new vectors.
var update = flag.Bool("update", false, "rewrite ../testdata/segments.json")

const vectorsFile = "../testdata/segments.json"

func det(label string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("offen segment vector %s %d", label, i)))
		out = append(out, h[:]...)
	}
	return out[:n]
}

// detID is a ULID at the given time with deterministic random bits.
func detID(t time.Time, label string) string {
	var b [16]byte
	ms := t.UnixMilli()
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	copy(b[6:], det(label, 10))
	return ulidString(b)
}

type vecRecord struct {
	EventID  string         `json:"eventId"`
	SecretID string         `json:"secretId"`
	KeyID    string         `json:"keyId"`
	Payload  map[string]any `json:"payload"`
}

type vecSegment struct {
	Records    []vecRecord `json:"records"`
	Unreadable []string    `json:"unreadable"`
}

// segmentVector is one entry of segments.json.
type segmentVector struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Valid     *bool  `json:"valid,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Period    string `json:"period,omitempty"`
	Version   int    `json:"version,omitempty"`
	// segment: the input records (payloads as decrypted), what decoding
	// gives (absent when it is the input), the plaintext, its coverage and
	// its sealed form
	Input        *vecSegment `json:"input,omitempty"`
	Decoded      *vecSegment `json:"decoded,omitempty"`
	PlaintextHex string      `json:"plaintextHex,omitempty"`
	Count        *int        `json:"count,omitempty"`
	Digest       string      `json:"digest,omitempty"`
	KEK          string      `json:"kek,omitempty"`
	SegmentKey   string      `json:"segmentKey,omitempty"`
	Nonce        string      `json:"nonce,omitempty"`
	Sealed       string      `json:"sealed,omitempty"`
	// segment-decode, segment-open (invalid): the error class a reader
	// must give: MALFORMED, VERSION or DECRYPT
	Error string `json:"error,omitempty"`
}

var vecDay = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

const vecAccount = "9b2d5bc0-5cf4-4d7b-a3a6-1f6f0a1e3c11"

func at(h, m int) time.Time {
	return vecDay.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func iso(t time.Time) string { return t.UTC().Format(isoLayout) }

func hexID(label string) string { return hex.EncodeToString(det(label, 16)) }

// validInputs are the valid segments of the vectors.
func validInputs() []struct {
	name string
	seg  vecSegment
} {
	pv := func(i int, extra map[string]any) vecRecord {
		p := map[string]any{"v": 1, "type": "PAGEVIEW", "href": "https://www.example.com/blog/post-" + fmt.Sprint(i%3),
			"referrer": "", "pageload": nil, "timestamp": iso(at(10, i).Add(-1500 * time.Millisecond)), "sessionId": hexID(fmt.Sprint("session", i%2)),
			"geo": nil, "isMobile": false}
		for k, v := range extra {
			p[k] = v
		}
		return vecRecord{detID(at(10, i), fmt.Sprint("pv", i)), hexID(fmt.Sprint("secret", i%2)), hexID(fmt.Sprint("key", i%2)), p}
	}
	var many []vecRecord
	for i := 0; i < 260; i++ {
		tm := vecDay.Add(time.Duration(i) * 331 * time.Second)
		many = append(many, vecRecord{detID(tm, fmt.Sprint("many", i)), fmt.Sprint("s", i%40), fmt.Sprint("k", i%40), map[string]any{
			"v": 1, "type": "PAGEVIEW", "href": fmt.Sprintf("https://example.com/%d", i), "pageload": 100 + i*37, "timestamp": tm.UnixMilli() - int64(i)}})
	}
	return []struct {
		name string
		seg  vecSegment
	}{
		{"empty day", vecSegment{Records: []vecRecord{}, Unreadable: []string{}}},
		{"unreadable ids only", vecSegment{Records: []vecRecord{}, Unreadable: []string{detID(at(23, 59), "u2"), detID(at(0, 0), "u1")}}},
		{"page views, direct and referred, out of order", vecSegment{Records: []vecRecord{
			pv(2, map[string]any{"referrer": "https://www.google.de/", "pageload": 1234.5, "geo": "DE"}),
			pv(0, nil),
			pv(1, map[string]any{"rawHref": "https://www.example.com/blog/post-1?utm_source=newsletter&utm_campaign=nov", "isMobile": true}),
		}, Unreadable: []string{detID(at(10, 1).Add(time.Millisecond), "u3")}}},
		{"every field", vecSegment{Records: []vecRecord{
			pv(0, map[string]any{"notFound": true, "browser": "Firefox", "os": "Linux", "device": "desktop", "screen": "large", "pageload": 0.4, "geo": "fr"}),
			{detID(at(11, 0), "ev"), hexID("secret0"), hexID("key0"), map[string]any{"v": 1, "type": "EVENT", "name": "Signup",
				"props": map[string]any{"plan": "pro", "seats": 3, "ratio": 0.25, "neg": -0.0, "big": 1e21, "tiny": 5e-7},
				"href":  "https://www.example.com/pricing", "timestamp": iso(at(11, 0)), "sessionId": hexID("session0"),
				"browser": "Chrome", "os": "Android", "device": "mobile", "screen": "small", "isMobile": true}},
			{detID(at(11, 1), "out"), hexID("secret1"), hexID("key1"), map[string]any{"v": 1, "type": "OUTBOUND",
				"target": "https://github.com/offen/offen", "href": "https://www.example.com/", "timestamp": float64(at(11, 1).UnixMilli() + 60000)}},
			{detID(at(11, 2), "dl"), hexID("secret1"), hexID("key1"), map[string]any{"v": 1, "type": "DOWNLOAD",
				"target": "https://www.example.com/files/report.pdf", "href": "https://www.example.com/", "timestamp": iso(at(11, 2)), "browser": "Safari", "os": "iOS", "device": "tablet", "screen": "medium"}},
		}, Unreadable: []string{}}},
		{"unicode", vecSegment{Records: []vecRecord{
			pv(0, map[string]any{"href": "https://bücher.example/größe/🙂", "referrer": "https://例え.jp/パス", "geo": "JP"}),
			{detID(at(12, 0), "uni"), hexID("secret0"), hexID("key0"), map[string]any{"v": 1, "type": "EVENT", "name": "Größe ✓ 🙂",
				"props":     map[string]any{"\uff5e": "fullwidth tilde", "😀": "astral sorts after U+FF5E", "é": "ça va 🙂", "a": "\u2028\"\\\n\t"},
				"timestamp": iso(at(12, 0))}},
		}, Unreadable: []string{}}},
		{"extras: unknown fields and values without a column", vecSegment{Records: []vecRecord{
			pv(0, map[string]any{"future": map[string]any{"z": []any{1, "two", nil, true, map[string]any{"b": 1, "a": 2}}}, "nullField": nil}),
			{detID(at(13, 0), "odd"), hexID("secret0"), hexID("key0"), map[string]any{"v": 1, "type": "SOMETHING_NEW",
				"timestamp": "Sun, 22 Nov 2026 13:00:00 GMT", "pageload": -5, "isMobile": "yes", "notFound": 1, "href": 42,
				"props": map[string]any{"nested": map[string]any{"x": 1}}, "name": []any{"a"}}},
			{detID(at(13, 1), "nots"), hexID("secret0"), hexID("key0"), map[string]any{"v": 1, "type": "EVENT", "name": "no timestamp", "props": map[string]any{}}},
		}, Unreadable: []string{detID(at(13, 0).Add(time.Millisecond), "u4")}}},
		{"260 rows: multi-byte varints and indexes", vecSegment{Records: many, Unreadable: []string{}}},
	}
}

func toRecords(vs vecSegment) ([]Record, error) {
	var recs []Record
	for _, r := range vs.Records {
		// the payload as the dashboard sees it: decoded from JSON
		b, _ := json.Marshal(r.Payload)
		var m map[string]any
		json.Unmarshal(b, &m)
		p, err := PayloadFromMap(m)
		if err != nil {
			return nil, err
		}
		recs = append(recs, Record{EventID: r.EventID, SecretID: r.SecretID, KeyID: r.KeyID, Payload: p})
	}
	return recs, nil
}

func fromSegment(s Segment) *vecSegment {
	out := &vecSegment{Records: []vecRecord{}, Unreadable: append([]string{}, s.Unreadable...)}
	for _, r := range s.Records {
		b, _ := json.Marshal(r.Payload)
		var m map[string]any
		json.Unmarshal(b, &m)
		out.Records = append(out.Records, vecRecord{r.EventID, r.SecretID, r.KeyID, m})
	}
	return out
}

// canonicalInput is the input as JSON gives it back, in event id order.
func canonicalInput(vs vecSegment) *vecSegment {
	b, _ := json.Marshal(vs)
	var out vecSegment
	json.Unmarshal(b, &out)
	sort.Slice(out.Records, func(i, j int) bool {
		a, _ := ULIDBytes(out.Records[i].EventID)
		b, _ := ULIDBytes(out.Records[j].EventID)
		return bytes.Compare(a[:], b[:]) < 0
	})
	sort.Slice(out.Unreadable, func(i, j int) bool {
		a, _ := ULIDBytes(out.Unreadable[i])
		b, _ := ULIDBytes(out.Unreadable[j])
		return bytes.Compare(a[:], b[:]) < 0
	})
	return &out
}

// raw is a segment plaintext in parts, to write invalid ones.
type raw struct {
	magic      string
	version    uint64
	account    string
	period     string
	n          uint64
	tables     [nTables][]string
	keySecret  []uint64
	idTime     []uint64
	idRand     [][]byte
	cols       [16][]uint64 // time key session type href rawHref referrer pageload geo flags name target browser os device screen
	props      []byte
	extras     []uint64
	unreadable [][]byte
	trailing   []byte
	// padPageload writes the first pageload as a two-byte varint
	padPageload bool
}

func (r raw) bytes() []byte {
	b := []byte(r.magic)
	b = appendUvarint(b, r.version)
	b = appendStr(b, r.account)
	b = appendStr(b, r.period)
	b = appendUvarint(b, r.n)
	for tab, list := range r.tables {
		b = appendUvarint(b, uint64(len(list)))
		for i, s := range list {
			b = appendStr(b, s)
			if tab == tKey {
				b = appendUvarint(b, r.keySecret[i])
			}
		}
	}
	for _, v := range r.idTime {
		b = appendUvarint(b, v)
	}
	for _, x := range r.idRand {
		b = append(b, x...)
	}
	for c, col := range r.cols {
		for i, v := range col {
			if c == 7 && i == 0 && r.padPageload {
				b = append(b, byte(v)|0x80, 0)
				continue
			}
			b = appendUvarint(b, v)
		}
	}
	b = append(b, r.props...)
	for _, v := range r.extras {
		b = appendUvarint(b, v)
	}
	b = appendUvarint(b, uint64(len(r.unreadable)))
	for _, u := range r.unreadable {
		b = append(b, u...)
	}
	return append(b, r.trailing...)
}

// baseRaw is two rows and one unreadable id; TestVectors checks that it is
// what Encode writes for baseSegment.
func baseRaw() raw {
	id0, _ := ULIDBytes(detID(at(9, 0), "r0"))
	id1, _ := ULIDBytes(detID(at(9, 5), "r1"))
	u, _ := ULIDBytes(detID(at(9, 7), "ru"))
	var r raw
	r.magic, r.version, r.account, r.period, r.n = magic, 1, vecAccount, "2026-11-22", 2
	r.tables[tSecret] = []string{"s"}
	r.tables[tKey] = []string{"k"}
	r.keySecret = []uint64{0}
	r.tables[tSession] = []string{"x"}
	r.tables[tHref] = []string{"https://example.com/"}
	r.tables[tType] = []string{"PAGEVIEW", "EVENT"}
	r.tables[tName] = []string{"go"}
	r.tables[tPropKey] = []string{"a", "b"}
	r.tables[tPropString] = []string{"s"}
	r.tables[tExtras] = []string{`{"f":1}`}
	r.idTime = []uint64{uint64(at(9, 0).UnixMilli() - vecDay.UnixMilli()), 5 * 60000}
	r.idRand = [][]byte{id0[6:], id1[6:]}
	col := func(a, b uint64) []uint64 { return []uint64{a, b} }
	r.cols = [16][]uint64{col(1, 0), col(0, 0), col(1, 1), col(0, 1), col(1, 1), col(0, 0), col(0, 0), col(5, 0), col(0, 0), col(2|1<<2, 0),
		col(0, 1), col(0, 0), col(0, 0), col(0, 0), col(0, 0), col(0, 0)}
	p := []byte{0, 3, 0, 0, 1, 1}
	p = binary.LittleEndian.AppendUint64(p, 0x4000000000000000) // 2.0
	r.props = p
	r.extras = []uint64{0, 1}
	r.unreadable = [][]byte{u[:]}
	return r
}

func baseSegment() Segment {
	s, x, href, name, tm := "s", "x", "https://example.com/", "go", at(9, 0).UnixMilli()
	return Segment{AccountID: vecAccount, Period: "2026-11-22", Version: 1, Unreadable: []string{detID(at(9, 7), "ru")}, Records: []Record{
		{EventID: detID(at(9, 0), "r0"), SecretID: s, KeyID: "k", Payload: Payload{V: 1, Type: "PAGEVIEW", Href: &href, SessionID: &x, Timestamp: &tm, Pageload: 5, IsMobile: &trueV, NotFound: &falseV}},
		{EventID: detID(at(9, 5), "r1"), SecretID: s, KeyID: "k", Payload: Payload{V: 1, Type: "EVENT", SessionID: &x, Href: &href, Name: &name,
			Props: []Prop{{Key: "a", Str: "s"}, {Key: "b", Num: 2, IsNum: true}}, Extras: map[string]any{"f": 1.0}}},
	}}
}

func invalidPlaintexts() []struct {
	name, err string
	r         raw
} {
	type mut = func(r *raw)
	cases := []struct {
		name, err string
		m         mut
	}{
		{"bad magic", "MALFORMED", func(r *raw) { r.magic = "OFSH" }},
		{"unknown version", "VERSION", func(r *raw) { r.version = 2 }},
		{"malformed period", "MALFORMED", func(r *raw) { r.period = "2026-02-30" }},
		{"row count beyond the input", "MALFORMED", func(r *raw) { r.n = 1000 }},
		{"secret index out of range", "MALFORMED", func(r *raw) { r.keySecret = []uint64{1} }},
		{"key index out of range", "MALFORMED", func(r *raw) { r.cols[1] = []uint64{0, 1} }},
		{"session index out of range", "MALFORMED", func(r *raw) { r.cols[2] = []uint64{1, 2} }},
		{"type index out of range", "MALFORMED", func(r *raw) { r.cols[3] = []uint64{0, 2} }},
		{"name index out of range", "MALFORMED", func(r *raw) { r.cols[10] = []uint64{0, 2} }},
		{"extras index out of range", "MALFORMED", func(r *raw) { r.extras = []uint64{0, 2} }},
		{"prop key out of range", "MALFORMED", func(r *raw) { r.props[2] = 2 }},
		{"prop string out of range", "MALFORMED", func(r *raw) { r.props[3] = 2 }},
		{"prop value tag 3", "MALFORMED", func(r *raw) { r.props[3] = 3 }},
		{"props not sorted", "MALFORMED", func(r *raw) { r.props[2], r.props[4] = 1, 0 }},
		{"too many props", "MALFORMED", func(r *raw) { r.props[1] = 66 }},
		{"flags 3", "MALFORMED", func(r *raw) { r.cols[9] = []uint64{3, 0} }},
		{"flags beyond 4 bits", "MALFORMED", func(r *raw) { r.cols[9] = []uint64{16, 0} }},
		{"ids not ascending", "MALFORMED", func(r *raw) {
			r.idTime[1] = 0
			r.idRand = [][]byte{bytes.Repeat([]byte{0xff}, 10), make([]byte, 10)}
		}},
		{"same id twice", "MALFORMED", func(r *raw) { r.idTime[1] = 0; r.idRand[1] = r.idRand[0] }},
		{"id time after the period", "MALFORMED", func(r *raw) { r.idTime[1] = 86400000 }},
		{"unreadable id before the period", "MALFORMED", func(r *raw) {
			u, _ := ULIDBytes(detID(vecDay.Add(-time.Millisecond), "ru"))
			r.unreadable = [][]byte{u[:]}
		}},
		{"unreadable id is also a row", "MALFORMED", func(r *raw) {
			u, _ := ULIDBytes(detID(at(9, 5), "r1"))
			r.unreadable = [][]byte{u[:]}
		}},
		{"extras names a present column", "MALFORMED", func(r *raw) { r.tables[tExtras] = []string{`{"href":"x"}`} }},
		{"extras names v", "MALFORMED", func(r *raw) { r.tables[tExtras] = []string{`{"v":2}`} }},
		{"extras not an object", "MALFORMED", func(r *raw) { r.tables[tExtras] = []string{`[1]`} }},
		{"extras empty", "MALFORMED", func(r *raw) { r.tables[tExtras] = []string{`{}`} }},
		{"extras not JSON", "MALFORMED", func(r *raw) { r.tables[tExtras] = []string{`{"f":}`} }},
		{"string not UTF-8", "MALFORMED", func(r *raw) { r.tables[tName] = []string{"g\xff"} }},
		{"varint not minimal", "MALFORMED", func(r *raw) { r.padPageload = true }},
		{"truncated", "MALFORMED", nil},
		{"trailing byte", "MALFORMED", func(r *raw) { r.trailing = []byte{0} }},
	}
	var out []struct {
		name, err string
		r         raw
	}
	for _, c := range cases {
		r := baseRaw()
		if c.m != nil {
			c.m(&r)
		}
		out = append(out, struct {
			name, err string
			r         raw
		}{c.name, c.err, r})
	}
	return out
}

// invalidBytes writes an invalid case; truncation is the one raw cannot express.
func invalidBytes(name string, r raw) []byte {
	b := r.bytes()
	if name == "truncated" {
		return b[:len(b)-5] // within the unreadable id
	}
	return b
}

func buildVectors(t *testing.T) []segmentVector {
	kek := det("kek", 32)
	key, err := DeriveKey(kek)
	if err != nil {
		t.Fatal(err)
	}
	var out []segmentVector
	for i, in := range validInputs() {
		recs, err := toRecords(in.seg)
		if err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		s, err := New(vecAccount, "2026-11-22", recs, in.seg.Unreadable)
		if err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		pt, err := Encode(s)
		if err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		dec, err := Decode(pt)
		if err != nil {
			t.Fatalf("%s: decode: %v", in.name, err)
		}
		nonce := det(fmt.Sprint("nonce", i), 12)
		sealed, _ := seal(key, nonce, vecAccount, "2026-11-22", 1, pt)
		n, digest, _ := s.Coverage()
		input, decoded := in.seg, fromSegment(dec)
		if reflect.DeepEqual(decoded, canonicalInput(in.seg)) {
			decoded = nil // decoding gives the input
		}
		out = append(out, segmentVector{Name: in.name, Kind: "segment", AccountID: vecAccount, Period: "2026-11-22", Version: 1,
			Input: &input, Decoded: decoded, PlaintextHex: hex.EncodeToString(pt), Count: &n, Digest: digest,
			KEK: keys.EncodeBase64(kek), SegmentKey: keys.EncodeBase64(key), Nonce: keys.EncodeBase64(nonce), Sealed: sealed})
	}
	no := false
	for _, c := range invalidPlaintexts() {
		out = append(out, segmentVector{Name: c.name, Kind: "segment-decode", Valid: &no, PlaintextHex: hex.EncodeToString(invalidBytes(c.name, c.r)), Error: c.err})
	}
	base, _ := Encode(baseSegment())
	sealed, _ := seal(key, det("nonce-open", 12), vecAccount, "2026-11-22", 1, base)
	other, _ := Encode(Segment{AccountID: "another-account", Period: "2026-11-22", Version: 1})
	sealedOther, _ := seal(key, det("nonce-other", 12), vecAccount, "2026-11-22", 1, other)
	for _, c := range []struct {
		name, account, period string
		version               int
		sealed, err           string
	}{
		{"wrong account in the AAD", "00000000-0000-4000-8000-000000000000", "2026-11-22", 1, sealed, "DECRYPT"},
		{"wrong period in the AAD", vecAccount, "2026-11-23", 1, sealed, "DECRYPT"},
		{"wrong version in the AAD", vecAccount, "2026-11-22", 2, sealed, "DECRYPT"},
		{"tampered ciphertext", vecAccount, "2026-11-22", 1, sealed[:len(sealed)-2] + flip(sealed[len(sealed)-2]) + sealed[len(sealed)-1:], "DECRYPT"},
		{"not a1", vecAccount, "2026-11-22", 1, "e1" + sealed[2:], "MALFORMED"},
		{"plaintext names another account", vecAccount, "2026-11-22", 1, sealedOther, "MALFORMED"},
	} {
		out = append(out, segmentVector{Name: c.name, Kind: "segment-open", Valid: &no, AccountID: c.account, Period: c.period, Version: c.version,
			SegmentKey: keys.EncodeBase64(key), Sealed: c.sealed, Error: c.err})
	}
	return out
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func errClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrVersion):
		return "VERSION"
	case errors.Is(err, keys.ErrDecrypt):
		return "DECRYPT"
	case errors.Is(err, ErrMalformed), errors.Is(err, keys.ErrMalformed), errors.Is(err, ErrULID):
		return "MALFORMED"
	}
	return "other: " + err.Error()
}

func TestVectors(t *testing.T) {
	if b, _ := Encode(baseSegment()); !bytes.Equal(b, baseRaw().bytes()) {
		t.Fatalf("baseRaw is not what Encode writes:\n%x\n%x", b, baseRaw().bytes())
	}
	if *update {
		doc := struct {
			Version int             `json:"version"`
			Vectors []segmentVector `json:"vectors"`
		}{1, buildVectors(t)}
		// one vector a line: readable diffs without the bulk of indentation
		var sb strings.Builder
		sb.WriteString("{\"version\": 1, \"vectors\": [\n")
		for i, v := range doc.Vectors {
			b, _ := json.Marshal(v)
			sb.Write(b)
			if i < len(doc.Vectors)-1 {
				sb.WriteByte(',')
			}
			sb.WriteByte('\n')
		}
		sb.WriteString("]}\n")
		if err := os.WriteFile(vectorsFile, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int             `json:"version"`
		Vectors []segmentVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Version != 1 || len(doc.Vectors) == 0 {
		t.Fatalf("vectors: %v", err)
	}
	kinds := map[string]int{}
	for _, v := range doc.Vectors {
		kinds[v.Kind]++
		t.Run(v.Kind+"/"+v.Name, func(t *testing.T) { checkVector(t, v) })
	}
	if kinds["segment"] < 7 || kinds["segment-decode"] < 20 || kinds["segment-open"] < 5 {
		t.Fatalf("kinds %v", kinds)
	}
}

func checkVector(t *testing.T, v segmentVector) {
	switch v.Kind {
	case "segment":
		recs, err := toRecords(*v.Input)
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(v.AccountID, v.Period, recs, v.Input.Unreadable)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(pt); got != v.PlaintextHex {
			t.Fatalf("plaintext\n got %s\nwant %s", got, v.PlaintextHex)
		}
		dec, err := Decode(pt)
		if err != nil {
			t.Fatal(err)
		}
		if v.Decoded == nil {
			v.Decoded = canonicalInput(*v.Input)
		}
		if got := fromSegment(dec); !reflect.DeepEqual(got, v.Decoded) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(v.Decoded)
			t.Fatalf("decoded\n got %s\nwant %s", g, w)
		}
		if again, _ := Encode(dec); !bytes.Equal(again, pt) {
			t.Fatal("decoded segment encodes differently")
		}
		n, d, err := dec.Coverage()
		if err != nil || n != *v.Count || d != v.Digest {
			t.Fatalf("coverage %d %s %v", n, d, err)
		}
		kek, _ := keys.DecodeBase64(v.KEK)
		key, _ := DeriveKey(kek)
		if keys.EncodeBase64(key) != v.SegmentKey {
			t.Fatal("segment key")
		}
		nonce, _ := keys.DecodeBase64(v.Nonce)
		if sealed, _ := seal(key, nonce, v.AccountID, v.Period, v.Version, pt); sealed != v.Sealed {
			t.Fatal("sealed form differs")
		}
		opened, err := OpenSegment(key, v.AccountID, v.Period, v.Version, v.Sealed)
		if err != nil || !reflect.DeepEqual(fromSegment(opened), v.Decoded) {
			t.Fatalf("open: %v", err)
		}
	case "segment-decode":
		pt, _ := hex.DecodeString(v.PlaintextHex)
		_, err := Decode(pt)
		if got := errClass(err); got != v.Error {
			t.Fatalf("got %q (%v), want %s", got, err, v.Error)
		}
	case "segment-open":
		key, _ := keys.DecodeBase64(v.SegmentKey)
		_, err := OpenSegment(key, v.AccountID, v.Period, v.Version, v.Sealed)
		if got := errClass(err); got != v.Error {
			t.Fatalf("got %q (%v), want %s", got, err, v.Error)
		}
	default:
		t.Fatalf("unknown kind %q", v.Kind)
	}
}
