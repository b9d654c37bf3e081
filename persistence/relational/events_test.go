// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/proxytest"
	"github.com/offen/offen/persistence/relational"
)

// visitor is a secret of one visitor in one account.
type visitor struct {
	AccountID string
	SecretID  string
	KeyID     string
}

func mustAccount(t testing.TB, store *relational.Store) persistence.Account {
	t.Helper()
	a, err := store.CreateAccount(context.Background(), newAccount("site"))
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a
}

// mustVisitor stores a new secret for a new visitor (or, with secretID set,
// another key of that visitor) in account.
func mustVisitor(t testing.TB, store *relational.Store, accountID, secretID string) visitor {
	t.Helper()
	if secretID == "" {
		secretID = randomHex(32)
	}
	v := visitor{AccountID: accountID, SecretID: secretID, KeyID: randomHex(16)}
	_, err := store.CreateSecret(context.Background(), persistence.Secret{
		KeyID: v.KeyID, AccountID: accountID, SecretID: secretID, WrappedSecret: "e1." + randomHex(20),
	})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
	return v
}

func payload() string { return "a1." + randomHex(12) + "." + randomHex(40) }

func mustEvents(t testing.TB, store *relational.Store, v visitor, n int) []persistence.Event {
	t.Helper()
	payloads := make([]string, n)
	for i := range payloads {
		payloads[i] = payload()
	}
	events, err := store.CreateEvents(context.Background(), persistence.NewEvents{
		AccountID: v.AccountID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: payloads,
	})
	if err != nil {
		t.Fatalf("create events: %v", err)
	}
	return events
}

func TestSecrets(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a := mustAccount(t, store)
		in := persistence.Secret{KeyID: randomHex(16), AccountID: a.ID, SecretID: randomHex(32), WrappedSecret: "e1.abc.def"}
		created, err := store.CreateSecret(ctx, in)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if created.Seq == 0 || created.CreatedAt.IsZero() {
			t.Errorf("got seq %d, created %v, want both set", created.Seq, created.CreatedAt)
		}
		t.Run("identical again", func(t *testing.T) {
			again, err := store.CreateSecret(ctx, in)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if again.Seq != created.Seq {
				t.Errorf("got seq %d, want the stored %d", again.Seq, created.Seq)
			}
		})
		t.Run("key id taken", func(t *testing.T) {
			other := in
			other.WrappedSecret = "e1.other"
			if _, err := store.CreateSecret(ctx, other); !errors.Is(err, persistence.ErrConflict) {
				t.Errorf("got %v, want ErrConflict", err)
			}
			other = in
			other.SecretID = randomHex(32)
			if _, err := store.CreateSecret(ctx, other); !errors.Is(err, persistence.ErrConflict) {
				t.Errorf("got %v, want ErrConflict", err)
			}
		})
		t.Run("find", func(t *testing.T) {
			got, err := store.FindSecret(ctx, in.KeyID)
			if err != nil {
				t.Fatal(err)
			}
			if got != created {
				t.Errorf("got %+v, want %+v", got, created)
			}
			if _, err := store.FindSecret(ctx, randomHex(16)); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
		})
		t.Run("invalid", func(t *testing.T) {
			for _, bad := range []persistence.Secret{
				{KeyID: "xyz", AccountID: a.ID, SecretID: randomHex(32), WrappedSecret: "e1.a"},
				{KeyID: randomHex(16), AccountID: "nope", SecretID: randomHex(32), WrappedSecret: "e1.a"},
				{KeyID: randomHex(16), AccountID: a.ID, SecretID: randomHex(16), WrappedSecret: "e1.a"},
				{KeyID: randomHex(16), AccountID: a.ID, SecretID: randomHex(32)},
			} {
				if _, err := store.CreateSecret(ctx, bad); !errors.Is(err, persistence.ErrInvalid) {
					t.Errorf("%+v: got %v, want ErrInvalid", bad, err)
				}
			}
		})
		t.Run("unknown or retired account", func(t *testing.T) {
			s := persistence.Secret{KeyID: randomHex(16), AccountID: newUUID(), SecretID: randomHex(32), WrappedSecret: "e1.a"}
			if _, err := store.CreateSecret(ctx, s); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("unknown: got %v, want ErrNotFound", err)
			}
			retired := mustAccount(t, store)
			if err := store.RetireAccount(ctx, retired.ID); err != nil {
				t.Fatal(err)
			}
			s.AccountID = retired.ID
			if _, err := store.CreateSecret(ctx, s); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("retired: got %v, want ErrNotFound", err)
			}
		})
		t.Run("user salts", func(t *testing.T) {
			salts, err := store.ListUserSalts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(salts) != 2 || !slices.IsSortedFunc(salts, func(a, b persistence.UserSalt) int {
				return cmpString(a.AccountID, b.AccountID)
			}) {
				t.Fatalf("got %+v, want two accounts ordered by id", salts)
			}
			for _, s := range salts {
				if len(s.UserSalt) != persistence.UserSaltLength {
					t.Errorf("got salt of %d bytes", len(s.UserSalt))
				}
				if s.AccountID == a.ID && (s.Retired || string(s.UserSalt) != string(a.UserSalt)) {
					t.Errorf("got %+v for the active account", s)
				}
			}
		})
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestFindAccountCached(t *testing.T) {
	ctx := context.Background()
	store := persistencetest.NewSQLiteStore(t)
	a := mustAccount(t, store)
	got, err := store.FindAccountCached(ctx, a.ID)
	if err != nil || got.ID != a.ID {
		t.Fatalf("got %v, %v", got.ID, err)
	}
	if err := store.UpdateAllowedOrigins(ctx, a.ID, []string{"https://example.com"}); err != nil {
		t.Fatal(err)
	}
	got, _ = store.FindAccountCached(ctx, a.ID)
	if !slices.Equal(got.AllowedOrigins, []string{"https://example.com"}) {
		t.Errorf("after update got origins %v, want the new ones", got.AllowedOrigins)
	}
	if err := store.RetireAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ = store.FindAccountCached(ctx, a.ID); !got.Retired {
		t.Error("after retire got an active account, want retired")
	}
	if _, err := store.FindAccountCached(ctx, newUUID()); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("unknown: got %v, want ErrNotFound", err)
	}
	// Another instance's change shows after the TTL only; the same instance
	// sees its own at once (above).
	other := persistencetest.OpenStore(t, persistencetest.Dialect{Name: relational.DialectSQLite, DSN: store.DSN()})
	b := mustAccount(t, store)
	if _, err := store.FindAccountCached(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := other.UpdateBannerCSS(ctx, b.ID, ".x{}"); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.FindAccountCached(ctx, b.ID); got.BannerCSS != "" {
		t.Errorf("got %q from the cache, want the cached empty CSS until the TTL", got.BannerCSS)
	}
}

