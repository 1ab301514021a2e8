package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ Store = (*sqliteStore)(nil)

// sqliteMigrations[i] takes the schema from version i to i+1. Append only:
// files in the field are at every version ever released.
var sqliteMigrations = []string{
	`CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	CREATE TABLE records (
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		kind    TEXT NOT NULL,
		id      TEXT NOT NULL,
		name    TEXT NOT NULL DEFAULT '',
		created INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
		version INTEGER NOT NULL,
		body    BLOB NOT NULL,
		PRIMARY KEY (account, region, kind, id)
	);
	CREATE UNIQUE INDEX records_name ON records (account, region, kind, name) WHERE name <> '';`,
	// Version 2: the records of each scope counted as they come and go, so
	// that a quota check costs the same in an account of 10,000 records as
	// in an empty one (count(*) walks the scope's index). Triggers keep the
	// count in the writing transaction whatever the statement: insert,
	// delete or purge.
	`CREATE TABLE scope_counts (
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		kind    TEXT NOT NULL,
		n       INTEGER NOT NULL,
		PRIMARY KEY (account, region, kind)
	) WITHOUT ROWID;
	INSERT INTO scope_counts (account, region, kind, n)
		SELECT account, region, kind, count(*) FROM records GROUP BY account, region, kind;
	CREATE TRIGGER records_counted AFTER INSERT ON records BEGIN
		INSERT INTO scope_counts (account, region, kind, n) VALUES (NEW.account, NEW.region, NEW.kind, 1)
			ON CONFLICT (account, region, kind) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER records_uncounted AFTER DELETE ON records BEGIN
		UPDATE scope_counts SET n = n - 1 WHERE account = OLD.account AND region = OLD.region AND kind = OLD.kind;
		DELETE FROM scope_counts WHERE account = OLD.account AND region = OLD.region AND kind = OLD.kind AND n <= 0;
	END;
	-- ListKind: a kind's records across accounts, found without walking
	-- the records of every other kind.
	CREATE INDEX records_kind ON records (kind, account, region, id);`,
	// Version 3: ListNewest, a kind's records newest first, of every
	// account or of one scope, read a page at a time from an index in that
	// order (sqlite_newest.go).
	`CREATE INDEX records_newest ON records (kind, created DESC, account, region, id);
	CREATE INDEX records_scope_newest ON records (account, region, kind, created DESC, id);`,
}

const (
	sqliteCols = `account, region, kind, id, name, created, version, body`
	// sqliteListKind walks records_kind from the first row after the
	// cursor, in ListKind's order (account, region, id) within the kind, so
	// a kind with few records is read in as many steps however many records
	// other kinds hold (TestSQLiteListKindPlan pins the plan).
	sqliteListKind = `SELECT ` + sqliteCols + ` FROM records
		WHERE kind = ?3 AND (account, region, id) > (?1, ?2, ?4)
		ORDER BY kind, account, region, id LIMIT ?5`
	// sqliteListVersions serves List: the ids and versions of a page, whose
	// records the read cache mostly holds.
	sqliteListVersions = `SELECT id, version FROM records
		WHERE account = ? AND region = ? AND kind = ? AND id > ? ORDER BY id LIMIT ?`
	// Requests waiting when the writer finishes a commit all go into the
	// next one; the cap bounds how long the first of them waits.
	sqliteMaxBatch = 256
)

