// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

// A migration is one schema step. Its id is stable and sorts after every
// earlier id; its up function uses only definitions frozen inside the step,
// so later code changes cannot alter what an old step does. Never edit an
// applied step: append a new one.
type migration struct {
	id string
	up func(tx *gorm.DB, dialect string) error
}

// migrations lists every step in order.
var migrations = []migration{
	{id: "0001_initial_schema", up: migrateInitialSchema},
	{id: "0002_events_ingest_layout", up: migrateEventsIngestLayout},
	{id: "0003_segments", up: migrateSegments},
}

// bootstrapTables are created before any step runs, outside the versioned
// list, because the lease that guards the steps lives in them. Frozen.
var bootstrapTables = []table{
	{
		name: "migrations",
		cols: []column{col("id", tASCII, 64), col("applied_at", tTime, 0)},
		pk:   []string{"id"},
	},
	{
		name: "locks",
		cols: []column{col("name", tASCII, 64), col("holder", tASCII, 64), col("expires_at", tTime, 0)},
		pk:   []string{"name"},
	},
}

// migrateInitialSchema creates the schema of PROTOCOL.md §5. Conventions the
// other areas rely on: account and login ids are CHAR(36) UUIDs, event and
// tombstone ids CHAR(26) ULIDs, key ids CHAR(32) hex, secret ids and every
// stored hash (email_index, token_hash, recovery_proof_hash) CHAR(64)
// lowercase hex; grants.invitation_id holds the one_time_tokens.token_id of
// the invitation; a login is pending while auth_hash is NULL.
func migrateInitialSchema(tx *gorm.DB, dialect string) error {
	tables := []table{
		{
			name: "accounts",
			cols: []column{
				col("account_id", tID, 36),
				col("name", tVarchar, 100),
				col("public_key", tText, 0),
				col("encrypted_private_key", tText, 0),
				col("user_salt", tBytes, 16),
				col("allowed_origins", tText, 0),
				col("banner_css", tText, 0),
				nullCol("retired_at", tTime, 0),
				col("created_at", tTime, 0),
				col("updated_at", tTime, 0),
			},
			pk: []string{"account_id"},
		},
		{
			name: "logins",
			cols: []column{
				col("login_id", tID, 36),
				col("email_index", tID, 64),
				col("from_setup", tBool, 0),
				nullCol("kdf", tASCII, 64),
				nullCol("kdf_salt", tBytes, 64),
				nullCol("auth_hash", tText, 0),
				nullCol("wrapped_login_key", tText, 0),
				nullCol("recovery_wrapped_login_key", tText, 0),
				nullCol("recovery_proof_hash", tASCII, 128),
				col("created_at", tTime, 0),
				col("updated_at", tTime, 0),
				nullCol("last_login_at", tTime, 0),
			},
			pk:      []string{"login_id"},
			indexes: []index{{name: "logins_email_index", cols: []string{"email_index"}, unique: true}},
		},
		{
			name: "grants",
			cols: []column{
				col("login_id", tID, 36),
				col("account_id", tID, 36),
				col("role", tASCII, 16),
				nullCol("wrapped_kek", tText, 0),
				nullCol("invite_wrapped_kek", tText, 0),
				nullCol("invitation_id", tASCII, 64),
				nullCol("label", tText, 0),
				nullCol("created_by", tID, 36),
				col("created_at", tTime, 0),
				col("updated_at", tTime, 0),
			},
			pk:      []string{"login_id", "account_id"},
			indexes: []index{{name: "grants_account", cols: []string{"account_id"}}},
			fks: []foreignKey{
				{cols: []string{"login_id"}, refTable: "logins", refCols: []string{"login_id"}, cascade: true},
				{cols: []string{"account_id"}, refTable: "accounts", refCols: []string{"account_id"}, cascade: true},
			},
		},
		{
			name: "secrets",
			cols: []column{
				col("key_id", tID, 32),
				col("account_id", tID, 36),
				col("secret_id", tID, 64),
				col("wrapped_secret", tText, 0),
				col("seq", tInt64, 0),
				col("created_at", tTime, 0),
			},
			pk: []string{"key_id"},
			indexes: []index{
				{name: "secrets_account_seq", cols: []string{"account_id", "seq", "key_id"}},
				{name: "secrets_secret", cols: []string{"secret_id"}},
				{name: "secrets_created", cols: []string{"created_at"}},
			},
		},
		{
			name: "events",
			cols: []column{
				col("event_id", tID, 26),
				col("account_id", tID, 36),
				col("secret_id", tID, 64),
				col("key_id", tID, 32),
				col("payload", tLongText, 0),
				col("seq", tInt64, 0),
			},
			pk: []string{"event_id"},
			indexes: []index{
				{name: "events_account_seq", cols: []string{"account_id", "seq", "event_id"}},
				{name: "events_secret_seq", cols: []string{"secret_id", "seq", "event_id"}},
				{name: "events_key", cols: []string{"key_id"}},
			},
		},
		{
			name: "tombstones",
			cols: []column{
				col("tombstone_id", tID, 26),
				col("account_id", tID, 36),
				nullCol("secret_id", tID, 64),
				col("kind", tASCII, 16),
				col("target", tASCII, 64),
				col("seq", tInt64, 0),
			},
			pk: []string{"tombstone_id"},
			indexes: []index{
				{name: "tombstones_account_seq", cols: []string{"account_id", "seq", "tombstone_id"}},
				{name: "tombstones_secret_seq", cols: []string{"secret_id", "seq", "tombstone_id"}},
				{name: "tombstones_seq", cols: []string{"seq"}},
			},
		},
		{
			name: "sessions",
			cols: []column{
				col("token_hash", tID, 64),
				col("login_id", tID, 36),
				col("created_at", tTime, 0),
				col("last_seen_at", tTime, 0),
				col("expires_at", tTime, 0),
			},
			pk: []string{"token_hash"},
			indexes: []index{
				{name: "sessions_login", cols: []string{"login_id"}},
				{name: "sessions_expires", cols: []string{"expires_at"}},
			},
			fks: []foreignKey{
				{cols: []string{"login_id"}, refTable: "logins", refCols: []string{"login_id"}, cascade: true},
			},
		},
		{
			name: "one_time_tokens",
			cols: []column{
				col("token_id", tASCII, 64),
				col("token_hash", tID, 64),
				col("kind", tASCII, 16),
				nullCol("login_id", tID, 36),
				nullCol("created_by", tID, 36),
				col("expires_at", tTime, 0),
				col("created_at", tTime, 0),
			},
			pk: []string{"token_id"},
			indexes: []index{
				{name: "one_time_tokens_hash", cols: []string{"token_hash"}, unique: true},
				{name: "one_time_tokens_login", cols: []string{"login_id"}},
				{name: "one_time_tokens_expires", cols: []string{"expires_at"}},
			},
			fks: []foreignKey{
				{cols: []string{"login_id"}, refTable: "logins", refCols: []string{"login_id"}, cascade: true},
			},
		},
		{
			name: "certificates",
			cols: []column{
				col("name", tASCII, 255),
				col("data", tBlob, 0),
				col("updated_at", tTime, 0),
			},
			pk: []string{"name"},
		},
	}
	for _, t := range tables {
		for _, stmt := range t.createTable(dialect) {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}
	return nil
}

// migrateEventsIngestLayout makes an event insert update fewer B-trees
// (the ingest path's main cost on SQLite, PRODUCT.md §8):
//   - the events_key index goes on every dialect. The two statements that
//     looked events up by key id (deleting a forgotten secret's events,
//     and expiry's "no event under this key" check) go by secret id and key
//     id instead, through events_secret_seq: an event's secret id is always
//     that of its key (ingest checks it), so the rows found are the same.
//   - on SQLite the table becomes WITHOUT ROWID, keyed by event_id: rows live
//     in the primary key's B-tree instead of a rowid B-tree plus a separate
//     primary-key index. MySQL (InnoDB) already clusters rows by primary key;
//     PostgreSQL keeps its heap.
//
// On SQLite the table is rebuilt (copy, drop, rename) in the step's
// transaction. On MySQL, where DDL commits implicitly, the drop runs only
// while the index exists, so an interrupted step can run again.
func migrateEventsIngestLayout(tx *gorm.DB, dialect string) error {
	switch dialect {
	case DialectSQLite:
		cols := []column{
			col("event_id", tID, 26),
			col("account_id", tID, 36),
			col("secret_id", tID, 64),
			col("key_id", tID, 32),
			col("payload", tLongText, 0),
			col("seq", tInt64, 0),
		}
		rebuilt := table{name: "events_0002", cols: cols, pk: []string{"event_id"}, withoutRowID: true}
		final := table{
			name: "events",
			indexes: []index{
				{name: "events_account_seq", cols: []string{"account_id", "seq", "event_id"}},
				{name: "events_secret_seq", cols: []string{"secret_id", "seq", "event_id"}},
			},
		}
		const names = "event_id, account_id, secret_id, key_id, payload, seq"
		stmts := append(rebuilt.createTable(dialect),
			"INSERT INTO events_0002 ("+names+") SELECT "+names+" FROM events ORDER BY event_id",
			"DROP TABLE events",
			"ALTER TABLE events_0002 RENAME TO events",
		)
		stmts = append(stmts, final.createIndexes()...)
		for _, stmt := range stmts {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("events: %w", err)
			}
		}
		return nil
	case DialectPostgres:
		return tx.Exec("DROP INDEX IF EXISTS events_key").Error
	case DialectMySQL:
		var n int64
		if err := tx.Raw(`SELECT COUNT(*) FROM information_schema.statistics
			WHERE table_schema = DATABASE() AND table_name = 'events' AND index_name = 'events_key'`).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		return tx.Exec("ALTER TABLE events DROP INDEX events_key").Error
	}
	return fmt.Errorf("unknown dialect %q", dialect)
}

