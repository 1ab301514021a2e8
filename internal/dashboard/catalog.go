package dashboard

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/store"
)

// Resource is one resource of the catalogue (an image, an image shared
// with an account, a bundle, and the kinds later resource packages add) as
// the dashboard and the operator CLI show it.
type Resource struct {
	// Kind is the resource's kind, as CatalogSource.Kind names it.
	Kind    string `json:"kind"`
	Account string `json:"account"`
	Region  string `json:"region"`
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	// Description is the resource's own description, if it has one.
	Description string `json:"description,omitempty"`
	// State is named as the resource's API names it (PENDING, AVAILABLE,
	// ERROR for images), at the page's time.
	State   string            `json:"state,omitempty"`
	Created time.Time         `json:"created"`
	Tags    map[string]string `json:"tags,omitempty"`
	// Attributes are the kind's own facts worth a column: how an image was
	// made, a bundle's compute type and volumes.
	Attributes map[string]string `json:"attributes,omitempty"`
	// Relations link the resource to others: the accounts an image is
	// shared with, the source of a copy or an update, a bundle's image.
	Relations []Relation `json:"relations,omitempty"`
}

// The relation types.
const (
	RelSharedWith  = "shared-with"  // an image shared with another account (Account)
	RelSharedBy    = "shared-by"    // an image shared with this account by its owner (Account)
	RelCopyOf      = "copy-of"      // a copy and its source image (ID in Region, owned by Account)
	RelUpdatedFrom = "updated-from" // an updated image and its source image (ID)
	RelUsesImage   = "uses-image"   // a bundle and its image (ID, owned by Account)
)

// Relation is one link of a Resource to another resource or account.
type Relation struct {
	Type    string `json:"type"`
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	ID      string `json:"id,omitempty"`
}

// CatalogSource is one resource kind's contribution to the catalogue.
type CatalogSource interface {
	// Kind names the resources it lists.
	Kind() string
	// Newest returns up to limit resources of sel newest first, after the
	// position after (nil: from the newest), in store.ListNewest's order.
	Newest(ctx context.Context, sel store.Selection, after *store.Position, limit int) ([]CatalogEntry, error)
}

// CatalogEntry is one resource of a CatalogSource's newest-first list: its
// place in the store's order, and the resource it shows, computed only
// when a page shows it.
type CatalogEntry struct {
	Position store.Position
	Resource func(ctx context.Context, now time.Time) (Resource, error)
}

// KindCatalog is the CatalogSource of a stored kind, each record shown by
// view.
func KindCatalog[T any, P records.Record[T]](db *records.DB, name string, k *records.Kind[T, P], view func(ctx context.Context, v P, now time.Time) (Resource, error)) CatalogSource {
	return kindCatalog[T, P]{db: db, name: name, k: k, view: view}
}

type kindCatalog[T any, P records.Record[T]] struct {
	db   *records.DB
	name string
	k    *records.Kind[T, P]
	view func(context.Context, P, time.Time) (Resource, error)
}

func (c kindCatalog[T, P]) Kind() string { return c.name }

func (c kindCatalog[T, P]) Newest(ctx context.Context, sel store.Selection, after *store.Position, limit int) ([]CatalogEntry, error) {
	vs, err := c.k.Newest(ctx, c.db, sel, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]CatalogEntry, len(vs))
	for i, v := range vs {
		out[i] = CatalogEntry{Position: c.k.PositionOf(v), Resource: func(ctx context.Context, now time.Time) (Resource, error) {
			r, err := c.view(ctx, v, now)
			m := records.MetaOf(v)
			r.Kind, r.Account, r.Region, r.ID = c.name, m.Account, m.Region, m.ID
			return r, err
		}}
	}
	return out, nil
}

// Page sizes of the catalogue.
const (
	DefaultCatalogLimit = 100
	MaxCatalogLimit     = 1000
)

// CatalogFilter selects the resources Catalog.List lists. Empty fields match
// everything.
type CatalogFilter struct {
	Account string
	Region  string
	// Kind is one of Catalog.Kinds.
	Kind string
	// NextToken continues the listing after the page that returned it.
	NextToken string
	// Limit is the page size: DefaultCatalogLimit when 0, at most
	// MaxCatalogLimit.
	Limit int
}

