// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

// Package integration drives the real offen binary as a black box: over
// HTTP and in headless Chromium (STYLE.md principle 12). Of this module it
// imports only test helpers (keys, mailer/smtptest, persistence/proxytest),
// never the server. Run it with
//
//	make test-integration        # builds the front-ends first
//	go test -tags integration ./integration/
//
// The front-ends must be built (script/dist, auditorium/dist), since the
// binary embeds them; without a build, or without Chromium, the tests skip
// with a one-line reason, and fail instead under CI=true.
//
// Harness (harness_test.go), for every test of this package:
//
//   - TestMain builds ./cmd/offen once into a temporary directory (or uses
//     the binary named by OFFEN_BIN, e.g. bin/offen of make build).
//   - StartOffen(t, Options) runs `offen setup` on a fresh SQLite file in
//     t.TempDir() (unless Options.NoSetup), starts `offen serve` on a free
//     127.0.0.1 port with public URL http://localhost:<port>, waits for
//     /healthz and stops exactly that process in t.Cleanup (SIGTERM, then
//     SIGKILL after a deadline). The *Offen gives URL, AccountID, DBPath,
//     the captured Stdout/Stderr, Run for further subcommands, and
//     DatabaseBytes/Count for checks of what is stored.
//   - StartSite(t, handler) serves the operator's website on
//     http://127.0.0.1:<other port>, so script and vault run cross-origin.
//   - NewBrowser(t) starts Debian's Chromium (/usr/bin/chromium or
//     $CHROMIUM; headless, no sandbox, fresh --user-data-dir) through
//     chromedp and returns a *Browser with Navigate, Eval, VaultEval (in the
//     vault iframe), ClickInVault (a real mouse click on an element of the
//     vault), Cookies and Until (poll a condition, no fixed sleeps).
//
// Journeys (journeys_test.go): TestJourneys runs every product journey on
// every database of Databases (databases_test.go: SQLite, and PostgreSQL and
// MariaDB when TEST_POSTGRES_DSN / TEST_MYSQL_DSN are set, each instance on a
// fresh database of its own), as TestJourneys/<dialect>/<journey>, in
// parallel. Options.Database and Options.Mail (an SMTP server in the test,
// mail_test.go) configure the instance; startHostSite (site_test.go) is an
// operator's site on another localhost port (another origin, same site);
// browser_test.go adds form steps, DOM waits, isolated worlds in same-site
// frames, axe-core (Axe, from integration/node_modules) and downloads.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// offenBin is the binary under test, set by TestMain.
var offenBin string

// buildErr is why no binary could be built; tests fail with it.
var buildErr error

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "offen-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	offenBin, buildErr = buildOffen(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildOffen returns OFFEN_BIN when set, else builds ./cmd/offen into dir.
func buildOffen(dir string) (string, error) {
	if bin := os.Getenv("OFFEN_BIN"); bin != "" {
		return filepath.Abs(bin)
	}
	bin := filepath.Join(dir, "offen")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/offen")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/offen: %v\n%s", err, out)
	}
	return bin, nil
}
