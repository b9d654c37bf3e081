// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/offen/offen/persistence"

	"gorm.io/gorm"
)

// write runs fn in one write transaction and translates its error with op.
// On SQLite the transaction holds the single write connection (BEGIN
// IMMEDIATE), so keep it short and do no network I/O inside.
func (s *Store) write(ctx context.Context, op string, fn func(tx *gorm.DB) error) error {
	return translate(op, s.db.WithContext(ctx).Transaction(fn))
}

// read runs fn in one read-only transaction that sees a single snapshot
// (repeatable read on PostgreSQL and MySQL, a WAL snapshot on SQLite) and
// translates its error with op.
func (s *Store) read(ctx context.Context, op string, fn func(tx *gorm.DB) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect != DialectSQLite {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return translate(op, s.rdb.WithContext(ctx).Transaction(fn, opts))
}

// writeSeq is write for transactions that take a seq: the transaction runs
// under a deadline of MaxCommitDelay (T, PROTOCOL.md §6), so it commits or
// aborts within T of taking its seq.
func (s *Store) writeSeq(ctx context.Context, op string, fn func(tx *gorm.DB) error) error {
	return translate(op, s.txSeq(ctx, fn))
}

// txSeq runs fn in one write transaction under the deadline T, like
// writeSeq, but leaves the error untranslated (for callers that translate
// once for several transactions, such as Expire).
func (s *Store) txSeq(ctx context.Context, fn func(tx *gorm.DB) error) error {
	deadline, cancel := context.WithTimeout(ctx, s.commitTimeout)
	defer cancel()
	err := s.db.WithContext(deadline).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.beforeCommit(deadline)
	})
	return commitDeadline(ctx, deadline, err)
}

// commitDeadline reports a transaction that database/sql rolled back
// because the commit deadline passed (it then fails with ErrTxDone) as the
// deadline's error, marked ErrUnavailable: the write may be retried.
func commitDeadline(parent, deadline context.Context, err error) error {
	if err == nil || parent.Err() != nil || deadline.Err() == nil {
		return err
	}
	return fmt.Errorf("commit deadline: %w: %w", persistence.ErrUnavailable, deadline.Err())
}

// beforeCommit runs the test hook that delays commits (nil in production),
// then refuses to start a COMMIT with less than a tenth of T left: the
// deadline can abort a transaction only until COMMIT is sent, so the rest
// is kept for the commit itself.
func (s *Store) beforeCommit(ctx context.Context) error {
	if s.commitDelay != nil {
		if err := s.commitDelay(ctx); err != nil {
			return err
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < s.commitTimeout/10 {
		return fmt.Errorf("too close to the commit deadline: %w: %w", persistence.ErrUnavailable, context.DeadlineExceeded)
	}
	return nil
}

// lockActiveAccounts checks that every id names an account that is not
// retired and, on PostgreSQL and MySQL, share-locks those rows until the
// transaction ends, so retiring one (an UPDATE of the row) waits for this
// transaction and the batch deletion that follows sees its rows. It returns
// ErrNotFound when one is unknown or retired; with active non-nil it instead
// records the active ids there and returns nil.
func (s *Store) lockActiveAccounts(tx *gorm.DB, ids []string, active map[string]bool) error {
	q := "SELECT account_id FROM accounts WHERE account_id IN ? AND retired_at IS NULL" + s.shareLock()
	var found []string
	if err := tx.Raw(q, ids).Scan(&found).Error; err != nil {
		return err
	}
	if active != nil {
		for _, id := range found {
			active[id] = true
		}
		return nil
	}
	if len(found) != len(ids) {
		return persistence.ErrNotFound
	}
	return nil
}

// shareLock is the clause that share-locks the rows a SELECT reads (nothing
// on SQLite, where the single writer excludes every other writer).
func (s *Store) shareLock() string {
	switch s.dialect {
	case DialectPostgres:
		return " FOR SHARE"
	case DialectMySQL:
		return " LOCK IN SHARE MODE"
	}
	return ""
}
