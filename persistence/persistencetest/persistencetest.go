// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package persistencetest gives tests real, fresh, migrated stores on every
// database the environment offers.
//
// SQLite is always available. PostgreSQL runs when TEST_POSTGRES_DSN is set
// and MySQL/MariaDB when TEST_MYSQL_DSN is set; each test then gets its own
// uniquely named database on that server, dropped in t.Cleanup unless
// KEEPDB=1. A missing DSN is a one-line log message, or a test failure when
// CI=true.
//
//	for _, d := range persistencetest.Dialects(t) {
//		t.Run(d.Name, func(t *testing.T) {
//			store := persistencetest.NewStore(t, d)
//			...
//		})
//	}
package persistencetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/offen/offen/persistence/relational"
)

// Dialect is a database a test can run on. DSN is the server's DSN (empty for
// SQLite); NewDatabase turns it into a fresh database of its own.
type Dialect struct {
	// Name is the relational dialect ("sqlite3", "mysql", "postgres") and
	// makes a good subtest name.
	Name string
	DSN  string
}

// SQLite is the dialect that is always available.
var SQLite = Dialect{Name: relational.DialectSQLite}

// Dialects returns SQLite and every server database configured through
// TEST_POSTGRES_DSN and TEST_MYSQL_DSN. For a missing DSN it logs one line,
// or fails the test when CI=true.
func Dialects(t testing.TB) []Dialect {
	t.Helper()
	dialects := []Dialect{SQLite}
	for _, c := range []struct{ name, env string }{
		{relational.DialectPostgres, "TEST_POSTGRES_DSN"},
		{relational.DialectMySQL, "TEST_MYSQL_DSN"},
	} {
		dsn := os.Getenv(c.env)
		if dsn != "" {
			dialects = append(dialects, Dialect{Name: c.name, DSN: dsn})
			continue
		}
		if os.Getenv("CI") == "true" {
			t.Errorf("%s is not set: CI=true requires the %s tests to run", c.env, c.name)
			continue
		}
		t.Logf("skipping %s: %s is not set", c.name, c.env)
	}
	return dialects
}

// Run runs fn as one parallel subtest per dialect of Dialects.
func Run(t *testing.T, fn func(t *testing.T, d Dialect)) {
	t.Helper()
	for _, d := range Dialects(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

// Option adjusts the relational.Options a test store opens with.
type Option func(*relational.Options)

// WithNow sets the store's clock.
func WithNow(now func() time.Time) Option {
	return func(o *relational.Options) { o.Now = now }
}

// WithLogger sets the store's logger (by default logs are discarded).
func WithLogger(l *slog.Logger) Option {
	return func(o *relational.Options) { o.Logger = l }
}

// NewStore returns a migrated store on a fresh database of dialect d, closed
// (and the database dropped) when the test ends.
func NewStore(t testing.TB, d Dialect, opts ...Option) *relational.Store {
	t.Helper()
	store := OpenStore(t, NewDatabase(t, d), opts...)
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d.Name, err)
	}
	return store
}

// NewSQLiteStore returns a migrated store on a fresh SQLite file in
// t.TempDir(), the usual store for server tests.
func NewSQLiteStore(t testing.TB, opts ...Option) *relational.Store {
	t.Helper()
	return NewStore(t, SQLite, opts...)
}

// OpenStore opens a store on the database of d (as returned by NewDatabase)
// without migrating, closed when the test ends. Opening it twice gives two
// instances on one database.
func OpenStore(t testing.TB, d Dialect, opts ...Option) *relational.Store {
	t.Helper()
	o := relational.Options{Dialect: d.Name, DSN: d.DSN}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := relational.Open(ctx, o)
	if err != nil {
		t.Fatalf("open %s store: %v", d.Name, err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("close %s store: %v", d.Name, err)
		}
	})
	return store
}

// NewDatabase creates an empty database for this test and returns the
// dialect with its DSN: a file in t.TempDir() for SQLite, a uniquely named
// database on the server otherwise, dropped in t.Cleanup unless KEEPDB=1.
func NewDatabase(t testing.TB, d Dialect) Dialect {
	t.Helper()
	switch d.Name {
	case relational.DialectSQLite:
		return Dialect{Name: d.Name, DSN: filepath.Join(t.TempDir(), "offen.db")}
	case relational.DialectPostgres, relational.DialectMySQL:
	default:
		t.Fatalf("unknown dialect %q", d.Name)
	}
	name := databaseName(t)
	admin := adminDB(t, d)
	create := "CREATE DATABASE " + name
	drop := "DROP DATABASE IF EXISTS " + name
	if d.Name == relational.DialectMySQL {
		create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	} else {
		drop += " WITH (FORCE)"
	}
	if err := admin.Exec(create).Error; err != nil {
		t.Fatalf("create %s database %s: %v", d.Name, name, err)
	}
	// Registered before the stores' Close, so it runs after them.
	t.Cleanup(func() {
		if os.Getenv("KEEPDB") == "1" {
			t.Logf("KEEPDB=1: keeping %s database %s", d.Name, name)
			return
		}
		if err := admin.Exec(drop).Error; err != nil {
			t.Errorf("drop %s database %s: %v", d.Name, name, err)
		}
	})
	dsn, err := withDatabase(d, name)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return Dialect{Name: d.Name, DSN: dsn}
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName is unique and names the test, to find it with KEEPDB=1.
func databaseName(t testing.TB) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	base := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(base) > 30 {
		base = base[:30]
	}
	return "offen_test_" + base + "_" + hex.EncodeToString(b)
}

var (
	adminMu  sync.Mutex
	adminDBs = map[Dialect]*gorm.DB{}
)

// adminDB returns a small shared connection pool to the server of d, used to
// create and drop test databases.
func adminDB(t testing.TB, d Dialect) *gorm.DB {
	t.Helper()
	adminMu.Lock()
	defer adminMu.Unlock()
	if db, ok := adminDBs[d]; ok {
		return db
	}
	var dialector gorm.Dialector
	if d.Name == relational.DialectMySQL {
		dialector = mysql.Open(d.DSN)
	} else {
		dialector = postgres.Open(d.DSN)
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to %s test server: %v", d.Name, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("connect to %s test server: %v", d.Name, err)
	}
	sqlDB.SetMaxOpenConns(2)
	adminDBs[d] = db
	return db
}

// withDatabase returns the server DSN of d pointing at database name.
func withDatabase(d Dialect, name string) (string, error) {
	dsn := d.DSN
	if d.Name == relational.DialectMySQL {
		// user:pass@tcp(host:port)/dbname?params
		slash := strings.LastIndex(dsn, "/")
		if slash < 0 {
			return "", fmt.Errorf("TEST_MYSQL_DSN %q has no /database part", dsn)
		}
		rest := ""
		if q := strings.Index(dsn[slash:], "?"); q >= 0 {
			rest = dsn[slash+q:]
		}
		return dsn[:slash+1] + name + rest, nil
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("TEST_POSTGRES_DSN: %w", err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// key=value: a later dbname overrides an earlier one.
	return dsn + " dbname=" + name, nil
}
