// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
)

func TestCertificates(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)

		if _, err := store.GetCertificate(ctx, "example.com"); !errors.Is(err, persistence.ErrNotFound) {
			t.Fatalf("missing: got %v, want ErrNotFound", err)
		}
		// Bytes are stored as given, including ones that are not UTF-8.
		first := append([]byte("a1.nonce.ciphertext"), 0x00, 0xff, 0xfe)
		if err := store.PutCertificate(ctx, "example.com", first); err != nil {
			t.Fatal(err)
		}
		got, err := store.GetCertificate(ctx, "example.com")
		if err != nil || !bytes.Equal(got, first) {
			t.Fatalf("get: got %q, %v; want %q", got, err, first)
		}
		second := bytes.Repeat([]byte{0x42}, 100_000)
		if err := store.PutCertificate(ctx, "example.com", second); err != nil {
			t.Fatalf("replace: %v", err)
		}
		got, err = store.GetCertificate(ctx, "example.com")
		if err != nil || !bytes.Equal(got, second) {
			t.Fatalf("get replaced: got %d bytes, %v", len(got), err)
		}
		if err := store.PutCertificate(ctx, "acme_account+key", []byte("k")); err != nil {
			t.Fatal(err)
		}
		if err := store.DeleteCertificate(ctx, "example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.GetCertificate(ctx, "example.com"); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("deleted: got %v, want ErrNotFound", err)
		}
		if err := store.DeleteCertificate(ctx, "example.com"); err != nil {
			t.Errorf("delete missing: got %v, want nil", err)
		}
		if got, err := store.GetCertificate(ctx, "acme_account+key"); err != nil || string(got) != "k" {
			t.Errorf("other entry: got %q, %v", got, err)
		}
		for _, name := range []string{"", strings.Repeat("n", 256)} {
			if err := store.PutCertificate(ctx, name, []byte("x")); !errors.Is(err, persistence.ErrInvalid) {
				t.Errorf("name of %d bytes: got %v, want ErrInvalid", len(name), err)
			}
		}
	})
}
