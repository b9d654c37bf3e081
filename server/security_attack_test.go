// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence/persistencetest"
)

// The attacker of P1 (PROTOCOL §10): someone holding a database dump, the
// configuration (OFFEN_SECRET) and the operators' e-mail addresses. It knows
// the protocol (labels, AAD prefixes, derivation labels) and the schema only
// as far as a dump shows it. It collects every byte string it can derive and
// tries each as a key on every a1 and e1 ciphertext it finds.

// aadPrefixes are the AAD prefixes of PROTOCOL §2.3.
var aadPrefixes = []string{
	"offen/v1/event", "offen/v1/user-secret", "offen/v1/private-key", "offen/v1/kek",
	"offen/v1/login-key", "offen/v1/recovery-login-key", "offen/v1/label", "offen/v1/certificate",
}

// The prefixes whose AAD id is an account id, and those with a login id.
var (
	accountAADPrefixes = []string{"offen/v1/event", "offen/v1/user-secret", "offen/v1/private-key", "offen/v1/kek", "offen/v1/label"}
	loginAADPrefixes   = []string{"offen/v1/login-key", "offen/v1/recovery-login-key"}
)

// hkdfLabels are the HKDF salt and info pairs of PROTOCOL §2.2, plus the
// empty pair.
var hkdfLabels = [][2]string{
	{"offen/v1/login", "auth"}, {"offen/v1/login", "wrap"},
	{"offen/v1/recovery", "wrap"}, {"offen/v1/recovery", "proof"},
	{"offen/v1/invite", "wrap"}, {"offen/v1/invite", "token"},
	{"offen/v1/e1", "user-secret"},
	{"offen/v1/instance", "email-index"}, {"offen/v1/instance", "fake-salt"}, {"offen/v1/instance", "certificates"}, {"offen/v1/instance", "device"},
	{"offen/v1/rollup", "rollup"}, {"offen/v1/segment", "segment"},
	{"", ""},
}

// ciphertext is one a1 or e1 string the attacker found.
type ciphertext struct {
	where string // table.column or "file"
	value string
	label string
	parts [][]byte
	aads  [][]byte // AADs to try: the prefixes with every id of its row
}

var versionedRE = regexp.MustCompile(`\b(a1|e1)((?:\.[A-Za-z0-9_-]+)+)`)

// findCiphertexts returns every a1 and e1 value in the dump: those in
// table cells with the AADs built from their row's values, and those only
// in the raw files (e.g. deleted rows) with the AADs of every id in the dump.
func findCiphertexts(dump persistencetest.DatabaseDump) []ciphertext {
	var out []ciphertext
	seen := map[string]bool{}
	var allIDs []string
	idSeen := map[string]bool{}
	addID := func(s string) {
		if s != "" && len(s) <= 300 && !idSeen[s] {
			idSeen[s] = true
			allIDs = append(allIDs, s)
		}
	}
	for _, table := range dump.TableNames() {
		for _, row := range dump.Tables[table] {
			for _, v := range row {
				if keys.ValidUUID(string(v)) {
					addID(string(v))
				}
			}
		}
	}
	// Ids the dump shows to be account or login ids pair with the prefixes
	// of §2.3 that take them; any other id with every prefix.
	accountIDs, loginIDs := map[string]bool{}, map[string]bool{}
	for _, row := range dump.Tables["accounts"] {
		accountIDs[string(row["account_id"])] = true
	}
	for _, row := range dump.Tables["logins"] {
		loginIDs[string(row["login_id"])] = true
	}
	parse := func(where, s string, ids []string, extra ...[]byte) {
		if seen[s] {
			return
		}
		m := versionedRE.FindStringSubmatch(s)
		if m == nil || m[0] != s {
			return
		}
		c := ciphertext{where: where, value: s, label: m[1]}
		for _, p := range strings.Split(m[2][1:], ".") {
			b, err := base64.RawURLEncoding.DecodeString(p)
			if err != nil {
				return
			}
			c.parts = append(c.parts, b)
		}
		if (c.label == "a1" && len(c.parts) != 2) || (c.label == "e1" && len(c.parts) != 3) {
			return
		}
		c.aads = append([][]byte{nil}, extra...)
		for _, id := range ids {
			prefixes := aadPrefixes
			switch {
			case accountIDs[id]:
				prefixes = accountAADPrefixes
			case loginIDs[id]:
				prefixes = loginAADPrefixes
			}
			for _, p := range prefixes {
				c.aads = append(c.aads, []byte(p+"|"+id))
			}
		}
		seen[s] = true
		out = append(out, c)
	}
	for _, table := range dump.TableNames() {
		for _, row := range dump.Tables[table] {
			// The row's identifiers: UUIDs, and the name of a certificate.
			var ids []string
			for col, v := range row {
				if s := string(v); keys.ValidUUID(s) || (table == "certificates" && col == "name") {
					ids = append(ids, s)
				}
			}
			sort.Strings(ids)
			// A segment's AAD names its account, period and version
			// (keys/PROTOCOL.md §13), all in its row.
			var extra [][]byte
			if table == "segments" {
				extra = append(extra, []byte("offen/v1/segment|"+string(row["account_id"])+"|"+string(row["period"])+"|"+string(row["version"])))
			}
			for col, v := range row {
				for _, m := range versionedRE.FindAllString(string(v), -1) {
					parse(table+"."+col, m, ids, extra...)
				}
			}
		}
	}
	for _, m := range versionedRE.FindAllString(string(dump.Files), -1) {
		parse("file", m, allIDs)
	}
	return out
}

