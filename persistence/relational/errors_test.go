// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/persistence/relational"
)

func TestTranslate(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"record not found", gorm.ErrRecordNotFound, persistence.ErrNotFound},
		{"duplicate key", fmt.Errorf("insert: %w", gorm.ErrDuplicatedKey), persistence.ErrConflict},
		{"foreign key", gorm.ErrForeignKeyViolated, persistence.ErrInvalid},
		{"check constraint", gorm.ErrCheckConstraintViolated, persistence.ErrInvalid},
		{"sqlite busy", errors.New("database is locked"), persistence.ErrUnavailable},
		{"mysql deadlock", errors.New("Error 1213 (40001): Deadlock found"), persistence.ErrUnavailable},
		{"mysql data too long", errors.New("Error 1406 (22001): Data too long"), persistence.ErrInvalid},
		{"postgres deadlock", sqlStateError("40P01"), persistence.ErrUnavailable},
		{"connection lost mid-query", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), persistence.ErrUnavailable},
		{"pgx conn closed", errors.New("conn closed"), persistence.ErrUnavailable},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, persistence.ErrUnavailable},
		{"postgres too many clients", sqlStateError("53300"), persistence.ErrUnavailable},
		{"sqlite unreadable file", errors.New("unable to open database file: permission denied"), persistence.ErrUnavailable},
		{"postgres connection", sqlStateError("08006"), persistence.ErrUnavailable},
		{"postgres too long", sqlStateError("22001"), persistence.ErrInvalid},
		{"kept sentinel", fmt.Errorf("x: %w", persistence.ErrNotFound), persistence.ErrNotFound},
		{"context", context.Canceled, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := relational.Translate("do thing", tc.err)
			if !errors.Is(got, tc.want) {
				t.Errorf("got %v, want it to wrap %v", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("got %v, want it to keep the cause %v", got, tc.err)
			}
			if !strings.HasPrefix(got.Error(), "relational: do thing: ") {
				t.Errorf("got message %q, want the operation's prefix", got)
			}
		})
	}
	if relational.Translate("x", nil) != nil {
		t.Error("nil error translated to non-nil")
	}
	if err := relational.Translate("x", errors.New("other")); errors.Is(err, persistence.ErrInvalid) ||
		errors.Is(err, persistence.ErrUnavailable) || errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("unknown error got a sentinel: %v", err)
	}
}

type sqlStateError string

func (e sqlStateError) Error() string    { return "pg error " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

// TestDatabaseErrors checks the mapping on errors the real databases raise.
func TestDatabaseErrors(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		store := persistencetest.NewStore(t, d)
		now := time.Now().UTC()

		err := store.Exec(ctx, `INSERT INTO grants (login_id, account_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			newUUID(), newUUID(), "admin", now, now)
		if !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("foreign key violation: got %v, want ErrInvalid", err)
		}

		id := newUUID()
		insertLogin := func() error {
			return store.Exec(ctx, `INSERT INTO logins (login_id, email_index, from_setup, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				newUUID(), id, false, now, now)
		}
		if err := insertLogin(); err != nil {
			t.Fatal(err)
		}
		if err := insertLogin(); !errors.Is(err, persistence.ErrConflict) {
			t.Errorf("unique index violation: got %v, want ErrConflict", err)
		}

		if d.Name != relational.DialectSQLite {
			// SQLite does not enforce lengths.
			err := store.Exec(ctx, `INSERT INTO certificates (name, data, updated_at) VALUES (?, ?, ?)`,
				strings.Repeat("n", 300), []byte("x"), now)
			if !errors.Is(err, persistence.ErrInvalid) {
				t.Errorf("value too long: got %v, want ErrInvalid", err)
			}
		}

		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := store.FindAccount(cancelled, newUUID()); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled context: got %v, want context.Canceled", err)
		}

		if err := store.Ping(ctx); err != nil {
			t.Errorf("ping: %v", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts relational.Options
		want error
	}{
		{"unknown dialect", relational.Options{Dialect: "oracle", DSN: "x"}, persistence.ErrInvalid},
		{"empty dsn", relational.Options{Dialect: "sqlite3"}, persistence.ErrInvalid},
		{"sqlite in missing directory", relational.Options{Dialect: "sqlite3", DSN: "/nonexistent/dir/offen.db"}, persistence.ErrUnavailable},
		{"postgres refused", relational.Options{Dialect: "postgres", DSN: "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=2", ConnectionRetries: 1}, persistence.ErrUnavailable},
		{"mysql refused", relational.Options{Dialect: "mysql", DSN: "x@tcp(127.0.0.1:1)/x?timeout=2s"}, persistence.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := relational.Open(ctx, tc.opts)
			if err == nil {
				store.Close()
				t.Fatal("got a store, want an error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "relational: open: ") {
				t.Errorf("got message %q", err)
			}
		})
	}
	t.Run("cancelled while retrying", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := relational.Open(ctx, relational.Options{Dialect: "mysql", DSN: "x@tcp(127.0.0.1:1)/x", ConnectionRetries: 100})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestSchemaStatusUnreachable tells an unreachable database from an empty one.
func TestSchemaStatusUnreachable(t *testing.T) {
	store := persistencetest.NewSQLiteStore(t)
	store.Close()
	if _, err := store.SchemaStatus(context.Background()); !errors.Is(err, persistence.ErrUnavailable) {
		t.Errorf("schema status: got %v, want ErrUnavailable", err)
	}
	if err := store.Ping(context.Background()); !errors.Is(err, persistence.ErrUnavailable) {
		t.Errorf("ping: got %v, want ErrUnavailable", err)
	}
}
