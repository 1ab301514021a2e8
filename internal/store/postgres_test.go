package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/wsim/wsim/internal/store/storetest"
)

const pgEnv = "WSIM_TEST_POSTGRES"

// pgTestDSN returns a DSN for a schema of its own, dropped when tb ends, so
// tests (and concurrent runs) sharing one database never see each other.
func pgTestDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(pgEnv)
	if base == "" {
		tb.Skipf("%s is not set; run scripts/with-postgres.sh go test ./internal/store/ to test against a real PostgreSQL", pgEnv)
	}
	return storetest.PostgresSchema(tb, base, "wsim_test")
}

func openPostgresTest(t *testing.T) Store {
	s, err := Open(context.Background(), pgTestDSN(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresConformance(t *testing.T) { runConformance(t, openPostgresTest) }

func TestPostgresConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := pgTestDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn, "")
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

func TestPostgresNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	s, err := Open(ctx, dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "insert", insert(t, s, rec("1", "ws-1", ""), 0), nil)
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dsn, "")
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("Open: %v, want ErrNewerSchema naming version 99", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM records`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("records after refused Open: %d, %v", n, err)
	}
}

// TestPostgresUnavailable needs no server: it checks how a refused
// connection is reported.
func TestPostgresUnavailable(t *testing.T) {
	// A port nothing listens on: take one and give it back.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = Open(context.Background(), "postgres://wsim:secret@"+addr+"/wsim", "")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open of a dead server: %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

// pgInner is the pgStore under Open's deadline wrapper.
func pgInner(t *testing.T, s Store) *pgStore {
	t.Helper()
	if tm, ok := s.(*timed); ok {
		s = tm.Store
	}
	p, ok := s.(*pgStore)
	if !ok {
		t.Fatalf("store is a %T, not a PostgreSQL store", s)
	}
	return p
}

// pgCounts returns scope_counts and the records counted by scope, which
// must agree.
func pgCounts(t *testing.T, dsn string) (counted, stored map[string]int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	read := func(sql string) map[string]int {
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for rows.Next() {
			var scope string
			var n int64
			if err := rows.Scan(&scope, &n); err != nil {
				t.Fatal(err)
			}
			m[scope] = int(n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return read(`SELECT account || '/' || region || '/' || kind, n FROM scope_counts WHERE n > 0`),
		read(`SELECT account || '/' || region || '/' || kind, count(*) FROM records GROUP BY 1`)
}

// TestPostgresQuotaExactAcrossReplicas races inserts of distinct names into
// one scope through two stores on one database, as two replicas would:
// exactly the quota succeed, the counter agrees with the records, and no
// insert ever aborted for a serialization failure.
func TestPostgresQuotaExactAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	var replicas [2]Store
	for i := range replicas {
		s, err := Open(ctx, dsn, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas[i] = s
	}
	const n, quota = 40, 13
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = insert(t, replicas[i%2], rec("1", fmt.Sprintf("ws-%02d", i), fmt.Sprintf("name-%02d", i)), quota)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrLimitExceeded):
			t.Errorf("insert %d: %v, want nil or ErrLimitExceeded", i, err)
		}
	}
	if ok != quota {
		t.Fatalf("%d inserts succeeded under a quota of %d", ok, quota)
	}
	counted, stored := pgCounts(t, dsn)
	if !mapsEqual(counted, stored) || stored["1/us-east-1/workspace"] != quota {
		t.Fatalf("scope_counts %v, records %v; want both %d", counted, stored, quota)
	}
	for i, s := range replicas {
		if f := pgInner(t, s).stats.serializationFailures.Load(); f != 0 {
			t.Errorf("replica %d: %d serialization failures inserting distinct names", i, f)
		}
	}
}

// TestPostgresCountsFollowEveryWrite checks scope_counts against the records
// after inserts, puts of new records, deletes, refused inserts and purges,
// inside and outside lone inserts.
func TestPostgresCountsFollowEveryWrite(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	s, err := Open(ctx, dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(what string) {
		t.Helper()
		if counted, stored := pgCounts(t, dsn); !mapsEqual(counted, stored) {
			t.Fatalf("after %s: scope_counts %v, records %v", what, counted, stored)
		}
	}
	for i := range 6 {
		wantErr(t, "insert", insert(t, s, rec(strconv.Itoa(i%2), fmt.Sprintf("ws-%d", i), fmt.Sprintf("n%d", i)), 0), nil)
	}
	check("inserts")
	wantErr(t, "duplicate name", insert(t, s, rec("0", "ws-x", "n0"), 0), ErrNameTaken)
	wantErr(t, "duplicate key", insert(t, s, rec("0", "ws-0", ""), 0), ErrAlreadyExists)
	wantErr(t, "full", insert(t, s, rec("0", "ws-y", ""), 3), ErrLimitExceeded)
	check("refused inserts")
	wantErr(t, "put new", put(s, rec("2", "ws-p", "p")), nil)
	wantErr(t, "put new over existing", put(s, rec("2", "ws-p", "")), ErrConflict)
	check("puts")
	err = s.Update(ctx, func(tx Tx) error {
		if err := tx.Insert(ctx, rec("3", "a", ""), 0); err != nil {
			return err
		}
		if err := tx.Insert(ctx, rec("3", "b", "n0"), 0); err != nil {
			return err
		}
		return tx.Delete(ctx, rec("0", "ws-0", "").Key)
	})
	wantErr(t, "transaction", err, nil)
	check("a transaction of inserts and a delete")
	err = s.Update(ctx, func(tx Tx) error {
		if err := tx.Insert(ctx, rec("3", "c", "n0"), 0); !errors.Is(err, ErrNameTaken) {
			return fmt.Errorf("insert of a taken name: %v", err)
		}
		return tx.Insert(ctx, rec("3", "d", ""), 0)
	})
	wantErr(t, "transaction carrying on after ErrNameTaken", err, nil)
	check("a refused insert inside a transaction")
	if _, err := Purge(ctx, s, Selection{Account: "1"}); err != nil {
		t.Fatal(err)
	}
	check("a purge of an account")
	wantErr(t, "insert after purge", insert(t, s, rec("1", "ws-1", "n1"), 1), nil)
	check("an insert after a purge")
}

// TestPostgresMigrationFillsCounts upgrades a version-2 database holding
// records: the counts start from them, and the quota holds at once.
func TestPostgresMigrationFillsCounts(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, m := range pgMigrations[:2] {
		if _, err := conn.Exec(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('schema_version', '2');
		INSERT INTO records (`+pgCols+`) VALUES
			('1', 'us-east-1', 'workspace', 'a', 'a', now(), 1, '{}'),
			('1', 'us-east-1', 'workspace', 'b', 'b', now(), 1, '{}'),
			('2', 'us-east-1', 'workspace', 'c', '', now(), 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	counted, stored := pgCounts(t, dsn)
	if !mapsEqual(counted, stored) || counted["1/us-east-1/workspace"] != 2 {
		t.Fatalf("after upgrade: scope_counts %v, records %v", counted, stored)
	}
	wantErr(t, "insert into a full account", insert(t, s, rec("1", "x", ""), 2), ErrLimitExceeded)
	wantErr(t, "insert with room", insert(t, s, rec("2", "x", ""), 2), nil)
}

// TestPostgresContentionIsRetryable: a transaction that keeps failing to
// serialize gives up with an error the server answers with a retryable
// 503 (ErrUnavailable), still recognisable as ErrConflict.
func TestPostgresContentionIsRetryable(t *testing.T) {
	ctx := context.Background()
	s := openPostgresTest(t)
	runs := 0
	err := s.Update(ctx, func(tx Tx) error {
		runs++
		if _, err := tx.Get(ctx, rec("1", "x", "").Key); !errors.Is(err, ErrNotFound) {
			return err
		}
		return tx.(*pgTx).fail(ctx, "test", &pgconn.PgError{Code: "40001", Message: "could not serialize access"})
	})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrConflict) {
		t.Fatalf("Update after endless serialization failures: %v, want ErrUnavailable and ErrConflict", err)
	}
	if runs != pgMaxAttempts {
		t.Fatalf("fn ran %d times, want %d", runs, pgMaxAttempts)
	}
}

// TestPostgresRetriesRunAlone has writers race serializable transactions
// that each raise one scope's count twice: every pair of them conflicts on
// the counter row, so PostgreSQL aborts all but one of those that overlap.
// A transaction run again after a serialization failure runs alone on its
// replica, so none fails twice and none gives up.
func TestPostgresRetriesRunAlone(t *testing.T) {
	ctx := context.Background()
	s := openPostgresTest(t)
	const writers, each = 8, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range each {
				runs := 0
				err := s.Update(ctx, func(tx Tx) error {
					runs++
					for j := range 2 {
						if err := tx.Insert(ctx, rec("1", fmt.Sprintf("w%d-%02d-%d", w, i, j), ""), 4*writers*each); err != nil {
							return err
						}
					}
					return nil
				})
				// One run as a lone insert, which restarts at the second
				// Insert, one serializable, and at most one alone.
				if err != nil || runs > 3 {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("transaction %d-%d: %v after %d runs", w, i, err, runs))
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d serialization failures in all; %d transactions failed more than once: %v",
			pgInner(t, s).stats.serializationFailures.Load(), len(failed), failed)
	}
	if list, err := s.List(ctx, Scope{"1", "us-east-1", "workspace"}, "", 0); err != nil || len(list) != 2*writers*each {
		t.Fatalf("List: %d records, %v; want %d", len(list), err, 2*writers*each)
	}
}

// waitGroup waits until p's batch writers and queue of lone inserts are as
// want says; what names the wait in a failure.
func waitGroup(t *testing.T, p *pgStore, what string, want func(writers, queued int) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.group.mu.Lock()
		writers, queued := p.group.writers, len(p.group.queue)
		p.group.mu.Unlock()
		if want(writers, queued) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d writers, %d lone inserts queued", what, writers, queued)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitGroupQueue waits until p's queue holds n lone inserts and every
// writer is busy.
func waitGroupQueue(t *testing.T, p *pgStore, n int) {
	t.Helper()
	waitGroup(t, p, fmt.Sprintf("%d queued", n), func(writers, queued int) bool {
		return queued == n && writers == pgGroupWriters
	})
}

// busyWriters makes every batch writer of s take a lone insert of its own
// (into account 2) and wait with it, for a test that holds the lane: the
// lone inserts after them queue. wg is done when those inserts are.
func busyWriters(t *testing.T, s Store, wg *sync.WaitGroup) {
	t.Helper()
	p := pgInner(t, s)
	// A writer of earlier inserts may still be looking at the queue.
	waitGroup(t, p, "earlier writers", func(writers, _ int) bool { return writers == 0 })
	for i := range pgGroupWriters {
		wg.Go(func() { wantErr(t, "filler", insert(t, s, rec("2", fmt.Sprintf("filler-%d", i), ""), 0), nil) })
		// The next waits until a writer has taken this one.
		waitGroup(t, p, fmt.Sprintf("filler %d", i), func(writers, queued int) bool { return writers == i+1 && queued == 0 })
	}
}

// TestPostgresLoneInsertsBatch holds the store's lane, so that the batch
// writers wait, and checks that the lone inserts queued meanwhile commit
// together, within their quota, each answered as alone: one a duplicate
// key, one a taken name, those past the quota refused.
func TestPostgresLoneInsertsBatch(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	s, err := Open(ctx, dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p := pgInner(t, s)
	wantErr(t, "taken name", insert(t, s, rec("1", "first", "taken"), 0), nil)

	p.lane.Lock()
	var wg sync.WaitGroup
	busyWriters(t, s, &wg)
	const n, quota = 20, 12
	errs := make([]error, n)
	for i := range n {
		var r *Record
		switch i {
		case 0, 1:
			r = rec("1", "twice", "")
		case 2:
			r = rec("1", "clash", "taken")
		default:
			r = rec("1", fmt.Sprintf("ws-%02d", i), "")
		}
		wg.Go(func() { errs[i] = insert(t, s, r, quota) })
		if i == 2 {
			// The batch takes the queue in order: the duplicate and the
			// taken name come first, within the quota.
			waitGroupQueue(t, p, 3)
		}
	}
	waitGroupQueue(t, p, n)
	p.lane.Unlock()
	wg.Wait()

	var ok, twice, full int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case i <= 1 && errors.Is(err, ErrAlreadyExists):
			twice++
		case i == 2:
			wantErr(t, "taken name", err, ErrNameTaken)
		case errors.Is(err, ErrLimitExceeded):
			full++
		default:
			t.Errorf("insert %d: %v", i, err)
		}
	}
	// "first" and one of "twice" count against the quota of 12.
	if ok != quota-1 || twice != 1 || full != n-quota-1 {
		t.Fatalf("%d inserted, %d duplicates, %d over the quota; want %d, 1, %d", ok, twice, full, quota-1, n-quota-1)
	}
	counted, stored := pgCounts(t, dsn)
	if !mapsEqual(counted, stored) || stored["1/us-east-1/workspace"] != quota {
		t.Fatalf("scope_counts %v, records %v; want %d in account 1", counted, stored, quota)
	}
	if l := p.stats.largest.Load(); l < quota-2 {
		t.Fatalf("largest batch %d records, want the %d queued together", l, quota-2)
	}
}

// TestPostgresQueuedInsertCancelled cancels a lone insert while it waits
// in the queue: its caller hears the cancellation and the record is never
// written.
func TestPostgresQueuedInsertCancelled(t *testing.T) {
	ctx := context.Background()
	s := openPostgresTest(t)
	p := pgInner(t, s)
	p.lane.Lock()
	var wg sync.WaitGroup
	busyWriters(t, s, &wg)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		done <- s.Update(cctx, func(tx Tx) error { return tx.Insert(cctx, rec("1", "cancelled", ""), 0) })
	}()
	waitGroupQueue(t, p, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled insert: %v, want context.Canceled", err)
	}
	p.lane.Unlock()
	wg.Wait()
	if _, err := s.Get(ctx, rec("1", "cancelled", "").Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelled insert written: %v", err)
	}
}

// TestPostgresSettingsSeenAtOnceAcrossReplicas changes a record outside
// every account (as the service clock is) through one store and reads it
// at once through another, which otherwise answers from its copy: a
// changer returns only once every replica has dropped its copy.
func TestPostgresSettingsSeenAtOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	var replicas [2]Store
	var returned [2]atomic.Int64 // the latest version each replica's change returned with
	var late atomic.Int64
	for i := range replicas {
		s, err := Open(ctx, dsn, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas[i] = s
	}
	for i, s := range replicas {
		st := pgInner(t, s).settings
		// Hooked before the listener runs: it is set once, when ready.
		st.mu.Lock()
		other := &returned[1-i]
		st.seen = func(v int64) {
			if other.Load() >= v {
				late.Add(1) // the change returned before this replica dropped its copy
			}
		}
		st.mu.Unlock()
		select {
		case <-st.ready:
		case <-t.Context().Done():
			t.Fatal("listener never registered")
		}
	}
	k := Key{Kind: "setting", ID: "clock"}
	// A store of another schema in the same database changes its own
	// settings all along: its notifications reach these replicas too, and
	// its versions (ahead of theirs) must not pass for theirs.
	foreign, err := Open(ctx, pgTestDSN(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { foreign.Close() })
	stop := make(chan struct{})
	foreignDone := make(chan struct{})
	go func() {
		defer close(foreignDone)
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			foreign.Update(ctx, func(tx Tx) error {
				return tx.Put(ctx, &Record{Key: Key{Kind: "setting", ID: "other"}, Body: []byte(strconv.Itoa(n))})
			})
		}
	}()
	defer func() { close(stop); <-foreignDone }()
	for i := range 40 {
		w, r := i%2, 1-i%2
		for range 3 {
			got, err := replicas[r].Get(ctx, k)
			if i == 0 {
				wantErr(t, "get before any change", err, ErrNotFound)
				continue
			}
			if err != nil || string(got.Body) != strconv.Itoa(i-1) {
				t.Fatalf("change %d: replica %d reads %v, %v before the next change", i-1, r, got, err)
			}
		}
		loads := pgInner(t, replicas[r]).settings.loads
		err := replicas[w].Update(ctx, func(tx Tx) error {
			cur, err := tx.Get(ctx, k)
			if errors.Is(err, ErrNotFound) {
				cur, err = &Record{Key: k}, nil
			}
			if err != nil {
				return err
			}
			cur.Body = []byte(strconv.Itoa(i))
			return tx.Put(ctx, cur)
		})
		wantErr(t, "change", err, nil)
		returned[w].Store(pgSettingVersion(t, pgInner(t, replicas[w])))
		got, err := replicas[r].Get(ctx, k)
		if err != nil || string(got.Body) != strconv.Itoa(i) {
			t.Fatalf("change %d through replica %d: replica %d reads %v, %v", i, w, r, got, err)
		}
		if i > 0 && loads > 1 {
			if now := pgInner(t, replicas[r]).settings.loads; now != loads+1 {
				t.Fatalf("replica %d read the setting from the database %d times for one change", r, now-loads)
			}
		}
	}
	if n := late.Load(); n > 0 {
		t.Fatalf("%d changes returned before the other replica had dropped its copy", n)
	}
}

// pgSettingVersion is the latest settings version committed.
func pgSettingVersion(t *testing.T, p *pgStore) int64 {
	var v int64
	if err := p.pool.QueryRow(context.Background(), `SELECT v FROM setting_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPostgresNewestIndexesOnlyForNewest checks the plans PostgreSQL makes:
// ListNewest's reads use the newest-first indexes, and a read, change or
// delete of one record by its key cannot, even with no other index left
// (the primary key and the others dropped inside a transaction rolled
// back), because those indexes are partial on a predicate only
// ListNewest's reads state. Before, right after many inserts into a scope,
// the planner read one record by walking the scope's newest-first index.
func TestPostgresNewestIndexesOnlyForNewest(t *testing.T) {
	ctx := context.Background()
	s := openPostgresTest(t)
	p := pgInner(t, s)
	for i := range 50 {
		wantErr(t, "insert", insert(t, s, rec("1", fmt.Sprintf("ws-%03d", i), ""), 0), nil)
	}
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// plan is PostgreSQL's plan for sql, asked of q (the connection, or
	// the transaction below).
	plan := func(q pgQuerier, sql string, args ...any) string {
		t.Helper()
		rows, err := q.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", sql, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	now := time.Now()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `RESET enable_seqscan`)
	for _, c := range []struct {
		sql   string
		args  []any
		index string
	}{
		{pgNewestScopeFirst, []any{"1", "us-east-1", "workspace", int64(25)}, "records_scope_newest"},
		{pgNewestScopeOlder, []any{"1", "us-east-1", "workspace", now, int64(25)}, "records_scope_newest"},
		{pgNewestFirst, []any{"workspace", int64(25)}, "records_newest"},
		{pgNewestOlder, []any{"workspace", now, int64(25)}, "records_newest"},
	} {
		if got := plan(conn, c.sql, c.args...); !strings.Contains(got, c.index) {
			t.Errorf("%s\nplanned without %s:\n%s", c.sql, c.index, got)
		}
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, ddl := range []string{`ALTER TABLE records DROP CONSTRAINT records_pkey`, `DROP INDEX records_kind`, `DROP INDEX records_name_key`} {
		if _, err := tx.Exec(ctx, ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
	}
	key := []any{"1", "us-east-1", "workspace", "ws-007"}
	for _, sql := range []string{
		pgGetSQL,
		`SELECT version FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4`,
		`DELETE FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4`,
		`UPDATE records SET version = version + 1 WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4 AND version = 1`,
	} {
		if got := plan(tx, sql, key...); strings.Contains(got, "newest") {
			t.Errorf("%s\nplanned on a newest-first index:\n%s", sql, got)
		}
	}
}

// openReplica opens a store of dsn, closed when t ends, once its listener
// is registered (and its copy of records decided).
func openReplica(t *testing.T, dsn string) Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	<-pgInner(t, s).settings.ready
	return s
}

// TestPostgresCacheAcrossReplicas checks the copy a replica keeps of the
// records it reads by key (postgres_cache.go): a second read costs no query,
// nor does a read of what it wrote; its own writes are seen at once; a second replica caches too; a write of
// either makes the other stop caching before the write returns, so the other
// reads that write at once, and keeps its own copy; a replica whose copy was
// dropped caches again once writes stop.
func TestPostgresCacheAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	open := func() Store { return openReplica(t, dsn) }
	a := open()
	pa := pgInner(t, a)
	if pa.cache.self() == 0 {
		t.Fatal("a replica alone does not cache")
	}
	k := rec("1", "ws-1", "").Key
	wantErr(t, "insert", insert(t, a, rec("1", "ws-1", ""), 0), nil)
	loads := pa.cache.loads.Load()
	for range 3 {
		mustGet(t, a, k)
	}
	if n := pa.cache.loads.Load() - loads; n != 0 {
		t.Fatalf("3 reads of a record the replica inserted went %d times to the database, want 0", n)
	}
	// A record read from the database is read from it once.
	wantErr(t, "insert", insert(t, a, rec("1", "ws-9", ""), 0), nil)
	pa.cache.set(pa.cache.self()) // an empty copy
	loads = pa.cache.loads.Load()
	for range 3 {
		mustGet(t, a, rec("1", "ws-9", "").Key)
	}
	if n := pa.cache.loads.Load() - loads; n != 1 {
		t.Fatalf("3 reads of one record went %d times to the database, want 1", n)
	}
	// Its own write is read at once.
	r := mustGet(t, a, k)
	r.Body = []byte(`{"v":1}`)
	wantErr(t, "put", put(a, r), nil)
	if got := mustGet(t, a, k); string(got.Body) != `{"v":1}` {
		t.Fatalf("after its own write: %s", got.Body)
	}
	// A known absence is dropped by the insert that fills it.
	absent := rec("1", "ws-2", "").Key
	if _, err := a.Get(ctx, absent); !errors.Is(err, ErrNotFound) {
		t.Fatalf("absent record: %v", err)
	}
	wantErr(t, "insert", insert(t, a, rec("1", "ws-2", ""), 0), nil)
	mustGet(t, a, absent)

	b := open()
	pb := pgInner(t, b)
	if pb.cache.self() == 0 {
		t.Fatal("a second replica does not cache")
	}
	for i := range 5 {
		// Every write of b, acknowledged, is what a reads next, and
		// every write of a what b reads next.
		r := mustGet(t, b, k)
		r.Body = []byte(fmt.Sprintf(`{"v":%d}`, 2*i+2))
		wantErr(t, "put through b", put(b, r), nil)
		if got := mustGet(t, a, k); string(got.Body) != string(r.Body) {
			t.Fatalf("a read %s after b wrote %s", got.Body, r.Body)
		}
		r = mustGet(t, a, k)
		r.Body = []byte(fmt.Sprintf(`{"v":%d}`, 2*i+3))
		wantErr(t, "put through a", put(a, r), nil)
		if got := mustGet(t, b, k); string(got.Body) != string(r.Body) {
			t.Fatalf("b read %s after a wrote %s", got.Body, r.Body)
		}
	}
	wantErr(t, "insert through b", insert(t, b, rec("1", "ws-3", ""), 0), nil)
	mustGet(t, a, rec("1", "ws-3", "").Key)
	// With no writes, both cache again, each trying every pgCacheRetry.
	deadline := time.Now().Add(100 * pgCacheRetry)
	for pa.cache.self() == 0 || pb.cache.self() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no write for %v, and a caching %v, b %v", 100*pgCacheRetry, pa.cache.self() != 0, pb.cache.self() != 0)
		}
		time.Sleep(pgCacheRetry / 10)
	}
	r = mustGet(t, a, k)
	r.Body = []byte(`{"v":"last"}`)
	wantErr(t, "put through a", put(a, r), nil)
	if got := mustGet(t, b, k); string(got.Body) != `{"v":"last"}` {
		t.Fatalf("b read %s after a wrote again", got.Body)
	}
	// A replica's own write leaves its copy: once a change of a setting
	// through a has returned (every listener, a's own too, has seen it), a's
	// listener has read the notification of a's write, sent before it.
	set := &Record{Key: Key{Kind: "setting", ID: "fence"}, Created: t0, Body: []byte(`{}`)}
	wantErr(t, "setting through a", insert(t, a, set, 0), nil)
	if pa.cache.self() == 0 {
		t.Fatal("a stopped caching after its own write")
	}
}

// TestPostgresCachingConformance runs the conformance suite on a replica
// alone, which answers reads and pages from its copy and scope indexes
// (postgres_cache.go) rather than from the database.
func TestPostgresCachingConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) Store {
		s := openReplica(t, pgTestDSN(t))
		if pgInner(t, s).cache.self() == 0 {
			t.Fatal("a replica alone does not cache")
		}
		return s
	})
}

