// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistencetest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
)

// recorder captures what Dialects reports instead of failing this test.
type recorder struct {
	testing.TB
	errors, logs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func TestDialects(t *testing.T) {
	for _, tc := range []struct {
		name               string
		ci, pg, my         string
		wantNames          []string
		wantErrs, wantLogs int
	}{
		{"nothing set", "", "", "", []string{"sqlite3"}, 0, 2},
		{"nothing set under CI", "true", "", "", []string{"sqlite3"}, 2, 0},
		{"postgres only", "", "host=x", "", []string{"sqlite3", "postgres"}, 0, 1},
		{"both under CI", "true", "host=x", "u@tcp(x)/y", []string{"sqlite3", "postgres", "mysql"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("TEST_POSTGRES_DSN", tc.pg)
			t.Setenv("TEST_MYSQL_DSN", tc.my)
			r := &recorder{TB: t}
			got := persistencetest.Dialects(r)
			var names []string
			for _, d := range got {
				names = append(names, d.Name)
			}
			if fmt.Sprint(names) != fmt.Sprint(tc.wantNames) {
				t.Errorf("got dialects %v, want %v", names, tc.wantNames)
			}
			if len(r.errors) != tc.wantErrs || len(r.logs) != tc.wantLogs {
				t.Errorf("got errors %q and logs %q, want %d and %d", r.errors, r.logs, tc.wantErrs, tc.wantLogs)
			}
		})
	}
}

func TestNewStore(t *testing.T) {
	persistencetest.Run(t, func(t *testing.T, d persistencetest.Dialect) {
		ctx := context.Background()
		a := persistencetest.NewStore(t, d)
		b := persistencetest.NewStore(t, d)
		if err := a.PutCertificate(ctx, "only-in-a", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.GetCertificate(ctx, "only-in-a"); !errors.Is(err, persistence.ErrNotFound) {
			t.Fatalf("second store: got %v, want ErrNotFound (a database of its own)", err)
		}
		status, err := a.SchemaStatus(ctx)
		if err != nil || !status.Current() {
			t.Fatalf("got %+v, %v; want a current schema", status, err)
		}
		if a.Dialect() != d.Name {
			t.Errorf("got dialect %s, want %s", a.Dialect(), d.Name)
		}
	})
	if s := persistencetest.NewSQLiteStore(t); s.Dialect() != "sqlite3" {
		t.Errorf("NewSQLiteStore: got dialect %s", s.Dialect())
	}
}
