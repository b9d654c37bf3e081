// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offen/offen/persistence"
)

// Group commit. CreateEvents does not open a transaction of its own: it puts
// its request on a bounded queue and waits. Writer goroutines take every
// request waiting on the queue (up to ingestMaxRows events), check and insert
// them in ONE transaction with multi-row INSERTs, and answer each caller only
// after COMMIT returned. A transaction costs about the same for one event as
// for hundreds (SQLite: one WAL append; PostgreSQL and MySQL: one WAL flush),
// so under load batches grow by themselves while the previous one commits
// (and the writer yields once before closing a batch, so that runnable
// request goroutines get to the queue), and at low load a lone request
// commits at once: there is no timer on the way.
//
// Durability: on PostgreSQL and MySQL a commit is flushed to disk as the
// server is configured (fsync by default). SQLite runs WAL with
// synchronous=NORMAL: a committed batch survives a crash of the process, as
// the WAL is in the OS page cache, but an OS crash or power loss can lose
// the batches committed since the last checkpoint. synchronous=FULL would
// fsync the WAL at every commit; with group commit that is one fsync per
// batch, which keeps the throughput target with many clients but not with
// few (each client then waits for an fsync per request). The project keeps
// NORMAL, as do most SQLite deployments in WAL mode.
//
// Back-pressure: the queue holds at most ingestQueueLen requests (each at
// most MaxEventsPerRequest events of MaxPayloadBytes, so memory stays
// bounded). A caller that finds it full waits until ctx's deadline or
// ingestQueueWait, whichever comes first, and then gets ErrUnavailable (the
// server answers 503 and the vault retries later). Close stops accepting
// requests, lets the writers drain what is queued, and waits for them.
//
// Answers mean what they say: a caller whose context ends while its request
// is still queued withdraws it (the writers skip it); once a writer has
// taken it, the caller waits for the outcome, at most T away. So an error
// never hides events that commit later, which the vault would send again.

const (
	// ingestMaxRows bounds the events of one batch transaction.
	ingestMaxRows = 2000
	// ingestQueueLen bounds the requests waiting for a writer.
	ingestQueueLen = 1024
	// ingestQueueWait is the longest a caller waits for room on the queue.
	ingestQueueWait = time.Second
	// insertMaxRows and insertMaxBytes bound one INSERT statement (MySQL's
	// max_allowed_packet defaults to 16 MiB; PostgreSQL takes at most
	// 65,535 parameters).
	insertMaxRows  = 500
	insertMaxBytes = 1 << 20
	// ingestRetries is how often a batch that failed with a transient error
	// (deadlock, serialization failure) is tried again.
	ingestRetries = 2
)

type ingestRequest struct {
	in     persistence.NewEvents
	events []persistence.Event
	// err is the outcome, valid once done is closed.
	err  error
	done chan struct{}
	// state moves from queued to taken (by a writer) or withdrawn (by a
	// caller whose context ended first), once.
	state atomic.Int32
}

// States of an ingestRequest.
const (
	requestQueued int32 = iota
	requestTaken
	requestWithdrawn
)

// take claims r for a batch; false means its caller withdrew it.
func (g *ingester) take(r *ingestRequest) bool {
	if r.state.CompareAndSwap(requestQueued, requestTaken) {
		return true
	}
	g.pending.Add(-1)
	return false
}

// ingester is the group-commit writer of a Store.
type ingester struct {
	s *Store
	// mu guards closed and sends on queue against Close closing it.
	mu     sync.RWMutex
	closed bool
	queue  chan *ingestRequest
	wg     sync.WaitGroup
	// writers is the number of writer goroutines: one on SQLite (one writer
	// connection), several elsewhere so that batches overlap their commits.
	writers int
	// queueWait is ingestQueueWait; tests shorten it.
	queueWait time.Duration
	// pending counts accepted requests not yet answered.
	pending atomic.Int64
	// sql caches INSERT statements by row count.
	sqlMu sync.Mutex
	sql   map[int]string
	// stmts caches prepared statements by their SQL.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// prepare prepares the statements of the write path on the write pool once
// (on SQLite the one write connection then keeps them). It runs outside any
// transaction: on SQLite a transaction holds the only write connection.
func (g *ingester) prepare(ctx context.Context) error {
	g.stmtMu.Lock()
	defer g.stmtMu.Unlock()
	if len(g.stmts) > 0 {
		return nil
	}
	sqlDB, err := g.s.db.DB()
	if err != nil {
		return err
	}
	queries := []string{g.accountSQL(), g.keySQL()}
	for n := 1; ; n *= 2 {
		n = min(n, insertMaxRows)
		queries = append(queries, g.insertSQL(n))
		if g.s.dialect == DialectSQLite {
			queries = append(queries, g.checkedInsertSQL(n))
		}
		if n == insertMaxRows {
			break
		}
	}
	stmts := map[string]*sql.Stmt{}
	for _, q := range queries {
		st, err := sqlDB.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range stmts {
				_ = st.Close()
			}
			return err
		}
		stmts[q] = st
	}
	g.stmts = stmts
	return nil
}

