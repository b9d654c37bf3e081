// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/keys/segment"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

type benchEvent struct {
	EventID   string `gorm:"column:event_id"`
	AccountID string `gorm:"column:account_id"`
	SecretID  string `gorm:"column:secret_id"`
	KeyID     string `gorm:"column:key_id"`
	Payload   string `gorm:"column:payload"`
	Seq       int64  `gorm:"column:seq"`
}

func (benchEvent) TableName() string { return "events" }

// BenchmarkWriteEvents measures the write path group-commit ingest builds on:
// one write transaction per batch of events, seq taken inside. It reports
// events/s per dialect and batch size.
func BenchmarkWriteEvents(b *testing.B) {
	for _, d := range persistencetest.Dialects(b) {
		for _, batch := range []int{1, 100, 500} {
			b.Run(fmt.Sprintf("%s/batch=%d", d.Name, batch), func(b *testing.B) {
				ctx := context.Background()
				store := persistencetest.NewStore(b, d)
				acc, err := store.CreateAccount(ctx, newAccount("bench"))
				if err != nil {
					b.Fatal(err)
				}
				payload := "a1." + randomHex(6) + "." + randomHex(150)
				rows := make([]benchEvent, batch)
				b.ResetTimer()
				for b.Loop() {
					for j := range rows {
						rows[j] = benchEvent{
							EventID: relational.NewULID(time.Now()), AccountID: acc.ID,
							SecretID: randomHex(32), KeyID: randomHex(16), Payload: payload,
						}
					}
					err := store.Write(ctx, func(tx *gorm.DB) error {
						for j := range rows {
							rows[j].Seq = store.Seq()
						}
						return tx.CreateInBatches(rows, 500).Error
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkCreateEvents measures group-commit ingest: many goroutines call
// CreateEvents with one payload each, as POST /api/events does. It reports
// events/s per dialect and number of concurrent callers.
func BenchmarkCreateEvents(b *testing.B) {
	for _, d := range persistencetest.Dialects(b) {
		for _, callers := range []int{8, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", d.Name, callers), func(b *testing.B) {
				ctx := context.Background()
				store := persistencetest.NewStore(b, d)
				a := mustAccount(b, store)
				visitors := make([]visitor, 100)
				for i := range visitors {
					visitors[i] = mustVisitor(b, store, a.ID, "")
				}
				p := "a1." + randomHex(6) + "." + randomHex(150)
				var next atomic.Int64
				b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						v := visitors[next.Add(1)%int64(len(visitors))]
						_, err := store.CreateEvents(ctx, persistence.NewEvents{
							AccountID: v.AccountID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{p},
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkPutSegment measures an upload's coverage check: PutSegment of a
// closed day holding 50,000 events (a site with 50,000 page views a day),
// which reads and share-locks the day's event ids and hashes them.
func BenchmarkPutSegment(b *testing.B) {
	const perDay = 50_000
	for _, d := range persistencetest.Dialects(b) {
		b.Run(d.Name, func(b *testing.B) {
			ctx := context.Background()
			store := persistencetest.NewStore(b, d)
			acc, err := store.CreateAccount(ctx, newAccount("bench"))
			if err != nil {
				b.Fatal(err)
			}
			day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)
			payload := "a1." + randomHex(6) + "." + randomHex(150)
			ids := make([]string, 0, perDay)
			rows := make([]benchEvent, 0, 5000)
			for i := range perDay {
				at := day.Add(time.Duration(i) * (24 * time.Hour / perDay))
				id := relational.NewULID(at)
				ids = append(ids, id)
				rows = append(rows, benchEvent{EventID: id, AccountID: acc.ID, SecretID: randomHex(32), KeyID: randomHex(16), Payload: payload, Seq: at.UnixMicro()})
				if len(rows) == cap(rows) {
					if err := store.Write(ctx, func(tx *gorm.DB) error { return tx.CreateInBatches(rows, 500).Error }); err != nil {
						b.Fatal(err)
					}
					rows = rows[:0]
				}
			}
			n, digest, err := segment.Coverage(ids)
			if err != nil {
				b.Fatal(err)
			}
			seg := persistence.Segment{AccountID: acc.ID, Period: day.Format(time.DateOnly), Version: 1,
				Count: n, Digest: digest, Sealed: "a1." + randomHex(6) + "." + randomHex(1<<20), UploadedBy: newUUID()}
			b.ResetTimer()
			for b.Loop() {
				if _, err := store.PutSegment(ctx, seg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/upload")
		})
	}
}
