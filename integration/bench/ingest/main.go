// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Command ingest is the ingest benchmark of PRODUCT.md §8 (`make bench`). For
// each database it seeds a fresh one with an account and many visitor
// secrets (through the store and keys packages, as `offen setup` does),
// starts the real binary with `offen serve` on 127.0.0.1, drives
// POST /api/events with wrk (one payload per request, valid cookies, key ids
// and a1 payloads) at 8 and at 64 connections, then at a fixed 2,000
// requests/s with an open-loop generator of its own (wrk cannot pace), and
// prints events/s, p50/p99 latency, errors (non-2xx and socket errors) and
// the server's peak RSS.
//
// Throttles stay on (PROTOCOL.md §7.5): each request comes from one of many
// visitors (user cookie and secret each), and the server runs with
// OFFEN_SERVER_TRUSTEDPROXIES=127.0.0.1/32 while every visitor's request
// carries its own X-Forwarded-For address, as behind a reverse proxy in
// production. So neither the per-user nor the per-IP event limit trips.
//
//	go run ./integration/bench/ingest -bin bin/offen [-dialects sqlite3,postgres] [-duration 10s]
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/relational"
)

func main() {
	bin := flag.String("bin", "bin/offen", "the offen binary to benchmark")
	dialects := flag.String("dialects", "sqlite3,postgres", "databases to run on (sqlite3, postgres)")
	pgDSN := flag.String("postgres", envOr("TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"), "PostgreSQL server DSN; the bench creates and drops a database of its own")
	duration := flag.Duration("duration", 10*time.Second, "length of each measured run")
	visitors := flag.Int("visitors", 10000, "distinct visitors (user cookies, secrets and client addresses)")
	rate := flag.Int("rate", 2000, "requests per second of the fixed-rate run")
	conns := flag.String("conns", "8,64", "wrk connection counts")
	flag.Parse()
	if _, err := exec.LookPath("wrk"); err != nil {
		fail("wrk is not installed (apt-get install wrk)")
	}
	if _, err := os.Stat(*bin); err != nil {
		fail("no binary at %s: run make build first", *bin)
	}
	startLoad := loadAverage()
	var results []result
	for _, d := range strings.Split(*dialects, ",") {
		res, err := runDialect(strings.TrimSpace(d), *bin, *pgDSN, *duration, *visitors, *rate, *conns)
		if err != nil {
			fail("%s: %v", d, err)
		}
		results = append(results, res...)
	}
	fmt.Println()
	fmt.Println("ingest benchmark: POST /api/events, one payload per request, wrk and server sharing the machine's cores")
	fmt.Printf("%d visitors behind a trusted proxy (X-Forwarded-For per visitor; throttles on); %s per run\n", *visitors, *duration)
	// Other work on the machine shows in the load average; CPU/event stays
	// comparable across runs.
	fmt.Printf("load average (1 min) at start %s, at end %s, on %d CPUs\n", startLoad, loadAverage(), runtime.NumCPU())
	fmt.Printf("%-9s %-15s %9s %9s %9s %7s %9s %10s\n", "database", "load", "events/s", "p50", "p99", "errors", "peak RSS", "CPU/event")
	for _, r := range results {
		fmt.Printf("%-9s %-15s %9.0f %9s %9s %7d %7.1fMB %10s\n", r.dialect, r.load, r.eventsPerSec,
			fmtDur(r.p50), fmtDur(r.p99), r.errors, float64(r.peakRSS)/1024, fmtDur(r.cpuPerEvent))
	}
	for _, r := range results {
		if r.note != "" {
			fmt.Printf("%s %s: %s\n", r.dialect, r.load, r.note)
		}
	}
}

