// Package cache is wsim's one bounded in-memory cache: a concurrency-safe map
// from keys to values whose total size is kept under a budget in bytes.
//
// The budget is in bytes, not entries, because entries differ too much in
// size for a count to bound memory: 10,000 maximum-size image records
// measured 459 MB in a cache bounded by count. The caller says what an entry
// costs (its size function); the cache keeps the sum of those costs at or
// under the budget.
//
// Eviction is CLOCK (second chance): entries sit on a ring, Get marks an
// entry as used, and Put, when over budget, sweeps the ring from a hand,
// sparing (and unmarking) used entries and evicting the first unused one. It
// approximates least-recently-used at O(1) amortized cost, and Get needs only
// a read lock, so hits from many goroutines do not serialize.
//
// The cache holds values as given and returns them as stored: a caller that
// caches pointers or slices must not mutate them afterwards, or must copy on
// the way in and out.
package cache

import (
	"sync"
	"sync/atomic"
)

// Cache is a map bounded in bytes. The zero value is not usable; call New.
// All methods are safe for concurrent use.
type Cache[K comparable, V any] struct {
	max  int64
	size func(K, V) int64

	mu    sync.RWMutex
	m     map[K]*entry[K, V]
	hand  *entry[K, V] // next entry the sweep looks at; nil when empty
	bytes int64
}

// entry is one cached value, on a circular doubly linked ring.
type entry[K comparable, V any] struct {
	key        K
	val        V
	size       int64
	used       atomic.Bool // set by Get, cleared by the sweep
	prev, next *entry[K, V]
}

// New returns an empty cache holding at most maxBytes bytes, as measured by
// size. Put calls size once per entry, outside the cache's lock; it should
// count everything the entry keeps alive, including the key and a fixed
// overhead for the bookkeeping (negative costs count as zero). A cache with
// maxBytes <= 0 stores nothing.
func New[K comparable, V any](maxBytes int64, size func(K, V) int64) *Cache[K, V] {
	return &Cache[K, V]{max: maxBytes, size: size, m: make(map[K]*entry[K, V])}
}

// Get returns the value cached for k and whether there was one.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	if !ok {
		c.mu.RUnlock()
		var zero V
		return zero, false
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	v := e.val
	c.mu.RUnlock()
	return v, true
}

// Put caches v for k, replacing any value k had, then evicts other entries
// until the cache is within its budget. A value that alone costs more than
// the whole budget is not cached, and any older value of k is dropped, so Get
// never returns a value that Put has since replaced. Put reports whether v
// was cached.
func (c *Cache[K, V]) Put(k K, v V) bool {
	n := max(c.size(k, v), 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if c.max <= 0 || n > c.max {
		if ok {
			c.remove(e)
		}
		return false
	}
	if ok {
		c.bytes += n - e.size
		e.val, e.size = v, n
		e.used.Store(true)
	} else {
		e = &entry[K, V]{key: k, val: v, size: n}
		c.m[k] = e
		c.bytes += n
		c.link(e)
	}
	c.evict(e)
	return true
}

// Delete drops k's value, if any.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		c.remove(e)
	}
}

// Clear drops every value.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = make(map[K]*entry[K, V])
	c.hand = nil
	c.bytes = 0
}

// Len returns the number of cached entries.
func (c *Cache[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// Bytes returns the total cost of the cached entries, never more than the
// budget given to New.
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}

// link puts e on the ring just behind the hand, so that the sweep reaches it
// last.
func (c *Cache[K, V]) link(e *entry[K, V]) {
	if c.hand == nil {
		e.prev, e.next = e, e
		c.hand = e
		return
	}
	e.prev, e.next = c.hand.prev, c.hand
	e.prev.next = e
	c.hand.prev = e
}

// remove takes e out of the map and off the ring.
func (c *Cache[K, V]) remove(e *entry[K, V]) {
	delete(c.m, e.key)
	c.bytes -= e.size
	if e.next == e {
		c.hand = nil
	} else {
		if c.hand == e {
			c.hand = e.next
		}
		e.prev.next = e.next
		e.next.prev = e.prev
	}
	e.prev, e.next = nil, nil
}

// evict sweeps the ring until the cache is within budget, never evicting
// keep (the entry just put, which fits the budget on its own, so the sweep
// ends at the latest when keep is all that is left). Each step clears a mark
// some Get set or evicts an entry some Put added, hence O(1) amortized.
func (c *Cache[K, V]) evict(keep *entry[K, V]) {
	for c.bytes > c.max {
		e := c.hand
		c.hand = e.next
		switch {
		case e == keep:
		case e.used.Load():
			e.used.Store(false)
		default:
			c.remove(e)
		}
	}
}
