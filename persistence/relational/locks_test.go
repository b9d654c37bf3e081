// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

func TestLease(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		clk := newClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		db := persistencetest.NewDatabase(t, d)
		a := persistencetest.OpenStore(t, db, persistencetest.WithNow(clk.Now))
		if err := a.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		b := persistencetest.OpenStore(t, db, persistencetest.WithNow(clk.Now))

		acquire := func(s *relational.Store, want bool, what string) {
			t.Helper()
			got, err := s.AcquireLease(ctx, "test", relational.LeaseTTL)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if got != want {
				t.Fatalf("%s: got acquired %v, want %v", what, got, want)
			}
		}
		acquire(a, true, "free lease")
		acquire(b, false, "lease held by a")
		acquire(a, true, "a renews its own lease")
		clk.Add(relational.LeaseTTL - time.Second)
		acquire(b, false, "lease not yet expired")
		clk.Add(2 * time.Second)
		acquire(b, true, "expired lease taken over")
		acquire(a, false, "a lost the lease")

		ran := false
		held, err := a.WithLease(ctx, "test", func(context.Context) error { ran = true; return nil })
		if err != nil || held || ran {
			t.Fatalf("with lease held by another: got held %v ran %v err %v; want false, false, nil", held, ran, err)
		}
		if err := b.ReleaseLease(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		wantErr := errors.New("from fn")
		held, err = a.WithLease(ctx, "test", func(context.Context) error { ran = true; return wantErr })
		if !held || !ran || !errors.Is(err, wantErr) {
			t.Fatalf("with free lease: got held %v ran %v err %v", held, ran, err)
		}
		if n, _ := a.Count(ctx, "locks", "name = ?", "test"); n != 0 {
			t.Fatalf("got %d lease rows after WithLease, want 0 (released)", n)
		}

		t.Run("expire skips while another instance holds the lease", func(t *testing.T) {
			acquire := func(s *relational.Store) {
				if ok, err := s.AcquireLease(ctx, "expire", relational.LeaseTTL); err != nil || !ok {
					t.Fatalf("acquire expire lease: %v %v", ok, err)
				}
			}
			acquire(b)
			res, err := a.Expire(ctx, time.Hour)
			if err != nil || !res.Skipped {
				t.Fatalf("got %+v, %v; want skipped", res, err)
			}
			if err := b.ReleaseLease(ctx, "expire"); err != nil {
				t.Fatal(err)
			}
			res, err = a.Expire(ctx, time.Hour)
			if err != nil || res.Skipped {
				t.Fatalf("got %+v, %v; want a run", res, err)
			}
		})
	})
}

// TestLeaseRace lets several instances race for a free and for an expired
// lease; exactly one may win each round.
func TestLeaseRace(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		clk := newClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		db := persistencetest.NewDatabase(t, d)
		var stores []*relational.Store
		for range 4 {
			stores = append(stores, persistencetest.OpenStore(t, db, persistencetest.WithNow(clk.Now)))
		}
		if err := stores[0].Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for round := range 10 {
			// Even rounds race for a free lease, odd ones for an expired one.
			if round%2 == 1 {
				clk.Add(2 * relational.LeaseTTL)
			}
			var winners atomic.Int32
			var wg sync.WaitGroup
			for _, s := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.AcquireLease(ctx, "race", relational.LeaseTTL)
					if err != nil {
						t.Errorf("round %d: %v", round, err)
					}
					if ok {
						winners.Add(1)
					}
				}()
			}
			wg.Wait()
			if got := winners.Load(); got != 1 {
				t.Fatalf("round %d: got %d winners, want 1", round, got)
			}
			if round%2 == 1 {
				for _, s := range stores {
					if err := s.ReleaseLease(ctx, "race"); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}

// TestLeaseLost takes a lease away from a running holder: the holder's
// renewal notices, cancels its work and reports the loss.
func TestLeaseLost(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		store.SetLeaseTTL(200 * time.Millisecond)
		started := make(chan struct{})
		result := make(chan error, 1)
		go func() {
			held, err := store.WithLease(ctx, "test", func(ctx context.Context) error {
				close(started)
				<-ctx.Done()
				return ctx.Err()
			})
			if !held {
				err = errors.New("lease not acquired")
			}
			result <- err
		}()
		<-started
		if err := store.Exec(ctx, "UPDATE locks SET holder = ? WHERE name = ?", "another-instance", "test"); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-result:
			if err == nil || !strings.Contains(err.Error(), "lease lost") {
				t.Fatalf("got %v, want the lease reported lost", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("holder kept running after losing its lease")
		}
		if n, _ := store.Count(ctx, "locks", "name = ? AND holder = ?", "test", "another-instance"); n != 1 {
			t.Fatalf("the new holder's lease was released by the old one")
		}
	})
}

// TestLeaseRenewed keeps a lease past its TTL by renewing it.
func TestLeaseRenewed(t *testing.T) {
	ctx := context.Background()
	db := persistencetest.NewDatabase(t, persistencetest.SQLite)
	a := persistencetest.OpenStore(t, db)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b := persistencetest.OpenStore(t, db)
	a.SetLeaseTTL(time.Second)
	held, err := a.WithLease(ctx, "test", func(ctx context.Context) error {
		deadline := time.Now().Add(2500 * time.Millisecond)
		for time.Now().Before(deadline) {
			ok, err := b.AcquireLease(ctx, "test", time.Minute)
			if err != nil {
				return err
			}
			if ok {
				return errors.New("another store took a renewed lease")
			}
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	})
	if !held || err != nil {
		t.Fatalf("got held %v, %v", held, err)
	}
}
