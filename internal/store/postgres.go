package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
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
	// Version 3: scope_counts keeps each scope's number of records, which
	// every insert and delete changes in its own transaction, so that a
	// quota check reads one row instead of counting the account's records.
	// cap is the quota the latest insert into the scope was made under (0:
	// none), and the CHECK keeps the count within it: the lone inserts of
	// pgStore.Update raise the count as they commit (postgres_tx.go).
	// Upgrading fills it from the records.
	`CREATE TABLE scope_counts (
		account text COLLATE "C" NOT NULL,
		region  text COLLATE "C" NOT NULL,
		kind    text COLLATE "C" NOT NULL,
		n       bigint NOT NULL,
		cap     bigint NOT NULL DEFAULT 0,
		CONSTRAINT scope_counts_pkey PRIMARY KEY (account, region, kind),
		CONSTRAINT scope_counts_cap CHECK (cap = 0 OR n <= cap)
	);
	INSERT INTO scope_counts (account, region, kind, n)
		SELECT account, region, kind, count(*) FROM records GROUP BY account, region, kind;`,
	// Version 4: setting_version numbers the changes of the records
	// outside every account, and listeners holds what each store's
	// listener has seen of them, so that a change returns once every
	// replica dropped its copy (postgres_settings.go).
	`CREATE TABLE setting_version (v bigint NOT NULL);
	INSERT INTO setting_version (v) VALUES (0);
	CREATE TABLE listeners (
		pid  integer PRIMARY KEY,
		seen bigint NOT NULL
	);`,
	// Version 5: ListNewest, a kind's records newest first, of every
	// account or of one scope, read a page at a time from an index in that
	// order (postgres_newest.go).
	`CREATE INDEX records_newest ON records (kind, created DESC, account, region, id);
	CREATE INDEX records_scope_newest ON records (account, region, kind, created DESC, id);`,
	// Version 6: the newest-first indexes become partial, on a predicate
	// that is always true and that only ListNewest's reads state, so that
	// no other read can use them (not created IS NOT NULL, which a planner
	// may drop as implied by the column's NOT NULL). A read of one record
	// by its key (or a Put's or Delete's) names every column of
	// records_scope_newest but created, and right after many inserts into
	// a scope, before PostgreSQL analysed them, the planner priced it as
	// the primary key and took it: it then walked the whole scope for one
	// id (0.7 ms at 10,000 records instead of 0.01).
	`DROP INDEX records_newest;
	DROP INDEX records_scope_newest;
	CREATE INDEX records_newest ON records (kind, created DESC, account, region, id) WHERE created > '-infinity';
	CREATE INDEX records_scope_newest ON records (account, region, kind, created DESC, id) WHERE created > '-infinity';`,
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
	// pgMigrateTimeout bounds the schema migrations at start-up (and the
	// wait for another replica's).
	pgMigrateTimeout = 10 * time.Minute
	// pgMaxConns is the pool's size unless the URL sets pool_max_conns:
	// pgx's default (the number of CPUs, at least 4) queued concurrent
	// requests behind 4 connections on a small machine (1,420 imports/s
	// against 1,740/s with 32 connections, 32 clients, 2 cores).
	pgMaxConns = 16
	// pgHealthCheckPeriod is how often the pool checks its idle
	// connections; pgMaxConnIdleTime how long one may stay idle.
	pgHealthCheckPeriod = 5 * time.Second
	pgMaxConnIdleTime   = 5 * time.Minute
)

// pgStore runs every Update as a SERIALIZABLE transaction, or as a lone
// insert (see postgres_tx.go). PostgreSQL's SSI detects the anomalies (two
// read-modify-writes of one record, a read of what another transaction
// changes) and aborts one side with 40001, which Update hides by running fn
// again.
type pgStore struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
	stats  pgStats
	// lane keeps a transaction that PostgreSQL aborted for a serialization
	// conflict from colliding again with this replica's other writers:
	// every attempt holds it shared, and one that runs fn again after a
	// serialization failure holds it alone. Without it, writers that
	// raise one counter (every insert into a scope raises its count) kept
	// aborting each other, and one could lose all its attempts in a row.
	// Other replicas' writers may still collide with it, within
	// pgMaxAttempts.
	lane sync.RWMutex
	// group is the queue of lone inserts waiting for a batch.
	group pgGroup
	// settings holds the records outside every account.
	settings *pgSettings
	// cache holds the records read by key, and the scope indexes, while no
	// other replica writes (postgres_cache.go).
	cache *pgCache
}