// TestFindAccountCachedOutage: while the database is away, the cache
// answers with the account read before, however old, or read by the
// warm-up; other reads fail with ErrUnavailable.
func TestFindAccountCachedOutage(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		if d.Name == relational.DialectSQLite {
			t.Skip("needs a connection to cut")
		}
		ctx := context.Background()
		db := persistencetest.NewDatabase(t, d)
		if err := persistencetest.OpenStore(t, db).Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		proxy, dsn := proxytest.ForDSN(t, d.Name, db.DSN)
		store := persistencetest.OpenStore(t, persistencetest.Dialect{Name: d.Name, DSN: dsn})
		a := mustAccount(t, store)
		if _, err := store.FindAccountCached(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		store.ExpireAccountCache()
		// Made by another instance and never read here but by the warm-up.
		warmed := mustAccount(t, persistencetest.OpenStore(t, db))
		if err := store.WarmAccountCache(ctx); err != nil {
			t.Fatal(err)
		}
		proxy.Cut()
		if got, err := store.FindAccountCached(ctx, warmed.ID); err != nil || got.ID != warmed.ID {
			t.Errorf("warmed account during the outage: got %v, %v", got.ID, err)
		}
		got, err := store.FindAccountCached(ctx, a.ID)
		if err != nil || got.ID != a.ID || got.PublicKey != a.PublicKey {
			t.Errorf("cached account during the outage: got %v, %v", got.ID, err)
		}
		if _, err := store.FindAccount(ctx, a.ID); !errors.Is(err, persistence.ErrUnavailable) {
			t.Errorf("uncached read during the outage: got %v, want ErrUnavailable", err)
		}
		if _, err := store.FindAccountCached(ctx, newUUID()); !errors.Is(err, persistence.ErrUnavailable) {
			t.Errorf("an account never read, during the outage: got %v, want ErrUnavailable", err)
		}
	})
}

