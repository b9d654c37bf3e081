// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for throttle tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateTable(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rt := newRateTable(6*time.Second, 10, 100)
	for i := range 10 {
		if _, ok := rt.Allow(clock.Now(), "a"); !ok {
			t.Fatalf("request %d refused within burst", i)
		}
	}
	wait, ok := rt.Allow(clock.Now(), "a")
	if ok {
		t.Fatal("got allowed past burst, want refused")
	}
	if wait <= 5*time.Second || wait > 6*time.Second {
		t.Errorf("got wait %v, want about 6s", wait)
	}
	if _, ok := rt.Allow(clock.Now(), "b"); !ok {
		t.Error("another key was refused")
	}
	clock.Advance(6 * time.Second)
	if _, ok := rt.Allow(clock.Now(), "a"); !ok {
		t.Error("refused after a refill interval")
	}
}

func TestRateTableEvictsIdleAndRefusesWhenFull(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rt := newRateTable(time.Second, 2, 3)
	for _, k := range []string{"a", "b", "c"} {
		rt.Allow(clock.Now(), k)
	}
	if got := rt.Len(); got != 3 {
		t.Fatalf("got %d keys, want 3", got)
	}
	// Full of live buckets: a new key is refused rather than forgetting one.
	if _, ok := rt.Allow(clock.Now(), "d"); ok {
		t.Fatal("got a new key admitted into a full table of live buckets")
	}
	// Once the buckets have refilled they are idle and make room.
	clock.Advance(2 * time.Second)
	if _, ok := rt.Allow(clock.Now(), "d"); !ok {
		t.Fatal("got a new key refused although every bucket is idle")
	}
	if got := rt.Len(); got != 1 {
		t.Errorf("got %d keys after the sweep, want 1", got)
	}
}

func TestTableSweepsPeriodically(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rt := newRateTable(time.Second, 1, maxThrottleKeys)
	for i := range 1000 {
		rt.Allow(clock.Now(), fmt.Sprint(i))
	}
	clock.Advance(2 * time.Minute)
	rt.Allow(clock.Now(), "x")
	if got := rt.Len(); got != 1 {
		t.Errorf("got %d keys after idle minutes, want 1", got)
	}
}

func TestTableBoundedAtMaxKeys(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := DefaultThrottleLimits()
	th := newThrottles(clock.Now, l)
	// 150,000 distinct addresses at the same instant: the table never holds
	// more than the limit, and the addresses past it are refused.
	refused := 0
	for i := range 150_000 {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff)
		if _, ok := th.loginIP.Allow(clock.Now(), ip); !ok {
			refused++
		}
	}
	if got := th.loginIP.Len(); got != maxThrottleKeys {
		t.Errorf("got %d keys, want %d", got, maxThrottleKeys)
	}
	if refused != 50_000 {
		t.Errorf("got %d refused, want 50000", refused)
	}
}

func TestBackoffDoubles(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	bt := newBackoffTable(time.Second, 15*time.Minute, time.Hour, 100)
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900}
	for i, w := range want {
		if got := bt.Wait(clock.Now(), "k"); got != 0 {
			t.Fatalf("failure %d: got wait %v before failing, want 0", i+1, got)
		}
		bt.Fail(clock.Now(), "k")
		if got := bt.Wait(clock.Now(), "k"); got != w*time.Second {
			t.Fatalf("after %d failures: got wait %v, want %v", i+1, got, w*time.Second)
		}
		clock.Advance(w * time.Second)
	}
	bt.Clear("k")
	bt.Fail(clock.Now(), "k")
	if got := bt.Wait(clock.Now(), "k"); got != time.Second {
		t.Errorf("after success and a failure: got wait %v, want 1s", got)
	}
	// Failures older than the forget interval start over.
	clock.Advance(2 * time.Hour)
	bt.Fail(clock.Now(), "k")
	if got := bt.Wait(clock.Now(), "k"); got != time.Second {
		t.Errorf("after a forgotten failure: got wait %v, want 1s", got)
	}
}

