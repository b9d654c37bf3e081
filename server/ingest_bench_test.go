// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/server"
)

// BenchmarkCreateEvents drives POST /api/events through the real router on
// a real SQLite store, one payload per request as the ingest bench sends
// them, from many visitors (each with its own address, user cookie and
// exchanged secret) so that no throttle trips. Run it with -cpuprofile to
// see where the server spends its time per event:
//
//	go test ./server -run '^$' -bench CreateEvents -cpuprofile cpu.out
func BenchmarkCreateEvents(b *testing.B) {
	store := persistencetest.NewSQLiteStore(b)
	loc, err := locales.New()
	if err != nil {
		b.Fatal(err)
	}
	// The server's clock moves 10ms per reading, so each visitor's token
	// buckets refill between its requests however fast the loop runs.
	start := time.Now()
	var ticks atomic.Int64
	now := func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * 10 * time.Millisecond) }
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := server.New(logger, server.Options{PublicURL: "https://offen.example.org", Locale: "en", Now: now}, store, nil, loc, nil, testBundle())

	id := keys.NewUUID()
	priv, err := keys.GenerateAccountKey()
	if err != nil {
		b.Fatal(err)
	}
	pub, err := keys.FormatPublicKey(priv.PublicKey())
	if err != nil {
		b.Fatal(err)
	}
	encPriv, err := keys.EncryptPrivateKey(keys.NewKey(), id, priv)
	if err != nil {
		b.Fatal(err)
	}
	a, err := store.CreateAccount(b.Context(), persistence.Account{ID: id, Name: "bench", PublicKey: pub, EncryptedPrivateKey: encPriv})
	if err != nil {
		b.Fatal(err)
	}

	type prepared struct {
		ip, user string
		body     []byte
	}
	const visitors = 500
	send := func(p prepared, method, path string, body []byte) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, bytes.NewReader(body))
		r.RemoteAddr = p.ip + ":50000"
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		if p.user != "" {
			r.AddCookie(&http.Cookie{Name: "user", Value: p.user})
		}
		r.AddCookie(&http.Cookie{Name: "consent", Value: "allow"})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	all := make([]prepared, visitors)
	for i := range all {
		p := prepared{ip: fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)}
		secret := keys.NewKey()
		wrapped, err := keys.WrapUserSecret(priv.PublicKey(), a.ID, secret)
		if err != nil {
			b.Fatal(err)
		}
		keyID := keys.NewKeyID()
		body, _ := json.Marshal(map[string]string{"accountId": a.ID, "keyId": keyID, "wrappedSecret": wrapped})
		w := send(p, http.MethodPost, "/api/exchange", body)
		if w.Code != http.StatusCreated {
			b.Fatalf("exchange: %d %s", w.Code, w.Body)
		}
		for _, c := range w.Result().Cookies() {
			if c.Name == "user" {
				p.user = c.Value
			}
		}
		if p.user == "" {
			b.Fatal("exchange set no user cookie")
		}
		c, err := keys.NewCipher(secret)
		if err != nil {
			b.Fatal(err)
		}
		ev, _ := json.Marshal(map[string]any{"v": 1, "type": "PAGEVIEW", "href": "https://www.example.net/bench/page"})
		p.body, _ = json.Marshal(map[string]any{"accountId": a.ID, "keyId": keyID, "payloads": []string{keys.EncryptEvent(c, a.ID, ev)}})
		all[i] = p
	}

	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := all[int(next.Add(1))%visitors]
			if w := send(p, http.MethodPost, "/api/events", p.body); w.Code != http.StatusCreated {
				b.Errorf("events: %d %s", w.Code, w.Body)
				return
			}
		}
	})
}
