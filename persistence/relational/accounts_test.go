// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
)

func TestAccounts(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		clk := newClock(time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC))
		store := persistencetest.NewStore(t, d, persistencetest.WithNow(clk.Now))

		in := newAccount("Zoë's blog ☕")
		in.AllowedOrigins = []string{"https://example.com", "https://www.example.com"}
		in.BannerCSS = ".banner { color: red; }"
		created, err := store.CreateAccount(ctx, in)
		if err != nil {
			t.Fatalf("create account: %v", err)
		}
		wantTime := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
		if !created.CreatedAt.Equal(wantTime) || !created.UpdatedAt.Equal(wantTime) {
			t.Errorf("got created %v updated %v, want %v", created.CreatedAt, created.UpdatedAt, wantTime)
		}
		if len(created.UserSalt) != persistence.UserSaltLength {
			t.Errorf("got user salt of %d bytes, want %d", len(created.UserSalt), persistence.UserSaltLength)
		}

		found, err := store.FindAccount(ctx, in.ID)
		if err != nil {
			t.Fatalf("find account: %v", err)
		}
		if !reflect.DeepEqual(found, created) {
			t.Errorf("find account:\n got %+v\nwant %+v", found, created)
		}
		if found.CreatedAt.Location() != time.UTC {
			t.Errorf("got location %v, want UTC", found.CreatedAt.Location())
		}

		t.Run("duplicate id", func(t *testing.T) {
			_, err := store.CreateAccount(ctx, in)
			if !errors.Is(err, persistence.ErrConflict) {
				t.Fatalf("got %v, want ErrConflict", err)
			}
			if !strings.HasPrefix(err.Error(), "relational: create account: ") {
				t.Errorf("got message %q, want it to name the operation", err)
			}
		})

		t.Run("invalid input", func(t *testing.T) {
			for name, mutate := range map[string]func(a *persistence.Account){
				"uppercase id":   func(a *persistence.Account) { a.ID = strings.ToUpper(a.ID) },
				"not a uuid":     func(a *persistence.Account) { a.ID = "abc" },
				"empty name":     func(a *persistence.Account) { a.Name = "  " },
				"long name":      func(a *persistence.Account) { a.Name = strings.Repeat("ü", 101) },
				"no public key":  func(a *persistence.Account) { a.PublicKey = "" },
				"no private key": func(a *persistence.Account) { a.EncryptedPrivateKey = "" },
				"short salt":     func(a *persistence.Account) { a.UserSalt = []byte{1, 2, 3} },
				"banner css too long": func(a *persistence.Account) {
					a.BannerCSS = strings.Repeat("a", persistence.MaxBannerCSSBytes+1)
				},
			} {
				a := newAccount("x")
				mutate(&a)
				if _, err := store.CreateAccount(ctx, a); !errors.Is(err, persistence.ErrInvalid) {
					t.Errorf("%s: got %v, want ErrInvalid", name, err)
				}
			}
			long := newAccount(strings.Repeat("ü", 100))
			if _, err := store.CreateAccount(ctx, long); err != nil {
				t.Errorf("name of 100 characters: %v", err)
			}
		})

		t.Run("not found", func(t *testing.T) {
			if _, err := store.FindAccount(ctx, newUUID()); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("find: got %v, want ErrNotFound", err)
			}
			if err := store.UpdateAllowedOrigins(ctx, newUUID(), nil); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("update origins: got %v, want ErrNotFound", err)
			}
			if err := store.UpdateBannerCSS(ctx, newUUID(), ""); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("update banner: got %v, want ErrNotFound", err)
			}
		})

		t.Run("updates", func(t *testing.T) {
			clk.Add(time.Minute)
			if err := store.UpdateAllowedOrigins(ctx, in.ID, []string{"https://other.example"}); err != nil {
				t.Fatal(err)
			}
			if err := store.UpdateBannerCSS(ctx, in.ID, ".x{}"); err != nil {
				t.Fatal(err)
			}
			// The same value again is no "not found", on MySQL too.
			if err := store.UpdateBannerCSS(ctx, in.ID, ".x{}"); err != nil {
				t.Fatalf("unchanged update: %v", err)
			}
			got, err := store.FindAccount(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.AllowedOrigins, []string{"https://other.example"}) || got.BannerCSS != ".x{}" {
				t.Errorf("got origins %v css %q", got.AllowedOrigins, got.BannerCSS)
			}
			if !got.UpdatedAt.Equal(wantTime.Add(time.Minute)) || !got.CreatedAt.Equal(wantTime) {
				t.Errorf("got created %v updated %v", got.CreatedAt, got.UpdatedAt)
			}
			if err := store.UpdateAllowedOrigins(ctx, in.ID, nil); err != nil {
				t.Fatal(err)
			}
			got, _ = store.FindAccount(ctx, in.ID)
			if got.AllowedOrigins == nil || len(got.AllowedOrigins) != 0 {
				t.Errorf("got origins %#v after clearing, want empty", got.AllowedOrigins)
			}
			err = store.UpdateBannerCSS(ctx, in.ID, strings.Repeat("a", persistence.MaxBannerCSSBytes+1))
			if !errors.Is(err, persistence.ErrInvalid) {
				t.Errorf("long css: got %v, want ErrInvalid", err)
			}
			if err := store.UpdateBannerCSS(ctx, in.ID, strings.Repeat("a", persistence.MaxBannerCSSBytes)); err != nil {
				t.Errorf("css of the maximum size: %v", err)
			}
		})

		t.Run("goals", func(t *testing.T) {
			if got, _ := store.FindAccount(ctx, in.ID); got.Goals != "" {
				t.Errorf("a new account has goals %q", got.Goals)
			}
			sealed := "a1.nonce." + strings.Repeat("c", persistence.MaxGoalsBytes-9)
			for _, want := range []string{sealed, sealed, ""} { // the same value twice, then cleared
				if err := store.UpdateGoals(ctx, in.ID, want); err != nil {
					t.Fatal(err)
				}
				if got, err := store.FindAccount(ctx, in.ID); err != nil || got.Goals != want {
					t.Errorf("got goals of %d bytes, %v; want %d", len(got.Goals), err, len(want))
				}
			}
			if err := store.UpdateGoals(ctx, in.ID, sealed+"c"); !errors.Is(err, persistence.ErrInvalid) {
				t.Errorf("long goals: got %v, want ErrInvalid", err)
			}
			if err := store.UpdateGoals(ctx, newUUID(), ""); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("unknown account: got %v, want ErrNotFound", err)
			}
		})

		t.Run("retired", func(t *testing.T) {
			a, err := store.CreateAccount(ctx, newAccount("retiring"))
			if err != nil {
				t.Fatal(err)
			}
			retiredAt := clk.Now().UTC().Truncate(time.Microsecond)
			if err := store.Exec(ctx, "UPDATE accounts SET retired_at = ? WHERE account_id = ?", retiredAt, a.ID); err != nil {
				t.Fatal(err)
			}
			got, err := store.FindAccount(ctx, a.ID)
			if err != nil {
				t.Fatalf("find retired: %v", err)
			}
			if !got.Retired || !got.RetiredAt.Equal(retiredAt) {
				t.Errorf("got retired %v at %v, want true at %v", got.Retired, got.RetiredAt, retiredAt)
			}
			if err := store.UpdateBannerCSS(ctx, a.ID, ""); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("update retired: got %v, want ErrNotFound", err)
			}
			list, err := store.ListAccounts(ctx, []string{a.ID})
			if err != nil || len(list) != 1 || !list[0].Retired {
				t.Errorf("list retired: got %+v, %v", list, err)
			}
		})

		t.Run("list", func(t *testing.T) {
			var ids []string
			for i := range 3 {
				clk.Add(time.Second)
				a, err := store.CreateAccount(ctx, newAccount("list"))
				if err != nil {
					t.Fatal(err)
				}
				if i != 1 {
					ids = append(ids, a.ID)
				}
			}
			query := []string{ids[1], newUUID(), ids[0], ids[1]}
			got, err := store.ListAccounts(ctx, query)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
				t.Errorf("got %d accounts, want %v in creation order", len(got), ids)
			}
			empty, err := store.ListAccounts(ctx, nil)
			if err != nil || empty == nil || len(empty) != 0 {
				t.Errorf("no ids: got %#v, %v; want empty slice", empty, err)
			}
		})
	})
}
