// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

// TestGroupCommitConcurrent has many callers ingest at once, valid and
// refused ones mixed, and checks that every caller got its own answer and
// exactly the acknowledged events are stored, with distinct seqs.
func TestGroupCommitConcurrent(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a := mustAccount(t, store)
		visitors := make([]visitor, 20)
		for i := range visitors {
			visitors[i] = mustVisitor(t, store, a.ID, "")
		}
		const callers, perCaller = 32, 25
		var mu sync.Mutex
		acked := map[string]int64{}
		var refused atomic.Int64
		var wg sync.WaitGroup
		for c := range callers {
			wg.Go(func() {
				for i := range perCaller {
					v := visitors[(c+i)%len(visitors)]
					bad := i%10 == 3
					in := persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload(), payload()}}
					if bad {
						in.SecretID = randomHex(32) // not this key's visitor
					}
					events, err := store.CreateEvents(ctx, in)
					switch {
					case bad && errors.Is(err, persistence.ErrConflict):
						refused.Add(1)
					case bad || err != nil:
						t.Errorf("caller %d request %d (bad %v): got %v", c, i, bad, err)
					default:
						mu.Lock()
						for _, e := range events {
							acked[e.EventID] = e.Seq
						}
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if want := int64(callers * 3); refused.Load() != want {
			t.Errorf("got %d refused, want %d", refused.Load(), want)
		}
		ids := tableIDs(t, store, "account_id = ?", a.ID)
		if len(ids) != len(acked) {
			t.Fatalf("got %d rows, want the %d acknowledged events", len(ids), len(acked))
		}
		seqs := map[int64]bool{}
		for _, id := range ids {
			seq, ok := acked[id]
			if !ok {
				t.Fatalf("row %s was not acknowledged", id)
			}
			if seqs[seq] {
				t.Fatalf("seq %d twice", seq)
			}
			seqs[seq] = true
		}
	})
}

// TestGroupCommitDurable closes the store right after the acknowledgements
// and finds every acknowledged event after reopening.
func TestGroupCommitDurable(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		db := persistencetest.NewDatabase(t, d)
		store := persistencetest.OpenStore(t, db)
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		a := mustAccount(t, store)
		v := mustVisitor(t, store, a.ID, "")
		var wg sync.WaitGroup
		var acked atomic.Int64
		for range 16 {
			wg.Go(func() {
				for range 20 {
					if events, err := store.CreateEvents(ctx, persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload()}}); err == nil {
						acked.Add(int64(len(events)))
					} else {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		reopened := persistencetest.OpenStore(t, db)
		if n, err := reopened.Count(ctx, "events", ""); err != nil || n != acked.Load() {
			t.Errorf("got %d rows after reopening, %v; want %d", n, err, acked.Load())
		}
	})
}

// blockCommits makes every commit of store wait until the returned release
// is called, and reports each waiting commit on the returned channel.
func blockCommits(store *relational.Store) (waiting <-chan struct{}, release func()) {
	gate := make(chan struct{})
	w := make(chan struct{}, 100)
	var once sync.Once
	store.SetCommitDelay(func(ctx context.Context) error {
		select {
		case w <- struct{}{}:
		default:
		}
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return w, func() { once.Do(func() { close(gate) }) }
}

func TestGroupCommitBackPressure(t *testing.T) {
	ctx := context.Background()
	store := persistencetest.NewSQLiteStore(t)
	a := mustAccount(t, store)
	v := mustVisitor(t, store, a.ID, "")
	store.SetIngestLimits(4, 50*time.Millisecond)
	waiting, release := blockCommits(store)
	defer release()
	in := persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload()}}
	results := make(chan error, 5)
	// One batch held in its commit, then a full queue.
	go func() { _, err := store.CreateEvents(ctx, in); results <- err }()
	<-waiting
	for range 4 {
		go func() { _, err := store.CreateEvents(ctx, in); results <- err }()
	}
	for store.IngestQueued() < 4 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	_, err := store.CreateEvents(ctx, in)
	if !errors.Is(err, persistence.ErrUnavailable) {
		t.Fatalf("with a full queue got %v, want ErrUnavailable", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("refused after %v, want a wait of the queue timeout first", waited)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := store.CreateEvents(short, in); !errors.Is(err, persistence.ErrUnavailable) {
		t.Errorf("with a short deadline got %v, want ErrUnavailable", err)
	}
	release()
	for range 5 {
		if err := <-results; err != nil {
			t.Errorf("queued request: got %v, want nil", err)
		}
	}
	if n, _ := store.Count(ctx, "events", ""); n != 5 {
		t.Errorf("got %d rows, want 5", n)
	}
}

// TestGroupCommitDrainsOnClose closes the store while requests wait in the
// queue: each is committed and acknowledged, later ones are refused.
func TestGroupCommitDrainsOnClose(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		db := persistencetest.NewDatabase(t, d)
		store := persistencetest.OpenStore(t, db)
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		a := mustAccount(t, store)
		v := mustVisitor(t, store, a.ID, "")
		waiting, release := blockCommits(store)
		in := persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload()}}
		const n = 30
		results := make(chan error, n)
		for range n {
			go func() { _, err := store.CreateEvents(ctx, in); results <- err }()
		}
		// Requests are now queued or held in a blocked batch; Close must
		// wait for all of them.
		<-waiting
		for deadline := time.Now().Add(5 * time.Second); store.IngestPending() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("got %d requests pending, want %d", store.IngestPending(), n)
			}
		}
		closed := make(chan error)
		go func() { closed <- store.Close() }()
		// Close waits for the queue; new requests are refused meanwhile.
		// One queued before Close began is stored when it is acknowledged:
		// withdrawn when its context ends first, or answered with the
		// batch a writer took it into.
		var lateOK atomic.Int64
		var lateWG sync.WaitGroup
	late:
		for {
			short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
			errc := make(chan error, 1)
			lateWG.Add(1)
			go func() {
				defer lateWG.Done()
				defer cancel()
				_, err := store.CreateEvents(short, in)
				if err == nil {
					lateOK.Add(1)
				}
				errc <- err
			}()
			select {
			case err := <-errc:
				if errors.Is(err, persistence.ErrUnavailable) {
					break late
				}
			case <-time.After(20 * time.Millisecond):
			}
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned %v before the queue drained", err)
		case <-time.After(20 * time.Millisecond):
		}
		release()
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		acked := 0
		for range n {
			if err := <-results; err != nil {
				t.Errorf("queued request: got %v, want nil", err)
			} else {
				acked++
			}
		}
		lateWG.Wait()
		reopened := persistencetest.OpenStore(t, db)
		if got, want := func() int64 { n, _ := reopened.Count(ctx, "events", ""); return n }(), int64(n)+lateOK.Load(); got != want {
			t.Errorf("got %d rows, want %d", got, want)
		}
	})
}

