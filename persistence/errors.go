// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import "errors"

// Sentinel errors returned (wrapped with the operation's name) by every Store
// implementation. Compare with errors.Is.
var (
	// ErrNotFound means the addressed row does not exist (or is not visible to
	// the operation, e.g. a retired account for an update).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write clashes with existing state: a duplicate id
	// or unique value.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the input breaks a documented constraint (length, format,
	// reference to a missing row); the request should not be retried as is.
	ErrInvalid = errors.New("invalid")
	// ErrSchemaOutdated means the database lacks migrations this binary knows;
	// run `offen migrate`.
	ErrSchemaOutdated = errors.New("schema outdated")
	// ErrUnavailable means the database could not be reached or is overloaded
	// (connection failure, busy, deadlock); the operation may be retried later.
	ErrUnavailable = errors.New("unavailable")
)
