// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

// expireBatch bounds the rows one expiry transaction deletes, so that a
// transaction that takes a seq commits well within T (PROTOCOL.md §5, §6).
const expireBatch = 10_000

// inChunk bounds the parameters of one IN list.
const inChunk = 1_000

// Expire deletes data past retention under the expire lease; see
// persistence.Maintenance.
func (s *Store) Expire(ctx context.Context, retention time.Duration) (persistence.ExpireResult, error) {
	var res persistence.ExpireResult
	if retention <= 0 {
		return res, fmt.Errorf("relational: expire: retention %s: %w", retention, persistence.ErrInvalid)
	}
	held, err := s.withLease(ctx, leaseExpire, func(ctx context.Context) error {
		now := s.now()
		cutoff := now.Add(-retention)
		steps := []struct {
			name string
			run  func(context.Context) error
		}{
			{"retired accounts", func(ctx context.Context) error { return s.expireRetired(ctx, &res) }},
			{"events", func(ctx context.Context) error { return s.expireEvents(ctx, cutoff, &res) }},
			{"secrets", func(ctx context.Context) error { return s.expireSecrets(ctx, cutoff, &res) }},
			{"tombstones", func(ctx context.Context) error { return s.expireTombstones(ctx, cutoff, &res) }},
			{"sessions", func(ctx context.Context) error { return s.expireSessions(ctx, now, &res) }},
			{"grants", func(ctx context.Context) error { return s.expireGrants(ctx, now, &res) }},
			{"tokens", func(ctx context.Context) error { return s.expireTokens(ctx, now, &res) }},
			{"logins", func(ctx context.Context) error { return s.expireLogins(ctx, &res) }},
		}
		for _, step := range steps {
			if err := step.run(ctx); err != nil {
				return fmt.Errorf("%s: %w", step.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return res, translate("expire", err)
	}
	if !held {
		res.Skipped = true
	}
	return res, nil
}

// expireRetired finishes deleting the events and secrets of retired
// accounts. Retiring starts that deletion in the background; an error or an
// ended process can cut it short, and the next expiry completes it.
func (s *Store) expireRetired(ctx context.Context, res *persistence.ExpireResult) error {
	var ids []string
	err := s.db.WithContext(ctx).Raw(`SELECT account_id FROM accounts WHERE retired_at IS NOT NULL
		AND (EXISTS (SELECT 1 FROM events WHERE events.account_id = accounts.account_id)
		OR EXISTS (SELECT 1 FROM secrets WHERE secrets.account_id = accounts.account_id))`).Scan(&ids).Error
	if err != nil {
		return err
	}
	for _, id := range ids {
		purged, err := s.DeleteAccountData(ctx, id)
		if err != nil {
			return fmt.Errorf("account %s: %w", id, err)
		}
		res.Events += purged.Events
		res.Secrets += purged.Secrets
	}
	return nil
}

// expireEvents deletes events whose ULID time lies before cutoff, oldest
// first, in batches, and after the last batch writes one "before" tombstone
// per affected account whose target is the ULID lower bound of cutoff: every
// event of the account below it is gone. The tombstones commit after every
// deletion they cover, in a short transaction of their own, so the seq they
// take commits within T.
func (s *Store) expireEvents(ctx context.Context, cutoff time.Time, res *persistence.ExpireResult) error {
	bound := ulidLowerBound(cutoff)
	affected := map[string]bool{}
	for {
		var rows []eventRecord
		var deleted, segments int64
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// Segments of periods that ended before the cutoff go with
			// their events; those of the period the cutoff cuts become
			// stale below.
			del := tx.Exec("DELETE FROM segments WHERE period < ?", cutoff.UTC().Format(time.DateOnly))
			if del.Error != nil {
				return del.Error
			}
			segments = del.RowsAffected
			err := tx.Raw("SELECT event_id, account_id FROM events WHERE event_id < ? ORDER BY event_id LIMIT ?",
				bound, expireBatch).Scan(&rows).Error
			if err != nil || len(rows) == 0 {
				return err
			}
			maxID := rows[len(rows)-1].EventID
			del = tx.Exec("DELETE FROM events WHERE event_id <= ? AND event_id < ?", maxID, bound)
			if del.Error != nil {
				return del.Error
			}
			deleted = del.RowsAffected
			return s.markSegmentsStale(tx, eventsByAccount(rows))
		})
		if err != nil {
			return err
		}
		// Count only what committed.
		res.Events += deleted
		res.Segments += segments
		for _, r := range rows {
			affected[r.AccountID] = true
		}
		if len(rows) < expireBatch {
			break
		}
	}
	if len(affected) == 0 {
		return nil
	}
	accounts := slices.Sorted(maps.Keys(affected))
	err := s.writeTakingSeq(ctx, func(tx *gorm.DB) error {
		tombstones := make([]tombstoneRecord, 0, len(accounts))
		for _, id := range accounts {
			tombstones = append(tombstones, tombstoneRecord{
				TombstoneID: newULID(s.now()),
				AccountID:   id,
				Kind:        tombstoneBefore,
				Target:      bound,
				Seq:         s.Seq(),
			})
		}
		return tx.CreateInBatches(tombstones, 500).Error
	})
	if err != nil {
		return err
	}
	res.TombstonesWritten += int64(len(accounts))
	return nil
}

// writeTakingSeq runs fn in a write transaction that must commit within T of
// taking a seq (PROTOCOL.md §6), like writeSeq but leaving errors untranslated
// for Expire, which names them once.
func (s *Store) writeTakingSeq(ctx context.Context, fn func(tx *gorm.DB) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.commitTimeout)
	defer cancel()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.beforeCommit(ctx)
	})
}

