// Package service composes the WorkSpaces API from its resource packages:
// the one place that knows them all. It builds the typed store, the service
// clock and the shared kit over a store.Store, lets every resource package
// register its operations in the dispatch table and contribute its
// pipelines to the dashboard's read model. A new resource package is added
// to the list in New, and nowhere else.
package service

import (
	"context"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/resources/account"
	"github.com/wsim/wsim/internal/resources/bundles"
	"github.com/wsim/wsim/internal/resources/directories"
	"github.com/wsim/wsim/internal/resources/images"
	"github.com/wsim/wsim/internal/resources/ipgroups"
	"github.com/wsim/wsim/internal/resources/tags"
	"github.com/wsim/wsim/internal/resources/workspaces"
	"github.com/wsim/wsim/internal/store"
)

// Defaults for Config fields left zero.
const (
	DefaultImageQuota = 40
	// DefaultBundleQuota is the AWS default of custom bundles per account
	// and Region (not adjustable there; configurable here).
	DefaultBundleQuota = 50
	// DefaultDirectoryQuota is AWS's limit of registered directories per
	// account and Region (not adjustable there).
	DefaultDirectoryQuota = 50
	// DefaultIPGroupQuota is AWS's limit of IP access control groups per
	// account and Region.
	DefaultIPGroupQuota = 100
	// DefaultWorkspaceQuota is AWS's default quota of WorkSpaces per
	// account and Region for a new account (adjustable there, as here).
	DefaultWorkspaceQuota = 1
)

// DirectoryMode says how wsim stands in for Directory Service.
type DirectoryMode = records.DirectoryMode

// The directory modes; see package records.
const (
	DirectoriesFriendly = records.DirectoriesFriendly
	DirectoriesStrict   = records.DirectoriesStrict
)

// ParseDirectoryMode reads a --directories value.
func ParseDirectoryMode(s string) (DirectoryMode, error) { return records.ParseDirectoryMode(s) }

// BYOLMode says how accounts start out with respect to BYOL.
type BYOLMode = records.BYOLMode

// The BYOL modes; see package records.
const (
	BYOLFriendly = records.BYOLFriendly
	BYOLStrict   = records.BYOLStrict
)

// ParseBYOLMode reads a --byol value.
func ParseBYOLMode(s string) (BYOLMode, error) { return records.ParseBYOLMode(s) }

// Config is what a Service is configured with at start-up.
type Config struct {
	// Profile gives the stage durations of new long-running operations.
	Profile pipeline.Profile
	// ImageQuota is the number of images an account may hold in a Region.
	ImageQuota int
	// BundleQuota is the number of custom bundles an account may hold in a Region.
	BundleQuota int
	// BYOL says whether accounts start enabled for BYOL (BYOLFriendly, the
	// default) or must enable it with ModifyAccount first (BYOLStrict).
	BYOL BYOLMode
	// Directories says how wsim stands in for Directory Service
	// (DirectoriesFriendly when "").
	Directories DirectoryMode
	// WorkspaceQuota is the number of WorkSpaces an account may hold in a
	// Region (DefaultWorkspaceQuota when 0).
	WorkspaceQuota int
	// ClockCacheTTL lets a process that owns its store cache the clock state.
	// It must be zero when replicas share the store.
	ClockCacheTTL time.Duration
	// Now is the real clock (time.Now when nil); the service clock runs on it.
	Now func() time.Time
}

// resource is what every resource package offers the composition.
type resource interface {
	Register(*api.Registry)
}

// pipelineSource is a resource with long-running operations to show.
type pipelineSource interface {
	Sources() []dashboard.Source
}

// catalogSource is a resource with records to show in the catalogue.
type catalogSource interface {
	CatalogSources() []dashboard.CatalogSource
}

// Service is the composed API.
type Service struct {
	cfg       Config
	store     store.Store
	env       *kit.Env
	registry  *api.Registry
	pipelines *dashboard.Pipelines
	catalog   *dashboard.Catalog
}

