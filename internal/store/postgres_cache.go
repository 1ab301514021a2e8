package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wsim/wsim/internal/cache"
)

// A replica keeps the records it reads by key in memory (a describe by id
// then costs no round trip) while no other replica writes, and stays exact
// however replicas come and go and write:
//
//   - A replica caches only while it holds the cacher lock (a session
//     advisory lock on its listener's connection, keyed by its backend's
//     pid under the schema's class).
//   - Every write transaction holds the writers' lock (advisory, shared,
//     for the transaction) from its first statement, and before its COMMIT
//     looks in pg_locks, which is not bound to its snapshot, for a cacher
//     lock other than its own replica's. If there is one, it notifies the
//     cache channel (sent at commit) and, once committed, does not return
//     before every other cacher lock is gone.
//   - A replica takes the cacher lock only while it holds the writers' lock
//     exclusively (pg_try_advisory_lock, so no write waits for it): every
//     write in flight then has committed, and every later one sees the
//     cacher lock.
//   - On a notification of the cache channel a cacher drops its copy and
//     stops caching, then lets its cacher lock go; its listener's end (a
//     lost connection) does both too. It tries again every pgCacheRetry.
//   - Its own writes drop what they wrote from its copy once committed and
//     before they return; a read fills the copy only if no write of its key
//     committed while it read.
//
// So once a write is acknowledged, no copy older than it answers anywhere.
// As for the settings (postgres_settings.go), this rests on a cacher
// learning that its listener's connection is gone: a connection the server
// dropped without the replica noticing keeps it caching.
const (
	// pgCacheLock is the class of the schema's advisory locks: the
	// writers' lock (pgCacheLock<<32 | the schema's key, shared by writes)
	// and the cacher locks (the schema's key, a listener's pid).
	pgCacheLock = 0x77736963 // "wsic"
	// pgCacheChannel, with the schema's key, is what writes notify.
	pgCacheChannel = "wsim_records_"
	// pgCacheBytes bounds the copy.
	pgCacheBytes = 64 << 20
	// pgCacheRetry is how often a replica that does not cache tries
	// again: a replica whose copy another's write dropped caches again
	// once writes leave it a moment, and a write then pays for making it
	// drop its copy at most this often per other replica.
	pgCacheRetry = 100 * time.Millisecond
	// pgCacheStripes splits the count of the writes that raced a read.
	pgCacheStripes = 64
	// pgIndexBytes bounds the scope indexes, as sqliteIndexBytes SQLite's.
	pgIndexBytes = sqliteIndexBytes
)

// pgCache is a replica's copy of the records it read by key.
type pgCache struct {
	// key is the schema's key (its name's hash), for the locks and the
	// channel.
	key int32
	mu  sync.RWMutex
	// pid is the listener's backend pid while the replica caches, else 0.
	pid int32
	// gen counts, per stripe of keys, the writes committed: a read fills
	// the copy only if its stripe did not move while it read.
	gen [pgCacheStripes]uint64
	c   *cache.Cache[Key, *Record] // nil: known absent
	// scopes are the ids of scopes listed recently, kept while the replica
	// caches as SQLite's are (scopeindex.go): a page then comes from
	// memory, its ids from here and its records from c.
	scopes *scopeIndexes
	// loads counts the reads that went to the database while caching, and
	// pages the pages answered from memory, for tests.
	loads, pages atomic.Int64
}

func newPGCache(schema string) *pgCache {
	h := fnv.New32a()
	h.Write([]byte(schema))
	return &pgCache{
		key: int32(h.Sum32() & 0x7fffffff),
		c: cache.New(pgCacheBytes, func(k Key, r *Record) int64 {
			n := int64(len(k.Account) + len(k.Region) + len(k.Kind) + len(k.ID) + 128)
			if r != nil {
				n += int64(len(r.Name) + len(r.Body))
			}
			return n
		}),
		scopes: newScopeIndexes(pgIndexBytes),
	}
}

func (c *pgCache) writersLock() int64 { return int64(pgCacheLock)<<32 | int64(c.key) }
func (c *pgCache) channel() string    { return pgCacheChannel + strconv.Itoa(int(c.key)) }

// stripeSeed seeds cacheStripe's hash, which maphash computes without
// allocating (every write and every read that misses asks).
var stripeSeed = maphash.MakeSeed()

func cacheStripe(k Key) int {
	return int(maphash.String(stripeSeed, k.ID) % pgCacheStripes)
}

// self is the pid of this replica's cacher lock, or 0.
func (c *pgCache) self() int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pid
}

// lookup returns the copy of k (nil: known absent), if the replica caches
// and holds one.
func (c *pgCache) lookup(k Key) (r *Record, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.pid == 0 {
		return nil, false
	}
	return c.c.Get(k)
}

