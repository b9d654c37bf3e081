// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// format is one ciphertext format with a reader bound to the right key and id.
type format struct {
	name string
	s    string
	// open reads s with the given key material and id.
	open func(key []byte, id, s string) error
	key  []byte
	id   string
}

func testFormats(t *testing.T) []format {
	t.Helper()
	accountID, loginID := NewUUID(), NewUUID()
	kek, loginKey, secret := NewKey(), NewKey(), NewKey()
	account, err := GenerateAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	der, _ := MarshalPrivateKey(account)
	m := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	c, _ := NewCipher(secret)
	ignore := func(_ []byte, err error) error { return err }
	return []format{
		{"event", EncryptEvent(c, accountID, []byte(`{"v":1}`)), func(k []byte, id, s string) error {
			c, err := NewCipher(k)
			if err != nil {
				return err
			}
			return ignore(DecryptEvent(c, id, s))
		}, secret, accountID},
		{"private key", m(EncryptPrivateKey(kek, accountID, account)), func(k []byte, id, s string) error {
			_, err := DecryptPrivateKey(k, id, s)
			return err
		}, kek, accountID},
		{"kek", m(WrapKEK(loginKey, accountID, kek)), func(k []byte, id, s string) error { return ignore(UnwrapKEK(k, id, s)) }, loginKey, accountID},
		{"login key", m(WrapLoginKey(kek, loginID, loginKey)), func(k []byte, id, s string) error { return ignore(UnwrapLoginKey(k, id, s)) }, kek, loginID},
		{"recovery login key", m(RecoveryWrapLoginKey(kek, loginID, loginKey)), func(k []byte, id, s string) error {
			return ignore(RecoveryUnwrapLoginKey(k, id, s))
		}, kek, loginID},
		{"label", m(EncryptLabel(kek, accountID, "a@example.org")), func(k []byte, id, s string) error {
			_, err := DecryptLabel(k, id, s)
			return err
		}, kek, accountID},
		{"certificate", m(EncryptCertificate(kek, "example.org", []byte("data"))), func(k []byte, id, s string) error {
			return ignore(DecryptCertificate(k, id, s))
		}, kek, "example.org"},
		{"user secret", m(WrapUserSecret(account.PublicKey(), accountID, secret)), func(k []byte, id, s string) error {
			priv, err := ParsePrivateKey(k)
			if err != nil {
				return err
			}
			return ignore(UnwrapUserSecret(priv, id, s))
		}, der, accountID},
	}
}

func wantRejected(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted", what)
	} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrDecrypt) {
		t.Errorf("%s: error %v wraps neither ErrMalformed nor ErrDecrypt", what, err)
	}
}

// TestTampering flips every bit of every part, truncates at every length and
// changes label, key and id of each format: all must fail with a sentinel.
func TestTampering(t *testing.T) {
	t.Parallel()
	for _, f := range testFormats(t) {
		t.Run(f.name, func(t *testing.T) {
			if err := f.open(f.key, f.id, f.s); err != nil {
				t.Fatalf("untampered: %v", err)
			}
			parts := strings.Split(f.s, ".")
			for i := 1; i < len(parts); i++ {
				raw, _ := DecodeBase64(parts[i])
				for bit := 0; bit < 8*len(raw); bit++ {
					b := bytes.Clone(raw)
					b[bit/8] ^= 1 << (bit % 8)
					ps := append([]string(nil), parts...)
					ps[i] = EncodeBase64(b)
					if err := f.open(f.key, f.id, strings.Join(ps, ".")); err == nil {
						t.Fatalf("part %d bit %d flipped: accepted", i, bit)
					}
				}
			}
			for n := 0; n < len(f.s); n++ {
				wantRejected(t, "truncated", f.open(f.key, f.id, f.s[:n]))
			}
			_, rest, _ := strings.Cut(f.s, ".")
			for _, label := range []string{"a1", "e1", "a2", "e2", "A1", "p256", "argon2id1", ""} {
				if label+"."+rest != f.s {
					wantRejected(t, "label "+label, f.open(f.key, f.id, label+"."+rest))
				}
			}
			wantRejected(t, "extra part", f.open(f.key, f.id, f.s+".AAAA"))
			wantRejected(t, "foreign id", f.open(f.key, f.id+"0", f.s))
			wantRejected(t, "empty id", f.open(f.key, "", f.s))
			wrong := NewKey()
			if f.name == "user secret" {
				other, _ := GenerateAccountKey()
				wrong, _ = MarshalPrivateKey(other)
			}
			wantRejected(t, "wrong key", f.open(wrong, f.id, f.s))
		})
	}
}

