// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// outage takes an instance's database away until the returned function
// brings it back. On PostgreSQL and MySQL the proxy between instance and
// database server closes every connection and refuses new ones, as when
// the server stops. SQLite is a file in the instance's process, with no
// connection to lose: its outage is another process holding the write
// lock (a backup, a stuck writer), under which every write waits out the
// busy timeout and fails, while reads go on (WAL).
func outage(t *testing.T, o *Offen) (restore func()) {
	t.Helper()
	if o.Proxy != nil {
		o.Proxy.Cut()
		return o.Proxy.Restore
	}
	db, err := sql.Open("sqlite3", o.DBPath+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Error(err)
		}
		conn.Close()
		db.Close()
	}
}

// unavailable counts the 503 answers to POST route in the log.
func unavailable(o *Offen, route string) int {
	n := 0
	for _, l := range strings.Split(o.Log(), "\n") {
		if strings.Contains(l, "route="+route+" ") && strings.Contains(l, "method=POST") && strings.Contains(l, "status=503") {
			n++
		}
	}
	return n
}

// outboxCount is a promise of the number of events in the vault's outbox.
const outboxCount = `new Promise((resolve, reject) => {
	const r = indexedDB.open('offen')
	r.onerror = () => reject(r.error)
	r.onsuccess = () => {
		const q = r.result.transaction('outbox').objectStore('outbox').count()
		q.onsuccess = () => { r.result.close(); resolve(q.result) }
		q.onerror = () => reject(q.error)
	}
})`

// journeyOutagePageView: the database goes away, the visitor opens the next
// page of the host site, the vault still loads and keeps the page view in
// its outbox while the server answers 503; a first-time visitor allows,
// and their page view waits too, with the secret not yet exchanged; once
// the database is back, both page views arrive.
func journeyOutagePageView(t *testing.T, d Database) {
	o := StartOffen(t, Options{Database: d, DatabaseProxy: true, Password: testPassword})
	site := startHostSite(t, o.URL, o.AccountID)
	b := NewBrowser(t)
	b.Navigate(site.Origin + "/welcome")
	waitBanner(b, o)
	choose(b, o, "allow")
	waitVisitorEvents(b, o, 1)

	restore := outage(t, o)
	if o.Proxy != nil {
		// Past the account cache's 5 s: the vault page then comes from the
		// last account read, as any time into an outage.
		time.Sleep(6 * time.Second)
	}
	b.Click("#next")
	b.WaitPath("/next-page")
	b.UntilInFrame(vaultFrame(o), `document.readyState === 'complete' && !!document.getElementById('offen-vault-config')`,
		"the vault page, served during the outage")
	Until(t, "a 503 for the page view", func() (bool, error) { return unavailable(o, "/api/events") > 0, nil })
	// The page view waits in the outbox (read from IndexedDB, not the
	// API: the visitor's reads are throttled, 20 at once).
	b.UntilInFrame(vaultFrame(o), outboxCount+".then((n) => n === 1)", "the page view in the outbox")

	first := NewBrowser(t)
	first.Navigate(site.Origin + "/first")
	waitBanner(first, o)
	choose(first, o, "allow")
	Until(t, "a 503 for the first visitor's exchange", func() (bool, error) { return unavailable(o, "/api/exchange") > 0, nil })
	first.UntilInFrame(vaultFrame(o), outboxCount+".then((n) => n === 1)", "the first visitor's page view in the outbox")
	restore()

	b.UntilInFrame(vaultFrame(o), outboxCount+".then((n) => n === 0)", "the outbox delivered")
	events := decryptedVisitorEvents(b, o)
	if len(events) != 2 || events[1]["href"] != site.Origin+"/next-page" {
		t.Fatalf("after the outage got %v, want the page view of /next-page", events)
	}
	first.UntilInFrame(vaultFrame(o), outboxCount+".then((n) => n === 0)", "the first visitor's outbox delivered")
	events = decryptedVisitorEvents(first, o)
	if len(events) != 1 || events[0]["href"] != site.Origin+"/first" {
		t.Fatalf("the first visitor's events after the outage: %v", events)
	}
}
