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
	// inFlight counts, per key and per scope, the writes marked before
	// their COMMIT and not yet settled: on a store whose writers commit
	// concurrently (PostgreSQL), writes settle in any order, so a scope is
	// not loaded while a write to it is in flight, and a write that
	// settles while another write of the same key is in flight drops its
	// scope's index rather than guess which of the two committed last.
	inFlight      map[Key]int
	inFlightScope map[Scope]int
	// crossed are the keys in flight of which two writes were in flight
	// at once: until none is, none of their writes settles as the latest.
	crossed map[Key]bool
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

		inFlight:      map[Key]int{},
		inFlightScope: map[Scope]int{},
		crossed:       map[Key]bool{},
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
		return nil, false, !x.tooBig[sc] && x.loading[sc] == nil && x.inFlightScope[sc] == 0
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

// startLoad registers a load of sc's index; nil means another is under way
// or a write to sc is in flight.
func (x *scopeIndexes) startLoad(sc Scope) *indexLoad {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.loading[sc] != nil || x.scopes[sc] != nil || x.inFlightScope[sc] > 0 {
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
// scopes and marks loads of those scopes dirty. The writes must be applied
// in the order they committed (SQLite's one writer); see mark and settle
// for writers that commit concurrently.
func (x *scopeIndexes) apply(writes map[Key]*Record) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, r := range writes {
		x.dirty(k.Scope())
		if r == nil {
			x.set(k, 0)
		} else {
			x.set(k, r.Version)
		}
	}
	x.trim()
}

// dirty marks a load of sc dirty, under x.mu.
func (x *scopeIndexes) dirty(sc Scope) {
	if l := x.loading[sc]; l != nil {
		l.dirty = true
	}
}

// set records, under x.mu, that k now holds version (0: k is gone) in its
// scope's index, if the scope has one.
func (x *scopeIndexes) set(k Key, version int64) {
	sc := k.Scope()
	if version == 0 {
		delete(x.tooBig, sc) // it may fit now
	}
	idx := x.scopes[sc]
	if idx == nil {
		return
	}
	if version == 0 {
		if idx.ids.Delete(k.ID) {
			idx.bytes -= int64(len(k.ID)) + idCost
			x.bytes -= int64(len(k.ID)) + idCost
		}
		return
	}
	if idx.ids.Set(k.ID, version) {
		idx.bytes += int64(len(k.ID)) + idCost
		x.bytes += int64(len(k.ID)) + idCost
	}
	if idx.bytes > x.maxScopeBytes() {
		x.drop(sc)
		x.tooBig[sc] = true
	}
}

// drop removes sc's index, under x.mu.
func (x *scopeIndexes) drop(sc Scope) {
	if idx := x.scopes[sc]; idx != nil {
		delete(x.scopes, sc)
		x.bytes -= idx.bytes
	}
}

// trim drops indexes, under x.mu, until they fit the budget.
func (x *scopeIndexes) trim() {
	for x.bytes > x.maxBytes && len(x.scopes) > 0 {
		for other := range x.scopes {
			x.drop(other)
			break
		}
	}
}

// mark registers writes of keys (each once) about to be committed, for a
// store whose writers commit concurrently: until settle ends the marks, no
// load of their scopes starts and those under way are dirty.
func (x *scopeIndexes) mark(keys []Key) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, k := range keys {
		sc := k.Scope()
		x.inFlight[k]++
		x.inFlightScope[sc]++
		x.dirty(sc)
	}
}

// How a marked write ended, for settle.
type writeOutcome int

const (
	writeCommitted  writeOutcome = iota // settle's left says what it left
	writeRolledBack                     // it changed nothing
	writeUnknown                        // it may or may not have committed
)

// settle ends the marks of keys, which mark registered: a committed write
// left each key of left as its record (nil: gone) and the others unchanged.
// A key another marked write is, or was, in flight for at the same time as
// this one, or whose write's outcome is unknown, drops its scope's index:
// which state is the latest cannot be told. latest says, for each key,
// whether the write committed what left holds for it with no other write
// of the key in flight meanwhile: what left holds is then its latest
// state.
func (x *scopeIndexes) settle(keys []Key, left map[Key]*Record, o writeOutcome) (latest []bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	latest = make([]bool, len(keys))
	for i, k := range keys {
		sc := k.Scope()
		r, changed := left[k]
		var v int64
		if r != nil {
			v = r.Version
		}
		if x.inFlight[k] > 1 {
			x.crossed[k] = true
		}
		switch {
		case o == writeUnknown:
			x.drop(sc)
			delete(x.tooBig, sc)
		case o == writeCommitted && changed && x.crossed[k]:
			x.drop(sc)
			if v == 0 {
				delete(x.tooBig, sc)
			}
		case o == writeCommitted && changed:
			x.set(k, v)
			latest[i] = true
		}
		if x.inFlight[k]--; x.inFlight[k] <= 0 {
			delete(x.inFlight, k)
			delete(x.crossed, k)
		}
		if x.inFlightScope[sc]--; x.inFlightScope[sc] <= 0 {
			delete(x.inFlightScope, sc)
		}
	}
	x.trim()
	return latest
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
		x.dirty(sc)
		x.drop(sc)
		delete(x.tooBig, sc)
	}
}
