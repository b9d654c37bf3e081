// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"time"
)

// Session is a signed-in operator (PROTOCOL.md §3.4).
type Session struct {
	// TokenHash is hex SHA-256 of the session token (64 chars).
	TokenHash  string
	LoginID    string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is when the session ends unless used again: the earlier of
	// the idle and the absolute limit.
	ExpiresAt time.Time
}

// Sessions stores operator sessions.
type Sessions interface {
	// CreateSession stores s. ErrConflict for a taken hash; ErrInvalid for an
	// unknown login.
	CreateSession(ctx context.Context, s Session) error
	// FindSession returns the session with that token hash, expired or not,
	// or ErrNotFound.
	FindSession(ctx context.Context, tokenHash string) (Session, error)
	// TouchSession sets last use and expiry. ErrNotFound when it is gone.
	TouchSession(ctx context.Context, tokenHash string, lastSeen, expires time.Time) error
	// DeleteSession removes the session; a missing one is not an error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteLoginSessions removes every session of the login.
	DeleteLoginSessions(ctx context.Context, loginID string) error
}
