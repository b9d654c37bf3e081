// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys/segment"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

// segmentFixture is a store at a fixed time with one account whose events
// fall on two closed days and today.
type segmentFixture struct {
	seed
	ctx      context.Context
	clk      *clock
	account  string
	uploader string
	// events per period
	events map[string][]string
	keys   []string
}

const (
	dayA = "2026-06-08"
	dayB = "2026-06-09"
	// today is open at the fixture's time
	today = "2026-06-10"
)

func newSegmentFixture(t *testing.T, d persistencetest.Dialect) *segmentFixture {
	t.Helper()
	clk := newClock(time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC))
	store := persistencetest.NewStore(t, d, persistencetest.WithNow(clk.Now))
	acc, err := store.CreateAccount(context.Background(), newAccount("segments"))
	if err != nil {
		t.Fatal(err)
	}
	f := &segmentFixture{seed: seed{t, store}, ctx: context.Background(), clk: clk, account: acc.ID,
		uploader: newUUID(), events: map[string][]string{}}
	for range 3 {
		k := randomHex(16)
		f.keys = append(f.keys, k)
		f.secret(acc.ID, k, clk.Now().Add(-72*time.Hour))
	}
	for i, at := range []string{dayA + "T00:00:00Z", dayA + "T13:00:00Z", dayA + "T23:59:59.999Z",
		dayB + "T08:00:00Z", dayB + "T09:00:00Z", today + "T01:00:00Z"} {
		ts, _ := time.Parse(time.RFC3339Nano, at)
		f.add(f.keys[i%2], ts)
	}
	return f
}

func (f *segmentFixture) add(key string, at time.Time) string {
	id := f.event(f.account, key, at)
	p := at.UTC().Format(time.DateOnly)
	f.events[p] = append(f.events[p], id)
	return id
}

// put uploads a segment covering the fixture's events of period.
func (f *segmentFixture) put(period string, version int) (persistence.Segment, error) {
	n, digest, err := segment.Coverage(f.events[period])
	if err != nil {
		f.t.Fatal(err)
	}
	return f.store.PutSegment(f.ctx, persistence.Segment{
		AccountID: f.account, Period: period, Version: version, Count: n, Digest: digest,
		Sealed: fmt.Sprintf("a1.%s.%s", randomHex(12), randomHex(40)), UploadedBy: f.uploader,
	})
}

func (f *segmentFixture) mustPut(period string) persistence.Segment {
	f.t.Helper()
	s, err := f.put(period, 1)
	if err != nil {
		f.t.Fatalf("put %s: %v", period, err)
	}
	return s
}

// valid returns the periods ListSegments lists and checks that FindSegment
// serves exactly those of periods.
func (f *segmentFixture) valid(periods ...string) []string {
	f.t.Helper()
	list, err := f.store.ListSegments(f.ctx, f.account)
	if err != nil {
		f.t.Fatal(err)
	}
	var got []string
	for _, s := range list {
		if s.Sealed != "" || s.Stale {
			f.t.Errorf("listing of %s holds content or a stale segment: %+v", s.Period, s)
		}
		got = append(got, s.Period)
	}
	listed := strings.Join(got, ",")
	for _, p := range periods {
		seg, err := f.store.FindSegment(f.ctx, f.account, p)
		switch {
		case strings.Contains(listed, p) && (err != nil || !strings.HasPrefix(seg.Sealed, "a1.") || seg.Size != len(seg.Sealed)):
			f.t.Errorf("find listed %s: %+v, %v", p, seg, err)
		case !strings.Contains(listed, p) && !errors.Is(err, persistence.ErrNotFound):
			f.t.Errorf("find unlisted %s: got %v, want ErrNotFound", p, err)
		}
	}
	return got
}

