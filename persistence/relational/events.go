// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

// purgeBatch bounds the events one purge transaction deletes; with their
// tombstones a transaction writes at most expireBatch rows.
const purgeBatch = expireBatch / 2

func validSecretIDs(ids []string) error {
	for _, id := range ids {
		if !validHex(id, 64) {
			return fmt.Errorf("secret id is not 64 lowercase hex characters: %w", persistence.ErrInvalid)
		}
	}
	return nil
}

// PurgeEvents deletes a visitor's events; see persistence.Events.
func (s *Store) PurgeEvents(ctx context.Context, f persistence.PurgeFilter) (persistence.PurgeResult, error) {
	var res persistence.PurgeResult
	if err := validSecretIDs(f.SecretIDs); err != nil {
		return res, fmt.Errorf("relational: purge events: %w", err)
	}
	if f.AccountID != "" && !validUUID(f.AccountID) {
		return res, fmt.Errorf("relational: purge events: account id is not a lowercase UUIDv4: %w", persistence.ErrInvalid)
	}
	ids := slices.Compact(slices.Sorted(slices.Values(f.SecretIDs)))
	if len(ids) == 0 {
		return res, nil
	}
	scope := func(tx *gorm.DB) *gorm.DB {
		tx = tx.Where("secret_id IN ?", ids)
		if f.AccountID != "" {
			tx = tx.Where("account_id = ?", f.AccountID)
		}
		return tx
	}
	// Events first, in batches, each with an "event" tombstone in the
	// transaction that deletes it: also with forget, whose "secret"
	// tombstones come later, as a failure in between would otherwise leave
	// deleted events no tombstone announces.
	for {
		var n int
		var deleted int64
		err := s.writeSeq(ctx, "purge events", func(tx *gorm.DB) error {
			var rows []eventRecord
			if err := scope(tx.Select("event_id, account_id, secret_id")).Limit(purgeBatch).Find(&rows).Error; err != nil {
				return err
			}
			n = len(rows)
			var err error
			deleted, err = deleteEventRows(tx, rows)
			if err != nil || n == 0 {
				return err
			}
			if err := s.markSegmentsStale(tx, eventsByAccount(rows)); err != nil {
				return err
			}
			stones := make([]tombstoneRecord, len(rows))
			now := s.now()
			for i, r := range rows {
				secretID := r.SecretID
				stones[i] = tombstoneRecord{
					TombstoneID: newULID(now), AccountID: r.AccountID, SecretID: &secretID,
					Kind: tombstoneEvent, Target: r.EventID,
				}
			}
			return s.insertTombstones(tx, stones)
		})
		if err != nil {
			return res, err
		}
		res.Events += deleted
		if n < purgeBatch {
			break
		}
	}
	if !f.Forget {
		return res, nil
	}
	for {
		var n int
		var events, secrets int64
		err := s.writeSeq(ctx, "purge events", func(tx *gorm.DB) error {
			var recs []secretRecord
			if err := scope(tx.Select("key_id, account_id, secret_id")).Order("key_id").Limit(purgeBatch).Find(&recs).Error; err != nil {
				return err
			}
			n = len(recs)
			var err error
			secrets, events, err = s.deleteSecrets(tx, recs)
			return err
		})
		if err != nil {
			return res, err
		}
		res.Events += events
		res.Secrets += secrets
		if n < purgeBatch {
			return res, nil
		}
	}
}

// eventsByAccount groups the event ids of rows by account.
func eventsByAccount(rows []eventRecord) map[string][]string {
	out := map[string][]string{}
	for _, r := range rows {
		out[r.AccountID] = append(out[r.AccountID], r.EventID)
	}
	return out
}

// deleteEventRows deletes the events of rows by id.
func deleteEventRows(tx *gorm.DB, rows []eventRecord) (int64, error) {
	var deleted int64
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.EventID
	}
	for chunk := range slices.Chunk(ids, inChunk) {
		del := tx.Exec("DELETE FROM events WHERE event_id IN ?", chunk)
		if del.Error != nil {
			return deleted, del.Error
		}
		deleted += del.RowsAffected
	}
	return deleted, nil
}

