package store

import (
	"context"
	"slices"
	"strings"
	"sync"
)

var _ Store = (*memStore)(nil)

// memStore keeps everything in maps behind one lock. Update holds the write
// lock for the whole of fn, which makes transactions trivially serializable;
// writes go to an overlay that is merged only when fn succeeds, so a failed
// fn leaves nothing behind and readers never see half a transaction.
type memStore struct {
	mu     sync.RWMutex
	closed bool
	scopes map[Scope]*memScope
	// newest orders the records for ListNewest (memory_newest.go).
	newest *memNewest
}

type memScope struct {
	recs  map[string]*Record // by ID
	names map[string]string  // name -> ID
	// ids are the keys of recs in order, so that a page is found by binary
	// search instead of sorting the scope for every List.
	ids sortedIDs[struct{}]
}

// add indexes a new id.
func (sc *memScope) add(id string) { sc.ids.Set(id, struct{}{}) }

// remove drops id from the index.
func (sc *memScope) remove(id string) { sc.ids.Delete(id) }

func newMemory() *memStore { return &memStore{scopes: map[Scope]*memScope{}, newest: newMemNewest()} }

func (m *memStore) Get(ctx context.Context, k Key) (*Record, error) {
	r, err := m.lendGet(ctx, k)
	if err != nil {
		return nil, err
	}
	return cloneRecord(r), nil
}

// lendGet is Get without a copy: a committed record is never changed, only
// replaced (Update stores the copies its transaction made).
func (m *memStore) lendGet(ctx context.Context, k Key) (*Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	if sc := m.scopes[k.Scope()]; sc != nil {
		if r := sc.recs[k.ID]; r != nil {
			return r, nil
		}
	}
	return nil, ErrNotFound
}

func (m *memStore) List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	return cloneRecords(listFrom(m.scopes[s], nil, s, afterID, limit)), nil
}

// lendList is List without copies.
func (m *memStore) lendList(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	return listFrom(m.scopes[s], nil, s, afterID, limit), nil
}

// ListKind walks every scope of kind: the memory store is for tests and
// throw-away servers, where a full scan is cheap enough.
func (m *memStore) ListKind(ctx context.Context, kind string, after Key, limit int) ([]*Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	// The kind's scopes in order, then each scope's sorted ids from the
	// cursor: a page costs the scopes and the page, not the kind's every
	// record (collecting and sorting them all took seconds at 1M images).
	var scopes []Scope
	for s := range m.scopes {
		if s.Kind == kind && compareKeys(Key{Account: s.Account, Region: s.Region, ID: "\xff"}, after) > 0 {
			scopes = append(scopes, s)
		}
	}
	slices.SortFunc(scopes, func(a, b Scope) int {
		return compareKeys(Key{Account: a.Account, Region: a.Region}, Key{Account: b.Account, Region: b.Region})
	})
	var picked []*Record
	for _, s := range scopes {
		sc := m.scopes[s]
		from := ""
		if s.Account == after.Account && s.Region == after.Region {
			from = after.ID
		}
		sc.ids.Ascend(from, func(id string, _ struct{}) bool {
			if limit > 0 && len(picked) == limit {
				return false
			}
			picked = append(picked, sc.recs[id])
			return true
		})
		if limit > 0 && len(picked) == limit {
			break
		}
	}
	return cloneRecords(picked), nil
}

func (m *memStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errClosed
	}
	tx := &memTx{m: m, writes: map[Key]*Record{}}
	if err := fn(tx); err != nil {
		return err
	}
	for k, r := range tx.writes {
		sc := m.scopes[k.Scope()]
		if sc == nil {
			sc = &memScope{recs: map[string]*Record{}, names: map[string]string{}}
			m.scopes[k.Scope()] = sc
		}
		old := sc.recs[k.ID]
		m.newest.apply(old, r)
		if old != nil && old.Name != "" {
			delete(sc.names, old.Name)
		}
		if r == nil {
			if old != nil {
				delete(sc.recs, k.ID)
				sc.remove(k.ID)
			}
			continue
		}
		if old == nil {
			sc.add(k.ID)
		}
		sc.recs[k.ID] = r
	}
	// Names are indexed in a second pass: a transaction may move a name from
	// one record to another, and the first pass could otherwise delete the
	// new owner's entry while removing the old one.
	for k, r := range tx.writes {
		if r != nil && r.Name != "" {
			m.scopes[k.Scope()].names[r.Name] = k.ID
		}
	}
	// Scopes left empty go, so that a store emptied by Purge holds nothing.
	for k := range tx.writes {
		if sc := m.scopes[k.Scope()]; sc != nil && len(sc.recs) == 0 {
			delete(m.scopes, k.Scope())
		}
	}
	return nil
}

func (m *memStore) Ping(ctx context.Context) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return errClosed
	}
	return nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.scopes = nil
	m.newest = nil
	return nil
}

// memTx reads through its own writes (nil = deleted) to the committed maps,
// which it may read without locking because Update holds the write lock.
type memTx struct {
	m      *memStore
	writes map[Key]*Record
}

func (t *memTx) lookup(k Key) *Record {
	if r, ok := t.writes[k]; ok {
		return r
	}
	if sc := t.m.scopes[k.Scope()]; sc != nil {
		return sc.recs[k.ID]
	}
	return nil
}