type result struct {
	dialect, load string
	eventsPerSec  float64
	p50, p99      time.Duration
	errors        int64
	ok            int64
	peakRSS       int64 // KiB, VmHWM after the run
	// cpuPerEvent is the server's CPU time (user+system) per acknowledged
	// event: comparable across runs even when other work shares the cores.
	cpuPerEvent time.Duration
	note        string
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func runDialect(dialect, bin, pgDSN string, duration time.Duration, nVisitors, rate int, connList string) ([]result, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "offen-bench-")
	if err != nil {
		return nil, err
	}
	if os.Getenv("BENCH_KEEP") == "" {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "bench: keeping %s\n", dir)
	}
	var dsn string
	switch dialect {
	case relational.DialectSQLite:
		dsn = filepath.Join(dir, "offen.db")
	case relational.DialectPostgres:
		name := "offen_bench_" + hex.EncodeToString(randomBytes(4))
		admin, err := sql.Open("pgx", pgDSN)
		if err != nil {
			return nil, err
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, fmt.Errorf("create database: %w", err)
		}
		defer admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		dsn = pgDSN + " dbname=" + name
	default:
		return nil, fmt.Errorf("unsupported dialect %q", dialect)
	}
	fmt.Fprintf(os.Stderr, "bench: %s: seeding %d visitors\n", dialect, nVisitors)
	reqs, err := seed(ctx, dialect, dsn, nVisitors)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	script := filepath.Join(dir, "events.lua")
	if err := writeScript(script, reqs); err != nil {
		return nil, err
	}
	srv, err := startServer(bin, dir, dialect, dsn)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	fmt.Fprintf(os.Stderr, "bench: %s: serving at %s, idle RSS %.1f MB\n", dialect, srv.url, float64(srv.status("VmRSS"))/1024)

	var results []result
	var accepted int64
	// Warm up connections, caches and the database's pages.
	if r, err := runWrk(srv.url, script, 8, 2*time.Second); err != nil {
		return nil, err
	} else {
		accepted += r.ok
	}
	for _, c := range strings.Split(connList, ",") {
		if strings.TrimSpace(c) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("-conns: %w", err)
		}
		cpu := srv.cpu()
		r, err := runWrk(srv.url, script, n, duration)
		if err != nil {
			return nil, err
		}
		r.cpuPerEvent = perEvent(srv.cpu()-cpu, r.ok)
		r.dialect, r.load = dialect, fmt.Sprintf("wrk, %d conns", n)
		r.peakRSS = srv.status("VmHWM")
		accepted += r.ok
		results = append(results, r)
	}
	cpu := srv.cpu()
	r := runFixedRate(srv.url, reqs, rate, duration)
	r.cpuPerEvent = perEvent(srv.cpu()-cpu, r.ok)
	r.dialect, r.load = dialect, fmt.Sprintf("fixed %d/s", rate)
	r.peakRSS = srv.status("VmHWM")
	accepted += r.ok
	results = append(results, r)
	if err := srv.stop(); err != nil {
		return nil, err
	}
	stored, err := countEvents(ctx, dialect, dsn)
	if err != nil {
		return nil, err
	}
	// wrk does not count requests still in flight when a run ends, which
	// the server may have stored: more stored than acknowledged is fine.
	if stored < accepted {
		results[len(results)-1].note = fmt.Sprintf("LOST EVENTS: stored %d events, but %d were acknowledged", stored, accepted)
	} else {
		results[len(results)-1].note = fmt.Sprintf("every acknowledged event is stored (%d acknowledged, %d stored)", accepted, stored)
	}
	return results, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// benchRequest is one visitor's request: cookie, client address and body.
type benchRequest struct {
	cookie, forwardedFor string
	body                 []byte
}

// seed migrates the database and creates an account with nVisitors
// visitors, each with a user id, a secret and one encrypted page view.
func seed(ctx context.Context, dialect, dsn string, nVisitors int) ([]benchRequest, error) {
	store, err := relational.Open(ctx, relational.Options{Dialect: dialect, DSN: dsn})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	priv, err := keys.GenerateAccountKey()
	if err != nil {
		return nil, err
	}
	pub, err := keys.FormatPublicKey(priv.PublicKey())
	if err != nil {
		return nil, err
	}
	accountID := keys.NewUUID()
	encPriv, err := keys.EncryptPrivateKey(keys.NewKey(), accountID, priv)
	if err != nil {
		return nil, err
	}
	account, err := store.CreateAccount(ctx, persistence.Account{
		ID: accountID, Name: "bench", PublicKey: pub, EncryptedPrivateKey: encPriv,
	})
	if err != nil {
		return nil, err
	}
	reqs := make([]benchRequest, nVisitors)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= nVisitors {
					return
				}
				r, err := seedVisitor(ctx, store, account, i)
				if err != nil {
					errs <- err
					return
				}
				reqs[i] = r
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return reqs, nil
}

