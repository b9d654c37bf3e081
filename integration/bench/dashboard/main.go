// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Command dashboard is the dashboard half of `make bench` (PRODUCT.md §8): it seeds a fresh
// SQLite instance with N encrypted events from V visitors (the keys package and the store,
// exactly what browsers would have sent), starts the real offen binary on it, signs in,
// and opens /auditorium/ in headless Chromium twice: cold (an empty browser profile that
// unwraps every secret and decrypts every event) and warm (a reload: the encrypted caches
// of the dashboard). It prints the time until the dashboard marks itself
// data-state="ready", i.e. every panel of the default range has rendered.
//
//	go run ./integration/bench/dashboard -binary bin/offen -events 100000 -visitors 10000
//
// Unlike the integration tests this harness imports the project's keys and persistence
// packages: only the store can write a million events in reasonable time.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpio "github.com/chromedp/cdproto/io"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/relational"
)

const (
	email    = "bench@offen.dev"
	password = "bench-password-0123"
)

func main() {
	var (
		binary   = flag.String("binary", "bin/offen", "the offen binary to run")
		chromium = flag.String("chromium", envOr("CHROMIUM", "/usr/bin/chromium"), "Chromium executable")
		events   = flag.Int("events", 100000, "events to seed")
		visitors = flag.Int("visitors", 10000, "visitors (one secret each) to seed")
		timeout  = flag.Duration("timeout", 5*time.Minute, "limit per dashboard load")
		keep     = flag.Bool("keep", false, "keep the temporary directory")
		reuse    = flag.String("dir", "", "a directory to keep the seeded instance in and reuse on the next run with the same -events and -visitors (skips seeding)")
	)
	flag.Parse()
	if err := run(*binary, *chromium, *events, *visitors, *timeout, *keep, *reuse); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard bench:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(binary, chromium string, nEvents, nVisitors int, timeout time.Duration, keep bool, reuse string) error {
	if _, err := os.Stat(chromium); err != nil {
		return fmt.Errorf("no Chromium at %s (set CHROMIUM)", chromium)
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("no offen binary at %s (run make build)", binary)
	}
	binary, err := filepath.Abs(binary)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "offen-dashboard-bench-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	ctx := context.Background()
	secret := make([]byte, 32)
	rand.Read(secret)
	dbPath := filepath.Join(dir, "offen.db")
	seeded := time.Now()
	if reuse != "" {
		// a seeded instance kept from an earlier run: copy its database, so that this
		// run's writes (sessions, expiry) leave the original as it was
		dbPath = filepath.Join(reuse, fmt.Sprintf("offen-%d-%d.db", nEvents, nVisitors))
		secretPath := dbPath + ".secret"
		if old, err := os.ReadFile(secretPath); err == nil {
			secret, seeded = old, time.Time{}
			fmt.Printf("dashboard: reusing %s\n", dbPath)
		} else {
			os.MkdirAll(reuse, 0o755)
			os.Remove(dbPath)
		}
		if !seeded.IsZero() {
			if err := seed(ctx, dbPath, secret, nEvents, nVisitors); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			if err := os.WriteFile(secretPath, secret, 0o600); err != nil {
				return err
			}
			fmt.Printf("dashboard: seeded %d events from %d visitors in %s\n", nEvents, nVisitors, time.Since(seeded).Round(time.Millisecond))
			seeded = time.Now()
		}
		copied := filepath.Join(dir, "offen.db")
		if err := copyFile(dbPath, copied); err != nil {
			return err
		}
		dbPath = copied
	} else {
		if err := seed(ctx, dbPath, secret, nEvents, nVisitors); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Printf("dashboard: seeded %d events from %d visitors in %s\n", nEvents, nVisitors, time.Since(seeded).Round(time.Millisecond))
		seeded = time.Now()
	}

	// A sync run re-reads the writes of its last W = 60 s (PROTOCOL §6), so a warm load
	// right after seeding would download everything again. A real history is older.
	if wait := 65*time.Second - time.Since(seeded); wait > 0 && !seeded.IsZero() {
		fmt.Printf("dashboard: waiting %s for the seeded events to age past the sync window\n", wait.Round(time.Second))
		time.Sleep(wait)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	srv, err := startServer(binary, dir, dbPath, secret, port, base)
	if err != nil {
		return err
	}
	defer srv.stop()

	cookie, err := login(base)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return measure(chromium, dir, base, cookie, timeout, nEvents, srv.cmd.Process.Pid)
}

// seed creates the login and account as `offen setup` does, then one secret per visitor
// and their events, encrypted with the keys package.
func seed(ctx context.Context, dbPath string, secret []byte, nEvents, nVisitors int) error {
	store, err := relational.Open(ctx, relational.Options{Dialect: "sqlite3", DSN: dbPath, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	instance, err := keys.DeriveInstanceKeys(secret)
	if err != nil {
		return err
	}
	in, err := setupInput(instance)
	if err != nil {
		return err
	}
	account, err := store.Setup(ctx, in)
	if err != nil {
		return err
	}
	if account, err = store.FindAccount(ctx, account.ID); err != nil {
		return err
	}
	pub, err := keys.ParsePublicKey(account.PublicKey)
	if err != nil {
		return err
	}

	type visitor struct {
		secret   persistence.Secret
		payloads []string
	}
	vs := make([]visitor, nVisitors)
	now := time.Now()
	pages := []string{"/", "/pricing", "/blog", "/blog/why-offen", "/docs", "/docs/setup", "/about", "/contact", "/jobs", "/changelog", "/features", "/privacy"}
	refs := []string{"", "", "https://www.google.com/", "https://duckduckgo.com/", "https://news.ycombinator.com/", "https://mastodon.social/@offen", "https://blog.example.net/post"}
	geos := []string{"DE", "FR", "US", "GB", "ES", "PT", "VN", "NL", "BR", "CA"}
	var wg sync.WaitGroup
	errs := make(chan error, runtime.NumCPU())
	workers := runtime.NumCPU()
	for w := range workers {
		wg.Go(func() {
			for i := w; i < nVisitors; i += workers {
				userID := make([]byte, keys.UserIDSize)
				rand.Read(userID)
				secretID, err := keys.SecretID(account.UserSalt, userID)
				if err != nil {
					errs <- err
					return
				}
				userSecret := keys.NewKey()
				wrapped, err := keys.WrapUserSecret(pub, account.ID, userSecret)
				if err != nil {
					errs <- err
					return
				}
				aead, err := keys.NewCipher(userSecret)
				if err != nil {
					errs <- err
					return
				}
				n := nEvents / nVisitors
				if i < nEvents%nVisitors {
					n++
				}
				// visitors spread over 60 days, sessions of up to five pages
				first := now.Add(-time.Duration(i%60)*24*time.Hour - time.Duration(i%86400)*time.Second)
				session := hex.EncodeToString(keys.NewKey()[:16])
				payloads := make([]string, n)
				for j := range n {
					if j%5 == 0 && j > 0 {
						session = hex.EncodeToString(keys.NewKey()[:16])
						first = first.Add(26 * time.Hour)
						if first.After(now) {
							first = now.Add(-time.Duration(j) * time.Minute)
						}
					}
					t := first.Add(time.Duration(j%5) * 40 * time.Second)
					ev := map[string]any{
						"v": 1, "type": "PAGEVIEW", "href": "https://www.example.com" + pages[(i+j)%len(pages)],
						"referrer": refs[i%len(refs)], "pageload": 200 + (i*7+j*13)%900,
						"timestamp": t.UTC().Format("2006-01-02T15:04:05.000Z"), "sessionId": session,
						"geo": geos[i%len(geos)], "isMobile": i%3 == 0,
					}
					plain, _ := json.Marshal(ev)
					payloads[j] = keys.EncryptEvent(aead, account.ID, plain)
				}
				vs[i] = visitor{persistence.Secret{KeyID: keys.NewKeyID(), AccountID: account.ID, SecretID: secretID, WrappedSecret: wrapped}, payloads}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}

	var mu sync.Mutex
	var failed []error
	fail := func(err error) {
		mu.Lock()
		failed = append(failed, err)
		mu.Unlock()
	}
	next := make(chan int)
	for range workers * 4 {
		wg.Go(func() {
			for i := range next {
				if _, err := store.CreateSecret(ctx, vs[i].secret); err != nil {
					fail(err)
				}
			}
		})
	}
	for i := range vs {
		next <- i
	}
	close(next)
	wg.Wait()
	inFlight := make(chan struct{}, 512)
	for _, v := range vs {
		for j := 0; j < len(v.payloads); j += persistence.MaxEventsPerRequest {
			in := persistence.NewEvents{AccountID: account.ID, SecretID: v.secret.SecretID, KeyID: v.secret.KeyID,
				Payloads: v.payloads[j:min(j+persistence.MaxEventsPerRequest, len(v.payloads))]}
			inFlight <- struct{}{}
			wg.Go(func() {
				defer func() { <-inFlight }()
				if _, err := store.CreateEvents(ctx, in); err != nil {
					fail(err)
				}
			})
		}
	}
	wg.Wait()
	return errors.Join(failed...)
}

// setupInput is the first login and account, derived as a browser would (PROTOCOL §4 Setup).
func setupInput(instance keys.InstanceKeys) (persistence.SetupInput, error) {
	index, err := keys.EmailIndex(instance.EmailIndex, email)
	if err != nil {
		return persistence.SetupInput{}, err
	}
	loginID, accountID := keys.NewUUID(), keys.NewUUID()
	salt := keys.NewSalt()
	lk, err := keys.DeriveLoginKeys(password, salt, keys.KDFIterations)
	if err != nil {
		return persistence.SetupInput{}, err
	}
	authHash, err := keys.HashAuthKey(lk.AuthKey)
	if err != nil {
		return persistence.SetupInput{}, err
	}
	loginKey := keys.NewKey()
	wrappedLoginKey, err := keys.WrapLoginKey(lk.WrapKey, loginID, loginKey)
	if err != nil {
		return persistence.SetupInput{}, err
	}
	rk, err := keys.DeriveRecoveryKeys(keys.NewRecoveryCode())
	if err != nil {
		return persistence.SetupInput{}, err
	}
	recoveryWrapped, err := keys.RecoveryWrapLoginKey(rk.Key, loginID, loginKey)
	if err != nil {
		return persistence.SetupInput{}, err
	}
	priv, err := keys.GenerateAccountKey()
	if err != nil {
		return persistence.SetupInput{}, err
	}
	publicKey, err := keys.FormatPublicKey(priv.PublicKey())
	if err != nil {
		return persistence.SetupInput{}, err
	}
	kek := keys.NewKey()
	encryptedPrivateKey, err := keys.EncryptPrivateKey(kek, accountID, priv)
	if err != nil {
		return persistence.SetupInput{}, err
	}
	wrappedKEK, err := keys.WrapKEK(loginKey, accountID, kek)
	if err != nil {
		return persistence.SetupInput{}, err
	}
	label, err := keys.EncryptLabel(kek, accountID, email)
	if err != nil {
		return persistence.SetupInput{}, err
	}
	return persistence.SetupInput{
		Login: persistence.Login{
			ID: loginID, EmailIndex: index,
			Credentials: persistence.Credentials{
				KDF: fmt.Sprintf("%s:%d", keys.KDFName, keys.KDFIterations), KDFSalt: salt, AuthHash: authHash,
				WrappedLoginKey: wrappedLoginKey, RecoveryWrappedLoginKey: recoveryWrapped,
				RecoveryProofHash: fmt.Sprintf("%x", keys.HashToken(rk.Proof)),
			},
		},
		Account: persistence.Account{ID: accountID, Name: "Bench", PublicKey: publicKey, EncryptedPrivateKey: encryptedPrivateKey},
		Grant:   persistence.Grant{Role: persistence.RoleAdmin, WrappedKEK: wrappedKEK, Label: label},
	}, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type server struct{ cmd *exec.Cmd }

func startServer(binary, dir, dbPath string, secret []byte, port int, base string) (*server, error) {
	cmd := exec.Command(binary, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"OFFEN_SERVER_PORT="+strconv.Itoa(port),
		"OFFEN_SERVER_PUBLICURL="+base,
		"OFFEN_DATABASE_DIALECT=sqlite3",
		"OFFEN_DATABASE_CONNECTIONSTRING="+dbPath,
		"OFFEN_SECRET="+base64.StdEncoding.EncodeToString(secret),
		"OFFEN_APP_LOGLEVEL=warn",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("offen did not become healthy: %s", out.String())
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
	}
}

// login signs in over HTTP as the browser would and returns the login cookie.
func login(base string) (*http.Cookie, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(path string, body any, out any) error {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			msg, _ := io.ReadAll(res.Body)
			return fmt.Errorf("%s: %d %s", path, res.StatusCode, msg)
		}
		return json.NewDecoder(res.Body).Decode(out)
	}
	var salt struct {
		KDF struct {
			Iterations int    `json:"iterations"`
			Salt       string `json:"salt"`
		} `json:"kdf"`
	}
	if err := post("/api/login/salt", map[string]string{"email": email}, &salt); err != nil {
		return nil, err
	}
	raw, err := keys.DecodeBase64(salt.KDF.Salt)
	if err != nil {
		return nil, err
	}
	lk, err := keys.DeriveLoginKeys(password, raw, salt.KDF.Iterations)
	if err != nil {
		return nil, err
	}
	var state map[string]any
	if err := post("/api/login", map[string]string{"email": email, "authKey": keys.EncodeBase64(lk.AuthKey)}, &state); err != nil {
		return nil, err
	}
	u, _ := url.Parse(base + "/api/")
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "login" {
			return ck, nil
		}
	}
	return nil, errors.New("no login cookie")
}

// measure opens the dashboard cold (unlocking with the password in a fresh profile) and
// warm (a new page load), and prints the times to data-state="ready", measured in the page.
func measure(chromium, dir, base string, cookie *http.Cookie, timeout time.Duration, nEvents int, serverPid int) error {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return fmt.Errorf("start Chromium: %w", err)
	}
	httpOnly := true
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: cookie.Name, Value: cookie.Value, URL: base + "/api/", Path: "/api", HTTPOnly: &httpOnly}); err != nil {
		return fmt.Errorf("set the login cookie: %w", err)
	}
	eval := func(expr string, out any) error {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, out)
	}
	type result struct {
		MS        float64 `json:"ms"`
		State     string  `json:"state"`
		PageViews string  `json:"pageViews"`
		HeapMB    float64 `json:"heapMB"`
		Timings   string  `json:"timings"`
		Start     float64 `json:"start"`
	}
	limit := strconv.FormatInt(timeout.Milliseconds(), 10)
	// waitReady resolves when the dashboard reports ready (or error) with the page's clock.
	waitReady := `new Promise((resolve) => {
  const limit = performance.now() + ` + limit + `
  const check = () => {
    const el = document.querySelector('.dashboard[data-state="ready"], .dashboard[data-state="error"]')
    if (el || performance.now() > limit) {
      const fig = document.querySelector('[data-figure="pageViews"] .figure-value')
      resolve({ ms: performance.now() - (window.__benchStart || 0), start: window.__benchStart || 0, state: el ? el.dataset.state : 'timeout',
        pageViews: fig ? fig.textContent : '', timings: el ? el.dataset.timings || '' : '', heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1e6 : 0 })
    } else setTimeout(check, 10)
  }
  check()
})`

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/auditorium/")); err != nil {
		return err
	}
	var locked bool
	if err := eval(`new Promise((resolve) => {
  const t = setInterval(() => { if (document.querySelector('#unlock-password')) { clearInterval(t); resolve(true) } }, 20)
  setTimeout(() => resolve(false), 30000)
})`, &locked); err != nil || !locked {
		return fmt.Errorf("the unlock form did not appear (%v)", err)
	}
	cpu := func() time.Duration {
		if c := chromedp.FromContext(ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
			return treeCPU(c.Browser.Process().Pid)
		}
		return 0
	}
	threads := func() map[string]int64 {
		if c := chromedp.FromContext(ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil && os.Getenv("BENCH_THREADS") != "" {
			return threadCPU(c.Browser.Process().Pid)
		}
		return nil
	}
	stopTrace := startTrace(ctx, "cold")
	cpu0 := cpu()
	server0 := treeCPU(serverPid)
	threads0 := threads()
	var cold result
	if err := eval(`(async () => {
  const input = document.querySelector('#unlock-password')
  input.value = `+strconv.Quote(password)+`
  input.dispatchEvent(new Event('input', { bubbles: true }))
  await new Promise((r) => setTimeout(r, 50))
  window.__benchStart = performance.now()
  input.form.requestSubmit()
  return `+waitReady+`
})()`, &cold); err != nil {
		return fmt.Errorf("cold load: %w", err)
	}
	coldCPU := cpu() - cpu0
	coldServer := treeCPU(serverPid) - server0
	printThreads(threads0, threads())
	if err := stopTrace(); err != nil {
		return err
	}
	if cold.State != "ready" {
		var text string
		eval(`document.querySelector('main') ? document.querySelector('main').innerText.slice(0, 2000) : document.body.innerText`, &text)
		var login string
		eval(`fetch('/api/login').then(r => r.text())`, &login)
		text += "\nGET /api/login: " + login
		return fmt.Errorf("cold load ended in state %q; the page says: %s", cold.State, text)
	}
	fmt.Printf("dashboard: %d events, cold (password submitted to ready: PBKDF2, one ECDH per visitor, AES-GCM per event): %.0f ms, Chromium CPU %.1f s, server CPU %.1f s (page views in the default range: %s, JS heap %.0f MB; phases in ms since navigation start, submitted at %.0f: %s)\n",
		nEvents, cold.MS, coldCPU.Seconds(), coldServer.Seconds(), cold.PageViews, cold.HeapMB, cold.Start, cold.Timings)

	if os.Getenv("BENCH_DIAGNOSE") != "" {
		var diag any
		eval(`(async () => {
  const login = await (await fetch('/api/login')).json()
  const id = login.grants[0].accountId
  const out = {}
  for (const feed of ['secrets', 'events']) {
    const t0 = performance.now()
    let since = '', pages = 0, items = 0
    for (;;) {
      const r = await fetch('/api/accounts/' + id + '/' + feed + '?limit=5000' + (since ? '&since=' + encodeURIComponent(since) : ''))
      const p = await r.json()
      pages++
      items += (p.events || p.secrets || []).length
      since = p.next
      if (!p.more) break
    }
    out[feed] = { ms: performance.now() - t0, pages, items }
  }
  return out
})()`, &diag)
		fmt.Printf("dashboard: diagnosis: %v\n", diag)
	}
	// the first load writes the keyring and the segments it fetched or sealed behind the
	// rendering; a warm load measured while they are written would wait for IndexedDB
	deadline := time.Now().Add(timeout)
	for idle := false; !idle; {
		if err := eval(`document.querySelector('.dashboard[data-cache="idle"]') !== null`, &idle); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("the cache writes did not finish")
		}
		if !idle {
			time.Sleep(200 * time.Millisecond)
		}
	}
	stopTrace = startTrace(ctx, "warm")
	cpu0 = cpu()
	threads0 = threads()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/auditorium/")); err != nil {
		return err
	}
	var warm result
	if err := eval(waitReady, &warm); err != nil {
		return fmt.Errorf("warm load: %w", err)
	}
	warmCPU := cpu() - cpu0
	printThreads(threads0, threads())
	if err := stopTrace(); err != nil {
		return err
	}
	if warm.State != "ready" {
		return fmt.Errorf("warm load ended in state %q", warm.State)
	}
	if path := os.Getenv("BENCH_SCREENSHOT"); path != "" {
		yes := true
		if shot, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{CaptureBeyondViewport: &yes}); err == nil {
			os.WriteFile(path, shot.Data, 0o644)
		}
	}
	fmt.Printf("dashboard: %d events, warm (navigation start to ready): %.0f ms, Chromium CPU %.1f s (page views: %s, JS heap %.0f MB; phases in ms: %s)\n",
		nEvents, warm.MS, warmCPU.Seconds(), warm.PageViews, warm.HeapMB, warm.Timings)
	return nil
}