// TestGroupCommitWithdraw: a request whose context ends while it waits on
// the queue is withdrawn and never stored; one a writer has taken is
// answered with its batch, so an error never hides a stored event.
func TestGroupCommitWithdraw(t *testing.T) {
	ctx := context.Background()
	store := persistencetest.NewSQLiteStore(t)
	a := mustAccount(t, store)
	v := mustVisitor(t, store, a.ID, "")
	in := persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload()}}
	waiting, release := blockCommits(store)
	defer release()

	// Taken into the batch that the one writer of SQLite holds.
	taken, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	takenErr := make(chan error, 1)
	go func() { _, err := store.CreateEvents(taken, in); takenErr <- err }()
	<-waiting
	// Queued behind it, until its context ends.
	queued, cancelQueued := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelQueued()
	if _, err := store.CreateEvents(queued, in); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued request: got %v, want its context's end", err)
	}
	<-taken.Done()
	select {
	case err := <-takenErr:
		t.Fatalf("the taken request was answered (%v) before its batch ended", err)
	case <-time.After(20 * time.Millisecond):
	}
	release()
	if err := <-takenErr; err != nil {
		t.Errorf("taken request: got %v, want its batch's success", err)
	}
	// A later request passes the withdrawn one's place in the queue.
	if _, err := store.CreateEvents(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Count(ctx, "events", ""); got != 2 {
		t.Errorf("got %d rows, want the taken and the later request's", got)
	}
}

// TestGroupCommitDeadline: a batch that cannot commit within T is rolled
// back and its callers get an error, never a late acknowledgement.
func TestGroupCommitDeadline(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a := mustAccount(t, store)
		v := mustVisitor(t, store, a.ID, "")
		store.SetCommitTimeout(100 * time.Millisecond)
		_, release := blockCommits(store)
		defer release()
		_, err := store.CreateEvents(ctx, persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload()}})
		if err == nil {
			t.Fatal("got nil, want the deadline's error")
		}
		release()
		if n, _ := store.Count(ctx, "events", ""); n != 0 {
			t.Errorf("got %d rows, want 0", n)
		}
	})
}

// TestGroupCommitFailedBatch: a batch that fails in its INSERT (two rows
// with one event id) stores nothing, and the writer goes on committing.
func TestGroupCommitFailedBatch(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a := mustAccount(t, store)
		v := mustVisitor(t, store, a.ID, "")
		in := persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload(), payload()}}
		if err := store.WriteDuplicateBatch(in); err == nil {
			t.Fatal("a batch with a duplicate event id was written")
		}
		if n, _ := store.Count(ctx, "events", ""); n != 0 {
			t.Fatalf("got %d events after the failed batch, want 0", n)
		}
		mustEvents(t, store, v, 3)
		if n, _ := store.Count(ctx, "events", ""); n != 3 {
			t.Fatalf("got %d events, want 3", n)
		}
	})
}