// sqliteStore funnels every Update through one writer goroutine that does
// group commit: it runs each queued fn under its own SAVEPOINT inside a single
// transaction and commits the lot with one fsync. SQLite allows one writer at
// a time anyway, so this costs no concurrency, and it turns N fsyncs into one,
// which is what makes thousands of durable updates a second possible. Reads go
// to a separate pool of read-only connections, which WAL lets run alongside
// the writer, each seeing the last committed state.
type sqliteStore struct {
	path  string
	locks []*os.File

	wdb   *sql.DB
	wconn *sql.Conn
	w     sqliteStmts // prepared on wconn
	wb    sqliteBatchStmts

	rdb *sql.DB
	r   sqliteStmts // prepared on rdb, re-prepared per pooled connection by database/sql
	// listKind serves ListKind on rdb, listVersions List; transactions
	// never need them.
	listKind, listVersions *sql.Stmt

	mu     sync.RWMutex // held for reading while enqueuing, so Close can't race a send
	closed bool
	// readClosed spares reads the lock; a read racing Close may still get
	// database/sql's own "closed" error.
	readClosed atomic.Bool
	reqs       chan *sqliteReq
	done       chan struct{}

	// cache serves Get without the database; this process owns the file.
	cache *readCache
	// newest are ListNewest's statements, prepared on first use
	// (sqlite_newest.go).
	newest sqliteNewestStmts
}

// sqliteCacheBytes bounds the read cache, in bytes as recordCost counts
// them: 64 MiB holds some 50,000 records of a kilobyte, or some 1,400
// maximum-size image records of about 46 KB. A budget by count could not
// bound memory: 10,000 maximum-size image records measured 459 MB.
const sqliteCacheBytes = 64 << 20

// sqliteIndexBytes bounds the scope indexes (scopeIndexes): 16 MiB holds
// the ids of some 300,000 images, a scope at most a quarter of that.
const sqliteIndexBytes = 16 << 20

type sqliteStmts struct {
	get, list, count, version, owner, insert, update, del *sql.Stmt
}

// sqliteBatchStmts are the writer's per-request transaction control
// statements, prepared once because they run for every Update.
type sqliteBatchStmts struct {
	savepoint, release, rollbackTo *sql.Stmt
}

// States of a sqliteReq.
const (
	sqliteQueued int32 = iota
	sqliteTaken
	sqliteAbandoned
)

type sqliteReq struct {
	// writes are the records the request wrote (nil: deleted), applied to
	// the read cache once its batch commits.
	writes map[Key]*Record
	// purged says the request ran Purge, whose deletions are too many to
	// list: the read cache is emptied once its batch commits.
	purged bool
	ctx    context.Context
	// state is sqliteQueued until the writer takes the request
	// (sqliteTaken) or its caller stops waiting for it (sqliteAbandoned),
	// whichever comes first: an abandoned request is never run.
	state    atomic.Int32
	fn       func(Tx) error
	err      error
	panicked bool
	panicVal any
	done     chan struct{}
}

func openSQLite(ctx context.Context, path string) (_ Store, err error) {
	if err := mkdirFor(path); err != nil {
		return nil, sqliteFail("create data directory", err)
	}
	path, locks, err := lockDB(path)
	if err != nil {
		return nil, err
	}
	s := &sqliteStore{path: path, locks: locks, cache: newReadCache(sqliteCacheBytes, sqliteIndexBytes)}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()

	// journal_mode is deliberately not in the DSN: it is persistent, and a
	// file written by a newer wsim must not be touched, so it is set only
	// after the schema version has been checked.
	s.wdb, err = sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=journal_size_limit(67108864)")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return nil, sqliteOpenFail(path, err)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, sqliteOpenFail(path, err)
	}
	if s.w, err = prepareSQLite(func(q string) (*sql.Stmt, error) { return s.wconn.PrepareContext(ctx, q) }); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{{&s.wb.savepoint, `SAVEPOINT req`}, {&s.wb.release, `RELEASE req`}, {&s.wb.rollbackTo, `ROLLBACK TO req`}} {
		if *p.dst, err = s.wconn.PrepareContext(ctx, p.q); err != nil {
			return nil, fmt.Errorf("store: prepare %q: %w", p.q, err)
		}
	}

	s.rdb, err = sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	s.rdb.SetMaxOpenConns(n)
	s.rdb.SetMaxIdleConns(n)
	if s.r, err = prepareSQLite(func(q string) (*sql.Stmt, error) { return s.rdb.PrepareContext(ctx, q) }); err != nil {
		return nil, err
	}
	if s.listKind, err = s.rdb.PrepareContext(ctx, sqliteListKind); err != nil {
		return nil, fmt.Errorf("store: prepare %q: %w", sqliteListKind, err)
	}
	if s.listVersions, err = s.rdb.PrepareContext(ctx, sqliteListVersions); err != nil {
		return nil, fmt.Errorf("store: prepare %q: %w", sqliteListVersions, err)
	}

	s.reqs = make(chan *sqliteReq, 4*sqliteMaxBatch)
	s.done = make(chan struct{})
	go s.writer()
	return s, nil
}