func TestPutSegment(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		n, digest, _ := segment.Coverage(f.events[dayA])
		good := persistence.Segment{AccountID: f.account, Period: dayA, Version: 1, Count: n, Digest: digest,
			Sealed: "a1.bm9uY2U.Y2lwaGVy", UploadedBy: f.uploader}
		_, otherDigest, _ := segment.Coverage(f.events[dayB])
		for _, tc := range []struct {
			name   string
			change func(s *persistence.Segment)
			want   error
		}{
			{"count short by one", func(s *persistence.Segment) { s.Count-- }, persistence.ErrConflict},
			{"digest of another day", func(s *persistence.Segment) { s.Digest = otherDigest }, persistence.ErrConflict},
			{"open period", func(s *persistence.Segment) { s.Period = today }, persistence.ErrInvalid},
			{"malformed period", func(s *persistence.Segment) { s.Period = "2026-6-8" }, persistence.ErrInvalid},
			{"impossible date", func(s *persistence.Segment) { s.Period = "2026-02-30" }, persistence.ErrInvalid},
			{"version 0", func(s *persistence.Segment) { s.Version = 0 }, persistence.ErrInvalid},
			{"uppercase digest", func(s *persistence.Segment) { s.Digest = strings.ToUpper(s.Digest) }, persistence.ErrInvalid},
			{"not a1", func(s *persistence.Segment) { s.Sealed = "e1.x.y.z" }, persistence.ErrInvalid},
			{"no uploader", func(s *persistence.Segment) { s.UploadedBy = "" }, persistence.ErrInvalid},
			{"unknown account", func(s *persistence.Segment) { s.AccountID = newUUID() }, persistence.ErrNotFound},
		} {
			s := good
			tc.change(&s)
			_, err := f.store.PutSegment(f.ctx, s)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
			}
			var cov *persistence.CoverageError
			if errors.As(err, &cov) && (cov.Count != n || cov.Digest != digest) {
				t.Errorf("%s: coverage error names %d %s, want the period's %d %s", tc.name, cov.Count, cov.Digest, n, digest)
			}
			if tc.want == persistence.ErrConflict && !errors.As(err, &cov) {
				t.Errorf("%s: got %T, want a *CoverageError", tc.name, err)
			}
			if got := f.count("segments", ""); got != 0 {
				t.Fatalf("%s: %d segments stored", tc.name, got)
			}
		}

		stored, err := f.store.PutSegment(f.ctx, good)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Size != len(good.Sealed) || !stored.CreatedAt.Equal(f.clk.Now()) {
			t.Errorf("stored %+v", stored)
		}
		got, err := f.store.FindSegment(f.ctx, f.account, dayA)
		if err != nil || got.Sealed != good.Sealed || got.Count != n || got.Digest != digest || got.UploadedBy != f.uploader || got.Version != 1 {
			t.Fatalf("find: %+v, %v", got, err)
		}
		// A period is closed once its end lies more than W in the past.
		end := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
		f.clk.t = end.Add(persistence.SyncWindow)
		if _, err := f.put(dayB, 1); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("period closing right now: got %v, want ErrInvalid", err)
		}
		f.clk.t = end.Add(persistence.SyncWindow + time.Millisecond)
		f.mustPut(dayB)
		// An empty closed day has a segment too.
		empty := "2026-06-01"
		f.mustPut(empty)
		if got := f.valid(dayA, dayB, empty, today); strings.Join(got, ",") != empty+","+dayA+","+dayB {
			t.Errorf("listed %v", got)
		}
		// A new upload replaces the period's segment.
		if _, err := f.put(dayA, 2); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.store.FindSegment(f.ctx, f.account, dayA); got.Version != 2 || f.count("segments", "account_id = ?", f.account) != 3 {
			t.Errorf("after replacing: %+v", got)
		}
		// Retired accounts take no segments.
		if err := f.store.RetireAccount(f.ctx, f.account); err != nil {
			t.Fatal(err)
		}
		if _, err := f.put(dayA, 1); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("retired account: got %v, want ErrNotFound", err)
		}
	})
}

func TestSegmentsStaleOnDeletion(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		// keys[2] holds one event, on dayB.
		lone := f.add(f.keys[2], time.Date(2026, 6, 9, 20, 0, 0, 0, time.UTC))
		f.mustPut(dayA)
		f.mustPut(dayB)

		// Purge without forget: the visitor of keys[2] had events on dayB.
		res, err := f.store.PurgeEvents(f.ctx, persistence.PurgeFilter{SecretIDs: []string{seedSecretID(f.keys[2])}})
		if err != nil || res.Events != 1 {
			t.Fatalf("purge: %+v, %v", res, err)
		}
		if got := f.valid(dayA, dayB); strings.Join(got, ",") != dayA {
			t.Fatalf("after purge listed %v, want only %s", got, dayA)
		}
		if got := f.count("segments", "period = ? AND stale = ? AND sealed = '' AND size = 0", dayB, true); got != 1 {
			t.Errorf("stale segment keeps its content (%d rows cleared)", got)
		}
		// The next upload, covering what is left, replaces it.
		f.events[dayB] = removeID(f.events[dayB], lone)
		f.mustPut(dayB)
		if got := f.valid(dayA, dayB); len(got) != 2 {
			t.Fatalf("after re-upload listed %v", got)
		}

		// Forget: keys[1]'s secret and its events (dayA and dayB) go.
		res, err = f.store.PurgeEvents(f.ctx, persistence.PurgeFilter{SecretIDs: []string{seedSecretID(f.keys[1])}, Forget: true, AccountID: f.account})
		if err != nil || res.Secrets != 1 {
			t.Fatalf("forget: %+v, %v", res, err)
		}
		if got := f.valid(dayA, dayB); len(got) != 0 {
			t.Fatalf("after forget listed %v", got)
		}
	})
}

