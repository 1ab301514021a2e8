package store

import (
	"sync"
)

// readCache keeps recently read and written records of a store that one
// process owns (SQLite, under its file lock), so that reads skip the database.
// It must never serve a value older than a committed write that a caller has
// been told about: writers put their new values in after committing and
// before answering, and a reader that went to the database only fills the
// cache if no write was applied while it read (the generation is unchanged).
type readCache struct {
	mu   sync.RWMutex
	gen  uint64
	recs map[Key]*Record
	max  int
}

func newReadCache(max int) *readCache {
	return &readCache{recs: make(map[Key]*Record), max: max}
}

// get returns a copy of the cached record of k.
func (c *readCache) get(k Key) (*Record, bool) {
	c.mu.RLock()
	r, ok := c.recs[k]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return cloneRecord(r), true
}

// generation is read before going to the database, for fill.
func (c *readCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// fill caches r read from the database, unless a write was applied since
// generation gen was read: r might then be older than that write.
func (c *readCache) fill(r *Record, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	c.put(cloneRecord(r))
}

// apply records committed writes: a nil record means the key was deleted.
func (c *readCache) apply(writes map[Key]*Record) {
	if len(writes) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, r := range writes {
		if r == nil {
			delete(c.recs, k)
		} else {
			c.put(r)
		}
	}
}

// forget drops keys whose writes may or may not have committed.
func (c *readCache) forget(writes map[Key]*Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k := range writes {
		delete(c.recs, k)
	}
}

// put stores r, evicting an arbitrary entry when full: the cache only saves
// reads, so which entry goes matters little.
func (c *readCache) put(r *Record) {
	if _, ok := c.recs[r.Key]; !ok && len(c.recs) >= c.max {
		for k := range c.recs {
			delete(c.recs, k)
			break
		}
	}
	c.recs[r.Key] = r
}
