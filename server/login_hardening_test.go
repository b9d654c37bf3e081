// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/server"
)

// Login hardening (issue 12, keys/PROTOCOL.md §14): bounded argon2 work, a
// backoff that parallel attempts cannot pass, and a failure budget that
// strangers cannot use to lock the owner out.

// TestParallelWrongPasswords sends 10 wrong keys for one login from one
// address at the same moment: the backoff counts each attempt when it
// starts, so exactly one key is checked (401) and the others wait (429).
func TestParallelWrongPasswords(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const n = 10
	start := make(chan struct{})
	statuses := make(chan reply, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			statuses <- w.do(call{method: "POST", path: "/api/login", ip: "203.0.113.5",
				body: map[string]any{"email": w.admin.email, "authKey": b64(keys.NewKey())}})
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for r := range statuses {
		counts[r.status]++
		if r.status == http.StatusTooManyRequests {
			if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("429 with Retry-After %q, want whole seconds", r.header.Get("Retry-After"))
			}
		}
	}
	t.Logf("%d parallel wrong keys from one address: %v", n, counts)
	if counts[http.StatusUnauthorized] > 1 {
		t.Errorf("got %d keys checked (401), want at most 1", counts[http.StatusUnauthorized])
	}
	if counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != n {
		t.Errorf("got statuses %v, want only 401 and 429", counts)
	}
	// Once the address's bucket has a token again (6 s) and the one
	// failure's backoff (1 s) has passed, the right key signs in.
	w.clock.Advance(6 * time.Second)
	w.login(t, w.admin, "203.0.113.5").must(t, http.StatusOK)
}

