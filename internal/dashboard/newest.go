package dashboard

import (
	"context"

	"github.com/wsim/wsim/internal/store"
)

// maxSkipped bounds the records one page of the dashboard's lists reads and
// leaves out (those its filters drop and those the store cannot select, such
// as a Region of every account), so that a filter few records match costs a
// bounded amount per page instead of a walk of every record: once a page
// has left out this many, it ends, even short or empty, with a nextToken
// where it stopped.
var maxSkipped = 1000

// The batches a newest-first list reads from the store: the first small,
// since a page may take most of its rows from another kind, then doubling.
const (
	firstBatch = 16
	maxBatch   = 1024
)

// positioned is one entry of a newest-first list: where it stands in the
// store's order, and its value.
type positioned[V any] struct {
	pos store.Position
	val V
}

// newestStream reads one kind's newest-first list a batch at a time.
type newestStream[V any] struct {
	read  func(ctx context.Context, after *store.Position, limit int) ([]positioned[V], error)
	after *store.Position
	batch int
	buf   []positioned[V]
	done  bool
}

func newStream[V any](after *store.Position, read func(ctx context.Context, after *store.Position, limit int) ([]positioned[V], error)) *newestStream[V] {
	return &newestStream[V]{read: read, after: after, batch: firstBatch}
}

func (s *newestStream[V]) head(ctx context.Context) (*positioned[V], error) {
	if len(s.buf) == 0 && !s.done {
		es, err := s.read(ctx, s.after, s.batch)
		if err != nil {
			return nil, err
		}
		s.buf, s.done = es, len(es) < s.batch
		if n := len(es); n > 0 {
			s.after = &es[n-1].pos
		}
		s.batch = min(2*s.batch, maxBatch)
	}
	if len(s.buf) == 0 {
		return nil, nil
	}
	return &s.buf[0], nil
}

// popNewest takes the entry that comes first of every stream's, or nil
// when they are all exhausted.
func popNewest[V any](ctx context.Context, streams []*newestStream[V]) (*positioned[V], error) {
	var best *newestStream[V]
	var bestEntry *positioned[V]
	for _, s := range streams {
		e, err := s.head(ctx)
		if err != nil {
			return nil, err
		}
		if e != nil && (bestEntry == nil || store.ComparePositions(e.pos, bestEntry.pos) < 0) {
			best, bestEntry = s, e
		}
	}
	if best != nil {
		best.buf = best.buf[1:]
	}
	return bestEntry, nil
}

// pageNewest fills a page of up to limit values from the streams merged,
// newest first, keeping those keep accepts (it may turn an entry into the
// value shown; an error ends the page). next is the position to resume from: after the page's last
// value when more follow, or after the last entry read when the page
// ended at maxSkipped; nil when the streams are exhausted.
func pageNewest[V, W any](ctx context.Context, streams []*newestStream[V], limit int, keep func(positioned[V]) (W, bool, error)) (page []W, next *store.Position, err error) {
	page = []W{}
	var last store.Position
	skipped := 0
	for {
		e, err := popNewest(ctx, streams)
		if err != nil || e == nil {
			return page, nil, err
		}
		if skipped >= maxSkipped {
			return page, &last, nil // e follows: the next page starts there
		}
		w, ok, err := keep(*e)
		switch {
		case err != nil:
			return nil, nil, err
		case !ok:
			skipped++
		case len(page) == limit:
			return page, &last, nil
		default:
			if cap(page) == 0 {
				page = make([]W, 0, limit) // most pages fill: grow it once
			}
			page = append(page, w)
		}
		last = e.pos
	}
}

// selection is the part of an account and Region filter the store selects
// (a Region alone it cannot), and the Region left to filter by.
func selection(account, region string) (store.Selection, string) {
	if account == "" {
		return store.Selection{}, region
	}
	return store.Selection{Account: account, Region: region}, ""
}
