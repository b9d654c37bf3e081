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
	"time"

	"github.com/offen/offen/keys/segment"
	"github.com/offen/offen/persistence"
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

// TestMigrateEventsIngestLayout upgrades a database with events from the
// initial schema: every event survives, events_key is gone (and on SQLite
// the table is WITHOUT ROWID), and ingest, purge with forget and expiry
// work on the new layout.
func TestMigrateEventsIngestLayout(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		db := persistencetest.NewDatabase(t, d)
		store := persistencetest.OpenStore(t, db)
		if err := store.MigrateTo(ctx, "0001_initial_schema"); err != nil {
			t.Fatal(err)
		}
		a := mustAccount(t, store)
		v1 := mustVisitor(t, store, a.ID, "")
		v1b := mustVisitor(t, store, a.ID, v1.SecretID) // a second key of the same visitor
		v2 := mustVisitor(t, store, a.ID, "")
		var before []string
		for _, e := range slices.Concat(mustEvents(t, store, v1, 3), mustEvents(t, store, v1b, 2), mustEvents(t, store, v2, 4)) {
			before = append(before, e.EventID+" "+e.Payload)
		}
		slices.Sort(before)
		if n, _ := store.Count(ctx, "events", ""); n != 9 {
			t.Fatalf("before: got %d events, want 9", n)
		}

		if err := store.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		concat := "event_id || ' ' || payload"
		if d.Name == relational.DialectMySQL {
			concat = "CONCAT(event_id, ' ', payload)"
		}
		after, err := store.Strings(ctx, "SELECT "+concat+" FROM events ORDER BY event_id")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(after, before) {
			t.Fatalf("events changed by the migration:\ngot  %v\nwant %v", after, before)
		}
		var indexQuery string
		switch d.Name {
		case relational.DialectSQLite:
			indexQuery = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name"
			ddl, err := store.Strings(ctx, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'")
			if err != nil || len(ddl) != 1 || !strings.HasSuffix(ddl[0], "WITHOUT ROWID") {
				t.Errorf("events table: got %q, %v; want WITHOUT ROWID", ddl, err)
			}
		case relational.DialectPostgres:
			indexQuery = "SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname"
		case relational.DialectMySQL:
			indexQuery = "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'events' ORDER BY index_name"
		}
		indexes, err := store.Strings(ctx, indexQuery)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(indexes, "events_key") || !slices.Contains(indexes, "events_account_seq") || !slices.Contains(indexes, "events_secret_seq") {
			t.Errorf("got indexes %v; want events_account_seq and events_secret_seq, no events_key", indexes)
		}

		mustEvents(t, store, v2, 1)
		res, err := store.PurgeEvents(ctx, persistence.PurgeFilter{SecretIDs: []string{v1.SecretID}, Forget: true})
		if err != nil || res.Events != 5 || res.Secrets != 2 {
			t.Fatalf("purge with forget: got %+v, %v; want 5 events and 2 secrets", res, err)
		}
		if n, _ := store.Count(ctx, "events", "secret_id = ?", v2.SecretID); n != 5 {
			t.Errorf("got %d events of the other visitor, want 5", n)
		}
	})
}

// TestMigrateSegments upgrades a database with events from 0002: the
// segments table and the events (account_id, event_id) index exist, the
// step runs again without error (MySQL commits DDL as it goes), and a
// segment of the events from before the upgrade is accepted.
func TestMigrateSegments(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		now := time.Now().UTC()
		clk := newClock(now.Add(-48 * time.Hour))
		db := persistencetest.NewDatabase(t, d)
		store := persistencetest.OpenStore(t, db, persistencetest.WithNow(clk.Now))
		if err := store.MigrateTo(ctx, "0002_events_ingest_layout"); err != nil {
			t.Fatal(err)
		}
		a := mustAccount(t, store)
		events := mustEvents(t, store, mustVisitor(t, store, a.ID, ""), 3)
		if err := store.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		if err := store.RerunMigration(ctx, "0003_segments"); err != nil {
			t.Fatalf("the step again: %v", err)
		}
		var indexQuery string
		switch d.Name {
		case relational.DialectSQLite:
			indexQuery = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name"
		case relational.DialectPostgres:
			indexQuery = "SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname"
		case relational.DialectMySQL:
			indexQuery = "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'events' ORDER BY index_name"
		}
		indexes, err := store.Strings(ctx, indexQuery)
		if err != nil || !slices.Contains(indexes, "events_account_event") {
			t.Fatalf("got indexes %v, %v; want events_account_event", indexes, err)
		}
		clk.Add(48 * time.Hour)
		var ids []string
		for _, e := range events {
			ids = append(ids, e.EventID)
		}
		n, digest, _ := segment.Coverage(ids)
		_, err = store.PutSegment(ctx, persistence.Segment{AccountID: a.ID, Period: now.Add(-48 * time.Hour).Format(time.DateOnly),
			Version: 1, Count: n, Digest: digest, Sealed: "a1.x.y", UploadedBy: a.ID})
		if err != nil {
			t.Fatalf("segment of the events from before the upgrade: %v", err)
		}
	})
}
