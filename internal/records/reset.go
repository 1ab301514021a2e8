package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/wsim/wsim/internal/store"
)

// Selection picks what Reset removes: everything (the zero Selection), one
// account, or one account in one Region.
type Selection = store.Selection

// ErrInvalidSelection is a Selection with a Region but no account.
var ErrInvalidSelection = store.ErrInvalidSelection

// ResetResult is what Reset removed.
type ResetResult struct {
	// Removed counts the records deleted, by store kind ("image", "bundle",
	// "image-share", "account-modification", ...): those of the selection,
	// and outside it the mirrors of grants its images had made (an
	// ImageShare in the grantee's account). wsim's own settings (clock,
	// fault rules) are not counted here.
	Removed map[string]int
	// Unshared counts the images outside the selection that were shared
	// with an account of it: they stay, without that grant.
	Unshared int
	// FaultRules counts the fault rules removed; only a reset of
	// everything removes them.
	FaultRules int
}

// Reset deletes every record sel selects, in one transaction, keeping image
// sharing consistent across accounts: the grants the selection's images made
// to other accounts go with their mirrors in those accounts, and the grants
// other accounts' images made to the selection's accounts go from those
// images' SharedWith (their mirrors are in the selection). A reset of
// everything also removes wsim's settings, so the clock and the fault rules
// are back to their defaults.
func Reset(ctx context.Context, db *DB, sel Selection) (ResetResult, error) {
	if err := sel.Validate(); err != nil {
		return ResetResult{}, err
	}
	var res ResetResult
	err := db.Update(ctx, func(tx *Tx) error {
		res = ResetResult{Removed: map[string]int{}}
		if sel.All() {
			rules, err := FaultRules.in(ctx, tx)
			if err != nil {
				return err
			}
			res.FaultRules = len(rules)
		} else if err := unshareAcross(ctx, tx, sel, &res); err != nil {
			return err
		}
		counts, err := tx.tx.Purge(ctx, sel)
		if err != nil {
			return err
		}
		for kind, n := range counts {
			if kind != kindSetting {
				res.Removed[kind] += n
			}
		}
		return nil
	})
	if err != nil {
		return ResetResult{}, err
	}
	return res, nil
}

// unshareAcross removes the grants between the selection and accounts
// outside it, on the outside side; the purge removes the inside side.
func unshareAcross(ctx context.Context, tx *Tx, sel Selection, res *ResetResult) error {
	images, err := selectKind(ctx, tx, Images, sel)
	if err != nil {
		return err
	}
	for _, img := range images {
		for _, grantee := range img.SharedWith {
			k := ImageShares.key(grantee, img.Region, img.ID)
			if sel.Contains(k) {
				continue // purged with the rest
			}
			switch err := tx.tx.Delete(ctx, k); {
			case err == nil:
				res.Removed[ImageShares.Name]++
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
	}
	shares, err := selectKind(ctx, tx, ImageShares, sel)
	if err != nil {
		return err
	}
	for _, sh := range shares {
		if sel.Contains(Images.key(sh.Owner, sh.Region, sh.ID)) {
			continue
		}
		img, err := Images.Find(ctx, tx, sh.Owner, sh.Region, sh.ID)
		if err != nil {
			return err
		}
		if img == nil {
			continue // a mirror without its image: nothing outside to fix
		}
		i, ok := slices.BinarySearch(img.SharedWith, sh.Account)
		if !ok {
			continue
		}
		img.SharedWith = slices.Delete(img.SharedWith, i, i+1)
		if err := Images.Put(ctx, tx, img); err != nil {
			return err
		}
		res.Unshared++
	}
	return nil
}

// selectKind decodes the records of kind k that sel selects.
func selectKind[T any, P Record[T]](ctx context.Context, tx *Tx, k *Kind[T, P], sel Selection) ([]P, error) {
	recs, err := tx.tx.Select(ctx, sel, k.Name)
	if err != nil {
		return nil, err
	}
	out := make([]P, 0, len(recs))
	for _, rec := range recs {
		p, err := k.decode(tx, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// in reads the setting inside a transaction, the zero value when never set.
func (s Setting[T]) in(ctx context.Context, tx *Tx) (T, error) {
	var v T
	rec, err := tx.tx.Get(ctx, s.key())
	if errors.Is(err, store.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(rec.Body, &v); err != nil {
		return v, fmt.Errorf("decode setting %s: %w", s.Name, err)
	}
	return v, nil
}
