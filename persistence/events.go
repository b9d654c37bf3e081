// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import "context"

// Limits on ingested events, checked by the store (ErrInvalid).
const (
	// MaxEventsPerRequest is the most payloads one CreateEvents call takes.
	MaxEventsPerRequest = 10
	// MaxPayloadBytes is the largest event payload ("a1.…") accepted.
	MaxPayloadBytes = 8 * 1024
)

// Event is one encrypted event (PROTOCOL.md §5).
type Event struct {
	// EventID is a ULID assigned by the store at receipt; its time is the
	// receipt time used for expiry.
	EventID   string
	AccountID string
	SecretID  string
	KeyID     string
	// Payload is the event under the user secret ("a1.…").
	Payload string
	// Seq is the sync position (PROTOCOL.md §6).
	Seq int64
}

// NewEvents is one ingest request: payloads of one visitor under one key.
type NewEvents struct {
	AccountID string
	// SecretID is the caller's secret id in AccountID (keys.SecretID of the
	// user cookie under the account's user salt).
	SecretID string
	// KeyID names the secret the payloads are encrypted with; it must belong
	// to AccountID and SecretID.
	KeyID string
	// Payloads are 1 to MaxEventsPerRequest ciphertexts of at most
	// MaxPayloadBytes each, starting with "a1.".
	Payloads []string
	// Resend says that the client sent some of these payloads before and
	// may have missed the answer (the page closed, the network failed):
	// those equal to a payload the store holds for SecretID in AccountID are
	// acknowledged again without being stored twice. A ciphertext carries a
	// random nonce, so equal payloads are the same event.
	Resend bool
}

// PurgeFilter selects what PurgeEvents deletes.
type PurgeFilter struct {
	// SecretIDs are the caller's secret ids (one per account it may hold
	// secrets in). Empty deletes nothing.
	SecretIDs []string
	// AccountID limits the purge to one account; empty means all accounts.
	AccountID string
	// Forget also deletes the secrets under SecretIDs (in AccountID, or all),
	// each with a "secret" tombstone.
	Forget bool
}

// PurgeResult counts what PurgeEvents deleted.
type PurgeResult struct {
	Events  int64
	Secrets int64
}

// Events stores encrypted events. Writes from many concurrent callers are
// committed together in batched transactions (group commit).
type Events interface {
	// CreateEvents stores the payloads as events with store-assigned ULIDs
	// and seqs and returns them (without the payloads of a resend it already
	// held). It returns only after the transaction that
	// holds them committed (durable as configured for the dialect); many
	// concurrent calls share one transaction. It returns ErrInvalid for bad
	// input (counts, sizes, formats), ErrNotFound for an unknown or retired
	// account, ErrConflict when KeyID names no secret of AccountID and
	// SecretID, and ErrUnavailable when the store is overloaded (the queue
	// stayed full until ctx's deadline or an internal limit of a second),
	// closing, or the database failed; in that case nothing was stored. When
	// ctx ends after the call was queued it returns ctx's error and the
	// events may or may not be stored.
	CreateEvents(ctx context.Context, e NewEvents) ([]Event, error)
	// PurgeEvents deletes the events of the filter's secret ids (POST
	// /api/purge), writing an "event" tombstone for each, and with Forget
	// then their secrets with a "secret" tombstone each. It works in
	// transactions of at most 10,000 rows; after a failure part-way every
	// committed deletion has its tombstone, and calling it again finishes
	// the work. An empty SecretIDs is a no-op. It returns ErrInvalid for a
	// malformed secret or account id.
	PurgeEvents(ctx context.Context, f PurgeFilter) (PurgeResult, error)
	// ExportEvents calls fn for every event under secretIDs, in all accounts,
	// ordered by account id then event id, read in one read transaction and
	// streamed (GET /api/events/export). An error from fn stops the export
	// and is returned unwrapped.
	ExportEvents(ctx context.Context, secretIDs []string, fn func(Event) error) error
	// DeleteAccountData deletes a retired account's events and then its
	// secrets, in batches of at most 10,000 rows, each secret with a "secret"
	// tombstone so visitor caches follow (PROTOCOL.md §4 Accounts, retire).
	// Call it after the transaction that flagged the account retired
	// committed; from then on CreateEvents and CreateSecret refuse the
	// account, so nothing new arrives while it runs. Events deleted before a
	// failure are announced only by the "secret" tombstones of a later,
	// successful call, so the caller retries until it succeeds (it is safe
	// to call again). It returns ErrNotFound for an unknown account and
	// ErrInvalid for an account that is not retired.
	DeleteAccountData(ctx context.Context, accountID string) (PurgeResult, error)
}
