package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgreSQL transactions.
//
// Update runs fn in a SERIALIZABLE transaction on one connection of the
// pool, whose BEGIN is sent together with fn's first statement, so that a
// transaction costs no round trip of its own; PostgreSQL's SSI aborts one
// side of every anomaly with 40001, and Update runs fn again.
//
// A transaction that only inserts one record (an import, most creations)
// needs no serializable reads: the primary key and the unique name index
// refuse duplicates whatever the isolation, and the quota is a counter row
// (scope_counts) that the commit raises under its row lock, behind a CHECK
// that it stays within the quota. So Update first runs fn optimistically at
// READ COMMITTED: if fn's first call is an Insert, the record is inserted
// at once and the counter raised in the same round trip as the COMMIT, so
// that concurrent imports into one account queue on that row only for the
// commit's flush, and never abort each other. If fn then makes any other
// call, or the quota turns out to be full, the transaction is rolled back
// and fn runs again as a serializable transaction, which answers every
// case (ErrLimitExceeded among them) exactly as before. A lone insert reads
// nothing but the counter, under its lock, and what the unique indexes show
// (they wait for uncommitted duplicates), so it is serializable with every
// other transaction all the same.

const (
	pgBeginSerializable  = `BEGIN ISOLATION LEVEL SERIALIZABLE`
	pgBeginReadCommitted = `BEGIN ISOLATION LEVEL READ COMMITTED`
	// pgCapConstraint is the CHECK that a scope's count stays within the
	// quota the latest insert into it was made under.
	pgCapConstraint = "scope_counts_cap"
)

// errRestart is what a call of fn returns when the optimistic lone insert
// does not apply; Update then runs fn again as a serializable transaction.
var errRestart = errors.New("store: PostgreSQL: transaction restarted as a serializable one")

// The ways an attempt of fn ends.
type pgOutcome int

const (
	pgDone         pgOutcome = iota // committed, or failed for good
	pgRetry                         // a serialization failure: run fn again after a pause
	pgSerializable                  // not a lone insert: run fn again, serializable
	pgLoneInsert                    // a batch of lone inserts was rolled back: run fn again alone
)

// The ways an attempt runs fn, the first first.
type pgMode int

const (
	pgGrouped          pgMode = iota // a lone insert joins a batch (postgres_group.go)
	pgLoneAlone                      // a lone insert in a transaction of its own
	pgSerializableMode               // a serializable transaction
)

