// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
)

// journey is one path through the product, run on every database.
type journey struct {
	name string
	run  func(t *testing.T, d Database)
}

// journeys lists every journey; each starts its own instance and browser,
// so they run in parallel (bounded by go test -parallel).
var journeys = []journey{
	{"setup in the browser", journeySetupInBrowser},
	{"login and logout", journeyLoginLogout},
	{"console sections", journeyConsoleSections},
	{"wrong password", journeyWrongPassword},
	{"host page allow", journeyHostAllow},
	{"host page deny", journeyHostDeny},
	{"page view during a database outage", journeyOutagePageView},
	{"dashboard numbers", journeyDashboardNumbers},
	{"segments and purge", journeySegments},
	{"dashboard view in the address", journeyDashboardView},
	{"events goals funnels devices", journeyEvents},
	{"visitor view export delete opt-out", journeyVisitorView},
	{"invite and join", journeyInviteJoin},
	{"forgot and reset with recovery code", journeyForgotReset},
	{"change password", journeyChangePassword},
	{"retire account", journeyRetireAccount},
	{"privacy scan", journeyPrivacyScan},
	{"accessibility of every page", journeyAccessibility},
}

// TestJourneys runs every journey on every database: one line per journey
// per database in the test log (TestJourneys/<dialect>/<journey>).
func TestJourneys(t *testing.T) {
	requireFrontends(t)
	requireChromium(t)
	for _, d := range Databases(t) {
		t.Run(d.Dialect, func(t *testing.T) {
			t.Parallel()
			for _, j := range journeys {
				t.Run(j.name, func(t *testing.T) {
					t.Parallel()
					j.run(t, d)
				})
			}
		})
	}
}

// marker returns a unique lowercase token for privacy checks.
func marker(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// testPassword passes the client-side password policy.
const testPassword = "correct horse battery staple 42"

// withOperator starts an instance on d whose database has one operator
// with one account, made by `offen setup`, and an SMTP server.
func withOperator(t *testing.T, d Database) *Offen {
	t.Helper()
	return StartOffen(t, Options{
		Database: d, Mail: true,
		Email: marker("ops") + "@example.org", Password: testPassword, AccountName: "Our website",
	})
}
