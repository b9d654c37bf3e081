// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"time"
)

// VisitorLimits are the visitor-side limits of PROTOCOL §7.5. Event limits
// count events (payloads), not requests.
type VisitorLimits struct {
	MaxKeys int

	ExchangeIPEvery time.Duration // POST /api/exchange, per client IP
	ExchangeIPBurst int
	EventsUserEvery time.Duration // POST /api/events, per user id
	EventsUserBurst int
	EventsIPEvery   time.Duration // POST /api/events, per client IP
	EventsIPBurst   int
	ReadsUserEvery  time.Duration // visitor feed, export and purge, per user id
	ReadsUserBurst  int
}

// DefaultVisitorLimits returns the defaults of PROTOCOL §7.5.
func DefaultVisitorLimits() VisitorLimits {
	return VisitorLimits{
		MaxKeys:         maxThrottleKeys,
		ExchangeIPEvery: time.Minute / 60,
		ExchangeIPBurst: 120,
		EventsUserEvery: time.Minute / 60,
		EventsUserBurst: 60,
		EventsIPEvery:   time.Minute / 3000,
		EventsIPBurst:   3000,
		ReadsUserEvery:  time.Minute / 60,
		ReadsUserBurst:  20,
	}
}

// visitorThrottles holds the token buckets of the visitor routes. User ids
// and addresses are only keys in memory; they are never logged or stored.
type visitorThrottles struct {
	exchangeIP *rateTable
	eventsUser *rateTable
	eventsIP   *rateTable
	readsUser  *rateTable
}

func newVisitorThrottles(l VisitorLimits) *visitorThrottles {
	if l.MaxKeys <= 0 {
		l.MaxKeys = maxThrottleKeys
	}
	return &visitorThrottles{
		exchangeIP: newRateTable(l.ExchangeIPEvery, l.ExchangeIPBurst, l.MaxKeys),
		eventsUser: newRateTable(l.EventsUserEvery, l.EventsUserBurst, l.MaxKeys),
		eventsIP:   newRateTable(l.EventsIPEvery, l.EventsIPBurst, l.MaxKeys),
		readsUser:  newRateTable(l.ReadsUserEvery, l.ReadsUserBurst, l.MaxKeys),
	}
}

// AllowN takes n tokens for key at now, all or none. When they are not
// there it returns false and how long until they are; more than the burst
// is never allowed.
func (rt *rateTable) AllowN(now time.Time, key string, n int) (time.Duration, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.maybeSweep(now, time.Minute)
	l, ok := rt.get(now, key)
	if !ok {
		return time.Minute, false
	}
	if l.AllowN(now, n) {
		return 0, true
	}
	missing := float64(n) - l.TokensAt(now)
	if n > rt.burst || missing <= 0 {
		return time.Minute, false
	}
	return time.Duration(missing / float64(rt.limit) * float64(time.Second)), false
}

// allowEvents admits n events from the request's client address and user
// id (PROTOCOL §7.5), or returns the throttling error.
func (v *visitors) allowEvents(r *http.Request, user string, n int) error {
	now := v.now()
	if wait, ok := v.throttles.eventsIP.AllowN(now, ipKey(v.ipOf(r)), n); !ok {
		return throttled(wait)
	}
	if wait, ok := v.throttles.eventsUser.AllowN(now, user, n); !ok {
		return throttled(wait)
	}
	return nil
}

// limitVisitorReads is middleware throttling the visitor's reads and purge
// per user id. Requests without a user cookie are cheap (empty answers)
// and pass.
func limitVisitorReads(v *visitors) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, user, ok := userID(r); ok {
				if wait, ok := v.throttles.readsUser.Allow(v.now(), user); !ok {
					respondError(w, r, throttled(wait))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