// TestPostgresPagesFromTheCopy checks the pages a caching replica answers from
// memory: a page read again costs no query; its own inserts, updates and
// deletes are in its next page; a second replica's write is in the first's
// next page.
func TestPostgresPagesFromTheCopy(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	open := func() Store { return openReplica(t, dsn) }
	sc := Scope{"1", "us-east-1", "workspace"}
	ids := func(s Store) string {
		t.Helper()
		page, err := s.List(ctx, sc, "", 0)
		wantErr(t, "list", err, nil)
		var out []string
		for _, r := range page {
			out = append(out, fmt.Sprintf("%s:%d:%s", r.ID, r.Version, strings.TrimPrefix(string(r.Body), `{"id":"`+r.ID+`"}`)))
		}
		return strings.Join(out, " ")
	}
	a := open()
	pa := pgInner(t, a)
	if pa.cache.self() == 0 {
		t.Fatal("a replica alone does not cache")
	}
	for i := range 3 {
		wantErr(t, "insert", insert(t, a, rec("1", fmt.Sprintf("ws-%d", i), ""), 0), nil)
	}
	const three = "ws-0:1: ws-1:1: ws-2:1:"
	if got := ids(a); got != three {
		t.Fatalf("first page: %s", got)
	}
	loads := pa.cache.loads.Load()
	if got := ids(a); got != three {
		t.Fatalf("second page: %s", got)
	}
	if n := pa.cache.loads.Load() - loads; n != 0 {
		t.Fatalf("a page read again went %d times to the database", n)
	}

	// Its own writes are in its next page at once.
	r := mustGet(t, a, rec("1", "ws-1", "").Key)
	r.Body = []byte(`{"v":1}`)
	wantErr(t, "put", put(a, r), nil)
	wantErr(t, "delete", del(a, rec("1", "ws-0", "").Key), nil)
	wantErr(t, "insert", insert(t, a, rec("1", "ws-3", ""), 0), nil)
	if got, want := ids(a), `ws-1:2:{"v":1} ws-2:1: ws-3:1:`; got != want {
		t.Fatalf("after its own writes: %s, want %s", got, want)
	}
	loads = pa.cache.loads.Load()
	ids(a)
	if n := pa.cache.loads.Load() - loads; n != 0 {
		t.Fatalf("a page read again after writes went %d times to the database", n)
	}

	// A second replica's write is in the first's next page.
	b := open()
	wantErr(t, "insert through b", insert(t, b, rec("1", "ws-4", ""), 0), nil)
	if got, want := ids(a), `ws-1:2:{"v":1} ws-2:1: ws-3:1: ws-4:1:`; got != want {
		t.Fatalf("after b inserted: %s, want %s", got, want)
	}
	wantErr(t, "delete through b", del(b, rec("1", "ws-2", "").Key), nil)
	if got, want := ids(a), `ws-1:2:{"v":1} ws-3:1: ws-4:1:`; got != want {
		t.Fatalf("after b deleted: %s, want %s", got, want)
	}
}