func TestCreateEvents(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a := mustAccount(t, store)
		v := mustVisitor(t, store, a.ID, "")
		events := mustEvents(t, store, v, 3)
		if len(events) != 3 {
			t.Fatalf("got %d events, want 3", len(events))
		}
		for i, e := range events {
			if _, ok := relational.ULIDTime(e.EventID); !ok {
				t.Errorf("got event id %q, want a ULID", e.EventID)
			}
			if i > 0 && e.Seq <= events[i-1].Seq {
				t.Errorf("got seqs %d then %d, want increasing", events[i-1].Seq, e.Seq)
			}
			if e.AccountID != a.ID || e.SecretID != v.SecretID || e.KeyID != v.KeyID {
				t.Errorf("got %+v", e)
			}
		}
		if n, _ := store.Count(ctx, "events", "account_id = ?", a.ID); n != 3 {
			t.Errorf("got %d rows, want 3", n)
		}
		other := mustVisitor(t, store, a.ID, "")
		b := mustAccount(t, store)
		inB := mustVisitor(t, store, b.ID, v.SecretID)
		retired := mustAccount(t, store)
		inRetired := mustVisitor(t, store, retired.ID, "")
		if err := store.RetireAccount(ctx, retired.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			in   persistence.NewEvents
			want error
		}{
			{"no payloads", persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID}, persistence.ErrInvalid},
			{"too many payloads", persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: make([]string, 11)}, persistence.ErrInvalid},
			{"not a1", persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{"e1.x"}}, persistence.ErrInvalid},
			{"too large", persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{"a1." + randomHex(4097)}}, persistence.ErrInvalid},
			{"bad key id", persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: "x", Payloads: []string{payload()}}, persistence.ErrInvalid},
			{"unknown account", persistence.NewEvents{AccountID: newUUID(), SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{payload()}}, persistence.ErrNotFound},
			{"retired account", persistence.NewEvents{AccountID: retired.ID, SecretID: inRetired.SecretID, KeyID: inRetired.KeyID, Payloads: []string{payload()}}, persistence.ErrNotFound},
			{"unknown key", persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: randomHex(16), Payloads: []string{payload()}}, persistence.ErrConflict},
			{"another visitor's key", persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: other.KeyID, Payloads: []string{payload()}}, persistence.ErrConflict},
			{"key of another account", persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: inB.KeyID, Payloads: []string{payload()}}, persistence.ErrConflict},
		} {
			t.Run(c.name, func(t *testing.T) {
				if _, err := store.CreateEvents(ctx, c.in); !errors.Is(err, c.want) {
					t.Errorf("got %v, want %v", err, c.want)
				}
			})
		}
		if n, _ := store.Count(ctx, "events", ""); n != 3 {
			t.Errorf("got %d rows after the refusals, want 3", n)
		}
	})
}

// TestCreateEventsResend: a resend stores only the payloads the store does not
// hold for that visitor, so an answer the client missed does not count its
// events twice; the same ciphertext without Resend, or from another visitor,
// is stored.
func TestCreateEventsResend(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a := mustAccount(t, store)
		v := mustVisitor(t, store, a.ID, "")
		other := mustVisitor(t, store, a.ID, "")
		sent, fresh := payload(), payload()
		in := persistence.NewEvents{AccountID: a.ID, SecretID: v.SecretID, KeyID: v.KeyID, Payloads: []string{sent}}
		if _, err := store.CreateEvents(ctx, in); err != nil {
			t.Fatal(err)
		}
		in.Payloads, in.Resend = []string{sent, fresh}, true
		got, err := store.CreateEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Payload != fresh {
			t.Errorf("resend of one held and one new payload stored %+v, want the new one only", got)
		}
		if got, err := store.CreateEvents(ctx, in); err != nil || len(got) != 0 {
			t.Errorf("resend of held payloads: got %d events, %v; want none stored", len(got), err)
		}
		if n, _ := store.Count(ctx, "events", "account_id = ?", a.ID); n != 2 {
			t.Errorf("got %d rows after the resends, want 2", n)
		}
		// Without Resend a payload is stored as sent; another visitor's equal
		// payload is theirs.
		in.Payloads, in.Resend = []string{sent}, false
		if got, err := store.CreateEvents(ctx, in); err != nil || len(got) != 1 {
			t.Errorf("send without resend: got %d events, %v; want 1", len(got), err)
		}
		if got, err := store.CreateEvents(ctx, persistence.NewEvents{AccountID: a.ID, SecretID: other.SecretID, KeyID: other.KeyID, Payloads: []string{sent}, Resend: true}); err != nil || len(got) != 1 {
			t.Errorf("another visitor's resend of an equal payload: got %d events, %v; want 1", len(got), err)
		}
		if n, _ := store.Count(ctx, "events", "account_id = ?", a.ID); n != 4 {
			t.Errorf("got %d rows, want 4", n)
		}
	})
}

