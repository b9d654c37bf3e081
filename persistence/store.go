// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

// Store is everything the server needs from storage. Each area declares its
// interface in its own file; add one embed line here per area.
type Store interface {
	Maintenance
	Accounts
	Certificates
	Logins
	Grants
	Sessions
	Tokens
	Secrets
	Events
	Feeds
	Segments
}
