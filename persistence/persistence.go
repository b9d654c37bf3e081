// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package persistence is Offen's storage contract: domain types and one small
// interface per area (maintenance, accounts, certificates, events, logins...),
// joined by Store. It knows no SQL and no HTTP.
//
// Every method takes a context and returns errors that wrap one of the
// sentinels in errors.go (ErrNotFound, ErrConflict, ErrInvalid,
// ErrSchemaOutdated, ErrUnavailable) or a context error, prefixed with the
// operation's name. Methods never return a nil value with a nil error to
// signal absence.
//
// Times handed out are UTC. Ciphertexts in versioned formats (a1., e1.,
// p256., argon2id1.) are Go strings and are stored as given; raw salts are
// []byte. The implementation lives in persistence/relational.
package persistence
