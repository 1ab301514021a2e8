package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var _ Store = (*pgStore)(nil)

// pgMigrations[i] takes the schema from version i to i+1. Append only.
// Key columns use the "C" collation so List orders IDs by bytes, as the
// other backends do, whatever locale the database was created with.
var pgMigrations = []string{
	`CREATE TABLE meta (
		key   text PRIMARY KEY,
		value text NOT NULL
	);
	CREATE TABLE records (
		account text COLLATE "C" NOT NULL,
		region  text COLLATE "C" NOT NULL,
		kind    text COLLATE "C" NOT NULL,
		id      text COLLATE "C" NOT NULL,
		name    text COLLATE "C" NOT NULL DEFAULT '',
		created timestamptz NOT NULL,
		version bigint NOT NULL,
		body    bytea NOT NULL,
		CONSTRAINT records_pkey PRIMARY KEY (account, region, kind, id)
	);
	CREATE UNIQUE INDEX records_name_key ON records (account, region, kind, name) WHERE name <> '';`,
	// Version 2: ListKind finds a kind's records without walking the
	// records of every other kind.
	`CREATE INDEX records_kind ON records (kind, account, region, id);`,
}

const (
	pgCols = `account, region, kind, id, name, created, version, body`
	// pgSchemaLock is the advisory-lock key serialising schema migration
	// between replicas that start at the same time ("wsim" in ASCII).
	pgSchemaLock = 0x7773696d
	// pgMaxAttempts bounds how often Update runs fn when PostgreSQL keeps
	// aborting it for serialization conflicts.
	pgMaxAttempts = 10
	// pgConnectTimeout keeps a dead database from hanging requests; a
	// connect_timeout in the URL takes precedence.
	pgConnectTimeout = 2 * time.Second
	// pgHealthCheckPeriod is how often the pool checks its idle
	// connections; pgMaxConnIdleTime how long one may stay idle.
	pgHealthCheckPeriod = 5 * time.Second
	pgMaxConnIdleTime   = 5 * time.Minute
)

// pgStore runs every Update as a SERIALIZABLE transaction. PostgreSQL's SSI
// detects the anomalies (two inserts both seeing room under a limit, two
// read-modify-writes of one record) and aborts one side with 40001, which
// Update hides by running fn again.
type pgStore struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
}

// openPostgres opens a pool on dsn. timeout is the deadline every call gets
// (the timed wrapper sets it); it also bounds start-up.
func openPostgres(ctx context.Context, dsn string, timeout time.Duration) (Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = min(pgConnectTimeout, timeout)
	}
	// A connection whose statement ran past its deadline is closed by pgx
	// (it sets a deadline on the socket), so a hung server never holds the
	// pool's connections for longer than one call's deadline. The idle
	// ones are checked every few seconds, so that after an outage the pool
	// drops connections the server or the network lost rather than handing
	// them to requests.
	cfg.HealthCheckPeriod = pgHealthCheckPeriod
	cfg.MaxConnIdleTime = pgMaxConnIdleTime
	ctx, cancel := context.WithTimeout(ctx, max(timeout, 2*cfg.ConnConfig.ConnectTimeout))
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL: %w", err)
	}
	p := &pgStore{pool: pool}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