// cache is what a syncing client keeps of an events feed.
type cache struct {
	events map[string]persistence.Event
	cursor string
	resets int
}

func newCache() *cache { return &cache{events: map[string]persistence.Event{}} }

type feedFunc func(ctx context.Context, q persistence.FeedQuery, items persistence.FeedItems) (persistence.FeedPage, error)

// syncRun runs one run of pages (until more is false), applying each page's
// events before its tombstones, and returns the number of pages.
func (c *cache) syncRun(t testing.TB, feed feedFunc, limit int) int {
	t.Helper()
	for pages := 1; ; pages++ {
		var events []persistence.Event
		var stones []persistence.Tombstone
		page, err := feed(context.Background(), persistence.FeedQuery{Since: c.cursor, Limit: limit}, persistence.FeedItems{
			Event:     func(e persistence.Event) error { events = append(events, e); return nil },
			Tombstone: func(s persistence.Tombstone) error { stones = append(stones, s); return nil },
		})
		if err != nil {
			t.Fatalf("sync page: %v", err)
		}
		if n := len(events) + len(stones); n > limit {
			t.Fatalf("got %d items, want at most %d", n, limit)
		}
		if page.Reset {
			c.resets++
			clear(c.events)
		}
		for _, e := range events {
			c.events[e.EventID] = e
		}
		for _, s := range stones {
			c.apply(s)
		}
		c.cursor = page.Next
		if !page.More {
			return pages
		}
	}
}

func (c *cache) apply(s persistence.Tombstone) {
	for id, e := range c.events {
		switch s.Kind {
		case persistence.TombstoneEvent:
			if id == s.Target {
				delete(c.events, id)
			}
		case persistence.TombstoneSecret:
			if e.KeyID == s.Target {
				delete(c.events, id)
			}
		case persistence.TombstoneBefore:
			if e.AccountID == s.AccountID && id < s.Target {
				delete(c.events, id)
			}
		}
	}
}

