// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

// seed inserts rows of areas whose store methods other workstreams own.
type seed struct {
	t     *testing.T
	store *relational.Store
}

func (s seed) exec(query string, args ...any) {
	s.t.Helper()
	if err := s.store.Exec(context.Background(), query, args...); err != nil {
		s.t.Fatalf("seed: %s: %v", query, err)
	}
}

// seedSecretID is the secret id of the seeded key keyID: an event's secret
// id is always its key's (ingest checks it), and the store relies on that.
func seedSecretID(keyID string) string { return keyID + keyID }

func (s seed) event(accountID, keyID string, at time.Time) string {
	s.t.Helper()
	id := relational.NewULID(at)
	s.exec("INSERT INTO events (event_id, account_id, secret_id, key_id, payload, seq) VALUES (?, ?, ?, ?, ?, ?)",
		id, accountID, seedSecretID(keyID), keyID, "a1.payload", at.UnixMicro())
	return id
}

func (s seed) secret(accountID, keyID string, created time.Time) {
	s.t.Helper()
	s.exec("INSERT INTO secrets (key_id, account_id, secret_id, wrapped_secret, seq, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		keyID, accountID, seedSecretID(keyID), "e1.x.y.z", created.UnixMicro(), created)
}

func (s seed) login(id string, active bool, created time.Time) {
	s.t.Helper()
	var authHash any
	if active {
		authHash = "argon2id1.salt.hash"
	}
	s.exec("INSERT INTO logins (login_id, email_index, from_setup, auth_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
		id, randomHex(32), false, authHash, created, created)
}

func (s seed) token(id, kind, loginID string, expires time.Time) {
	s.t.Helper()
	s.exec("INSERT INTO one_time_tokens (token_id, token_hash, kind, login_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		id, randomHex(32), kind, loginID, expires, expires.Add(-24*time.Hour))
}

func (s seed) grant(loginID, accountID string, active bool, invitationID string, at time.Time) {
	s.t.Helper()
	var wrapped, inviteWrapped, invitation any
	if active {
		wrapped = "a1.kek"
	} else {
		inviteWrapped, invitation = "a1.invite", invitationID
	}
	s.exec(`INSERT INTO grants (login_id, account_id, role, wrapped_kek, invite_wrapped_kek, invitation_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, loginID, accountID, "viewer", wrapped, inviteWrapped, invitation, at, at)
}

func (s seed) session(loginID string, expires time.Time) {
	s.t.Helper()
	s.exec("INSERT INTO sessions (token_hash, login_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
		randomHex(32), loginID, expires.Add(-time.Hour), expires.Add(-time.Hour), expires)
}

func (s seed) tombstone(accountID string, seq int64) {
	s.t.Helper()
	s.exec("INSERT INTO tombstones (tombstone_id, account_id, secret_id, kind, target, seq) VALUES (?, ?, ?, ?, ?, ?)",
		relational.NewULID(time.UnixMicro(seq)), accountID, randomHex(32), "event", relational.NewULID(time.UnixMicro(seq)), seq)
}

func (s seed) count(table, where string, args ...any) int64 {
	s.t.Helper()
	n, err := s.store.Count(context.Background(), table, where, args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func TestExpire(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		clk := newClock(now)
		store := persistencetest.NewStore(t, d, persistencetest.WithNow(clk.Now))
		s := seed{t, store}
		const retention = 30 * 24 * time.Hour
		cutoff := now.Add(-retention)
		old, recent := cutoff.Add(-time.Hour), cutoff.Add(time.Hour)

		var accounts []string
		for _, name := range []string{"a", "b", "c"} {
			acc, err := store.CreateAccount(ctx, newAccount(name))
			if err != nil {
				t.Fatal(err)
			}
			accounts = append(accounts, acc.ID)
		}
		a, b, c := accounts[0], accounts[1], accounts[2]

		// Events: a has three old and two recent, b one old, c one recent;
		// one event sits just after the cutoff's millisecond.
		k1, k2, k3, k4 := randomHex(16), randomHex(16), randomHex(16), randomHex(16)
		s.event(a, k1, old)
		s.event(a, k2, old.Add(-time.Minute))
		s.event(a, k2, cutoff.Add(-time.Millisecond))
		keptA := []string{s.event(a, k1, recent), s.event(a, k1, cutoff)}
		s.event(b, k4, old.Add(-24*time.Hour))
		keptC := s.event(c, k3, recent)

		// Secrets: k1 old but still referenced, k2 old and referenced only by
		// expiring events, k3 recent and unreferenced, k4 old and referenced
		// by an expiring event, k5 old and never used.
		k5 := randomHex(16)
		s.secret(a, k1, old)
		s.secret(a, k2, old)
		s.secret(c, k3, recent)
		s.secret(b, k4, old)
		s.secret(b, k5, old.Add(-time.Hour))

		// Tombstones: one past retention, one within.
		s.tombstone(a, old.UnixMicro())
		s.tombstone(a, recent.UnixMicro())

		// Logins: active without grants stays; pending with a pending grant
		// on an expired invitation goes with it; pending with a valid
		// invitation stays; pending without grants goes.
		active, expiredInvitee, invitee, orphan := newUUID(), newUUID(), newUUID(), newUUID()
		s.login(active, true, old)
		s.login(expiredInvitee, false, old)
		s.login(invitee, false, old)
		s.login(orphan, false, old)
		s.token("reset-expired", "reset", active, now.Add(-time.Minute))
		s.token("invite-expired", "invite", expiredInvitee, now.Add(-time.Second))
		s.token("invite-valid", "invite", invitee, now.Add(time.Hour))
		s.grant(active, a, true, "", old)
		s.grant(expiredInvitee, a, false, "invite-expired", old)
		s.grant(invitee, b, false, "invite-valid", old)
		s.session(active, now.Add(-time.Second))
		s.session(active, now.Add(time.Hour))

		res, err := store.Expire(ctx, retention)
		if err != nil {
			t.Fatalf("expire: %v", err)
		}
		want := persistence.ExpireResult{
			Events: 4, Secrets: 3, Tombstones: 1, TombstonesWritten: 5,
			Sessions: 1, Tokens: 2, Grants: 1, Logins: 2,
		}
		if res != want {
			t.Fatalf("got %+v\nwant %+v", res, want)
		}

		var ids []string
		for _, id := range append(keptA, keptC) {
			if s.count("events", "event_id = ?", id) != 1 {
				t.Errorf("event %s was deleted, want kept", id)
			}
			ids = append(ids, id)
		}
		if got := s.count("events", ""); got != int64(len(ids)) {
			t.Errorf("got %d events, want %d", got, len(ids))
		}
		for key, want := range map[string]int64{k1: 1, k2: 0, k3: 1, k4: 0, k5: 0} {
			if got := s.count("secrets", "key_id = ?", key); got != want {
				t.Errorf("secret %s: got %d rows, want %d", key[:6], got, want)
			}
		}
		bound := relational.ULIDLowerBound(cutoff)
		for _, acc := range []string{a, b} {
			if got := s.count("tombstones", "account_id = ? AND kind = 'before' AND target = ? AND secret_id IS NULL AND seq >= ?",
				acc, bound, now.UnixMicro()); got != 1 {
				t.Errorf("account %s: got %d before tombstones, want 1", acc[:8], got)
			}
		}
		if got := s.count("tombstones", "account_id = ? AND kind = 'before'", c); got != 0 {
			t.Errorf("unaffected account: got %d before tombstones, want 0", got)
		}
		for key, acc := range map[string]string{k2: a, k4: b, k5: b} {
			if got := s.count("tombstones", "account_id = ? AND kind = 'secret' AND target = ? AND secret_id IS NOT NULL", acc, key); got != 1 {
				t.Errorf("secret %s: got %d secret tombstones, want 1", key[:6], got)
			}
		}
		if got := s.count("tombstones", "seq < ?", cutoff.UnixMicro()); got != 0 {
			t.Errorf("got %d tombstones past retention, want 0", got)
		}
		for login, want := range map[string]int64{active: 1, expiredInvitee: 0, invitee: 1, orphan: 0} {
			if got := s.count("logins", "login_id = ?", login); got != want {
				t.Errorf("login %s: got %d, want %d", login[:8], got, want)
			}
		}
		if got := s.count("grants", ""); got != 2 {
			t.Errorf("got %d grants, want 2 (active and valid invitation)", got)
		}
		if got := s.count("one_time_tokens", ""); got != 1 {
			t.Errorf("got %d tokens, want 1", got)
		}
		if got := s.count("sessions", "expires_at > ?", now); got != 1 || s.count("sessions", "") != 1 {
			t.Errorf("got %d sessions, want the valid one", s.count("sessions", ""))
		}

		again, err := store.Expire(ctx, retention)
		if err != nil {
			t.Fatal(err)
		}
		if again != (persistence.ExpireResult{}) {
			t.Errorf("second run: got %+v, want nothing to do", again)
		}

		if _, err := store.Expire(ctx, 0); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("zero retention: got %v, want ErrInvalid", err)
		}
	})
}

// TestExpireBatches expires more events than one batch holds and expects one
// before tombstone per affected account, written once.
func TestExpireBatches(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		store := persistencetest.NewStore(t, d, persistencetest.WithNow(func() time.Time { return now }))
		const retention = 7 * 24 * time.Hour
		var accounts []string
		for i := range 3 {
			acc, err := store.CreateAccount(ctx, newAccount(fmt.Sprint(i)))
			if err != nil {
				t.Fatal(err)
			}
			accounts = append(accounts, acc.ID)
		}
		const old = 10_000 + 50
		start := now.Add(-retention - 48*time.Hour)
		rows := make([]string, 0, 500)
		args := make([]any, 0, 500*6)
		flush := func() {
			if len(rows) == 0 {
				return
			}
			q := "INSERT INTO events (event_id, account_id, secret_id, key_id, payload, seq) VALUES " + strings.Join(rows, ", ")
			if err := store.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
			rows, args = rows[:0], args[:0]
		}
		for i := range old + 5 {
			at := start.Add(time.Duration(i) * time.Second)
			if i >= old {
				at = now.Add(-time.Hour)
			}
			rows = append(rows, "(?, ?, ?, ?, ?, ?)")
			args = append(args, relational.NewULID(at), accounts[i%len(accounts)], randomHex(32), randomHex(16), "a1.p", at.UnixMicro())
			if len(rows) == 500 {
				flush()
			}
		}
		flush()

		res, err := store.Expire(ctx, retention)
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != old || res.TombstonesWritten != int64(len(accounts)) {
			t.Fatalf("got %d events deleted and %d tombstones, want %d and %d", res.Events, res.TombstonesWritten, old, len(accounts))
		}
		n, err := store.Count(ctx, "events", "")
		if err != nil || n != 5 {
			t.Fatalf("got %d events left (%v), want 5", n, err)
		}
		var perAccount []int64
		for _, acc := range accounts {
			n, _ := store.Count(ctx, "tombstones", "account_id = ? AND kind = 'before'", acc)
			perAccount = append(perAccount, n)
		}
		if !slices.Equal(perAccount, []int64{1, 1, 1}) {
			t.Fatalf("got before tombstones per account %v, want one each", perAccount)
		}
	})
}
