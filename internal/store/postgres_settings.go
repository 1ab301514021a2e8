package store

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The records outside every account (Account ""; wsim's own settings: the
// service clock, the fault rules and their stamp) are read by nearly every
// request and written rarely, so each PostgreSQL store keeps them in memory,
// invalidated by LISTEN/NOTIFY, and every replica still reads the one
// state:
//
//   - A transaction that writes one raises setting_version (one row, so
//     such transactions commit in the order of their versions) and
//     notifies the version on pgSettingsChannel; the notification is sent
//     at commit.
//   - Each store listens on a connection of its own, registered in
//     listeners with the version it has seen and holding a session
//     advisory lock (pgListenLock, its backend's pid) for as long as it
//     listens. On a notification it drops what it holds, then records the
//     version as seen.
//   - The writer does not return before every listener whose lock is held
//     has seen its version (or its deadline passes: ErrUnavailable). So
//     once a change is acknowledged, no replica can answer from a copy
//     older than it: the next request anywhere reads the change.
//   - A store whose listener is not (yet, or any more) registered reads
//     these records from the database, as for any other record. A
//     listener registers with the version current when it starts
//     listening, so a writer that committed before has nothing to wait
//     for, and one that commits after is notified.
const (
	pgSettingsChannel = "wsim_settings"
	// pgListenLock is the first key of the listeners' advisory locks
	// ("wsil" in ASCII; pgSchemaLock is a single bigint key).
	pgListenLock = 0x7773696c
	// pgListenRetry bounds the pause before a lost listener reconnects.
	pgListenRetry = 2 * time.Second
)

// pgSettings is a store's copy of the records outside every account.
type pgSettings struct {
	mu sync.Mutex
	// live says the listener is registered, so the copy may be used.
	live bool
	// gen counts invalidations: a record read from the database is kept
	// only if none happened while it was read.
	gen  uint64
	recs map[string]*Record // by ID; nil: known absent
	// ready is closed when the listener first registers.
	ready     chan struct{}
	readyOnce sync.Once
	stop      context.CancelFunc
	done      chan struct{}
	loads     int64 // reads that went to the database (under mu), for tests
	// seen, when set (by tests), is called with each version notified,
	// before the copy is dropped.
	seen func(v int64)
}

func settingsKey(k Key) (string, bool) {
	if k.Account != "" || k.Region != "" {
		return "", false
	}
	return k.Kind + "\x00" + k.ID, true
}

// startSettings starts p's listener.
func (p *pgStore) startSettings() {
	ctx, cancel := context.WithCancel(context.Background())
	p.settings = &pgSettings{ready: make(chan struct{}), stop: cancel, done: make(chan struct{}), recs: map[string]*Record{}}
	go p.listen(ctx)
}

func (p *pgStore) stopSettings() {
	p.settings.stop()
	<-p.settings.done
}

// listen keeps a listener registered until ctx ends.
func (p *pgStore) listen(ctx context.Context) {
	s := p.settings
	defer close(s.done)
	for {
		err := p.listenOnce(ctx, s)
		s.invalidate(false)
		if ctx.Err() != nil {
			return
		}
		_ = err // the pool's own calls report an unreachable database
		select {
		case <-time.After(pgListenRetry):
		case <-ctx.Done():
			return
		}
	}
}

func (p *pgStore) listenOnce(ctx context.Context, s *pgSettings) error {
	cctx, cancel := context.WithTimeout(ctx, 2*pgConnectTimeout)
	conn, err := pgx.ConnectConfig(cctx, p.pool.Config().ConnConfig.Copy())
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	// The replica stops caching records before this connection, which
	// holds its cacher lock, is closed (postgres_cache.go).
	defer p.cache.set(0)
	// Registered only once listening: a change committed after the
	// version read here is notified to this connection.
	if _, err := conn.Exec(ctx, `LISTEN `+pgSettingsChannel); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+p.cache.channel()); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, pg_backend_pid())`, int32(pgListenLock)); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `DELETE FROM listeners l WHERE NOT `+pgListening); err != nil {
		return err
	}
	var last int64 // the version recorded as seen
	if err := conn.QueryRow(ctx, `INSERT INTO listeners (pid, seen) SELECT pg_backend_pid(), v FROM setting_version
		ON CONFLICT (pid) DO UPDATE SET seen = excluded.seen RETURNING seen`).Scan(&last); err != nil {
		return err
	}
	// The replica caches records until another writes, and tries again
	// every pgCacheRetry while it does not.
	if err := p.tryCache(ctx, conn); err != nil {
		return err
	}
	s.invalidate(true)
	retry := time.Now().Add(pgCacheRetry) // when a replica not caching tries again
	for {
		if p.cache.self() == 0 && !time.Now().Before(retry) {
			if err := p.tryCache(ctx, conn); err != nil {
				return err
			}
			retry = time.Now().Add(pgCacheRetry)
		}
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if p.cache.self() == 0 {
			wctx, cancel = context.WithDeadline(ctx, retry)
		}
		// The settings channel is the database's: stores in other schemas
		// notify it too, so a notification only says that some version
		// moved.
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() == nil && wctx.Err() != nil && pgconn.Timeout(err) {
			continue // time to try caching again
		}
		if err != nil {
			return err
		}
		if n.Channel == p.cache.channel() {
			// Another replica wrote (the payload is the writer's cacher
			// pid, which its own copy ignores): it waits for this one's
			// copy to go.
			if self := p.cache.self(); self != 0 && n.Payload != strconv.Itoa(int(self)) {
				if err := p.stopCaching(ctx, conn); err != nil {
					return err
				}
				retry = time.Now().Add(pgCacheRetry)
			}
			continue
		}
		// The version is this schema's own, read before the copy is
		// dropped: every change up to it committed before the drop, so
		// nothing read after the drop is older than it. A payload would
		// be another schema's version as often as this one's.
		var v int64
		if err := conn.QueryRow(ctx, `SELECT v FROM setting_version`).Scan(&v); err != nil {
			return err
		}
		s.invalidate(true)
		if v <= last {
			continue // another schema's change, or one already recorded
		}
		s.mu.Lock()
		hook := s.seen
		s.mu.Unlock()
		if hook != nil {
			hook(v)
		}
		if _, err := conn.Exec(ctx, `UPDATE listeners SET seen = $1 WHERE pid = pg_backend_pid()`, v); err != nil {
			return err
		}
		last = v
	}
}

// pgListening is true of a listeners row l whose listener holds its lock.
var pgListening = `EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted
	AND k.classid = ` + strconv.Itoa(pgListenLock) + ` AND k.objid = l.pid::oid AND k.objsubid = 2)`

// invalidate drops the copy; live says whether it may be used from now on.
func (s *pgSettings) invalidate(live bool) {
	s.mu.Lock()
	s.gen++
	s.live = live
	clear(s.recs)
	s.mu.Unlock()
	if live {
		s.readyOnce.Do(func() { close(s.ready) })
	}
}

// getSetting reads k, outside every account, from the copy or the database.
func (p *pgStore) getSetting(ctx context.Context, id string, k Key) (*Record, error) {
	s := p.settings
	s.mu.Lock()
	if s.live {
		if r, ok := s.recs[id]; ok {
			s.mu.Unlock()
			return cachedAnswer(r, false)
		}
	}
	gen, live := s.gen, s.live
	s.loads++
	s.mu.Unlock()
	r, err := pgGet(ctx, p.pool, k)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, pgFail(ctx, "get", err)
	}
	if live {
		s.mu.Lock()
		if s.gen == gen {
			s.recs[id] = r
			if r != nil {
				r = cloneRecord(r)
			}
		}
		s.mu.Unlock()
	}
	return r, err
}

// pgNotifySettings is run by a transaction that wrote a record outside every
// account, just before its COMMIT: it raises the version and notifies it.
const pgNotifySettings = `WITH u AS (UPDATE setting_version SET v = v + 1 RETURNING v)
	SELECT v, pg_notify('` + pgSettingsChannel + `', v::text) IS NULL FROM u`

// awaitSettings returns once every listener has seen version v.
func (p *pgStore) awaitSettings(ctx context.Context, v int64) error {
	return p.awaitNone(ctx, "see a changed setting", `SELECT count(*) FROM listeners l WHERE l.seen < $1 AND `+pgListening, v)
}
