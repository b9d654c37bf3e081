// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"testing"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
)

func TestImportSecrets(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		acc := mustAccount(t, store)
		var in []persistence.Secret
		for range 1200 { // more than one insert batch
			in = append(in, persistence.Secret{KeyID: randomHex(16), AccountID: acc.ID, SecretID: randomHex(32), WrappedSecret: "e1.x"})
		}
		if err := store.ImportSecrets(ctx, in); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 599, 1199} {
			got, err := store.FindSecret(ctx, in[i].KeyID)
			if err != nil || got.SecretID != in[i].SecretID || got.Seq == 0 {
				t.Fatalf("secret %d: %+v %v", i, got, err)
			}
		}
		// one bad secret or a taken key id stores nothing of the batch
		fresh := persistence.Secret{KeyID: randomHex(16), AccountID: acc.ID, SecretID: randomHex(32), WrappedSecret: "e1.x"}
		for _, batch := range [][]persistence.Secret{
			{fresh, {KeyID: "nothex", AccountID: acc.ID, SecretID: randomHex(32), WrappedSecret: "e1.x"}},
			{fresh, in[5]},
		} {
			if err := store.ImportSecrets(ctx, batch); err == nil {
				t.Fatal("bad batch imported")
			}
			if _, err := store.FindSecret(ctx, fresh.KeyID); !errors.Is(err, persistence.ErrNotFound) {
				t.Fatalf("part of a failed batch stored: %v", err)
			}
		}
		other := mustAccount(t, store)
		mixed := []persistence.Secret{fresh, {KeyID: randomHex(16), AccountID: other.ID, SecretID: randomHex(32), WrappedSecret: "e1.x"}}
		if err := store.ImportSecrets(ctx, mixed); !errors.Is(err, persistence.ErrInvalid) {
			t.Fatalf("two accounts: %v", err)
		}
	})
}
