// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

// clockDrift is D of PROTOCOL.md §6: instance clocks agree within it.
const clockDrift = 20 * time.Second

// delayedCommitSeen plays the worst case the sync window must cover, with
// fixed clocks on three instances of one database: writer A (clock D behind)
// takes its seq, then holds its commit for up to T; meanwhile writer B
// commits an event with a later seq and a reader (clock D ahead), reading
// just before A's commit, finishes a run. It reports whether the reader's
// next run delivers A's event.
func delayedCommitSeen(t *testing.T, d persistencetest.Dialect, window time.Duration) bool {
	t.Helper()
	ctx := context.Background()
	T := persistence.MaxCommitDelay
	db := persistencetest.NewDatabase(t, d)
	setup := persistencetest.OpenStore(t, db)
	if err := setup.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := mustAccount(t, setup)
	v := mustVisitor(t, setup, a.ID, "")
	mustEvents(t, setup, v, 2)

	t0 := time.Now().Truncate(time.Second)
	fixed := func(at time.Time) persistencetest.Option {
		return persistencetest.WithNow(func() time.Time { return at })
	}
	writerA := persistencetest.OpenStore(t, db, fixed(t0.Add(-clockDrift)))
	writerB := persistencetest.OpenStore(t, db, fixed(t0.Add(T)))
	reader := persistencetest.OpenStore(t, db, fixed(t0.Add(T+clockDrift)))
	reader.SetSyncWindow(window)
	c := newCache()
	c.syncRun(t, accountFeed(reader, a.ID), 2)

	mustEvents(t, writerB, v, 1)
	waiting, release := blockCommits(writerA)
	defer release()
	done := make(chan []persistence.Event, 1)
	go func() {
		events, err := writerA.CreateEvents(ctx, persistence.NewEvents{
			AccountID: v.AccountID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload()},
		})
		if err != nil {
			t.Error(err)
		}
		done <- events
	}()
	<-waiting // A holds its seq, uncommitted.
	c.syncRun(t, accountFeed(reader, a.ID), 2)
	release()
	delayed := <-done
	if len(delayed) != 1 {
		t.Fatal("delayed write failed")
	}
	if _, ok := c.events[delayed[0].EventID]; ok {
		t.Fatal("the reader saw an uncommitted event")
	}
	c.syncRun(t, accountFeed(reader, a.ID), 2)
	_, seen := c.events[delayed[0].EventID]
	if seen && !slices.Equal(c.ids(), tableIDs(t, setup, "account_id = ?", a.ID)) {
		t.Error("cache differs from the table")
	}
	return seen
}

// TestSyncWindowCoversDelayedCommit is the unit test of PROTOCOL.md §6: a
// commit delayed past a reader's page shows in the next run with W = 60 s
// and with W = T + 2D, and is missed with W just below T + 2D, so the test
// can fail.
func TestSyncWindowCoversDelayedCommit(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		T := persistence.MaxCommitDelay
		for _, c := range []struct {
			window time.Duration
			seen   bool
		}{
			{persistence.SyncWindow, true},
			{T + 2*clockDrift, true},
			{T + 2*clockDrift - time.Millisecond, false},
		} {
			if got := delayedCommitSeen(t, d, c.window); got != c.seen {
				t.Errorf("W = %v: got seen %v, want %v", c.window, got, c.seen)
			}
		}
	})
}