// begin is called before k is read from the database: on says the replica
// caches, gen is what fill compares.
func (c *pgCache) begin(k Key) (gen uint64, on bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.pid == 0 {
		return 0, false
	}
	c.loads.Add(1)
	return c.gen[cacheStripe(k)], true
}

// fill keeps r (nil: absent), read as k after begin returned gen, unless a
// write of its stripe committed meanwhile or caching stopped.
func (c *pgCache) fill(k Key, r *Record, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pid != 0 && c.gen[cacheStripe(k)] == gen {
		c.c.Put(k, r)
	}
}

// marked is called before a write's COMMIT is sent, with the keys it wrote
// (each once): see scopeIndexes.mark.
func (c *pgCache) marked(keys []Key) {
	if len(keys) > 0 {
		c.scopes.mark(keys)
	}
}

// settled is called once a write's COMMIT is answered, whatever the
// outcome, with the keys marked (or all, after a purge) and, if it
// committed, the records it left (nil: gone; a key it did not change is
// absent). The scope indexes learn their versions, and the copy keeps them
// where no other write of the key is in flight (which of two would be the
// latest cannot be told), else forgets the key.
func (c *pgCache) settled(keys []Key, left map[Key]*Record, all bool, o writeOutcome) {
	if len(keys) == 0 && !all {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if all {
		c.empty()
	}
	for _, k := range keys {
		c.gen[cacheStripe(k)]++
	}
	for i, latest := range c.scopes.settle(keys, left, o) {
		if r, ok := left[keys[i]]; latest && ok && c.pid != 0 {
			c.c.Put(keys[i], r)
		} else {
			c.c.Delete(keys[i])
		}
	}
}

// set starts caching as the cacher lock of pid, or stops (pid 0), with an
// empty copy either way.
func (c *pgCache) set(pid int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pid = pid
	c.empty()
}

// empty drops the copy and the scope indexes, under c.mu; reads under way
// do not fill the copy.
func (c *pgCache) empty() {
	for i := range c.gen {
		c.gen[i]++
	}
	c.c.Clear()
	c.scopes.clear()
}

// page returns a page of sc from the copy: indexed says the replica caches
// and holds sc's index, hit that the copy held every record of the page at
// the version listed (out, which the caller must not change), load that
// the caller should load sc's index.
func (c *pgCache) page(sc Scope, afterID string, limit int) (out []*Record, indexed, hit, load bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.pid == 0 {
		return nil, false, false, false
	}
	ids, indexed, load := c.scopes.page(sc, afterID, limit)
	if !indexed {
		return nil, false, false, load
	}
	out = make([]*Record, 0, len(ids))
	for _, iv := range ids {
		r, ok := c.c.Get(Key{Account: sc.Account, Region: sc.Region, Kind: sc.Kind, ID: iv.id})
		if !ok || r == nil || r.Version != iv.version {
			return nil, true, false, false
		}
		out = append(out, r)
	}
	return out, true, true, false
}

// snapshot is begin for a page: every stripe's count, and whether the
// replica caches.
func (c *pgCache) snapshot() (gen [pgCacheStripes]uint64, on bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.pid == 0 {
		return gen, false
	}
	c.loads.Add(1)
	return c.gen, true
}

// fillPage keeps the records of a page read after snapshot returned gen,
// as fill does one.
func (c *pgCache) fillPage(out []*Record, gen *[pgCacheStripes]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pid == 0 {
		return
	}
	for _, r := range out {
		if c.gen[cacheStripe(r.Key)] == gen[cacheStripe(r.Key)] {
			c.c.Put(r.Key, cloneRecord(r))
		}
	}
}

// startLoad registers a load of sc's index, if the replica caches (see
// scopeIndexes.startLoad).
func (c *pgCache) startLoad(sc Scope) *indexLoad {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.pid == 0 {
		return nil
	}
	return c.scopes.startLoad(sc)
}

// listCached is List: while the replica caches, the page from memory when
// its scope's index and its records are there, else from the database
// (filling the copy for the next read). lend returns the copy's own
// records.
func (p *pgStore) listCached(ctx context.Context, sc Scope, afterID string, limit int, lend bool) ([]*Record, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	c := p.cache
	out, indexed, hit, load := c.page(sc, afterID, limit)
	if !indexed && load {
		if err := p.loadIndex(ctx, sc); err != nil {
			return nil, err
		}
		out, _, hit, _ = c.page(sc, afterID, limit)
	}
	if hit {
		c.pages.Add(1)
		if !lend {
			out = cloneRecords(out)
		}
		return out, nil
	}
	gen, on := c.snapshot()
	out, err := pgList(ctx, p.pool, sc, afterID, limit)
	if err != nil {
		return nil, pgFail(ctx, "list", err)
	}
	if on {
		c.fillPage(out, &gen)
	}
	return out, nil
}

// loadIndex reads a scope's ids and versions into its index, unless the
// scope is too large to index (scope_counts says so without reading them)
// or a write to it is in flight or lands meanwhile.
func (p *pgStore) loadIndex(ctx context.Context, sc Scope) error {
	x := p.cache.scopes
	l := p.cache.startLoad(sc)
	if l == nil {
		return nil
	}
	var n int64
	err := p.pool.QueryRow(ctx, pgCountSQL, sc.Account, sc.Region, sc.Kind).Scan(&n)
	if err != nil {
		x.finishLoad(sc, l, nil, false, false)
		return pgFail(ctx, "count", err)
	}
	if n > int64(x.maxScopeIDs()) {
		x.finishLoad(sc, l, nil, true, true)
		return nil
	}
	rows, err := p.pool.Query(ctx, `SELECT id, version FROM records WHERE account = $1 AND region = $2 AND kind = $3 ORDER BY id`,
		sc.Account, sc.Region, sc.Kind)
	var ids []idVersion
	if err == nil {
		var iv idVersion
		_, err = pgx.ForEachRow(rows, []any{&iv.id, &iv.version}, func() error {
			ids = append(ids, iv)
			return nil
		})
	}
	if err != nil {
		x.finishLoad(sc, l, nil, false, false)
		return pgFail(ctx, "list", err)
	}
	x.finishLoad(sc, l, ids, false, true)
	return nil
}

// getCached is Get of a record in an account: from the copy while the
// replica caches, else from the database. lend returns the copy's own
// record.
func (p *pgStore) getCached(ctx context.Context, k Key, lend bool) (*Record, error) {
	c := p.cache
	if r, ok := c.lookup(k); ok {
		return cachedAnswer(r, lend)
	}
	gen, on := c.begin(k)
	r, err := pgGet(ctx, p.pool, k)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, pgFail(ctx, "get", err)
	}
	if on {
		var kept *Record
		if r != nil {
			kept = cloneRecord(r)
		}
		c.fill(k, kept, gen)
	}
	return r, err
}

