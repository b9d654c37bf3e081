// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
)

// BenchmarkAccountEventsPage serves one full page (5,000 events, the most a
// page holds) of GET /api/accounts/{id}/events from a seeded SQLite store:
// the store query, the scan and the JSON encoding, as the dashboard's cold
// load asks for them page after page. It reports ns and allocs per event.
// Run it with -cpuprofile to see where the time goes:
//
//	go test ./server -run '^$' -bench AccountEventsPage -cpuprofile cpu.out
func BenchmarkAccountEventsPage(b *testing.B) {
	const (
		nVisitors = 200
		perVisit  = 30 // 6,000 events: a full page and then some
		limit     = persistence.MaxFeedLimit
	)
	ctx := context.Background()
	store := persistencetest.NewSQLiteStore(b)
	priv, err := keys.GenerateAccountKey()
	if err != nil {
		b.Fatal(err)
	}
	pub, err := keys.FormatPublicKey(priv.PublicKey())
	if err != nil {
		b.Fatal(err)
	}
	id := keys.NewUUID()
	encPriv, err := keys.EncryptPrivateKey(keys.NewKey(), id, priv)
	if err != nil {
		b.Fatal(err)
	}
	acc, err := store.CreateAccount(ctx, persistence.Account{ID: id, Name: "bench", PublicKey: pub, EncryptedPrivateKey: encPriv})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, nVisitors)
	for i := range nVisitors {
		wg.Go(func() {
			wrapped, err := keys.WrapUserSecret(priv.PublicKey(), acc.ID, keys.NewKey())
			if err != nil {
				errs <- err
				return
			}
			secretID, _ := keys.SecretID(acc.UserSalt, keys.NewKey()[:16])
			sec, err := store.CreateSecret(ctx, persistence.Secret{KeyID: keys.NewKeyID(), AccountID: acc.ID, SecretID: secretID, WrappedSecret: wrapped})
			if err != nil {
				errs <- err
				return
			}
			cipher, _ := keys.NewCipher(keys.NewKey())
			for j := 0; j < perVisit; j += persistence.MaxEventsPerRequest {
				payloads := make([]string, persistence.MaxEventsPerRequest)
				for k := range payloads {
					plain, _ := json.Marshal(map[string]any{
						"v": 1, "type": "PAGEVIEW", "href": fmt.Sprintf("https://www.example.com/page/%d", (i+j+k)%50),
						"referrer": "https://search.example.net/", "pageload": 200 + (i*7+j*13)%900,
						"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "sessionId": "0123456789abcdef0123456789abcdef",
						"geo": "DE", "isMobile": i%3 == 0,
					})
					payloads[k] = keys.EncryptEvent(cipher, acc.ID, plain)
				}
				if _, err := store.CreateEvents(ctx, persistence.NewEvents{AccountID: acc.ID, SecretID: secretID, KeyID: sec.KeyID, Payloads: payloads}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}

	v := &visitors{logger: slog.New(slog.DiscardHandler), store: store, retention: 180 * 24 * time.Hour}
	h := handleAccountEvents(v)
	rctx := chi.NewRouteContext()
	rctx.URLParams.Add("id", acc.ID)
	req := httptest.NewRequest("GET", fmt.Sprintf("/api/accounts/%s/events?limit=%d", acc.ID, limit), nil)
	req = req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, rctx))
	var size int
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		w := &countingWriter{header: http.Header{}}
		h(w, req)
		if w.code != 200 {
			b.Fatalf("status %d", w.code)
		}
		size = w.n
	}
	cpu := processCPU() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*limit), "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*limit), "cpu-ns/event")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() { h(&countingWriter{header: http.Header{}}, req) }))/limit, "allocs/event")
	b.ReportMetric(float64(size)/limit, "B/event")
}

// countingWriter is a ResponseWriter that counts the body's bytes and keeps
// none, so that a benchmark measures the handler rather than a recorder.
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (c *countingWriter) Header() http.Header { return c.header }

func (c *countingWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	c.n += len(p)
	return len(p), nil
}