func TestSegmentsStaleOnSecretTombstone(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		// deleteSecrets without a preceding event purge: the path of a
		// retired account's secrets and of forget when events remain.
		f := newSegmentFixture(t, d)
		f.mustPut(dayA)
		f.mustPut(dayB)
		if err := f.store.DeleteSecretsForTest(f.ctx, f.keys[0]); err != nil {
			t.Fatal(err)
		}
		// keys[0] had events on dayA (two) and dayB (one).
		if got := f.valid(dayA, dayB); len(got) != 0 {
			t.Fatalf("after deleting a secret listed %v", got)
		}
		if got := f.count("tombstones", "kind = 'secret' AND target = ?", f.keys[0]); got != 1 {
			t.Errorf("%d secret tombstones", got)
		}
	})
}

func removeID(ids []string, id string) []string {
	var out []string
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

func TestSegmentsExpire(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		other, err := f.store.CreateAccount(f.ctx, newAccount("other"))
		if err != nil {
			t.Fatal(err)
		}
		f.mustPut(dayA)
		f.mustPut(dayB)
		f.mustPut("2026-06-05") // empty, older than the cutoff below
		_, empty, _ := segment.Coverage(nil)
		if _, err := f.store.PutSegment(f.ctx, persistence.Segment{AccountID: other.ID, Period: dayA, Version: 1,
			Digest: empty, Sealed: "a1.x.y", UploadedBy: f.uploader}); err != nil {
			t.Fatal(err)
		}

		// The cutoff cuts dayB at 08:30: dayA ends before it, dayB keeps
		// its 09:00 event.
		f.clk.t = time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
		retention := f.clk.Now().Sub(time.Date(2026, 6, 9, 8, 30, 0, 0, time.UTC))
		res, err := f.store.Expire(f.ctx, retention)
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != 4 || res.Segments != 3 {
			t.Errorf("expire: %+v, want 4 events and 3 segments deleted", res)
		}
		if got := f.count("segments", "account_id = ?", f.account); got != 1 {
			t.Errorf("%d segments left, want dayB's", got)
		}
		if got := f.count("segments", "account_id = ? AND period = ? AND stale = ?", f.account, dayB, true); got != 1 {
			t.Errorf("the partly expired period is not stale")
		}
		if got := f.count("segments", "account_id = ?", other.ID); got != 0 {
			t.Errorf("other account keeps %d expired segments", got)
		}
		if got := f.valid(dayA, dayB); len(got) != 0 {
			t.Errorf("listed %v after expiry", got)
		}
	})
}

func TestSegmentsRetire(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		f.mustPut(dayA)
		f.mustPut(dayB)
		if err := f.store.RetireAccount(f.ctx, f.account); err != nil {
			t.Fatal(err)
		}
		if got := f.count("segments", ""); got != 0 {
			t.Errorf("%d segments after retiring", got)
		}
		// Accounts retired before segments existed: DeleteAccountData
		// removes what is left.
		f.exec(`INSERT INTO segments (account_id, period, version, size, event_count, digest, uploaded_by, stale, created_at, updated_at, sealed)
			VALUES (?, ?, 1, 4, 0, ?, ?, ?, ?, ?, 'a1.x')`, f.account, dayA, strings.Repeat("0", 64), f.uploader, false, f.clk.Now(), f.clk.Now())
		if _, err := f.store.DeleteAccountData(f.ctx, f.account); err != nil {
			t.Fatal(err)
		}
		if got := f.count("segments", ""); got != 0 {
			t.Errorf("%d segments after deleting the account's data", got)
		}
	})
}

