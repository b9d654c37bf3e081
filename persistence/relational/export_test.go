// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"encoding/base64"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"

	"context"
	"time"
)

// Internals for the external tests in package relational_test.

var (
	NewULID        = newULID
	ULIDLowerBound = ulidLowerBound
	ULIDTime       = ulidTime
	LeaseTTL       = leaseTTL
)

func (s *Store) AcquireLease(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	return s.acquireLease(ctx, name, ttl)
}

func (s *Store) ReleaseLease(ctx context.Context, name string) error {
	return s.releaseLease(ctx, name)
}

func (s *Store) WithLease(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	return s.withLease(ctx, name, fn)
}

// Exec runs a statement on the write pool, for seeding rows of areas that
// have no store methods yet.
func (s *Store) Exec(ctx context.Context, sql string, args ...any) error {
	return translate("exec", s.db.WithContext(ctx).Exec(sql, args...).Error)
}

// Count returns the number of rows of table matching where.
func (s *Store) Count(ctx context.Context, table, where string, args ...any) (int64, error) {
	var n int64
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	err := s.rdb.WithContext(ctx).Raw(q, args...).Scan(&n).Error
	return n, translate("count", err)
}

var Translate = translate

// QueryString returns the first column of the first row of query, read on
// the write connection (for SQLite pragmas).
func (s *Store) QueryString(ctx context.Context, query string) (string, error) {
	var v string
	err := s.db.WithContext(ctx).Raw(query).Row().Scan(&v)
	return v, err
}

// Write exposes the write-transaction helper to benchmarks.
func (s *Store) Write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.write(ctx, "write", fn)
}

// SetLeaseTTL shortens the leases of s, so renewal runs within a test.
func (s *Store) SetLeaseTTL(d time.Duration) { s.leaseTTL = d }

// OnClose exposes onClose to tests.
func (s *Store) OnClose(fn func() error) { s.onClose(fn) }

// SetSyncWindow changes W of s (tests show that a W below T + 2D misses).
func (s *Store) SetSyncWindow(d time.Duration) { s.syncWindow = d }

// SetCommitTimeout changes T of s.
func (s *Store) SetCommitTimeout(d time.Duration) { s.commitTimeout = d }

// SetCommitDelay runs fn before each commit of a transaction that took a
// seq (group-commit batches, secrets, purges).
func (s *Store) SetCommitDelay(fn func(ctx context.Context) error) { s.commitDelay = fn }

// SetIngestLimits replaces the group-commit writer of an idle store with
// one whose queue holds queueLen requests and whose callers wait at most
// wait for room.
func (s *Store) SetIngestLimits(queueLen int, wait time.Duration) {
	s.ingest.close()
	g := newIngester(s)
	g.queue = make(chan *ingestRequest, queueLen)
	g.queueWait = wait
	s.ingest = g
	g.start()
}

// IngestPending returns the number of accepted ingest requests not yet
// answered.
func (s *Store) IngestPending() int { return int(s.ingest.pending.Load()) }

// IngestQueued returns the number of requests waiting on the queue.
func (s *Store) IngestQueued() int { return len(s.ingest.queue) }

// ParseCursorSeq returns the seq of a cursor's position.
func ParseCursorSeq(c string) (int64, error) {
	cur, err := parseCursor(c)
	return cur.pos.seq, err
}

// EncodeCursorText encodes raw cursor text (for malformed-cursor tests).
func EncodeCursorText(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Strings returns the first column of every row of query.
func (s *Store) Strings(ctx context.Context, query string, args ...any) ([]string, error) {
	var out []string
	err := s.rdb.WithContext(ctx).Raw(query, args...).Scan(&out).Error
	return out, translate("strings", err)
}

// DSN returns the DSN s was opened with.
func (s *Store) DSN() string { return s.dsn }

// MigrateTo applies the migration steps up to and including id, as an
// older release would have.
func (s *Store) MigrateTo(ctx context.Context, id string) error {
	i := slices.IndexFunc(migrations, func(m migration) bool { return m.id == id })
	if i < 0 {
		return fmt.Errorf("no migration %s", id)
	}
	return s.migrate(ctx, migrations[:i+1])
}

// WriteDuplicateBatch writes in twice, with the same event ids, as one
// group-commit batch (which must fail whole), and returns the error of the
// first request.
func (s *Store) WriteDuplicateBatch(in persistence.NewEvents) error {
	now := s.now()
	ids := make([]string, len(in.Payloads))
	for i := range ids {
		ids[i] = newULID(now)
	}
	var batch []*ingestRequest
	for range 2 {
		r := &ingestRequest{in: in, done: make(chan struct{})}
		for i, p := range in.Payloads {
			r.events = append(r.events, persistence.Event{EventID: ids[i], AccountID: in.AccountID, SecretID: in.SecretID, KeyID: in.KeyID, Payload: p})
		}
		batch = append(batch, r)
	}
	if err := s.ingest.write(batch); err != nil {
		return err
	}
	return batch[0].err
}

// DeleteSecretsForTest deletes the secret of keyID and its events as
// forget and retire do.
func (s *Store) DeleteSecretsForTest(ctx context.Context, keyID string) error {
	return s.writeSeq(ctx, "delete secrets", func(tx *gorm.DB) error {
		var recs []secretRecord
		if err := tx.Where("key_id = ?", keyID).Find(&recs).Error; err != nil {
			return err
		}
		_, _, err := s.deleteSecrets(tx, recs)
		return err
	})
}

// RerunMigration runs the step id once more outside the migrations table,
// as an interrupted MySQL migration is run again.
func (s *Store) RerunMigration(ctx context.Context, id string) error {
	i := slices.IndexFunc(migrations, func(m migration) bool { return m.id == id })
	if i < 0 {
		return fmt.Errorf("no migration %s", id)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return migrations[i].up(tx, s.dialect) })
}

// ExpireAccountCache makes every cached account older than the TTL.
func (s *Store) ExpireAccountCache() {
	s.accounts.mu.Lock()
	defer s.accounts.mu.Unlock()
	for id, e := range s.accounts.entries {
		e.expires = time.Time{}
		s.accounts.entries[id] = e
	}
}
