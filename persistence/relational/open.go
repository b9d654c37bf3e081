// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package relational implements persistence.Store with GORM on SQLite
// ("sqlite3"), MySQL/MariaDB ("mysql") and PostgreSQL ("postgres").
//
// It is the only package that imports gorm. Every public method runs in one
// transaction and returns errors wrapping the persistence sentinels, prefixed
// with "relational: <operation>: ". The schema is created by the versioned
// steps in migrations.go (never AutoMigrate); Open does not migrate.
//
// Writing code inside this package follows three rules: use s.write or
// s.read (which translate errors), take times from s.now() (UTC, microsecond
// precision, injectable), and take seq values from s.Seq() inside the write
// transaction that stores them. createAccountTx inserts an account inside a
// transaction that also writes other rows (setup, account creation with a
// grant).
//
// Write throughput: SQLite allows one writer at a time, so the store gives
// writes exactly one connection (BEGIN IMMEDIATE) and reads a separate pool
// of query-only connections; concurrent writers queue in the Go pool instead
// of failing with SQLITE_BUSY, and readers never wait for them (WAL). A
// commit appends to the WAL without fsync (synchronous=NORMAL), so the cost
// is per transaction: ingest should put many events into one s.write (group
// commit) rather than one transaction per event (see BenchmarkWriteEvents).
// On PostgreSQL and MySQL, Options.MaxOpenConns bounds concurrent
// transactions; callers beyond it wait until their context ends, which is the
// back-pressure.
package relational

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

// Dialect names accepted by Open.
const (
	DialectSQLite   = "sqlite3"
	DialectMySQL    = "mysql"
	DialectPostgres = "postgres"
)

// Options configure Open.
type Options struct {
	// Dialect is "sqlite3", "mysql" or "postgres".
	Dialect string
	// DSN is a file path (sqlite3; ":memory:" for a private in-memory
	// database), a go-sql-driver DSN (mysql) or a libpq key=value string or
	// URL (postgres).
	DSN string
	// ConnectionRetries is how often Open retries a failed first connection,
	// with exponential backoff from 500ms up to 10s between attempts.
	ConnectionRetries int
	// Logger receives warnings: statements slower than a second (without
	// their parameters) and connection retries. Nil discards them.
	Logger *slog.Logger
	// Now is the clock for timestamps, leases, expiry and seq. Nil means
	// time.Now.
	Now func() time.Time
	// MaxOpenConns caps the connection pool of mysql and postgres (default 20).
	// SQLite always writes through one connection and reads through a pool.
	MaxOpenConns int
}

// Store implements persistence.Store. It is safe for concurrent use.
type Store struct {
	dialect string
	dsn     string
	// db runs writes. On SQLite it holds exactly one connection, so writers
	// queue in the pool instead of failing with SQLITE_BUSY.
	db *gorm.DB
	// rdb runs reads. On SQLite it is a separate pool of read-only
	// connections (WAL lets them read while the writer writes); elsewhere it
	// is db.
	rdb    *gorm.DB
	logger *slog.Logger
	clock  func() time.Time
	seq    *SeqClock
	// holder names this store in lease rows.
	holder string
	// leaseTTL is the lifetime of the leases this store takes (tests
	// shorten it).
	leaseTTL time.Duration
	// closers run first in Close, last added first (see onClose).
	closersMu sync.Mutex
	closers   []func() error
	// accounts caches FindAccountCached.
	accounts accountCache
	// commitTimeout is T (persistence.MaxCommitDelay); tests shorten it.
	commitTimeout time.Duration
	// syncWindow is W (persistence.SyncWindow); tests change it.
	syncWindow time.Duration
	// commitDelay, when set by tests, runs before each commit of a
	// transaction that took a seq.
	commitDelay func(ctx context.Context) error
	// ingest is the group-commit writer of CreateEvents.
	ingest *ingester
}

var _ persistence.Store = (*Store)(nil)