func TestBudgetCountsOnlyFailuresAndInflight(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	bt := newBudgetTable(10*time.Minute, 3, 100)
	// Successes cost nothing.
	for range 10 {
		if _, ok := bt.Begin(clock.Now(), "k"); !ok {
			t.Fatal("success drained the budget")
		}
		bt.End(clock.Now(), "k", false)
	}
	// Three concurrent attempts fill it; a fourth waits for them.
	for i := range 3 {
		if _, ok := bt.Begin(clock.Now(), "k"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	if _, ok := bt.Begin(clock.Now(), "k"); ok {
		t.Fatal("got a fourth concurrent attempt admitted, want refused")
	}
	for range 3 {
		bt.End(clock.Now(), "k", true)
	}
	wait, ok := bt.Begin(clock.Now(), "k")
	if ok {
		t.Fatal("got admitted with an empty budget")
	}
	if wait != 10*time.Minute {
		t.Errorf("got wait %v, want 10m", wait)
	}
	clock.Advance(10 * time.Minute)
	if _, ok := bt.Begin(clock.Now(), "k"); !ok {
		t.Error("refused after the budget refilled one token")
	}
}

func TestBackoffReserveSettle(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	bt := newBackoffTable(time.Second, 15*time.Minute, time.Hour, 100)
	reserve := func() (time.Duration, bool) {
		wait, _, ok := bt.Reserve(clock.Now(), "k")
		return wait, ok
	}
	if _, ok := reserve(); !ok {
		t.Fatal("first attempt refused")
	}
	// A second attempt while the first is under way waits as if the first
	// had failed.
	if wait, ok := reserve(); ok || wait != time.Second {
		t.Fatalf("parallel attempt: got ok %v, wait %v; want refused for 1s", ok, wait)
	}
	bt.Settle(clock.Now(), "k", attemptFailed)
	if wait, ok := reserve(); ok || wait != time.Second {
		t.Fatalf("after a failure: got ok %v, wait %v; want refused for 1s", ok, wait)
	}
	clock.Advance(time.Second)
	if _, ok := reserve(); !ok {
		t.Fatal("refused after the backoff")
	}
	if wait, ok := reserve(); ok || wait != 2*time.Second {
		t.Fatalf("parallel attempt after one failure: got ok %v, wait %v; want refused for 2s", ok, wait)
	}
	// An attempt that checked nothing costs nothing.
	bt.Settle(clock.Now(), "k", attemptUnchecked)
	if _, ok := reserve(); !ok {
		t.Fatal("refused after an unchecked attempt")
	}
	bt.Settle(clock.Now(), "k", attemptSucceeded)
	if got := bt.Len(); got != 0 {
		t.Errorf("got %d entries after success, want 0", got)
	}
}

func TestArgonPool(t *testing.T) {
	t.Parallel()
	p := newArgonPool(1, time.Minute)
	hold, held := make(chan struct{}), make(chan struct{})
	go p.run(t.Context(), false, func() { close(held); <-hold })
	<-held
	queued := func(lane int) int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.queues[lane])
	}
	waitQueued := func(lane, n int) {
		for queued(lane) < n {
			time.Sleep(time.Millisecond)
		}
	}
	order := make(chan string, 2)
	done := make(chan error, 2)
	go func() { done <- p.run(t.Context(), false, func() { order <- "stranger" }) }()
	waitQueued(1, 1)
	go func() { done <- p.run(t.Context(), true, func() { order <- "owner" }) }()
	waitQueued(0, 1)

	// The queue of strangers is full at 16 per worker: the next is refused
	// at once, with a Retry-After.
	var fillers sync.WaitGroup
	for range argonQueuePerWorker - 1 {
		fillers.Go(func() { p.run(t.Context(), false, func() {}) })
	}
	waitQueued(1, argonQueuePerWorker)
	var te *throttledError
	if err := p.run(t.Context(), false, func() { t.Error("ran past a full queue") }); !errors.As(err, &te) || te.retryAfter <= 0 {
		t.Errorf("full queue: got %v, want a throttledError", err)
	}
	// A canceled request leaves the queue.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.run(ctx, true, func() { t.Error("ran a canceled request") }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: got %v, want context.Canceled", err)
	}
	if got := queued(0); got != 1 {
		t.Errorf("got %d trusted runs queued, want 1", got)
	}

	// The owner, queued after the stranger, runs first.
	close(hold)
	if first, second := <-order, <-order; first != "owner" || second != "stranger" {
		t.Errorf("got %s before %s, want the owner first", first, second)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	fillers.Wait()
	if got := p.runs.Load(); got != 3+argonQueuePerWorker-1 {
		t.Errorf("got %d runs, want %d", got, 3+argonQueuePerWorker-1)
	}
}

