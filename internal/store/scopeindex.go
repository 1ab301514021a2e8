package store

import "sync"

// scopeIndexes keeps, for scopes listed recently, every id the scope holds
// with its record's version, so that a SQLite List finds a page's ids
// without the database and takes the records from the read cache. The
// query it replaces stepped SQLite's VM for every row of the page and was
// most of a cached page's cost.
//
// An index is complete or absent: it is loaded whole from the database,
// installed only if no write touched its scope while it was read, and kept
// up to date by every committed write (apply) before that write is
// acknowledged, like the read cache. It is bounded in bytes: a scope too
// large for a quarter of the budget is never indexed (List reads it from
// the database, which costs the same on every page), and indexing a scope
// over the budget drops others.
type scopeIndexes struct {
	maxBytes int64

	// mu guards everything below; List takes it for reading.
	mu      sync.RWMutex
	scopes  map[Scope]*scopeIndex
	bytes   int64
	tooBig  map[Scope]bool       // loaded once and found over the cap, until a delete in it
	loading map[Scope]*indexLoad // scopes being read from the database
}

type scopeIndex struct {
	ids   sortedIDs[int64] // id → version
	bytes int64
}

// indexLoad is a load in flight: a write to its scope marks it dirty, and
// a dirty load is not installed.
type indexLoad struct {
	dirty bool
}

// idCost is what an indexed id costs beyond its string: its string header,
// version and share of the chunk bookkeeping.
const idCost = 40

func newScopeIndexes(maxBytes int64) *scopeIndexes {
	return &scopeIndexes{
		maxBytes: maxBytes,
		scopes:   map[Scope]*scopeIndex{},
		tooBig:   map[Scope]bool{},
		loading:  map[Scope]*indexLoad{},
	}
}

// maxScopeBytes is the largest index kept.
func (x *scopeIndexes) maxScopeBytes() int64 { return x.maxBytes / 4 }

// idVersion is one id of a page and its record's version.
type idVersion struct {
	id      string
	version int64
}

// page returns the ids and versions of the first limit ids after afterID
// (all of them when limit <= 0). indexed is false when the scope has no
// index; load reports whether the caller should build one.
func (x *scopeIndexes) page(sc Scope, afterID string, limit int) (page []idVersion, indexed, load bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	idx := x.scopes[sc]
	if idx == nil {
		return nil, false, !x.tooBig[sc] && x.loading[sc] == nil
	}
	if limit > 0 {
		page = make([]idVersion, 0, min(limit, idx.ids.Len()))
	}
	idx.ids.Ascend(afterID, func(id string, v int64) bool {
		if limit > 0 && len(page) == limit {
			return false
		}
		page = append(page, idVersion{id, v})
		return true
	})
	return page, true, false
}

// startLoad registers a load of sc's index; nil means another is under way.
func (x *scopeIndexes) startLoad(sc Scope) *indexLoad {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.loading[sc] != nil || x.scopes[sc] != nil {
		return nil
	}
	l := &indexLoad{}
	x.loading[sc] = l
	return l
}

// finishLoad installs the index read by load l (ids in order, or over
// tells that the scope holds more than maxScopeIDs), unless a write to the
// scope was applied meanwhile. ok false abandons the load.
func (x *scopeIndexes) finishLoad(sc Scope, l *indexLoad, ids []idVersion, over, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.loading[sc] == l {
		delete(x.loading, sc)
	}
	if !ok || l.dirty {
		return
	}
	idx := &scopeIndex{}
	for _, iv := range ids {
		idx.ids.Set(iv.id, iv.version)
		idx.bytes += int64(len(iv.id)) + idCost
	}
	if over || idx.bytes > x.maxScopeBytes() {
		x.tooBig[sc] = true
		return
	}
	x.install(sc, idx)
}

// install adds idx under x.mu, dropping other indexes to stay in budget.
func (x *scopeIndexes) install(sc Scope, idx *scopeIndex) {
	for other, o := range x.scopes {
		if x.bytes+idx.bytes <= x.maxBytes {
			break
		}
		delete(x.scopes, other)
		x.bytes -= o.bytes
	}
	x.scopes[sc] = idx
	x.bytes += idx.bytes
}

// maxScopeIDs is how many ids a scope may hold to be loaded: ids of 13
// bytes (wsi-ten5h0y19) fill a quarter of the budget at about
// maxScopeBytes/53; the byte count decides once the ids are read.
func (x *scopeIndexes) maxScopeIDs() int { return int(x.maxScopeBytes() / (idCost + 1)) }

// apply records committed writes (nil: deleted) in the indexes of their
// scopes and marks loads of those scopes dirty.
func (x *scopeIndexes) apply(writes map[Key]*Record) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, r := range writes {
		sc := k.Scope()
		if l := x.loading[sc]; l != nil {
			l.dirty = true
		}
		if r == nil {
			delete(x.tooBig, sc) // it may fit now
		}
		idx := x.scopes[sc]
		if idx == nil {
			continue
		}
		if r == nil {
			if idx.ids.Delete(k.ID) {
				idx.bytes -= int64(len(k.ID)) + idCost
				x.bytes -= int64(len(k.ID)) + idCost
			}
			continue
		}
		if idx.ids.Set(k.ID, r.Version) {
			idx.bytes += int64(len(k.ID)) + idCost
			x.bytes += int64(len(k.ID)) + idCost
		}
		if idx.bytes > x.maxScopeBytes() {
			delete(x.scopes, sc)
			x.bytes -= idx.bytes
			x.tooBig[sc] = true
		}
	}
	for x.bytes > x.maxBytes && len(x.scopes) > 0 {
		for other, o := range x.scopes {
			delete(x.scopes, other)
			x.bytes -= o.bytes
			break
		}
	}
}

// clear drops every index, as after a purge.
func (x *scopeIndexes) clear() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, l := range x.loading {
		l.dirty = true
	}
	clear(x.scopes)
	clear(x.tooBig)
	x.bytes = 0
}

// forget drops the indexes of scopes whose writes may or may not have
// committed.
func (x *scopeIndexes) forget(writes map[Key]*Record) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for k := range writes {
		sc := k.Scope()
		if l := x.loading[sc]; l != nil {
			l.dirty = true
		}
		if idx := x.scopes[sc]; idx != nil {
			delete(x.scopes, sc)
			x.bytes -= idx.bytes
		}
		delete(x.tooBig, sc)
	}
}
