// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

// errUnavailable marks a driver error as a reachability or overload problem
// while keeping the cause in the chain.
type errUnavailable struct{ err error }

func (e errUnavailable) Error() string { return e.err.Error() }
func (e errUnavailable) Unwrap() []error {
	return []error{persistence.ErrUnavailable, e.err}
}

func unavailable(err error) error {
	if err == nil || errors.Is(err, persistence.ErrUnavailable) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errUnavailable{err}
}

// translate wraps err with the operation's name and maps GORM and driver
// errors onto the persistence sentinels:
//
//	gorm.ErrRecordNotFound                     -> ErrNotFound
//	gorm.ErrDuplicatedKey                      -> ErrConflict
//	gorm.ErrForeignKeyViolated, check, too long -> ErrInvalid
//	connection failures, busy, deadlocks        -> ErrUnavailable
//
// Errors that already wrap a sentinel or a context error keep it.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, persistence.ErrNotFound), errors.Is(err, persistence.ErrConflict),
		errors.Is(err, persistence.ErrInvalid), errors.Is(err, persistence.ErrSchemaOutdated),
		errors.Is(err, persistence.ErrUnavailable):
	case errors.Is(err, gorm.ErrRecordNotFound):
		sentinel = persistence.ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		sentinel = persistence.ErrConflict
	case errors.Is(err, gorm.ErrForeignKeyViolated), errors.Is(err, gorm.ErrCheckConstraintViolated),
		isInvalidValue(err):
		sentinel = persistence.ErrInvalid
	case isUnavailable(err):
		sentinel = persistence.ErrUnavailable
	}
	if sentinel != nil {
		return fmt.Errorf("relational: %s: %w: %w", op, sentinel, err)
	}
	return fmt.Errorf("relational: %s: %w", op, err)
}

// sqlStater is implemented by PostgreSQL errors (pgconn.PgError).
type sqlStater interface{ SQLState() string }

func isInvalidValue(err error) bool {
	var st sqlStater
	if errors.As(err, &st) {
		// 22xxx data exceptions: value too long, invalid text, out of range.
		return strings.HasPrefix(st.SQLState(), "22")
	}
	msg := err.Error()
	return strings.Contains(msg, "Error 1406") || // data too long
		strings.Contains(msg, "Error 1366") // incorrect string value
}

func isUnavailable(err error) bool {
	// A connection that broke mid-query (the server went away, a proxy or
	// the network dropped it) surfaces as one of these rather than as a
	// net.Error, depending on where the driver noticed.
	for _, target := range []error{
		driver.ErrBadConn, sql.ErrConnDone, io.ErrUnexpectedEOF, net.ErrClosed,
		syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var st sqlStater
	if errors.As(err, &st) {
		code := st.SQLState()
		switch {
		case strings.HasPrefix(code, "08"), // connection exception
			strings.HasPrefix(code, "53"),    // insufficient resources
			strings.HasPrefix(code, "57P"),   // shutdown, cannot connect now
			code == "40001", code == "40P01": // serialization failure, deadlock
			return true
		}
		return false
	}
	msg := err.Error()
	for _, s := range []string{
		"database is locked", "database table is locked", // SQLite busy
		// SQLite's file gone, unreadable or full (a new connection of the
		// pool opens it again).
		"unable to open database file", "disk I/O error", "database or disk is full",
		"invalid connection", "bad connection", "connection refused", "broken pipe",
		"connection reset", "unexpected EOF", "conn closed", "failed to connect",
		"server closed the connection", "sql: database is closed",
		"Error 1040", // too many connections
		"Error 1205", // lock wait timeout
		"Error 1213", // deadlock
		"Error 2002", "Error 2003", "Error 2006", "Error 2013",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