// stmt returns tx's handle of the prepared statement q.
func (g *ingester) stmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	g.stmtMu.Lock()
	st, ok := g.stmts[q]
	g.stmtMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("statement not prepared: %s", q)
	}
	return tx.StmtContext(ctx, st), nil
}

func (g *ingester) accountSQL() string {
	return "SELECT account_id FROM accounts WHERE account_id = " + g.placeholders(1, 1) +
		" AND retired_at IS NULL" + g.s.shareLock()
}

func (g *ingester) keySQL() string {
	return "SELECT account_id, secret_id FROM secrets WHERE key_id = " + g.placeholders(1, 1)
}

// closeStmts releases the prepared statements.
func (g *ingester) closeStmts() {
	g.stmtMu.Lock()
	defer g.stmtMu.Unlock()
	for q, st := range g.stmts {
		_ = st.Close()
		delete(g.stmts, q)
	}
}

func newIngester(s *Store) *ingester {
	g := &ingester{
		s:         s,
		queue:     make(chan *ingestRequest, ingestQueueLen),
		writers:   1,
		queueWait: ingestQueueWait,
		sql:       map[int]string{},
		stmts:     map[string]*sql.Stmt{},
	}
	if s.dialect != DialectSQLite {
		g.writers = 4
	}
	return g
}

func (g *ingester) start() {
	for range g.writers {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.run()
		}()
	}
}

// close stops accepting requests and waits until every queued one is
// answered.
func (g *ingester) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.queue)
	}
	g.mu.Unlock()
	g.wg.Wait()
	g.closeStmts()
}

// CreateEvents queues events for the group-commit writer; see
// persistence.Events.
func (s *Store) CreateEvents(ctx context.Context, in persistence.NewEvents) ([]persistence.Event, error) {
	if err := validateNewEvents(in); err != nil {
		return nil, fmt.Errorf("relational: create events: %w", err)
	}
	now := s.now()
	req := &ingestRequest{
		in:     in,
		events: make([]persistence.Event, len(in.Payloads)),
		done:   make(chan struct{}),
	}
	for i, p := range in.Payloads {
		req.events[i] = persistence.Event{
			EventID:   newULID(now),
			AccountID: in.AccountID,
			SecretID:  in.SecretID,
			KeyID:     in.KeyID,
			Payload:   p,
		}
	}
	if err := s.ingest.enqueue(ctx, req); err != nil {
		return nil, fmt.Errorf("relational: create events: %w", err)
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		if req.state.CompareAndSwap(requestQueued, requestWithdrawn) {
			return nil, fmt.Errorf("relational: create events: %w", ctx.Err())
		}
		// A writer has it, and its transaction ends within T: answering
		// before that would have the client send again events that may
		// still commit, and the page view would count twice.
		<-req.done
	}
	if req.err != nil {
		return nil, req.err
	}
	return req.events, nil
}

func validateNewEvents(in persistence.NewEvents) error {
	var problems []string
	if !validUUID(in.AccountID) {
		problems = append(problems, "account id is not a lowercase UUIDv4")
	}
	if !validHex(in.SecretID, 64) {
		problems = append(problems, "secret id is not 64 lowercase hex characters")
	}
	if !validHex(in.KeyID, 32) {
		problems = append(problems, "key id is not 32 lowercase hex characters")
	}
	if n := len(in.Payloads); n < 1 || n > persistence.MaxEventsPerRequest {
		problems = append(problems, fmt.Sprintf("want 1 to %d payloads", persistence.MaxEventsPerRequest))
	}
	for _, p := range in.Payloads {
		if len(p) > persistence.MaxPayloadBytes || !strings.HasPrefix(p, "a1.") {
			problems = append(problems, fmt.Sprintf("payloads must be a1 ciphertexts of at most %d bytes", persistence.MaxPayloadBytes))
			break
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(problems, "; "), persistence.ErrInvalid)
	}
	return nil
}

