package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Group commit of lone inserts.
//
// An import costs PostgreSQL far more for its transaction (BEGIN, COMMIT
// and the WAL flush behind it) than for its row. So a lone insert is first
// not sent at all: Insert notes the record and returns, and once fn has
// returned with no other call, the record joins a queue. A writer takes
// what is queued (at most pgGroupMax records) and writes it in one READ
// COMMITTED transaction of one round trip: BEGIN, one statement that
// inserts the records (ON CONFLICT DO NOTHING, leaving out any record whose
// scope's committed count would pass its quota) and raises each scope's
// counter by the number inserted, under the counter's row lock and the
// CHECK of the quota, then COMMIT. While a batch waits for its flush, the
// next one queues. Each caller is answered only once that COMMIT has
// returned.
//
// A record the batch did not insert (its key or name taken, its quota
// full, or a duplicate of another in the batch) makes its caller run fn
// again as a serializable transaction, which answers it exactly as before;
// a batch that PostgreSQL rolled back (a quota's CHECK, a deadlock, any
// failure before the COMMIT was sent) makes every caller run fn again as
// a lone insert of its own. Only a batch whose COMMIT may or may not have
// happened (a connection lost under it) answers its callers with the error,
// as a lone insert's commit does. So names stay unique and quotas exact
// across replicas by the same indexes and CHECK as before; a batch only
// ever leaves records out.

const (
	// pgGroupWriters is how many batches may be in flight at once. One
	// writer made the largest batches and the most imports a second (16
	// clients on 2 cores: 4,400-6,000/s; two writers 3,500-5,500/s, four
	// 3,800/s): a second batch in flight mostly waits for the same flush.
	pgGroupWriters = 1
	// pgGroupMax bounds a batch.
	pgGroupMax = 256
)

// pgGroupSQL inserts the batch's records (unnest of the arrays, in order)
// unless the scope's committed count plus the record's rank in its scope
// within the batch would pass the quota ($8; 0: none), raises each scope's
// count by the records inserted into it, in scope order so that batches
// lock the counters in one order, under the CHECK of the quota, and returns
// the keys inserted.
const pgGroupSQL = `WITH input AS (
		SELECT t.*, row_number() OVER (PARTITION BY t.account, t.region, t.kind ORDER BY t.ord) AS rank
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bytea[], $8::bigint[])
			WITH ORDINALITY AS t(account, region, kind, id, name, created, body, lim, ord)
	), ins AS (
		INSERT INTO records (` + pgCols + `)
		SELECT i.account, i.region, i.kind, i.id, i.name, i.created, 1, i.body
		FROM input i LEFT JOIN scope_counts c ON c.account = i.account AND c.region = i.region AND c.kind = i.kind
		WHERE i.lim = 0 OR coalesce(c.n, 0) + i.rank <= i.lim
		ORDER BY i.ord
		ON CONFLICT DO NOTHING
		RETURNING account, region, kind, id
	), counted AS (
		INSERT INTO scope_counts AS c (account, region, kind, n, cap)
		SELECT ins.account, ins.region, ins.kind, count(*), max(i.lim)
		FROM ins JOIN input i USING (account, region, kind, id)
		GROUP BY ins.account, ins.region, ins.kind
		ORDER BY ins.account, ins.region, ins.kind
		ON CONFLICT (account, region, kind) DO UPDATE SET n = c.n + excluded.n, cap = excluded.cap
	)
	SELECT account, region, kind, id FROM ins`

// pgLone is one caller's record waiting in the queue, and its answer.
type pgLone struct {
	r   *Record
	max int
	// ctx is the caller's: a record whose caller has gone by the time a
	// writer takes it is left out.
	ctx  context.Context
	done chan struct{}
	// inserted says the batch committed r; else err, with outcome saying
	// how the caller goes on.
	inserted bool
	err      error
	outcome  pgOutcome
}

// pgGroup is a store's queue of lone inserts.
type pgGroup struct {
	mu      sync.Mutex
	queue   []*pgLone
	writers int
}

