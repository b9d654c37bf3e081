// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Throttling (PROTOCOL §7.5). Every table lives in memory, is keyed by a
// string (a client address, an e-mail index, a token hash, a session hash),
// holds at most maxKeys entries and forgets entries once they are idle, that
// is once forgetting them changes nothing: a token bucket that has refilled to
// its burst behaves exactly like a new one. A table that is full of live
// entries refuses new keys (429) instead of forgetting a live bucket, so the
// per-day bounds hold even when an attacker floods the table with keys.

// maxThrottleKeys is the most keys a single throttle table holds.
const maxThrottleKeys = 100_000

// sweepInterval is the least time between two full scans of a table that is
// full; it keeps a flood of new keys from turning every request into a scan.
const sweepInterval = time.Second

// throttled is the error refusing a throttled request: respondError
// answers 429 with Retry-After in whole seconds.
func throttled(wait time.Duration) error {
	return &throttledError{retryAfter: wait}
}

// table is a bounded map of throttle entries with idle eviction.
type table[E any] struct {
	mu        sync.Mutex
	max       int
	entries   map[string]*E
	fresh     func(now time.Time) *E
	idle      func(e *E, now time.Time) bool
	lastSweep time.Time
}

func newTable[E any](max int, fresh func(time.Time) *E, idle func(*E, time.Time) bool) *table[E] {
	return &table[E]{max: max, entries: map[string]*E{}, fresh: fresh, idle: idle}
}

// get returns the entry for key, creating it if needed; ok is false when the
// table is full of live entries. The caller holds t.mu.
func (t *table[E]) get(now time.Time, key string) (*E, bool) {
	if e, ok := t.entries[key]; ok {
		return e, true
	}
	if len(t.entries) >= t.max {
		if now.Sub(t.lastSweep) >= sweepInterval || now.Before(t.lastSweep) {
			t.sweep(now)
		}
		if len(t.entries) >= t.max {
			return nil, false
		}
	}
	e := t.fresh(now)
	t.entries[key] = e
	return e, true
}

// sweep drops every idle entry. The caller holds t.mu.
func (t *table[E]) sweep(now time.Time) {
	t.lastSweep = now
	for k, e := range t.entries {
		if t.idle(e, now) {
			delete(t.entries, k)
		}
	}
}

// maybeSweep sweeps when the last sweep is at least every ago, so that
// tables shrink after a burst of keys even when they never fill up.
func (t *table[E]) maybeSweep(now time.Time, every time.Duration) {
	if now.Sub(t.lastSweep) >= every || now.Before(t.lastSweep) {
		t.sweep(now)
	}
}

// Len returns the number of entries held.
func (t *table[E]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// rateTable is a token bucket per key: limit tokens per second, burst at most.
type rateTable struct {
	limit rate.Limit
	burst int
	*table[rate.Limiter]
}

// newRateTable makes a table refilling one token every interval up to burst.
func newRateTable(every time.Duration, burst, maxKeys int) *rateTable {
	limit := rate.Every(every)
	rt := &rateTable{limit: limit, burst: burst}
	rt.table = newTable(maxKeys,
		func(time.Time) *rate.Limiter { return rate.NewLimiter(limit, burst) },
		func(l *rate.Limiter, now time.Time) bool { return l.TokensAt(now) >= float64(burst) },
	)
	return rt
}

// Allow takes one token for key at now. When none is left it returns false
// and how long until one is.
func (rt *rateTable) Allow(now time.Time, key string) (time.Duration, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.maybeSweep(now, time.Minute)
	l, ok := rt.get(now, key)
	if !ok {
		return time.Minute, false
	}
	if l.AllowN(now, 1) {
		return 0, true
	}
	return rt.untilToken(l, now), false
}

func (rt *rateTable) untilToken(l *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - l.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(rt.limit) * float64(time.Second))
}

// budgetEntry is a failure budget: a bucket that only failures drain, plus
// the attempts under way, which count against it until they end.
type budgetEntry struct {
	lim      *rate.Limiter
	inflight int
}

// budgetTable limits failures per key. An attempt is admitted only while the
// bucket holds a token for it and for every other attempt under way, so
// concurrent guesses cannot overdraw the budget; success costs nothing.
type budgetTable struct {
	limit rate.Limit
	burst int
	*table[budgetEntry]
}

