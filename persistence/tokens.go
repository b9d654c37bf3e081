// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"time"
)

// TokenKind says what a one-time token authorizes.
type TokenKind string

// One-time token kinds of PROTOCOL.md §5.
const (
	TokenReset  TokenKind = "reset"
	TokenInvite TokenKind = "invite"
)

// Token is a one-time token; only its hash is stored.
type Token struct {
	ID        string // set by the store
	Hash      string // hex SHA-256 of the token (64 chars)
	Kind      TokenKind
	LoginID   string
	CreatedBy string // inviting login; empty for resets
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Tokens stores one-time tokens. Reset and join consume them in the
// transactions of Logins.
type Tokens interface {
	// FindToken returns the unexpired token of kind with that hash, or
	// ErrNotFound (also when it expired).
	FindToken(ctx context.Context, kind TokenKind, hash string) (Token, error)
	// ReplaceResetToken stores t (kind reset) for t.LoginID after deleting
	// the login's older reset tokens. ErrNotFound for an unknown login.
	ReplaceResetToken(ctx context.Context, t Token) error
}
