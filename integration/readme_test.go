// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMELocalSteps runs the README's local trial (between the
// local-trial markers) as a reader would, line by line in a shell in an
// empty folder, then plays the visitor and the operator in Chromium with its
// default cookie settings. What the test does beyond the text, and why:
//
//   - `make build` is not run: TestMain built the binary from the same
//     source, and bin/offen links to it.
//   - The ports 3000 and 8800 become free ports (OFFEN_SERVER_PORT, and
//     8800 replaced in the lines), as other tests may hold them.
//   - `<account id>` becomes the id setup printed, as the README asks.
//   - setup reads the password from standard input, as when it is typed.
//   - The two servers run in the background; the second terminal is the
//     same folder.
//
// First a page on 127.0.0.1 shows that the wrong host name is explained to
// the visitor; then the page on localhost records one page view, which the
// operator reads through the API after logging in at the printed URL.
func TestREADMELocalSteps(t *testing.T) {
	requireFrontends(t)
	requireChromium(t)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		skipOrFail(t, "python3 not installed (the README's test page uses it)")
	}
	lines := readmeLines(t)

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(offenBin, filepath.Join(dir, "bin", "offen")); err != nil {
		t.Fatal(err)
	}
	offenPort, pagePort := FreePort(t), FreePort(t)
	// The reader's environment has no OFFEN_* settings of the test run.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OFFEN_") {
			env = append(env, kv)
		}
	}
	env = append(env, "OFFEN_SERVER_PORT="+strconv.Itoa(offenPort))
	const email, password = "you@example.org", "correct horse battery staple 42"
	var accountID string
	offenURL := "http://localhost:" + strconv.Itoa(offenPort)

	for _, line := range lines {
		line = strings.ReplaceAll(line, "8800", strconv.Itoa(pagePort))
		switch {
		case line == "make build":
			continue
		case strings.Contains(line, "<account id>"):
			if accountID == "" {
				t.Fatalf("no account id printed before %q", line)
			}
			line = strings.ReplaceAll(strings.ReplaceAll(line, "<account id>", accountID), "http://localhost:3000", offenURL)
		}
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir, cmd.Env = dir, env
		if strings.Contains(line, " serve") || strings.Contains(line, "http.server") {
			// exec: the shell becomes the server, so its pid is the one to stop.
			cmd = exec.Command("bash", "-c", "exec "+line)
			cmd.Dir, cmd.Env = dir, env
			startBackground(t, cmd)
			continue
		}
		if strings.Contains(line, " setup ") {
			cmd.Stdin = strings.NewReader(password + "\n")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		if strings.Contains(line, " setup ") {
			tag := regexp.MustCompile(`<script async src="` + regexp.QuoteMeta(offenURL) + `/script.js" data-account-id="([0-9a-f-]{36})"></script>`).FindSubmatch(out)
			if tag == nil {
				t.Fatalf("setup printed no tag for %s:\n%s", offenURL, out)
			}
			accountID = string(tag[1])
			if want := fmt.Sprintf("open http://localhost:%d/", 8800); !strings.Contains(string(out), want) {
				t.Errorf("setup output lacks the test-page hint %q:\n%s", want, out)
			}
		}
	}
	waitHTTP(t, offenURL+"/healthz")
	pageURL := "http://localhost:" + strconv.Itoa(pagePort) + "/"
	waitHTTP(t, pageURL)

	// Served besides the app: the licenses and the icon, with their types.
	for path, want := range map[string]string{"/NOTICE.txt": "text/plain; charset=utf-8", "/favicon.ico": "image/x-icon"} {
		res, err := http.Get(offenURL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, res.StatusCode, res.Header.Get("Content-Type"), want)
		}
	}

	b := NewDefaultBrowser(t)
	vault := offenURL + "/vault/"
	// The wrong host name: the decision cannot be stored, and the notice says why.
	b.Navigate("http://127.0.0.1:" + strconv.Itoa(pagePort) + "/")
	// The vault is then another site than the page: its own target.
	inVault := func(expr, what string) {
		Until(t, what, func() (bool, error) {
			var ok bool
			err := b.VaultEval(expr, &ok)
			return ok, err
		})
	}
	inVault(`!!document.getElementById('offen-banner-allow')`, "the banner on 127.0.0.1")
	b.ClickInVault("#offen-banner-allow")
	inVault(`!!document.getElementById('offen-notice')?.textContent.includes('different sites')`, "the cross-site notice")

	b.Navigate(pageURL)
	b.UntilInFrame(vault, `!!document.getElementById('offen-banner-allow')`, "the banner on localhost")
	b.FrameEval(vault, `document.getElementById('offen-banner-allow').click(), true`, nil)
	b.UntilInFrame(vault, `fetch('/api/events', {credentials: 'include'}).then(r => r.json()).then(p => (p.events || []).length === 1)`, "the page view")

	// The operator, at the printed login URL, reads it through the API.
	b.Navigate(offenURL + "/login/")
	b.Fill("#login-email", email)
	b.Fill("#login-password", password)
	b.Submit("#login-email")
	b.UntilJS(`location.pathname !== '/login/'`, "the sign-in")
	var feed struct {
		Events []map[string]any `json:"events"`
	}
	b.FetchJSON("", "/api/accounts/"+accountID+"/events", &feed)
	if len(feed.Events) != 1 {
		t.Errorf("the operator's feed has %d events, want the one page view", len(feed.Events))
	}
}

// readmeLines returns the command lines of the shell blocks between the
// README's local-trial markers.
func readmeLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "<!-- local-trial:start")
	end := strings.Index(text, "<!-- local-trial:end -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no local-trial markers")
	}
	var lines []string
	inBlock := false
	sc := bufio.NewScanner(strings.NewReader(text[start:end]))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "```sh":
			inBlock = true
		case line == "```":
			inBlock = false
		case inBlock && strings.TrimSpace(line) != "":
			lines = append(lines, line)
		}
	}
	if len(lines) < 5 {
		t.Fatalf("got %d lines from the local trial, want its commands", len(lines))
	}
	return lines
}

// startBackground starts cmd and stops exactly its process at the end.
func startBackground(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var out Output
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s:\n%s", strings.Join(cmd.Args, " "), out.String())
		}
	})
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	Until(t, url, func() (bool, error) {
		res, err := http.Get(url)
		if err != nil {
			return false, nil
		}
		res.Body.Close()
		return res.StatusCode == 200, nil
	})
}