func (p *pgStore) migrate(ctx context.Context) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return pgFail(ctx, "connect", err)
	}
	defer tx.Rollback(context.Background())
	// Transaction-scoped, so it is released however this function ends.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgSchemaLock)); err != nil {
		return pgFail(ctx, "lock schema", err)
	}
	have := 0
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('meta') IS NOT NULL`).Scan(&exists); err != nil {
		return pgFail(ctx, "read schema version", err)
	}
	if exists {
		var v string
		err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return pgFail(ctx, "read schema version", err)
		}
		if err == nil {
			if have, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("store: PostgreSQL: bad schema_version %q", v)
			}
		}
	}
	want := len(pgMigrations)
	if have > want {
		return fmt.Errorf("%w: the PostgreSQL database has schema version %d, this wsim supports up to %d; upgrade wsim or use another database", ErrNewerSchema, have, want)
	}
	if have == want {
		return nil
	}
	for v := have; v < want; v++ {
		if _, err := tx.Exec(ctx, pgMigrations[v]); err != nil {
			return pgFail(ctx, fmt.Sprintf("migrate to schema version %d", v+1), err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('schema_version', $1)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.Itoa(want)); err != nil {
		return pgFail(ctx, "migrate", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return pgFail(ctx, "migrate", err)
	}
	return nil
}

func (p *pgStore) Get(ctx context.Context, k Key) (*Record, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	r, err := pgGet(ctx, p.pool, k)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, pgFail(ctx, "get", err)
	}
	return r, err
}

func (p *pgStore) List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	out, err := pgList(ctx, p.pool, s, afterID, limit)
	if err != nil {
		return nil, pgFail(ctx, "list", err)
	}
	return out, nil
}

// ListKind walks records_kind from the first row after the cursor, in
// ListKind's order (account, region, id) within the kind.
func (p *pgStore) ListKind(ctx context.Context, kind string, after Key, limit int) ([]*Record, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	var lim *int64 // NULL: LIMIT ALL
	if limit > 0 {
		l := int64(limit)
		lim = &l
	}
	rows, err := p.pool.Query(ctx, `SELECT `+pgCols+` FROM records
		WHERE kind = $3 AND (account, region, id) > ($1, $2, $4)
		ORDER BY kind, account, region, id LIMIT $5`, after.Account, after.Region, kind, after.ID, lim)
	if err != nil {
		return nil, pgFail(ctx, "list kind", err)
	}
	out, err := pgScanAll(rows)
	if err != nil {
		return nil, pgFail(ctx, "list kind", err)
	}
	return out, nil
}

func (p *pgStore) Ping(ctx context.Context) error {
	if p.closed.Load() {
		return errClosed
	}
	if err := p.pool.Ping(ctx); err != nil {
		return pgFail(ctx, "ping", err)
	}
	return nil
}

func (p *pgStore) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	p.pool.Close()
	return nil
}

func (p *pgStore) Update(ctx context.Context, fn func(Tx) error) error {
	if p.closed.Load() {
		return errClosed
	}
	for attempt := 1; ; attempt++ {
		err, retry := p.attempt(ctx, fn)
		if !retry {
			return err
		}
		if attempt >= pgMaxAttempts {
			return fmt.Errorf("%w: gave up after %d serialization failures: %w", ErrConflict, attempt, err)
		}
		// Jittered exponential backoff, so the transactions that just
		// collided don't collide again in lockstep.
		d := min(time.Millisecond<<attempt, 200*time.Millisecond)
		d = d/2 + rand.N(d/2+1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// attempt runs fn once. retry reports a serialization failure (or a
// connection lost before anything was sent), after which fn may run again.
func (p *pgStore) attempt(ctx context.Context, fn func(Tx) error) (err error, retry bool) {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return pgFail(ctx, "begin", err), pgconn.SafeToRetry(err) && ctx.Err() == nil
	}
	t := &pgTx{tx: tx, ctx: ctx}
	rollback := func() {
		rctx, cancel := context.WithTimeout(context.Background(), pgConnectTimeout)
		defer cancel()
		tx.Rollback(rctx)
	}
	ferr := func() error {
		defer func() {
			if v := recover(); v != nil {
				rollback()
				panic(v)
			}
		}()
		return fn(t)
	}()
	if ferr != nil || t.serialization != nil {
		rollback()
		// fn may have swallowed the failure and returned nil; the
		// transaction is aborted either way and must run again.
		if t.serialization != nil {
			return t.serialization, true
		}
		return ferr, false
	}
	if err := tx.Commit(ctx); err != nil {
		if isSerialization(err) {
			return err, true
		}
		return pgFail(ctx, "commit", err), false
	}
	return nil, false
}

// pgTx remembers the first serialization failure any of its statements hit,
// so Update retries even if fn wraps or ignores the error.
type pgTx struct {
	tx pgx.Tx
	// ctx is the Update's context, which carries the store's deadline.
	ctx           context.Context
	serialization error
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
	if isSerialization(err) && t.serialization == nil {
		t.serialization = err
	}
	return pgFail(ctx, op, err)
}

func (t *pgTx) Get(ctx context.Context, k Key) (*Record, error) {
	ctx = t.bind(ctx)
	r, err := pgGet(ctx, t.tx, k)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, t.fail(ctx, "get", err)
	}
	return r, err
}

func (t *pgTx) List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	ctx = t.bind(ctx)
	out, err := pgList(ctx, t.tx, s, afterID, limit)
	if err != nil {
		return nil, t.fail(ctx, "list", err)
	}
	return out, nil
}

func (t *pgTx) Count(ctx context.Context, s Scope) (int, error) {
	ctx = t.bind(ctx)
	var n int
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM records WHERE account = $1 AND region = $2 AND kind = $3`,
		s.Account, s.Region, s.Kind).Scan(&n)
	if err != nil {
		return 0, t.fail(ctx, "count", err)
	}
	return n, nil
}

