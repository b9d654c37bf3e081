// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

// Tests of the operator areas: logins, grants, sessions, tokens and the
// transactions joining them, on every configured database.

func uuid4() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func creds(tag string) persistence.Credentials {
	return persistence.Credentials{
		KDF:                     "pbkdf2-sha256:600000",
		KDFSalt:                 []byte("0123456789abcdef"),
		AuthHash:                "argon2id1.hash-" + tag,
		WrappedLoginKey:         "a1.wrapped-" + tag,
		RecoveryWrappedLoginKey: "a1.recovery-" + tag,
		RecoveryProofHash:       hash("proof-" + tag),
	}
}

func account(name string) persistence.Account {
	return persistence.Account{ID: uuid4(), Name: name, PublicKey: "p256.x", EncryptedPrivateKey: "a1.x"}
}

type fixture struct {
	store   *relational.Store
	clock   *clock
	loginID string
	account persistence.Account
}

func newSession(loginID string, now time.Time) persistence.Session {
	return persistence.Session{TokenHash: hash(uuid4()), LoginID: loginID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour)}
}

// setup creates a store with the setup login and its account.
func setup(t *testing.T, d persistencetest.Dialect) fixture {
	t.Helper()
	c := newClock(time.Now().UTC().Truncate(time.Second))
	store := persistencetest.NewStore(t, d, persistencetest.WithNow(c.Now))
	f := fixture{store: store, clock: c, loginID: uuid4(), account: account("first")}
	_, err := store.Setup(context.Background(), persistence.SetupInput{
		Login:   persistence.Login{ID: f.loginID, EmailIndex: hash("setup@example.org"), Credentials: creds("setup")},
		Account: f.account,
		Grant:   persistence.Grant{WrappedKEK: "a1.kek", Label: "a1.label"},
	})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return f
}

// addLogin creates a login with credentials holding an active grant of
// role on the fixture's account, through an invitation and a join.
func (f fixture) addLogin(t *testing.T, email string, role persistence.Role) string {
	t.Helper()
	ctx := context.Background()
	res, err := f.store.CreateInvitation(ctx, persistence.InvitationInput{
		EmailIndex: hash(email),
		NewLoginID: uuid4(),
		Token:      persistence.Token{Hash: hash("invite-" + email), ExpiresAt: f.clock.Now().Add(time.Hour)},
		Grants:     []persistence.Grant{{AccountID: f.account.ID, Role: role, InviteWrappedKEK: "a1.iw", Label: "a1.l"}},
		InvitedBy:  f.loginID,
	})
	if err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	c := creds(email)
	_, err = f.store.Join(ctx, persistence.JoinInput{
		TokenHash:   hash("invite-" + email),
		LoginID:     res.LoginID,
		Credentials: &c,
		WrappedKEKs: map[string]string{f.account.ID: "a1.kek-" + email},
		Session:     newSession(res.LoginID, f.clock.Now()),
	})
	if err != nil {
		t.Fatalf("join %s: %v", email, err)
	}
	return res.LoginID
}

