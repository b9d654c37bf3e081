// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"time"
)

// Limits on account fields, checked by the store (ErrInvalid).
const (
	// MaxAccountNameLength is the maximum account name length in characters.
	MaxAccountNameLength = 100
	// MaxBannerCSSBytes is the maximum size of an account's banner CSS.
	MaxBannerCSSBytes = 16 * 1024
	// UserSaltLength is the size of the per-account user salt in bytes.
	UserSaltLength = 16
	// MaxGoalsBytes is the maximum size of an account's sealed goals and
	// funnels.
	MaxGoalsBytes = 48 * 1024
)

// Account is an operator's site. Its id, key pair and encrypted private key
// are made by the client that creates it (PROTOCOL.md §2.4).
type Account struct {
	// ID is a lowercase UUIDv4.
	ID string
	// Name is 1 to MaxAccountNameLength characters; names need not be unique.
	Name string
	// PublicKey is the account's public key ("p256.…").
	PublicKey string
	// EncryptedPrivateKey is the private key under the KEK ("a1.…").
	EncryptedPrivateKey string
	// UserSalt is the 16-byte HMAC key for visitor secret ids; the store
	// generates it at creation when empty.
	UserSalt []byte
	// AllowedOrigins are the origins allowed to embed the vault (may be empty).
	AllowedOrigins []string
	// BannerCSS is the operator's banner style, at most MaxBannerCSSBytes.
	BannerCSS string
	// Goals are the account's goal and funnel definitions sealed by an
	// admin's client ("a1.…" under the KEK, keys/PROTOCOL.md §12), at most
	// MaxGoalsBytes; empty when none were saved. The server cannot read
	// them: event names are the operator's words about the site.
	Goals string
	// Retired is true once the account was retired; RetiredAt is then set.
	Retired   bool
	RetiredAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Accounts stores accounts. Granting access to them is the logins' area.
type Accounts interface {
	// CreateAccount stores a new account and returns it as stored (user salt,
	// timestamps set). It returns ErrInvalid for a malformed id, an empty or
	// too long name, empty keys, a user salt that is neither empty nor 16 bytes
	// or too long banner CSS, and ErrConflict when the id is taken.
	CreateAccount(ctx context.Context, a Account) (Account, error)
	// FindAccount returns the account with that id, retired or not (see
	// Retired). It returns ErrNotFound when there is none.
	FindAccount(ctx context.Context, id string) (Account, error)
	// ListAccounts returns the accounts among ids that exist, retired ones
	// included, ordered by creation time then id. Unknown ids are left out;
	// no ids gives an empty result.
	ListAccounts(ctx context.Context, ids []string) ([]Account, error)
	// UpdateAllowedOrigins replaces the account's allowed origins (nil or empty
	// clears them). It returns ErrNotFound for an unknown or retired account.
	UpdateAllowedOrigins(ctx context.Context, id string, origins []string) error
	// UpdateBannerCSS replaces the account's banner CSS, which the caller has
	// validated. It returns ErrInvalid when longer than MaxBannerCSSBytes and
	// ErrNotFound for an unknown or retired account.
	UpdateBannerCSS(ctx context.Context, id string, css string) error
	// UpdateGoals replaces the account's sealed goals and funnels ("" clears
	// them). It returns ErrInvalid when longer than MaxGoalsBytes and
	// ErrNotFound for an unknown or retired account.
	UpdateGoals(ctx context.Context, id string, sealed string) error
}
