// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offen/offen/locales"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/proxytest"
	"github.com/offen/offen/persistence/relational"
	"github.com/offen/offen/server"
)

// Outages: the real router on a real store whose database goes away. On
// PostgreSQL and MySQL a TCP proxy in front of the database server cuts
// the connections (lost) or forwards nothing (silent). SQLite has no
// connection to lose; its outage is another process holding the write
// lock (a backup, `offen migrate`, a stuck writer): writers wait in the
// busy handler while readers go on reading (WAL), the silent case.

// outageTimeout is the servers' RequestTimeout here: short, so that the
// silent database tests wait briefly; their own limit (waitAnswer) is far
// above it and T, so they fail when a deadline is missing, whatever the
// load.
const outageTimeout = time.Second

type outageEnv struct {
	*visitorEnv
	proxy *proxytest.Proxy // nil on SQLite
	// lock holds SQLite's write lock while set.
	lock *sql.Conn
}

func newOutageEnv(t *testing.T, d persistencetest.Dialect) *outageEnv {
	t.Helper()
	db := persistencetest.NewDatabase(t, d)
	direct := persistencetest.OpenStore(t, db)
	if err := direct.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := &outageEnv{}
	dsn := db.DSN
	if d.Name != relational.DialectSQLite {
		e.proxy, dsn = proxytest.ForDSN(t, d.Name, db.DSN)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	store := persistencetest.OpenStore(t, persistencetest.Dialect{Name: d.Name, DSN: dsn}, persistencetest.WithLogger(logger))
	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	e.visitorEnv = &visitorEnv{t: t, store: store, logs: logs, dbPath: db.DSN, clock: &testClock{now: time.Now()}}
	e.h = server.New(logger, server.Options{
		PublicURL:      "https://offen.example.org",
		Locale:         "en",
		Now:            e.clock.Now,
		RequestTimeout: outageTimeout,
	}, store, nil, loc, nil, testBundle())
	return e
}

// silence makes the database stop answering: frozen proxy, or SQLite's
// write lock taken by another connection.
func (e *outageEnv) silence() {
	e.t.Helper()
	if e.proxy != nil {
		e.proxy.Freeze()
		return
	}
	db, err := sql.Open("sqlite3", e.dbPath+"?_busy_timeout=0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := conn.ExecContext(e.t.Context(), "BEGIN IMMEDIATE"); err != nil {
		e.t.Fatal(err)
	}
	e.lock = conn
}

func (e *outageEnv) restore() {
	e.t.Helper()
	if e.proxy != nil {
		e.proxy.Restore()
		return
	}
	if _, err := e.lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		e.t.Fatal(err)
	}
	e.lock.Close()
	e.lock = nil
}

// errorLines counts the log's error lines about 503s.
func (e *outageEnv) errorLines() int {
	n := 0
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, "level=ERROR") && strings.Contains(l, "status=503") {
			n++
		}
	}
	return n
}

// mustUnavailable checks the 503 of an outage: JSON error and Retry-After.
func mustUnavailable(t *testing.T, r vreply) {
	t.Helper()
	var body struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != http.StatusServiceUnavailable || body.Status != http.StatusServiceUnavailable {
		t.Fatalf("got %d %s, want the JSON 503", r.status, r.body)
	}
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("503 without Retry-After (got %q)", ra)
	}
}

// waitAnswer runs fn and fails the test when it does not return within a
// limit far above the request deadline: without the deadline, a request to
// a silent database waits as long as the database stays silent.
func waitAnswer[T any](t *testing.T, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(30 * outageTimeout):
		t.Fatalf("no answer %v after the request deadline of %v", 30*outageTimeout, outageTimeout)
		panic("unreachable")
	}
}