// TestArgonOnlyInPool: every argon2id run of the server goes through the
// pool, so no route can run more than its workers at once.
func TestArgonOnlyInPool(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "argon.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "keys" && (sel.Sel.Name == "HashAuthKey" || sel.Sel.Name == "VerifyAuthKey") {
					t.Errorf("%s: keys.%s outside the argon2 pool", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}

func TestArgonPoolWaitEnds(t *testing.T) {
	t.Parallel()
	p := newArgonPool(1, 10*time.Millisecond)
	hold, held := make(chan struct{}), make(chan struct{})
	defer close(hold)
	go p.run(t.Context(), false, func() { close(held); <-hold })
	<-held
	var te *throttledError
	if err := p.run(t.Context(), false, func() { t.Error("ran while the worker was busy") }); !errors.As(err, &te) {
		t.Fatalf("got %v, want a throttledError once the wait ends", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queues[1]) != 0 {
		t.Error("a run that gave up is still queued")
	}
}

// attackDay replays a day of the strongest attack the throttles allow on th:
// attempt i comes from the address, for the identity and with the device
// token that who returns, and fails; each refusal waits as long as it says.
// It returns the number of attempts admitted.
func attackDay(t *testing.T, clock *fakeClock, th *throttles, who func(i int) (ip, identity, device string)) int {
	t.Helper()
	start := clock.Now()
	accepted := 0
	for i := 0; clock.Now().Sub(start) <= 24*time.Hour; i++ {
		a, err := th.beginLogin(who(i))
		if err != nil {
			var te *throttledError
			if !errors.As(err, &te) {
				t.Fatalf("got %v, want a throttledError", err)
			}
			clock.Advance(max(te.retryAfter, time.Millisecond))
			continue
		}
		accepted++
		a.Done(false)
	}
	return accepted
}

// freshIP is the i-th of distinct addresses.
func freshIP(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff) }

// TestLoginDayOfMaximalAttack replays a day of the strongest attack the
// throttles allow, with an injected clock, and counts the attempts that
// reach the password check against the bounds of keys/PROTOCOL.md §14:
// 14,410 attempts per IP, 174 wrong guesses per login, 107 per login and
// IP (P11).
func TestLoginDayOfMaximalAttack(t *testing.T) {
	t.Parallel()

	t.Run("one address, every guess a fresh login", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		accepted := attackDay(t, clock, newThrottles(clock.Now, DefaultThrottleLimits()), func(i int) (string, string, string) {
			return "192.0.2.1", fmt.Sprintf("login-%d", i), ""
		})
		t.Logf("one address, a day: %d attempts reached the password check", accepted)
		if accepted > 14_410 {
			t.Errorf("got %d attempts from one address in a day, want at most 14410", accepted)
		}
		if accepted < 14_400 {
			t.Errorf("got %d attempts, want the bucket's full 14410 (the replay is not maximal)", accepted)
		}
	})

	t.Run("one login, every guess from a fresh address", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		accepted := attackDay(t, clock, newThrottles(clock.Now, DefaultThrottleLimits()), func(i int) (string, string, string) {
			return freshIP(i), "victim", ""
		})
		t.Logf("one login from fresh addresses, a day: %d guesses checked", accepted)
		if accepted > 174 {
			t.Errorf("got %d wrong guesses on one login in a day, want at most 174", accepted)
		}
		if accepted < 173 {
			t.Errorf("got %d guesses, want the budget's full 174 (the replay is not maximal)", accepted)
		}
	})

	t.Run("one login from one address", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		accepted := attackDay(t, clock, newThrottles(clock.Now, DefaultThrottleLimits()), func(int) (string, string, string) {
			return "192.0.2.1", "victim", ""
		})
		t.Logf("one login from one address, a day: %d guesses checked", accepted)
		// The backoff reaches its 15-minute cap after 11 failures: about
		// 11 + 24h/15min guesses, well under the budget.
		if accepted > 11+96 {
			t.Errorf("got %d guesses, want at most %d", accepted, 11+96)
		}
	})
}

// TestLoginDayWithStolenDeviceToken: whoever holds a browser's device token
// guesses under that token's own backoff and budget, from any number of
// addresses, and leaves the login's shared budget alone.
func TestLoginDayWithStolenDeviceToken(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	th := newThrottles(clock.Now, DefaultThrottleLimits())
	accepted := attackDay(t, clock, th, func(i int) (string, string, string) {
		return freshIP(i), "victim", "stolen"
	})
	t.Logf("a stolen device token from fresh addresses, a day: %d guesses checked", accepted)
	if accepted > 11+96 {
		t.Errorf("got %d guesses, want at most %d (the token's backoff)", accepted, 11+96)
	}
	for range 30 {
		a, err := th.beginLogin("203.0.113.9", "victim", "")
		if err != nil {
			t.Fatalf("the login's shared budget was drained by the token's guesses: %v", err)
		}
		a.Done(false)
		clock.Advance(time.Hour)
	}
}

func TestFloodDoesNotLockOutRealUser(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	th := newThrottles(clock.Now, DefaultThrottleLimits())
	// 50 attempts per second for 5 s from one address.
	admitted := 0
	for range 250 {
		if a, err := th.beginLogin("198.51.100.7", "operator", ""); err == nil {
			admitted++
			a.Done(false)
		}
		clock.Advance(20 * time.Millisecond)
	}
	if admitted > 250/20 {
		t.Errorf("got %d of 250 admitted, want at most 5%%", admitted)
	}
	a, err := th.beginLogin("203.0.113.9", "operator", "")
	if err != nil {
		t.Fatalf("real user from another address: got %v, want admitted", err)
	}
	a.Done(true)
}

func TestLimitByIPMiddleware(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	tbl := newRateTable(time.Minute, 1, 10)
	h := limitByIP(tbl, clock.Now, func(r *http.Request) netip.Addr { return netip.MustParseAddrPort(r.RemoteAddr).Addr() })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	do := func(ip string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = ip + ":1234"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if got := do("192.0.2.1").Code; got != http.StatusNoContent {
		t.Fatalf("got %d, want 204", got)
	}
	w := do("192.0.2.1")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("got %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "60" {
		t.Errorf("got Retry-After %q, want 60", got)
	}
	if got := do("192.0.2.2").Code; got != http.StatusNoContent {
		t.Errorf("other address: got %d, want 204", got)
	}
}

func TestIPKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
	} {
		if got := ipKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("ipKey(%q): got %q, want %q", in, got, want)
		}
	}
}
