// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistencetest

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/offen/offen/persistence/relational"
)

// DumpRow is one row of a dumped table: every column's value as the bytes a
// dump would hold (byte columns as they are, text as UTF-8, other values
// formatted), nil for NULL.
type DumpRow map[string][]byte

// DatabaseDump is what an attacker holding a copy of the database has: every
// row of every table, read with plain SQL and no knowledge of the schema,
// and for SQLite also the raw bytes of the database file and its WAL (which
// may keep deleted rows).
type DatabaseDump struct {
	Tables map[string][]DumpRow
	// Files are the raw database files (SQLite only).
	Files []byte
}

// Bytes returns everything in the dump as one byte string: the raw files,
// then every table name, column name and value.
func (d DatabaseDump) Bytes() []byte {
	var b bytes.Buffer
	b.Write(d.Files)
	for _, name := range d.TableNames() {
		b.WriteString("\n" + name + "\n")
		for _, row := range d.Tables[name] {
			for col, v := range row {
				b.WriteString(col + "=")
				b.Write(v)
				b.WriteByte('\t')
			}
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TableNames returns the dumped tables in order.
func (d DatabaseDump) TableNames() []string {
	names := make([]string, 0, len(d.Tables))
	for n := range d.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Dump reads the whole database of d (a Dialect returned by NewDatabase)
// through a connection of its own. The store may stay open; for SQLite the
// file bytes are read as they are on disk at that moment.
func Dump(t testing.TB, d Dialect) DatabaseDump {
	t.Helper()
	var dialector gorm.Dialector
	var list string
	switch d.Name {
	case relational.DialectSQLite:
		dialector = sqlite.Open("file:" + d.DSN + "?mode=ro&_busy_timeout=5000")
		list = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	case relational.DialectPostgres:
		dialector = postgres.Open(d.DSN)
		list = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	case relational.DialectMySQL:
		dialector = mysql.Open(d.DSN)
		list = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
	default:
		t.Fatalf("dump: unknown dialect %q", d.Name)
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("dump %s: connect: %v", d.Name, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("dump %s: %v", d.Name, err)
	}
	defer sqlDB.Close()

	var tables []string
	if err := db.Raw(list).Scan(&tables).Error; err != nil {
		t.Fatalf("dump %s: list tables: %v", d.Name, err)
	}
	out := DatabaseDump{Tables: map[string][]DumpRow{}}
	for _, table := range tables {
		rows, err := db.Raw("SELECT * FROM " + quoteIdent(d.Name, table)).Rows()
		if err != nil {
			t.Fatalf("dump %s: read %s: %v", d.Name, table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatalf("dump %s: columns of %s: %v", d.Name, table, err)
		}
		var dumped []DumpRow
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: scan %s: %v", d.Name, table, err)
			}
			row := DumpRow{}
			for i, c := range cols {
				row[c] = dumpValue(vals[i])
			}
			dumped = append(dumped, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dump %s: read %s: %v", d.Name, table, err)
		}
		rows.Close()
		out.Tables[table] = dumped
	}
	if len(out.Tables) == 0 {
		t.Fatalf("dump %s: no tables", d.Name)
	}
	if d.Name == relational.DialectSQLite {
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(d.DSN + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatalf("dump: read %s: %v", d.DSN+suffix, err)
			}
			out.Files = append(out.Files, b...)
		}
	}
	return out
}

func dumpValue(v any) []byte {
	switch v := v.(type) {
	case nil:
		return nil
	case []byte:
		return append([]byte(nil), v...)
	case string:
		return []byte(v)
	case time.Time:
		return []byte(v.UTC().Format(time.RFC3339Nano))
	default:
		return []byte(fmt.Sprint(v))
	}
}

func quoteIdent(dialect, name string) string {
	if dialect == relational.DialectMySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