func TestSetup(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		if has, err := store.HasLogins(ctx); err != nil || has {
			t.Fatalf("empty store: got %v, %v, want false", has, err)
		}
		loginID := uuid4()
		now := time.Now().UTC()
		s := newSession(loginID, now)
		in := persistence.SetupInput{
			Login:   persistence.Login{ID: loginID, EmailIndex: hash("a@example.org"), Credentials: creds("a")},
			Account: account("site"),
			Grant:   persistence.Grant{WrappedKEK: "a1.kek", Label: "a1.label"},
			Session: &s,
		}
		a, err := store.Setup(ctx, in)
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
		if len(a.UserSalt) != 16 {
			t.Errorf("got user salt of %d bytes, want 16", len(a.UserSalt))
		}
		l, err := store.FindLoginByEmailIndex(ctx, hash("a@example.org"))
		if err != nil || l.ID != loginID || !l.FromSetup || l.Pending() || l.AuthHash != "argon2id1.hash-a" {
			t.Fatalf("got login %+v, %v", l, err)
		}
		g, err := store.FindGrant(ctx, loginID, a.ID)
		if err != nil || g.Role != persistence.RoleAdmin || g.State() != persistence.GrantActive {
			t.Fatalf("got grant %+v, %v", g, err)
		}
		if _, err := store.FindSession(ctx, s.TokenHash); err != nil {
			t.Errorf("session: %v", err)
		}

		// A second setup is refused, and leaves nothing behind.
		again := in
		again.Login.ID, again.Login.EmailIndex, again.Account, again.Session = uuid4(), hash("b@example.org"), account("other"), nil
		if _, err := store.Setup(ctx, again); !errors.Is(err, persistence.ErrConflict) {
			t.Fatalf("second setup: got %v, want ErrConflict", err)
		}
		if _, err := store.FindAccount(ctx, again.Account.ID); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("refused setup left its account: %v", err)
		}
		// Force adds a login and account; a taken address still conflicts.
		again.Force = true
		if _, err := store.Setup(ctx, again); err != nil {
			t.Fatalf("forced setup: %v", err)
		}
		taken := again
		taken.Login.ID, taken.Account = uuid4(), account("third")
		if _, err := store.Setup(ctx, taken); !errors.Is(err, persistence.ErrConflict) {
			t.Errorf("forced setup with a taken address: got %v, want ErrConflict", err)
		}
		// Incomplete credentials are invalid.
		bad := again
		bad.Login.ID, bad.Login.EmailIndex, bad.Account = uuid4(), hash("c@example.org"), account("x")
		bad.Login.Credentials.RecoveryProofHash = ""
		if _, err := store.Setup(ctx, bad); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("incomplete credentials: got %v, want ErrInvalid", err)
		}
	})
}

func TestConcurrentSetupCreatesOneLogin(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		db := persistencetest.NewDatabase(t, d)
		first := persistencetest.OpenStore(t, db)
		if err := first.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		second := persistencetest.OpenStore(t, db)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				store := first
				if i%2 == 1 {
					store = second
				}
				_, errs[i] = store.Setup(ctx, persistence.SetupInput{
					Login:   persistence.Login{ID: uuid4(), EmailIndex: hash(fmt.Sprint(i)), Credentials: creds("x")},
					Account: account("site"),
					Grant:   persistence.Grant{WrappedKEK: "a1.kek", Label: "a1.label"},
				})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, persistence.ErrConflict), errors.Is(err, persistence.ErrUnavailable):
			default:
				t.Errorf("setup: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("got %d successful setups, want 1", ok)
		}
	})
}

func TestSessions(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		f := setup(t, d)
		now := f.clock.Now()
		s := newSession(f.loginID, now)
		if err := f.store.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := f.store.CreateSession(ctx, s); !errors.Is(err, persistence.ErrConflict) {
			t.Errorf("duplicate: got %v, want ErrConflict", err)
		}
		if err := f.store.CreateSession(ctx, newSession(uuid4(), now)); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("unknown login: got %v, want ErrInvalid", err)
		}
		got, err := f.store.FindSession(ctx, s.TokenHash)
		if err != nil || got.LoginID != f.loginID || !got.ExpiresAt.Equal(s.ExpiresAt) {
			t.Fatalf("got %+v, %v", got, err)
		}
		later := now.Add(time.Hour)
		if err := f.store.TouchSession(ctx, s.TokenHash, later, later.Add(12*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, _ = f.store.FindSession(ctx, s.TokenHash)
		if !got.LastSeenAt.Equal(later) || !got.ExpiresAt.Equal(later.Add(12*time.Hour)) {
			t.Errorf("after touch: got %+v", got)
		}
		other := newSession(f.loginID, now)
		_ = f.store.CreateSession(ctx, other)
		if err := f.store.DeleteSession(ctx, s.TokenHash); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.FindSession(ctx, s.TokenHash); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("deleted: got %v, want ErrNotFound", err)
		}
		if err := f.store.TouchSession(ctx, s.TokenHash, later, later); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("touch deleted: got %v, want ErrNotFound", err)
		}
		if err := f.store.DeleteLoginSessions(ctx, f.loginID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.FindSession(ctx, other.TokenHash); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("after deleting the login's sessions: got %v, want ErrNotFound", err)
		}
	})
}