// Open connects to the database and checks it answers. It does not migrate.
// It returns ErrInvalid for an unknown dialect or empty DSN and
// ErrUnavailable when no connection succeeded after the retries (or the
// context's error when it ended first).
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.DSN == "" {
		return nil, fmt.Errorf("relational: open: empty dsn: %w", persistence.ErrInvalid)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 20
	}
	s := &Store{
		dialect:  opts.Dialect,
		dsn:      opts.DSN,
		logger:   opts.Logger,
		clock:    opts.Now,
		seq:      NewSeqClock(opts.Now),
		holder:   newHolder(),
		leaseTTL: leaseTTL,

		commitTimeout: persistence.MaxCommitDelay,
		syncWindow:    persistence.SyncWindow,
	}
	wait := 500 * time.Millisecond
	var err error
	for attempt := 0; ; attempt++ {
		err = s.connect(ctx, opts)
		if err == nil {
			s.ingest = newIngester(s)
			s.ingest.start()
			// Answer every queued ingest request before the pools go.
			s.onClose(func() error { s.ingest.close(); return nil })
			return s, nil
		}
		if errors.Is(err, persistence.ErrInvalid) || attempt >= opts.ConnectionRetries {
			break
		}
		s.logger.WarnContext(ctx, "database not reachable, retrying",
			"dialect", opts.Dialect, "attempt", attempt+1, "wait", wait.String())
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("relational: open: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
	if !errors.Is(err, persistence.ErrInvalid) {
		err = unavailable(err)
	}
	return nil, translate("open", err)
}

// connect opens the pools and pings them; on failure nothing stays open.
func (s *Store) connect(ctx context.Context, opts Options) error {
	cfg := func() *gorm.Config {
		return &gorm.Config{
			TranslateError:         true,
			SkipDefaultTransaction: true,
			// Pinged below with the caller's context instead.
			DisableAutomaticPing: true,
			NowFunc:              s.now,
			Logger:               slowLogger{log: opts.Logger, threshold: time.Second},
		}
	}
	switch opts.Dialect {
	case DialectSQLite:
		memory := opts.DSN == ":memory:" || strings.Contains(opts.DSN, "mode=memory")
		registerWriterDriver()
		w, err := openGORM(sqlite.New(sqlite.Config{DriverName: writerDriver, DSN: sqliteDSN(opts.DSN, true, memory, false)}), cfg())
		if err != nil {
			return err
		}
		wdb, err := w.DB()
		if err != nil {
			return err
		}
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		wdb.SetConnMaxIdleTime(0)
		if err := wdb.PingContext(ctx); err != nil {
			_ = wdb.Close()
			return err
		}
		s.db, s.rdb = w, w
		if memory {
			// A private in-memory database exists once per connection, so
			// reads must share the writer's.
			return nil
		}
		r, err := openGORM(sqlite.Open(sqliteDSN(opts.DSN, false, false, false)), cfg())
		if err != nil {
			_ = wdb.Close()
			return err
		}
		rdb, err := r.DB()
		if err != nil {
			_ = wdb.Close()
			return err
		}
		n := max(4, 2*runtime.GOMAXPROCS(0))
		rdb.SetMaxOpenConns(n)
		rdb.SetMaxIdleConns(n)
		rdb.SetConnMaxIdleTime(5 * time.Minute)
		if err := rdb.PingContext(ctx); err != nil {
			_ = wdb.Close()
			_ = rdb.Close()
			return err
		}
		ck, err := startCheckpointer(opts.DSN)
		if err != nil {
			_ = wdb.Close()
			_ = rdb.Close()
			return err
		}
		s.rdb = r
		s.onClose(ck.close)
		return nil
	case DialectMySQL, DialectPostgres:
		var dialector gorm.Dialector
		if opts.Dialect == DialectMySQL {
			dialector = mysql.Open(mysqlDSN(opts.DSN))
		} else {
			dialector = postgres.Open(opts.DSN)
		}
		db, err := openGORM(dialector, cfg())
		if err != nil {
			return err
		}
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
		sqlDB.SetMaxIdleConns(opts.MaxOpenConns)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		if err := sqlDB.PingContext(ctx); err != nil {
			_ = sqlDB.Close()
			return err
		}
		s.db, s.rdb = db, db
		return nil
	default:
		return fmt.Errorf("unknown dialect %q: %w", opts.Dialect, persistence.ErrInvalid)
	}
}

// openGORM is gorm.Open that leaves no pool open when it fails (the MySQL
// dialector queries the server version while initializing).
func openGORM(dialector gorm.Dialector, cfg *gorm.Config) (*gorm.DB, error) {
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		if db != nil {
			if sqlDB, dbErr := db.DB(); dbErr == nil && sqlDB != nil {
				_ = sqlDB.Close()
			}
		}
		return nil, err
	}
	return db, nil
}

// sqliteDSN adds the pragmas every connection needs: WAL so readers do not
// block the writer, a busy timeout for other processes (offen migrate next
// to offen serve), foreign keys, and synchronous=NORMAL, which in WAL mode
// loses no committed transaction on a process crash. The writer begins
// IMMEDIATE transactions so that a transaction never fails upgrading from a
// read to a write lock; the readers are query-only.
func sqliteDSN(dsn string, writer, memory, checkpointer bool) string {
	params := []string{"_busy_timeout=10000", "_foreign_keys=1", "_synchronous=NORMAL"}
	if !memory {
		params = append(params, "_journal_mode=WAL")
	}
	switch {
	case writer:
		params = append(params, "_txlock=immediate")
	case !checkpointer:
		params = append(params, "_query_only=1")
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + strings.Join(params, "&")
}

// mysqlDSN forces the settings the store relies on: times parsed as UTC, and
// affected rows counting matched rows (as SQLite and PostgreSQL do), so an
// update that changes nothing is not mistaken for a missing row.
func mysqlDSN(dsn string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "parseTime=true&loc=UTC&clientFoundRows=true&charset=utf8mb4"
}

func newHolder() string {
	host, _ := os.Hostname()
	if len(host) > 40 {
		host = host[:40]
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// Dialect returns the dialect name the store was opened with.
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers; see persistence.Maintenance.
func (s *Store) Ping(ctx context.Context) error {
	// The read pool: on SQLite the single write connection may be busy with
	// a long write, which says nothing about reachability.
	sqlDB, err := s.rdb.DB()
	if err != nil {
		return translate("ping", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return translate("ping", unavailable(err))
	}
	return nil
}

// onClose registers fn to run at the start of Close, before the pools
// close: background workers (such as a group-commit writer) stop and flush
// there. Functions run in reverse order of registration.
func (s *Store) onClose(fn func() error) {
	s.closersMu.Lock()
	defer s.closersMu.Unlock()
	s.closers = append(s.closers, fn)
}

// Close stops background work registered with onClose, then closes both
// pools; see persistence.Maintenance.
func (s *Store) Close() error {
	var errs []error
	s.closersMu.Lock()
	closers := s.closers
	s.closers = nil
	s.closersMu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	if sqlDB, err := s.db.DB(); err == nil {
		errs = append(errs, sqlDB.Close())
	}
	if s.rdb != s.db {
		if sqlDB, err := s.rdb.DB(); err == nil {
			errs = append(errs, sqlDB.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("relational: close: %w", err)
	}
	return nil
}

// now is the store's clock in UTC, truncated to microseconds, the precision
// every dialect keeps, so stored times compare equal after a round trip.
func (s *Store) now() time.Time {
	return utc(s.clock())
}

func utc(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