// pgCacherCheckSQL, before a write's COMMIT, notifies the cache channel ($1)
// if a cacher lock of the schema's class ($2) other than the writer's own
// replica's ($3; 0: none) is held, and says whether it did. pg_locks shows
// the locks held now, whatever the transaction's snapshot. The payload is
// the writer's own cacher pid, whose copy its listener keeps: its own writes
// drop what they wrote.
const pgCacherCheckSQL = `SELECT count(*) FROM (SELECT pg_notify($1, $3::bigint::text) FROM pg_locks
	WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND classid = $2::bigint::oid AND objsubid = 2 AND objid <> $3::bigint::oid LIMIT 1) n`

// awaitCachers returns once no other replica holds a cacher lock: each has
// dropped its copy. Each look notifies those it finds again: a replica that
// dropped its copy and took its cacher lock again before this one looked
// (it tries again every pgCacheRetry) drops it again, rather than keep this
// write waiting until its deadline.
func (p *pgStore) awaitCachers(ctx context.Context, self int32) error {
	c := p.cache
	return p.awaitNone(ctx, "drop their copy of a changed record", pgCacherCheckSQL, c.channel(), int64(c.key), int64(self))
}

// awaitNone returns once the count sql reads is 0 (the replicas it counts
// have done what what says), polling with backoff until ctx ends.
func (p *pgStore) awaitNone(ctx context.Context, what, sql string, args ...any) error {
	d := 100 * time.Microsecond
	for {
		var n int64
		if err := p.pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			return pgFail(ctx, "wait for the replicas to "+what, err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-time.After(d):
			d = min(2*d, 10*time.Millisecond)
		case <-ctx.Done():
			return fmt.Errorf("%w: %d replicas did not %s in time: %w", ErrUnavailable, n, what, ctx.Err())
		}
	}
}

// tryCache makes the replica a cacher, on its listener's connection, if it
// can take the writers' lock at once.
func (p *pgStore) tryCache(ctx context.Context, conn *pgx.Conn) error {
	c := p.cache
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, c.writersLock()).Scan(&got); err != nil || !got {
		return err
	}
	unlock := func() error {
		_, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, c.writersLock())
		return err
	}
	var pid int32
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock($1::int, pg_backend_pid())) l`, c.key).Scan(&pid); err != nil {
		unlock()
		return err
	}
	c.set(pid)
	return unlock()
}

// stopCaching ends this replica's caching (its copy dropped first) and
// lets its cacher lock go.
func (p *pgStore) stopCaching(ctx context.Context, conn *pgx.Conn) error {
	if p.cache.self() == 0 {
		return nil
	}
	p.cache.set(0)
	_, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1::int, pg_backend_pid())`, p.cache.key)
	return err
}
