// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

// Feeds (PROTOCOL.md §6). A position is (seq, kind, id): kind 0 for events
// and secrets, 1 for tombstones, so at equal seq events come first. A
// cursor holds a position and the run start S (0 in a resume cursor, which
// begins a new run), encoded as base64url of "1.<seq>.<kind>.<id>.<S>"; kind
// -1 stands before every item of its seq.

const (
	kindResume    = -1
	kindItem      = 0
	kindTombstone = 1
)

type position struct {
	seq  int64
	kind int
	id   string
}

func (p position) compare(q position) int {
	return cmp.Or(cmp.Compare(p.seq, q.seq), cmp.Compare(p.kind, q.kind), strings.Compare(p.id, q.id))
}

type cursor struct {
	pos position
	// start is the run start S in microseconds of the reader's clock; 0 in
	// a resume cursor.
	start int64
}

func (c cursor) String() string {
	s := fmt.Sprintf("1.%d.%d.%s.%d", c.pos.seq, c.pos.kind, c.pos.id, c.start)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// parseCursor decodes a cursor; empty is the beginning of the feed.
func parseCursor(s string) (cursor, error) {
	var c cursor
	c.pos.kind = kindResume
	if s == "" {
		return c, nil
	}
	bad := fmt.Errorf("malformed cursor: %w", persistence.ErrInvalid)
	if len(s) > 200 {
		return c, bad
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return c, bad
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 5 || parts[0] != "1" {
		return c, bad
	}
	seq, err1 := strconv.ParseInt(parts[1], 10, 64)
	kind, err2 := strconv.Atoi(parts[2])
	start, err3 := strconv.ParseInt(parts[4], 10, 64)
	id := parts[3]
	if err1 != nil || err2 != nil || err3 != nil || seq < 0 || start < 0 ||
		kind < kindResume || kind > kindTombstone || len(id) > 64 {
		return c, bad
	}
	for i := 0; i < len(id); i++ {
		if ch := id[i]; !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
			return c, bad
		}
	}
	if (kind == kindResume) != (id == "") {
		return c, bad
	}
	c.pos = position{seq: seq, kind: kind, id: id}
	c.start = start
	return c, nil
}

// afterSQL returns the condition "position of a row of kind lies after p"
// for a table with the given seq and id columns.
func afterSQL(kind int, p position, seqCol, idCol string) (string, []any) {
	switch {
	case kind > p.kind:
		return seqCol + " >= ?", []any{p.seq}
	case kind < p.kind:
		return seqCol + " > ?", []any{p.seq}
	default:
		return "(" + seqCol + " >= ? AND (" + seqCol + " > ? OR " + idCol + " > ?))", []any{p.seq, p.seq, p.id}
	}
}

// feedRun is the page state shared by the three feeds.
type feedRun struct {
	from  cursor
	limit int
	reset bool
	// start is the run start S.
	start int64
}

// beginPage validates q and applies rules (1) and (6) of PROTOCOL.md §6.
func (s *Store) beginPage(q persistence.FeedQuery) (feedRun, error) {
	limit := q.Limit
	if limit == 0 {
		limit = persistence.DefaultFeedLimit
	}
	if limit < 1 || limit > persistence.MaxFeedLimit {
		return feedRun{}, fmt.Errorf("limit must be 1 to %d: %w", persistence.MaxFeedLimit, persistence.ErrInvalid)
	}
	c, err := parseCursor(q.Since)
	if err != nil {
		return feedRun{}, err
	}
	if !q.Start.IsZero() {
		if q.Since != "" || q.Start.UnixMicro() < 0 {
			return feedRun{}, fmt.Errorf("start must be a time after the epoch and not come with a cursor: %w", persistence.ErrInvalid)
		}
		// A resume position: the page begins a run (rule 1), and the run's
		// last page resumes as rule (3) says.
		c.pos = position{seq: q.Start.UnixMicro(), kind: kindResume}
	}
	now := s.now().UnixMicro()
	r := feedRun{from: c, limit: limit, start: c.start}
	if q.Retention > 0 && q.Start.IsZero() {
		oldest := now - q.Retention.Microseconds()
		stale := c.start == 0 && c.pos.seq > 0 && c.pos.seq < oldest ||
			c.start != 0 && c.start < oldest
		if stale {
			r.reset = true
			r.from = cursor{pos: position{kind: kindResume}}
		}
	}
	if r.from.start == 0 {
		// A resume cursor (or none): this page starts a run.
		r.start = now
	}
	return r, nil
}

// endPage returns the page description after the items up to last were
// streamed (last is the cursor position when the page is empty).
func (s *Store) endPage(r feedRun, last position, more bool) persistence.FeedPage {
	page := persistence.FeedPage{More: more, Reset: r.reset}
	if more {
		page.Next = cursor{pos: last, start: r.start}.String()
		return page
	}
	// Rule (3): resume at min(seq of the run's last position, S − W).
	resume := r.start - s.syncWindow.Microseconds()
	if resume < last.seq {
		page.Next = cursor{pos: position{seq: max(resume, 0), kind: kindResume}}.String()
	} else {
		page.Next = cursor{pos: last}.String()
	}
	return page
}

// AccountEvents pages through an account's events and tombstones; see
// persistence.Feeds.
func (s *Store) AccountEvents(ctx context.Context, accountID string, q persistence.FeedQuery, items persistence.FeedItems) (persistence.FeedPage, error) {
	return s.eventFeed(ctx, "account events", q, items, func(tx *gorm.DB) (eventScope, error) {
		return eventScope{
			account:    accountID,
			events:     "account_id = ?",
			eventArgs:  []any{accountID},
			tombstones: "account_id = ?",
			stoneArgs:  []any{accountID},
		}, nil
	})
}

// VisitorEvents pages through a visitor's events and tombstones; see
// persistence.Feeds.
func (s *Store) VisitorEvents(ctx context.Context, secretIDs []string, q persistence.FeedQuery, items persistence.FeedItems) (persistence.FeedPage, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(secretIDs)))
	return s.eventFeed(ctx, "visitor events", q, items, func(tx *gorm.DB) (eventScope, error) {
		if len(ids) == 0 {
			return eventScope{empty: true}, nil
		}
		var accounts []string
		if err := tx.Raw("SELECT DISTINCT account_id FROM secrets WHERE secret_id IN ?", ids).Scan(&accounts).Error; err != nil {
			return eventScope{}, err
		}
		sc := eventScope{
			events:     "secret_id IN ?",
			eventArgs:  []any{ids},
			tombstones: "secret_id IN ?",
			stoneArgs:  []any{ids},
		}
		if len(accounts) > 0 {
			sc.tombstones = "(secret_id IN ? OR (kind = ? AND account_id IN ?))"
			sc.stoneArgs = []any{ids, tombstoneBefore, accounts}
		}
		return sc, nil
	})
}

