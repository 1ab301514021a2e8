package store

import (
	"cmp"
	"context"
	"strings"
	"time"
)

// Position is a place in ListNewest's order: that of a record created at
// Created, with its Account, Region, Kind and ID.
type Position struct {
	Created                   time.Time
	Account, Region, Kind, ID string
}

// PositionOf is the position of r in ListNewest's order.
func PositionOf(r *Record) Position {
	return Position{Created: r.Created, Account: r.Account, Region: r.Region, Kind: r.Kind, ID: r.ID}
}

// ComparePositions orders positions as ListNewest lists records: newest
// first, then by account, Region, kind and id in byte order.
func ComparePositions(a, b Position) int {
	return cmp.Or(micros(b.Created).Compare(micros(a.Created)),
		strings.Compare(a.Account, b.Account), strings.Compare(a.Region, b.Region),
		strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID))
}

// tieBound says which records of one kind created at a position's time
// come after the position: none; or those whose (account, Region, id) is
// above (Account, Region, ID); or, with pastScope, those whose (account,
// Region) is above (Account, Region).
type tieBound struct {
	none                bool
	Account, Region, ID string
	pastScope           bool
}

// tiesAfter is the tieBound of kind's records after p. The kind takes part
// in the order after the Region: a kind above p's has every record of p's
// account and Region after p (ids are never empty, so "above the empty id"
// is all of them), a kind below p's none of them.
func tiesAfter(kind string, p Position) tieBound {
	switch c := strings.Compare(kind, p.Kind); {
	case c == 0:
		return tieBound{Account: p.Account, Region: p.Region, ID: p.ID}
	case c > 0:
		return tieBound{Account: p.Account, Region: p.Region}
	}
	return tieBound{Account: p.Account, Region: p.Region, pastScope: true}
}

// scopeTiesAfter is the lowest id of a scope's records created at p's time
// that may follow p (strictly above afterID), or any false when none does.
func scopeTiesAfter(sc Scope, p Position) (afterID string, any bool) {
	switch c := cmp.Or(strings.Compare(sc.Account, p.Account), strings.Compare(sc.Region, p.Region)); {
	case c < 0:
		return "", false
	case c > 0:
		return "", true
	}
	b := tiesAfter(sc.Kind, p)
	if b.pastScope {
		return "", false
	}
	return b.ID, true
}

// newestReader is what a SQL store answers for ListNewest: the records of a
// kind created at one time after a bound, and those created before a time,
// both in the store's newest-first order, either of every account (sc nil)
// or of one scope; and the Regions where an account has records of a kind,
// from scope_counts.
type newestReader interface {
	newestTies(ctx context.Context, kind string, sc *Scope, created time.Time, b tieBound, limit int) ([]*Record, error)
	newestOlder(ctx context.Context, kind string, sc *Scope, before *time.Time, limit int) ([]*Record, error)
	newestRegions(ctx context.Context, account, kind string) ([]string, error)
}

// listNewest serves ListNewest from a SQL store's reads: a scope or every
// account is one index range (the records created at the position's time,
// then the older ones); an account merges the ranges of its Regions.
func listNewest(ctx context.Context, r newestReader, kind string, sel Selection, after *Position, limit int) ([]*Record, error) {
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	if sel.Account == "" {
		return listNewestIn(ctx, r, kind, nil, after, limit)
	}
	if sel.Region != "" {
		return listNewestIn(ctx, r, kind, &Scope{Account: sel.Account, Region: sel.Region, Kind: kind}, after, limit)
	}
	regions, err := r.newestRegions(ctx, sel.Account, kind)
	if err != nil {
		return nil, err
	}
	lists := make([][]*Record, 0, len(regions))
	for _, region := range regions {
		rs, err := listNewestIn(ctx, r, kind, &Scope{Account: sel.Account, Region: region, Kind: kind}, after, limit)
		if err != nil {
			return nil, err
		}
		lists = append(lists, rs)
	}
	return mergeNewest(lists, limit), nil
}

func listNewestIn(ctx context.Context, r newestReader, kind string, sc *Scope, after *Position, limit int) ([]*Record, error) {
	var out []*Record
	var before *time.Time
	if after != nil {
		c := micros(after.Created)
		before = &c
		b := tiesAfter(kind, *after)
		if sc != nil {
			id, any := scopeTiesAfter(*sc, *after)
			b = tieBound{none: !any, ID: id}
		}
		if !b.none {
			ties, err := r.newestTies(ctx, kind, sc, c, b, limit)
			if err != nil {
				return nil, err
			}
			out = ties
			if limit > 0 && len(out) >= limit {
				return out[:limit], nil
			}
		}
	}
	rest := limit
	if limit > 0 {
		rest = limit - len(out)
	}
	older, err := r.newestOlder(ctx, kind, sc, before, rest)
	if err != nil {
		return nil, err
	}
	return append(out, older...), nil
}

// mergeNewest merges lists each in ListNewest's order into one, cut to
// limit (limit <= 0: all).
func mergeNewest(lists [][]*Record, limit int) []*Record {
	if len(lists) == 1 {
		return lists[0]
	}
	var out []*Record
	heads := make([]int, len(lists))
	for limit <= 0 || len(out) < limit {
		best := -1
		for i, l := range lists {
			if heads[i] < len(l) && (best < 0 || ComparePositions(PositionOf(l[heads[i]]), PositionOf(lists[best][heads[best]])) < 0) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, lists[best][heads[best]])
		heads[best]++
	}
	return out
}

func (s *timed) ListNewest(parent context.Context, kind string, sel Selection, after *Position, limit int) ([]*Record, error) {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	out, err := s.Store.ListNewest(ctx, kind, sel, after, limit)
	return out, s.fail(parent, ctx, err)
}

func (s *timed) lendNewest(parent context.Context, kind string, sel Selection, after *Position, limit int) ([]*Record, error) {
	ctx, cancel := context.WithTimeout(parent, s.d)
	defer cancel()
	out, err := LendNewest(ctx, s.Store, kind, sel, after, limit)
	return out, s.fail(parent, ctx, err)
}