// pgStats counts what Update did, for tests and benchmarks.
type pgStats struct {
	serializationFailures atomic.Int64
	// batches and batched count the batches of lone inserts committed and
	// the records they held; largest is the largest such batch.
	batches, batched, largest atomic.Int64
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
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = pgMaxConns
	}
	cfg.MaxConnIdleTime = pgMaxConnIdleTime
	openCtx, cancel := context.WithTimeout(ctx, max(timeout, 2*cfg.ConnConfig.ConnectTimeout))
	defer cancel()
	pool, err := pgxpool.NewWithConfig(openCtx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL: %w", err)
	}
	p := &pgStore{pool: pool}
	// A migration may rebuild an index or fill a table over every record:
	// seconds to minutes on a large database, more than a call's deadline.
	migrateCtx, cancelMigrate := context.WithTimeout(ctx, max(timeout, pgMigrateTimeout))
	defer cancelMigrate()
	if err := p.migrate(migrateCtx); err != nil {
		pool.Close()
		return nil, err
	}
	var schema string
	if err := pool.QueryRow(openCtx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, pgFail(openCtx, "read the schema", err)
	}
	p.cache = newPGCache(schema)
	p.startSettings()
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
	return p.get(ctx, k, false)
}

// lendGet is Get without a copy of a record of the replica's copy (see
// lender).
func (p *pgStore) lendGet(ctx context.Context, k Key) (*Record, error) {
	return p.get(ctx, k, true)
}

func (p *pgStore) get(ctx context.Context, k Key, lend bool) (*Record, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	if id, ok := settingsKey(k); ok {
		return p.getSetting(ctx, id, k)
	}
	return p.getCached(ctx, k, lend)
}

func (p *pgStore) List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	return p.listCached(ctx, s, afterID, limit, false)
}

// lendList is List without copies of the replica's copy's records.
func (p *pgStore) lendList(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	return p.listCached(ctx, s, afterID, limit, true)
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
	p.stopSettings()
	p.pool.Close()
	return nil
}

type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func pgGet(ctx context.Context, q pgQuerier, k Key) (*Record, error) {
	r, err := pgScanKey(q.QueryRow(ctx, pgGetSQL, k.Account, k.Region, k.Kind, k.ID), k)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// pgGetSQL and pgListSQL read only what the caller does not know already:
// the key's or scope's columns would cost a string each per row.
const pgGetSQL = `SELECT name, created, version, body FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4`

// pgCountSQL reads a scope's count of records (scope_counts), 0 if it has
// none.
const pgCountSQL = `SELECT coalesce((SELECT n FROM scope_counts WHERE account = $1 AND region = $2 AND kind = $3), 0)`

// pgScanKey reads a row of pgGetSQL, the record of k.
func pgScanKey(row pgx.Row, k Key) (*Record, error) {
	r := Record{Key: k}
	if err := row.Scan(&r.Name, &r.Created, &r.Version, &r.Body); err != nil {
		return nil, err
	}
	r.Created = r.Created.UTC()
	return &r, nil
}

const pgListSQL = `SELECT id, name, created, version, body FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id > $4
	ORDER BY id LIMIT $5`

// pgLimit is limit as LIMIT's argument: NULL, LIMIT ALL, when limit <= 0.
func pgLimit(limit int) *int64 {
	if limit <= 0 {
		return nil
	}
	l := int64(limit)
	return &l
}

func pgList(ctx context.Context, q pgQuerier, s Scope, afterID string, limit int) ([]*Record, error) {
	rows, err := q.Query(ctx, pgListSQL, s.Account, s.Region, s.Kind, afterID, pgLimit(limit))
	if err != nil {
		return nil, err
	}
	return pgScanScope(rows, s, limit)
}

// pgScanScope reads every row of pgListSQL in s and closes rows; the
// records share one allocation when limit bounds them.
func pgScanScope(rows pgx.Rows, s Scope, limit int) ([]*Record, error) {
	defer rows.Close()
	var block []Record
	if limit > 0 {
		block = make([]Record, 0, limit)
	}
	var out []*Record
	for rows.Next() {
		if len(block) == cap(block) {
			block = make([]Record, 0, 16)
		}
		block = append(block, Record{Key: Key{Account: s.Account, Region: s.Region, Kind: s.Kind}})
		r := &block[len(block)-1]
		if err := rows.Scan(&r.ID, &r.Name, &r.Created, &r.Version, &r.Body); err != nil {
			return nil, err
		}
		r.Created = r.Created.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
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