func TestPeriodEvents(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		// A second account's event on dayA stays out.
		other, _ := f.store.CreateAccount(f.ctx, newAccount("other"))
		f.event(other.ID, randomHex(16), time.Date(2026, 6, 8, 12, 0, 0, 0, time.UTC))

		var got []string
		keysSeen := map[string]int{}
		q := persistence.PeriodQuery{Limit: 2}
		for pages := 0; ; pages++ {
			var secrets []string
			page, err := f.store.PeriodEvents(f.ctx, f.account, dayA, q, persistence.FeedItems{
				Event:  func(e persistence.Event) error { got = append(got, e.EventID); keysSeen[e.KeyID]++; return nil },
				Secret: func(s persistence.Secret) error { secrets = append(secrets, s.KeyID); return nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(secrets) == 0 || len(secrets) > 2 {
				t.Errorf("page %d named secrets %v", pages, secrets)
			}
			for _, k := range secrets {
				if keysSeen[k] == 0 {
					t.Errorf("secret %s sent but named by no event", k)
				}
			}
			if !page.More {
				if page.Next != got[len(got)-1] {
					t.Errorf("last next %s", page.Next)
				}
				break
			}
			q.After = page.Next
			clear(keysSeen)
		}
		if strings.Join(got, ",") != strings.Join(f.events[dayA], ",") {
			t.Errorf("got %v, want %v in id order", got, f.events[dayA])
		}
		for _, tc := range []persistence.PeriodQuery{
			{After: "not-an-id"}, {After: f.events[dayB][0]}, {Limit: -1}, {Limit: persistence.MaxFeedLimit + 1},
		} {
			if _, err := f.store.PeriodEvents(f.ctx, f.account, dayA, tc, persistence.FeedItems{}); !errors.Is(err, persistence.ErrInvalid) {
				t.Errorf("%+v: got %v, want ErrInvalid", tc, err)
			}
		}
		if _, err := f.store.PeriodEvents(f.ctx, f.account, "08.06.2026", persistence.PeriodQuery{}, persistence.FeedItems{}); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("malformed period: %v", err)
		}
	})
}

func TestFindSecretsAndOldestPeriod(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		other, _ := f.store.CreateAccount(f.ctx, newAccount("other"))
		foreign := randomHex(16)
		f.secret(other.ID, foreign, f.clk.Now())
		got, err := f.store.FindSecrets(f.ctx, f.account, []string{f.keys[1], foreign, randomHex(16), f.keys[1]})
		if err != nil || len(got) != 1 || got[0].KeyID != f.keys[1] || got[0].WrappedSecret == "" {
			t.Fatalf("got %+v, %v", got, err)
		}
		many := make([]string, persistence.MaxSecretLookup+1)
		for i := range many {
			many[i] = randomHex(16)
		}
		if _, err := f.store.FindSecrets(f.ctx, f.account, many); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("501 key ids: %v", err)
		}
		if got, err := f.store.FindSecrets(f.ctx, f.account, many[:persistence.MaxSecretLookup]); err != nil || len(got) != 0 {
			t.Errorf("500 unknown key ids: %v, %v", got, err)
		}
		if _, err := f.store.FindSecrets(f.ctx, f.account, []string{strings.ToUpper(f.keys[0])}); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("malformed key id: %v", err)
		}

		if p, err := f.store.OldestEventPeriod(f.ctx, f.account); err != nil || p != dayA {
			t.Errorf("oldest period %q, %v", p, err)
		}
		if _, err := f.store.OldestEventPeriod(f.ctx, newUUID()); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("no events: %v", err)
		}
	})
}

