// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// Maintenance covers the life cycle of a store: health, schema and expiry.
type Maintenance interface {
	// Ping checks that the database answers. It returns ErrUnavailable when it
	// does not (or the context's error when that ended first).
	Ping(ctx context.Context) error
	// SchemaStatus reports which migrations the database has applied and which
	// this binary knows. An empty database is not an error (nothing applied).
	// It returns ErrUnavailable when the database cannot be read.
	SchemaStatus(ctx context.Context) (SchemaStatus, error)
	// Migrate applies every pending migration in order, each at most once even
	// when several instances call it at the same time on one database: it
	// holds the "migrate" lease while applying, and an instance that finds the
	// lease taken waits for it and then sees the schema current. Calling it on
	// a current schema is a no-op. It returns ErrUnavailable on connection
	// failures and the context's error when ctx ends while waiting.
	Migrate(ctx context.Context) error
	// Expire deletes data older than retention as PROTOCOL.md §5 "Retention and
	// expiry" describes, in batches of at most 10,000 rows, and writes the
	// tombstones that announce the deletions. It holds the "expire" lease; when
	// another instance holds it, it returns a result with Skipped set and a nil
	// error. A retention <= 0 returns ErrInvalid. A failure part-way leaves
	// every finished batch committed, so the next run continues.
	Expire(ctx context.Context, retention time.Duration) (ExpireResult, error)
	// Close releases the connections. The store must not be used afterwards.
	Close() error
}

// SchemaStatus compares the migrations applied to a database with those this
// binary knows, both as ordered migration ids.
type SchemaStatus struct {
	Applied []string
	Known   []string
}

// Pending lists the known migrations the database has not applied, in order.
func (s SchemaStatus) Pending() []string {
	var pending []string
	for _, id := range s.Known {
		if !slices.Contains(s.Applied, id) {
			pending = append(pending, id)
		}
	}
	return pending
}

// Unknown lists applied migrations this binary does not know (the database
// was migrated by a newer version).
func (s SchemaStatus) Unknown() []string {
	var unknown []string
	for _, id := range s.Applied {
		if !slices.Contains(s.Known, id) {
			unknown = append(unknown, id)
		}
	}
	return unknown
}

// Current reports whether every known migration is applied.
func (s SchemaStatus) Current() bool {
	return len(s.Pending()) == 0
}

// ExpireResult counts what one Expire run removed and wrote.
type ExpireResult struct {
	// Skipped is set when another instance held the expire lease; nothing was
	// done and every count is zero.
	Skipped bool
	// Events deleted because their event id is older than the cutoff or
	// their account is retired.
	Events int64
	// Secrets deleted because they are older than the cutoff and no event
	// references their key id, or because their account is retired.
	Secrets int64
	// Segments deleted because their period ended before the cutoff.
	Segments int64
	// Tombstones deleted because their seq is older than the cutoff.
	Tombstones int64
	// TombstonesWritten counts the "before" and "secret" tombstones written.
	TombstonesWritten int64
	// Sessions deleted past their expiry.
	Sessions int64
	// Tokens (one-time tokens) deleted past their expiry.
	Tokens int64
	// Grants deleted because they were pending on an expired invitation.
	Grants int64
	// Logins deleted because they were pending and held no grant.
	Logins int64
}

// LogValue lets loggers print the counts as a group.
func (r ExpireResult) LogValue() slog.Value {
	if r.Skipped {
		return slog.GroupValue(slog.Bool("skipped", true))
	}
	return slog.GroupValue(
		slog.Int64("events", r.Events),
		slog.Int64("secrets", r.Secrets),
		slog.Int64("segments", r.Segments),
		slog.Int64("tombstones", r.Tombstones),
		slog.Int64("tombstonesWritten", r.TombstonesWritten),
		slog.Int64("sessions", r.Sessions),
		slog.Int64("tokens", r.Tokens),
		slog.Int64("grants", r.Grants),
		slog.Int64("logins", r.Logins),
	)
}