// TestDatabaseLost: connections dropped during ingest give 503 with
// Retry-After, never 500; the outage is one error line; once the database
// is back the same visitors' events are stored; a later outage is a new
// error line.
func TestDatabaseLost(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		if d.Name == relational.DialectSQLite {
			t.Skip("SQLite has no connection to lose; see TestDatabaseSilent")
		}
		e := newOutageEnv(t, d)
		a := e.account("site", "https://site.example")
		const clients = 8
		visitors := make([]*visitor, clients)
		keyIDs := make([]string, clients)
		for i := range visitors {
			visitors[i] = newVisitor(t, e.h)
			var r vreply
			keyIDs[i], r = visitors[i].exchange(a)
			r.must(t, http.StatusCreated)
		}

		// Every client sends until it has seen a 503; the cut comes once
		// all of them have had an event stored, so it lands mid-ingest.
		var (
			mu       sync.Mutex
			statuses = map[int]int{}
			bodies   []vreply
			wg       sync.WaitGroup
			stored   sync.WaitGroup
		)
		stored.Add(clients)
		for i, v := range visitors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first := true
				for n := 0; n < 2000; n++ {
					r := v.send(a.ID, keyIDs[i], fmt.Sprintf("https://site.example/%d", n))
					mu.Lock()
					statuses[r.status]++
					if r.status != http.StatusCreated {
						bodies = append(bodies, r)
					}
					mu.Unlock()
					if first && r.status == http.StatusCreated {
						first = false
						stored.Done()
					}
					if r.status != http.StatusCreated {
						return
					}
				}
			}()
		}
		stored.Wait()
		e.proxy.Cut()
		wg.Wait()
		for status, n := range statuses {
			if status != http.StatusCreated && status != http.StatusServiceUnavailable {
				t.Errorf("%d × %d during the cut", n, status)
			}
		}
		if statuses[http.StatusServiceUnavailable] == 0 {
			t.Fatalf("no 503 after the cut: %v", statuses)
		}
		t.Logf("%s: statuses of %d clients sending through the cut: %v", d.Name, clients, statuses)
		for _, r := range bodies {
			mustUnavailable(t, r)
		}
		// A page load during the outage: further 503s, and the vault page
		// from the account read before.
		mustUnavailable(t, visitors[0].send(a.ID, keyIDs[0], "https://site.example/during"))
		vault := visitors[0].do("GET", "/vault/?accountId="+a.ID, nil)
		vault.must(t, http.StatusOK)
		if csp := vault.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://site.example") {
			t.Errorf("vault during the outage: CSP %q lacks the account's allowed origin", csp)
		}
		if n := e.errorLines(); n != 1 {
			t.Errorf("got %d error lines for one outage of %d 503s, want 1:\n%s", n, statuses[http.StatusServiceUnavailable]+1, e.logs)
		}

		e.proxy.Restore()
		for i, v := range visitors {
			var r vreply
			// The pool finds out about each broken connection on its use.
			for try := 0; try < 50; try++ {
				if r = v.send(a.ID, keyIDs[i], "https://site.example/after"); r.status == http.StatusCreated {
					break
				}
				if r.status != http.StatusServiceUnavailable {
					t.Fatalf("after the restore: %d %s", r.status, r.body)
				}
			}
			r.must(t, http.StatusCreated)
		}

		// Quiet long enough, the next outage is a new episode.
		e.clock.Advance(time.Minute)
		e.proxy.Cut()
		mustUnavailable(t, visitors[0].send(a.ID, keyIDs[0], "https://site.example/second"))
		mustUnavailable(t, visitors[1].send(a.ID, keyIDs[1], "https://site.example/second"))
		if n := e.errorLines(); n != 2 {
			t.Errorf("got %d error lines after a second outage, want 2", n)
		}
	})
}

// TestDatabaseSilent: a database that stops answering holds no request
// for long: writes are 503 with Retry-After after the request deadline (or,
// for events a batch has taken, after the batch's own deadline T, so that
// the answer tells whether they were stored), the vault page comes from the
// account read before, and after the database answers again events are
// stored.
func TestDatabaseSilent(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		e := newOutageEnv(t, d)
		a := e.account("site", "https://site.example")
		v := newVisitor(t, e.h)
		keyID, r := v.exchange(a)
		r.must(t, http.StatusCreated)
		v.do("GET", "/vault/?accountId="+a.ID, nil).must(t, http.StatusOK)

		e.silence()
		start := time.Now()
		mustUnavailable(t, waitAnswer(t, func() vreply { return v.send(a.ID, keyID, "https://site.example/silent") }))
		t.Logf("%s: events answered 503 after %v (request deadline %v, T %v)", d.Name, time.Since(start).Round(time.Millisecond), outageTimeout, persistence.MaxCommitDelay)
		other := newVisitor(t, e.h)
		mustUnavailable(t, waitAnswer(t, func() vreply { _, r := other.exchange(a); return r }))
		vault := waitAnswer(t, func() vreply { return v.do("GET", "/vault/?accountId="+a.ID, nil) })
		vault.must(t, http.StatusOK)
		if csp := vault.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://site.example") {
			t.Errorf("vault of a silent database: CSP %q lacks the account's allowed origin", csp)
		}

		// One outage, one line: neither each 503 nor each statement that
		// waited in vain.
		if n, warn := e.errorLines(), strings.Count(e.logs.String(), "level=WARN"); n != 1 || warn != 0 {
			t.Errorf("got %d error and %d warning lines for one outage, want 1 and 0:\n%s", n, warn, e.logs)
		}

		e.restore()
		for try := 0; ; try++ {
			r := v.send(a.ID, keyID, "https://site.example/back")
			if r.status == http.StatusCreated {
				break
			}
			if r.status != http.StatusServiceUnavailable || try == 50 {
				t.Fatalf("after the database answers again: %d %s", r.status, r.body)
			}
		}
		// The 503s told the truth: of the events, only the one answered 201
		// is stored.
		var page struct {
			Events []struct{} `json:"events"`
		}
		v.do("GET", "/api/events", nil).must(t, http.StatusOK).decode(t, &page)
		if len(page.Events) != 1 {
			t.Errorf("got %d events stored, want the one acknowledged", len(page.Events))
		}
	})
}