var errClosing = fmt.Errorf("store is closing: %w", persistence.ErrUnavailable)

// enqueue puts req on the queue, waiting for room until ctx ends or
// queueWait passed.
func (g *ingester) enqueue(ctx context.Context, req *ingestRequest) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return errClosing
	}
	select {
	case g.queue <- req:
		g.pending.Add(1)
		return nil
	default:
	}
	timer := time.NewTimer(g.queueWait)
	defer timer.Stop()
	select {
	case g.queue <- req:
		g.pending.Add(1)
		return nil
	case <-timer.C:
		return fmt.Errorf("ingest queue full: %w", persistence.ErrUnavailable)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("ingest queue full: %w: %w", persistence.ErrUnavailable, ctx.Err())
		}
		return ctx.Err()
	}
}

// run is one writer: it takes what is queued, commits it, answers, and
// repeats until the queue is closed and empty.
func (g *ingester) run() {
	batch := make([]*ingestRequest, 0, 256)
	for {
		first, ok := <-g.queue
		if !ok {
			return
		}
		if !g.take(first) {
			continue
		}
		batch = append(batch[:0], first)
		rows := len(first.events)
		// Two rounds of taking what is queued, with a yield between them:
		// the request goroutines that are runnable at that moment reach
		// the queue before the batch closes. With nothing else runnable
		// the yield returns at once (a lone request still commits without
		// delay); under load it grows batches several-fold, and with them
		// the events each commit's WAL write carries.
		open := true
		for round := 0; round < 2 && open && rows < ingestMaxRows; round++ {
			if round > 0 {
				runtime.Gosched()
			}
		collect:
			for rows < ingestMaxRows {
				select {
				case r, ok := <-g.queue:
					if !ok {
						open = false
						break collect
					}
					if g.take(r) {
						batch = append(batch, r)
						rows += len(r.events)
					}
				default:
					break collect
				}
			}
		}
		g.commit(batch)
		clear(batch)
	}
}

// commit writes batch in one transaction, retrying transient failures, and
// answers every request of it.
func (g *ingester) commit(batch []*ingestRequest) {
	var err error
	for attempt := 0; ; attempt++ {
		err = g.write(batch)
		// An attempt that used up T (a database that does not answer, a
		// lock held elsewhere) is not repeated: its callers wait for it.
		if err == nil || attempt >= ingestRetries || !errors.Is(err, persistence.ErrUnavailable) ||
			errors.Is(err, context.DeadlineExceeded) {
			break
		}
		for _, r := range batch {
			r.err = nil
		}
	}
	for _, r := range batch {
		if err != nil {
			r.err = err
		}
		close(r.done)
	}
	g.pending.Add(-int64(len(batch)))
}

// write runs one batch transaction. Requests refused by the checks get
// their own error in r.err; a failing transaction returns its error for
// all of them. On SQLite it first tries the fast path, which checks and
// inserts in one statement per chunk; when that finds a refused request it
// rolls back and the batch goes through the checks one by one.
func (g *ingester) write(batch []*ingestRequest) error {
	if g.s.dialect == DialectSQLite && !slices.ContainsFunc(batch, func(r *ingestRequest) bool { return r.in.Resend }) {
		ok, err := g.writeChecked(batch)
		if ok || err != nil {
			return err
		}
	}
	return g.writeEach(batch)
}

// errRefused rolls back the fast path when a request of the batch is
// refused.
var errRefused = errors.New("a request of the batch was refused")