func newBudgetTable(every time.Duration, burst, maxKeys int) *budgetTable {
	limit := rate.Every(every)
	bt := &budgetTable{limit: limit, burst: burst}
	bt.table = newTable(maxKeys,
		func(time.Time) *budgetEntry { return &budgetEntry{lim: rate.NewLimiter(limit, burst)} },
		func(e *budgetEntry, now time.Time) bool {
			return e.inflight == 0 && e.lim.TokensAt(now) >= float64(burst)
		},
	)
	return bt
}

// Begin admits an attempt for key; every admitted attempt must be ended
// with End.
func (bt *budgetTable) Begin(now time.Time, key string) (time.Duration, bool) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	bt.maybeSweep(now, time.Minute)
	e, ok := bt.get(now, key)
	if !ok {
		return time.Minute, false
	}
	tokens := e.lim.TokensAt(now) - float64(e.inflight)
	if tokens >= 1 {
		e.inflight++
		return 0, true
	}
	wait := time.Duration((1 - tokens) / float64(bt.limit) * float64(time.Second))
	return wait, false
}

// End finishes an attempt begun with Begin; a failure takes a token.
func (bt *budgetTable) End(now time.Time, key string, failed bool) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	e, ok := bt.entries[key]
	if !ok {
		return
	}
	if e.inflight > 0 {
		e.inflight--
	}
	if failed {
		// ReserveN never refuses a single token and may leave the bucket in
		// debt, so every failure is paid for.
		e.lim.ReserveN(now, 1)
	}
}

// backoffEntry counts consecutive failures and when the next try is allowed;
// inflight marks an attempt reserved and not yet settled.
type backoffEntry struct {
	failures int
	last     time.Time
	until    time.Time
	inflight bool
}

// backoffTable makes each consecutive failure for a key double the wait
// before the next attempt, from base up to max; success clears it. Entries
// whose last failure is older than forget are dropped.
type backoffTable struct {
	base, max, forget time.Duration
	*table[backoffEntry]
}

func newBackoffTable(base, max, forget time.Duration, maxKeys int) *backoffTable {
	bt := &backoffTable{base: base, max: max, forget: forget}
	bt.table = newTable(maxKeys,
		func(time.Time) *backoffEntry { return &backoffEntry{} },
		func(e *backoffEntry, now time.Time) bool {
			return !e.inflight && !now.Before(e.until) && now.Sub(e.last) >= forget
		},
	)
	return bt
}

// Wait returns how long key must still wait, zero when it may try now.
func (bt *backoffTable) Wait(now time.Time, key string) time.Duration {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	bt.maybeSweep(now, time.Minute)
	e, ok := bt.entries[key]
	if !ok {
		return 0
	}
	if bt.idle(e, now) {
		delete(bt.entries, key)
		return 0
	}
	if now.Before(e.until) {
		return e.until.Sub(now)
	}
	return 0
}

// Fail records a failure for key: after n consecutive failures the key waits
// min(base·2^(n−1), max). A table full of live entries records nothing: the
// backoff only spares the real user's budget, while the per-IP buckets and
// the failure budgets, which refuse when full, keep the bounds.
func (bt *backoffTable) Fail(now time.Time, key string) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if e, ok := bt.get(now, key); ok {
		bt.fail(e, now)
	}
}

// fail records a failure on e. The caller holds bt.mu.
func (bt *backoffTable) fail(e *backoffEntry, now time.Time) {
	if !e.inflight && bt.idle(e, now) {
		*e = backoffEntry{}
	}
	e.failures++
	e.last = now
	e.until = now.Add(bt.waitAfter(e.failures))
}

// waitAfter is the wait after n consecutive failures.
func (bt *backoffTable) waitAfter(n int) time.Duration {
	if n <= 62 {
		if d := bt.base << (n - 1); d > 0 && d < bt.max {
			return d
		}
	}
	return bt.max
}

// Reserve admits one attempt for key unless its backoff runs or another
// attempt is under way; Settle must follow. Counting the attempt when it
// starts is what keeps parallel attempts from passing the backoff together:
// the others are refused with the wait a failure would bring. reserved is
// false when the table is full of live entries and nothing was recorded
// (as in Fail).
func (bt *backoffTable) Reserve(now time.Time, key string) (wait time.Duration, reserved, ok bool) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	bt.maybeSweep(now, time.Minute)
	e, ok := bt.get(now, key)
	if !ok {
		return 0, false, true
	}
	if e.inflight {
		n := e.failures + 1
		if now.Sub(e.last) >= bt.forget {
			n = 1
		}
		return bt.waitAfter(n), false, false
	}
	if now.Before(e.until) {
		return e.until.Sub(now), false, false
	}
	e.inflight = true
	return 0, true, true
}

