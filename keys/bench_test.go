// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"bytes"
	"testing"
	"time"
)

// Run with `make bench` or `go test ./keys -run '^$' -bench .`.

func BenchmarkUnwrapUserSecret(b *testing.B) {
	priv, _ := GenerateAccountKey()
	s, _ := WrapUserSecret(priv.PublicKey(), "acct", NewKey())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnwrapUserSecret(priv, "acct", s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrapUserSecret(b *testing.B) {
	priv, _ := GenerateAccountKey()
	secret := NewKey()
	for b.Loop() {
		if _, err := WrapUserSecret(priv.PublicKey(), "acct", secret); err != nil {
			b.Fatal(err)
		}
	}
}

var benchEvent = []byte(`{"v":1,"type":"PAGEVIEW","href":"https://www.example.com/blog/2026/11/some-article?utm_source=news","referrer":"https://news.example.net/","pageload":412,"timestamp":"2026-11-22T05:00:00.000Z","sessionId":"00112233445566778899aabbccddeeff","geo":"DE","isMobile":false}`)

func BenchmarkDecryptEvent(b *testing.B) {
	c, _ := NewCipher(NewKey())
	s := EncryptEvent(c, "acct", benchEvent)
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecryptEvent(c, "acct", s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncryptEvent(b *testing.B) {
	c, _ := NewCipher(NewKey())
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		EncryptEvent(c, "acct", benchEvent)
	}
}

func BenchmarkDeriveLoginKeys(b *testing.B) {
	salt := NewSalt()
	start := time.Now()
	for b.Loop() {
		if _, err := DeriveLoginKeys("correct horse battery staple", salt, KDFIterations); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
}

func BenchmarkVerifyAuthKey(b *testing.B) {
	key := NewKey()
	h, _ := HashAuthKey(key)
	start := time.Now()
	for b.Loop() {
		if ok, err := VerifyAuthKey(h, key); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
}

func BenchmarkSecretID(b *testing.B) {
	salt, uid := NewSalt(), bytes.Repeat([]byte{1}, 16)
	for b.Loop() {
		SecretID(salt, uid)
	}
}