// treeCPU is the user and system CPU time used so far by process pid and its descendants
// (Linux /proc; zero elsewhere). CPU time is less disturbed by other load than wall time.
func treeCPU(pid int) time.Duration {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	ticks := map[int]int64{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// the command may hold spaces and parentheses: fields start after the last ')'
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		parent[p] = ppid
		ticks[p] = utime + stime
	}
	var total int64
	for p, t := range ticks {
		for q := p; q > 1; q = parent[q] {
			if q == pid {
				total += t
				break
			}
		}
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ
}

// threadCPU maps "pid/tid name" to the CPU ticks of each thread of pid's process tree.
func threadCPU(pid int) map[string]int64 {
	out := map[string]int64{}
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		if i := bytes.LastIndexByte(b, ')'); i > 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 1 {
				parent[p], _ = strconv.Atoi(f[1])
			}
		}
	}
	for p := range parent {
		in := false
		for q := p; q > 1; q = parent[q] {
			if q == pid {
				in = true
				break
			}
		}
		if !in {
			continue
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		for _, t := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", p, t.Name()))
			i := bytes.LastIndexByte(b, ')')
			j := bytes.IndexByte(b, '(')
			if i < 0 || j < 0 {
				continue
			}
			f := strings.Fields(string(b[i+1:]))
			if len(f) < 13 {
				continue
			}
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			out[fmt.Sprintf("%d/%s %s", p, t.Name(), b[j+1:i])] = u + st
		}
	}
	return out
}