// migrateSegments adds the sealed segments of keys/PROTOCOL.md §13 and an
// index on events (account_id, event_id), through which the server reads a
// period's events in id order and computes an upload's coverage without
// scanning the account's whole feed. On SQLite the index holds event_id
// once (the table's key); on MySQL the index has no IF NOT EXISTS, so it
// is created only while missing and the step can run again.
func migrateSegments(tx *gorm.DB, dialect string) error {
	segments := table{
		name: "segments",
		cols: []column{
			col("account_id", tID, 36),
			col("period", tASCII, 10),
			col("version", tInt64, 0),
			col("size", tInt64, 0),
			col("event_count", tInt64, 0),
			col("digest", tID, 64),
			col("uploaded_by", tID, 36),
			col("stale", tBool, 0),
			col("created_at", tTime, 0),
			col("updated_at", tTime, 0),
			col("sealed", tLongText, 0),
		},
		pk:      []string{"account_id", "period"},
		indexes: []index{{name: "segments_period", cols: []string{"period"}}},
		fks: []foreignKey{
			{cols: []string{"account_id"}, refTable: "accounts", refCols: []string{"account_id"}, cascade: true},
		},
	}
	for _, stmt := range segments.createTable(dialect) {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("segments: %w", err)
		}
	}
	byAccount := table{name: "events", indexes: []index{{name: "events_account_event", cols: []string{"account_id", "event_id"}}}}
	if dialect != DialectMySQL {
		for _, stmt := range byAccount.createIndexes() {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("events: %w", err)
			}
		}
		return nil
	}
	var n int64
	if err := tx.Raw(`SELECT COUNT(*) FROM information_schema.statistics
		WHERE table_schema = DATABASE() AND table_name = 'events' AND index_name = 'events_account_event'`).Scan(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return tx.Exec("ALTER TABLE events ADD INDEX events_account_event (account_id, event_id)").Error
}

