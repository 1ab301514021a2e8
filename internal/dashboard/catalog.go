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
	// Scan returns up to limit resources after the (account, Region, id) of
	// after, in that order, as they are at now.
	Scan(ctx context.Context, after records.Key, limit int, now time.Time) ([]Resource, error)
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

func (c kindCatalog[T, P]) Scan(ctx context.Context, after records.Key, limit int, now time.Time) ([]Resource, error) {
	vs, err := c.k.Scan(ctx, c.db, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Resource, 0, len(vs))
	for _, v := range vs {
		r, err := c.view(ctx, v, now)
		if err != nil {
			return nil, err
		}
		m := records.MetaOf(v)
		r.Kind, r.Account, r.Region, r.ID = c.name, m.Account, m.Region, m.ID
		out = append(out, r)
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

// scanBatch is how many records a source is asked for at a time.
const scanBatch = 500

// List returns a page of the resources the filter selects, newest first
// (then by account, Region, kind and id, so the order is total and stable).
// Ordering by creation needs every selected resource: the cost of a page
// grows with the number of resources the filter's account and Region hold.
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
	var all []Resource
	for _, s := range c.sources {
		if f.Kind != "" && s.Kind() != f.Kind {
			continue
		}
		rs, err := scanScope(ctx, s, f.Account, f.Region, now)
		if err != nil {
			return CatalogPage{}, err
		}
		all = append(all, rs...)
	}
	slices.SortFunc(all, compareNewest)
	page := CatalogPage{Now: now, Resources: []Resource{}}
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(all, *after, compareNewest)
		if start < len(all) && compareNewest(all[start], *after) == 0 {
			start++
		}
	}
	end := min(start+limit, len(all))
	page.Resources = append(page.Resources, all[start:end]...)
	if end < len(all) {
		page.NextToken = encodeCatalogToken(all[end-1])
	}
	return page, nil
}

// scanScope reads every resource of s in the account and Region (all of
// them for empty filters). A Region without an account reads every account
// and keeps that Region's resources.
func scanScope(ctx context.Context, s CatalogSource, account, region string, now time.Time) ([]Resource, error) {
	var out []Resource
	after := records.Key{Account: account}
	if account != "" {
		after.Region = region
	}
	for {
		rs, err := s.Scan(ctx, after, scanBatch, now)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if account != "" && (r.Account != account || region != "" && r.Region != region) {
				return out, nil // the scan started at the scope, so it is past it
			}
			if region != "" && r.Region != region {
				continue // every account is read; keep the Region's
			}
			out = append(out, r)
		}
		if len(rs) < scanBatch {
			return out, nil
		}
		last := rs[len(rs)-1]
		after = records.Key{Account: last.Account, Region: last.Region, ID: last.ID}
	}
}

func compareNewest(a, b Resource) int {
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	for _, c := range []int{
		strings.Compare(a.Account, b.Account), strings.Compare(a.Region, b.Region),
		strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID),
	} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// Tokens of the catalogue: the position of the last resource of the page,
// as base64-encoded JSON.
func encodeCatalogToken(r Resource) string {
	b, _ := json.Marshal([]string{"c1", strconv.FormatInt(r.Created.UnixNano(), 10), r.Account, r.Region, r.Kind, r.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCatalogToken(tok string) (*Resource, error) {
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
	return &Resource{Created: time.Unix(0, nanos).UTC(), Account: parts[2], Region: parts[3], Kind: parts[4], ID: parts[5]}, nil
}
