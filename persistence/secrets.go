// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"time"
)

// Secret is one user secret of a visitor for one account (PROTOCOL.md §3.2,
// §5). A visitor may hold several per account, each under its own key id.
type Secret struct {
	// KeyID is the client-chosen key id, 32 lowercase hex characters, unique
	// across all accounts.
	KeyID string
	// AccountID is the account the secret belongs to.
	AccountID string
	// SecretID is the visitor's per-account pseudonym: hex HMAC-SHA256 of the
	// user id under the account's user salt (64 lowercase hex characters),
	// computed by the server with keys.SecretID.
	SecretID string
	// WrappedSecret is the user secret under the account's public key ("e1.…").
	WrappedSecret string
	// Seq is the sync position (PROTOCOL.md §6), set by the store.
	Seq int64
	// CreatedAt is set by the store.
	CreatedAt time.Time
}

// UserSalt is an account's id with its user salt, for computing a visitor's
// secret id in every account (the visitor feed, purge and export).
type UserSalt struct {
	AccountID string
	UserSalt  []byte
	Retired   bool
}

// AccountCacheTTL is how long FindAccountCached may serve an account read
// earlier. Changes made through this store instance are visible at once;
// changes made by other instances within this time.
const AccountCacheTTL = 5 * time.Second

// Secrets stores visitors' user secrets and serves the lookups of the
// visitor routes.
type Secrets interface {
	// CreateSecret stores a user secret (POST /api/exchange) and sets its seq
	// and creation time. Storing a secret identical to an existing one (same
	// key id, account, secret id and wrapped secret) succeeds without a
	// change, so repeated requests are idempotent. It returns ErrInvalid for a
	// malformed key id, account id or secret id or an empty wrapped secret,
	// ErrNotFound for an unknown or retired account, and ErrConflict when the
	// key id is taken by a different secret.
	CreateSecret(ctx context.Context, s Secret) (Secret, error)
	// FindSecret returns the secret with that key id. It returns ErrNotFound
	// when there is none. The server compares AccountID and SecretID with the
	// request's to answer 409 for a key id that is not the caller's.
	FindSecret(ctx context.Context, keyID string) (Secret, error)
	// FindAccountCached is FindAccount through a small in-process cache for
	// the hot visitor routes (exchange, events, vault): entries live
	// AccountCacheTTL and are dropped at once when this instance updates or
	// retires the account. While the database is unavailable (ErrUnavailable,
	// or ctx ended first), an account this process read before is returned at
	// any age instead of the error. Callers must not modify the returned slices.
	// It returns ErrNotFound for an unknown account (retired ones are
	// returned with Retired set).
	FindAccountCached(ctx context.Context, id string) (Account, error)
	// ListUserSalts returns every account's user salt, retired accounts
	// included, ordered by account id.
	ListUserSalts(ctx context.Context) ([]UserSalt, error)
}