// outcome settles a reserved attempt.
type outcome int

const (
	// attemptUnchecked: the attempt ended before its key was checked.
	attemptUnchecked outcome = iota
	attemptFailed
	attemptSucceeded
)

// Settle ends an attempt that Reserve admitted with reserved true.
func (bt *backoffTable) Settle(now time.Time, key string, o outcome) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	e, ok := bt.entries[key]
	if !ok {
		return
	}
	e.inflight = false
	switch o {
	case attemptSucceeded:
		delete(bt.entries, key)
	case attemptFailed:
		bt.fail(e, now)
	}
}

// Clear forgets the failures of key.
func (bt *backoffTable) Clear(key string) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	delete(bt.entries, key)
}

// ThrottleLimits are the per-instance limits of PROTOCOL §7.5.
type ThrottleLimits struct {
	MaxKeys int

	LoginIPEvery  time.Duration // POST /api/login and re-authentication, per client IP
	LoginIPBurst  int
	BackoffBase   time.Duration // per login and client IP, and per identity
	BackoffMax    time.Duration
	BackoffForget time.Duration
	BudgetEvery   time.Duration // failure budget per login (e-mail index)
	BudgetBurst   int
	SaltIPEvery   time.Duration // POST /api/login/salt, per client IP
	SaltIPBurst   int
	TokenIPEvery  time.Duration // setup, forgot, reset, join and lookups, per client IP
	TokenIPBurst  int
	MailEvery     time.Duration // reset mails per address
	SessionEvery  time.Duration // other session routes, per session
	SessionBurst  int
}

// DefaultThrottleLimits returns the defaults of PROTOCOL §7.5.
func DefaultThrottleLimits() ThrottleLimits {
	return ThrottleLimits{
		MaxKeys:       maxThrottleKeys,
		LoginIPEvery:  time.Minute / 10,
		LoginIPBurst:  10,
		BackoffBase:   time.Second,
		BackoffMax:    15 * time.Minute,
		BackoffForget: time.Hour,
		BudgetEvery:   10 * time.Minute,
		BudgetBurst:   30,
		SaltIPEvery:   time.Minute / 30,
		SaltIPBurst:   30,
		TokenIPEvery:  time.Minute / 5,
		TokenIPBurst:  10,
		MailEvery:     5 * time.Minute,
		SessionEvery:  time.Minute / 1200,
		SessionBurst:  300,
	}
}

// throttles holds every operator-side throttle table of an instance.
type throttles struct {
	now func() time.Time

	loginIP      *rateTable    // client IP
	loginBackoff *backoffTable // login identity + client IP
	loginBudget  *budgetTable  // login identity
	saltIP       *rateTable    // client IP
	tokenIP      *rateTable    // client IP, shared by setup, forgot, reset, join
	identity     *backoffTable // e-mail index, token hash, "setup"
	resetMail    *rateTable    // e-mail index
	session      *rateTable    // session token hash
}

func newThrottles(now func() time.Time, l ThrottleLimits) *throttles {
	if now == nil {
		now = time.Now
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = maxThrottleKeys
	}
	return &throttles{
		now:          now,
		loginIP:      newRateTable(l.LoginIPEvery, l.LoginIPBurst, l.MaxKeys),
		loginBackoff: newBackoffTable(l.BackoffBase, l.BackoffMax, l.BackoffForget, l.MaxKeys),
		loginBudget:  newBudgetTable(l.BudgetEvery, l.BudgetBurst, l.MaxKeys),
		saltIP:       newRateTable(l.SaltIPEvery, l.SaltIPBurst, l.MaxKeys),
		tokenIP:      newRateTable(l.TokenIPEvery, l.TokenIPBurst, l.MaxKeys),
		identity:     newBackoffTable(l.BackoffBase, l.BackoffMax, l.BackoffForget, l.MaxKeys),
		resetMail:    newRateTable(l.MailEvery, 1, l.MaxKeys),
		session:      newRateTable(l.SessionEvery, l.SessionBurst, l.MaxKeys),
	}
}