// CatalogPage is one page of the catalogue, newest first, at the service
// time Now.
type CatalogPage struct {
	Now       time.Time  `json:"now"`
	Resources []Resource `json:"resources"`
	NextToken string     `json:"nextToken,omitempty"`
}

// Catalog is the read model of every resource of every account and Region.
type Catalog struct {
	clock   *clock.Clock
	sources []CatalogSource
}

// NewCatalog returns the catalogue over its sources.
func NewCatalog(clk *clock.Clock, sources ...CatalogSource) *Catalog {
	return &Catalog{clock: clk, sources: sources}
}

// Kinds lists the kinds of resources the catalogue has.
func (c *Catalog) Kinds() []string {
	out := make([]string, len(c.sources))
	for i, s := range c.sources {
		out[i] = s.Kind()
	}
	return out
}

// List returns a page of the resources the filter selects, newest first
// (by creation, then account, Region, kind and id, so the order is total
// and stable). Each kind's resources come newest first from the store
// (store.ListNewest), which selects an account and an account's Region
// itself, so a page reads about its own length from each kind, however
// many resources there are. A Region of every account is kept from the
// resources of every account: a page ends once it has left out 1,000
// of other Regions, short or even empty, with a NextToken to go on.
func (c *Catalog) List(ctx context.Context, f CatalogFilter) (CatalogPage, error) {
	if f.Kind != "" && !slices.Contains(c.Kinds(), f.Kind) {
		return CatalogPage{}, fmt.Errorf("%w: unknown kind %q; use one of %s", ErrInvalidFilter, f.Kind, strings.Join(c.Kinds(), ", "))
	}
	if f.Limit < 0 || f.Limit > MaxCatalogLimit {
		return CatalogPage{}, fmt.Errorf("%w: limit %d is not between 1 and %d", ErrInvalidFilter, f.Limit, MaxCatalogLimit)
	}
	limit := cmp.Or(f.Limit, DefaultCatalogLimit)
	after, err := decodeCatalogToken(f.NextToken)
	if err != nil {
		return CatalogPage{}, err
	}
	now, err := c.clock.Now(ctx)
	if err != nil {
		return CatalogPage{}, err
	}
	sel, region := selection(f.Account, f.Region)
	var streams []*newestStream[CatalogEntry]
	for _, s := range c.sources {
		if f.Kind != "" && s.Kind() != f.Kind {
			continue
		}
		streams = append(streams, newStream(after, func(ctx context.Context, after *store.Position, limit int) ([]positioned[CatalogEntry], error) {
			es, err := s.Newest(ctx, sel, after, limit)
			out := make([]positioned[CatalogEntry], len(es))
			for i, e := range es {
				out[i] = positioned[CatalogEntry]{pos: e.Position, val: e}
			}
			return out, err
		}))
	}
	rs, next, err := pageNewest(ctx, streams, limit, func(e positioned[CatalogEntry]) (Resource, bool, error) {
		if region != "" && e.pos.Region != region {
			return Resource{}, false, nil
		}
		r, err := e.val.Resource(ctx, now)
		return r, err == nil, err
	})
	if err != nil {
		return CatalogPage{}, err
	}
	page := CatalogPage{Now: now, Resources: rs}
	if next != nil {
		page.NextToken = encodeCatalogToken(*next)
	}
	return page, nil
}

// Tokens of the catalogue (and of the pipelines newest first): a position
// in the store's newest-first order, as base64-encoded JSON of its
// creation in nanoseconds, account, Region, kind and id.
func encodeCatalogToken(p store.Position) string {
	b, _ := json.Marshal([]string{"c1", strconv.FormatInt(p.Created.UnixNano(), 10), p.Account, p.Region, p.Kind, p.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCatalogToken(tok string) (*store.Position, error) {
	if tok == "" {
		return nil, nil
	}
	var parts []string
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		err = json.Unmarshal(raw, &parts)
	}
	var nanos int64
	if err == nil && len(parts) == 6 && parts[0] == "c1" {
		nanos, err = strconv.ParseInt(parts[1], 10, 64)
	} else {
		err = fmt.Errorf("malformed")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the nextToken is not valid: pass the nextToken of the previous page unchanged", ErrInvalidFilter)
	}
	return &store.Position{Created: time.Unix(0, nanos).UTC(), Account: parts[2], Region: parts[3], Kind: parts[4], ID: parts[5]}, nil
}