func TestCredentialChanges(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		f := setup(t, d)
		now := f.clock.Now()
		old := newSession(f.loginID, now)
		_ = f.store.CreateSession(ctx, old)

		if err := f.store.RecordLogin(ctx, f.loginID, hash("setup@example.org")); err != nil {
			t.Fatal(err)
		}
		l, _ := f.store.FindLogin(ctx, f.loginID)
		if !l.LastLoginAt.Equal(now) {
			t.Errorf("got last login %v, want %v", l.LastLoginAt, now)
		}

		fresh := newSession(f.loginID, now)
		err := f.store.ChangePassword(ctx, f.loginID, persistence.PasswordChange{
			KDF: "pbkdf2-sha256:600000", KDFSalt: []byte("fedcba9876543210"), AuthHash: "argon2id1.new", WrappedLoginKey: "a1.new",
		}, fresh)
		if err != nil {
			t.Fatal(err)
		}
		l, _ = f.store.FindLogin(ctx, f.loginID)
		if l.AuthHash != "argon2id1.new" || l.WrappedLoginKey != "a1.new" || string(l.KDFSalt) != "fedcba9876543210" ||
			l.RecoveryWrappedLoginKey != "a1.recovery-setup" {
			t.Errorf("after change: got %+v", l.Credentials)
		}
		if _, err := f.store.FindSession(ctx, old.TokenHash); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("old session: got %v, want revoked", err)
		}
		if _, err := f.store.FindSession(ctx, fresh.TokenHash); err != nil {
			t.Errorf("new session: %v", err)
		}

		if err := f.store.ChangeRecovery(ctx, f.loginID, "a1.rec2", hash("proof2")); err != nil {
			t.Fatal(err)
		}
		l, _ = f.store.FindLogin(ctx, f.loginID)
		if l.RecoveryWrappedLoginKey != "a1.rec2" || l.RecoveryProofHash != hash("proof2") {
			t.Errorf("after recovery change: got %+v", l.Credentials)
		}

		other := f.addLogin(t, "other@example.org", persistence.RoleViewer)
		if err := f.store.ChangeEmail(ctx, f.loginID, hash("other@example.org"), nil); !errors.Is(err, persistence.ErrConflict) {
			t.Errorf("taken address: got %v, want ErrConflict", err)
		}
		err = f.store.ChangeEmail(ctx, f.loginID, hash("new@example.org"), map[string]string{f.account.ID: "a1.newlabel"})
		if err != nil {
			t.Fatal(err)
		}
		if l, err := f.store.FindLoginByEmailIndex(ctx, hash("new@example.org")); err != nil || l.ID != f.loginID {
			t.Errorf("by new index: got %v, %v", l.ID, err)
		}
		g, _ := f.store.FindGrant(ctx, f.loginID, f.account.ID)
		if g.Label != "a1.newlabel" {
			t.Errorf("got label %q, want a1.newlabel", g.Label)
		}
		if g, _ := f.store.FindGrant(ctx, other, f.account.ID); g.Label != "a1.l" {
			t.Errorf("another login's label changed to %q", g.Label)
		}
		if err := f.store.ChangeRecovery(ctx, uuid4(), "a1.x", hash("x")); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("unknown login: got %v, want ErrNotFound", err)
		}
	})
}