// insertGrouped queues r and waits for the commit of the batch holding it.
func (p *pgStore) insertGrouped(ctx context.Context, r *Record, max int) (error, pgOutcome) {
	if err := ctx.Err(); err != nil {
		return err, pgDone
	}
	l := &pgLone{r: r, max: max, ctx: ctx, done: make(chan struct{})}
	g := &p.group
	g.mu.Lock()
	g.queue = append(g.queue, l)
	if g.writers < pgGroupWriters {
		g.writers++
		go p.writeGroups()
	}
	g.mu.Unlock()
	select {
	case <-l.done:
	case <-ctx.Done():
		g.mu.Lock()
		i := slices.Index(g.queue, l)
		if i >= 0 {
			g.queue = slices.Delete(g.queue, i, i+1)
		}
		g.mu.Unlock()
		// Still queued, r will not be written; else its batch may still
		// commit it, and the caller hears it failed, as when a deadline
		// cuts a lone insert's COMMIT.
		return ctx.Err(), pgDone
	}
	switch {
	case l.inserted:
		r.Version = 1
		return nil, pgDone
	case l.err == nil:
		return errRestart, pgSerializable
	}
	return l.err, l.outcome
}

// writeGroups writes batches until the queue is empty.
func (p *pgStore) writeGroups() {
	g := &p.group
	for {
		g.mu.Lock()
		n := min(len(g.queue), pgGroupMax)
		if n == 0 {
			g.writers--
			g.mu.Unlock()
			return
		}
		batch := make([]*pgLone, 0, n)
		for _, l := range g.queue[:n] {
			if l.ctx.Err() != nil {
				// Its caller has returned the error already.
				close(l.done)
				continue
			}
			batch = append(batch, l)
		}
		g.queue = slices.Delete(g.queue, 0, n)
		g.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		p.writeGroup(batch)
		for _, l := range batch {
			close(l.done)
		}
	}
}