func (c *cache) ids() []string {
	ids := make([]string, 0, len(c.events))
	for id := range c.events {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func tableIDs(t testing.TB, store *relational.Store, where string, args ...any) []string {
	t.Helper()
	ids, err := store.Strings(context.Background(), "SELECT event_id FROM events WHERE "+where+" ORDER BY event_id", args...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func accountFeed(store *relational.Store, accountID string) feedFunc {
	return func(ctx context.Context, q persistence.FeedQuery, items persistence.FeedItems) (persistence.FeedPage, error) {
		return store.AccountEvents(ctx, accountID, q, items)
	}
}

func visitorFeed(store *relational.Store, secretIDs ...string) feedFunc {
	return func(ctx context.Context, q persistence.FeedQuery, items persistence.FeedItems) (persistence.FeedPage, error) {
		return store.VisitorEvents(ctx, secretIDs, q, items)
	}
}

func TestFeeds(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a := mustAccount(t, store)
		b := mustAccount(t, store)
		v1 := mustVisitor(t, store, a.ID, "")
		v2 := mustVisitor(t, store, a.ID, "")
		v1b := mustVisitor(t, store, b.ID, v1.SecretID)
		var all []persistence.Event
		for range 5 {
			all = append(all, mustEvents(t, store, v1, 3)...)
			all = append(all, mustEvents(t, store, v2, 2)...)
			mustEvents(t, store, v1b, 1)
		}

		t.Run("account events in pages", func(t *testing.T) {
			c := newCache()
			pages := c.syncRun(t, accountFeed(store, a.ID), 4)
			if pages != 7 {
				t.Errorf("got %d pages of 4 for 25 events, want 7", pages)
			}
			if got, want := c.ids(), tableIDs(t, store, "account_id = ?", a.ID); !slices.Equal(got, want) {
				t.Errorf("got %d events, want %d", len(got), len(want))
			}
		})
		t.Run("order and next page", func(t *testing.T) {
			var seqs []int64
			page, err := store.AccountEvents(ctx, a.ID, persistence.FeedQuery{Limit: 10}, persistence.FeedItems{
				Event: func(e persistence.Event) error { seqs = append(seqs, e.Seq); return nil },
			})
			if err != nil || !page.More || len(seqs) != 10 || !slices.IsSorted(seqs) {
				t.Fatalf("got %v, %+v, seqs %v", err, page, seqs)
			}
			var next []int64
			if _, err := store.AccountEvents(ctx, a.ID, persistence.FeedQuery{Since: page.Next, Limit: 10}, persistence.FeedItems{
				Event: func(e persistence.Event) error { next = append(next, e.Seq); return nil },
			}); err != nil {
				t.Fatal(err)
			}
			if len(next) != 10 || next[0] <= seqs[9] {
				t.Errorf("got next page %v after %v, want the following 10", next, seqs)
			}
		})
		t.Run("visitor events across accounts", func(t *testing.T) {
			c := newCache()
			c.syncRun(t, visitorFeed(store, v1.SecretID), 3)
			if got, want := c.ids(), tableIDs(t, store, "secret_id = ?", v1.SecretID); !slices.Equal(got, want) || len(got) != 20 {
				t.Errorf("got %d events, want %d (20)", len(got), len(want))
			}
			empty := newCache()
			if empty.syncRun(t, visitorFeed(store), 3); len(empty.events) != 0 || empty.cursor == "" {
				t.Errorf("no secret ids: got %d events, cursor %q", len(empty.events), empty.cursor)
			}
		})
		t.Run("secrets", func(t *testing.T) {
			var keys []string
			cursor := ""
			for {
				page, err := store.AccountSecrets(ctx, a.ID, persistence.FeedQuery{Since: cursor, Limit: 1}, persistence.FeedItems{
					Secret: func(s persistence.Secret) error { keys = append(keys, s.KeyID); return nil },
				})
				if err != nil {
					t.Fatal(err)
				}
				cursor = page.Next
				if !page.More {
					break
				}
			}
			if !slices.Equal(keys, []string{v1.KeyID, v2.KeyID}) {
				t.Errorf("got %v, want both keys of account a in order", keys)
			}
		})
		t.Run("tombstones follow purge", func(t *testing.T) {
			acc, vis := newCache(), newCache()
			acc.syncRun(t, accountFeed(store, a.ID), 1000)
			vis.syncRun(t, visitorFeed(store, v1.SecretID), 1000)
			res, err := store.PurgeEvents(ctx, persistence.PurgeFilter{SecretIDs: []string{v1.SecretID}, AccountID: a.ID})
			if err != nil || res.Events != 15 || res.Secrets != 0 {
				t.Fatalf("got %+v, %v, want 15 events purged", res, err)
			}
			acc.syncRun(t, accountFeed(store, a.ID), 3)
			vis.syncRun(t, visitorFeed(store, v1.SecretID), 3)
			if got, want := acc.ids(), tableIDs(t, store, "account_id = ?", a.ID); !slices.Equal(got, want) || len(got) != 10 {
				t.Errorf("account cache: got %d events, want %d (10)", len(got), len(want))
			}
			if got, want := vis.ids(), tableIDs(t, store, "secret_id = ?", v1.SecretID); !slices.Equal(got, want) || len(got) != 5 {
				t.Errorf("visitor cache: got %d events, want %d (5)", len(got), len(want))
			}
			// Forget everywhere: secret tombstones.
			res, err = store.PurgeEvents(ctx, persistence.PurgeFilter{SecretIDs: []string{v1.SecretID}, Forget: true})
			if err != nil || res.Events != 5 || res.Secrets != 2 {
				t.Fatalf("got %+v, %v, want 5 events and 2 secrets", res, err)
			}
			vis.syncRun(t, visitorFeed(store, v1.SecretID), 2)
			if len(vis.events) != 0 {
				t.Errorf("visitor cache: got %d events after forget, want 0", len(vis.events))
			}
			if _, err := store.FindSecret(ctx, v1.KeyID); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("secret after forget: got %v, want ErrNotFound", err)
			}
			if _, err := store.CreateEvents(ctx, persistence.NewEvents{AccountID: a.ID, SecretID: v1.SecretID, KeyID: v1.KeyID, Payloads: []string{payload()}}); !errors.Is(err, persistence.ErrConflict) {
				t.Errorf("events for a forgotten key: got %v, want ErrConflict", err)
			}
			if res, err := store.PurgeEvents(ctx, persistence.PurgeFilter{}); err != nil || res != (persistence.PurgeResult{}) {
				t.Errorf("empty purge: got %+v, %v", res, err)
			}
		})
		t.Run("before tombstones reach visitors", func(t *testing.T) {
			vis := newCache()
			vis.syncRun(t, visitorFeed(store, v2.SecretID), 100)
			if len(vis.events) != 10 {
				t.Fatalf("got %d, want 10", len(vis.events))
			}
			res, err := store.Expire(ctx, time.Nanosecond)
			if err != nil || res.Events == 0 {
				t.Fatalf("expire: %+v, %v", res, err)
			}
			vis.syncRun(t, visitorFeed(store, v2.SecretID), 100)
			if len(vis.events) != 0 {
				t.Errorf("got %d events after expiry, want 0", len(vis.events))
			}
		})
		t.Run("bad queries", func(t *testing.T) {
			for _, q := range []persistence.FeedQuery{
				{Limit: -1}, {Limit: persistence.MaxFeedLimit + 1}, {Since: "!!"}, {Since: "eA"},
				{Since: base64URL("1.5.0..0")}, {Since: base64URL("2.5.-1..0")}, {Since: base64URL("1.x.-1..0")},
				{Since: base64URL("1.5.0.a'b.0")},
			} {
				if _, err := store.AccountEvents(ctx, a.ID, q, persistence.FeedItems{}); !errors.Is(err, persistence.ErrInvalid) {
					t.Errorf("%+v: got %v, want ErrInvalid", q, err)
				}
			}
		})
		t.Run("callback error", func(t *testing.T) {
			boom := errors.New("boom")
			mustEvents(t, store, mustVisitor(t, store, a.ID, ""), 1)
			_, err := store.AccountEvents(ctx, a.ID, persistence.FeedQuery{}, persistence.FeedItems{
				Event: func(persistence.Event) error { return boom },
			})
			if err != boom {
				t.Errorf("got %v, want the callback's error", err)
			}
		})
	})
}

func TestFeedReset(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	store := persistencetest.NewSQLiteStore(t, persistencetest.WithNow(clk.Now))
	a := mustAccount(t, store)
	v := mustVisitor(t, store, a.ID, "")
	mustEvents(t, store, v, 2)
	c := newCache()
	c.syncRun(t, accountFeed(store, a.ID), 10)
	clk.Add(48 * time.Hour)
	mustEvents(t, store, v, 1)
	var reset bool
	var n int
	page, err := store.AccountEvents(ctx, a.ID, persistence.FeedQuery{Since: c.cursor, Retention: 24 * time.Hour}, persistence.FeedItems{
		Event: func(persistence.Event) error { n++; return nil },
	})
	reset = page.Reset
	if err != nil || !reset || n != 3 {
		t.Errorf("got reset %v, %d events, %v; want a reset page from the beginning (3)", reset, n, err)
	}
	page, err = store.AccountEvents(ctx, a.ID, persistence.FeedQuery{Since: page.Next, Retention: 24 * time.Hour}, persistence.FeedItems{})
	if err != nil || page.Reset {
		t.Errorf("got %+v, %v after the reset, want no second reset", page, err)
	}
}

func base64URL(s string) string { return relational.EncodeCursorText(s) }

func TestExportEvents(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a, b := mustAccount(t, store), mustAccount(t, store)
		v := mustVisitor(t, store, a.ID, "")
		vb := mustVisitor(t, store, b.ID, v.SecretID)
		other := mustVisitor(t, store, a.ID, "")
		mustEvents(t, store, v, 3)
		mustEvents(t, store, vb, 2)
		mustEvents(t, store, other, 4)
		var got []persistence.Event
		err := store.ExportEvents(ctx, []string{v.SecretID}, func(e persistence.Event) error {
			got = append(got, e)
			return nil
		})
		if err != nil || len(got) != 5 {
			t.Fatalf("got %d events, %v; want 5", len(got), err)
		}
		if !slices.IsSortedFunc(got, func(x, y persistence.Event) int {
			return cmpString(x.AccountID+x.EventID, y.AccountID+y.EventID)
		}) {
			t.Error("got events out of order, want by account then event id")
		}
		for _, e := range got {
			if e.SecretID != v.SecretID || e.Payload == "" {
				t.Errorf("got %+v", e)
			}
		}
		if err := store.ExportEvents(ctx, []string{"bad"}, nil); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("got %v, want ErrInvalid", err)
		}
	})
}

