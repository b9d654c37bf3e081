// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import "context"

// Certificates is the autocert cache shared by all instances. Data is stored
// exactly as given; the caller encrypts it (PROTOCOL.md §2.3), so a database
// dump alone yields no TLS key.
type Certificates interface {
	// GetCertificate returns the data stored under name, or ErrNotFound.
	GetCertificate(ctx context.Context, name string) ([]byte, error)
	// PutCertificate stores data under name, replacing what was there. It
	// returns ErrInvalid for an empty or longer than 255 bytes name.
	PutCertificate(ctx context.Context, name string, data []byte) error
	// DeleteCertificate removes the entry; a missing entry is not an error.
	DeleteCertificate(ctx context.Context, name string) error
}
