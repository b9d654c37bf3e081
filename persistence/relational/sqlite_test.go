// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	store := persistencetest.NewSQLiteStore(t)
	for pragma, want := range map[string]string{
		"PRAGMA journal_mode": "wal",
		"PRAGMA foreign_keys": "1",
		"PRAGMA synchronous":  "1", // NORMAL
		"PRAGMA busy_timeout": "10000",
	} {
		got, err := store.QueryString(ctx, pragma)
		if err != nil {
			t.Fatalf("%s: %v", pragma, err)
		}
		if strings.ToLower(got) != want {
			t.Errorf("%s: got %s, want %s", pragma, got, want)
		}
	}
}

// TestSQLiteConcurrentWriters runs writers on two stores over one file (two
// processes, in effect) and in many goroutines each: none may fail busy.
func TestSQLiteConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	db := persistencetest.NewDatabase(t, persistencetest.SQLite)
	a := persistencetest.OpenStore(t, db)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b := persistencetest.OpenStore(t, db)
	var wg sync.WaitGroup
	for _, s := range []*relational.Store{a, b} {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					acc, err := s.CreateAccount(ctx, newAccount("concurrent"))
					if err != nil {
						t.Errorf("create: %v", err)
						return
					}
					if err := s.UpdateBannerCSS(ctx, acc.ID, "x"); err != nil {
						t.Errorf("update: %v", err)
						return
					}
					if _, err := s.FindAccount(ctx, acc.ID); err != nil {
						t.Errorf("find: %v", err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	n, err := a.Count(ctx, "accounts", "")
	if err != nil || n != 2*8*20 {
		t.Fatalf("got %d accounts (%v), want %d", n, err, 2*8*20)
	}
}

func TestSQLiteMemory(t *testing.T) {
	ctx := context.Background()
	store, err := relational.Open(ctx, relational.Options{Dialect: "sqlite3", DSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := store.CreateAccount(ctx, newAccount("memory"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.FindAccount(ctx, a.ID); err != nil {
		t.Fatalf("read back from memory: %v", err)
	}
}

func TestCloseRunsClosers(t *testing.T) {
	ctx := context.Background()
	store, err := relational.Open(ctx, relational.Options{Dialect: "sqlite3", DSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var order []string
	store.OnClose(func() error { order = append(order, "first"); return nil })
	store.OnClose(func() error {
		// The pools are still open here, so a writer can flush.
		if _, err := store.CreateAccount(ctx, newAccount("flushed")); err != nil {
			return err
		}
		order = append(order, "second")
		return nil
	})
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "second,first" {
		t.Fatalf("got order %v, want second,first", order)
	}
}
