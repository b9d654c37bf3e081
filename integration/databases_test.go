// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Database is a database an instance runs on. The journeys run on SQLite
// always, on PostgreSQL when TEST_POSTGRES_DSN is set and on MySQL/MariaDB
// when TEST_MYSQL_DSN is set (CI=true makes both mandatory). Each instance
// gets a fresh, uniquely named database on the server, dropped when its test
// ends (KEEPDB=1 keeps it); the harness talks to the servers through their
// command line clients (psql, mysql, pg_dump, mysqldump), so the package
// stays a black box that imports nothing of the module.
type Database struct {
	// Dialect is "sqlite3", "postgres" or "mysql" (OFFEN_DATABASE_DIALECT).
	Dialect string
	// DSN is the server's DSN in Databases; the fresh database's DSN on an
	// Offen (OFFEN_DATABASE_CONNECTIONSTRING).
	DSN string
	// name is the fresh database's name (server databases).
	name string
}

// Databases returns SQLite and every server database configured by the
// environment. A missing DSN is one log line, or a failure under CI=true.
func Databases(t *testing.T) []Database {
	t.Helper()
	list := []Database{{Dialect: "sqlite3"}}
	for _, d := range []struct{ dialect, env string }{
		{"postgres", "TEST_POSTGRES_DSN"},
		{"mysql", "TEST_MYSQL_DSN"},
	} {
		dsn := os.Getenv(d.env)
		switch {
		case dsn != "":
			list = append(list, Database{Dialect: d.dialect, DSN: dsn})
		case os.Getenv("CI") == "true":
			t.Errorf("CI=true: %s is not set", d.env)
		default:
			t.Logf("skipping %s: %s is not set", d.dialect, d.env)
		}
	}
	return list
}

var (
	pgDBName = regexp.MustCompile(`dbname=\S+`)
	// mysqlDSN reads user[:password]@tcp(host:port)/name[?params].
	mysqlDSN = regexp.MustCompile(`^([^:@]+)(?::([^@]*))?@tcp\(([^:)]+):(\d+)\)/([^?]*)(.*)$`)
)

// newDatabase makes a fresh database like d for t; for SQLite it is the
// file sqlitePath.
func newDatabase(t *testing.T, d Database, sqlitePath string) Database {
	t.Helper()
	switch d.Dialect {
	case "", "sqlite3":
		return Database{Dialect: "sqlite3", DSN: sqlitePath}
	case "postgres", "mysql":
	default:
		t.Fatalf("unknown dialect %q", d.Dialect)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "offen_it_" + hex.EncodeToString(b)
	fresh := Database{Dialect: d.Dialect, name: name}
	if d.Dialect == "postgres" {
		if !pgDBName.MatchString(d.DSN) {
			t.Fatalf("TEST_POSTGRES_DSN has no dbname=: %q", d.DSN)
		}
		fresh.DSN = pgDBName.ReplaceAllString(d.DSN, "dbname="+name)
		d.sql(t, "CREATE DATABASE "+name)
	} else {
		m := mysqlDSN.FindStringSubmatch(d.DSN)
		if m == nil {
			t.Fatalf("cannot read TEST_MYSQL_DSN %q", d.DSN)
		}
		cred := m[1]
		if m[2] != "" {
			cred += ":" + m[2]
		}
		fresh.DSN = cred + "@tcp(" + m[3] + ":" + m[4] + ")/" + name + m[6]
		d.sql(t, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	}
	t.Cleanup(func() {
		if os.Getenv("KEEPDB") == "1" {
			t.Logf("KEEPDB=1: keeping %s database %s", d.Dialect, name)
			return
		}
		drop := "DROP DATABASE IF EXISTS " + name
		if d.Dialect == "postgres" {
			drop += " WITH (FORCE)"
		}
		d.sql(t, drop)
	})
	return fresh
}

// client returns the command line client for d running query.
func (d Database) client(query string) *exec.Cmd {
	if d.Dialect == "postgres" {
		return exec.Command("psql", "--no-psqlrc", "-X", "-v", "ON_ERROR_STOP=1", "-Atq", "-d", d.DSN, "-c", query)
	}
	m := mysqlDSN.FindStringSubmatch(d.DSN)
	args := []string{"--protocol=tcp", "-h", m[3], "-P", m[4], "-u", m[1], "-N", "-B", "-e", query}
	if m[5] != "" {
		args = append(args, m[5])
	}
	cmd := exec.Command("mysql", args...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+m[2])
	return cmd
}

// sql runs a statement on d's server and returns its output.
func (d Database) sql(t *testing.T, query string) string {
	t.Helper()
	cmd := d.client(query)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v: %s", cmd.Path, query, err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// count returns the rows of a table of a server database.
func (d Database) count(t *testing.T, table string) int {
	t.Helper()
	n, err := strconv.Atoi(d.sql(t, "SELECT count(*) FROM "+table))
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// Dump returns everything the instance's database holds: the SQLite files
// byte for byte (WAL included), or the output of pg_dump or mysqldump.
func (o *Offen) Dump() []byte {
	o.t.Helper()
	var cmd *exec.Cmd
	switch o.Database.Dialect {
	case "sqlite3":
		return o.DatabaseBytes()
	case "postgres":
		cmd = exec.Command("pg_dump", "--no-owner", "--dbname", o.Database.DSN)
	case "mysql":
		m := mysqlDSN.FindStringSubmatch(o.Database.DSN)
		cmd = exec.Command("mysqldump", "--protocol=tcp", "-h", m[3], "-P", m[4], "-u", m[1], "--skip-extended-insert", m[5])
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+m[2])
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		o.t.Fatalf("%s: %v: %s", cmd.Path, err, errOut.String())
	}
	if !bytes.Contains(out.Bytes(), []byte(o.AccountID)) {
		o.t.Fatalf("the %s dump does not hold the account id, so searching it would prove nothing", o.Database.Dialect)
	}
	return out.Bytes()
}