// writeGroup writes one batch and sets each member's answer.
func (p *pgStore) writeGroup(batch []*pgLone) {
	ctx := context.Background()
	if d, ok := latestDeadline(batch); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	answer := func(err error, outcome pgOutcome) {
		for _, l := range batch {
			if !l.inserted {
				l.err, l.outcome = err, outcome
			}
		}
	}
	// A batch is a writer like any other: a transaction run again alone
	// waits for it (see pgStore.lane).
	p.lane.RLock()
	defer p.lane.RUnlock()
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		err = pgFail(ctx, "connect", err)
		if ctx.Err() == nil && errors.Is(err, ErrUnavailable) && pgconn.SafeToRetry(err) {
			answer(err, pgRetry)
			return
		}
		answer(err, pgDone)
		return
	}
	defer conn.Release()

	// A key twice in the batch: the later ones wait for the serializable
	// run, which finds the first.
	n := len(batch)
	accounts, regions, kinds, ids, names := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	created, bodies, lims := make([]time.Time, 0, n), make([][]byte, 0, n), make([]int64, 0, n)
	members := make(map[Key]*pgLone, n)
	caps := map[Scope]int64{}
	for _, l := range batch {
		if _, dup := members[l.r.Key]; dup {
			continue
		}
		members[l.r.Key] = l
		// The scope's quota is the least one any member was made under.
		s := l.r.Scope()
		if c, ok := caps[s]; !ok || (l.max > 0 && (c == 0 || int64(l.max) < c)) {
			caps[s] = int64(l.max)
		}
	}
	for _, l := range batch {
		r := l.r
		if members[r.Key] != l {
			continue
		}
		accounts, regions, kinds, ids, names = append(accounts, r.Account), append(regions, r.Region), append(kinds, r.Kind), append(ids, r.ID), append(names, r.Name)
		created, bodies, lims = append(created, micros(r.Created)), append(bodies, nonNil(r.Body)), append(lims, caps[r.Scope()])
	}

	// One round trip: BEGIN, the writers' lock, the batch, the check for
	// other replicas' copies (postgres_cache.go), COMMIT.
	c := p.cache
	b := &pgx.Batch{}
	b.Queue(pgBeginReadCommitted)
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, c.writersLock())
	b.Queue(pgGroupSQL, accounts, regions, kinds, ids, names, created, bodies, lims)
	b.Queue(pgCacherCheckSQL, c.channel(), int64(c.key), int64(c.self()))
	b.Queue(`COMMIT`)
	keys := make([]Key, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	c.marked(keys)
	br := conn.SendBatch(ctx, b)
	var got []*pgLone
	var tag pgconn.CommandTag
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	sent := err == nil
	if err == nil {
		var rows pgx.Rows
		rows, err = br.Query()
		if err == nil {
			var k Key
			_, err = pgx.ForEachRow(rows, []any{&k.Account, &k.Region, &k.Kind, &k.ID}, func() error {
				if l := members[k]; l != nil {
					got = append(got, l)
				}
				return nil
			})
		}
	}
	var cachers int64
	if err == nil {
		err = br.QueryRow().Scan(&cachers)
	}
	var pe *pgconn.PgError
	refused := errors.As(err, &pe)
	if err == nil {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	// Whatever the outcome, the replica's copy forgets the batch's keys
	// before any caller hears of it, and its scope indexes learn what the
	// batch left.
	var left map[Key]*Record
	outcome := writeUnknown
	switch {
	case err == nil && tag.String() == "ROLLBACK", !sent || refused:
		outcome = writeRolledBack
	case err == nil:
		outcome = writeCommitted
		left = make(map[Key]*Record, len(got))
		for _, l := range got {
			left[l.r.Key] = cloneRecord(l.r)
		}
	}
	c.settled(keys, left, false, outcome)
	switch {
	case err == nil && tag.String() == "ROLLBACK":
		answer(pgFail(ctx, "commit", errors.New("the transaction was aborted by an earlier error")), pgLoneInsert)
	case err == nil:
		if cachers > 0 {
			if err := p.awaitCachers(ctx, c.self()); err != nil {
				// Committed, but another replica may still answer from
				// its copy: the callers hear it, as a settings change's
				// do.
				answer(err, pgDone)
				return
			}
		}
		for _, l := range got {
			l.inserted = true
		}
		p.stats.batches.Add(1)
		p.stats.batched.Add(int64(len(got)))
		for m := p.stats.largest.Load(); int64(len(got)) > m && !p.stats.largest.CompareAndSwap(m, int64(len(got))); m = p.stats.largest.Load() {
		}
		// The rest were left out: each caller's serializable run says why.
		answer(nil, pgSerializable)
	case !sent || refused:
		// PostgreSQL refused the batch (a quota's CHECK, a deadlock), and
		// skipped the COMMIT behind it; or BEGIN failed: nothing was
		// committed, and each caller runs alone.
		pgRollback(conn.Conn())
		answer(pgFail(ctx, "insert", err), pgLoneInsert)
	default:
		// The COMMIT may have happened.
		pgRollback(conn.Conn())
		answer(pgFail(ctx, "commit", err), pgDone)
	}
}

// latestDeadline is the latest of the batch's deadlines; none if a member
// has none.
func latestDeadline(batch []*pgLone) (time.Time, bool) {
	var latest time.Time
	for _, l := range batch {
		d, ok := l.ctx.Deadline()
		if !ok {
			return time.Time{}, false
		}
		if d.After(latest) {
			latest = d
		}
	}
	return latest, true
}

func compareScopes(a, b Scope) int {
	return compareKeys(Key{Account: a.Account, Region: a.Region, Kind: a.Kind}, Key{Account: b.Account, Region: b.Region, Kind: b.Kind})
}

// pgRollback ends whatever transaction conn is in; a connection left in
// one is closed by Release rather than handed out again.
func pgRollback(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), pgConnectTimeout)
	defer cancel()
	conn.Exec(ctx, `ROLLBACK`)
}
