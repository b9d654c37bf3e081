// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Command dashboard is the dashboard half of `make bench` (PRODUCT.md §8): it seeds a fresh
// SQLite instance with N encrypted events from V visitors spread over the last D days (the
// keys package and the store, exactly what browsers would have sent, with event ids of the
// days they were received on) and, for every closed day, the segment a browser would have
// sealed (keys/segment, built from the plaintexts that were encrypted). Then it starts the
// real offen binary and opens /auditorium/ in headless Chromium, once per case:
//
//   - without: the segments deleted, a fresh profile: the first load ever, which decrypts
//     every event and seals the closed days;
//   - with: a fresh profile on the instance with segments (a second operator signing in on
//     a new browser), then the 6-month range.
//
// Each case is followed by a warm load (a reload). It prints the times from submitting the
// password until the dashboard marks itself data-state="ready" (every panel of the range,
// the history complete) and until its first figures, CPU, the page's JS heap and the
// renderer's resident memory (page and workers).
//
//	go run ./integration/bench/dashboard -binary bin/offen -events 100000 -visitors 10000
//	go run ./integration/bench/dashboard -binary bin/offen -dir /tmp/offen-bench -events 10000000 -visitors 1000000 -cases with
//
// Unlike the integration tests this harness imports the project's keys and persistence
// packages: only the store can write ten million events in reasonable time.
package main