// nameOwner returns the ID holding name in s as this transaction sees it.
func (t *memTx) nameOwner(s Scope, name string) (string, bool) {
	for k, r := range t.writes {
		if r != nil && k.Scope() == s && r.Name == name {
			return k.ID, true
		}
	}
	if sc := t.m.scopes[s]; sc != nil {
		if id, ok := sc.names[name]; ok {
			// A record this transaction rewrote or deleted no longer
			// holds its committed name unless the overlay says so.
			if _, changed := t.writes[Key{s.Account, s.Region, s.Kind, id}]; !changed {
				return id, true
			}
		}
	}
	return "", false
}

func (t *memTx) Get(ctx context.Context, k Key) (*Record, error) {
	if r := t.lookup(k); r != nil {
		return cloneRecord(r), nil
	}
	return nil, ErrNotFound
}

func (t *memTx) List(ctx context.Context, s Scope, afterID string, limit int) ([]*Record, error) {
	return cloneRecords(listFrom(t.m.scopes[s], t.writes, s, afterID, limit)), nil
}

func (t *memTx) Count(ctx context.Context, s Scope) (int, error) {
	n := 0
	if sc := t.m.scopes[s]; sc != nil {
		n = len(sc.recs)
	}
	for k, r := range t.writes {
		if k.Scope() != s {
			continue
		}
		committed := false
		if sc := t.m.scopes[s]; sc != nil {
			_, committed = sc.recs[k.ID]
		}
		switch {
		case r == nil && committed:
			n--
		case r != nil && !committed:
			n++
		}
	}
	return n, nil
}

func (t *memTx) Insert(ctx context.Context, r *Record, max int) error {
	if t.lookup(r.Key) != nil {
		return ErrAlreadyExists
	}
	if r.Name != "" {
		if _, taken := t.nameOwner(r.Scope(), r.Name); taken {
			return ErrNameTaken
		}
	}
	if max > 0 {
		if n, _ := t.Count(ctx, r.Scope()); n >= max {
			return ErrLimitExceeded
		}
	}
	r.Version = 1
	t.writes[r.Key] = cloneRecord(r)
	return nil
}

func (t *memTx) Put(ctx context.Context, r *Record) error {
	var stored int64
	if cur := t.lookup(r.Key); cur != nil {
		stored = cur.Version
	}
	if r.Version != stored {
		return ErrConflict
	}
	if r.Name != "" {
		if id, taken := t.nameOwner(r.Scope(), r.Name); taken && id != r.ID {
			return ErrNameTaken
		}
	}
	r.Version = stored + 1
	t.writes[r.Key] = cloneRecord(r)
	return nil
}

func (t *memTx) Delete(ctx context.Context, k Key) error {
	if t.lookup(k) == nil {
		return ErrNotFound
	}
	t.writes[k] = nil
	return nil
}

func (t *memTx) Select(ctx context.Context, sel Selection, kind string) ([]*Record, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	var picked []*Record
	for s, sc := range t.m.scopes {
		if s.Kind != kind {
			continue
		}
		for _, r := range sc.recs {
			if _, changed := t.writes[r.Key]; !changed && sel.Contains(r.Key) {
				picked = append(picked, r)
			}
		}
	}
	for k, r := range t.writes {
		if r != nil && k.Kind == kind && sel.Contains(k) {
			picked = append(picked, r)
		}
	}
	slices.SortFunc(picked, func(a, b *Record) int { return compareKeys(a.Key, b.Key) })
	return cloneRecords(picked), nil
}

func (t *memTx) Purge(ctx context.Context, sel Selection) (map[string]int, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for s, sc := range t.m.scopes {
		for _, r := range sc.recs {
			if _, changed := t.writes[r.Key]; !changed && sel.Contains(r.Key) {
				t.writes[r.Key] = nil
				counts[s.Kind]++
			}
		}
	}
	for k, r := range t.writes {
		if r == nil || !sel.Contains(k) {
			continue
		}
		counts[k.Kind]++
		if sc := t.m.scopes[k.Scope()]; sc != nil && sc.recs[k.ID] != nil {
			t.writes[k] = nil // committed: delete it
		} else {
			delete(t.writes, k) // written by this transaction only: forget it
		}
	}
	return counts, nil
}

// listFrom merges a committed scope with a transaction's overlay: the first
// limit committed records after afterID that the overlay leaves alone (found
// in the sorted index), with the overlay's own records in the scope, sorted
// and cut to limit.
func listFrom(sc *memScope, writes map[Key]*Record, s Scope, afterID string, limit int) []*Record {
	var picked []*Record
	if sc != nil {
		sc.ids.Ascend(afterID, func(id string, _ struct{}) bool {
			if limit > 0 && len(picked) == limit {
				return false
			}
			r := sc.recs[id]
			if _, changed := writes[r.Key]; !changed {
				picked = append(picked, r)
			}
			return true
		})
	}
	overlaid := false
	for k, r := range writes {
		if r != nil && k.Scope() == s && k.ID > afterID {
			picked = append(picked, r)
			overlaid = true
		}
	}
	if overlaid {
		slices.SortFunc(picked, func(a, b *Record) int { return strings.Compare(a.ID, b.ID) })
	}
	if limit > 0 && len(picked) > limit {
		picked = picked[:limit]
	}
	return picked
}
