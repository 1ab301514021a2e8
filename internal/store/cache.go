package store

import (
	"sync"
	"sync/atomic"

	"github.com/wsim/wsim/internal/cache"
)

// readCache keeps recently read and written records of a store that one
// process owns (SQLite, under its file lock), so that reads skip the database.
// It must never serve a value older than a committed write that a caller has
// been told about: writers put their new values in after committing and
// before answering, and a reader that went to the database only fills the
// cache if no write was applied while it read (the generation is unchanged).
//
// The records live in a cache.Cache bounded in bytes (see recordCost), so
// large records cannot make it grow past its budget; which records it evicts
// matters little, since the cache only saves reads.
type readCache struct {
	// mu orders fill against apply and forget: a fill checks the generation
	// and stores under it, so no write can be applied in between. get needs
	// no lock beyond the cache's own.
	mu   sync.Mutex
	gen  atomic.Uint64 // changed only under mu
	recs *cache.Cache[Key, *Record]
	// scopes are the ids of scopes listed recently, kept by the same
	// writes as recs.
	scopes *scopeIndexes
}

// A key the cache holds with a nil record is known to have none: settings
// that were never set (the service clock, fault rules) are read on every
// request, and would otherwise go to the database every time.

// recordOverhead is what a cached record costs beyond its strings and body:
// the Record struct, its pointer, the cache's entry and map slot. It is an
// estimate; it only has to keep small records from looking free.
const recordOverhead = 200

// recordCost is the bytes a cached record holds: its key strings (shared by
// the cache's key, which is a copy of r.Key), name and body.
func recordCost(k Key, r *Record) int64 {
	n := len(k.Account) + len(k.Region) + len(k.Kind) + len(k.ID) + recordOverhead
	if r != nil {
		n += len(r.Name) + len(r.Body)
	}
	return int64(n)
}

// newReadCache returns a cache of records bounded by maxBytes and of scope
// indexes bounded by indexBytes.
func newReadCache(maxBytes, indexBytes int64) *readCache {
	return &readCache{recs: cache.New(maxBytes, recordCost), scopes: newScopeIndexes(indexBytes)}
}

// get returns a copy of the cached record of k; ok with a nil record means
// k is known to have none.
func (c *readCache) get(k Key) (r *Record, ok bool) {
	if r, ok = c.recs.Get(k); r != nil {
		r = cloneRecord(r)
	}
	return r, ok
}

// peek is get without the copy: the record is the cache's own, which the
// caller must not change (see lender).
func (c *readCache) peek(k Key) (*Record, bool) {
	return c.recs.Get(k)
}

// cachedAnswer is what Get answers for r, a record a cache holds for its key
// (nil: known absent): the cache's own record if lend, else a copy.
func cachedAnswer(r *Record, lend bool) (*Record, error) {
	switch {
	case r == nil:
		return nil, ErrNotFound
	case !lend:
		r = cloneRecord(r)
	}
	return r, nil
}

// generation is read before going to the database, for fill.
func (c *readCache) generation() uint64 {
	return c.gen.Load()
}

// fill caches r read from the database, unless a write was applied since
// generation gen was read: r might then be older than that write.
func (c *readCache) fill(r *Record, gen uint64) {
	r = cloneRecord(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	c.recs.Put(r.Key, r)
}

// fillAbsent records that k has no record, read from the database, unless a
// write was applied since generation gen was read.
func (c *readCache) fillAbsent(k Key, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	c.recs.Put(k, nil)
}

// apply records committed writes: a nil record means the key was deleted.
// The records become the cache's own; the caller must not touch them again.
func (c *readCache) apply(writes map[Key]*Record) {
	if len(writes) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.scopes.apply(writes)
	for k, r := range writes {
		if r == nil {
			c.recs.Put(k, nil) // known to be gone
		} else {
			// A record too large for the budget is not cached, and
			// Put then drops the key's older value too.
			c.recs.Put(k, r)
		}
	}
}

// clear drops every record, as after a purge.
func (c *readCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.recs.Clear()
	c.scopes.clear()
}

// forget drops keys whose writes may or may not have committed.
func (c *readCache) forget(writes map[Key]*Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.scopes.forget(writes)
	for k := range writes {
		c.recs.Delete(k)
	}
}
