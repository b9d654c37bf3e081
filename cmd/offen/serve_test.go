// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// offenBinary builds ./cmd/offen once per test run and returns its path.
func offenBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "offen-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "offen")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output safely while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// process is a running offen binary.
type process struct {
	cmd    *exec.Cmd
	output *lockedBuffer
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, read after exited is closed
	url    string
}

// startOffen runs `offen serve` on a free 127.0.0.1 port with only the given
// settings. Cleanup sends SIGTERM and kills the process if it is still
// running after a deadline.
func startOffen(t *testing.T, vars map[string]string) *process {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	// An empty env file keeps files on the machine (/etc/offen/offen.env) out.
	envFile := filepath.Join(dir, "empty.env")
	writeFile(t, envFile, "")
	cmd := exec.Command(offenBinary(t), "serve", "--envfile", envFile, "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, output: &lockedBuffer{}, exited: make(chan struct{}), url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitHealthy polls /healthz until it answers 200, failing when the process
// exits or a minute passes.
func (p *process) waitHealthy(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("offen exited before becoming healthy: %v\n%s", p.err, p.output)
		default:
		}
		res, err := client.Get(p.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("offen did not become healthy within a minute:\n%s", p.output)
}

// stop sends SIGTERM and wants a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("got exit %v after SIGTERM, want 0\n%s", p.err, p.output)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("offen did not stop within 30s of SIGTERM\n%s", p.output)
	}
}

func TestServeBinary(t *testing.T) {
	t.Parallel()
	p := startOffen(t, map[string]string{
		"OFFEN_DATABASE_CONNECTIONSTRING": filepath.Join(t.TempDir(), "offen.db"),
		"OFFEN_SECRET":                    validSecret,
	})
	p.waitHealthy(t)
	res, err := http.Get(p.url + "/versionz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /versionz: got %d, want 200", res.StatusCode)
	}
	p.stop(t)
	out := p.output.String()
	for _, want := range []string{"listening", "route=/healthz", "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestServeBinaryRejectsBadSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "empty.env")
	writeFile(t, envFile, "")
	cmd := exec.Command(offenBinary(t), "serve", "--envfile", envFile)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + cmd.Dir, "OFFEN_SERVER_PORT=abc", "OFFEN_APP_RETENTION=forever"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("got %v, want a non-zero exit", err)
	}
	for _, want := range []string{"OFFEN_SERVER_PORT", "OFFEN_APP_RETENTION"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

// TestServeTwoInstances starts two instances at the same moment on one
// fresh PostgreSQL (and MySQL/MariaDB) database; both migrate, one waiting
// for the other's lease, and both must become healthy.
func TestServeTwoInstances(t *testing.T) {
	t.Parallel()
	for _, d := range persistencetest.Dialects(t) {
		if d.Name == persistencetest.SQLite.Name {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			db := persistencetest.NewDatabase(t, d)
			vars := map[string]string{
				"OFFEN_DATABASE_DIALECT":          db.Name,
				"OFFEN_DATABASE_CONNECTIONSTRING": db.DSN,
				"OFFEN_SECRET":                    validSecret,
			}
			a, b := startOffen(t, vars), startOffen(t, vars)
			a.waitHealthy(t)
			b.waitHealthy(t)
			a.stop(t)
			b.stop(t)
		})
	}
}

// failingExpiry fails its first Expire calls, then succeeds; it cancels the
// loop's context once it has been called enough.
type failingExpiry struct {
	persistence.Maintenance // nil: only Expire is called
	fail                    int
	stopAfter               int
	calls                   int
	cancel                  context.CancelFunc
}

func (f *failingExpiry) Expire(_ context.Context, retention time.Duration) (persistence.ExpireResult, error) {
	f.calls++
	if f.calls >= f.stopAfter {
		f.cancel()
	}
	if f.calls <= f.fail {
		return persistence.ExpireResult{}, errors.New("database is locked")
	}
	return persistence.ExpireResult{Events: 3}, nil
}

func TestExpireLoopSurvivesFailures(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	store := &failingExpiry{fail: 2, stopAfter: 4, cancel: cancel}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	done := make(chan struct{})
	go func() {
		expireLoop(ctx, logger, store, 7*24*time.Hour, time.Millisecond)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("expire loop did not stop when its context ended")
	}
	if store.calls != 4 {
		t.Errorf("got %d runs, want 4 (two failures did not stop the loop)", store.calls)
	}
	out := logs.String()
	if n := strings.Count(out, "retrying next run"); n != 2 {
		t.Errorf("got %d failure lines, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "expired data") || !strings.Contains(out, "events=3") {
		t.Errorf("log lacks the successful run:\n%s", out)
	}
}

// TestServeHealthWhenPostgresGoesAway starts offen on a fresh PostgreSQL
// database, makes the database refuse connections (and drops the existing
// ones), wants /healthz to answer 503, then lets it back in and wants 200.
func TestServeHealthWhenPostgresGoesAway(t *testing.T) {
	t.Parallel()
	var server persistencetest.Dialect
	for _, d := range persistencetest.Dialects(t) {
		if d.Name == "postgres" {
			server = d
		}
	}
	if server.DSN == "" {
		t.Skip("skipping PostgreSQL: TEST_POSTGRES_DSN is not set")
	}
	db := persistencetest.NewDatabase(t, server)
	name := postgresDatabaseName(t, db.DSN)
	if name == postgresDatabaseName(t, server.DSN) {
		t.Fatalf("test database %q is the shared one", name)
	}
	admin, err := sql.Open("pgx", server.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`ALTER DATABASE "` + name + `" ALLOW_CONNECTIONS true`)
		admin.Close()
	})
	p := startOffen(t, map[string]string{
		"OFFEN_DATABASE_DIALECT":          db.Name,
		"OFFEN_DATABASE_CONNECTIONSTRING": db.DSN,
		"OFFEN_SECRET":                    validSecret,
	})
	p.waitHealthy(t)

	for _, q := range []string{
		`ALTER DATABASE "` + name + `" ALLOW_CONNECTIONS false`,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `'`,
	} {
		if _, err := admin.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	status, body := p.waitStatus(t, http.StatusServiceUnavailable)
	if !strings.Contains(body, `"status":503`) {
		t.Errorf("got %d %s, want the JSON error", status, body)
	}

	if _, err := admin.ExecContext(t.Context(), `ALTER DATABASE "`+name+`" ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	p.waitStatus(t, http.StatusOK)
	p.stop(t)
}

// waitStatus polls /healthz until it answers want, for at most a minute.
func (p *process) waitStatus(t *testing.T, want int) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	last := "no answer"
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := client.Get(p.url + "/healthz")
		if err != nil {
			last = err.Error()
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == want {
			return res.StatusCode, string(b)
		}
		last = fmt.Sprintf("%d %s", res.StatusCode, b)
	}
	t.Fatalf("GET /healthz did not answer %d within a minute; last: %s\n%s", want, last, p.output)
	return 0, ""
}

// postgresDatabaseName reads the database name from a key=value or URL DSN.
func postgresDatabaseName(t *testing.T, dsn string) string {
	t.Helper()
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return strings.TrimPrefix(u.Path, "/")
	}
	name := ""
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, "dbname="); ok {
			name = v // the last one counts, as in libpq
		}
	}
	if name == "" {
		t.Fatalf("no database name in DSN")
	}
	return name
}