func TestDeleteAccountData(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		a, keep := mustAccount(t, store), mustAccount(t, store)
		v := mustVisitor(t, store, a.ID, "")
		v2 := mustVisitor(t, store, a.ID, "")
		vk := mustVisitor(t, store, keep.ID, v.SecretID)
		mustEvents(t, store, v, 4)
		mustEvents(t, store, v2, 3)
		mustEvents(t, store, vk, 2)
		vis := newCache()
		vis.syncRun(t, visitorFeed(store, v.SecretID), 100)
		if _, err := store.DeleteAccountData(ctx, a.ID); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("active account: got %v, want ErrInvalid", err)
		}
		if _, err := store.DeleteAccountData(ctx, newUUID()); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("unknown account: got %v, want ErrNotFound", err)
		}
		if err := store.RetireAccount(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		res, err := store.DeleteAccountData(ctx, a.ID)
		if err != nil || res.Events != 7 || res.Secrets != 2 {
			t.Fatalf("got %+v, %v; want 7 events and 2 secrets", res, err)
		}
		if n, _ := store.Count(ctx, "tombstones", "account_id = ? AND kind = ?", a.ID, "secret"); n != 2 {
			t.Errorf("got %d secret tombstones, want 2", n)
		}
		vis.syncRun(t, visitorFeed(store, v.SecretID), 100)
		if got, want := vis.ids(), tableIDs(t, store, "secret_id = ?", v.SecretID); !slices.Equal(got, want) || len(got) != 2 {
			t.Errorf("visitor cache: got %d events, want %d (2, the other account's)", len(got), len(want))
		}
		if res, err := store.DeleteAccountData(ctx, a.ID); err != nil || res != (persistence.PurgeResult{}) {
			t.Errorf("again: got %+v, %v; want nothing to do", res, err)
		}
	})
}