func TestResetPassword(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		f := setup(t, d)
		second := account("second")
		if _, err := f.store.CreateAccountWithGrant(ctx, second, persistence.Grant{LoginID: f.loginID, WrappedKEK: "a1.k2", Label: "a1.l2"}); err != nil {
			t.Fatal(err)
		}
		now := f.clock.Now()
		token := func(name string, expires time.Time) persistence.Token {
			return persistence.Token{Hash: hash(name), Kind: persistence.TokenReset, LoginID: f.loginID, ExpiresAt: expires}
		}
		if err := f.store.ReplaceResetToken(ctx, token("r1", now.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.FindToken(ctx, persistence.TokenReset, hash("r1")); err != nil {
			t.Fatalf("find: %v", err)
		}
		if _, err := f.store.FindToken(ctx, persistence.TokenInvite, hash("r1")); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("other kind: got %v, want ErrNotFound", err)
		}
		// A newer token replaces the older.
		if err := f.store.ReplaceResetToken(ctx, token("r2", now.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.FindToken(ctx, persistence.TokenReset, hash("r1")); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("replaced token: got %v, want ErrNotFound", err)
		}
		if err := f.store.ReplaceResetToken(ctx, persistence.Token{Hash: hash("x"), Kind: persistence.TokenReset, LoginID: uuid4(), ExpiresAt: now}); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("unknown login: got %v, want ErrNotFound", err)
		}

		old := newSession(f.loginID, now)
		_ = f.store.CreateSession(ctx, old)
		in := persistence.ResetInput{TokenHash: hash("r2"), Credentials: creds("kept"), KeepGrants: true, Session: newSession(f.loginID, now)}
		l, reshare, err := f.store.ResetPassword(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if l.AuthHash != "argon2id1.hash-kept" || len(reshare) != 0 {
			t.Errorf("with proof: got %+v, reshare %v", l.Credentials, reshare)
		}
		if _, err := f.store.FindSession(ctx, old.TokenHash); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("old session survived the reset: %v", err)
		}
		if g, _ := f.store.FindGrant(ctx, f.loginID, second.ID); g.State() != persistence.GrantActive {
			t.Errorf("grant after reset with proof: got %s, want active", g.State())
		}
		// The token is single use.
		in.Session = newSession(f.loginID, now)
		if _, _, err := f.store.ResetPassword(ctx, in); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("replayed token: got %v, want ErrNotFound", err)
		}

		// Without the proof every active grant becomes reshare.
		_ = f.store.ReplaceResetToken(ctx, token("r3", now.Add(time.Hour)))
		l, reshare, err = f.store.ResetPassword(ctx, persistence.ResetInput{
			TokenHash: hash("r3"), Credentials: creds("lost"), Session: newSession(f.loginID, now),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{f.account.ID, second.ID}
		slices.Sort(want)
		if !slices.Equal(reshare, want) || l.WrappedLoginKey != "a1.wrapped-lost" {
			t.Errorf("got reshare %v, want %v", reshare, want)
		}
		grants, _ := f.store.ListLoginGrants(ctx, f.loginID)
		for _, g := range grants {
			if g.State() != persistence.GrantReshare {
				t.Errorf("grant on %s: got %s, want reshare", g.AccountID, g.State())
			}
		}

		// Expired tokens are not found and cannot be used.
		_ = f.store.ReplaceResetToken(ctx, token("r4", now.Add(time.Hour)))
		f.clock.Add(2 * time.Hour)
		if _, err := f.store.FindToken(ctx, persistence.TokenReset, hash("r4")); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("expired: got %v, want ErrNotFound", err)
		}
		if _, _, err := f.store.ResetPassword(ctx, persistence.ResetInput{TokenHash: hash("r4"), Credentials: creds("x"), Session: newSession(f.loginID, now)}); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("expired reset: got %v, want ErrNotFound", err)
		}
	})
}

