package records

import (
	"context"

	"github.com/wsim/wsim/internal/store"
)

// Newest returns up to limit records of the kind in sel, newest first, after
// the position after (nil: from the newest), in store.ListNewest's order:
// by creation, then account, Region, kind and id. It reads the latest
// committed state.
func (k *Kind[T, P]) Newest(ctx context.Context, db *DB, sel store.Selection, after *store.Position, limit int) ([]P, error) {
	// Decoding never changes the records: the store may lend them.
	recs, err := store.LendNewest(ctx, db.st, k.Name, sel, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]P, 0, len(recs))
	for _, rec := range recs {
		p, err := k.decode(db, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// PositionOf is where v stands in store.ListNewest's order.
func (k *Kind[T, P]) PositionOf(v P) store.Position {
	m := v.meta()
	return store.Position{Created: m.Created, Account: m.Account, Region: m.Region, Kind: k.Name, ID: m.ID}
}