// TestPostgresCopiesNeverStale races writes through two caching replicas
// and, after each is acknowledged, reads it through both, by key and in a
// page: neither replica's copy or scope index may answer anything older
// than a write already acknowledged, whichever replica made it. The writes
// go through one replica, then through the other, so that the writing
// replica keeps caching (its own writes leave its copy) while its
// concurrent writes settle in its scope index in any order.
func TestPostgresCopiesNeverStale(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	replicas := []Store{openReplica(t, dsn), openReplica(t, dsn)}
	sc := Scope{"1", "us-east-1", "workspace"}
	// Each worker writes a record of its own (two writes of one key in
	// flight at once drop the scope's index, which is then reloaded only
	// once no write is in flight) and reads everyone's.
	const workers, rounds = 4, 20
	for i := range workers {
		wantErr(t, "insert", insert(t, replicas[0], rec("1", fmt.Sprintf("ws-%d", i), ""), 0), nil)
	}
	// find is the version of id in a page of sc through s (0: absent).
	find := func(s Store, id string) (int64, error) {
		page, err := s.List(ctx, sc, "", 0)
		for _, r := range page {
			if r.ID == id {
				return r.Version, err
			}
		}
		return 0, err
	}
	errs := make(chan error, 3*workers*rounds)
	var cached atomic.Int64 // writes made while their replica cached
	for phase := range 2 {
		via, other := replicas[phase], replicas[1-phase]
		// The writing replica caches when its phase starts.
		deadline := time.Now().Add(100 * pgCacheRetry)
		for pgInner(t, via).cache.self() == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("replica %d not caching after %v without writes", phase, 100*pgCacheRetry)
			}
			time.Sleep(pgCacheRetry / 10)
		}
		if _, err := find(via, ""); err != nil { // its scope index loaded
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					if pgInner(t, via).cache.self() != 0 {
						cached.Add(1)
					}
					id := fmt.Sprintf("ws-%d", w)
					if i%5 == 4 {
						// A record of this worker's own, made and gone.
						own := rec("1", fmt.Sprintf("own-%d-%d", w, i), "")
						if err := insert(t, via, own, 0); err != nil {
							errs <- err
							return
						}
						for n, s := range []Store{via, other} {
							if v, err := find(s, own.ID); err != nil || v != 1 {
								errs <- fmt.Errorf("after %s was inserted, replica %d's page has it at %d (%v)", own.ID, n, v, err)
							}
						}
						if err := del(via, own.Key); err != nil {
							errs <- err
							return
						}
						if _, err := other.Get(ctx, own.Key); !errors.Is(err, ErrNotFound) {
							errs <- fmt.Errorf("after %s was deleted, the other replica reads it: %v", own.ID, err)
						}
						for n, s := range []Store{via, other} {
							if v, err := find(s, own.ID); err != nil || v != 0 {
								errs <- fmt.Errorf("after %s was deleted, replica %d's page has it at %d (%v)", own.ID, n, v, err)
							}
						}
						continue
					}
					var wrote int64
					err := via.Update(ctx, func(tx Tx) error {
						r, err := tx.Get(ctx, Key{Account: sc.Account, Region: sc.Region, Kind: sc.Kind, ID: id})
						if err != nil {
							return err
						}
						r.Body = []byte(fmt.Sprintf(`{"by":%d,"round":%d}`, w, i))
						if err := tx.Put(ctx, r); err != nil {
							return err
						}
						wrote = r.Version
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
					if r, err := other.Get(ctx, Key{Account: sc.Account, Region: sc.Region, Kind: sc.Kind, ID: id}); err != nil || r.Version < wrote {
						errs <- fmt.Errorf("after version %d of %s, the other replica reads %v (%v)", wrote, id, r, err)
					}
					if v, err := find(other, id); err != nil || v < wrote {
						errs <- fmt.Errorf("after version %d of %s, the other replica's page has %d (%v)", wrote, id, v, err)
					}
					if v, err := find(via, id); err != nil || v < wrote {
						errs <- fmt.Errorf("after version %d of %s, its own replica's page has %d (%v)", wrote, id, v, err)
					}
				}
			})
		}
		wg.Wait()
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := cached.Load(); n < 2*workers*rounds*9/10 {
		t.Errorf("%d of %d writes were made while their replica cached, want nearly all", n, 2*workers*rounds)
	}
	for n, s := range replicas {
		pages := pgInner(t, s).cache.pages.Load()
		t.Logf("replica %d: %d pages from memory", n, pages)
		if pages < workers*rounds/4 {
			t.Errorf("replica %d answered %d pages from memory, want some of the %d it wrote", n, pages, workers*rounds)
		}
	}
}