// eventScope restricts an event feed: SQL conditions on events and on
// tombstones with their arguments.
type eventScope struct {
	empty bool
	// account, when set, is the account of every event in scope: its id
	// is not read from each row (a string less to allocate per event).
	account    string
	events     string
	eventArgs  []any
	tombstones string
	stoneArgs  []any
}

// eventFeed serves one page of an events-then-tombstones feed. In one read
// transaction it reads the tombstones after the cursor (at most limit+1,
// small rows), then streams the events after the cursor in order, merging
// their positions with the tombstones' to find where the page ends, and
// finally hands over the tombstones inside the page. Payloads are never
// buffered.
func (s *Store) eventFeed(ctx context.Context, op string, q persistence.FeedQuery, items persistence.FeedItems,
	scope func(tx *gorm.DB) (eventScope, error)) (persistence.FeedPage, error) {
	r, err := s.beginPage(q)
	if err != nil {
		return persistence.FeedPage{}, fmt.Errorf("relational: %s: %w", op, err)
	}
	var page persistence.FeedPage
	var cbErr error
	err = s.read(ctx, op, func(tx *gorm.DB) error {
		sc, err := scope(tx)
		if err != nil {
			return err
		}
		last := r.from.pos
		if sc.empty {
			page = s.endPage(r, last, false)
			return nil
		}
		after, afterArgs := afterSQL(kindTombstone, r.from.pos, "seq", "tombstone_id")
		var stones []tombstoneRecord
		err = tx.Where(sc.tombstones, sc.stoneArgs...).Where(after, afterArgs...).
			Order("seq, tombstone_id").Limit(r.limit + 1).Find(&stones).Error
		if err != nil {
			return err
		}
		stonePos := func(i int) position {
			return position{seq: stones[i].Seq, kind: kindTombstone, id: stones[i].TombstoneID}
		}

		after, afterArgs = afterSQL(kindItem, r.from.pos, "seq", "event_id")
		columns := "event_id, account_id, secret_id, key_id, payload, seq"
		if sc.account != "" {
			columns = "event_id, secret_id, key_id, payload, seq"
		}
		rows, err := tx.Model(&eventRecord{}).Select(columns).
			Where(sc.events, sc.eventArgs...).Where(after, afterArgs...).
			Order("seq, event_id").Limit(r.limit + 1).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		emitted, j := 0, 0
		more := false
		// One row variable and one list of scan targets for the page: what
		// Scan is given escapes, and per row that would be an allocation.
		var row persistence.Event
		dest := []any{&row.EventID, &row.AccountID, &row.SecretID, &row.KeyID, &row.Payload, &row.Seq}
		if sc.account != "" {
			dest = slices.Delete(dest, 1, 2)
		}
		for rows.Next() {
			row = persistence.Event{AccountID: sc.account}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			e := row
			pos := position{seq: e.Seq, kind: kindItem, id: e.EventID}
			for j < len(stones) && stonePos(j).compare(pos) < 0 {
				j++
			}
			if emitted+j+1 > r.limit {
				more = true
				break
			}
			if items.Event != nil {
				if err := items.Event(e); err != nil {
					cbErr = err
					return err
				}
			}
			emitted++
			last = pos
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		room := r.limit - emitted
		if len(stones) > room {
			more = true
			stones = stones[:room]
		}
		for i, t := range stones {
			if p := stonePos(i); p.compare(last) > 0 {
				last = p
			}
			if items.Tombstone != nil {
				if err := items.Tombstone(t.toDomain()); err != nil {
					cbErr = err
					return err
				}
			}
		}
		page = s.endPage(r, last, more)
		return nil
	})
	if cbErr != nil {
		return persistence.FeedPage{}, cbErr
	}
	return page, err
}

// AccountSecrets pages through an account's secrets; see persistence.Feeds.
func (s *Store) AccountSecrets(ctx context.Context, accountID string, q persistence.FeedQuery, items persistence.FeedItems) (persistence.FeedPage, error) {
	r, err := s.beginPage(q)
	if err != nil {
		return persistence.FeedPage{}, fmt.Errorf("relational: account secrets: %w", err)
	}
	var page persistence.FeedPage
	var cbErr error
	err = s.read(ctx, "account secrets", func(tx *gorm.DB) error {
		after, afterArgs := afterSQL(kindItem, r.from.pos, "seq", "key_id")
		rows, err := tx.Model(&secretRecord{}).Select("key_id, account_id, secret_id, wrapped_secret, seq, created_at").
			Where("account_id = ?", accountID).Where(after, afterArgs...).
			Order("seq, key_id").Limit(r.limit + 1).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		last := r.from.pos
		n := 0
		more := false
		var row secretRecord
		dest := []any{&row.KeyID, &row.AccountID, &row.SecretID, &row.WrappedSecret, &row.Seq, &row.CreatedAt}
		for rows.Next() {
			if n == r.limit {
				more = true
				break
			}
			row = secretRecord{}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			rec := row
			if items.Secret != nil {
				if err := items.Secret(rec.toDomain()); err != nil {
					cbErr = err
					return err
				}
			}
			n++
			last = position{seq: rec.Seq, kind: kindItem, id: rec.KeyID}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		page = s.endPage(r, last, more)
		return nil
	})
	if cbErr != nil {
		return persistence.FeedPage{}, cbErr
	}
	return page, err
}
