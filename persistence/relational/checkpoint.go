// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// SQLite checkpoints. In WAL mode every commit appends pages to the WAL, and
// by default the committing connection copies them back into the database
// file (with two fsyncs) whenever the WAL passes 1,000 pages. On the ingest
// path that stalls the one writer for milliseconds several times a second.
// So a background goroutine on a connection of its own runs PASSIVE
// checkpoints, which never block the writer or readers, and the writer's
// own automatic checkpoint starts only at walAutoCheckpoint pages: a
// checkpoint running concurrently with a busy writer never finds every
// frame copied, so the WAL could only restart from its beginning (and stop
// growing) after a checkpoint between two write transactions. That one has
// little to copy, as the background checkpoints have copied nearly
// everything, but it still syncs the database file, and the writer waits
// for that fsync (10-20 ms here): under steady ingest that is a stall every
// walAutoCheckpoint pages, about once a second at 2,000 events/s with 32
// MiB, enough for the p99 latency. So the WAL may grow to 128 MiB first:
// a quarter of the stalls, for up to 128 MiB of disk while the load lasts
// (at low load a background checkpoint completes between two commits and
// the WAL restarts early). The WAL file is truncated to walSizeLimit when
// it restarts; the limit lies above the checkpoint size, so that a busy WAL
// is not cut and grown again on every restart.

const (
	// writerDriver is go-sqlite3 with the writer connection's pragmas.
	writerDriver = "sqlite3_offen_writer"
	// checkpointEvery is the pause between background checkpoints.
	checkpointEvery = 250 * time.Millisecond
	// walAutoCheckpoint is 128 MiB of 4 KiB pages; walSizeLimit is 160 MiB.
	walAutoCheckpoint = "32768"
	walSizeLimit      = "167772160"
)

var registerWriterDriver = sync.OnceFunc(func() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = "+walAutoCheckpoint+"; PRAGMA journal_size_limit = "+walSizeLimit, nil)
			return err
		},
	})
})

// checkpointer runs PASSIVE checkpoints on its own connection until stopped.
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
}

func startCheckpointer(dsn string) (*checkpointer, error) {
	db, err := sql.Open("sqlite3", sqliteDSN(dsn, false, false, true))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			// Errors (a busy database) leave the work to the next round.
			_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			cancel()
		}
	}
}

// close stops the checkpointer; the last connection to close (the writer,
// after it) checkpoints the rest.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
