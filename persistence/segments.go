// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"fmt"
	"time"
)

// Limits of the segment routes (keys/PROTOCOL.md §13).
const (
	// MaxSegmentBytes is the largest sealed segment ("a1.…") stored.
	MaxSegmentBytes = 64 << 20
	// MaxSecretLookup is the most key ids one FindSecrets call takes.
	MaxSecretLookup = 500
)

// Segment is the sealed content of one closed period (a UTC day of the
// events' receipt time) of one account, uploaded by a grant holder's browser
// (keys/PROTOCOL.md §13). The server cannot read it; it checks only that it
// covers exactly the live events of the period. Segments are a cache of the
// raw events: deleting one of the covered events makes the segment stale.
type Segment struct {
	AccountID string
	// Period is the day, YYYY-MM-DD.
	Period string
	// Version is the plaintext format version, 1 or more.
	Version int
	// Size is the length of Sealed in bytes, set by the store.
	Size int
	// Count and Digest are the coverage: the number of the period's events
	// and the lowercase hex SHA-256 of their sorted binary ULIDs
	// (keys/segment.Coverage).
	Count  int
	Digest string
	// Sealed is the "a1.…" string; empty in listings and once stale.
	Sealed string
	// UploadedBy is the login id of the uploader.
	UploadedBy string
	// Stale is set when an event of the period was deleted after the
	// upload. Stale segments are neither listed nor served; the store drops
	// their sealed content at once, as it may hold what a visitor purged.
	Stale     bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ErrSegmentTooLarge is PutSegment's refusal of a segment larger than the
// database takes in one statement (MySQL's max_allowed_packet).
var ErrSegmentTooLarge = fmt.Errorf("segment too large for the database: %w", ErrInvalid)

// CoverageError is PutSegment's refusal of a segment whose coverage differs
// from the live events of its period. It matches ErrConflict.
type CoverageError struct {
	// Count and Digest are those of the live events the store holds.
	Count  int
	Digest string
}

func (e *CoverageError) Error() string {
	return fmt.Sprintf("segment coverage differs from the period's %d live events", e.Count)
}

func (e *CoverageError) Unwrap() error { return ErrConflict }

// PeriodQuery selects one page of a period's events, in event id order.
type PeriodQuery struct {
	// After is the event id the previous page ended with ("next"); empty
	// starts at the period's first event.
	After string
	// Limit is 1 to MaxFeedLimit; 0 means DefaultFeedLimit.
	Limit int
}

// PeriodPage describes a page of PeriodEvents after its items were streamed.
type PeriodPage struct {
	// Next is the last event id of the page (After when it was empty).
	Next string
	More bool
}

// Segments stores sealed segments and serves the reads a dashboard needs to
// build them (GET/PUT /api/accounts/{id}/segments…).
type Segments interface {
	// ListSegments returns the account's segments that are not stale,
	// ordered by period, without their sealed content.
	ListSegments(ctx context.Context, accountID string) ([]Segment, error)
	// FindSegment returns one segment with its sealed content. It returns
	// ErrNotFound when there is none or it is stale.
	FindSegment(ctx context.Context, accountID, period string) (Segment, error)
	// PutSegment stores a segment, replacing the period's earlier (or
	// stale) one, in one transaction that first computes the coverage of
	// the live events of the period. It returns a *CoverageError when
	// Count or Digest differ from it, ErrInvalid for malformed fields or a
	// period that is not closed yet (its end lies less than SyncWindow in
	// the past), ErrSegmentTooLarge when the database cannot take it in one
	// statement, and ErrNotFound for an unknown or retired account.
	PutSegment(ctx context.Context, s Segment) (Segment, error)
	// PeriodEvents pages through one period's events in event id order,
	// calling items.Event for each, then items.Secret for every secret of
	// the account whose key id one of them names. ErrInvalid for a
	// malformed period, cursor or limit.
	PeriodEvents(ctx context.Context, accountID, period string, q PeriodQuery, items FeedItems) (PeriodPage, error)
	// FindSecrets returns the account's secrets among keyIDs (at most
	// MaxSecretLookup, else ErrInvalid), ordered by key id; unknown ids and
	// those of other accounts are left out. A malformed key id is
	// ErrInvalid.
	FindSecrets(ctx context.Context, accountID string, keyIDs []string) ([]Secret, error)
	// OldestEventPeriod returns the period of the account's oldest live
	// event, or ErrNotFound when it has none.
	OldestEventPeriod(ctx context.Context, accountID string) (string, error)
}