// TestExpireFinishesRetiredAccounts: when the deletion that retiring starts
// never ran, the next expiry deletes the retired account's data, and only it.
func TestExpireFinishesRetiredAccounts(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		retired, keep := mustAccount(t, store), mustAccount(t, store)
		mustEvents(t, store, mustVisitor(t, store, retired.ID, ""), 3)
		mustEvents(t, store, mustVisitor(t, store, keep.ID, ""), 2)
		if err := store.RetireAccount(ctx, retired.ID); err != nil {
			t.Fatal(err)
		}
		res, err := store.Expire(ctx, 24*time.Hour)
		if err != nil || res.Events != 3 || res.Secrets != 1 {
			t.Fatalf("got %+v, %v; want 3 events and 1 secret", res, err)
		}
		for _, c := range []struct {
			table, account string
			want           int64
		}{{"events", retired.ID, 0}, {"secrets", retired.ID, 0}, {"events", keep.ID, 2}, {"secrets", keep.ID, 1}} {
			if n, _ := store.Count(ctx, c.table, "account_id = ?", c.account); n != c.want {
				t.Errorf("%s of account %s: got %d, want %d", c.table, c.account, n, c.want)
			}
		}
		if res, err := store.Expire(ctx, 24*time.Hour); err != nil || res.Events != 0 || res.Secrets != 0 {
			t.Errorf("again: got %+v, %v; want nothing to do", res, err)
		}
	})
}

var _ = fmt.Sprint