// expireSecrets deletes secrets created before cutoff that no event
// references, writing a "secret" tombstone for each in the same transaction
// (at most expireBatch of each, well within T).
func (s *Store) expireSecrets(ctx context.Context, cutoff time.Time, res *persistence.ExpireResult) error {
	for {
		var n int
		var deleted, written int64
		err := s.writeTakingSeq(ctx, func(tx *gorm.DB) error {
			var rows []struct {
				KeyID     string
				AccountID string
				SecretID  string
			}
			err := tx.Raw(`SELECT key_id, account_id, secret_id FROM secrets
				WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM events
					WHERE events.secret_id = secrets.secret_id AND events.key_id = secrets.key_id)
				ORDER BY created_at, key_id LIMIT ?`, cutoff, expireBatch).Scan(&rows).Error
			if err != nil {
				return err
			}
			n = len(rows)
			if n == 0 {
				return nil
			}
			keys := make([]string, len(rows))
			tombstones := make([]tombstoneRecord, len(rows))
			for i, r := range rows {
				keys[i] = r.KeyID
				secretID := r.SecretID
				tombstones[i] = tombstoneRecord{
					TombstoneID: newULID(s.now()),
					AccountID:   r.AccountID,
					SecretID:    &secretID,
					Kind:        tombstoneSecret,
					Target:      r.KeyID,
				}
			}
			for chunk := range slices.Chunk(keys, inChunk) {
				del := tx.Exec("DELETE FROM secrets WHERE key_id IN ?", chunk)
				if del.Error != nil {
					return del.Error
				}
				deleted += del.RowsAffected
			}
			for i := range tombstones {
				tombstones[i].Seq = s.Seq()
			}
			if err := tx.CreateInBatches(tombstones, 500).Error; err != nil {
				return err
			}
			written = int64(len(tombstones))
			return nil
		})
		if err != nil {
			return err
		}
		res.Secrets += deleted
		res.TombstonesWritten += written
		if n < expireBatch {
			return nil
		}
	}
}