// SchemaStatus reports applied and known migrations; see
// persistence.Maintenance.
func (s *Store) SchemaStatus(ctx context.Context) (persistence.SchemaStatus, error) {
	status := persistence.SchemaStatus{Known: knownMigrations()}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return status, translate("schema status", err)
	}
	status.Applied = applied
	return status, nil
}

func knownMigrations() []string { return migrationIDs(migrations) }

func migrationIDs(steps []migration) []string {
	ids := make([]string, len(steps))
	for i, m := range steps {
		ids[i] = m.id
	}
	return ids
}

func (s *Store) appliedMigrations(ctx context.Context) ([]string, error) {
	db := s.rdb.WithContext(ctx)
	var ids []string
	err := db.Raw("SELECT id FROM migrations ORDER BY id").Scan(&ids).Error
	if err == nil {
		return ids, nil
	}
	// One query on the hot path (health checks); only a failure asks
	// whether the table is merely missing, as in an empty database.
	if ctx.Err() != nil {
		return nil, err
	}
	if pingErr := s.Ping(ctx); pingErr != nil {
		return nil, pingErr
	}
	if !db.Migrator().HasTable("migrations") {
		return nil, nil
	}
	return nil, err
}

// Migrate applies pending migrations under the migrate lease; see
// persistence.Maintenance.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, migrations)
}

// migrate applies the pending ones of steps, a prefix of migrations (tests
// stop at an earlier step).
func (s *Store) migrate(ctx context.Context, steps []migration) error {
	if err := s.bootstrap(ctx); err != nil {
		return translate("migrate", err)
	}
	wait := 50 * time.Millisecond
	for {
		applied, err := s.appliedMigrations(ctx)
		if err != nil {
			return translate("migrate", err)
		}
		if !slices.ContainsFunc(steps, func(m migration) bool { return !slices.Contains(applied, m.id) }) {
			return nil
		}
		held, err := s.withLease(ctx, leaseMigrate, func(ctx context.Context) error { return s.applyPending(ctx, steps) })
		if err != nil {
			return translate("migrate", err)
		}
		if held {
			return nil
		}
		// Another instance migrates; wait for it, then look again.
		select {
		case <-ctx.Done():
			return fmt.Errorf("relational: migrate: waiting for the migrate lease: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// bootstrap creates the migrations and locks tables. Two instances may race
// here: PostgreSQL can then fail one CREATE TABLE IF NOT EXISTS with a
// unique violation, which a second attempt resolves.
func (s *Store) bootstrap(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = nil
		for _, t := range bootstrapTables {
			for _, stmt := range t.createTable(s.dialect) {
				if err = s.db.WithContext(ctx).Exec(stmt).Error; err != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		if err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return err
}

// applyPending runs, while holding the migrate lease, every step not yet
// recorded, each in its own transaction together with its record. MySQL
// commits DDL implicitly, so there a step is not atomic; its statements are
// idempotent instead.
func (s *Store) applyPending(ctx context.Context, steps []migration) error {
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range steps {
		if slices.Contains(applied, m.id) {
			continue
		}
		start := time.Now()
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := m.up(tx, s.dialect); err != nil {
				return err
			}
			return tx.Exec("INSERT INTO migrations (id, applied_at) VALUES (?, ?)", m.id, s.now()).Error
		})
		if err != nil {
			return fmt.Errorf("step %s: %w", m.id, err)
		}
		s.logger.InfoContext(ctx, "applied migration", "id", m.id, "duration", time.Since(start).String())
	}
	return nil
}