func (p *pgStore) Update(ctx context.Context, fn func(Tx) error) error {
	if p.closed.Load() {
		return errClosed
	}
	mode := pgGrouped
	failures := 0
	for {
		err, outcome := p.attempt(ctx, fn, mode, failures > 0)
		switch outcome {
		case pgDone:
			return err
		case pgSerializable, pgLoneInsert:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			mode = pgSerializableMode
			if outcome == pgLoneInsert {
				mode = pgLoneAlone
			}
			continue
		}
		failures++
		p.stats.serializationFailures.Add(1)
		if failures >= pgMaxAttempts {
			// Contention, not a broken request: ErrUnavailable makes it the
			// retryable 503 the SDKs back off from.
			return fmt.Errorf("%w: %w: gave up after %d serialization failures: %w", ErrUnavailable, ErrConflict, failures, err)
		}
		// Jittered exponential backoff, so the transactions that just
		// collided don't collide again in lockstep.
		d := min(time.Millisecond<<failures, 200*time.Millisecond)
		d = d/2 + rand.N(d/2+1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// attempt runs fn once in mode: as a lone insert (grouped or not) unless
// mode is serializable and if fn's first call is an Insert, else
// serializable; alone if alone (see pgStore.lane). The connection and the
// lane are taken with fn's first statement, so a lone insert that joins a
// batch holds neither.
func (p *pgStore) attempt(ctx context.Context, fn func(Tx) error, mode pgMode, alone bool) (error, pgOutcome) {
	t := &pgTx{p: p, ctx: ctx, lone: mode != pgSerializableMode, group: mode == pgGrouped, alone: alone}
	defer t.release()
	ferr := func() error {
		defer func() {
			if v := recover(); v != nil {
				t.rollback()
				panic(v)
			}
		}()
		return fn(t)
	}()
	switch {
	case t.again != nil:
		// fn may have swallowed the failure and returned nil; the
		// transaction is aborted either way and must run again.
		t.rollback()
		return t.again, pgRetry
	case t.restart:
		t.rollback()
		return errRestart, pgSerializable
	case ferr != nil && t.queued != nil:
		// fn may have failed because the queued insert said nil: it runs
		// again with an insert that answers at once.
		return ferr, pgLoneInsert
	case ferr != nil:
		t.rollback()
		return ferr, pgDone
	case t.queued != nil:
		// Nothing was sent: the record waits for a batch.
		return p.insertGrouped(ctx, t.queued, t.quota)
	}
	err, outcome := t.commit()
	t.release()
	if t.begun {
		// Also when the COMMIT's outcome is unknown: the copy drops the
		// keys, the scope indexes drop their scopes.
		p.cache.settled(t.marked, t.left, t.purged, t.outcome)
	}
	if err == nil && t.cachers {
		err = p.awaitCachers(ctx, p.cache.self())
	}
	if err == nil && t.notified > 0 {
		err = p.awaitSettings(ctx, t.notified)
	}
	return err, outcome
}

// pgTx is one attempt of an Update's fn. It remembers the first
// serialization failure any of its statements hit, so that Update retries
// even if fn wraps or ignores the error.
type pgTx struct {
	p *pgStore
	// conn is the connection the transaction runs on, taken (with the
	// lane, shared or alone) by its first statement.
	conn  *pgxpool.Conn
	alone bool
	// ctx is the Update's context, which carries the store's deadline.
	ctx context.Context
	// begun says BEGIN was sent; lone that this attempt may be a lone
	// insert (READ COMMITTED), until a call says otherwise.
	begun, lone bool
	// group says a lone insert is queued for a batch rather than sent;
	// queued is that record.
	group  bool
	queued *Record
	calls  int
	// pending is the scope whose count the commit of a lone insert raises,
	// within quota (0: none).
	pending *Scope
	quota   int
	// again is a failure after which fn runs again; restart says fn is not
	// a lone insert and runs again serializable.
	again   error
	restart bool
	// settings says a record outside every account was written; notified
	// is the version the commit notified.
	settings bool
	notified int64
	// touched are the records in accounts written, purged says a Purge
	// ran: what the replica's copy drops once committed; cachers says the
	// commit notified another replica's copy (postgres_cache.go).
	touched []Key
	purged  bool
	cachers bool
	// left are the records the statements that succeeded left in place of
	// touched's (nil: gone), marked the keys of touched (each once)
	// registered before the COMMIT, and outcome how it ended: what the
	// replica's copy and scope indexes learn (pgCache.settled).
	left    map[Key]*Record
	marked  []Key
	outcome writeOutcome
}

// wrote notes a write of k: one outside every account makes the commit
// notify the replicas (see postgres_settings.go).
func (t *pgTx) wrote(k Key) {
	if _, ok := settingsKey(k); ok {
		t.settings = true
		return
	}
	t.touched = append(t.touched, k)
}

// leave notes that a statement left r in place of k's record (nil: gone).
func (t *pgTx) leave(k Key, r *Record) {
	if _, ok := settingsKey(k); ok {
		return
	}
	if t.left == nil {
		t.left = make(map[Key]*Record, 1)
	}
	if r != nil {
		r = cloneRecord(r)
	}
	t.left[k] = r
}

// mark registers the keys of touched, each once, with the replica's scope
// indexes before the COMMIT is sent.
func (t *pgTx) mark() {
	t.marked = make([]Key, 0, len(t.touched))
	for _, k := range t.touched {
		if !slices.Contains(t.marked, k) {
			t.marked = append(t.marked, k)
		}
	}
	t.p.cache.marked(t.marked)
	t.outcome = writeUnknown
}

// call admits one call of fn. A lone insert is fn's first call; any other
// first call makes the transaction serializable, and any call after a lone
// insert restarts it as one.
func (t *pgTx) call(insert bool) error {
	t.calls++
	switch {
	case !t.lone:
		return nil
	case t.calls == 1 && insert:
		return nil
	case t.calls == 1:
		t.lone = false
		return nil
	}
	t.restart = true
	return errRestart
}

// bind returns the context t's statements run under: the Update's, whose
// deadline fn's own context may not have, unless fn's is already done.
func (t *pgTx) bind(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	return t.ctx
}

func (t *pgTx) fail(ctx context.Context, op string, err error) error {
	if t.again == nil && (isSerialization(err) || (!t.begun && pgconn.SafeToRetry(err) && ctx.Err() == nil)) {
		t.again = err
	}
	return pgFail(ctx, op, err)
}

// start takes the lane and a connection for the first statement.
func (t *pgTx) start(ctx context.Context) error {
	if t.alone {
		t.p.lane.Lock()
	} else {
		t.p.lane.RLock()
	}
	conn, err := t.p.pool.Acquire(ctx)
	if err != nil {
		// The caller's fail makes a connection refused before anything
		// was sent a failure after which fn runs again.
		t.unlock()
		return err
	}
	t.conn = conn
	return nil
}

func (t *pgTx) unlock() {
	if t.alone {
		t.p.lane.Unlock()
	} else {
		t.p.lane.RUnlock()
	}
}

// release gives back the connection and the lane, once the transaction has
// ended. A connection left inside a transaction (a ROLLBACK that failed) is
// closed by Release rather than handed out again.
func (t *pgTx) release() {
	if t.conn == nil {
		return
	}
	t.conn.Release()
	t.conn = nil
	t.unlock()
}

// send sends sql as the transaction's first statement, behind its BEGIN
// and the writers' lock (postgres_cache.go), in one round trip, and reads
// their results; the caller reads sql's.
func (t *pgTx) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	if err := t.start(ctx); err != nil {
		return nil, err
	}
	begin := pgBeginSerializable
	if t.lone {
		begin = pgBeginReadCommitted
	}
	b := &pgx.Batch{}
	b.Queue(begin)
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, t.p.cache.writersLock())
	b.Queue(sql, args...)
	br := t.conn.SendBatch(ctx, b)
	t.begun = true
	for range 2 {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

func (t *pgTx) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.begun {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	br, err := t.send(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{br}
}

func (t *pgTx) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.begun {
		return t.conn.Query(ctx, sql, args...)
	}
	br, err := t.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return batchRows{rows, br}, nil
}

func (t *pgTx) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.begun {
		return t.conn.Exec(ctx, sql, args...)
	}
	br, err := t.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer br.Close()
	return br.Exec()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// batchRow is the row of a statement sent behind BEGIN.
type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// batchRows are the rows of a statement sent behind BEGIN.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

func (t *pgTx) rollback() {
	if !t.begun {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgConnectTimeout)
	defer cancel()
	t.conn.Exec(ctx, `ROLLBACK`)
}

// commit commits; a lone insert raises its scope's count in the same round
// trip.
func (t *pgTx) commit() (error, pgOutcome) {
	if !t.begun {
		return nil, pgDone
	}
	var tag pgconn.CommandTag
	var err error
	records := len(t.touched) > 0 || t.purged
	if t.pending != nil || t.settings || records {
		b := &pgx.Batch{}
		if s := t.pending; s != nil {
			b.Queue(`INSERT INTO scope_counts AS c (account, region, kind, n, cap) VALUES ($1, $2, $3, 1, $4)
				ON CONFLICT (account, region, kind) DO UPDATE SET n = c.n + 1, cap = excluded.cap`,
				s.Account, s.Region, s.Kind, int64(t.quota))
		}
		if t.settings {
			b.Queue(pgNotifySettings)
		}
		c := t.p.cache
		if records {
			b.Queue(pgCacherCheckSQL, c.channel(), int64(c.key), int64(c.self()))
			t.mark()
		}
		b.Queue(`COMMIT`)
		br := t.conn.SendBatch(t.ctx, b)
		if t.pending != nil {
			_, err = br.Exec()
		}
		if t.settings && err == nil {
			var null bool
			err = br.QueryRow().Scan(&t.notified, &null)
		}
		if records && err == nil {
			var n int64
			err = br.QueryRow().Scan(&n)
			t.cachers = n > 0
		}
		if err == nil {
			tag, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	} else {
		tag, err = t.conn.Exec(t.ctx, `COMMIT`)
	}
	var pe *pgconn.PgError
	switch {
	case err == nil && tag.String() == "ROLLBACK":
		// fn swallowed the error of a statement, which aborted the
		// transaction: PostgreSQL answers COMMIT with a rollback.
		t.outcome = writeRolledBack
		return pgFail(t.ctx, "commit", errors.New("the transaction was aborted by an earlier error")), pgDone
	case err == nil:
		t.outcome = writeCommitted
		return nil, pgDone
	case errors.As(err, &pe):
		// PostgreSQL refused a statement of the batch or the COMMIT:
		// the transaction did not commit.
		t.outcome = writeRolledBack
	}
	t.notified = 0
	t.cachers = false
	t.rollback()
	switch {
	case errors.As(err, &pe) && pe.Code == "23514" && pe.ConstraintName == pgCapConstraint:
		// The quota is full: the serializable run says so to fn.
		return errRestart, pgSerializable
	case isSerialization(err):
		return err, pgRetry
	}
	return pgFail(t.ctx, "commit", err), pgDone
}

func (t *pgTx) Get(ctx context.Context, k Key) (*Record, error) {
	ctx = t.bind(ctx)
	if err := t.call(false); err != nil {
		return nil, err
	}
	r, err := pgScanKey(t.queryRow(ctx, pgGetSQL, k.Account, k.Region, k.Kind, k.ID), k)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, t.fail(ctx, "get", err)
	}
	return r, nil
}

func (t *pgTx) List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	ctx = t.bind(ctx)
	if err := t.call(false); err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, pgListSQL, s.Account, s.Region, s.Kind, afterID, pgLimit(limit))
	if err != nil {
		return nil, t.fail(ctx, "list", err)
	}
	out, err := pgScanScope(rows, s, limit)
	if err != nil {
		return nil, t.fail(ctx, "list", err)
	}
	return out, nil
}

func (t *pgTx) Count(ctx context.Context, s Scope) (int, error) {
	ctx = t.bind(ctx)
	if err := t.call(false); err != nil {
		return 0, err
	}
	var n int64
	err := t.queryRow(ctx, pgCountSQL, s.Account, s.Region, s.Kind).Scan(&n)
	if err != nil {
		return 0, t.fail(ctx, "count", err)
	}
	return int(n), nil
}

// version returns the stored version of k, 0 when absent.
func (t *pgTx) version(ctx context.Context, k Key) (int64, error) {
	var v int64
	err := t.queryRow(ctx, `SELECT version FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4`,
		k.Account, k.Region, k.Kind, k.ID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.fail(ctx, "get", err)
	}
	return v, nil
}

func (t *pgTx) nameTaken(ctx context.Context, r *Record) (bool, error) {
	if r.Name == "" {
		return false, nil
	}
	var taken bool
	err := t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM records
		WHERE account = $1 AND region = $2 AND kind = $3 AND name = $4 AND name <> '' AND id <> $5)`,
		r.Account, r.Region, r.Kind, r.Name, r.ID).Scan(&taken)
	if err != nil {
		return false, t.fail(ctx, "get", err)
	}
	return taken, nil
}

// clash names the uniqueness rule r would break, preferring the key.
func (t *pgTx) clash(ctx context.Context, r *Record) error {
	if v, err := t.version(ctx, r.Key); err != nil || v > 0 {
		return cmpErr(err, ErrAlreadyExists)
	}
	if taken, err := t.nameTaken(ctx, r); err != nil || taken {
		return cmpErr(err, ErrNameTaken)
	}
	return nil
}

// pgInsertLone inserts a record unless its scope's committed count already
// reached the quota ($8; 0: none) or the key or name is taken, and reports
// which. It takes no lock on the count: the commit raises it.
const pgInsertLone = `WITH room AS (
		SELECT $8::bigint = 0 OR coalesce((SELECT n FROM scope_counts WHERE account = $1 AND region = $2 AND kind = $3), 0) < $8 AS ok
	), ins AS (
		INSERT INTO records (` + pgCols + `)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::timestamptz, 1, $7::bytea FROM room WHERE ok
		ON CONFLICT DO NOTHING RETURNING 1
	)
	SELECT NOT ok, EXISTS (SELECT 1 FROM ins) FROM room`

// pgInsert raises the scope's count if that keeps it within the quota ($8;
// 0: none), then inserts the record unless its key or name is taken, and
// reports which of the two happened. It never raises an error for either,
// which would abort the transaction; callers carry on after ErrNameTaken
// and friends.
const pgInsert = `WITH slot AS (
		INSERT INTO scope_counts AS c (account, region, kind, n, cap) VALUES ($1, $2, $3, 1, $8)
		ON CONFLICT (account, region, kind) DO UPDATE SET n = c.n + 1, cap = excluded.cap
		WHERE $8::bigint = 0 OR c.n < $8
		RETURNING 1
	), ins AS (
		INSERT INTO records (` + pgCols + `)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::timestamptz, 1, $7::bytea FROM slot
		ON CONFLICT DO NOTHING RETURNING 1
	)
	SELECT EXISTS (SELECT 1 FROM slot), EXISTS (SELECT 1 FROM ins)`

func (t *pgTx) Insert(ctx context.Context, r *Record, max int) error {
	ctx = t.bind(ctx)
	if err := t.call(true); err != nil {
		return err
	}
	if _, ok := settingsKey(r.Key); ok && t.lone && !t.begun {
		// Its commit notifies the replicas, which lone inserts do not.
		t.lone = false
	}
	switch {
	case t.lone && t.group:
		t.queued, t.quota = r, max
		r.Version = 1
		return nil
	case t.lone:
		return t.insertLone(ctx, r, max)
	}
	t.wrote(r.Key)
	if err := t.insert(ctx, r, max, ErrAlreadyExists); err != nil {
		return err
	}
	r.Version = 1
	t.leave(r.Key, r)
	return nil
}

func (t *pgTx) insertLone(ctx context.Context, r *Record, max int) error {
	var full, inserted bool
	err := t.queryRow(ctx, pgInsertLone, r.Account, r.Region, r.Kind, r.ID, r.Name, micros(r.Created), nonNil(r.Body), int64(max)).
		Scan(&full, &inserted)
	if err != nil {
		return t.fail(ctx, "insert", err)
	}
	if !full && !inserted {
		if err := t.clash(ctx, r); err != nil {
			return err
		}
	}
	if full || !inserted {
		// Which error a full scope gives depends on its other rules;
		// the serializable run tells them apart.
		t.restart = true
		return errRestart
	}
	s := r.Scope()
	t.pending, t.quota = &s, max
	t.wrote(r.Key)
	r.Version = 1
	t.leave(r.Key, r)
	return nil
}

// insert adds r within the quota max (0: none). exists is the error for a
// taken key: ErrAlreadyExists for Insert, ErrConflict for a Put that
// believed the record absent.
func (t *pgTx) insert(ctx context.Context, r *Record, max int, exists error) error {
	var counted, inserted bool
	err := t.queryRow(ctx, pgInsert, r.Account, r.Region, r.Kind, r.ID, r.Name, micros(r.Created), nonNil(r.Body), int64(max)).
		Scan(&counted, &inserted)
	if err != nil {
		return t.mapUnique(ctx, "insert", err)
	}
	if inserted {
		return nil
	}
	if counted {
		if _, err := t.exec(ctx, `UPDATE scope_counts SET n = n - 1 WHERE account = $1 AND region = $2 AND kind = $3`,
			r.Account, r.Region, r.Kind); err != nil {
			return t.fail(ctx, "insert", err)
		}
	}
	if err := t.clash(ctx, r); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return exists
		}
		return err
	}
	if !counted {
		return ErrLimitExceeded
	}
	// The conflicting row is invisible to this snapshot yet exists: a
	// concurrent writer got there first.
	return ErrConflict
}

func (t *pgTx) Put(ctx context.Context, r *Record) error {
	ctx = t.bind(ctx)
	if err := t.call(false); err != nil {
		return err
	}
	t.wrote(r.Key)
	if r.Version == 0 {
		if err := t.insert(ctx, r, 0, ErrConflict); err != nil {
			return err
		}
		r.Version = 1
		t.leave(r.Key, r)
		return nil
	}
	var v int64
	err := t.queryRow(ctx, `UPDATE records SET name = $5, created = $6, version = version + 1, body = $8
		WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4 AND version = $7
		AND ($5 = '' OR NOT EXISTS (SELECT 1 FROM records o WHERE o.account = $1 AND o.region = $2 AND o.kind = $3
			AND o.name = $5 AND o.name <> '' AND o.id <> $4))
		RETURNING version`,
		r.Account, r.Region, r.Kind, r.ID, r.Name, micros(r.Created), r.Version, nonNil(r.Body)).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		stored, err := t.version(ctx, r.Key)
		if err != nil {
			return err
		}
		if stored != r.Version {
			return ErrConflict
		}
		return ErrNameTaken
	case err != nil:
		return t.mapUnique(ctx, "update", err)
	}
	r.Version = v
	t.leave(r.Key, r)
	return nil
}

func (t *pgTx) Delete(ctx context.Context, k Key) error {
	ctx = t.bind(ctx)
	if err := t.call(false); err != nil {
		return err
	}
	t.wrote(k)
	var n int64
	err := t.queryRow(ctx, `WITH d AS (
			DELETE FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4 RETURNING 1
		), c AS (
			UPDATE scope_counts SET n = n - 1
			WHERE account = $1 AND region = $2 AND kind = $3 AND EXISTS (SELECT 1 FROM d)
		)
		SELECT count(*) FROM d`, k.Account, k.Region, k.Kind, k.ID).Scan(&n)
	if err != nil {
		return t.fail(ctx, "delete", err)
	}
	t.leave(k, nil)
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// pgWhere is the condition selecting sel, and its arguments, numbered from
// $1; it applies to records and scope_counts alike.
func pgWhere(sel Selection) (string, []any) {
	switch {
	case sel.All():
		return `TRUE`, nil
	case sel.Region == "":
		return `account = $1`, []any{sel.Account}
	}
	return `account = $1 AND region = $2`, []any{sel.Account, sel.Region}
}

func (t *pgTx) Select(ctx context.Context, sel Selection, kind string) ([]*Record, error) {
	ctx = t.bind(ctx)
	if err := t.call(false); err != nil {
		return nil, err
	}
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	where, args := pgWhere(sel)
	args = append(args, kind)
	rows, err := t.query(ctx, `SELECT `+pgCols+` FROM records WHERE `+where+
		` AND kind = $`+strconv.Itoa(len(args))+` ORDER BY account, region, id`, args...)
	if err != nil {
		return nil, t.fail(ctx, "select", err)
	}
	out, err := pgScanAll(rows)
	if err != nil {
		return nil, t.fail(ctx, "select", err)
	}
	return out, nil
}

// Purge deletes the scopes' counts with their records: sel holds every
// record of every scope it holds a count of.
func (t *pgTx) Purge(ctx context.Context, sel Selection) (map[string]int, error) {
	ctx = t.bind(ctx)
	if err := t.call(false); err != nil {
		return nil, err
	}
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	if sel.All() {
		t.wrote(Key{})
	}
	t.purged = true
	// What this transaction wrote before may be gone: the copy learns
	// only what it writes after.
	t.left = nil
	where, args := pgWhere(sel)
	rows, err := t.query(ctx, `WITH gone AS (DELETE FROM records WHERE `+where+` RETURNING kind),
		counts AS (DELETE FROM scope_counts WHERE `+where+`)
		SELECT kind, count(*) FROM gone GROUP BY kind`, args...)
	if err != nil {
		return nil, t.fail(ctx, "purge", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, t.fail(ctx, "purge", err)
		}
		counts[kind] = int(n)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(ctx, "purge", err)
	}
	return counts, nil
}

// mapUnique is the backstop for a unique_violation the pre-checks could not
// see coming (a concurrent commit); the constraint name says which rule.
func (t *pgTx) mapUnique(ctx context.Context, op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		switch pe.ConstraintName {
		case "records_pkey":
			return fmt.Errorf("%w: %w", ErrAlreadyExists, err)
		case "records_name_key":
			return fmt.Errorf("%w: %w", ErrNameTaken, err)
		}
	}
	return t.fail(ctx, op, err)
}
