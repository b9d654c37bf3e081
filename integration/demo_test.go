// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoPorts returns a port p with p+1 also free (offen demo serves its intro
// page on the next port).
func demoPorts(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := FreePort(t)
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1)); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no two free ports in a row")
	return 0
}

var demoIntroLine = regexp.MustCompile(`Intro page[^:]*:\s+(http://localhost:\d+)/`)

// TestDemo: `offen demo` serves 500 generated visitors within 3 seconds of
// its start, its intro page embeds the script (allowing records a page view),
// the printed login opens a dashboard with data, and stopping it removes its
// temporary files. It is not parallel, so that it runs alone and its start
// time means something.
func TestDemo(t *testing.T) {
	requireFrontends(t)
	requireChromium(t)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	tmp := t.TempDir()
	port := demoPorts(t)
	url := "http://localhost:" + strconv.Itoa(port)
	cmd := exec.Command(offenBin, "demo", "--port", strconv.Itoa(port), "--users", "500")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "TMPDIR=" + tmp}
	cmd.Dir = tmp
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &Output{}
	cmd.Stderr = logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	printed := &Output{}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			printed.Write([]byte(sc.Text() + "\n"))
		}
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Errorf("offen demo (pid %d) ignored SIGTERM; killing it", cmd.Process.Pid)
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(stop)

	Until(t, "offen demo to serve", func() (bool, error) {
		select {
		case <-exited:
			t.Fatalf("offen demo exited:\n%s\n%s", printed, logs)
		default:
		}
		res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz")
		if err != nil {
			return false, err
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK, nil
	})
	serving := time.Since(start)
	t.Logf("offen demo serves 500 visitors %s after its start", serving.Round(time.Millisecond))
	if serving > 3*time.Second {
		t.Errorf("offen demo took %s to serve, want under 3 s", serving)
	}
	Until(t, "the printed URLs", func() (bool, error) { return demoIntroLine.MatchString(printed.String()), nil })
	out := printed.String()
	for _, want := range []string{url + "/login/", url + "/auditorium/", "demo@offen.dev", "Password: demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("offen demo does not print %q:\n%s", want, out)
		}
	}
	intro := demoIntroLine.FindStringSubmatch(out)[1]

	b := NewBrowser(t)
	b.Navigate(intro + "/")
	vault := url + "/vault/"
	b.UntilInFrame(vault, `!!document.getElementById('offen-banner-allow')`, "the consent banner on the intro page")
	b.Axe("the demo's intro page", vault)
	var accountID string
	b.evalJS(`document.querySelector('script[data-account-id]').dataset.accountId`, &accountID)
	b.FrameEval(vault, `document.getElementById('offen-banner-allow').click(), true`, nil)
	b.UntilInFrame(vault, `fetch('/api/events', {credentials: 'include'}).then(r => r.json()).then(p => (p.events || []).length === 1)`, "the intro page's page view")

	b.Navigate(url + "/login/")
	b.Fill("#login-email", "demo@offen.dev")
	b.Fill("#login-password", "demo")
	b.Submit("#login-email")
	b.WaitPath("/auditorium/")
	b.Navigate(url + "/auditorium/?account=" + accountID)
	b.WaitVisible(".dashboard[data-state=ready]")
	var views string
	b.evalJS(`document.querySelector('[data-figure=pageViews] .figure-value').textContent`, &views)
	if n, _ := strconv.Atoi(strings.ReplaceAll(views, ",", "")); n < 50 {
		t.Errorf("the demo dashboard shows %q page views for the last 7 days, want the generated history", views)
	}

	stop()
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("offen demo left files behind in its temporary folder: %v", names)
	}
}