// deleteSecrets deletes the secrets of recs, then every event still under
// their key ids, and writes a "secret" tombstone for each. Deleting the
// secrets first waits (PostgreSQL, MySQL) for ingest transactions that
// share-locked them, so their events are committed and deleted here too;
// later ingests find no secret and are refused.
func (s *Store) deleteSecrets(tx *gorm.DB, recs []secretRecord) (secrets, events int64, err error) {
	if len(recs) == 0 {
		return 0, 0, nil
	}
	keys := make([]string, len(recs))
	secretIDs := make([]string, len(recs))
	stones := make([]tombstoneRecord, len(recs))
	now := s.now()
	for i, r := range recs {
		keys[i] = r.KeyID
		secretIDs[i] = r.SecretID
		secretID := r.SecretID
		stones[i] = tombstoneRecord{
			TombstoneID: newULID(now), AccountID: r.AccountID, SecretID: &secretID,
			Kind: tombstoneSecret, Target: r.KeyID,
		}
	}
	for start := 0; start < len(keys); start += inChunk {
		end := min(start+inChunk, len(keys))
		chunk := keys[start:end]
		del := tx.Exec("DELETE FROM secrets WHERE key_id IN ?", chunk)
		if del.Error != nil {
			return secrets, events, del.Error
		}
		secrets += del.RowsAffected
		// By secret id first, which events_secret_seq finds (events have no
		// index on key_id, see migrateEventsIngestLayout): an event's secret
		// id is that of its key, so these are exactly the keys' events.
		// Their ids are read first for the segments they make stale; the
		// rows found are the same, as the secrets are gone and no event
		// can be added under them any more.
		owners := slices.Compact(slices.Sorted(slices.Values(secretIDs[start:end])))
		var rows []eventRecord
		if err := tx.Select("event_id, account_id").Where("secret_id IN ? AND key_id IN ?", owners, chunk).Find(&rows).Error; err != nil {
			return secrets, events, err
		}
		del = tx.Exec("DELETE FROM events WHERE secret_id IN ? AND key_id IN ?", owners, chunk)
		if del.Error != nil {
			return secrets, events, del.Error
		}
		events += del.RowsAffected
		if err := s.markSegmentsStale(tx, eventsByAccount(rows)); err != nil {
			return secrets, events, err
		}
	}
	return secrets, events, s.insertTombstones(tx, stones)
}

// insertTombstones assigns seqs (as late as possible) and inserts.
func (s *Store) insertTombstones(tx *gorm.DB, stones []tombstoneRecord) error {
	if len(stones) == 0 {
		return nil
	}
	for i := range stones {
		stones[i].Seq = s.Seq()
	}
	return tx.CreateInBatches(stones, 500).Error
}

// ExportEvents streams a visitor's events; see persistence.Events.
func (s *Store) ExportEvents(ctx context.Context, secretIDs []string, fn func(persistence.Event) error) error {
	if err := validSecretIDs(secretIDs); err != nil {
		return fmt.Errorf("relational: export events: %w", err)
	}
	ids := slices.Compact(slices.Sorted(slices.Values(secretIDs)))
	if len(ids) == 0 {
		return nil
	}
	var cbErr error
	err := s.read(ctx, "export events", func(tx *gorm.DB) error {
		rows, err := tx.Model(&eventRecord{}).Select("event_id, account_id, secret_id, key_id, payload, seq").
			Where("secret_id IN ?", ids).Order("account_id, event_id").Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e persistence.Event
			if err := rows.Scan(&e.EventID, &e.AccountID, &e.SecretID, &e.KeyID, &e.Payload, &e.Seq); err != nil {
				return err
			}
			if err := fn(e); err != nil {
				cbErr = err
				return err
			}
		}
		return rows.Err()
	})
	if cbErr != nil {
		return cbErr
	}
	return err
}

// DeleteAccountData deletes a retired account's events and secrets; see
// persistence.Events.
func (s *Store) DeleteAccountData(ctx context.Context, accountID string) (persistence.PurgeResult, error) {
	var res persistence.PurgeResult
	err := s.read(ctx, "delete account data", func(tx *gorm.DB) error {
		var rec accountRecord
		if err := tx.Select("account_id, retired_at").Where("account_id = ?", accountID).Take(&rec).Error; err != nil {
			return err
		}
		if rec.RetiredAt == nil {
			return fmt.Errorf("account is not retired: %w", persistence.ErrInvalid)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	// Events without tombstones of their own: the "secret" tombstones that
	// follow cover them, and commit after them.
	for {
		var n int
		var deleted int64
		err := s.writeSeq(ctx, "delete account data", func(tx *gorm.DB) error {
			var rows []eventRecord
			// Segments go too (RetireAccount deleted them already; this
			// covers accounts retired before segments existed).
			if err := tx.Exec("DELETE FROM segments WHERE account_id = ?", accountID).Error; err != nil {
				return err
			}
			if err := tx.Select("event_id").Where("account_id = ?", accountID).Limit(expireBatch).Find(&rows).Error; err != nil {
				return err
			}
			n = len(rows)
			var err error
			deleted, err = deleteEventRows(tx, rows)
			return err
		})
		if err != nil {
			return res, err
		}
		res.Events += deleted
		if n < expireBatch {
			break
		}
	}
	for {
		var n int
		var events, secrets int64
		err := s.writeSeq(ctx, "delete account data", func(tx *gorm.DB) error {
			var recs []secretRecord
			if err := tx.Select("key_id, account_id, secret_id").Where("account_id = ?", accountID).
				Order("key_id").Limit(purgeBatch).Find(&recs).Error; err != nil {
				return err
			}
			n = len(recs)
			var err error
			secrets, events, err = s.deleteSecrets(tx, recs)
			return err
		})
		if err != nil {
			return res, err
		}
		res.Events += events
		res.Secrets += secrets
		if n < purgeBatch {
			return res, nil
		}
	}
}
