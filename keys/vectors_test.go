// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
)

// vector is one entry of testdata/vectors.json.
type vector map[string]any

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int      `json:"version"`
		Vectors []vector `json:"vectors"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || len(doc.Vectors) == 0 {
		t.Fatalf("got version %d with %d vectors", doc.Version, len(doc.Vectors))
	}
	return doc.Vectors
}

// errVector reports a vector whose expectation does not hold.
type vectorError struct{ msg string }

func (e vectorError) Error() string { return e.msg }

func failf(format string, args ...any) error { return vectorError{fmt.Sprintf(format, args...)} }

func (v vector) str(k string) string {
	s, ok := v[k].(string)
	if !ok {
		panic(failf("field %q missing or not a string", k))
	}
	return s
}

func (v vector) bytes(k string) []byte {
	b, err := DecodeBase64(v.str(k))
	if err != nil {
		panic(failf("field %q: %v", k, err))
	}
	return b
}

func (v vector) int(k string) int64 {
	n, ok := v[k].(json.Number)
	if !ok {
		panic(failf("field %q missing or not a number", k))
	}
	i, err := n.Int64()
	if err != nil {
		panic(failf("field %q: %v", k, err))
	}
	return i
}

func (v vector) valid() bool {
	b, ok := v["valid"].(bool)
	if !ok {
		return true // vectors without the field describe valid inputs
	}
	return b
}

func eq(what string, got, want []byte) error {
	if !bytes.Equal(got, want) {
		return failf("%s: got %x, want %x", what, got, want)
	}
	return nil
}

func eqs(what, got, want string) error {
	if got != want {
		return failf("%s: got %q, want %q", what, got, want)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

var loginKeysMemo sync.Map

// deriveLoginKeysMemo caches DeriveLoginKeys, so that the mutation test runs
// PBKDF2 only for changes of its inputs.
func deriveLoginKeysMemo(password string, salt []byte, iterations int) (LoginKeys, error) {
	k := fmt.Sprintf("%q %x %d", password, salt, iterations)
	if lk, ok := loginKeysMemo.Load(k); ok {
		return lk.(LoginKeys), nil
	}
	lk, err := DeriveLoginKeys(password, salt, iterations)
	if err == nil {
		loginKeysMemo.Store(k, lk)
	}
	return lk, err
}

// checkVector returns nil when Go agrees with the vector. Malformed vector
// fields (a field that does not decode) are errors too.
func checkVector(v vector) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if ve, ok := r.(vectorError); ok {
				err = ve
				return
			}
			panic(r)
		}
	}()
	kind := v.str("kind")
	valid := v.valid()
	// wantErr turns the outcome of a reader into the vector's verdict.
	wantErr := func(e error) error {
		if valid {
			return e
		}
		if e == nil {
			return failf("%s: accepted an invalid input", kind)
		}
		if !errors.Is(e, ErrMalformed) && !errors.Is(e, ErrDecrypt) && !errors.Is(e, ErrWeakKDF) {
			return failf("%s: error %v wraps no sentinel", kind, e)
		}
		return nil
	}
	switch kind {
	case "base64url":
		b, e := DecodeBase64(v.str("input"))
		if e != nil || !valid {
			return wantErr(e)
		}
		return firstErr(eqs("hex", hex.EncodeToString(b), v.str("hex")), eqs("encode", EncodeBase64(b), v.str("input")))

	case "kdf-login":
		lk, e := deriveLoginKeysMemo(v.str("password"), v.bytes("salt"), int(v.int("iterations")))
		if e != nil || !valid {
			return wantErr(e)
		}
		c, e := NewCipher(lk.WrapKey)
		if e != nil {
			return e
		}
		unwrapped, e := UnwrapLoginKey(lk.WrapKey, v.str("loginId"), v.str("wrappedLoginKey"))
		if e != nil {
			return e
		}
		return firstErr(eq("auth key", lk.AuthKey, v.bytes("authKey")), eq("wrap key", lk.WrapKey, v.bytes("wrapKey")),
			eqs("wrapped login key", sealA1(c, v.bytes("nonce"), aad(aadLoginKey, v.str("loginId")), v.bytes("loginKey")), v.str("wrappedLoginKey")),
			eq("unwrapped login key", unwrapped, v.bytes("loginKey")))

	case "recovery-keys":
		code := v.bytes("code")
		parsed, e := ParseRecoveryCode(v.str("formatted"))
		if e != nil {
			return e
		}
		rk, e := DeriveRecoveryKeys(code)
		if e != nil {
			return e
		}
		c, _ := NewCipher(rk.Key)
		unwrapped, e := RecoveryUnwrapLoginKey(rk.Key, v.str("loginId"), v.str("recoveryWrappedLoginKey"))
		if e != nil {
			return e
		}
		return firstErr(eqs("formatted", FormatRecoveryCode(code), v.str("formatted")), eq("parsed", parsed, code),
			eq("recovery key", rk.Key, v.bytes("recoveryKey")), eq("proof", rk.Proof, v.bytes("proof")),
			eq("proof hash", HashToken(rk.Proof), v.bytes("proofHash")),
			eqs("wrapped", sealA1(c, v.bytes("nonce"), aad(aadRecoveryLoginKey, v.str("loginId")), v.bytes("loginKey")), v.str("recoveryWrappedLoginKey")),
			eq("unwrapped", unwrapped, v.bytes("loginKey")))

	case "recovery-code-parse":
		b, e := ParseRecoveryCode(v.str("input"))
		if e != nil || !valid {
			return wantErr(e)
		}
		return eq("code", b, v.bytes("code"))

	case "invite-keys":
		ik, e := DeriveInviteKeys(v.bytes("inviteKey"))
		if e != nil {
			return e
		}
		c, _ := NewCipher(ik.WrapKey)
		kek, e := UnwrapKEK(ik.WrapKey, v.str("accountId"), v.str("inviteWrappedKek"))
		if e != nil {
			return e
		}
		return firstErr(eq("wrap key", ik.WrapKey, v.bytes("wrapKey")), eq("token", ik.Token, v.bytes("token")),
			eq("token hash", HashToken(ik.Token), v.bytes("tokenHash")),
			eqs("wrapped", sealA1(c, v.bytes("nonce"), aad(aadKEK, v.str("accountId")), v.bytes("kek")), v.str("inviteWrappedKek")),
			eq("kek", kek, v.bytes("kek")))

	case "instance-keys":
		ik, e := DeriveInstanceKeys(v.bytes("secret"))
		if e != nil || !valid {
			return wantErr(e)
		}
		return firstErr(eq("email index key", ik.EmailIndex, v.bytes("emailIndexKey")), eq("fake salt key", ik.FakeSalt, v.bytes("fakeSaltKey")),
			eq("certificates key", ik.Certificates, v.bytes("certificatesKey")))

	case "a1":
		return checkA1(v, valid, wantErr)

	case "e1":
		priv, e := ParsePrivateKey(v.bytes("accountPrivateKey"))
		if e != nil {
			return e
		}
		secret, e := UnwrapUserSecret(priv, v.str("accountId"), v.str("ciphertext"))
		if e != nil || !valid {
			return wantErr(e)
		}
		eph, e := ParsePrivateKey(v.bytes("ephemeralPrivateKey"))
		if e != nil {
			return e
		}
		pub, e := ParsePublicKey(v.str("accountPublicKey"))
		if e != nil {
			return e
		}
		z, e := eph.ECDH(pub)
		if e != nil {
			return e
		}
		key, _ := eciesKey(z)
		ct, e := wrapUserSecret(eph, v.bytes("nonce"), pub, v.str("accountId"), v.bytes("secret"))
		if e != nil {
			return e
		}
		return firstErr(eq("secret", secret, v.bytes("secret")), eq("shared secret", z, v.bytes("sharedSecret")),
			eq("ecies key", key, v.bytes("eciesKey")), eqs("ciphertext", ct, v.str("ciphertext")),
			eq("public key", priv.PublicKey().Bytes(), pub.Bytes()))

	case "p256":
		pub, e := ParsePublicKey(v.str("input"))
		if e != nil || !valid {
			return wantErr(e)
		}
		s, _ := FormatPublicKey(pub)
		return eqs("format", s, v.str("input"))

	case "pkcs8":
		der := v.bytes("pkcs8")
		priv, e := ParsePrivateKey(der)
		if e != nil || !valid {
			return wantErr(e)
		}
		pub, _ := FormatPublicKey(priv.PublicKey())
		if err := eqs("public key", pub, v.str("publicKey")); err != nil {
			return err
		}
		switch v.str("origin") {
		case "go":
			m, e := MarshalPrivateKey(priv)
			if e != nil {
				return e
			}
			return eq("marshal", m, der)
		case "webcrypto":
			return nil
		}
		return failf("unknown origin %q", v.str("origin"))

	case "argon2id1":
		ok, e := VerifyAuthKey(v.str("hash"), v.bytes("authKey"))
		if !valid {
			if ok {
				return failf("argon2id1: verified a wrong key or hash")
			}
			if e != nil && !errors.Is(e, ErrMalformed) {
				return failf("argon2id1: %v", e)
			}
			return nil
		}
		if e != nil || !ok {
			return failf("argon2id1: got %v %v, want a match", ok, e)
		}
		h, e := hashAuthKey(v.bytes("authKey"), v.bytes("salt"))
		if e != nil {
			return e
		}
		return eqs("hash", h, v.str("hash"))

	case "email":
		n, e := NormalizeEmail(v.str("input"))
		if e != nil || !valid {
			return wantErr(e)
		}
		idx, e := EmailIndex(v.bytes("emailIndexKey"), v.str("input"))
		if e != nil {
			return e
		}
		fs, e := FakeSalt(v.bytes("fakeSaltKey"), v.str("input"))
		if e != nil {
			return e
		}
		return firstErr(eqs("normalized", n, v.str("normalized")), eqs("index", idx, v.str("index")), eq("fake salt", fs, v.bytes("fakeSalt")))

	case "secret-id":
		uid, e := ParseUserID(v.str("userId"))
		if e != nil {
			return e
		}
		id, e := SecretID(v.bytes("userSalt"), uid)
		if e != nil {
			return e
		}
		return eqs("secret id", id, v.str("secretId"))

	case "token-hash":
		return eq("hash", HashToken(v.bytes("token")), v.bytes("hash"))

	case "ulid":
		tm, e := ParseULID(v.str("ulid"))
		if e != nil || !valid {
			return wantErr(e)
		}
		return firstErr(eqs("ulid", ulid(v.int("timeMs"), v.bytes("entropy")), v.str("ulid")),
			eqs("time", strconv.FormatInt(tm.UnixMilli(), 10), strconv.FormatInt(v.int("timeMs"), 10)))

	case "id":
		var ok bool
		switch v.str("type") {
		case "uuid":
			ok = ValidUUID(v.str("input"))
		case "keyId":
			ok = ValidKeyID(v.str("input"))
		case "userId":
			_, e := ParseUserID(v.str("input"))
			ok = e == nil
		default:
			return failf("unknown id type %q", v.str("type"))
		}
		if ok != valid {
			return failf("id %q: got valid %v, want %v", v.str("input"), ok, valid)
		}
		return nil
	}
	return failf("unknown kind %q", kind)
}

var a1Purposes = map[string]string{
	"event":              aadEvent,
	"private-key":        aadPrivateKey,
	"kek":                aadKEK,
	"login-key":          aadLoginKey,
	"recovery-login-key": aadRecoveryLoginKey,
	"label":              aadLabel,
	"certificate":        aadCertificate,
}

// checkA1 decrypts with the purpose's own function, so the purpose's AAD and
// length checks are what is tested.
func checkA1(v vector, valid bool, wantErr func(error) error) error {
	purpose := v.str("purpose")
	prefix, ok := a1Purposes[purpose]
	if !ok {
		return failf("unknown a1 purpose %q", purpose)
	}
	key, id, ct := v.bytes("key"), v.str("id"), v.str("ciphertext")
	var pt []byte
	var e error
	switch purpose {
	case "event":
		c, err := NewCipher(key)
		if err != nil {
			return err
		}
		pt, e = DecryptEvent(c, id, ct)
	case "private-key":
		priv, err := DecryptPrivateKey(key, id, ct)
		e = err
		if e == nil {
			pt, e = MarshalPrivateKey(priv)
		}
	case "kek":
		pt, e = UnwrapKEK(key, id, ct)
	case "login-key":
		pt, e = UnwrapLoginKey(key, id, ct)
	case "recovery-login-key":
		pt, e = RecoveryUnwrapLoginKey(key, id, ct)
	case "label":
		var s string
		s, e = DecryptLabel(key, id, ct)
		pt = []byte(s)
	case "certificate":
		pt, e = DecryptCertificate(key, id, ct)
	}
	if e != nil || !valid {
		return wantErr(e)
	}
	c, err := NewCipher(key)
	if err != nil {
		return err
	}
	return firstErr(eqs("aad", string(aad(prefix, id)), v.str("aad")), eq("plaintext", pt, v.bytes("plaintext")),
		eqs("ciphertext", sealA1(c, v.bytes("nonce"), aad(prefix, id), v.bytes("plaintext")), ct))
}

func TestVectors(t *testing.T) {
	t.Parallel()
	for i, v := range loadVectors(t) {
		t.Run(fmt.Sprintf("%d %v", i, v["name"]), func(t *testing.T) {
			if err := checkVector(v); err != nil {
				t.Error(err)
			}
		})
	}
}

// mutateString changes the character at i to a different one of the same
// class that no parser treats as equivalent (no case change, no O/0 or I/1).
func mutateString(s string, i int) string {
	b := []byte(s)
	c := b[i]
	switch {
	case c >= 'a' && c < 'z', c >= 'A' && c < 'Z', c >= '0' && c < '9':
		c++
		if c == 'i' || c == 'l' || c == 'o' || c == 'I' || c == 'L' || c == 'O' {
			c++
		}
	case c == 'z', c == 'Z', c == '9':
		c--
	default:
		c = 'x'
	}
	b[i] = c
	return string(b)
}

// TestVectorsDetectMutation changes one character (or number) of every data
// field of every positive vector and requires the check to fail, so that no
// field is along for the ride.
func TestVectorsDetectMutation(t *testing.T) {
	t.Parallel()
	if testing.Short() || raceEnabled {
		t.Skip("slow: runs PBKDF2 and argon2id once per field (skipped with -short and -race)")
	}
	for i, v := range loadVectors(t) {
		// Invalid vectors must stay invalid under most changes, and id
		// vectors only classify inputs (a changed valid id may stay valid).
		if !v.valid() || v["kind"] == "id" {
			continue
		}
		for k, val := range v {
			if k == "name" || k == "kind" {
				continue
			}
			var muts []any
			switch x := val.(type) {
			case string:
				if x == "" {
					muts = append(muts, "A")
					break
				}
				positions := []int{len(x) / 2}
				if v["kind"] != "kdf-login" && v["kind"] != "argon2id1" {
					positions = append(positions, 0, len(x)-1)
				}
				for _, p := range positions {
					muts = append(muts, mutateString(x, p))
				}
			case json.Number:
				n, _ := x.Int64()
				muts = append(muts, json.Number(strconv.FormatInt(n+1, 10)))
			case bool:
				muts = append(muts, !x)
			}
			for _, m := range muts {
				w := vector{}
				for kk, vv := range v {
					w[kk] = vv
				}
				w[k] = m
				if err := checkVector(w); err == nil {
					t.Errorf("vector %d %v: changing %s to %v went unnoticed", i, v["name"], k, m)
				}
			}
		}
	}
}
