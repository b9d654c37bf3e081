// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build race

package keys

// raceEnabled lets slow deterministic tests step aside under -race, where
// PBKDF2 and argon2id run many times slower and find no data races.
const raceEnabled = true