func (s *sqliteStore) migrate(ctx context.Context) error {
	c := s.wconn
	var have int
	var tables int
	if err := c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).Scan(&tables); err != nil {
		return fmt.Errorf("store: read %s: %w", s.path, err)
	}
	if tables > 0 {
		var v string
		err := c.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: read schema version of %s: %w", s.path, err)
		}
		if err == nil {
			if have, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("store: %s: bad schema_version %q", s.path, v)
			}
		}
	}
	want := len(sqliteMigrations)
	if have > want {
		return fmt.Errorf("%w: %s has schema version %d, this wsim supports up to %d; upgrade wsim or use another data directory", ErrNewerSchema, s.path, have, want)
	}

	// WAL lets the read pool run alongside the writer.
	var mode string
	if err := c.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("store: enable WAL on %s: %w", s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("store: %s: SQLite refused WAL mode (journal_mode=%s)", s.path, mode)
	}
	if have == want {
		return nil
	}

	if _, err := c.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.path, err)
	}
	for v := have; v < want; v++ {
		if _, err := c.ExecContext(ctx, sqliteMigrations[v]); err != nil {
			c.ExecContext(context.Background(), `ROLLBACK`)
			return fmt.Errorf("store: migrate %s to schema version %d: %w", s.path, v+1, err)
		}
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('schema_version', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.Itoa(want)); err != nil {
		c.ExecContext(context.Background(), `ROLLBACK`)
		return fmt.Errorf("store: migrate %s: %w", s.path, err)
	}
	if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
		c.ExecContext(context.Background(), `ROLLBACK`)
		return fmt.Errorf("store: migrate %s: %w", s.path, err)
	}
	return nil
}

func prepareSQLite(prep func(string) (*sql.Stmt, error)) (st sqliteStmts, err error) {
	const where = ` WHERE account = ? AND region = ? AND kind = ?`
	for _, p := range []struct {
		dst *(*sql.Stmt)
		q   string
	}{
		{&st.get, `SELECT ` + sqliteCols + ` FROM records` + where + ` AND id = ?`},
		{&st.list, `SELECT ` + sqliteCols + ` FROM records` + where + ` AND id > ? ORDER BY id LIMIT ?`},
		{&st.count, `SELECT coalesce((SELECT n FROM scope_counts` + where + `), 0)`},
		{&st.version, `SELECT version FROM records` + where + ` AND id = ?`},
		// "name <> ''" repeated so SQLite can use the partial index.
		{&st.owner, `SELECT id FROM records` + where + ` AND name = ? AND name <> ''`},
		{&st.insert, `INSERT INTO records (` + sqliteCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.update, `UPDATE records SET name = ?, created = ?, version = ?, body = ?` + where + ` AND id = ?`},
		{&st.del, `DELETE FROM records` + where + ` AND id = ?`},
	} {
		if *p.dst, err = prep(p.q); err != nil {
			return st, fmt.Errorf("store: prepare %q: %w", p.q, err)
		}
	}
	return st, nil
}

func (st *sqliteStmts) close() {
	for _, p := range []*sql.Stmt{st.get, st.list, st.count, st.version, st.owner, st.insert, st.update, st.del} {
		if p != nil {
			p.Close()
		}
	}
}

func (s *sqliteStore) Get(ctx context.Context, k Key) (*Record, error) {
	return s.get(ctx, k, false)
}