func TestInvitationAndJoin(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		f := setup(t, d)
		second := account("second")
		if _, err := f.store.CreateAccountWithGrant(ctx, second, persistence.Grant{LoginID: f.loginID, WrappedKEK: "a1.k2", Label: "a1.l2"}); err != nil {
			t.Fatal(err)
		}
		now := f.clock.Now()
		invite := func(tok string, accounts ...string) (persistence.InvitationResult, error) {
			in := persistence.InvitationInput{
				EmailIndex: hash("new@example.org"),
				NewLoginID: uuid4(),
				Token:      persistence.Token{Hash: hash(tok), ExpiresAt: now.Add(7 * 24 * time.Hour)},
				InvitedBy:  f.loginID,
			}
			for _, a := range accounts {
				in.Grants = append(in.Grants, persistence.Grant{AccountID: a, Role: persistence.RoleViewer, InviteWrappedKEK: "a1.iw-" + tok, Label: "a1.l"})
			}
			return f.store.CreateInvitation(ctx, in)
		}
		res, err := invite("t1", f.account.ID, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.ExistingLogin || len(res.AccountIDs) != 2 {
			t.Fatalf("got %+v", res)
		}
		l, err := f.store.FindLogin(ctx, res.LoginID)
		if err != nil || !l.Pending() {
			t.Fatalf("invitee: got %+v, %v, want pending", l, err)
		}
		tok, err := f.store.FindToken(ctx, persistence.TokenInvite, hash("t1"))
		if err != nil || tok.LoginID != res.LoginID || tok.CreatedBy != f.loginID {
			t.Fatalf("token: got %+v, %v", tok, err)
		}
		g, _ := f.store.FindGrant(ctx, res.LoginID, f.account.ID)
		if g.State() != persistence.GrantPending || g.InvitationID != tok.ID {
			t.Fatalf("grant: got %+v", g)
		}

		c := creds("new")
		join := persistence.JoinInput{
			TokenHash: hash("t1"), LoginID: res.LoginID, Credentials: &c,
			WrappedKEKs: map[string]string{f.account.ID: "a1.w1"},
			Session:     newSession(res.LoginID, now),
		}
		if _, err := f.store.Join(ctx, join); !errors.Is(err, persistence.ErrConflict) {
			t.Fatalf("join naming one of two grants: got %v, want ErrConflict", err)
		}
		join.WrappedKEKs[second.ID] = "a1.w2"
		join.Credentials = nil
		if _, err := f.store.Join(ctx, join); !errors.Is(err, persistence.ErrInvalid) {
			t.Fatalf("pending login without credentials: got %v, want ErrInvalid", err)
		}
		join.Credentials = &c
		joined, err := f.store.Join(ctx, join)
		if err != nil {
			t.Fatal(err)
		}
		if joined.Pending() || joined.AuthHash != c.AuthHash {
			t.Errorf("joined login: got %+v", joined)
		}
		g, _ = f.store.FindGrant(ctx, res.LoginID, second.ID)
		if g.State() != persistence.GrantActive || g.WrappedKEK != "a1.w2" || g.InvitationID != "" || g.InviteWrappedKEK != "" {
			t.Errorf("joined grant: got %+v", g)
		}
		join.Session = newSession(res.LoginID, now)
		if _, err := f.store.Join(ctx, join); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("replayed invite: got %v, want ErrNotFound", err)
		}

		// Nothing new for an invitee holding every account.
		if _, err := invite("t2", f.account.ID, second.ID); !errors.Is(err, persistence.ErrConflict) {
			t.Errorf("nothing new: got %v, want ErrConflict", err)
		}
		if _, err := f.store.FindToken(ctx, persistence.TokenInvite, hash("t2")); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("refused invitation stored its token: %v", err)
		}
		// An existing login gets a pending grant for a new account and joins
		// without credentials.
		third := account("third")
		_, _ = f.store.CreateAccountWithGrant(ctx, third, persistence.Grant{LoginID: f.loginID, WrappedKEK: "a1.k3", Label: "a1.l3"})
		res3, err := invite("t3", f.account.ID, third.ID)
		if err != nil || !res3.ExistingLogin || !slices.Equal(res3.AccountIDs, []string{third.ID}) || res3.LoginID != res.LoginID {
			t.Fatalf("invitation of an existing login: got %+v, %v", res3, err)
		}
		if _, err := f.store.Join(ctx, persistence.JoinInput{
			TokenHash: hash("t3"), LoginID: res.LoginID, Credentials: &c,
			WrappedKEKs: map[string]string{third.ID: "a1.w3"}, Session: newSession(res.LoginID, now),
		}); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("credentials for an existing login: got %v, want ErrInvalid", err)
		}
		if _, err := f.store.Join(ctx, persistence.JoinInput{
			TokenHash: hash("t3"), LoginID: res.LoginID,
			WrappedKEKs: map[string]string{third.ID: "a1.w3"}, Session: newSession(res.LoginID, now),
		}); err != nil {
			t.Fatalf("existing login join: %v", err)
		}
		// Expired invitations cannot be joined.
		fourth := account("fourth")
		_, _ = f.store.CreateAccountWithGrant(ctx, fourth, persistence.Grant{LoginID: f.loginID, WrappedKEK: "a1.k4", Label: "a1.l4"})
		if _, err := invite("t4", fourth.ID); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(8 * 24 * time.Hour)
		if _, err := f.store.Join(ctx, persistence.JoinInput{
			TokenHash: hash("t4"), LoginID: res.LoginID,
			WrappedKEKs: map[string]string{fourth.ID: "a1.w4"}, Session: newSession(res.LoginID, now),
		}); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("expired invite: got %v, want ErrNotFound", err)
		}
		// Unknown accounts are not found.
		if _, err := invite("t5", uuid4()); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("unknown account: got %v, want ErrNotFound", err)
		}
	})
}