func seedVisitor(ctx context.Context, store *relational.Store, a persistence.Account, i int) (benchRequest, error) {
	userID := keys.NewUserID()
	raw, err := keys.ParseUserID(userID)
	if err != nil {
		return benchRequest{}, err
	}
	secretID, err := keys.SecretID(a.UserSalt, raw)
	if err != nil {
		return benchRequest{}, err
	}
	pub, err := keys.ParsePublicKey(a.PublicKey)
	if err != nil {
		return benchRequest{}, err
	}
	secret := keys.NewKey()
	wrapped, err := keys.WrapUserSecret(pub, a.ID, secret)
	if err != nil {
		return benchRequest{}, err
	}
	keyID := keys.NewKeyID()
	if _, err := store.CreateSecret(ctx, persistence.Secret{
		KeyID: keyID, AccountID: a.ID, SecretID: secretID, WrappedSecret: wrapped,
	}); err != nil {
		return benchRequest{}, err
	}
	aead, err := keys.NewCipher(secret)
	if err != nil {
		return benchRequest{}, err
	}
	plain, _ := json.Marshal(map[string]any{
		"v": 1, "type": "PAGEVIEW", "href": fmt.Sprintf("https://www.example.com/articles/%d", i%500),
		"referrer": "", "pageload": 420, "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"sessionId": keys.NewSessionID(), "geo": "DE", "isMobile": false,
	})
	body, _ := json.Marshal(map[string]any{
		"accountId": a.ID, "keyId": keyID, "payloads": []string{keys.EncryptEvent(aead, a.ID, plain)},
	})
	return benchRequest{
		cookie:       "consent=allow; user=" + userID,
		forwardedFor: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
		body:         body,
	}, nil
}

func countEvents(ctx context.Context, dialect, dsn string) (int64, error) {
	store, err := relational.Open(ctx, relational.Options{Dialect: dialect, DSN: dsn})
	if err != nil {
		return 0, err
	}
	defer store.Close()
	var n int64
	salts, err := store.ListUserSalts(ctx)
	if err != nil || len(salts) != 1 {
		return 0, fmt.Errorf("list accounts: %v", err)
	}
	cursor := ""
	for {
		page, err := store.AccountEvents(ctx, salts[0].AccountID, persistence.FeedQuery{Since: cursor, Limit: persistence.MaxFeedLimit},
			persistence.FeedItems{Event: func(persistence.Event) error { n++; return nil }})
		if err != nil {
			return 0, err
		}
		cursor = page.Next
		if !page.More {
			return n, nil
		}
	}
}

// writeScript writes the wrk Lua script: every thread builds all requests
// once and then cycles through them from a random start.
func writeScript(path string, reqs []benchRequest) error {
	var b bytes.Buffer
	b.WriteString("-- SPDX-FileCopyrightText: 2026 Offen developers\n-- SPDX-License-Identifier: Apache-2.0\n")
	b.WriteString("local data = {\n")
	for _, r := range reqs {
		fmt.Fprintf(&b, "{%q,%q,%q},\n", r.cookie, r.forwardedFor, r.body)
	}
	b.WriteString(`}
local reqs = {}
local i = 0
function init(args)
  for k, d in ipairs(data) do
    reqs[k] = wrk.format("POST", "/api/events", {["Content-Type"] = "application/json", ["Cookie"] = d[1], ["X-Forwarded-For"] = d[2]}, d[3])
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#reqs)
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
`)
	return os.WriteFile(path, b.Bytes(), 0o600)
}

type server struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	once sync.Once
	err  error
}