// lendGet is Get without a copy of a cached record.
func (s *sqliteStore) lendGet(ctx context.Context, k Key) (*Record, error) {
	return s.get(ctx, k, true)
}

func (s *sqliteStore) get(ctx context.Context, k Key, lend bool) (*Record, error) {
	if s.readClosed.Load() {
		return nil, errClosed
	}
	if r, ok := s.cache.peek(k); ok {
		return cachedAnswer(r, lend)
	}
	gen := s.cache.generation()
	r, err := sqliteGet(ctx, s.r.get, k)
	switch {
	case err == nil:
		s.cache.fill(r, gen)
	case errors.Is(err, ErrNotFound):
		s.cache.fillAbsent(k, gen)
	}
	return r, err
}

func (s *sqliteStore) List(ctx context.Context, sc Scope, afterID string, limit int) ([]*Record, error) {
	return s.list(ctx, sc, afterID, limit, false)
}

// lendList is List without copies of cached records.
func (s *sqliteStore) lendList(ctx context.Context, sc Scope, afterID string, limit int) ([]*Record, error) {
	return s.list(ctx, sc, afterID, limit, true)
}

func (s *sqliteStore) list(ctx context.Context, sc Scope, afterID string, limit int, lend bool) ([]*Record, error) {
	if s.readClosed.Load() {
		return nil, errClosed
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	// The page's ids and versions come from the scope's index, else from
	// the database, and the records from the read cache when it holds every
	// one at the version listed: reading 8 columns of every row was most of
	// a page's cost while its records sat in the cache, and stepping
	// SQLite's VM through the ids most of what was left.
	gen := s.cache.generation()
	page, indexed, load := s.cache.scopes.page(sc, afterID, limit)
	if !indexed && load {
		if err := s.loadIndex(ctx, sc); err != nil {
			return nil, err
		}
		page, indexed, _ = s.cache.scopes.page(sc, afterID, limit)
	}
	if !indexed {
		var err error
		if page, err = s.listIDs(ctx, sc, afterID, limit); err != nil {
			return nil, err
		}
	}
	out := make([]*Record, 0, len(page))
	hit := true
	for _, iv := range page {
		r, ok := s.cache.peek(Key{Account: sc.Account, Region: sc.Region, Kind: sc.Kind, ID: iv.id})
		if !ok || r == nil || r.Version != iv.version {
			hit = false
			break
		}
		out = append(out, r)
	}
	if hit {
		if !lend {
			out = cloneRecords(out)
		}
		return out, nil
	}
	// Else the page is read whole, as it stands now (a read outside a
	// transaction sees the latest committed state), and cached for the
	// next read.
	out, err := sqliteList(ctx, s.r.list, sc, afterID, limit)
	if err != nil {
		return nil, err
	}
	for _, r := range out {
		s.cache.fill(r, gen)
	}
	return out, nil
}

// listIDs reads the ids and versions of a page from the database.
func (s *sqliteStore) listIDs(ctx context.Context, sc Scope, afterID string, limit int) ([]idVersion, error) {
	rows, err := s.listVersions.QueryContext(ctx, sc.Account, sc.Region, sc.Kind, afterID, limit)
	if err != nil {
		return nil, sqliteFail("list", err)
	}
	defer rows.Close()
	var page []idVersion
	for rows.Next() {
		var iv idVersion
		if err := rows.Scan(&iv.id, &iv.version); err != nil {
			return nil, sqliteFail("list", err)
		}
		page = append(page, iv)
	}
	if err := rows.Err(); err != nil {
		return nil, sqliteFail("list", err)
	}
	return page, nil
}

// loadIndex reads a scope's ids into its index, unless the scope is too
// large to index (its count, kept in scope_counts, says so without reading
// them) or a write to it lands meanwhile.
func (s *sqliteStore) loadIndex(ctx context.Context, sc Scope) error {
	l := s.cache.scopes.startLoad(sc)
	if l == nil {
		return nil // another List is loading it; this one reads the database
	}
	var n int
	if err := s.r.count.QueryRowContext(ctx, sc.Account, sc.Region, sc.Kind).Scan(&n); err != nil {
		s.cache.scopes.finishLoad(sc, l, nil, false, false)
		return sqliteFail("count", err)
	}
	if n > s.cache.scopes.maxScopeIDs() {
		s.cache.scopes.finishLoad(sc, l, nil, true, true)
		return nil
	}
	ids, err := s.listIDs(ctx, sc, "", -1)
	s.cache.scopes.finishLoad(sc, l, ids, false, err == nil)
	return err
}

// ListKind reads through the read pool, not the read cache: the cache
// holds single records and cannot answer a range.
func (s *sqliteStore) ListKind(ctx context.Context, kind string, after Key, limit int) ([]*Record, error) {
	if s.readClosed.Load() {
		return nil, errClosed
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.listKind.QueryContext(ctx, after.Account, after.Region, kind, after.ID, limit)
	if err != nil {
		return nil, sqliteFail("list kind", err)
	}
	return sqliteScanAll(rows)
}

func (s *sqliteStore) Ping(ctx context.Context) error {
	if s.readClosed.Load() {
		return errClosed
	}
	if err := s.rdb.PingContext(ctx); err != nil {
		return sqliteFail("ping", err)
	}
	return nil
}

func (s *sqliteStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &sqliteReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	// Once the writer has taken the request, wait for the answer even if
	// ctx ends: the batch may already be committing, and the caller must
	// not be told "failed" about a write that then lands. Until then, a
	// caller whose ctx ends (the store's deadline, with a stalled disk)
	// takes it back and is answered at once.
	select {
	case <-req.done:
	case <-ctx.Done():
		if req.state.CompareAndSwap(sqliteQueued, sqliteAbandoned) {
			return ctx.Err()
		}
		<-req.done
	}
	if req.panicked {
		panic(req.panicVal)
	}
	return req.err
}

func (s *sqliteStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.readClosed.Store(true)
	close(s.reqs)
	s.mu.Unlock()
	<-s.done
	return s.closeAll()
}

// closeAll releases whatever openSQLite got as far as acquiring. The writer
// connection goes last so that its close is the final one, which checkpoints
// the WAL into the main file.
func (s *sqliteStore) closeAll() error {
	var errs []error
	s.r.close()
	for _, st := range []*sql.Stmt{s.listKind, s.listVersions} {
		if st != nil {
			st.Close()
		}
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	s.w.close()
	for _, st := range []*sql.Stmt{s.wb.savepoint, s.wb.release, s.wb.rollbackTo} {
		if st != nil {
			st.Close()
		}
	}
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	errs = append(errs, unlockFiles(s.locks))
	return errors.Join(errs...)
}

func (s *sqliteStore) writer() {
	defer close(s.done)
	batch := make([]*sqliteReq, 0, sqliteMaxBatch)
	for req := range s.reqs {
		batch = append(batch[:0], req)
	fill:
		for len(batch) < sqliteMaxBatch {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runBatch(batch)
		clear(batch) // don't pin finished requests until the slot is reused
	}
}

// runBatch applies a batch in one transaction. Each fn gets a savepoint, so
// a failing fn is undone alone and the rest still commit.
func (s *sqliteStore) runBatch(batch []*sqliteReq) {
	ctx := context.Background()
	c := s.wconn
	failAll := func(err error) {
		for _, r := range batch {
			if r.err == nil && !r.panicked {
				r.err = err
			}
		}
	}
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	if _, err := c.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		failAll(sqliteFail("begin", err))
		return
	}
	applied := 0
	for _, r := range batch {
		if !r.state.CompareAndSwap(sqliteQueued, sqliteTaken) {
			continue // abandoned: its caller has had its answer
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if _, err := s.wb.savepoint.ExecContext(ctx); err != nil {
			c.ExecContext(ctx, `ROLLBACK`)
			failAll(sqliteFail("savepoint", err))
			return
		}
		s.call(r)
		if r.err == nil && !r.panicked {
			if _, err := s.wb.release.ExecContext(ctx); err != nil {
				c.ExecContext(ctx, `ROLLBACK`)
				failAll(sqliteFail("release savepoint", err))
				return
			}
			applied++
			continue
		}
		if err := execAll(ctx, s.wb.rollbackTo, s.wb.release); err != nil {
			// The transaction is in an unknown state; nothing in it
			// may be committed.
			c.ExecContext(ctx, `ROLLBACK`)
			failAll(sqliteFail("rollback to savepoint", err))
			return
		}
	}
	if applied == 0 {
		if _, err := c.ExecContext(ctx, `ROLLBACK`); err != nil {
			failAll(sqliteFail("rollback", err))
		}
		return
	}
	writes := make(map[Key]*Record)
	purged := false
	for _, r := range batch {
		if r.err == nil && !r.panicked {
			for k, w := range r.writes {
				writes[k] = w
			}
			purged = purged || r.purged
		}
	}
	if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
		c.ExecContext(ctx, `ROLLBACK`)
		failAll(sqliteFail("commit", err))
		s.cache.forget(writes)
		if purged {
			s.cache.clear()
		}
		return
	}
	if purged {
		// Emptying the cache is always correct, and a purge is rare.
		s.cache.clear()
		return
	}
	s.cache.apply(writes)
}

// call runs one fn, turning a panic into a value the caller re-panics with,
// so a bug in one handler can't kill the writer everyone depends on.
func (s *sqliteStore) call(r *sqliteReq) {
	defer func() {
		if v := recover(); v != nil {
			r.panicked, r.panicVal = true, v
		}
	}()
	tx := &sqliteTx{st: &s.w, conn: s.wconn, writes: make(map[Key]*Record)}
	r.err = r.fn(tx)
	r.writes, r.purged = tx.writes, tx.purged
}

// sqliteTx runs its statements on the writer connection without the
// caller's context. A cancelled context would make the driver call
// sqlite3_interrupt, and an interrupted write inside a transaction rolls back
// the whole transaction: everyone else's requests in the batch. The context
// is still honoured between statements.
type sqliteTx struct {
	st *sqliteStmts
	// conn is the writer connection, for the statements that depend on a
	// Selection and so are not prepared.
	conn   *sql.Conn
	writes map[Key]*Record
	purged bool
}

func (t *sqliteTx) Get(ctx context.Context, k Key) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sqliteGet(context.Background(), t.st.get, k)
}

func (t *sqliteTx) List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sqliteList(context.Background(), t.st.list, s, afterID, limit)
}

func (t *sqliteTx) Count(ctx context.Context, s Scope) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ctx = context.Background()
	var n int
	if err := t.st.count.QueryRowContext(ctx, s.Account, s.Region, s.Kind).Scan(&n); err != nil {
		return 0, sqliteFail("count", err)
	}
	return n, nil
}

