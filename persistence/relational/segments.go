// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/keys/segment"
	"github.com/offen/offen/persistence"
)

// segmentRecord is a row of segments. The sealed content is the last column,
// so that listings, which never read it, stop before its overflow pages.
type segmentRecord struct {
	AccountID  string    `gorm:"column:account_id;primaryKey"`
	Period     string    `gorm:"column:period;primaryKey"`
	Version    int       `gorm:"column:version"`
	Size       int       `gorm:"column:size"`
	EventCount int       `gorm:"column:event_count"`
	Digest     string    `gorm:"column:digest"`
	UploadedBy string    `gorm:"column:uploaded_by"`
	Stale      bool      `gorm:"column:stale"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
	Sealed     string    `gorm:"column:sealed"`
}

func (segmentRecord) TableName() string { return "segments" }

func (r segmentRecord) toDomain() persistence.Segment {
	return persistence.Segment{
		AccountID: r.AccountID, Period: r.Period, Version: r.Version, Size: r.Size,
		Count: r.EventCount, Digest: r.Digest, Sealed: r.Sealed, UploadedBy: r.UploadedBy,
		Stale: r.Stale, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

const segmentListColumns = "account_id, period, version, size, event_count, digest, uploaded_by, stale, created_at, updated_at"

// periodRange returns the event id range [lo, hi) of a period.
func periodRange(period string) (lo, hi string, end time.Time, err error) {
	start, end, err := segment.PeriodBounds(period)
	if err != nil {
		return "", "", end, fmt.Errorf("%w: %w", err, persistence.ErrInvalid)
	}
	return ulidLowerBound(start), ulidLowerBound(end), end, nil
}

// periodOf returns the period of a stored event id.
func periodOf(eventID string) string {
	t, _ := ulidTime(eventID)
	return t.Format(time.DateOnly)
}

// ListSegments lists an account's valid segments; see persistence.Segments.
func (s *Store) ListSegments(ctx context.Context, accountID string) ([]persistence.Segment, error) {
	var recs []segmentRecord
	err := s.read(ctx, "list segments", func(tx *gorm.DB) error {
		return tx.Select(segmentListColumns).Where("account_id = ? AND stale = ?", accountID, false).
			Order("period").Find(&recs).Error
	})
	if err != nil {
		return nil, err
	}
	out := make([]persistence.Segment, len(recs))
	for i, r := range recs {
		out[i] = r.toDomain()
	}
	return out, nil
}

// FindSegment returns one valid segment; see persistence.Segments.
func (s *Store) FindSegment(ctx context.Context, accountID, period string) (persistence.Segment, error) {
	var rec segmentRecord
	err := s.read(ctx, "find segment", func(tx *gorm.DB) error {
		return tx.Where("account_id = ? AND period = ? AND stale = ?", accountID, period, false).Take(&rec).Error
	})
	if err != nil {
		return persistence.Segment{}, err
	}
	return rec.toDomain(), nil
}

func validateSegment(seg persistence.Segment) error {
	switch {
	case !validUUID(seg.AccountID):
		return fmt.Errorf("account id is not a lowercase UUIDv4: %w", persistence.ErrInvalid)
	case !validUUID(seg.UploadedBy):
		return fmt.Errorf("uploader is not a lowercase UUIDv4: %w", persistence.ErrInvalid)
	case seg.Version < 1:
		return fmt.Errorf("version must be 1 or more: %w", persistence.ErrInvalid)
	case seg.Count < 0 || !validHex(seg.Digest, 64):
		return fmt.Errorf("coverage must be a count and 64 lowercase hex characters: %w", persistence.ErrInvalid)
	case !strings.HasPrefix(seg.Sealed, "a1.") || len(seg.Sealed) > persistence.MaxSegmentBytes:
		return fmt.Errorf("segment must be an a1 string of at most %d bytes: %w", persistence.MaxSegmentBytes, persistence.ErrInvalid)
	}
	return nil
}

// PutSegment stores a segment after checking its coverage; see
// persistence.Segments.
//
// The period's events are read with a share lock (PostgreSQL, MySQL; SQLite
// has one writer): a deletion of one of them either committed before, and
// the coverage differs, or waits for this transaction and then marks the
// new segment stale.
func (s *Store) PutSegment(ctx context.Context, seg persistence.Segment) (persistence.Segment, error) {
	if err := validateSegment(seg); err != nil {
		return seg, fmt.Errorf("relational: put segment: %w", err)
	}
	lo, hi, end, err := periodRange(seg.Period)
	if err != nil {
		return seg, fmt.Errorf("relational: put segment: %w", err)
	}
	now := s.now()
	if !end.Add(s.syncWindow).Before(now) {
		return seg, fmt.Errorf("relational: put segment: period %s is not closed: %w", seg.Period, persistence.ErrInvalid)
	}
	seg.Size = len(seg.Sealed)
	seg.Stale = false
	err = s.write(ctx, "put segment", func(tx *gorm.DB) error {
		if err := s.fitsPacket(tx, seg.Size); err != nil {
			return err
		}
		if err := s.lockActiveAccounts(tx, []string{seg.AccountID}, nil); err != nil {
			return err
		}
		var ids []string
		err := tx.Raw("SELECT event_id FROM events WHERE account_id = ? AND event_id >= ? AND event_id < ?"+s.shareLock(),
			seg.AccountID, lo, hi).Scan(&ids).Error
		if err != nil {
			return err
		}
		n, digest, err := segment.Coverage(ids)
		if err != nil {
			return err
		}
		if n != seg.Count || digest != seg.Digest {
			return &persistence.CoverageError{Count: n, Digest: digest}
		}
		rec := segmentRecord{
			AccountID: seg.AccountID, Period: seg.Period, Version: seg.Version, Size: seg.Size,
			EventCount: seg.Count, Digest: seg.Digest, UploadedBy: seg.UploadedBy,
			CreatedAt: now, UpdatedAt: now, Sealed: seg.Sealed,
		}
		// Replace rather than upsert, as the three dialects share no upsert
		// syntax. Of two first uploads of a period at once one fails
		// (duplicate key, ErrConflict; or a deadlock on MySQL,
		// ErrUnavailable); it may retry.
		if err := tx.Exec("DELETE FROM segments WHERE account_id = ? AND period = ?", seg.AccountID, seg.Period).Error; err != nil {
			return err
		}
		return tx.Create(&rec).Error
	})
	if err != nil {
		return seg, err
	}
	seg.CreatedAt, seg.UpdatedAt = now, now
	return seg, nil
}

// fitsPacket refuses, on MySQL, a segment larger than the server's
// max_allowed_packet (less room for the rest of the statement): the server
// would drop the connection mid-statement. MariaDB's default is 16 MiB.
func (s *Store) fitsPacket(tx *gorm.DB, size int) error {
	if s.dialect != DialectMySQL {
		return nil
	}
	var limit int64
	if err := tx.Raw("SELECT @@max_allowed_packet").Scan(&limit).Error; err != nil {
		return err
	}
	if int64(size) > limit-64<<10 {
		return fmt.Errorf("%w: %d bytes, the database's max_allowed_packet is %d", persistence.ErrSegmentTooLarge, size, limit)
	}
	return nil
}

// markSegmentsStale marks the segments of the periods of the deleted events
// stale and drops their content, in the transaction that deleted them.
// Deleted maps account ids to event ids; call it after the deletion, so that
// on PostgreSQL and MySQL it waits for an upload that share-locked them.
func (s *Store) markSegmentsStale(tx *gorm.DB, deleted map[string][]string) error {
	now := s.now()
	for _, account := range slices.Sorted(maps.Keys(deleted)) {
		periods := map[string]bool{}
		for _, id := range deleted[account] {
			periods[periodOf(id)] = true
		}
		if err := s.markPeriodsStale(tx, account, slices.Sorted(maps.Keys(periods)), now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) markPeriodsStale(tx *gorm.DB, account string, periods []string, now time.Time) error {
	for chunk := range slices.Chunk(periods, inChunk) {
		err := tx.Exec("UPDATE segments SET stale = ?, sealed = ?, size = ?, updated_at = ? WHERE account_id = ? AND period IN ? AND stale = ?",
			true, "", 0, now, account, chunk, false).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// PeriodEvents pages through one period's events by id; see
// persistence.Segments.
func (s *Store) PeriodEvents(ctx context.Context, accountID, period string, q persistence.PeriodQuery, items persistence.FeedItems) (persistence.PeriodPage, error) {
	page := persistence.PeriodPage{Next: q.After}
	lo, hi, _, err := periodRange(period)
	if err != nil {
		return page, fmt.Errorf("relational: period events: %w", err)
	}
	limit := q.Limit
	if limit == 0 {
		limit = persistence.DefaultFeedLimit
	}
	if limit < 1 || limit > persistence.MaxFeedLimit {
		return page, fmt.Errorf("relational: period events: limit must be 1 to %d: %w", persistence.MaxFeedLimit, persistence.ErrInvalid)
	}
	if q.After != "" {
		if _, ok := ulidTime(q.After); !ok || q.After < lo || q.After >= hi {
			return page, fmt.Errorf("relational: period events: malformed cursor: %w", persistence.ErrInvalid)
		}
		lo = q.After
	}
	var cbErr error
	err = s.read(ctx, "period events", func(tx *gorm.DB) error {
		cond := "account_id = ? AND event_id >= ? AND event_id < ?"
		if q.After != "" {
			cond = "account_id = ? AND event_id > ? AND event_id < ?"
		}
		rows, err := tx.Model(&eventRecord{}).Select("event_id, secret_id, key_id, payload, seq").
			Where(cond, accountID, lo, hi).Order("event_id").Limit(limit + 1).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		keyIDs := map[string]bool{}
		n := 0
		row := persistence.Event{AccountID: accountID}
		dest := []any{&row.EventID, &row.SecretID, &row.KeyID, &row.Payload, &row.Seq}
		for rows.Next() {
			if n == limit {
				page.More = true
				break
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			keyIDs[row.KeyID] = true
			if items.Event != nil {
				if err := items.Event(row); err != nil {
					cbErr = err
					return err
				}
			}
			page.Next = row.EventID
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if items.Secret == nil {
			return nil
		}
		secrets, err := findSecretsTx(tx, accountID, slices.Sorted(maps.Keys(keyIDs)))
		if err != nil {
			return err
		}
		for _, sec := range secrets {
			if err := items.Secret(sec); err != nil {
				cbErr = err
				return err
			}
		}
		return nil
	})
	if cbErr != nil {
		return persistence.PeriodPage{}, cbErr
	}
	return page, err
}

func findSecretsTx(tx *gorm.DB, accountID string, keyIDs []string) ([]persistence.Secret, error) {
	var out []persistence.Secret
	for chunk := range slices.Chunk(keyIDs, inChunk) {
		var recs []secretRecord
		if err := tx.Where("key_id IN ? AND account_id = ?", chunk, accountID).Order("key_id").Find(&recs).Error; err != nil {
			return nil, err
		}
		for _, r := range recs {
			out = append(out, r.toDomain())
		}
	}
	return out, nil
}

// FindSecrets looks up an account's secrets by key id; see
// persistence.Segments.
func (s *Store) FindSecrets(ctx context.Context, accountID string, keyIDs []string) ([]persistence.Secret, error) {
	if len(keyIDs) > persistence.MaxSecretLookup {
		return nil, fmt.Errorf("relational: find secrets: more than %d key ids: %w", persistence.MaxSecretLookup, persistence.ErrInvalid)
	}
	for _, k := range keyIDs {
		if !validHex(k, 32) {
			return nil, fmt.Errorf("relational: find secrets: key id is not 32 lowercase hex characters: %w", persistence.ErrInvalid)
		}
	}
	ids := slices.Compact(slices.Sorted(slices.Values(keyIDs)))
	out := []persistence.Secret{}
	if len(ids) == 0 {
		return out, nil
	}
	err := s.read(ctx, "find secrets", func(tx *gorm.DB) error {
		found, err := findSecretsTx(tx, accountID, ids)
		out = append(out, found...)
		return err
	})
	return out, err
}

// OldestEventPeriod returns the period of an account's oldest event; see
// persistence.Segments.
func (s *Store) OldestEventPeriod(ctx context.Context, accountID string) (string, error) {
	var ids []string
	err := s.read(ctx, "oldest event period", func(tx *gorm.DB) error {
		return tx.Raw("SELECT event_id FROM events WHERE account_id = ? ORDER BY event_id LIMIT 1", accountID).Scan(&ids).Error
	})
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return "", fmt.Errorf("relational: oldest event period: no events: %w", persistence.ErrNotFound)
	}
	return periodOf(ids[0]), nil
}
