// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build race

package server_test

// raceEnabled lets the memory-bound test step aside under -race, whose shadow
// memory multiplies the resident size; `make test-go` runs it without -race.
const raceEnabled = true