import (
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
	"github.com/offen/offen/keys/segment"
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
		days     = flag.Int("days", 180, "days the events are spread over, ending today (the retention is 186)")
		cases    = flag.String("cases", "without,with", "comma-separated: without (no segments: the first load ever), with (segments of every closed day: a second operator on a fresh profile); none only seeds")
		timeout  = flag.Duration("timeout", 5*time.Minute, "limit per dashboard load")
		seedFor  = flag.Duration("seed-timeout", time.Hour, "limit of the seeding")
		keep     = flag.Bool("keep", false, "keep the temporary directory")
		reuse    = flag.String("dir", "", "a directory to keep the seeded instance in and reuse on later runs of the same UTC day with the same -events, -visitors and -days (skips seeding)")
	)
	flag.Parse()
	if err := run(*binary, *chromium, *events, *visitors, *days, strings.Split(*cases, ","), *timeout, *seedFor, *keep, *reuse); err != nil {
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

func run(binary, chromium string, nEvents, nVisitors, days int, cases []string, timeout, seedFor time.Duration, keep bool, reuse string) error {
	if _, err := os.Stat(chromium); err != nil {
		return fmt.Errorf("no Chromium at %s (set CHROMIUM)", chromium)
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("no offen binary at %s (run make build)", binary)
	}
	if len(cases) == 1 && cases[0] == "none" {
		cases = nil
	}
	for _, c := range cases {
		if c != "with" && c != "without" {
			return fmt.Errorf("unknown case %q (want with, without)", c)
		}
	}
	if days < 1 || days > 180 {
		return errors.New("-days must be 1 to 180 (within the default retention)")
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
	// the seeded instance, with segments; the cases run on copies of it
	dbPath := filepath.Join(dir, "seeded.db")
	seeded := time.Now()
	fresh := true
	if reuse != "" {
		// keyed by the day too: a history seeded yesterday has a day more to seal today
		dbPath = filepath.Join(reuse, fmt.Sprintf("offen-%d-%d-%d-%s.db", nEvents, nVisitors, days, time.Now().UTC().Format("20060102")))
		if old, err := os.ReadFile(dbPath + ".secret"); err == nil {
			secret, fresh = old, false
			fmt.Printf("dashboard: reusing %s\n", dbPath)
		} else {
			os.MkdirAll(reuse, 0o755)
			os.Remove(dbPath)
		}
	}
	if fresh {
		seedCtx, cancel := context.WithTimeout(ctx, seedFor)
		err := seed(seedCtx, dbPath, secret, nEvents, nVisitors, days, true)
		cancel()
		if err != nil {
			os.Remove(dbPath)
			return fmt.Errorf("seed: %w", err)
		}
		if reuse != "" {
			if err := os.WriteFile(dbPath+".secret", secret, 0o600); err != nil {
				return err
			}
		}
		fmt.Printf("dashboard: seeded %d events from %d visitors in %s\n", nEvents, nVisitors, time.Since(seeded).Round(time.Millisecond))
		seeded = time.Now()
		// A sync run re-reads the writes of its last W = 60 s (PROTOCOL §6), so a load
		// right after seeding would download the newest events again. A real history is older.
		if wait := 65*time.Second - time.Since(seeded); wait > 0 && len(cases) > 0 {
			fmt.Printf("dashboard: waiting %s for the seeded events to age past the sync window\n", wait.Round(time.Second))
			time.Sleep(wait)
		}
	}
	for _, c := range cases {
		// each case on a copy: the first load seals and uploads segments, sessions are
		// written, expiry runs
		caseDB := filepath.Join(dir, "offen-"+c+".db")
		if info, err := os.Stat(dbPath); err == nil && c == "with" && reuse != "" && info.Size() > 4<<30 {
			// several GB: the run writes sessions and at most the segments of periods
			// that closed since seeding, which later runs may as well find
			fmt.Printf("dashboard: running on %s itself (%.1f GB)\n", dbPath, float64(info.Size())/1e9)
			caseDB = dbPath
		} else if err := copyFile(dbPath, caseDB); err != nil {
			return err
		}
		if c == "without" {
			if err := dropSegments(caseDB); err != nil {
				return err
			}
		}
		if err := runCase(c, binary, chromium, dir, caseDB, secret, nEvents, timeout); err != nil {
			return fmt.Errorf("%s segments: %w", c, err)
		}
		if caseDB != dbPath {
			os.Remove(caseDB)
		}
	}
	return nil
}

// dropSegments turns the seeded instance into one nobody has loaded yet.
func dropSegments(dbPath string) error {
	db, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("DELETE FROM segments")
	return err
}

func runCase(name, binary, chromium, dir, dbPath string, secret []byte, nEvents int, timeout time.Duration) error {
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
	profile := filepath.Join(dir, "profile-"+name)
	defer os.RemoveAll(profile)
	return measure(chromium, profile, base, cookie, timeout, nEvents, name, srv.cmd.Process.Pid)
}

// seedClock is the store's clock while seeding: events get the ids (receipt times) of the
// history being written, one time per CreateEvents call in the order the calls were made,
// so that they fall into the periods segments are built for. Real marks the calls that need
// the real time (PutSegment refuses periods that are not closed).
type seedClock struct {
	mu    sync.Mutex
	times []time.Time
	next  int
	real  bool
}

func (c *seedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.real || len(c.times) == 0:
		return time.Now()
	case c.next < len(c.times):
		c.next++
		return c.times[c.next-1]
	}
	return c.times[len(c.times)-1]
}

func (c *seedClock) set(times []time.Time, real bool) {
	c.mu.Lock()
	c.times, c.next, c.real = times, 0, real
	c.mu.Unlock()
}

// session is up to five page views of one visitor, 40 s apart; it is one CreateEvents call.
type session struct {
	visitor int32
	n       int32
	start   time.Time
	// filled while seeding its day
	plaintexts [][]byte
	payloads   []string
	ids        []string
}

type seedVisitor struct {
	key      []byte
	secretID string
	keyID    string
}

// seed creates the login and account as `offen setup` does, then one secret per visitor and
// their events, encrypted with the keys package, spread over the last `days` days by their
// ids. With segments, every closed day also gets the segment a browser would seal for it
// (keys/segment, built from the very plaintexts that were encrypted), through the store.
func seed(ctx context.Context, dbPath string, secret []byte, nEvents, nVisitors, days int, withSegments bool) error {
	clock := &seedClock{}
	store, err := relational.Open(ctx, relational.Options{Dialect: "sqlite3", DSN: dbPath, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock.Now})
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
	in, kek, err := setupInput(instance)
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
	segmentKey, err := segment.DeriveKey(kek)
	if err != nil {
		return err
	}
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	oldest := today.AddDate(0, 0, -(days - 1))
	workers := runtime.NumCPU()

	// secrets: one ECDH each, in parallel, written as they come
	started := time.Now()
	clock.set([]time.Time{oldest}, false)
	vs := make([]seedVisitor, nVisitors)
	var mu sync.Mutex
	var failed []error
	fail := func(err error) {
		mu.Lock()
		failed = append(failed, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	secrets := make(chan persistence.Secret, 1024)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < nVisitors; i += workers {
				userID := make([]byte, keys.UserIDSize)
				rand.Read(userID)
				secretID, err := keys.SecretID(account.UserSalt, userID)
				if err != nil {
					fail(err)
					return
				}
				userSecret := keys.NewKey()
				wrapped, err := keys.WrapUserSecret(pub, account.ID, userSecret)
				if err != nil {
					fail(err)
					return
				}
				vs[i] = seedVisitor{key: userSecret, secretID: secretID, keyID: keys.NewKeyID()}
				secrets <- persistence.Secret{KeyID: vs[i].keyID, AccountID: account.ID, SecretID: secretID, WrappedSecret: wrapped}
			}
		})
	}
	// one transaction per thousand secrets: a transaction each would take a quarter of an
	// hour for a million visitors
	var writers sync.WaitGroup
	writers.Go(func() {
		batch := make([]persistence.Secret, 0, 1000)
		for s := range secrets {
			if batch = append(batch, s); len(batch) == cap(batch) {
				if err := store.ImportSecrets(ctx, batch); err != nil {
					fail(err)
				}
				batch = batch[:0]
			}
		}
		if err := store.ImportSecrets(ctx, batch); err != nil {
			fail(err)
		}
	})
	wg.Wait()
	close(secrets)
	writers.Wait()
	if err := errors.Join(failed...); err != nil {
		return err
	}
	fmt.Printf("dashboard: seeding: %d secrets in %s\n", nVisitors, time.Since(started).Round(time.Millisecond))

	// sessions: a visitor's first visit lies anywhere in the history, late enough for the
	// next ones, 26 hours apart, to be over ten minutes ago; so every day has about as many
	// events, today those up to now
	byDay := map[int][]*session{}
	last := now.Add(-10 * time.Minute)
	for i := range nVisitors {
		n := nEvents / nVisitors
		if i < nEvents%nVisitors {
			n++
		}
		k := (n + 4) / 5
		span := last.Sub(oldest) - time.Duration(k-1)*26*time.Hour
		if span <= 0 {
			return fmt.Errorf("%d events per visitor do not fit into %d days", n, days)
		}
		// a fixed permutation of the visitors over the span (Knuth's multiplicative hash)
		first := oldest.Add(time.Duration(float64(span) * float64(uint32(i)*2654435761) / (1 << 32)))
		for j := 0; j < n; j += 5 {
			start := first.Add(time.Duration(j/5) * 26 * time.Hour)
			d := int(start.Sub(oldest) / (24 * time.Hour))
			byDay[d] = append(byDay[d], &session{visitor: int32(i), n: int32(min(5, n-j)), start: start})
		}
	}

	pages := []string{"/", "/pricing", "/blog", "/blog/why-offen", "/docs", "/docs/setup", "/about", "/contact", "/jobs", "/changelog", "/features", "/privacy"}
	refs := []string{"", "", "https://www.google.com/", "https://duckduckgo.com/", "https://news.ycombinator.com/", "https://mastodon.social/@offen", "https://blog.example.net/post"}
	geos := []string{"DE", "FR", "US", "GB", "ES", "PT", "VN", "NL", "BR", "CA"}
	devices := [][4]string{{"Firefox", "Linux", "desktop", "large"}, {"Chrome", "Windows", "desktop", "xlarge"}, {"Safari", "iOS", "mobile", "small"}, {"Chrome", "Android", "mobile", "small"}, {"Safari", "macOS", "desktop", "large"}}
	// parallel runs f(i) for i in [0, n) on every core
	parallel := func(n int, f func(i int)) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					f(i)
				}
			})
		}
		wg.Wait()
	}
	var tEncrypt, tInsert, tSegments time.Duration
	var built []persistence.Segment
	var builders sync.WaitGroup
	building := make(chan struct{}, 1)
	for d := range days {
		day := byDay[d]
		delete(byDay, d)
		if len(day) == 0 {
			continue
		}
		sort.Slice(day, func(a, b int) bool { return day[a].start.Before(day[b].start) })
		t0 := time.Now()
		parallel(len(day), func(k int) {
			s := day[k]
			i := int(s.visitor)
			aead, err := keys.NewCipher(vs[i].key)
			if err != nil {
				fail(err)
				return
			}
			sessionID := hex.EncodeToString(keys.NewKey()[:16])
			dev := devices[i%len(devices)]
			s.plaintexts = make([][]byte, s.n)
			s.payloads = make([]string, s.n)
			for j := range int(s.n) {
				t := s.start.Add(time.Duration(j) * 40 * time.Second)
				b := make([]byte, 0, 320)
				b = append(b, `{"v":1,"type":"PAGEVIEW","href":`...)
				b = strconv.AppendQuote(b, "https://www.example.com"+pages[(i+j+int(s.start.Unix()/86400))%len(pages)])
				b = append(b, `,"referrer":`...)
				b = strconv.AppendQuote(b, refs[i%len(refs)])
				b = append(b, `,"pageload":`...)
				b = strconv.AppendInt(b, int64(200+(i*7+j*13)%900), 10)
				b = append(b, `,"timestamp":"`...)
				b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
				b = append(b, `","sessionId":"`...)
				b = append(b, sessionID...)
				b = append(b, `","geo":"`...)
				b = append(b, geos[i%len(geos)]...)
				b = append(b, `","isMobile":`...)
				b = strconv.AppendBool(b, dev[2] == "mobile")
				b = append(b, `,"browser":"`+dev[0]+`","os":"`+dev[1]+`","device":"`+dev[2]+`","screen":"`+dev[3]+`"}`...)
				s.plaintexts[j] = b
				s.payloads[j] = keys.EncryptEvent(aead, account.ID, b)
			}
		})
		t1 := time.Now()
		tEncrypt += t1.Sub(t0)
		times := make([]time.Time, len(day))
		for k, s := range day {
			times[k] = s.start
		}
		clock.set(times, false)
		inFlight := make(chan struct{}, 512)
		var wg sync.WaitGroup
		for _, s := range day {
			inFlight <- struct{}{}
			wg.Go(func() {
				defer func() { <-inFlight }()
				v := vs[s.visitor]
				evs, err := store.CreateEvents(ctx, persistence.NewEvents{AccountID: account.ID, SecretID: v.secretID, KeyID: v.keyID, Payloads: s.payloads})
				if err != nil {
					fail(err)
					return
				}
				s.ids = make([]string, len(evs))
				for k, e := range evs {
					s.ids[k] = e.EventID
				}
				s.payloads = nil
			})
		}
		wg.Wait()
		if err := errors.Join(failed...); err != nil {
			return err
		}
		t2 := time.Now()
		tInsert += t2.Sub(t1)
		dayStart := oldest.AddDate(0, 0, d)
		if !withSegments || !dayStart.Add(24*time.Hour+persistence.SyncWindow+time.Minute).Before(time.Now()) {
			continue
		}
		// built while the next days are written; one at a time, so that encryption keeps
		// its cores
		building <- struct{}{}
		builders.Go(func() {
			defer func() { <-building }()
			t0 := time.Now()
			seg, err := buildSegment(account.ID, segmentKey, dayStart, day, vs)
			if err != nil {
				fail(fmt.Errorf("segment of %s: %w", dayStart.Format(time.DateOnly), err))
				return
			}
			mu.Lock()
			built = append(built, seg)
			tSegments += time.Since(t0)
			mu.Unlock()
		})
	}
	builders.Wait()
	if err := errors.Join(failed...); err != nil {
		return err
	}
	// PutSegment refuses periods that are not closed by its clock
	t0 := time.Now()
	clock.set(nil, true)
	for _, seg := range built {
		seg.UploadedBy = in.Login.ID
		if _, err := store.PutSegment(ctx, seg); err != nil {
			return fmt.Errorf("segment of %s: %w", seg.Period, err)
		}
	}
	fmt.Printf("dashboard: seeding: %d events over %d days (encryption %s, store %s), %d segments (built and sealed in %s, stored in %s)\n",
		nEvents, days, tEncrypt.Round(time.Millisecond), tInsert.Round(time.Millisecond), len(built), tSegments.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	return nil
}