func TestSealOpenA1(t *testing.T) {
	t.Parallel()
	c, err := NewCipher(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("y"), 5000)} {
		s := SealA1(c, []byte("offen/v1/rollup-secret|a|b"), pt)
		got, err := OpenA1(c, []byte("offen/v1/rollup-secret|a|b"), s)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("got %q %v, want %q", got, err, pt)
		}
		if s2 := SealA1(c, nil, pt); s2 == s {
			t.Error("two seals gave the same string: nonce reuse")
		}
	}
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := NewCipher(make([]byte, n)); !errors.Is(err, ErrMalformed) {
			t.Errorf("NewCipher(%d bytes): got %v, want ErrMalformed", n, err)
		}
	}
	if _, err := WrapKEK(NewKey(), "a", make([]byte, 31)); !errors.Is(err, ErrMalformed) {
		t.Errorf("WrapKEK with a short KEK: got %v", err)
	}
	if _, err := WrapUserSecret(nil, "a", NewKey()); !errors.Is(err, ErrMalformed) {
		t.Errorf("WrapUserSecret with a nil key: got %v", err)
	}
}

// TestLoginKeysRefuseWeakParameters; the derivation itself (including NFC)
// is pinned by the kdf-login vectors, whose NFC and NFD passwords share keys.
func TestLoginKeysRefuseWeakParameters(t *testing.T) {
	t.Parallel()
	salt := NewSalt()
	for _, c := range []struct {
		salt []byte
		iter int
	}{{salt, KDFIterations - 1}, {salt, 0}, {salt, -1}, {salt[:15], KDFIterations}, {nil, KDFIterations}} {
		if _, err := DeriveLoginKeys("pw", c.salt, c.iter); !errors.Is(err, ErrWeakKDF) {
			t.Errorf("salt %d bytes, %d iterations: got %v, want ErrWeakKDF", len(c.salt), c.iter, err)
		}
	}
}

func TestAuthHash(t *testing.T) {
	t.Parallel()
	key := NewKey()
	h, err := HashAuthKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := HashAuthKey(key); h2 == h {
		t.Error("two hashes share a salt")
	}
	if ok, err := VerifyAuthKey(h, key); !ok || err != nil {
		t.Errorf("right key: got %v %v", ok, err)
	}
	if ok, err := VerifyAuthKey(h, NewKey()); ok || err != nil {
		t.Errorf("wrong key: got %v %v", ok, err)
	}
	if ok, _ := VerifyAuthKey(h, key[:31]); ok {
		t.Error("short key matched")
	}
	if ok, err := VerifyAuthKey(DummyAuthHash, make([]byte, 32)); ok || err != nil {
		t.Errorf("dummy hash: got %v %v", ok, err)
	}
	if _, err := VerifyAuthKey("argon2id1.AA.AA", key); !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed hash: got %v", err)
	}
	if _, err := HashAuthKey(key[:16]); !errors.Is(err, ErrMalformed) {
		t.Errorf("short auth key: got %v", err)
	}
}

func TestRecoveryCode(t *testing.T) {
	t.Parallel()
	for i := 0; i < 200; i++ {
		code := NewRecoveryCode()
		s := FormatRecoveryCode(code)
		if len(s) != 39 || strings.Count(s, "-") != 7 {
			t.Fatalf("format %q", s)
		}
		for _, in := range []string{s, strings.ToLower(s), strings.ReplaceAll(s, "-", " "), strings.ReplaceAll(s, "-", "")} {
			got, err := ParseRecoveryCode(in)
			if err != nil || !bytes.Equal(got, code) {
				t.Fatalf("parse %q: got %x %v, want %x", in, got, err, code)
			}
		}
	}
	if _, err := DeriveRecoveryKeys(make([]byte, 19)); !errors.Is(err, ErrMalformed) {
		t.Errorf("short code: got %v", err)
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		for _, id := range []string{NewUUID(), NewKeyID(), NewSessionID(), NewUserID()} {
			if seen[id] {
				t.Fatalf("duplicate id %s", id)
			}
			seen[id] = true
		}
		if u := NewUUID(); !ValidUUID(u) {
			t.Errorf("NewUUID %q is not valid", u)
		}
		if k := NewKeyID(); !ValidKeyID(k) {
			t.Errorf("NewKeyID %q is not valid", k)
		}
		if _, err := ParseUserID(NewUserID()); err != nil {
			t.Error(err)
		}
		raw, enc := NewToken()
		if got, err := ParseToken(enc); err != nil || !bytes.Equal(got, raw) {
			t.Errorf("token round trip: %v", err)
		}
	}
	for _, s := range []string{"", "AAAA", EncodeBase64(make([]byte, 31)), EncodeBase64(make([]byte, 32)) + "="} {
		if _, err := ParseToken(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseToken(%q): got %v", s, err)
		}
	}
}

func TestULID(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 6, 0, 0, 5e6, time.UTC)
	clock := func() time.Time { return now }
	a, b := NewULID(clock), NewULID(clock)
	if a == b || a[:10] != b[:10] {
		t.Errorf("got %s and %s", a, b)
	}
	tm, err := ParseULID(a)
	if err != nil || !tm.Equal(now) {
		t.Errorf("ParseULID: got %v %v, want %v", tm, err, now)
	}
	later := NewULID(func() time.Time { return now.Add(time.Millisecond) })
	if !(a < later) || !(MinULID(now) <= a) || !(MinULID(now.Add(time.Millisecond)) > a) {
		t.Errorf("ULIDs do not sort by time: %s %s %s", MinULID(now), a, later)
	}
}