// New composes the API over st.
func New(cfg Config, st store.Store) *Service {
	if cfg.ImageQuota <= 0 {
		cfg.ImageQuota = DefaultImageQuota
	}
	if cfg.BundleQuota <= 0 {
		cfg.BundleQuota = DefaultBundleQuota
	}
	if cfg.BYOL == "" {
		cfg.BYOL = BYOLFriendly
	}
	if cfg.Directories == "" {
		cfg.Directories = DirectoriesFriendly
	}
	if cfg.WorkspaceQuota <= 0 {
		cfg.WorkspaceQuota = DefaultWorkspaceQuota
	}
	db := records.Open(st, records.Config{
		Quotas: map[string]int{
			records.Images.Name:      cfg.ImageQuota,
			records.Bundles.Name:     cfg.BundleQuota,
			records.Directories.Name: DefaultDirectoryQuota,
			records.IPGroups.Name:    DefaultIPGroupQuota,
			records.Workspaces.Name:  cfg.WorkspaceQuota,
		},
		BYOL:        cfg.BYOL,
		Directories: cfg.Directories,
	})
	env := &kit.Env{
		DB:      db,
		Clock:   clock.New(records.ClockSource{DB: db}, cfg.Now, cfg.ClockCacheTTL),
		Profile: cfg.Profile,
	}
	s := &Service{cfg: cfg, store: st, env: env, registry: api.NewRegistry()}
	var sources []dashboard.Source
	var catalog []dashboard.CatalogSource
	for _, r := range []resource{
		images.New(env),
		bundles.New(env),
		account.New(env),
		tags.New(env),
		directories.New(env),
		ipgroups.New(env),
		workspaces.New(env),
	} {
		r.Register(s.registry)
		if ps, ok := r.(pipelineSource); ok {
			sources = append(sources, ps.Sources()...)
		}
		if cs, ok := r.(catalogSource); ok {
			catalog = append(catalog, cs.CatalogSources()...)
		}
	}
	s.pipelines = dashboard.NewPipelines(env.Clock, sources...)
	s.catalog = dashboard.NewCatalog(env.Clock, catalog...)
	return s
}

// Registry is the dispatch table of every implemented operation.
func (s *Service) Registry() *api.Registry { return s.registry }

// Records is the typed store the resources keep their records in.
func (s *Service) Records() *records.DB { return s.env.DB }

// Clock is the service clock.
func (s *Service) Clock() *clock.Clock { return s.env.Clock }

// Store is the service's store.
func (s *Service) Store() store.Store { return s.store }

// Profile is the timing profile new operations get.
func (s *Service) Profile() pipeline.Profile { return s.cfg.Profile }

// Pipelines lists the long-running operations of every account and Region.
func (s *Service) Pipelines(ctx context.Context, f dashboard.PipelineFilter) (dashboard.PipelinePage, error) {
	return s.pipelines.List(ctx, f)
}

// Catalog lists the resources of every account and Region, newest first.
func (s *Service) Catalog(ctx context.Context, f dashboard.CatalogFilter) (dashboard.CatalogPage, error) {
	return s.catalog.List(ctx, f)
}

// CatalogKinds lists the kinds of resources the catalogue has.
func (s *Service) CatalogKinds() []string { return s.catalog.Kinds() }

// FaultRules returns the server-side failure rules, in the order they match.
func (s *Service) FaultRules(ctx context.Context) ([]pipeline.FaultRule, error) {
	return s.env.FaultRules(ctx)
}

// AddFaultRule validates r, gives it an id and appends it to the rules.
func (s *Service) AddFaultRule(ctx context.Context, r pipeline.FaultRule) (pipeline.FaultRule, error) {
	return s.env.AddFaultRule(ctx, r)
}

// DeleteFaultRule removes the rule with the id; an empty id removes them all.
func (s *Service) DeleteFaultRule(ctx context.Context, id string) error {
	return s.env.DeleteFaultRule(ctx, id)
}

// BYOL is how accounts start out with respect to BYOL.
func (s *Service) BYOL() BYOLMode { return s.cfg.BYOL }

// Selection picks what Reset removes: everything (the zero Selection), one
// account, or one account in one Region.
type Selection = records.Selection

// ResetResult is what Reset removed.
type ResetResult = records.ResetResult

// ErrInvalidSelection is a Selection with a Region but no account.
var ErrInvalidSelection = records.ErrInvalidSelection

// Reset deletes everything sel selects in one transaction, keeping image
// sharing consistent across accounts (see records.Reset). A reset of
// everything also returns the clock and the fault rules to their defaults:
// the clock runs at real time again, even if it was ahead, since nothing is
// left whose time could go back.
func (s *Service) Reset(ctx context.Context, sel Selection) (ResetResult, error) {
	res, err := records.Reset(ctx, s.env.DB, sel)
	if err == nil && sel.All() {
		s.env.Clock.Forget()
	}
	return res, err
}

// ProbeWrite checks that the store takes writes, with a real write of a
// small record, giving up after timeout.
func (s *Service) ProbeWrite(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	// The write runs on its own so that a store that holds on to a queued
	// write (SQLite waits for its batch) cannot hold the caller past timeout.
	go func() { done <- s.env.DB.ProbeWrite(ctx, time.Now().UTC()) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: a write did not complete within %s", store.ErrUnavailable, timeout)
	}
}

// Errors of the fault rule operations.
var (
	ErrInvalidRule = kit.ErrInvalidRule
	ErrNoSuchRule  = kit.ErrNoSuchRule
)
