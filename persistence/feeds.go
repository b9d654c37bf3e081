// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"time"
)

// Sync constants of PROTOCOL.md §6.
const (
	// MaxCommitDelay is T: every write transaction that takes a seq commits
	// or aborts within this time of taking it (a context deadline).
	MaxCommitDelay = 10 * time.Second
	// SyncWindow is W ≥ T + 2D (D = 20 s, the clock difference allowed
	// between instances): a run's resume cursor lies at most this far before
	// the run's start.
	SyncWindow = 60 * time.Second
	// DefaultFeedLimit and MaxFeedLimit bound the items of one page.
	DefaultFeedLimit = 1000
	MaxFeedLimit     = 5000
)

// Tombstone kinds (PROTOCOL.md §5).
const (
	// TombstoneEvent: the event with id Target is gone.
	TombstoneEvent = "event"
	// TombstoneSecret: the secret with key id Target and every event under
	// it are gone.
	TombstoneSecret = "secret"
	// TombstoneBefore: every event of the account with an id below the ULID
	// Target is gone.
	TombstoneBefore = "before"
)

// Tombstone announces a deletion to syncing clients.
type Tombstone struct {
	TombstoneID string
	AccountID   string
	// SecretID is the secret id whose rows are gone; empty for "before".
	SecretID string
	// Kind is TombstoneEvent, TombstoneSecret or TombstoneBefore.
	Kind   string
	Target string
	Seq    int64
}

// FeedQuery selects one page of a feed.
type FeedQuery struct {
	// Since is the cursor of the previous page ("next"); empty starts from
	// the beginning. Cursors are opaque; a malformed one is ErrInvalid.
	Since string
	// Start, when not zero, begins a run at the feed position of that time
	// instead of a cursor: every item whose seq is at or after it (every
	// event received from then on, as an event's seq is taken after its
	// ULID by the same clock). It must not be combined with Since
	// (ErrInvalid).
	Start time.Time
	// Limit is the most items of the page, 1 to MaxFeedLimit; 0 means
	// DefaultFeedLimit; anything else is ErrInvalid.
	Limit int
	// Retention is the instance's retention R: a resume cursor whose
	// position is older than now − R starts the feed again from the
	// beginning with FeedPage.Reset set (PROTOCOL.md §6 rule 6). Zero turns
	// the check off.
	Retention time.Duration
}

// FeedPage describes a page after its items were streamed.
type FeedPage struct {
	// Next is the cursor to ask for the following page with.
	Next string
	// More says whether items remain after this page.
	More bool
	// Reset tells the client to clear its cache of this feed first: the
	// cursor was older than the retention (PROTOCOL.md §6 rule 6), and the
	// page starts from the beginning.
	Reset bool
}

// FeedItems receives a page's items. The store first calls Event for every
// event of the page, then Tombstone for every tombstone (or Secret for the
// secrets feed), each in ascending position. A nil callback skips its kind;
// an error from a callback aborts the page and is returned unwrapped.
type FeedItems struct {
	Event     func(Event) error
	Tombstone func(Tombstone) error
	Secret    func(Secret) error
}

// Feeds serves the incremental sync of PROTOCOL.md §6. Every page is read in
// one read transaction and streamed to the callbacks, so a page's items are
// never buffered. Errors: ErrInvalid for a malformed cursor or limit; a
// failure mid-stream returns the error and the client retries the cursor.
type Feeds interface {
	// AccountEvents pages through one account's events, then tombstones
	// (GET /api/accounts/{id}/events). Retired accounts have a feed too.
	AccountEvents(ctx context.Context, accountID string, q FeedQuery, items FeedItems) (FeedPage, error)
	// AccountSecrets pages through one account's secrets
	// (GET /api/accounts/{id}/secrets).
	AccountSecrets(ctx context.Context, accountID string, q FeedQuery, items FeedItems) (FeedPage, error)
	// VisitorEvents pages through the events under secretIDs in every
	// account, then the tombstones under secretIDs and the "before"
	// tombstones of accounts in which one of secretIDs holds a secret
	// (GET /api/events). No secret ids give an empty last page.
	VisitorEvents(ctx context.Context, secretIDs []string, q FeedQuery, items FeedItems) (FeedPage, error)
}