func TestSecretIDAndEmail(t *testing.T) {
	t.Parallel()
	uid, _ := ParseUserID(NewUserID())
	s1, s2 := NewSalt(), NewSalt()
	a, err := SecretID(s1, uid)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SecretID(s2, uid)
	if a == b || len(a) != 64 {
		t.Errorf("secret ids %s %s", a, b)
	}
	if _, err := SecretID(s1[:15], uid); !errors.Is(err, ErrMalformed) {
		t.Errorf("short salt: got %v", err)
	}
	ik, _ := DeriveInstanceKeys(NewKey())
	i1, _ := EmailIndex(ik.EmailIndex, " A@Example.org ")
	i2, _ := EmailIndex(ik.EmailIndex, "a@example.ORG")
	if i1 != i2 || len(i1) != 64 {
		t.Errorf("email index not normalized: %s %s", i1, i2)
	}
	f1, _ := FakeSalt(ik.FakeSalt, "a@example.org")
	if len(f1) != 16 {
		t.Errorf("fake salt has %d bytes", len(f1))
	}
	if _, err := EmailIndex(ik.EmailIndex, "nope"); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad address: got %v", err)
	}
}

func TestCheckFormat(t *testing.T) {
	t.Parallel()
	c, _ := NewCipher(NewKey())
	priv, _ := GenerateAccountKey()
	e1, _ := WrapUserSecret(priv.PublicKey(), "a", NewKey())
	p, _ := FormatPublicKey(priv.PublicKey())
	for _, ok := range []struct{ s, label string }{
		{EncryptEvent(c, "a", []byte("{}")), LabelA1}, {e1, LabelE1}, {p, LabelP256}, {DummyAuthHash, LabelArgon2id},
	} {
		if err := CheckFormat(ok.s, ok.label); err != nil {
			t.Errorf("%s: %v", ok.label, err)
		}
		for _, other := range []string{LabelA1, LabelE1, LabelP256, LabelArgon2id, "x1"} {
			if other != ok.label {
				if err := CheckFormat(ok.s, other); !errors.Is(err, ErrMalformed) {
					t.Errorf("%s as %s: got %v", ok.label, other, err)
				}
			}
		}
	}
}

// TestParsePrivateKeyShortScalar reads a PKCS#8 whose encoder stripped the
// leading zero byte of the scalar, as crypto/x509 does.
func TestParsePrivateKeyShortScalar(t *testing.T) {
	t.Parallel()
	var priv *ecdh.PrivateKey
	for priv == nil || priv.Bytes()[0] != 0 {
		priv, _ = GenerateAccountKey()
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidECPublicKey)
			b.AddASN1ObjectIdentifier(oidP256)
		})
		b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1OctetString(priv.Bytes()[1:])
			})
		})
	})
	der := b.BytesOrPanic()
	got, err := ParsePrivateKey(der)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("got %v, want the key back", err)
	}
	if _, err := ParsePrivateKey(append(der, 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: got %v", err)
	}
}

func TestDeviceToken(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, MinInstanceSecretSize)
	ik, err := DeriveInstanceKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hkdf.Key(sha256.New, secret, []byte("offen/v1/instance"), "device", KeySize)
	if !bytes.Equal(ik.Device, want) {
		t.Fatal("device key is not HKDF(secret, offen/v1/instance, device)")
	}
	for _, other := range [][]byte{ik.EmailIndex, ik.FakeSalt, ik.Certificates} {
		if bytes.Equal(ik.Device, other) {
			t.Fatal("device key equals another instance key")
		}
	}
	tok := NewDeviceToken(ik.Device, "index-a")
	if len(tok) != 43 {
		t.Errorf("got a %d-character token, want 43 (32 bytes)", len(tok))
	}
	if tok == NewDeviceToken(ik.Device, "index-a") {
		t.Error("two tokens for one login are equal, want fresh nonces")
	}
	if !CheckDeviceToken(ik.Device, "index-a", tok) {
		t.Fatal("a fresh token does not check")
	}
	raw, _ := DecodeBase64(tok)
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 1
		if CheckDeviceToken(ik.Device, "index-a", EncodeBase64(bad)) {
			t.Fatalf("token with byte %d flipped checks", i)
		}
	}
	other, _ := DeriveInstanceKeys(bytes.Repeat([]byte{8}, MinInstanceSecretSize))
	for name, ok := range map[string]bool{
		"another login":  CheckDeviceToken(ik.Device, "index-b", tok),
		"another secret": CheckDeviceToken(other.Device, "index-a", tok),
		"truncated":      CheckDeviceToken(ik.Device, "index-a", tok[:42]),
		"empty":          CheckDeviceToken(ik.Device, "index-a", ""),
	} {
		if ok {
			t.Errorf("%s: got a token accepted", name)
		}
	}
}
