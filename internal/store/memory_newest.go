package store

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// memNewest keeps the memory store's records of each kind in ListNewest's
// order three ways: of every account, of each account and of each scope.
// Each is a sortedIDs keyed by newestKey, whose byte order is that order, so
// a page is a binary search and the page, however many records there are.
type memNewest struct {
	byKind    map[string]*sortedIDs[*Record]
	byAccount map[Scope]*sortedIDs[*Record] // Region ""
	byScope   map[Scope]*sortedIDs[*Record]
}

func newMemNewest() *memNewest {
	return &memNewest{byKind: map[string]*sortedIDs[*Record]{}, byAccount: map[Scope]*sortedIDs[*Record]{}, byScope: map[Scope]*sortedIDs[*Record]{}}
}

// newestTime is the first part of a newestKey: the creation time, in
// microseconds, as 16 hex digits that sort newest first (the sign bit
// flipped so that times before 1970 sort too, then every bit inverted).
func newestTime(t time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ^(uint64(micros(t).UnixMicro()) ^ 1<<63))
	return hex.EncodeToString(b[:])
}

// newestKey orders records by creation, newest first, then by account,
// Region and id: a NUL ends each part, and none of them holds one, so a
// part that is a prefix of another sorts first, as strings.Compare says.
func newestKey(created time.Time, account, region, id string) string {
	return newestTime(created) + "\x00" + account + "\x00" + region + "\x00" + id
}

// apply indexes a committed write: old is what the key held (nil: nothing),
// r what it holds now (nil: deleted).
func (n *memNewest) apply(old, r *Record) {
	if old != nil {
		k := newestKey(old.Created, old.Account, old.Region, old.ID)
		for _, idx := range n.indexes(old.Key, false) {
			idx.Delete(k)
		}
		n.drop(old.Key)
	}
	if r != nil {
		k := newestKey(r.Created, r.Account, r.Region, r.ID)
		for _, idx := range n.indexes(r.Key, true) {
			idx.Set(k, r)
		}
	}
}

// indexes are the three indexes holding k, made when create is set.
func (n *memNewest) indexes(k Key, create bool) []*sortedIDs[*Record] {
	get := func(m map[Scope]*sortedIDs[*Record], s Scope) *sortedIDs[*Record] {
		idx := m[s]
		if idx == nil && create {
			idx = &sortedIDs[*Record]{}
			m[s] = idx
		}
		return idx
	}
	kind := n.byKind[k.Kind]
	if kind == nil && create {
		kind = &sortedIDs[*Record]{}
		n.byKind[k.Kind] = kind
	}
	out := []*sortedIDs[*Record]{kind, get(n.byAccount, Scope{Account: k.Account, Kind: k.Kind}), get(n.byScope, k.Scope())}
	for _, idx := range out {
		if idx == nil {
			return nil
		}
	}
	return out
}

// drop forgets the indexes k emptied.
func (n *memNewest) drop(k Key) {
	if idx := n.byKind[k.Kind]; idx != nil && idx.Len() == 0 {
		delete(n.byKind, k.Kind)
	}
	if s := (Scope{Account: k.Account, Kind: k.Kind}); n.byAccount[s] != nil && n.byAccount[s].Len() == 0 {
		delete(n.byAccount, s)
	}
	if idx := n.byScope[k.Scope()]; idx != nil && idx.Len() == 0 {
		delete(n.byScope, k.Scope())
	}
}

func (m *memStore) ListNewest(ctx context.Context, kind string, sel Selection, after *Position, limit int) ([]*Record, error) {
	picked, err := m.lendNewest(ctx, kind, sel, after, limit)
	if err != nil {
		return nil, err
	}
	return cloneRecords(picked), nil
}

// lendNewest is ListNewest without the copies (see lender): the dashboard
// reads pages of it only to decode them, and copying every body was a
// third of a page's bytes.
func (m *memStore) lendNewest(ctx context.Context, kind string, sel Selection, after *Position, limit int) ([]*Record, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, errClosed
	}
	var idx *sortedIDs[*Record]
	switch {
	case sel.All():
		idx = m.newest.byKind[kind]
	case sel.Region == "":
		idx = m.newest.byAccount[Scope{Account: sel.Account, Kind: kind}]
	default:
		idx = m.newest.byScope[Scope{Account: sel.Account, Region: sel.Region, Kind: kind}]
	}
	if idx == nil {
		return []*Record{}, nil
	}
	// The keys after the position: those of its time whose (account,
	// Region, id) is above the bound tiesAfter gives, then the older ones.
	// Keys of other accounts and Regions than the selection's compare the
	// same way, so one bound serves every index.
	from := ""
	if after != nil {
		b := tiesAfter(kind, *after)
		from = newestKey(after.Created, b.Account, b.Region, b.ID)
		if b.pastScope {
			// Above every id of the account and Region, below the next
			// Region: after its NUL, every key there has an id.
			from = strings.TrimSuffix(from, "\x00") + "\x01"
		}
	}
	var picked []*Record
	idx.Ascend(from, func(_ string, r *Record) bool {
		if limit > 0 && len(picked) == limit {
			return false
		}
		picked = append(picked, r)
		return true
	})
	if picked == nil {
		picked = []*Record{}
	}
	return picked, nil
}
