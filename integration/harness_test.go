// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	_ "github.com/mattn/go-sqlite3" // read-only checks of the SQLite file

	"github.com/offen/offen/persistence/proxytest"
)

// The shared harness of the integration tests; see the package comment in
// main_test.go for an overview.

// waitTimeout bounds every wait of the harness (start, conditions).
const waitTimeout = 30 * time.Second

// skipOrFail skips the test with reason, or fails it under CI=true, where
// every prerequisite must be present.
func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: %s", reason)
	}
	t.Skip(reason)
}

// requireFrontends skips (or fails under CI) unless script/dist holds a
// build: the binary embeds it, and the visitor tests need the real script
// and vault.
func requireFrontends(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("..", "script", "dist", "manifest.json")); err != nil {
		skipOrFail(t, "script/dist holds no build: run make build (or make test-integration)")
	}
}

// Output is a process output captured in memory, safe for concurrent use.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Options configure StartOffen.
type Options struct {
	// NoSetup starts on an empty database (serve then logs a setup link).
	NoSetup bool
	// Email, Password and AccountName are those of `offen setup`
	// (defaults: ops@example.org, a fixed test password, "Test site").
	Email, Password, AccountName string
	// Env are further OFFEN_* settings.
	Env map[string]string
	// Database is the database to run on (databases_test.go); the zero
	// value is a SQLite file in the instance's directory.
	Database Database
	// Mail starts an SMTP server in the test process (mail_test.go) and
	// points the instance at it; its messages are in Offen.Mail.
	Mail bool
	// DatabaseProxy puts a TCP proxy (Offen.Proxy) between the instance
	// and a server database, for outages.
	DatabaseProxy bool
}

// Offen is one running `offen serve` with its own SQLite file.
type Offen struct {
	t *testing.T
	// URL is the public URL, http://localhost:<Port>; the server listens on
	// 127.0.0.1.
	URL  string
	Port int
	// Dir is the instance's temporary directory (env file, database, HOME).
	Dir    string
	DBPath string
	// AccountID is the account `offen setup` created ("" with NoSetup).
	AccountID string
	// Email, Password and RecoveryCode are those of the setup login.
	Email, Password, RecoveryCode string
	// Database is the database the instance runs on (DSN of its own,
	// fresh database).
	Database Database
	// Mail holds the messages sent, with Options.Mail.
	Mail *mailSink
	// Proxy is the instance's way to a server database, with
	// Options.DatabaseProxy (nil on SQLite).
	Proxy *proxytest.Proxy
	// Stdout and Stderr of `offen serve`.
	Stdout, Stderr *Output
	env            []string
	envFile        string
	cmd            *exec.Cmd
	exited         chan struct{}
	stopOnce       sync.Once
}

// StartOffen sets up and starts an instance for t and stops it in
// t.Cleanup. It fails the test when the binary could not be built or the
// server does not become healthy.
func StartOffen(t *testing.T, o Options) *Offen {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	dir := t.TempDir()
	port := FreePort(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	inst := &Offen{
		t: t, Port: port, URL: "http://localhost:" + strconv.Itoa(port),
		Dir: dir, DBPath: filepath.Join(dir, "offen.db"), envFile: filepath.Join(dir, "offen.env"),
		Stdout: &Output{}, Stderr: &Output{}, exited: make(chan struct{}),
	}
	if err := os.WriteFile(inst.envFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	inst.Database = newDatabase(t, o.Database, inst.DBPath)
	dsn := inst.Database.DSN
	if o.DatabaseProxy && inst.Database.Dialect != "sqlite3" {
		inst.Proxy, dsn = proxytest.ForDSN(t, inst.Database.Dialect, dsn)
	}
	settings := map[string]string{
		"OFFEN_DATABASE_DIALECT":          inst.Database.Dialect,
		"OFFEN_DATABASE_CONNECTIONSTRING": dsn,
		"OFFEN_SECRET":                    base64.StdEncoding.EncodeToString(secret),
		"OFFEN_SERVER_PUBLICURL":          inst.URL,
		"OFFEN_SERVER_PORT":               strconv.Itoa(port),
		"OFFEN_APP_LOGLEVEL":              "info",
	}
	for k, v := range o.Env {
		settings[k] = v
	}
	inst.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
	if o.Mail {
		inst.Mail = startMailSink(t, dir)
		settings["OFFEN_SMTP_HOST"] = "127.0.0.1"
		settings["OFFEN_SMTP_PORT"] = strconv.Itoa(inst.Mail.Port)
		settings["OFFEN_SMTP_SENDER"] = "offen@example.org"
		settings["OFFEN_SMTP_AUTHTYPE"] = "NONE"
		// The SMTP server's self-signed certificate is the only trusted root.
		inst.env = append(inst.env, "SSL_CERT_FILE="+inst.Mail.certFile)
	}
	for k, v := range settings {
		inst.env = append(inst.env, k+"="+v)
	}

	if !o.NoSetup {
		email, password, name := o.Email, o.Password, o.AccountName
		if email == "" {
			email = "ops@example.org"
		}
		if password == "" {
			password = "correct horse battery staple 42"
		}
		if name == "" {
			name = "Test site"
		}
		out, errOut, err := inst.Run(password+"\n", "setup", "--email", email, "--name", name)
		if err != nil {
			t.Fatalf("offen setup: %v\n%s\n%s", err, out, errOut)
		}
		m := regexp.MustCompile(`Account id: ([0-9a-f-]{36})`).FindStringSubmatch(out)
		code := regexp.MustCompile(`(?m)^  ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){7})$`).FindStringSubmatch(out)
		if m == nil || code == nil {
			t.Fatalf("offen setup printed no account id or recovery code:\n%s", out)
		}
		inst.AccountID, inst.RecoveryCode = m[1], code[1]
		inst.Email, inst.Password = email, password
	}

	inst.cmd = exec.Command(offenBin, "--envfile", inst.envFile, "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	inst.cmd.Dir = dir
	inst.cmd.Env = inst.env
	inst.cmd.Stdout, inst.cmd.Stderr = inst.Stdout, inst.Stderr
	if err := inst.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		inst.cmd.Wait()
		close(inst.exited)
	}()
	t.Cleanup(inst.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("offen serve on %s:\n%s", inst.Database.Dialect, inst.Log())
		}
	})
	inst.waitHealthy()
	return inst
}