func TestGrantRolesKeepAnAdmin(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		f := setup(t, d)
		if err := f.store.UpdateGrantRole(ctx, f.account.ID, f.loginID, persistence.RoleViewer); !errors.Is(err, persistence.ErrLastAdmin) {
			t.Fatalf("demote last admin: got %v, want ErrLastAdmin", err)
		}
		if err := f.store.DeleteGrant(ctx, f.account.ID, f.loginID); !errors.Is(err, persistence.ErrConflict) {
			t.Fatalf("revoke last admin: got %v, want ErrConflict", err)
		}
		viewer := f.addLogin(t, "viewer@example.org", persistence.RoleViewer)
		if err := f.store.UpdateGrantRole(ctx, f.account.ID, viewer, persistence.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if err := f.store.UpdateGrantRole(ctx, f.account.ID, f.loginID, persistence.RoleViewer); err != nil {
			t.Fatalf("demote one of two admins: %v", err)
		}
		if err := f.store.UpdateGrantRole(ctx, f.account.ID, uuid4(), persistence.RoleViewer); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("unknown grant: got %v, want ErrNotFound", err)
		}
		if err := f.store.DeleteGrant(ctx, f.account.ID, f.loginID); err != nil {
			t.Fatalf("revoke a viewer: %v", err)
		}
		grants, _ := f.store.ListAccountGrants(ctx, f.account.ID)
		if len(grants) != 1 || grants[0].LoginID != viewer {
			t.Errorf("got grants %+v", grants)
		}
	})
}

func TestConcurrentDemotionsKeepAnAdmin(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		f := setup(t, d)
		targets := []string{f.loginID, f.addLogin(t, "other@example.org", persistence.RoleAdmin)}
		for round := range 6 {
			// Two admins demote (even rounds) or revoke (odd rounds) each
			// other at once: exactly one may succeed.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, target := range targets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if round%2 == 0 {
						errs[i] = f.store.UpdateGrantRole(ctx, f.account.ID, target, persistence.RoleViewer)
					} else {
						errs[i] = f.store.DeleteGrant(ctx, f.account.ID, target)
					}
				}()
			}
			wg.Wait()
			grants, _ := f.store.ListAccountGrants(ctx, f.account.ID)
			var admins []string
			for _, g := range grants {
				if g.Role == persistence.RoleAdmin && g.State() == persistence.GrantActive {
					admins = append(admins, g.LoginID)
				}
			}
			if len(admins) != 1 {
				t.Fatalf("round %d: got %d active admins (errors %v), want 1", round, len(admins), errs)
			}
			// Two admins again for the next round.
			targets = admins
			for _, g := range grants {
				if g.Role != persistence.RoleAdmin && len(targets) < 2 {
					if err := f.store.UpdateGrantRole(ctx, f.account.ID, g.LoginID, persistence.RoleAdmin); err != nil {
						t.Fatal(err)
					}
					targets = append(targets, g.LoginID)
				}
			}
			if len(targets) < 2 {
				targets = append(targets, f.addLogin(t, fmt.Sprintf("round%d@example.org", round), persistence.RoleAdmin))
			}
		}
	})
}

func TestRetireAccount(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		f := setup(t, d)
		f.addLogin(t, "viewer@example.org", persistence.RoleViewer)
		if err := f.store.RetireAccount(ctx, f.account.ID); err != nil {
			t.Fatal(err)
		}
		a, err := f.store.FindAccount(ctx, f.account.ID)
		if err != nil || !a.Retired {
			t.Fatalf("got %+v, %v, want retired", a, err)
		}
		if grants, _ := f.store.ListAccountGrants(ctx, f.account.ID); len(grants) != 0 {
			t.Errorf("got %d grants left, want 0", len(grants))
		}
		if err := f.store.RetireAccount(ctx, f.account.ID); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("retire twice: got %v, want ErrNotFound", err)
		}
		if err := f.store.UpdateGrantRole(ctx, f.account.ID, f.loginID, persistence.RoleAdmin); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("grant on a retired account: got %v, want ErrNotFound", err)
		}
	})
}