// writeChecked inserts the whole batch with INSERT … SELECT statements that
// join every row with its secret (same key id, account and secret id) and
// its account (not retired), so the checks cost no statements of their own.
// It reports false when a row did not qualify (nothing is committed then).
func (g *ingester) writeChecked(batch []*ingestRequest) (ok bool, err error) {
	s := g.s
	ctx, cancel := context.WithTimeout(context.Background(), s.commitTimeout)
	defer cancel()
	defer func() {
		if errors.Is(err, errRefused) {
			ok, err = false, nil
			return
		}
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("commit deadline: %w: %w", persistence.ErrUnavailable, ctx.Err())
		}
		err = translate("create events", err)
	}()
	sqlDB, err := s.db.DB()
	if err != nil {
		return false, err
	}
	if err := g.prepare(ctx); err != nil {
		return false, unavailable(err)
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return false, unavailable(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var rows []*persistence.Event
	for _, r := range batch {
		r.err = nil
		for i := range r.events {
			rows = append(rows, &r.events[i])
		}
	}
	for len(rows) > 0 {
		n := g.chunk(rows)
		args := make([]any, 0, 6*n)
		for _, e := range rows[:n] {
			e.Seq = s.Seq()
			args = append(args, e.EventID, e.AccountID, e.SecretID, e.KeyID, e.Payload, e.Seq)
		}
		st, err := g.stmt(ctx, tx, g.checkedInsertSQL(n))
		if err != nil {
			return false, err
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return false, err
		}
		if affected, err := res.RowsAffected(); err != nil || affected != int64(n) {
			return false, errRefused
		}
		rows = rows[n:]
	}
	if err := s.beforeCommit(ctx); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}

// chunk returns how many of rows the next INSERT takes: a power of two (so
// that a few prepared statements serve every batch size) within the limits
// on rows and bytes per statement.
func (g *ingester) chunk(rows []*persistence.Event) int {
	n, size := 0, 0
	for n < len(rows) && n < insertMaxRows && (n == 0 || size+len(rows[n].Payload) <= insertMaxBytes) {
		size += len(rows[n].Payload) + 200
		n++
	}
	if n < insertMaxRows {
		n = 1 << (bits.Len(uint(n)) - 1)
	}
	return n
}

// writeEach checks each request with its own lookups, then inserts the
// accepted ones.
func (g *ingester) writeEach(batch []*ingestRequest) (err error) {
	s := g.s
	ctx, cancel := context.WithTimeout(context.Background(), s.commitTimeout)
	defer cancel()
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("commit deadline: %w: %w", persistence.ErrUnavailable, ctx.Err())
		}
		err = translate("create events", err)
	}()
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := g.prepare(ctx); err != nil {
		return unavailable(err)
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	// The checks of PROTOCOL.md §7.2 inside the transaction, so that a
	// retire or a purge with forget that commits first is seen, and (with the
	// share locks on PostgreSQL and MySQL) one that commits later waits.
	accounts := map[string]bool{}
	keys := map[string]bool{}
	for _, r := range batch {
		accounts[r.in.AccountID] = false
		keys[r.in.KeyID] = false
	}
	active, err := g.activeAccounts(ctx, tx, accounts)
	if err != nil {
		return err
	}
	owners, err := g.keyOwners(ctx, tx, keys)
	if err != nil {
		return err
	}
	var rows []*persistence.Event
	for _, r := range batch {
		r.err = nil
		if !active[r.in.AccountID] {
			r.err = fmt.Errorf("relational: create events: account: %w", persistence.ErrNotFound)
			continue
		}
		if o, ok := owners[r.in.KeyID]; !ok || o.accountID != r.in.AccountID || o.secretID != r.in.SecretID {
			r.err = fmt.Errorf("relational: create events: key id is not the visitor's: %w", persistence.ErrConflict)
			continue
		}
		if r.in.Resend {
			held, err := g.heldPayloads(ctx, tx, r.in)
			if err != nil {
				return err
			}
			r.events = slices.DeleteFunc(r.events, func(e persistence.Event) bool { return held[e.Payload] })
		}
		for i := range r.events {
			rows = append(rows, &r.events[i])
		}
	}
	for len(rows) > 0 {
		n := g.chunk(rows)
		args := make([]any, 0, 6*n)
		for _, e := range rows[:n] {
			// Taken as late as possible: the transaction must commit within
			// commitTimeout of taking it, and the context's deadline, set
			// before, enforces that.
			e.Seq = s.Seq()
			args = append(args, e.EventID, e.AccountID, e.SecretID, e.KeyID, e.Payload, e.Seq)
		}
		st, err := g.stmt(ctx, tx, g.insertSQL(n))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	if err := s.beforeCommit(ctx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return nil
}

type keyOwner struct{ accountID, secretID string }

// heldPayloads returns which payloads of a resend the store already holds
// for its visitor (through events_secret_seq, so it reads that visitor's
// events only).
func (g *ingester) heldPayloads(ctx context.Context, tx *sql.Tx, in persistence.NewEvents) (map[string]bool, error) {
	args := make([]any, 0, 2+len(in.Payloads))
	args = append(args, in.SecretID, in.AccountID)
	for _, p := range in.Payloads {
		args = append(args, p)
	}
	q := "SELECT payload FROM events WHERE secret_id = " + g.placeholders(1, 1) + " AND account_id = " + g.placeholders(2, 1) +
		" AND payload IN (" + g.placeholders(3, len(in.Payloads)) + ")"
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		held[p] = true
	}
	return held, rows.Err()
}

// activeAccounts returns which of ids name accounts that are not retired,
// share-locking those rows (see lockActiveAccounts).
func (g *ingester) activeAccounts(ctx context.Context, tx *sql.Tx, ids map[string]bool) (map[string]bool, error) {
	if len(ids) <= 4 {
		// Usually one account: a prepared point lookup each.
		st, err := g.stmt(ctx, tx, g.accountSQL())
		if err != nil {
			return nil, err
		}
		for id := range ids {
			var found string
			err := st.QueryRowContext(ctx, id).Scan(&found)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
			ids[id] = err == nil
		}
		return ids, nil
	}
	args := make([]any, 0, len(ids))
	for id := range ids {
		args = append(args, id)
	}
	q := "SELECT account_id FROM accounts WHERE retired_at IS NULL AND account_id IN (" +
		g.placeholders(1, len(args)) + ")" + g.s.shareLock()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

// keyOwners returns account and secret id of each existing key id,
// share-locking the secrets, so that a purge with forget deleting one waits
// for this transaction and then deletes its events too.
func (g *ingester) keyOwners(ctx context.Context, tx *sql.Tx, keys map[string]bool) (map[string]keyOwner, error) {
	owners := make(map[string]keyOwner, len(keys))
	if g.s.dialect == DialectSQLite {
		// In-process lookups are cheapest as one prepared statement run per
		// key; elsewhere each would be a round trip, so IN lists below.
		st, err := g.stmt(ctx, tx, g.keySQL())
		if err != nil {
			return nil, err
		}
		for k := range keys {
			var o keyOwner
			err := st.QueryRowContext(ctx, k).Scan(&o.accountID, &o.secretID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, err
			}
			owners[k] = o
		}
		return owners, nil
	}
	args := make([]any, 0, len(keys))
	for k := range keys {
		args = append(args, k)
	}
	for start := 0; start < len(args); start += inChunk {
		chunk := args[start:min(start+inChunk, len(args))]
		q := "SELECT key_id, account_id, secret_id FROM secrets WHERE key_id IN (" +
			g.placeholders(1, len(chunk)) + ")" + g.s.shareLock()
		rows, err := tx.QueryContext(ctx, q, chunk...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k string
			var o keyOwner
			if err := rows.Scan(&k, &o.accountID, &o.secretID); err != nil {
				rows.Close()
				return nil, err
			}
			owners[k] = o
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return owners, nil
}

// placeholders returns n comma-separated bind parameters starting at the
// from-th ($from... on PostgreSQL, ? elsewhere).
func (g *ingester) placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if g.s.dialect == DialectPostgres {
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(from + i))
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// checkedInsertSQL returns the INSERT of n events that skips those whose
// key id is not a secret of their account and secret id, or whose account
// is retired (SQLite).
func (g *ingester) checkedInsertSQL(n int) string {
	g.sqlMu.Lock()
	defer g.sqlMu.Unlock()
	if q, ok := g.sql[-n]; ok {
		return q
	}
	var b strings.Builder
	// OR ROLLBACK: a failing row ends the whole transaction (as any error
	// of the batch does anyway), so SQLite keeps no statement journal for
	// undoing just this statement. That journal holds the original of
	// every page the statement changes and spills to a temporary file
	// beyond 64 KiB: about as many writes again as the WAL gets.
	b.WriteString("INSERT OR ROLLBACK INTO events (event_id, account_id, secret_id, key_id, payload, seq) " +
		"SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6 FROM (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?)")
	}
	b.WriteString(") AS v JOIN secrets s ON s.key_id = v.column4 AND s.account_id = v.column2 AND s.secret_id = v.column3" +
		" JOIN accounts a ON a.account_id = v.column2 AND a.retired_at IS NULL")
	q := b.String()
	g.sql[-n] = q
	return q
}

// insertSQL returns the INSERT of n events.
func (g *ingester) insertSQL(n int) string {
	g.sqlMu.Lock()
	defer g.sqlMu.Unlock()
	if q, ok := g.sql[n]; ok {
		return q
	}
	var b strings.Builder
	b.WriteString("INSERT INTO events (event_id, account_id, secret_id, key_id, payload, seq) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		b.WriteString(g.placeholders(6*i+1, 6))
		b.WriteByte(')')
	}
	q := b.String()
	g.sql[n] = q
	return q
}