// Run runs another offen subcommand with the instance's settings and
// returns its output; stdin is given to the command.
func (o *Offen) Run(stdin string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(offenBin, append([]string{"--envfile", o.envFile}, args...)...)
	cmd.Dir = o.Dir
	cmd.Env = o.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// waitHealthy polls /healthz until it answers 200.
func (o *Offen) waitHealthy() {
	o.t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(waitTimeout)
	for {
		select {
		case <-o.exited:
			o.t.Fatalf("offen serve exited early:\n%s\n%s", o.Stdout, o.Stderr)
		default:
		}
		res, err := client.Get("http://127.0.0.1:" + strconv.Itoa(o.Port) + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			o.t.Fatalf("offen serve not healthy after %s (%v):\n%s\n%s", waitTimeout, err, o.Stdout, o.Stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server: SIGTERM to its PID, SIGKILL to the same PID when it
// has not exited after 15 seconds. It is safe to call more than once.
func (o *Offen) Stop() {
	o.stopOnce.Do(func() {
		p := o.cmd.Process
		p.Signal(syscall.SIGTERM)
		select {
		case <-o.exited:
		case <-time.After(15 * time.Second):
			o.t.Errorf("offen serve (pid %d) ignored SIGTERM; killing it", p.Pid)
			p.Kill()
			<-o.exited
		}
	})
}

// Log is the server's stdout and stderr.
func (o *Offen) Log() string {
	return o.Stdout.String() + o.Stderr.String()
}

// DatabaseBytes returns the SQLite file with its -wal and -shm files.
func (o *Offen) DatabaseBytes() []byte {
	o.t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(o.DBPath + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			o.t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// Count returns the number of rows of table, read from the SQLite file
// without writing to it (or through psql / mysql on those databases).
func (o *Offen) Count(table string) int {
	o.t.Helper()
	if !regexp.MustCompile(`^[a-z_]+$`).MatchString(table) {
		o.t.Fatalf("bad table name %q", table)
	}
	if o.Database.Dialect != "sqlite3" {
		return o.Database.count(o.t, table)
	}
	db, err := sql.Open("sqlite3", "file:"+o.DBPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		o.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		o.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// StartSite serves h as the operator's website on http://127.0.0.1:<port>
// (another origin and site than the instance's http://localhost).
func StartSite(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

// Browser is one headless Chromium with a fresh profile.
type Browser struct {
	t      *testing.T
	ctx    context.Context
	frames map[target.ID]context.Context
	// downloads is the download folder (EnableDownloads).
	downloads string
	// pageLog keeps the page's console messages and uncaught exceptions,
	// printed when a step fails.
	pageLog *pageLog
}

type pageLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *pageLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 200 {
		l.lines = l.lines[1:]
	}
	l.lines = append(l.lines, time.Now().Format("15:04:05.000 ")+line)
}

func (l *pageLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// listen records console calls and exceptions of the page in b.pageLog.
func (b *Browser) listen() {
	b.pageLog = &pageLog{}
	err := chromedp.Listen(b.ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				if a.Value != nil {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			b.pageLog.add(string(ev.Type) + ": " + strings.Join(args, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.pageLog.add("exception: " + msg)
		case *page.EventFrameNavigated:
			if ev.Frame.ParentID == "" {
				b.pageLog.add("navigated: " + ev.Frame.URL)
			}
		}
	})
	if err != nil {
		b.t.Fatalf("listen to the page: %v", err)
	}
}

// NewBrowser starts Chromium ($CHROMIUM or /usr/bin/chromium) for t and
// ends it in t.Cleanup. Without Chromium the test skips (fails under
// CI=true). Third-party cookies are allowed (allowThirdPartyCookies).
func NewBrowser(t *testing.T) *Browser {
	t.Helper()
	return newBrowser(t, true)
}

// NewDefaultBrowser is NewBrowser with Chromium's own cookie settings, as a
// visitor has them: cookies of cross-site frames are blocked.
func NewDefaultBrowser(t *testing.T) *Browser {
	t.Helper()
	return newBrowser(t, false)
}

func newBrowser(t *testing.T, thirdPartyCookies bool) *Browser {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		skipOrFail(t, "chromium not installed at "+path+" (apt-get install chromium)")
	}
	profile := t.TempDir()
	if thirdPartyCookies {
		allowThirdPartyCookies(t, profile)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1280, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	// chromedp ends the browser process it started when the context ends.
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &Browser{t: t, ctx: ctx, frames: map[target.ID]context.Context{}}
	b.listen()
	return b
}

// allowThirdPartyCookies writes the profile preference "allow third-party
// cookies" into a fresh user data directory. The tests run the instance on
// http://localhost and the site on http://127.0.0.1, two sites, so the
// vault's cookies are third-party; current Chromium blocks those by default,
// and the vault then rightly sends nothing (PROTOCOL §1). Deployments should
// keep the instance same-site with the tracked site.
func allowThirdPartyCookies(t testing.TB, profile string) {
	t.Helper()
	dir := filepath.Join(profile, "Default")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	prefs := `{"profile":{"cookie_controls_mode":0,"block_third_party_cookies":false}}`
	if err := os.WriteFile(filepath.Join(dir, "Preferences"), []byte(prefs), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Navigate loads url in the tab and waits for its load event.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url)); err != nil {
		b.t.Fatalf("navigate to %s: %v", url, err)
	}
}

// Eval evaluates expr in the page (awaiting a promise) and decodes its JSON
// value into out (nil: ignored).
func (b *Browser) Eval(expr string, out any) error {
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// MustEval is Eval failing the test on errors.
func (b *Browser) MustEval(expr string, out any) {
	b.t.Helper()
	if err := b.Eval(expr, out); err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
}

// vault returns a chromedp context attached to the vault iframe's target
// (an out-of-process frame: the vault is another site than the page).
func (b *Browser) vault() (context.Context, error) {
	targets, err := chromedp.Targets(b.ctx)
	if err != nil {
		return nil, err
	}
	for _, ti := range targets {
		if ti.Type != "iframe" || !strings.Contains(ti.URL, "/vault/") {
			continue
		}
		if ctx, ok := b.frames[ti.TargetID]; ok {
			return ctx, nil
		}
		ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(ti.TargetID))
		b.t.Cleanup(cancel)
		b.frames[ti.TargetID] = ctx
		return ctx, nil
	}
	return nil, errors.New("no vault frame")
}

// VaultEval evaluates expr in the vault iframe (awaiting a promise) and
// decodes the JSON result into out. It fails while no vault frame exists.
func (b *Browser) VaultEval(expr string, out any) error {
	ctx, err := b.vault()
	if err != nil {
		return err
	}
	yes := true
	res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{
		Expression: expr, ReturnByValue: &yes, AwaitPromise: &yes,
	})
	if err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		return fmt.Errorf("vault: %s", res.ExceptionDetails.Text)
	}
	if out == nil || res.Result == nil {
		return nil
	}
	return json.Unmarshal([]byte(res.Result.Value), out)
}

// ClickInVault clicks the centre of the vault element matching selector
// with real mouse events, as a visitor would. The events go to the vault's
// own target in frame coordinates: Chromium does not route synthetic input
// given to the page into an out-of-process frame.
func (b *Browser) ClickInVault(selector string) {
	b.t.Helper()
	type rect struct{ X, Y, Width, Height float64 }
	var el, last rect
	sel, _ := json.Marshal(selector)
	// The host page sizes the frame after the banner appears: a click is aimed once the
	// element lies inside the frame's viewport and stays put for 100 ms, else it may land
	// outside a frame still growing.
	Until(b.t, selector+" visible and still in the vault", func() (bool, error) {
		var r struct {
			rect
			Inside bool
		}
		if err := b.VaultEval(`(() => { const r = document.querySelector(`+string(sel)+`).getBoundingClientRect();
			return {x: r.x, y: r.y, width: r.width, height: r.height,
				inside: r.width > 0 && r.height > 0 && r.x >= 0 && r.y >= 0 && r.right <= innerWidth && r.bottom <= innerHeight} })()`, &r); err != nil {
			return false, err
		}
		still := r.Inside && r.rect == last
		last, el = r.rect, r.rect
		if !still {
			time.Sleep(50 * time.Millisecond)
		}
		return still, fmt.Errorf("at %+v, inside the viewport: %v", r.rect, r.Inside)
	})
	ctx, err := b.vault()
	if err != nil {
		b.t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(el.X+el.Width/2, el.Y+el.Height/2)); err != nil {
		b.t.Fatalf("click %s: %v", selector, err)
	}
}

// Cookies returns the browser's cookies for url, HttpOnly ones included.
func (b *Browser) Cookies(url string) []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		b.t.Fatal(err)
	}
	return res.Cookies
}

// Until polls cond every 50 ms until it returns true, failing the test
// after waitTimeout with what and the last error.
func Until(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", waitTimeout, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