// loginAttempt is an admitted login or re-authentication attempt; Done or
// Cancel ends it, whichever comes first.
type loginAttempt struct {
	t         *throttles
	budgetKey string
	pair      string
	reserved  bool
	// trusted: the browser holds a device token for the login.
	trusted bool
	done    bool
}

// beginLogin admits a login attempt (or re-authentication) from ip for
// identity (the e-mail index, also for unknown addresses). device is the
// browser's device token when it holds a valid one for identity, else "".
// It checks, in order, the per-IP bucket (which every attempt drains), the
// backoff, and the failure budget; a refusal is a *throttledError.
//
// Without a device token the backoff is per identity and IP and the budget
// per identity; with one, both are the token's own (keys/PROTOCOL.md §14),
// so that strangers draining the identity's budget do not lock out the
// browsers its owner signed in with, and guesses made with a stolen token
// are bounded as tightly as those made without.
func (t *throttles) beginLogin(ip, identity, device string) (*loginAttempt, error) {
	now := t.now()
	if wait, ok := t.loginIP.Allow(now, ip); !ok {
		return nil, throttled(wait)
	}
	a := &loginAttempt{t: t, budgetKey: identity, pair: identity + "\x00" + ip}
	if device != "" {
		a.trusted = true
		a.budgetKey = "device\x00" + device
		a.pair = a.budgetKey
	}
	wait, reserved, ok := t.loginBackoff.Reserve(now, a.pair)
	if !ok {
		return nil, throttled(wait)
	}
	a.reserved = reserved
	if wait, ok := t.loginBudget.Begin(now, a.budgetKey); !ok {
		if reserved {
			t.loginBackoff.Settle(now, a.pair, attemptUnchecked)
		}
		return nil, throttled(wait)
	}
	return a, nil
}

// Done records that the key was checked: success clears the backoff and
// costs no budget, failure extends the backoff and takes a token.
func (a *loginAttempt) Done(success bool) {
	o := attemptFailed
	if success {
		o = attemptSucceeded
	}
	a.settle(o)
}

// Cancel ends an attempt whose key was never checked (the store failed or
// the argon2 pool refused): it costs neither backoff nor budget, as no
// guess was made.
func (a *loginAttempt) Cancel() { a.settle(attemptUnchecked) }

func (a *loginAttempt) settle(o outcome) {
	if a == nil || a.done {
		return
	}
	a.done = true
	now := a.t.now()
	a.t.loginBudget.End(now, a.budgetKey, o == attemptFailed)
	if a.reserved {
		a.t.loginBackoff.Settle(now, a.pair, o)
	} else if o == attemptFailed {
		a.t.loginBackoff.Fail(now, a.pair)
	} else if o == attemptSucceeded {
		a.t.loginBackoff.Clear(a.pair)
	}
}

// checkIdentity refuses a request for identity (a token hash, an e-mail
// index, "setup") while its backoff runs.
func (t *throttles) checkIdentity(identity string) error {
	if wait := t.identity.Wait(t.now(), identity); wait > 0 {
		return throttled(wait)
	}
	return nil
}

// failIdentity records a failed request for identity; clearIdentity a success.
func (t *throttles) failIdentity(identity string)  { t.identity.Fail(t.now(), identity) }
func (t *throttles) clearIdentity(identity string) { t.identity.Clear(identity) }

// allowResetMail reports whether another reset mail may go to the address
// with this e-mail index now (one per MailEvery).
func (t *throttles) allowResetMail(emailIndex string) bool {
	_, ok := t.resetMail.Allow(t.now(), emailIndex)
	return ok
}

// limitByIP is middleware taking a token per request from table, keyed by
// the client address that ipOf returns (clientIP in production).
func limitByIP(tbl *rateTable, now func() time.Time, ipOf func(*http.Request) netip.Addr) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if wait, ok := tbl.Allow(now(), ipKey(ipOf(r))); !ok {
				respondError(w, r, throttled(wait))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ipKey is the throttle key of a client address: IPv4 addresses as they are,
// IPv6 addresses by their /64 prefix, which one subscriber usually holds
// whole (a per-address key would give them 2^64 buckets).
func ipKey(a netip.Addr) string {
	a = a.Unmap()
	if !a.IsValid() {
		return "invalid"
	}
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