// buildSegment builds the segment of one day from its sessions, as a browser would seal it,
// with its coverage.
func buildSegment(accountID string, key []byte, day time.Time, sessions []*session, vs []seedVisitor) (persistence.Segment, error) {
	period := day.Format(time.DateOnly)
	var records []segment.Record
	var unreadable []string
	for _, s := range sessions {
		v := vs[s.visitor]
		for j, id := range s.ids {
			r, err := segment.FromPlaintext(id, v.secretID, v.keyID, s.plaintexts[j])
			if err != nil {
				// the dashboard counts what it cannot read; so does the segment
				unreadable = append(unreadable, id)
				continue
			}
			records = append(records, r)
		}
		s.plaintexts = nil
	}
	seg, err := segment.New(accountID, period, records, unreadable)
	if err != nil {
		return persistence.Segment{}, err
	}
	sealed, err := segment.SealSegment(key, seg)
	if err != nil {
		return persistence.Segment{}, err
	}
	count, digest, err := seg.Coverage()
	if err != nil {
		return persistence.Segment{}, err
	}
	return persistence.Segment{AccountID: accountID, Period: period, Version: segment.Version, Count: count, Digest: digest, Sealed: sealed}, nil
}

// setupInput is the first login and account, derived as a browser would (PROTOCOL §4 Setup).
func setupInput(instance keys.InstanceKeys) (persistence.SetupInput, []byte, error) {
	index, err := keys.EmailIndex(instance.EmailIndex, email)
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	loginID, accountID := keys.NewUUID(), keys.NewUUID()
	salt := keys.NewSalt()
	lk, err := keys.DeriveLoginKeys(password, salt, keys.KDFIterations)
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	authHash, err := keys.HashAuthKey(lk.AuthKey)
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	loginKey := keys.NewKey()
	wrappedLoginKey, err := keys.WrapLoginKey(lk.WrapKey, loginID, loginKey)
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	rk, err := keys.DeriveRecoveryKeys(keys.NewRecoveryCode())
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	recoveryWrapped, err := keys.RecoveryWrapLoginKey(rk.Key, loginID, loginKey)
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	priv, err := keys.GenerateAccountKey()
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	publicKey, err := keys.FormatPublicKey(priv.PublicKey())
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	kek := keys.NewKey()
	encryptedPrivateKey, err := keys.EncryptPrivateKey(kek, accountID, priv)
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	wrappedKEK, err := keys.WrapKEK(loginKey, accountID, kek)
	if err != nil {
		return persistence.SetupInput{}, nil, err
	}
	label, err := keys.EncryptLabel(kek, accountID, email)
	if err != nil {
		return persistence.SetupInput{}, nil, err
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
	}, kek, nil
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

// measure opens the dashboard cold (unlocking with the password in a fresh profile), with
// segments then switches to the 6-month range, and loads it warm (a new page load); it
// prints the times to data-state="ready" and to the first figures, measured in the page.
func measure(chromium, profile, base string, cookie *http.Cookie, timeout time.Duration, nEvents int, name string, serverPid int) error {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(profile),
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
	rss := func() float64 {
		if c := chromedp.FromContext(ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
			return rendererRSS(c.Browser.Process().Pid)
		}
		return 0
	}
	limit := strconv.FormatInt(timeout.Milliseconds(), 10)
	// waitReady resolves when the dashboard reports ready (or error) with the page's clock.
	// rangeMS is when the range shown was complete (figures, and no data-partial: the
	// periods it needs are all read) while the rest of the history may still load
	waitReady := `new Promise((resolve) => {
  const limit = performance.now() + ` + limit + `
  let rangeAt = 0
  const check = () => {
    const el = document.querySelector('.dashboard[data-state="ready"], .dashboard[data-state="error"]')
    const fig = document.querySelector('[data-figure="pageViews"] .figure-value')
    const root = document.querySelector('.dashboard')
    if (!rangeAt && fig && root && !root.dataset.partial) rangeAt = performance.now()
    if (el || performance.now() > limit) {
      const start = window.__benchStart || 0
      resolve({ ms: performance.now() - start, rangeMS: (rangeAt || performance.now()) - start, start, state: el ? el.dataset.state : 'timeout',
        pageViews: fig ? fig.textContent : '', timings: el ? el.dataset.timings || '' : '', load: el ? el.dataset.load || '' : '',
        heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1e6 : 0 })
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
	coldRSS := rss()
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
	fmt.Printf("dashboard: %d events, %s segments, cold (from submitting the password): first figures %s, default range complete %.0f ms, ready (the whole history) %.0f ms, Chromium CPU %.1f s, server CPU %.1f s (page views in the default range: %s, JS heap of the page %.0f MB, renderer RSS %.0f MB; load %s; phases in ms since navigation start, submitted at %.0f: %s)\n",
		nEvents, name, firstFigures(cold), cold.RangeMS, cold.MS, coldCPU.Seconds(), coldServer.Seconds(), cold.PageViews, cold.HeapMB, coldRSS, cold.Load, cold.Start, cold.Timings)
	if name == "with" {
		var six result
		cpu0 = cpu()
		if err := eval(sixMonths, &six); err != nil {
			return fmt.Errorf("6-month range: %w", err)
		}
		if six.State != "ready" {
			return fmt.Errorf("6-month range ended in state %q", six.State)
		}
		fmt.Printf("dashboard: %d events, %s segments, 6-month range (selected to ready): %.0f ms, Chromium CPU %.1f s (page views: %s, JS heap of the page %.0f MB, renderer RSS %.0f MB)\n",
			nEvents, name, six.MS, (cpu() - cpu0).Seconds(), six.PageViews, six.HeapMB, rss())
	}

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
	fmt.Printf("dashboard: %d events, %s segments, warm (navigation start to ready): %.0f ms, Chromium CPU %.1f s (page views: %s, JS heap of the page %.0f MB, renderer RSS %.0f MB; phases in ms: %s)\n",
		nEvents, name, warm.MS, warmCPU.Seconds(), warm.PageViews, warm.HeapMB, rss(), warm.Timings)
	return nil
}

type result struct {
	MS        float64 `json:"ms"`
	RangeMS   float64 `json:"rangeMS"`
	State     string  `json:"state"`
	PageViews string  `json:"pageViews"`
	HeapMB    float64 `json:"heapMB"`
	Timings   string  `json:"timings"`
	Load      string  `json:"load"`
	Start     float64 `json:"start"`
}

// firstFigures is the time from submitting the password to the first figures (the loader's
// timings.firstAt, ms since navigation start), when the loader reports it.
func firstFigures(r result) string {
	var t struct {
		FirstAt *float64 `json:"firstAt"`
	}
	if json.Unmarshal([]byte(r.Timings), &t) != nil || t.FirstAt == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f ms", *t.FirstAt-r.Start)
}

// sixMonths selects the 6-month range and resolves when the dashboard is ready again: the
// MutationObserver sees it leave "ready" however briefly.
const sixMonths = `new Promise((resolve) => {
  const root = () => document.querySelector('.dashboard')
  const sel = document.querySelector('#range-select')
  const opt = sel && [...sel.options].find(o => o.value === '6m')
  if (!opt || opt.disabled) { resolve({ state: 'no 6-month range offered' }); return }
  const first = root()
  let left = false
  const obs = new MutationObserver(() => { if (root() !== first || root().dataset.state !== 'ready') left = true })
  obs.observe(document.body, { attributes: true, subtree: true, childList: true, attributeFilter: ['data-state'] })
  const t0 = performance.now()
  sel.value = '6m'
  sel.dispatchEvent(new Event('change', { bubbles: true }))
  const check = () => {
    const el = root()
    const state = el ? el.dataset.state : 'gone'
    if ((left && state === 'ready' && !el.dataset.partial) || state === 'error' || performance.now() - t0 > 600000) {
      obs.disconnect()
      const fig = document.querySelector('[data-figure="pageViews"] .figure-value')
      resolve({ ms: performance.now() - t0, state: left || state === 'error' ? state : 'timeout', pageViews: fig ? fig.textContent : '',
        heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1e6 : 0 })
    } else setTimeout(check, 10)
  }
  check()
})`

// proc is what /proc/<pid>/stat says of one process (Linux; nothing elsewhere).
type proc struct {
	ppid  int
	ticks int64 // user and system CPU
	pages int64 // resident
}

// descendants returns the processes below pid (and pid itself).
func descendants(pid int) map[int]proc {
	entries, _ := os.ReadDir("/proc")
	all := map[int]proc{}
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
		if len(f) < 22 {
			continue
		}
		var pr proc
		pr.ppid, _ = strconv.Atoi(f[1])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		pr.ticks = utime + stime
		pr.pages, _ = strconv.ParseInt(f[21], 10, 64)
		all[p] = pr
	}
	out := map[int]proc{}
	for p, pr := range all {
		for q := p; q > 1; q = all[q].ppid {
			if q == pid {
				out[p] = pr
				break
			}
		}
	}
	return out
}

// rendererRSS is the resident memory in MB of the renderer processes below pid: the renderer
// holds the page and its workers, so this bounds their JS heaps together.
func rendererRSS(pid int) float64 {
	var pages int64
	for p, pr := range descendants(pid) {
		if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); bytes.Contains(cmd, []byte("--type=renderer")) {
			pages += pr.pages
		}
	}
	return float64(pages*int64(os.Getpagesize())) / 1e6
}

// treeCPU is the user and system CPU time used so far by process pid and its descendants.
// CPU time is less disturbed by other load than wall time.
func treeCPU(pid int) time.Duration {
	var ticks int64
	for _, pr := range descendants(pid) {
		ticks += pr.ticks
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// threadCPU maps "pid/tid name" to the CPU ticks of each thread of pid's process tree.
func threadCPU(pid int) map[string]int64 {
	out := map[string]int64{}
	for p := range descendants(pid) {
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
