package records

import (
	"context"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
)

// taggable is a kind whose records carry tags.
type taggable struct {
	prefix string
	// tags returns the tag list of the record, nil when there is none.
	tags   func(ctx context.Context, r Reader, account, region, id string, now time.Time) (*[]api.Tag, error)
	change func(ctx context.Context, db *DB, account, region, id string, now time.Time, fn func([]api.Tag) ([]api.Tag, error)) (bool, error)
}

// goner is a record that can be gone while its record remains (a
// deregistered directory, a terminated WorkSpace): tags see it as absent.
type goner interface{ Gone(now time.Time) bool }

func isGone(v any, now time.Time) bool {
	g, ok := v.(goner)
	return ok && g.Gone(now)
}

// taggableKinds maps resource id prefixes to the kinds that hold them. Ids
// of kinds wsim does not hold yet (connection aliases wsca-, pools wspool-)
// find nothing.
var taggableKinds = []taggable{
	taggableOf(Images, "wsi-", func(v *Image) *[]api.Tag { return &v.Tags }),
	taggableOf(Bundles, "wsb-", func(v *Bundle) *[]api.Tag { return &v.Tags }),
	taggableOf(Directories, "d-", func(v *Directory) *[]api.Tag { return &v.Tags }),
	taggableOf(Directories, "wsd-", func(v *Directory) *[]api.Tag { return &v.Tags }),
	taggableOf(Workspaces, "ws-", func(v *Workspace) *[]api.Tag { return &v.Tags }),
	taggableOf(IPGroups, "wsipg-", func(v *IPGroup) *[]api.Tag { return &v.Tags }),
}

func taggableOf[T any, P Record[T]](k *Kind[T, P], prefix string, tags func(P) *[]api.Tag) taggable {
	return taggable{
		prefix: prefix,
		tags: func(ctx context.Context, r Reader, account, region, id string, now time.Time) (*[]api.Tag, error) {
			v, err := k.Find(ctx, r, account, region, id)
			if err != nil || v == nil || isGone(v, now) {
				return nil, err
			}
			return tags(v), nil
		},
		change: func(ctx context.Context, db *DB, account, region, id string, now time.Time, fn func([]api.Tag) ([]api.Tag, error)) (bool, error) {
			found := false
			err := db.Update(ctx, func(tx *Tx) error {
				found = false
				v, err := k.Find(ctx, tx, account, region, id)
				if err != nil || v == nil || isGone(v, now) {
					return err
				}
				found = true
				t := tags(v)
				if *t, err = fn(*t); err != nil {
					return err
				}
				if len(*t) == 0 {
					*t = nil
				}
				return k.Put(ctx, tx, v)
			})
			return found, err
		},
	}
}

func taggableKind(id string) (taggable, bool) {
	for _, t := range taggableKinds {
		if strings.HasPrefix(id, t.prefix) {
			return t, true
		}
	}
	return taggable{}, false
}

// Tags returns the tags of any taggable resource of the account in the
// Region at now; found is false when it has no such resource, or only one
// that is gone at now (a record type says so with a Gone(now) method). Only
// resources of the caller's account are taggable, so an image shared with
// it is not found (its tags are its owner's).
func Tags(ctx context.Context, r Reader, account, region, id string, now time.Time) (tags []api.Tag, found bool, err error) {
	t, ok := taggableKind(id)
	if !ok {
		return nil, false, nil
	}
	p, err := t.tags(ctx, r, account, region, id, now)
	if err != nil || p == nil {
		return nil, false, err
	}
	return *p, true, nil
}

// ChangeTags applies fn to the tags of any taggable resource in one
// read-modify-write transaction, so concurrent tag changes never lose one
// another; found is false when there is no such resource at now.
func ChangeTags(ctx context.Context, db *DB, account, region, id string, now time.Time, fn func([]api.Tag) ([]api.Tag, error)) (found bool, err error) {
	t, ok := taggableKind(id)
	if !ok {
		return false, nil
	}
	return t.change(ctx, db, account, region, id, now, fn)
}