// expireTombstones deletes tombstones whose seq lies before cutoff.
func (s *Store) expireTombstones(ctx context.Context, cutoff time.Time, res *persistence.ExpireResult) error {
	return s.deleteInBatches(ctx, "tombstones", "tombstone_id",
		"SELECT tombstone_id FROM tombstones WHERE seq < ? ORDER BY seq LIMIT ?",
		[]any{cutoff.UnixMicro()}, &res.Tombstones)
}

// expireSessions deletes sessions past their absolute expiry.
func (s *Store) expireSessions(ctx context.Context, now time.Time, res *persistence.ExpireResult) error {
	return s.deleteInBatches(ctx, "sessions", "token_hash",
		"SELECT token_hash FROM sessions WHERE expires_at < ? LIMIT ?", []any{now}, &res.Sessions)
}

// expireTokens deletes one-time tokens past their expiry.
func (s *Store) expireTokens(ctx context.Context, now time.Time, res *persistence.ExpireResult) error {
	return s.deleteInBatches(ctx, "one_time_tokens", "token_id",
		"SELECT token_id FROM one_time_tokens WHERE expires_at < ? LIMIT ?", []any{now}, &res.Tokens)
}

// expireGrants deletes pending grants (only invite-wrapped) whose invitation
// token is expired or gone.
func (s *Store) expireGrants(ctx context.Context, now time.Time, res *persistence.ExpireResult) error {
	for {
		var n int
		var deleted int64
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var rows []struct {
				LoginID   string
				AccountID string
			}
			err := tx.Raw(`SELECT login_id, account_id FROM grants
				WHERE wrapped_kek IS NULL AND invite_wrapped_kek IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM one_time_tokens t
					WHERE t.token_id = grants.invitation_id AND t.expires_at >= ?)
				LIMIT ?`, now, expireBatch).Scan(&rows).Error
			if err != nil {
				return err
			}
			n = len(rows)
			pairs := make([][]any, len(rows))
			for i, r := range rows {
				pairs[i] = []any{r.LoginID, r.AccountID}
			}
			for chunk := range slices.Chunk(pairs, inChunk/2) {
				del := tx.Exec("DELETE FROM grants WHERE (login_id, account_id) IN ?", chunk)
				if del.Error != nil {
					return del.Error
				}
				deleted += del.RowsAffected
			}
			return nil
		})
		if err != nil {
			return err
		}
		res.Grants += deleted
		if n < expireBatch {
			return nil
		}
	}
}

// expireLogins deletes pending logins (no credentials yet) that hold no
// grant; their sessions and tokens go with them (ON DELETE CASCADE).
func (s *Store) expireLogins(ctx context.Context, res *persistence.ExpireResult) error {
	return s.deleteInBatches(ctx, "logins", "login_id",
		`SELECT login_id FROM logins WHERE auth_hash IS NULL
			AND NOT EXISTS (SELECT 1 FROM grants WHERE grants.login_id = logins.login_id) LIMIT ?`,
		nil, &res.Logins)
}

// deleteInBatches selects up to expireBatch keys with query (its arguments
// followed by the limit) and deletes them by key, one transaction per batch,
// until a batch comes back short.
func (s *Store) deleteInBatches(ctx context.Context, tableName, key, query string, args []any, count *int64) error {
	for {
		var n int
		var deleted int64
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var keys []string
			if err := tx.Raw(query, append(slices.Clone(args), expireBatch)...).Scan(&keys).Error; err != nil {
				return err
			}
			n = len(keys)
			for chunk := range slices.Chunk(keys, inChunk) {
				del := tx.Exec(fmt.Sprintf("DELETE FROM %s WHERE %s IN ?", tableName, key), chunk)
				if del.Error != nil {
					return del.Error
				}
				deleted += del.RowsAffected
			}
			return nil
		})
		if err != nil {
			return err
		}
		*count += deleted
		if n < expireBatch {
			return nil
		}
	}
}