// version returns the stored version of k, 0 when absent.
func (t *sqliteTx) version(ctx context.Context, k Key) (int64, error) {
	var v int64
	err := t.st.version.QueryRowContext(ctx, k.Account, k.Region, k.Kind, k.ID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, sqliteFail("get", err)
	}
	return v, nil
}

func (t *sqliteTx) Insert(ctx context.Context, r *Record, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.Background()
	if max > 0 {
		n, err := t.Count(ctx, r.Scope())
		if err != nil {
			return err
		}
		if n >= max {
			// A duplicate is the more useful answer when both apply, and
			// the other backends give it too.
			if v, err := t.version(ctx, r.Key); err != nil || v > 0 {
				return cmpErr(err, ErrAlreadyExists)
			}
			if taken, err := t.nameTaken(ctx, r); err != nil || taken {
				return cmpErr(err, ErrNameTaken)
			}
			return ErrLimitExceeded
		}
	}
	if err := t.insert(ctx, r, 1); err != nil {
		return err
	}
	r.Version = 1
	t.writes[r.Key] = cloneRecord(r)
	return nil
}

func (t *sqliteTx) insert(ctx context.Context, r *Record, version int64) error {
	_, err := t.st.insert.ExecContext(ctx, r.Account, r.Region, r.Kind, r.ID, r.Name, r.Created.UnixMicro(), version, nonNil(r.Body))
	if isSQLiteConstraint(err) {
		// The statement failed alone (SQLite's default ABORT), so the
		// transaction is still usable to find out which key clashed.
		if v, verr := t.version(ctx, r.Key); verr != nil || v > 0 {
			return cmpErr(verr, ErrAlreadyExists)
		}
		return ErrNameTaken
	}
	if err != nil {
		return sqliteFail("insert", err)
	}
	return nil
}