// printThreads prints the threads that used the most CPU between two threadCPU results.
func printThreads(before, after map[string]int64) {
	if after == nil {
		return
	}
	type row struct {
		name  string
		ticks int64
	}
	var rows []row
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			rows = append(rows, row{k, d})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ticks > rows[j].ticks })
	for i, r := range rows {
		if i == 15 {
			break
		}
		fmt.Printf("  %6.2f s  %s\n", float64(r.ticks)/100, r.name)
	}
}

// startTrace records a Chromium trace with CPU profiles of every thread (page and workers)
// into $BENCH_TRACE-<name>.json when BENCH_TRACE is set; the returned func stops it.
func startTrace(ctx context.Context, name string) func() error {
	prefix := os.Getenv("BENCH_TRACE")
	if prefix == "" {
		return func() error { return nil }
	}
	done := make(chan cdpio.StreamHandle, 1)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*tracing.EventTracingComplete); ok {
			select {
			case done <- e.Stream:
			default:
			}
		}
	}); err != nil {
		return func() error { return err }
	}
	categories := []string{"disabled-by-default-v8.cpu_profiler", "v8.execute", "v8", "devtools.timeline", "disabled-by-default-devtools.timeline", "blink", "IndexedDB"}
	if c := os.Getenv("BENCH_TRACE_CATEGORIES"); c != "" {
		categories = strings.Split(c, ",")
	}
	if _, err := chromedp.Call(ctx, tracing.Start, tracing.StartParams{TransferMode: tracing.StartTransferModeReturnAsStream,
		TraceConfig: &tracing.TraceConfig{IncludedCategories: categories}}); err != nil {
		return func() error { return fmt.Errorf("trace: %w", err) }
	}
	return func() error {
		if _, err := chromedp.Call(ctx, tracing.End, cdp.Empty{}); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		h := <-done
		f, err := os.Create(prefix + "-" + name + ".json")
		if err != nil {
			return err
		}
		defer f.Close()
		for {
			r, err := chromedp.Call(ctx, cdpio.Read, cdpio.ReadParams{Handle: h, Size: 1 << 20})
			if err != nil {
				return fmt.Errorf("trace: %w", err)
			}
			f.Write(r.Data)
			if r.EOF {
				break
			}
		}
		chromedp.Call(ctx, cdpio.Close, cdpio.CloseParams{Handle: h})
		fmt.Printf("dashboard: trace written to %s\n", f.Name())
		return nil
	}
}
