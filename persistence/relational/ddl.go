// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"fmt"
	"strings"
)

// The DDL of migration steps is written once, with logical column types, and
// rendered per dialect. A step keeps its own frozen table definitions; the
// types below must therefore never change their rendering.

type colType int

const (
	// tID is a fixed-length ASCII identifier compared byte-wise (UUID, ULID,
	// hex): CHAR(n) ascii_bin on MySQL, VARCHAR(n) COLLATE "C" on PostgreSQL.
	tID colType = iota
	// tASCII is a variable-length ASCII string compared byte-wise, up to n.
	tASCII
	// tVarchar is a variable-length Unicode string of up to n characters.
	tVarchar
	// tText is text up to 64 KiB (ciphertexts of keys, CSS, JSON lists).
	tText
	// tLongText is unbounded text (event payloads).
	tLongText
	// tBytes is a short binary string of up to n bytes (salts).
	tBytes
	// tBlob is an unbounded binary string.
	tBlob
	// tTime is a UTC timestamp with microseconds.
	tTime
	// tBool is a boolean.
	tBool
	// tInt64 is a 64-bit integer.
	tInt64
)

type column struct {
	name string
	typ  colType
	n    int
	null bool
}

type index struct {
	name   string
	cols   []string
	unique bool
}

type foreignKey struct {
	cols     []string
	refTable string
	refCols  []string
	cascade  bool
}

type table struct {
	name    string
	cols    []column
	pk      []string
	indexes []index
	fks     []foreignKey
	// withoutRowID makes the SQLite table a WITHOUT ROWID table: its rows
	// live in the primary key's B-tree, with no rowid B-tree beside it
	// (other dialects ignore it).
	withoutRowID bool
}

func col(name string, typ colType, n int) column { return column{name: name, typ: typ, n: n} }
func nullCol(name string, typ colType, n int) column {
	return column{name: name, typ: typ, n: n, null: true}
}

func (c column) sqlType(dialect string) string {
	switch dialect {
	case DialectMySQL:
		switch c.typ {
		case tID:
			return fmt.Sprintf("CHAR(%d) CHARACTER SET ascii COLLATE ascii_bin", c.n)
		case tASCII:
			return fmt.Sprintf("VARCHAR(%d) CHARACTER SET ascii COLLATE ascii_bin", c.n)
		case tVarchar:
			return fmt.Sprintf("VARCHAR(%d)", c.n)
		case tText:
			return "TEXT"
		case tLongText:
			return "LONGTEXT"
		case tBytes:
			return fmt.Sprintf("VARBINARY(%d)", c.n)
		case tBlob:
			return "LONGBLOB"
		case tTime:
			return "DATETIME(6)"
		case tBool:
			return "BOOLEAN"
		case tInt64:
			return "BIGINT"
		}
	case DialectPostgres:
		switch c.typ {
		case tID, tASCII:
			return fmt.Sprintf(`VARCHAR(%d) COLLATE "C"`, c.n)
		case tVarchar:
			return fmt.Sprintf("VARCHAR(%d)", c.n)
		case tText, tLongText:
			return "TEXT"
		case tBytes, tBlob:
			return "BYTEA"
		case tTime:
			return "TIMESTAMP(6) WITH TIME ZONE"
		case tBool:
			return "BOOLEAN"
		case tInt64:
			return "BIGINT"
		}
	default:
		switch c.typ {
		case tID, tASCII, tVarchar, tText, tLongText:
			return "TEXT"
		case tBytes, tBlob:
			return "BLOB"
		case tTime:
			// The declared type makes the driver return time.Time; values
			// are stored as UTC text that sorts in time order.
			return "DATETIME"
		case tBool:
			return "BOOLEAN"
		case tInt64:
			return "INTEGER"
		}
	}
	panic(fmt.Sprintf("relational: no %s type for column %s", dialect, c.name))
}

// createTable returns the statements creating t and its indexes. Each
// statement is idempotent (IF NOT EXISTS), so a step interrupted on MySQL,
// where DDL commits implicitly, can run again. On MySQL the indexes are part
// of CREATE TABLE, which has no CREATE INDEX IF NOT EXISTS.
func (t table) createTable(dialect string) []string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", t.name)
	var lines []string
	for _, c := range t.cols {
		line := "  " + c.name + " " + c.sqlType(dialect)
		if !c.null {
			line += " NOT NULL"
		}
		lines = append(lines, line)
	}
	lines = append(lines, "  PRIMARY KEY ("+strings.Join(t.pk, ", ")+")")
	if dialect == DialectMySQL {
		for _, ix := range t.indexes {
			kind := "KEY"
			if ix.unique {
				kind = "UNIQUE KEY"
			}
			lines = append(lines, fmt.Sprintf("  %s %s (%s)", kind, ix.name, strings.Join(ix.cols, ", ")))
		}
	}
	for _, fk := range t.fks {
		line := fmt.Sprintf("  CONSTRAINT fk_%s_%s FOREIGN KEY (%s) REFERENCES %s (%s)",
			t.name, strings.Join(fk.cols, "_"), strings.Join(fk.cols, ", "), fk.refTable, strings.Join(fk.refCols, ", "))
		if fk.cascade {
			line += " ON DELETE CASCADE"
		}
		lines = append(lines, line)
	}
	b.WriteString(strings.Join(lines, ",\n"))
	b.WriteString("\n)")
	if dialect == DialectMySQL {
		b.WriteString(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	}
	if dialect == DialectSQLite && t.withoutRowID {
		b.WriteString(" WITHOUT ROWID")
	}
	stmts := []string{b.String()}
	if dialect != DialectMySQL {
		stmts = append(stmts, t.createIndexes()...)
	}
	return stmts
}

// createIndexes returns CREATE INDEX IF NOT EXISTS statements for the
// indexes of t (SQLite and PostgreSQL).
func (t table) createIndexes() []string {
	var stmts []string
	for _, ix := range t.indexes {
		unique := ""
		if ix.unique {
			unique = "UNIQUE "
		}
		stmts = append(stmts, fmt.Sprintf("CREATE %sINDEX IF NOT EXISTS %s ON %s (%s)",
			unique, ix.name, t.name, strings.Join(ix.cols, ", ")))
	}
	return stmts
}