func (t *sqliteTx) nameTaken(ctx context.Context, r *Record) (bool, error) {
	if r.Name == "" {
		return false, nil
	}
	var id string
	err := t.st.owner.QueryRowContext(ctx, r.Account, r.Region, r.Kind, r.Name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, sqliteFail("get", err)
	}
	return id != r.ID, nil
}

func (t *sqliteTx) Put(ctx context.Context, r *Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.Background()
	stored, err := t.version(ctx, r.Key)
	if err != nil {
		return err
	}
	if r.Version != stored {
		return ErrConflict
	}
	if stored == 0 {
		if err := t.insert(ctx, r, 1); err != nil {
			return err
		}
		r.Version = 1
		t.writes[r.Key] = cloneRecord(r)
		return nil
	}
	_, err = t.st.update.ExecContext(ctx, r.Name, r.Created.UnixMicro(), stored+1, nonNil(r.Body), r.Account, r.Region, r.Kind, r.ID)
	if isSQLiteConstraint(err) {
		return ErrNameTaken
	}
	if err != nil {
		return sqliteFail("update", err)
	}
	r.Version = stored + 1
	t.writes[r.Key] = cloneRecord(r)
	return nil
}

func (t *sqliteTx) Delete(ctx context.Context, k Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.Background()
	res, err := t.st.del.ExecContext(ctx, k.Account, k.Region, k.Kind, k.ID)
	if err != nil {
		return sqliteFail("delete", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return sqliteFail("delete", err)
	} else if n == 0 {
		return ErrNotFound
	}
	t.writes[k] = nil
	return nil
}

// sqliteWhere is the WHERE clause selecting sel, and its arguments.
func sqliteWhere(sel Selection) (string, []any) {
	switch {
	case sel.All():
		return ``, nil
	case sel.Region == "":
		return ` WHERE account = ?`, []any{sel.Account}
	}
	return ` WHERE account = ? AND region = ?`, []any{sel.Account, sel.Region}
}

func (t *sqliteTx) Select(ctx context.Context, sel Selection, kind string) ([]*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	where, args := sqliteWhere(sel)
	if where == "" {
		where = ` WHERE kind = ?`
	} else {
		where += ` AND kind = ?`
	}
	rows, err := t.conn.QueryContext(context.Background(), `SELECT `+sqliteCols+` FROM records`+where+
		` ORDER BY account, region, id`, append(args, kind)...)
	if err != nil {
		return nil, sqliteFail("select", err)
	}
	return sqliteScanAll(rows)
}

func (t *sqliteTx) Purge(ctx context.Context, sel Selection) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	bg := context.Background()
	where, args := sqliteWhere(sel)
	rows, err := t.conn.QueryContext(bg, `SELECT kind, count(*) FROM records`+where+` GROUP BY kind`, args...)
	if err != nil {
		return nil, sqliteFail("purge", err)
	}
	counts := map[string]int{}
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			rows.Close()
			return nil, sqliteFail("purge", err)
		}
		counts[kind] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, sqliteFail("purge", err)
	}
	if _, err := t.conn.ExecContext(bg, `DELETE FROM records`+where, args...); err != nil {
		return nil, sqliteFail("purge", err)
	}
	for k := range t.writes {
		if sel.Contains(k) {
			t.writes[k] = nil
		}
	}
	t.purged = true
	return counts, nil
}