// version returns the stored version of k, 0 when absent.
func (t *pgTx) version(ctx context.Context, k Key) (int64, error) {
	var v int64
	err := t.tx.QueryRow(ctx, `SELECT version FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4`,
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
	err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM records
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

func (t *pgTx) Insert(ctx context.Context, r *Record, max int) error {
	ctx = t.bind(ctx)
	if max > 0 {
		n, err := t.Count(ctx, r.Scope())
		if err != nil {
			return err
		}
		if n >= max {
			if err := t.clash(ctx, r); err != nil {
				return err
			}
			return ErrLimitExceeded
		}
	}
	if err := t.insert(ctx, r); err != nil {
		return err
	}
	r.Version = 1
	return nil
}

// insert avoids raising unique_violation, which would abort the whole
// transaction; callers expect to carry on after ErrNameTaken and friends.
func (t *pgTx) insert(ctx context.Context, r *Record) error {
	tag, err := t.tx.Exec(ctx, `INSERT INTO records (`+pgCols+`) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
		ON CONFLICT DO NOTHING`,
		r.Account, r.Region, r.Kind, r.ID, r.Name, micros(r.Created), nonNil(r.Body))
	if err != nil {
		return t.mapUnique(ctx, "insert", err)
	}
	if tag.RowsAffected() == 0 {
		if err := t.clash(ctx, r); err != nil {
			return err
		}
		// The conflicting row is invisible to this snapshot yet exists:
		// a concurrent writer got there first.
		return ErrConflict
	}
	return nil
}

func (t *pgTx) Put(ctx context.Context, r *Record) error {
	ctx = t.bind(ctx)
	stored, err := t.version(ctx, r.Key)
	if err != nil {
		return err
	}
	if r.Version != stored {
		return ErrConflict
	}
	if stored == 0 {
		if err := t.insert(ctx, r); err != nil {
			return err
		}
		r.Version = 1
		return nil
	}
	if taken, err := t.nameTaken(ctx, r); err != nil || taken {
		return cmpErr(err, ErrNameTaken)
	}
	_, err = t.tx.Exec(ctx, `UPDATE records SET name = $5, created = $6, version = $7, body = $8
		WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4`,
		r.Account, r.Region, r.Kind, r.ID, r.Name, micros(r.Created), stored+1, nonNil(r.Body))
	if err != nil {
		return t.mapUnique(ctx, "update", err)
	}
	r.Version = stored + 1
	return nil
}

func (t *pgTx) Delete(ctx context.Context, k Key) error {
	ctx = t.bind(ctx)
	tag, err := t.tx.Exec(ctx, `DELETE FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4`,
		k.Account, k.Region, k.Kind, k.ID)
	if err != nil {
		return t.fail(ctx, "delete", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// pgWhere is the condition selecting sel, and its arguments, numbered from $1.
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
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	where, args := pgWhere(sel)
	args = append(args, kind)
	rows, err := t.tx.Query(ctx, `SELECT `+pgCols+` FROM records WHERE `+where+
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

func (t *pgTx) Purge(ctx context.Context, sel Selection) (map[string]int, error) {
	ctx = t.bind(ctx)
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	where, args := pgWhere(sel)
	rows, err := t.tx.Query(ctx, `WITH gone AS (DELETE FROM records WHERE `+where+` RETURNING kind)
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

type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func pgGet(ctx context.Context, q pgQuerier, k Key) (*Record, error) {
	r, err := pgScan(q.QueryRow(ctx, `SELECT `+pgCols+` FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4`,
		k.Account, k.Region, k.Kind, k.ID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

func pgList(ctx context.Context, q pgQuerier, s Scope, afterID string, limit int) ([]*Record, error) {
	var lim *int64 // NULL: LIMIT ALL
	if limit > 0 {
		l := int64(limit)
		lim = &l
	}
	rows, err := q.Query(ctx, `SELECT `+pgCols+` FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id > $4
		ORDER BY id LIMIT $5`, s.Account, s.Region, s.Kind, afterID, lim)
	if err != nil {
		return nil, err
	}
	return pgScanAll(rows)
}

// pgScanAll reads every row of a listing and closes rows.
func pgScanAll(rows pgx.Rows) ([]*Record, error) {
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r, err := pgScan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func pgScan(row pgx.Row) (*Record, error) {
	var r Record
	if err := row.Scan(&r.Account, &r.Region, &r.Kind, &r.ID, &r.Name, &r.Created, &r.Version, &r.Body); err != nil {
		return nil, err
	}
	r.Created = r.Created.UTC()
	return &r, nil
}

func isSerialization(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// pgFail wraps err for the caller, marking lost or refused connections with
// ErrUnavailable. The caller's own cancellation is passed through as is.
func pgFail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	if isConnErr(err) {
		return fmt.Errorf("%w: PostgreSQL %s: %w", ErrUnavailable, op, err)
	}
	return fmt.Errorf("store: PostgreSQL %s: %w", op, err)
}

// pgUnavailableCode reports whether a SQLSTATE says the server cannot serve
// the request now, rather than that the request is wrong: class 08
// (connection exceptions), class 53 (insufficient resources: 53100 disk
// full, 53200 out of memory, 53300 too many connections), 57P01-57P05
// (administrator, crash or idle-session shutdown, cannot connect now:
// "the database system is starting up") and 25006 (a read-only transaction:
// a hot standby, or a primary made read-only).
func pgUnavailableCode(code string) bool {
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") || strings.HasPrefix(code, "57P0") || code == "25006"
}

func isConnErr(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pgUnavailableCode(pe.Code)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "conn closed")
}