// TestLoginFloodMemoryBounded sends 200 logins at once over 50 client
// addresses (behind a trusted proxy, so each has its own throttles), half
// for an existing login and half for unknown addresses, to a real server on
// 127.0.0.1, with real argon2id: the process's resident memory grows by less
// than 200 MB, where unbounded it held 19 MiB per login in flight. It does
// not run in parallel with other tests, so the memory it sees is its own.
func TestLoginFloodMemoryBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("resident memory under -race is the race detector's; make test-go runs this test without -race")
	}
	baseline, ok := residentBytes()
	if !ok {
		t.Skip("no /proc/self/status on this system")
	}
	in := newInstance(t, nil)
	owner := newOperator("owner@example.org")
	if _, r := in.setup(t, owner, ""); r.status != http.StatusCreated {
		t.Fatalf("setup: got %d %s", r.status, r.body)
	}
	srv := httptest.NewServer(server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{
		PublicURL:      publicURL,
		InstanceSecret: in.secret,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Locale:         "en",
		Retention:      186 * 24 * time.Hour,
	}, in.store, nil, nil, nil, nil))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}, Timeout: time.Minute}

	runtime.GC()
	debug.FreeOSMemory()
	baseline, _ = residentBytes()
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if rss, ok := residentBytes(); ok && rss > peak {
				peak = rss
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	const logins, addresses = 200, 50
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		wg     sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range logins {
		wg.Go(func() {
			email := owner.email
			if i%2 == 1 {
				email = fmt.Sprintf("nobody-%d@example.org", i)
			}
			body, _ := json.Marshal(map[string]any{"email": email, "authKey": b64(keys.NewKey())})
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/login", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", publicURL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.12.0.%d", i%addresses+1))
			<-start
			status := 0
			if res, err := client.Do(req); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				status = res.StatusCode
			}
			mu.Lock()
			counts[status]++
			mu.Unlock()
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)
	close(stop)
	<-sampled

	growth := int64(peak) - int64(baseline)
	t.Logf("%d logins over %d addresses, %d argon2 workers: answers %v in %v; RSS %d MB before, peak %d MB (growth %d MB)",
		logins, addresses, server.DefaultArgonWorkers(), counts, elapsed.Round(time.Millisecond), baseline>>20, peak>>20, growth>>20)
	if growth >= 200<<20 {
		t.Errorf("got resident memory growth of %d MB, want under 200 MB", growth>>20)
	}
	for status, n := range counts {
		if status != http.StatusUnauthorized && status != http.StatusTooManyRequests {
			t.Errorf("got %d answers with status %d, want only 401 and 429", n, status)
		}
	}
	if counts[http.StatusUnauthorized] == 0 {
		t.Error("no login was checked at all")
	}
}

// residentBytes reads the process's resident set size (VmRSS).
func residentBytes() (uint64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// TestOwnerSignsInDuringDayOfAttack replays, on the simulated clock, a day
// in which strangers guess the owner's password every 30 seconds, each
// guess from a fresh address, so the login's shared failure budget stays
// empty. The owner signs in every hour from the browsers that hold a device
// cookie, from home and from ever new addresses, and every one of those
// logins succeeds; a browser without the cookie is refused nearly all day,
// which is the lockout the cookie avoids. The strangers' guesses stay within
// the day's bound of 174 per login.
func TestOwnerSignsInDuringDayOfAttack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	owner := w.admin
	first := w.login(t, owner, "198.51.100.5").must(t, http.StatusOK)
	laptop := first.device
	if laptop == "" {
		t.Fatal("login set no device cookie")
	}
	phone := w.login(t, owner, "198.51.100.6").must(t, http.StatusOK).device
	if phone == laptop {
		t.Fatal("two browsers got the same device cookie")
	}

	login := func(ip, device string, key []byte) reply {
		return w.do(call{method: "POST", path: "/api/login", ip: ip, device: device,
			body: map[string]any{"email": owner.email, "authKey": b64(key)}})
	}
	guesses, refused, cookieless, cookielessRefused := 0, 0, 0, 0
	const steps = 24 * 60 * 2 // a guess every 30 s
	for step := range steps {
		r := login(fmt.Sprintf("10.%d.%d.%d", step>>16, (step>>8)&0xff, step&0xff), "", keys.NewKey())
		switch r.status {
		case http.StatusUnauthorized:
			guesses++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("step %d: stranger's guess got %d %s", step, r.status, r.body)
		}
		// The owner comes once an hour, 10 s after a guess.
		w.clock.Advance(10 * time.Second)
		if step%120 == 119 {
			hour := step / 120
			if r := login("198.51.100.5", laptop, owner.authKey); r.status != http.StatusOK {
				t.Errorf("hour %d: owner from home with the laptop: got %d %s; log: %s", hour, r.status, r.body, w.logOf(r))
			} else if r.device != laptop {
				t.Errorf("hour %d: the laptop's device cookie was replaced", hour)
			}
			if r := login(fmt.Sprintf("203.0.113.%d", hour+1), phone, owner.authKey); r.status != http.StatusOK {
				t.Errorf("hour %d: owner travelling with the phone: got %d %s; log: %s", hour, r.status, r.body, w.logOf(r))
			}
			cookieless++
			if login("198.51.100.7", "", owner.authKey).status == http.StatusTooManyRequests {
				cookielessRefused++
			}
		}
		w.clock.Advance(20 * time.Second)
	}
	t.Logf("a day of guesses every 30 s from fresh addresses: %d checked, %d refused; owner without a device cookie refused %d of %d times",
		guesses, refused, cookielessRefused, cookieless)
	if guesses > 174 {
		t.Errorf("got %d guesses checked in a day, want at most 174", guesses)
	}
	if guesses < 170 {
		t.Errorf("got %d guesses checked, want the budget's full 174 (the attack is not sustained)", guesses)
	}
	if cookielessRefused < 20 {
		t.Errorf("a browser without a device cookie was refused %d of %d times, want nearly always (the attack does not drain the budget)", cookielessRefused, cookieless)
	}
}

// TestDeviceCookie: a successful login sets the device cookie (HttpOnly,
// SameSite=Strict, on /api, for 400 days) and renews it unchanged; a
// cookie issued for another login, or a forged one, is worth nothing: that
// browser draws on the login's shared budget like any other.
func TestDeviceCookie(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.do(call{method: "POST", path: "/api/login", ip: "198.51.100.5",
		body: map[string]any{"email": w.admin.email, "authKey": b64(w.admin.authKey)}}).must(t, http.StatusOK)
	var device *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "device" {
			device = c
		}
	}
	if device == nil {
		t.Fatal("no device cookie set")
	}
	if !device.HttpOnly || !device.Secure || device.SameSite != http.SameSiteStrictMode || device.Path != "/api" || device.MaxAge != 400*24*3600 {
		t.Errorf("got device cookie %s, want HttpOnly; Secure; SameSite=Strict; Path=/api; Max-Age=34560000", device)
	}
	viewerDevice := w.login(t, w.viewer, "198.51.100.9").must(t, http.StatusOK).device

	// Strangers drain the admin's shared budget.
	for i := range 30 {
		w.do(call{method: "POST", path: "/api/login", ip: fmt.Sprintf("10.20.0.%d", i+1),
			body: map[string]any{"email": w.admin.email, "authKey": b64(keys.NewKey())}}).must(t, http.StatusUnauthorized)
	}
	forged := b64(keys.NewKey())
	for name, cookie := range map[string]string{"no cookie": "", "another login's cookie": viewerDevice, "a forged cookie": forged} {
		r := w.do(call{method: "POST", path: "/api/login", ip: "198.51.100.5", device: cookie,
			body: map[string]any{"email": w.admin.email, "authKey": b64(w.admin.authKey)}})
		if r.status != http.StatusTooManyRequests {
			t.Errorf("%s: got %d, want 429 (the shared budget is empty)", name, r.status)
		}
	}
	again := w.do(call{method: "POST", path: "/api/login", ip: "198.51.100.5", device: device.Value,
		body: map[string]any{"email": w.admin.email, "authKey": b64(w.admin.authKey)}}).must(t, http.StatusOK)
	if again.device != device.Value {
		t.Errorf("got the device cookie replaced by %q, want it renewed as %q", again.device, device.Value)
	}
	// Re-authentication from that browser draws on its own budget too.
	w.do(call{method: "POST", path: "/api/recovery-code", cookie: again.cookie, device: device.Value, ip: "198.51.100.5",
		body: map[string]any{"currentAuthKey": b64(w.admin.authKey), "recoveryWrappedLoginKey": mustWrap(t, w.admin), "recoveryProof": b64(keys.NewKey())}}).
		must(t, http.StatusNoContent)
}
