// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

func TestMigrate(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		db := persistencetest.NewDatabase(t, d)
		store := persistencetest.OpenStore(t, db)

		status, err := store.SchemaStatus(ctx)
		if err != nil {
			t.Fatalf("schema status of empty database: %v", err)
		}
		if len(status.Applied) != 0 || status.Current() {
			t.Fatalf("empty database: got applied %v, current %v; want none, false", status.Applied, status.Current())
		}

		if err := store.Migrate(ctx); err != nil {
			t.Fatalf("first migrate: %v", err)
		}
		status, err = store.SchemaStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !status.Current() || !slices.Equal(status.Applied, status.Known) {
			t.Fatalf("after migrate: got applied %v, known %v", status.Applied, status.Known)
		}
		for _, table := range []string{"accounts", "logins", "grants", "secrets", "events", "tombstones",
			"sessions", "one_time_tokens", "certificates", "locks", "migrations"} {
			if _, err := store.Count(ctx, table, ""); err != nil {
				t.Errorf("table %s: %v", table, err)
			}
		}

		if err := store.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		n, err := store.Count(ctx, "migrations", "")
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(status.Known)) {
			t.Fatalf("after second migrate: got %d migration rows, want %d", n, len(status.Known))
		}
	})
}

func TestMigrateConcurrently(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		db := persistencetest.NewDatabase(t, d)
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		a := persistencetest.OpenStore(t, db, persistencetest.WithLogger(logger))
		b := persistencetest.OpenStore(t, db, persistencetest.WithLogger(logger))

		errs := make(chan error, 2)
		for _, s := range []*relational.Store{a, b} {
			go func() { errs <- s.Migrate(ctx) }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Errorf("concurrent migrate: %v", err)
			}
		}
		status, err := b.SchemaStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !status.Current() {
			t.Fatalf("got pending %v after concurrent migrate", status.Pending())
		}
		n, err := a.Count(ctx, "migrations", "")
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(status.Known)) {
			t.Fatalf("got %d migration rows, want %d (each step once)", n, len(status.Known))
		}
		if got := strings.Count(logs.String(), "applied migration"); got != len(status.Known) {
			t.Fatalf("got %d steps applied across both stores, want %d (each once)\n%s", got, len(status.Known), logs.String())
		}
		if n, _ := a.Count(ctx, "locks", ""); n != 0 {
			t.Fatalf("got %d lease rows after migrating, want 0 (released)", n)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