func sqliteGet(ctx context.Context, st *sql.Stmt, k Key) (*Record, error) {
	r, err := scanRecord(st.QueryRowContext(ctx, k.Account, k.Region, k.Kind, k.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, sqliteFail("get", err)
	}
	return r, nil
}

func sqliteList(ctx context.Context, st *sql.Stmt, s Scope, afterID string, limit int) ([]*Record, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := st.QueryContext(ctx, s.Account, s.Region, s.Kind, afterID, limit)
	if err != nil {
		return nil, sqliteFail("list", err)
	}
	return sqliteScanAll(rows)
}

// sqliteScanAll reads every row of a listing and closes rows.
func sqliteScanAll(rows *sql.Rows) ([]*Record, error) {
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, sqliteFail("list", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, sqliteFail("list", err)
	}
	return out, nil
}

func scanRecord(row interface{ Scan(...any) error }) (*Record, error) {
	var r Record
	var created int64
	if err := row.Scan(&r.Account, &r.Region, &r.Kind, &r.ID, &r.Name, &created, &r.Version, &r.Body); err != nil {
		return nil, err
	}
	r.Created = time.UnixMicro(created).UTC()
	return &r, nil
}

func execAll(ctx context.Context, stmts ...*sql.Stmt) error {
	for _, st := range stmts {
		if _, err := st.ExecContext(ctx); err != nil {
			return err
		}
	}
	return nil
}

// sqliteUnavailable are the primary result codes that say the file or the
// disk under it cannot take the request now, rather than that the request or
// wsim is wrong: disk full, a read-only or vanished file, an I/O error, a
// lock or memory not to be had. Retrying later can succeed.
var sqliteUnavailable = map[int]bool{
	sqlite3.SQLITE_FULL: true, sqlite3.SQLITE_READONLY: true, sqlite3.SQLITE_CANTOPEN: true,
	sqlite3.SQLITE_IOERR: true, sqlite3.SQLITE_PERM: true, sqlite3.SQLITE_BUSY: true,
	sqlite3.SQLITE_LOCKED: true, sqlite3.SQLITE_NOMEM: true, sqlite3.SQLITE_NOLFS: true,
}

// isSQLiteUnavailable reports whether err carries one of sqliteUnavailable.
func isSQLiteUnavailable(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && sqliteUnavailable[se.Code()&0xff]
}

// sqliteOpenFail explains a failure to open path that the file system
// caused: the file was writable (lockDB opened it so), so it is the
// directory, where SQLite must create the write-ahead log and its index.
func sqliteOpenFail(path string, err error) error {
	if !isSQLiteUnavailable(err) {
		if errors.Is(err, ErrNewerSchema) || strings.HasPrefix(err.Error(), "store: ") {
			return err
		}
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	return fmt.Errorf("store: SQLite file %s is not writable with its directory %s (SQLite creates %s-wal and %s-shm there); wsim must write its store: make them writable or choose another --data-dir or --store: %w",
		path, filepath.Dir(path), filepath.Base(path), filepath.Base(path), err)
}

// sqliteFail wraps err from op for the caller, marking with ErrUnavailable
// what the file or its disk refused (see sqliteUnavailable), so that the
// client is told to retry and the health check says degraded.
func sqliteFail(op string, err error) error {
	if isSQLiteUnavailable(err) {
		return fmt.Errorf("%w: SQLite %s: %w", ErrUnavailable, op, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func isSQLiteConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// cmpErr returns err if set, otherwise sentinel: for checks that either
// failed outright or found the condition they looked for.
func cmpErr(err, sentinel error) error {
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return sentinel
}

// nonNil keeps NOT NULL body columns happy with a nil Body.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