// TestSyncProof is the persistence proof of PROTOCOL.md §6, scaled down in
// time: four writers as separate instances (own pools, clocks off by up to
// ±D, commits delayed by up to T) insert and delete events while two readers
// sync with small limits, one the account feed and one the visitor feed.
// After the writers stop, one final run leaves each reader's cache equal to
// the table.
func TestSyncProof(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		if testing.Short() {
			t.Skip("long")
		}
		const (
			T = 200 * time.Millisecond
			D = 100 * time.Millisecond
			W = T + 2*D
		)
		ctx := context.Background()
		db := persistencetest.NewDatabase(t, d)
		setup := persistencetest.OpenStore(t, db)
		if err := setup.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		a, b := mustAccount(t, setup), mustAccount(t, setup)
		// Visitors 0-2 also hold a key in b; the visitor reader follows them.
		var visitors []visitor
		var followed []string
		for i := range 6 {
			v := mustVisitor(t, setup, a.ID, "")
			visitors = append(visitors, v)
			if i < 3 {
				visitors = append(visitors, mustVisitor(t, setup, b.ID, v.SecretID))
				followed = append(followed, v.SecretID)
			}
		}
		offset := func(o time.Duration) persistencetest.Option {
			return persistencetest.WithNow(func() time.Time { return time.Now().Add(o) })
		}
		var writers []*relational.Store
		for _, o := range []time.Duration{-D, -D / 3, D / 3, D} {
			w := persistencetest.OpenStore(t, db, offset(o))
			w.SetCommitTimeout(T)
			w.SetCommitDelay(func(ctx context.Context) error {
				// Mostly short, a quarter of them up to T.
				delay := rand.Int64N(int64(T / 20))
				if rand.IntN(4) == 0 {
					delay = rand.Int64N(int64(T))
				}
				select {
				case <-time.After(time.Duration(delay)):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			writers = append(writers, w)
		}
		accountReader := persistencetest.OpenStore(t, db, offset(D))
		visitorReader := persistencetest.OpenStore(t, db, offset(-D))
		for _, r := range []*relational.Store{accountReader, visitorReader} {
			r.SetSyncWindow(W)
		}

		var keysMu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var writes, deletes atomic.Int64
		for _, w := range writers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					keysMu.Lock()
					i := rand.IntN(len(visitors))
					v := visitors[i]
					keysMu.Unlock()
					switch p := rand.IntN(100); {
					case p < 75:
						n := 1 + rand.IntN(3)
						payloads := make([]string, n)
						for j := range payloads {
							payloads[j] = payload()
						}
						if _, err := w.CreateEvents(ctx, persistence.NewEvents{AccountID: v.AccountID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: payloads}); err == nil {
							writes.Add(1)
						}
					case p < 95:
						if _, err := w.PurgeEvents(ctx, persistence.PurgeFilter{SecretIDs: []string{v.SecretID}, AccountID: v.AccountID}); err == nil {
							deletes.Add(1)
						}
					default:
						// Forget this key, then give the visitor a new one.
						if _, err := w.PurgeEvents(ctx, persistence.PurgeFilter{SecretIDs: []string{v.SecretID}, AccountID: v.AccountID, Forget: true}); err != nil {
							continue
						}
						deletes.Add(1)
						fresh := visitor{AccountID: v.AccountID, SecretID: v.SecretID, KeyID: randomHex(16)}
						if _, err := w.CreateSecret(ctx, persistence.Secret{KeyID: fresh.KeyID, AccountID: fresh.AccountID, SecretID: fresh.SecretID, WrappedSecret: "e1.x"}); err != nil && !errors.Is(err, persistence.ErrUnavailable) {
							t.Errorf("new secret: %v", err)
							continue
						}
						keysMu.Lock()
						visitors[i] = fresh
						keysMu.Unlock()
					}
				}
			})
		}
		accountCache, visitorCache := newCache(), newCache()
		var runs atomic.Int64
		var readers sync.WaitGroup
		for _, r := range []struct {
			c     *cache
			feed  feedFunc
			limit int
		}{
			{accountCache, accountFeed(accountReader, a.ID), 3},
			{visitorCache, visitorFeed(visitorReader, followed...), 5},
		} {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					r.c.syncRun(t, r.feed, r.limit)
					runs.Add(1)
					time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond))))
				}
			})
		}
		time.Sleep(3 * time.Second)
		close(stop)
		wg.Wait()
		readers.Wait()
		accountCache.syncRun(t, accountFeed(accountReader, a.ID), 3)
		visitorCache.syncRun(t, visitorFeed(visitorReader, followed...), 5)
		t.Logf("%d ingests, %d purges, %d reader runs, %d events left in a",
			writes.Load(), deletes.Load(), runs.Load(), len(accountCache.events))
		if writes.Load() == 0 || deletes.Load() == 0 {
			t.Fatal("the writers did nothing")
		}
		if got, want := accountCache.ids(), tableIDs(t, setup, "account_id = ?", a.ID); !slices.Equal(got, want) {
			t.Errorf("account reader: got %d events, the table has %d", len(got), len(want))
			for _, id := range got {
				if slices.Contains(want, id) {
					continue
				}
				e := accountCache.events[id]
				rows, _ := setup.Strings(ctx, "SELECT CONCAT(kind, ' ', seq, ' ', tombstone_id) FROM tombstones WHERE target = ? OR target = ?", id, e.KeyID)
				t.Logf("extra %s seq %d key %s: tombstones %v", id, e.Seq, e.KeyID, rows)
			}
		}
		if got, want := accountCache.ids(), tableIDs(t, setup, "account_id = ?", a.ID); !slices.Equal(got, want) {
			for _, id := range want {
				if !slices.Contains(got, id) {
					t.Logf("missing %s", id)
				}
			}
		}
		if got, want := visitorCache.ids(), tableIDs(t, setup, "secret_id IN ?", followed); !slices.Equal(got, want) {
			t.Errorf("visitor reader: got %d events, the table has %d", len(got), len(want))
		}
	})
}