func TestAccountEventsStart(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		now := f.clk.Now()
		recent := f.event(f.account, f.keys[0], now.Add(-30*time.Second))
		run := func(q persistence.FeedQuery) ([]string, persistence.FeedPage) {
			t.Helper()
			var ids []string
			page, err := f.store.AccountEvents(f.ctx, f.account, q, persistence.FeedItems{
				Event: func(e persistence.Event) error { ids = append(ids, e.EventID); return nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			return ids, page
		}
		start := time.Date(2026, 6, 9, 8, 30, 0, 0, time.UTC)
		var ids []string
		q := persistence.FeedQuery{Start: start, Limit: 2}
		for {
			got, page := run(q)
			ids = append(ids, got...)
			if !page.More {
				q = persistence.FeedQuery{Since: page.Next}
				break
			}
			q = persistence.FeedQuery{Since: page.Next, Limit: 2}
		}
		want := []string{f.events[dayB][1], f.events[today][0], recent}
		if strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Fatalf("from start got %v, want %v", ids, want)
		}
		// Rule (3): the run resumes at S − W, so a write that took its seq
		// before S and committed after the page shows in the next run.
		late := relational.NewULID(now.Add(-10 * time.Second))
		f.exec("INSERT INTO events (event_id, account_id, secret_id, key_id, payload, seq) VALUES (?, ?, ?, ?, ?, ?)",
			late, f.account, seedSecretID(f.keys[0]), f.keys[0], "a1.late", now.Add(-10*time.Second).UnixMicro())
		got, _ := run(q)
		if strings.Join(got, ",") != recent+","+late {
			t.Errorf("next run got %v, want the last minute again and the late event", got)
		}
		if _, err := f.store.AccountEvents(f.ctx, f.account, persistence.FeedQuery{Start: start, Since: q.Since}, persistence.FeedItems{}); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("start with a cursor: %v", err)
		}
	})
}

// TestSegmentUploadRacesPurge runs uploads and purges of the same period at
// once: whichever commits first, a segment still listed afterwards covers
// exactly the period's live events.
func TestSegmentUploadRacesPurge(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		day := time.Date(2026, 6, 7, 10, 0, 0, 0, time.UTC)
		for i := range 20 {
			key := randomHex(16)
			f.secret(f.account, key, day)
			for j := range 3 {
				f.add(key, day.Add(time.Duration(i*3+j)*time.Second))
			}
			n, digest, _ := segment.Coverage(f.events["2026-06-07"])
			errs := make(chan error, 2)
			go func() {
				_, err := f.store.PutSegment(f.ctx, persistence.Segment{AccountID: f.account, Period: "2026-06-07", Version: 1,
					Count: n, Digest: digest, Sealed: "a1.x.y", UploadedBy: f.uploader})
				if errors.Is(err, persistence.ErrConflict) {
					err = nil // the purge came first
				}
				errs <- err
			}()
			go func() {
				_, err := f.store.PurgeEvents(f.ctx, persistence.PurgeFilter{SecretIDs: []string{seedSecretID(key)}})
				errs <- err
			}()
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			live := f.count("events", "account_id = ? AND event_id >= ? AND event_id < ?", f.account,
				relational.ULIDLowerBound(day.Truncate(24*time.Hour)), relational.ULIDLowerBound(day.Truncate(24*time.Hour).Add(24*time.Hour)))
			if seg, err := f.store.FindSegment(f.ctx, f.account, "2026-06-07"); err == nil && int64(seg.Count) != live {
				t.Fatalf("round %d: a valid segment covers %d events, the period holds %d", i, seg.Count, live)
			}
			f.events["2026-06-07"] = nil
		}
	})
}

// TestPutLargeSegment stores a 20 MiB segment where the database takes it
// and refuses it cleanly on MySQL under a smaller max_allowed_packet
// (MariaDB's default is 16 MiB), leaving the store usable.
func TestPutLargeSegment(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		f := newSegmentFixture(t, d)
		n, digest, _ := segment.Coverage(f.events[dayA])
		big := "a1." + strings.Repeat("A", 20<<20)
		_, err := f.store.PutSegment(f.ctx, persistence.Segment{AccountID: f.account, Period: dayA, Version: 1,
			Count: n, Digest: digest, Sealed: big, UploadedBy: f.uploader})
		var limit string
		if d.Name == relational.DialectMySQL {
			var qerr error
			if limit, qerr = f.store.QueryString(f.ctx, "SELECT @@max_allowed_packet"); qerr != nil {
				t.Fatal(qerr)
			}
		}
		if l, _ := strconv.Atoi(limit); d.Name == relational.DialectMySQL && l < len(big) {
			if !errors.Is(err, persistence.ErrSegmentTooLarge) || !errors.Is(err, persistence.ErrInvalid) {
				t.Fatalf("got %v, want ErrSegmentTooLarge", err)
			}
			f.mustPut(dayA)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.store.FindSegment(f.ctx, f.account, dayA); err != nil || got.Sealed != big {
			t.Fatalf("read back %d bytes, %v", len(got.Sealed), err)
		}
	})
}
