// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// journeySegments: the dashboard shows the same figures whether it decrypts the raw events of
// a closed day (and seals them) or reads the day's segment (keys/PROTOCOL.md §13); after a
// visitor purges, a fresh browser counts none of their events anywhere.
func journeySegments(t *testing.T, d Database) {
	o := withOperator(t, d)
	now := time.Now()
	users := sendPlan(t, o, now)
	// The events were received just now; their ids are moved to two days ago, so that they
	// belong to a closed period (a period is the receipt day; figures use the plaintext times).
	agePeriods(t, o, now.Add(-48*time.Hour))
	period := now.Add(-48 * time.Hour).UTC().Format(time.DateOnly)

	dashboard := func(b *Browser) (expected, map[string]float64) {
		b.Navigate(o.URL + "/auditorium/?account=" + o.AccountID)
		b.WaitVisible(".dashboard[data-state=ready]")
		var load map[string]float64
		b.evalJS(`JSON.parse(document.querySelector('.dashboard').getAttribute('data-load') || '{}')`, &load)
		return dashboardShows(b), load
	}
	listed := func(b *Browser) []string {
		var list struct{ Segments []struct{ Period string } }
		b.FetchJSON("", "/api/accounts/"+o.AccountID+"/segments", &list)
		var out []string
		for _, s := range list.Segments {
			out = append(out, s.Period)
		}
		return out
	}
	first := NewBrowser(t)
	login(first, o, o.Email, o.Password)
	raw, load := dashboard(first)
	if load["sealed"] < 1 {
		t.Errorf("the first load sealed no period: %v", load)
	}
	from := time.UnixMilli(int64(weekStart(first)))
	compareDashboard(t, "raw events", raw, expect(now, from))
	// Every period the first browser sealed is uploaded, the empty days between the events'
	// period and today too: a period still uploading would be sealed again by the next browser.
	Until(t, "the sealed periods to be uploaded", func() (bool, error) {
		got := listed(first)
		return len(got) >= int(load["sealed"]) && strings.Contains(strings.Join(got, " "), period), fmt.Errorf("listed %v, sealed %v", got, load["sealed"])
	})

	second := NewBrowser(t)
	login(second, o, o.Email, o.Password)
	fromSegments, load := dashboard(second)
	if load["segments"] < 1 || load["sealed"] != 0 {
		t.Errorf("a fresh browser did not read the segment: %v", load)
	}
	compareDashboard(t, "segments", fromSegments, raw)

	// visitor 0 (four page views, two sessions) purges their data
	req, _ := http.NewRequest(http.MethodPost, o.URL+"/api/purge", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "consent", Value: "allow"})
	req.AddCookie(users[0])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("purge: got %d", res.StatusCode)
	}
	if got := listed(second); strings.Contains(strings.Join(got, " "), period) {
		t.Errorf("the segment of %s is still listed after the purge: %v", period, got)
	}
	third := NewBrowser(t)
	login(third, o, o.Email, o.Password)
	after, load := dashboard(third)
	if load["sealed"] < 1 {
		t.Errorf("the stale period was not rebuilt from the raw events: %v", load)
	}
	compareDashboard(t, "after the purge", after, expectViewOf(plan[1:], now, from, now.Add(time.Hour), viewFilters{}))
}

// agePeriods moves the ids of every event of o (ULIDs, PROTOCOL §9) to the time at: the first
// ten symbols hold the time, the other sixteen stay.
func agePeriods(t *testing.T, o *Offen, at time.Time) {
	t.Helper()
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	ms := at.UnixMilli()
	prefix := make([]byte, 10)
	for i := 9; i >= 0; i-- {
		prefix[i] = crockford[ms%32]
		ms /= 32
	}
	var stmt string
	switch o.Database.Dialect {
	case "mysql":
		stmt = fmt.Sprintf("UPDATE events SET event_id = CONCAT('%s', SUBSTRING(event_id, 11))", prefix)
	default:
		stmt = fmt.Sprintf("UPDATE events SET event_id = '%s' || substr(event_id, 11)", prefix)
	}
	if o.Database.Dialect != "sqlite3" {
		o.Database.sql(t, stmt)
		return
	}
	db, err := sql.Open("sqlite3", "file:"+o.DBPath+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}