// candidateBases returns every byte string the attacker can read or compute
// from the dump, the instance secret and the addresses, before key
// derivation: cell values and their decodings and parts, instance keys,
// e-mail indexes and fake salts of the addresses, hashes and MACs.
func candidateBases(t *testing.T, dump persistencetest.DatabaseDump, secret []byte, addresses []string) [][]byte {
	t.Helper()
	var out [][]byte
	seen := map[string]bool{}
	add := func(b []byte) {
		if len(b) == 0 || seen[string(b)] {
			return
		}
		seen[string(b)] = true
		out = append(out, b)
	}
	var decode func(b []byte, depth int)
	decode = func(b []byte, depth int) {
		add(b)
		if depth > 1 {
			return
		}
		s := string(b)
		if h, err := hex.DecodeString(s); err == nil {
			decode(h, depth+1)
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if d, err := enc.DecodeString(s); err == nil && len(s) >= 8 {
				decode(d, depth+1)
			}
		}
		if strings.ContainsAny(s, ".:$|,") {
			for _, p := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(".:$|,", r) }) {
				if p != s {
					decode([]byte(p), depth+1)
				}
			}
		}
		// Identifiers without their hyphens (UUIDs as 16 bytes).
		if keys.ValidUUID(s) {
			if h, err := hex.DecodeString(strings.ReplaceAll(s, "-", "")); err == nil {
				add(h)
			}
		}
	}
	for _, table := range dump.TableNames() {
		add([]byte(table))
		for _, row := range dump.Tables[table] {
			for col, v := range row {
				add([]byte(col))
				if len(v) > 0 {
					decode(v, 0)
				}
			}
		}
	}
	// The configuration.
	add(secret)
	add([]byte(keys.EncodeBase64(secret)))
	add([]byte(hex.EncodeToString(secret)))
	ik, err := keys.DeriveInstanceKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	instance := [][]byte{secret, ik.EmailIndex, ik.FakeSalt, ik.Certificates}
	for _, k := range instance {
		add(k)
	}
	// Addresses in every case, with what the server derives from them.
	for _, a := range addresses {
		norm, _ := keys.NormalizeEmail(a)
		for _, v := range []string{a, norm, strings.ToUpper(a), strings.TrimSpace(a)} {
			add([]byte(v))
			sum := sha256.Sum256([]byte(v))
			add(sum[:])
			for _, k := range instance {
				m := hmac.New(sha256.New, k)
				m.Write([]byte(v))
				add(m.Sum(nil))
			}
		}
		if idx, err := keys.EmailIndex(ik.EmailIndex, a); err == nil {
			add([]byte(idx))
			h, _ := hex.DecodeString(idx)
			add(h)
		}
		if fs, err := keys.FakeSalt(ik.FakeSalt, a); err == nil {
			add(fs)
		}
	}
	return out
}

// instanceCombos are keys the instance keys give with every short cell
// (ids, salts, indexes): HMAC-SHA256 and HKDF with the cell as info, as a
// server deriving per-row keys would.
func instanceCombos(t *testing.T, dump persistencetest.DatabaseDump, secret []byte) [][]byte {
	t.Helper()
	ik, err := keys.DeriveInstanceKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out [][]byte
	for _, table := range dump.TableNames() {
		for _, row := range dump.Tables[table] {
			for _, c := range row {
				if len(c) == 0 || len(c) > 100 || seen[string(c)] {
					continue
				}
				seen[string(c)] = true
				for _, k := range [][]byte{secret, ik.EmailIndex, ik.FakeSalt, ik.Certificates} {
					m := hmac.New(sha256.New, k)
					m.Write(c)
					out = append(out, m.Sum(nil))
					d, _ := hkdf.Key(sha256.New, k, []byte("offen/v1/instance"), string(c), keys.KeySize)
					out = append(out, d)
				}
			}
		}
	}
	return out
}