func startServer(bin, dir, dialect, dsn string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	logFile, err := os.Create(filepath.Join(dir, "offen.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"OFFEN_DATABASE_DIALECT="+dialect,
		"OFFEN_DATABASE_CONNECTIONSTRING="+dsn,
		"OFFEN_SERVER_PORT="+strconv.Itoa(port),
		"OFFEN_SERVER_PUBLICURL=http://127.0.0.1:"+strconv.Itoa(port),
		"OFFEN_SERVER_TRUSTEDPROXIES=127.0.0.1/32",
		"OFFEN_SECRET="+base64.StdEncoding.EncodeToString(randomBytes(32)),
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logFile.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			log, _ := os.ReadFile(filepath.Join(dir, "offen.log"))
			return nil, fmt.Errorf("offen serve exited (%v):\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("offen serve did not become healthy within 30s")
		}
	}
}

// status returns a field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
func (s *server) status(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpu returns the server's CPU time so far (user and system).
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which ends with ")"): utime and
	// stime are fields 14 and 15 of the line, in clock ticks (100 Hz).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func perEvent(d time.Duration, n int64) time.Duration {
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}

// stop ends the server gracefully (SIGTERM), killing it after 30 s.
func (s *server) stop() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.done:
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				s.err = err
			}
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
			s.err = errors.New("offen serve did not stop within 30s")
		}
	})
	return s.err
}

var (
	reqsPerSec = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	total      = regexp.MustCompile(`(\d+) requests in ([0-9.]+)(\w+),`)
	percentile = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	non2xx     = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	socketErrs = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func runWrk(url, script string, conns int, d time.Duration) (result, error) {
	threads := min(2, conns)
	cmd := exec.Command("wrk", "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns),
		"-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency", "-s", script, url+"/api/events")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	text := string(out)
	var r result
	m := total.FindStringSubmatch(text)
	if m == nil {
		return r, fmt.Errorf("wrk output without totals:\n%s", text)
	}
	requests, _ := strconv.ParseInt(m[1], 10, 64)
	secs, _ := strconv.ParseFloat(m[2], 64)
	switch m[3] {
	case "m":
		secs *= 60
	case "ms":
		secs /= 1000
	}
	for _, p := range percentile.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[3]]
		if p[1] == "50" {
			r.p50 = time.Duration(v * float64(unit))
		} else {
			r.p99 = time.Duration(v * float64(unit))
		}
	}
	if m := non2xx.FindStringSubmatch(text); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		r.errors += n
	}
	if m := socketErrs.FindStringSubmatch(text); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.errors += n
		}
	}
	r.ok = requests - r.errors
	if r.ok < 0 {
		r.ok = 0
	}
	r.eventsPerSec = float64(r.ok) / secs
	_ = reqsPerSec
	return r, nil
}

// runFixedRate sends rate requests per second for d, each at its scheduled
// time whether or not earlier ones were answered (open loop), and measures
// latency from the scheduled time, so a stall counts for every request it
// delays.
func runFixedRate(url string, reqs []benchRequest, rate int, d time.Duration) result {
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			// Like a proxy's upstream pool: bounded, so an overloaded server
			// shows as latency here rather than as thousands of sockets.
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256, IdleConnTimeout: time.Minute,
		},
	}
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	latencies := make([]time.Duration, n)
	var errCount, okCount atomic.Int64
	var wg sync.WaitGroup
	start := time.Now().Add(10 * time.Millisecond)
	offset := int(time.Now().UnixNano()) % len(reqs)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		wg.Go(func() {
			req := reqs[(offset+i)%len(reqs)]
			hr, _ := http.NewRequest(http.MethodPost, url+"/api/events", bytes.NewReader(req.body))
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Set("Cookie", req.cookie)
			hr.Header.Set("X-Forwarded-For", req.forwardedFor)
			resp, err := client.Do(hr)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			latencies[i] = time.Since(at)
			if err != nil {
				errCount.Add(1)
				return
			}
			okCount.Add(1)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	return result{
		eventsPerSec: float64(okCount.Load()) / elapsed.Seconds(),
		p50:          latencies[n*50/100],
		p99:          latencies[n*99/100],
		errors:       errCount.Load(),
		ok:           okCount.Load(),
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	default:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
}