// candidateKeys turns bases into 32-byte keys: each base of 32 bytes, the
// first and last 32 bytes of longer ones, SHA-256 of each, and HKDF of each
// with every label of the protocol.
func candidateKeys(bases [][]byte) [][]byte {
	var out [][]byte
	seen := map[string]bool{}
	add := func(b []byte) {
		if len(b) != keys.KeySize || seen[string(b)] {
			return
		}
		seen[string(b)] = true
		out = append(out, b)
	}
	for _, b := range bases {
		add(b)
		if len(b) > keys.KeySize {
			add(b[:keys.KeySize])
			add(b[len(b)-keys.KeySize:])
		}
		sum := sha256.Sum256(b)
		add(sum[:])
		if len(b) < 16 {
			continue // words, numbers, times: hashed, not used as key material
		}
		for _, l := range hkdfLabels {
			if d, err := hkdf.Key(sha256.New, b, []byte(l[0]), l[1], keys.KeySize); err == nil {
				add(d)
			}
		}
	}
	return out
}

// attackResult is what an attack achieved.
type attackResult struct {
	keys, ciphertexts, trials int
	opened                    []string // where and how a ciphertext opened
}

// attack tries every candidate key on every ciphertext: as the AES key of
// a1 values and of e1 values (skipping ECDH), each with every AAD of the
// ciphertext; and as a P-256 private key (so are private keys found as
// PKCS#8 in the bases) against every point in the dump, account public keys
// and the ephemeral keys of e1 values, without which no e1 opens.
func attack(cts []ciphertext, cands [][]byte, bases [][]byte) attackResult {
	res := attackResult{keys: len(cands), ciphertexts: len(cts)}
	var mu sync.Mutex
	var trials int
	found := func(s string) {
		mu.Lock()
		res.opened = append(res.opened, s)
		mu.Unlock()
	}
	open := func(aead cipher.AEAD, buf []byte, c ciphertext, nonce, ct []byte, how string) int {
		n := 0
		for _, ad := range c.aads {
			n++
			if _, err := aead.Open(buf[:0], nonce, ct, ad); err == nil {
				found(fmt.Sprintf("%s %s… opened by %s with AAD %q", c.where, c.value[:12], how, ad))
			}
		}
		return n
	}
	// The P-256 points in the dump: account public keys and the ephemeral
	// keys of e1 values.
	points := map[string]string{}
	for _, c := range cts {
		if c.label == "e1" {
			points[string(c.parts[0])] = c.where + " (ephemeral key)"
		}
	}
	for _, b := range bases {
		if len(b) == 65 && b[0] == 4 {
			if _, err := ecdh.P256().NewPublicKey(b); err == nil {
				points[string(b)] = "a p256 value"
			}
		}
	}
	var scalars []*ecdh.PrivateKey
	for _, b := range append(append([][]byte{}, cands...), bases...) {
		if len(b) == keys.KeySize {
			if k, err := ecdh.P256().NewPrivateKey(b); err == nil {
				scalars = append(scalars, k)
			}
		}
		if len(b) > 100 && len(b) < 200 {
			if k, err := keys.ParsePrivateKey(b); err == nil {
				scalars = append(scalars, k)
			}
		}
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			buf := make([]byte, 0, 1<<16)
			for i := w; i < len(cands); i += workers {
				block, _ := aes.NewCipher(cands[i])
				aead, _ := cipher.NewGCM(block)
				for _, c := range cts {
					switch c.label {
					case "a1":
						if len(c.parts[0]) == aead.NonceSize() && len(c.parts[1]) >= aead.Overhead() {
							n += open(aead, buf, c, c.parts[0], c.parts[1], "an AES key")
						}
					case "e1":
						if len(c.parts[1]) == aead.NonceSize() && len(c.parts[2]) >= aead.Overhead() {
							n += open(aead, buf, c, c.parts[1], c.parts[2], "an AES key")
						}
					}
				}
			}
			// An e1 opens with Z, which takes the private key of the
			// account or of the ephemeral key: a scalar is one of them iff
			// its public key is.
			for i := w; i < len(scalars); i += workers {
				n++
				if where, ok := points[string(scalars[i].PublicKey().Bytes())]; ok {
					found(fmt.Sprintf("the private key of %s (a derived scalar)", where))
				}
			}
			mu.Lock()
			trials += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.trials = trials
	sort.Strings(res.opened)
	return res
}
