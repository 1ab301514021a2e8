// Package app is wsim's composition root: from Options, the settings `wsim
// serve` is started with, it opens the store and builds the service, its
// control plane under /_wsim/ and the HTTP edge in front of them, as one
// http.Handler. The command line (package cli) and the in-process test server
// (package wsimtest) both start wsim through it, so that they serve the same
// thing.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// Defaults of Options.DefaultAccount and Options.DefaultRegion.
const (
	DefaultAccount = "123456789012"
	DefaultRegion  = "us-east-1"
)

// BYOLMode says how accounts start out with respect to BYOL.
type BYOLMode string

const (
	// BYOLFriendly accounts start enabled for BYOL, so imports work at once.
	BYOLFriendly BYOLMode = "friendly"
	// BYOLStrict accounts refuse BYOL imports until ModifyAccount has
	// enabled them.
	BYOLStrict BYOLMode = "strict"
)

// DirectoryMode says how wsim stands in for AWS Directory Service.
type DirectoryMode string

const (
	// DirectoriesFriendly takes any well-formed d- id as an existing
	// directory and accepts every user name.
	DirectoriesFriendly DirectoryMode = "friendly"
	// DirectoriesStrict knows only the directories and users declared
	// through the control API.
	DirectoriesStrict DirectoryMode = "strict"
)

// Options is everything a wsim endpoint is configured with. Zero fields take
// the defaults `wsim serve` documents, except Profile, whose zero value makes
// every stage instant, and Store, where "" means "sqlite".
type Options struct {
	// Store selects the store: "memory", "sqlite" (file wsim.db in DataDir),
	// "sqlite:/path/file.db", or "postgres://..." shared by replicas.
	Store string
	// DataDir is the directory of the "sqlite" store.
	DataDir string
	// StoreTimeout bounds every call to a SQLite or PostgreSQL store
	// (store.DefaultTimeout when 0): a store that has not answered by then
	// gets the client a 503.
	StoreTimeout time.Duration
	// Profile gives the stage durations of new long-running operations.
	Profile pipeline.Profile
	// ImageQuota is the number of images an account may hold per Region
	// (DefaultImageQuota when 0).
	ImageQuota int
	// BundleQuota is the number of custom bundles an account may hold per
	// Region (DefaultBundleQuota when 0).
	BundleQuota int
	// BYOL is how accounts start (BYOLFriendly when "").
	BYOL BYOLMode
	// Directories is how wsim stands in for Directory Service
	// (DirectoriesFriendly when "").
	Directories DirectoryMode
	// WorkspaceQuota is the number of WorkSpaces an account may hold per
	// Region (DefaultWorkspaceQuota when 0).
	WorkspaceQuota int
	// DefaultAccount and DefaultRegion are the caller of unsigned requests;
	// DefaultAccount is also the account of access keys that are not 12-digit
	// account ids.
	DefaultAccount string
	DefaultRegion  string
	// Logger receives the request log and the service's own messages
	// (discarded when nil).
	Logger *slog.Logger
	// Now is the real clock the service clock runs on (clock.Monotonic()
	// when nil: the system time, immune to steps of the system clock).
	Now func() time.Time
	// Registry receives the request metrics served at /metrics; when nil a
	// registry of its own holds them.
	Registry *prometheus.Registry
	// Version is wsim's version, for the health check and the start-up log.
	Version string
	// ListenAddr is the address wsim listens on: its host is a Host name it
	// answers under (see docs/security.md); "" stands for every interface.
	ListenAddr string
	// AllowedHosts are further Host names it answers under.
	AllowedHosts []string
	// ControlToken, when set, is required by everything under /_wsim/ and
	// /moto-api/.
	ControlToken string
	// Credentials, when set, makes wsim verify every request's SigV4
	// signature against its keys and apply its principals' policies (--auth
	// sigv4); when nil the caller is derived from the request, unchecked.
	Credentials *auth.Keyring
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.ImageQuota <= 0 {
		o.ImageQuota = DefaultImageQuota
	}
	if o.BundleQuota <= 0 {
		o.BundleQuota = DefaultBundleQuota
	}
	if o.BYOL == "" {
		o.BYOL = BYOLFriendly
	}
	if o.Directories == "" {
		o.Directories = DirectoriesFriendly
	}
	if o.WorkspaceQuota <= 0 {
		o.WorkspaceQuota = DefaultWorkspaceQuota
	}
	if o.DefaultAccount == "" {
		o.DefaultAccount = DefaultAccount
	}
	if o.DefaultRegion == "" {
		o.DefaultRegion = DefaultRegion
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = clock.Monotonic()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	return o
}

// services is what App uses of the service once composed (see compose.go).
type services interface {
	Clock() *clock.Clock
	FaultRules(ctx context.Context) ([]pipeline.FaultRule, error)
	ProbeWrite(ctx context.Context, timeout time.Duration) error
	AddFaultRule(ctx context.Context, r pipeline.FaultRule) (pipeline.FaultRule, error)
	DeleteFaultRule(ctx context.Context, id string) error
}

// App is a composed wsim endpoint over an open store.
type App struct {
	opts    Options
	store   store.Store
	handler http.Handler
	svc     services
}

// New opens the store of o and builds the endpoint over it. Close the App to
// close the store.
func New(ctx context.Context, o Options) (*App, error) {
	o = o.withDefaults()
	st, err := store.OpenWith(ctx, o.Store, o.DataDir, store.Options{Timeout: o.StoreTimeout})
	if err != nil {
		return nil, err
	}
	handler, svc := compose(o, st, clockCacheTTL(o.Store))
	// A store that opens but cannot be written (a read-only file or
	// directory, a PostgreSQL role without write rights) would answer every
	// write with an error: refuse it now, with the reason, rather than
	// start and fail later.
	timeout := o.StoreTimeout
	if timeout <= 0 {
		timeout = store.DefaultTimeout
	}
	if err := svc.ProbeWrite(ctx, timeout); err != nil {
		st.Close()
		return nil, fmt.Errorf("the store does not take writes (%s): %w", store.Describe(o.Store, o.DataDir), err)
	}
	return &App{opts: o, store: st, handler: handler, svc: svc}, nil
}

// clockCacheTTL is how long the service clock may cache its state: an hour
// when this process owns its store, so that nobody else moves the clock, and
// not at all when replicas share a PostgreSQL store.
func clockCacheTTL(storeSpec string) time.Duration {
	if strings.HasPrefix(storeSpec, "postgres") {
		return 0
	}
	return time.Hour
}

// Handler serves the API at /, the control plane under /_wsim/ and the
// metrics at /metrics.
func (a *App) Handler() http.Handler { return a.handler }

// Clock is the service clock.
func (a *App) Clock() *clock.Clock { return a.svc.Clock() }

// FaultRules returns the server-side fault rules, in the order they match.
func (a *App) FaultRules(ctx context.Context) ([]pipeline.FaultRule, error) {
	return a.svc.FaultRules(ctx)
}

// AddFaultRule validates r, gives it an id and appends it to the rules. A
// refused rule's error wraps ErrInvalidFaultRule.
func (a *App) AddFaultRule(ctx context.Context, r pipeline.FaultRule) (pipeline.FaultRule, error) {
	return a.svc.AddFaultRule(ctx, r)
}

// DeleteFaultRule removes the rule with the id (ErrNoSuchFaultRule when
// there is none); an empty id removes them all.
func (a *App) DeleteFaultRule(ctx context.Context, id string) error {
	return a.svc.DeleteFaultRule(ctx, id)
}

// Description names what an App serves, for the start-up line.
type Description struct {
	// Store says in words which store it uses, without passwords.
	Store string
	// Profile is the name of the timing profile; StageOverrides the stage
	// durations --stage-duration changed.
	Profile        string
	StageOverrides map[string]time.Duration
	// BYOL is how accounts start.
	BYOL BYOLMode
	// Directories is how it stands in for Directory Service.
	Directories DirectoryMode
	// Version is wsim's version (Options.Version).
	Version string
	// Auth is how callers are identified: AuthFriendly or AuthSigV4.
	Auth string
}

// FriendlyAuthNote is what the start-up line says of --auth friendly.
const FriendlyAuthNote = "request signatures are not verified (--auth friendly): the caller is derived from the access key " +
	"(a 12-digit key is the account), anyone who reaches the port acts as any account, and no policy applies; " +
	"use --auth sigv4 --credentials FILE to check them (docs/security.md)"

// The --auth modes.
const (
	// AuthFriendly derives the caller from the access key, unchecked.
	AuthFriendly = "friendly"
	// AuthSigV4 verifies every signature against a credentials file.
	AuthSigV4 = "sigv4"
)

// Describe says what a serves.
func (a *App) Describe() Description {
	mode := AuthFriendly
	if a.opts.Credentials != nil {
		mode = AuthSigV4
	}
	return Description{
		Store: store.Describe(a.opts.Store, a.opts.DataDir), Profile: a.opts.Profile.Name,
		StageOverrides: a.opts.Profile.Overrides(), BYOL: a.opts.BYOL, Directories: a.opts.Directories, Version: a.opts.Version,
		Auth: mode,
	}
}

// ClockReading is the service clock now.
func (a *App) ClockReading(ctx context.Context) (clock.Reading, error) {
	s, err := a.svc.Clock().State(ctx)
	if err != nil {
		return clock.Reading{}, err
	}
	return a.svc.Clock().Read(s), nil
}

// LogStartup logs that a listens at addr, with what it serves and the state
// of its clock, and warns when the clock is frozen: a clock left frozen by an
// earlier run (it is kept in the store) holds every new operation at its
// first stage, which nothing else would explain.
func (a *App) LogStartup(ctx context.Context, addr string) {
	d := a.Describe()
	overrides := make([]string, 0, len(d.StageOverrides))
	for _, stage := range slices.Sorted(maps.Keys(d.StageOverrides)) {
		overrides = append(overrides, stage+"="+d.StageOverrides[stage].String())
	}
	attrs := []any{"addr", addr, "store", d.Store, "profile", d.Profile,
		"stage_overrides", strings.Join(overrides, ","), "byol", string(d.BYOL),
		"directories", string(d.Directories), "auth", d.Auth, "version", d.Version}
	if d.Auth == AuthFriendly {
		// Said on the listening line itself, which every log reader sees.
		attrs = append(attrs, "auth_note", FriendlyAuthNote)
	}
	r, err := a.ClockReading(ctx)
	if err != nil {
		a.opts.Logger.Info("listening", append(attrs, "clock", "unknown: "+err.Error())...)
		return
	}
	attrs = append(attrs, "clock", r.String(), "clock_now", r.Now, "clock_offset", r.Offset.String())
	if r.Frozen {
		attrs = append(attrs, "clock_frozen_at", r.FrozenAt)
	}
	a.opts.Logger.Info("listening", attrs...)
	if r.Frozen {
		a.opts.Logger.Warn("the service clock is frozen (it is kept in the store, and an earlier run or another replica froze it): "+
			"every new import and other operation stays at its first stage until the clock is resumed or advanced, "+
			`e.g. POST /_wsim/clock {"action":"resume"}`, "frozen_at", r.FrozenAt)
	}
}

// Close checkpoints the service clock (so that a restart on a system clock
// stepped back meanwhile never shows an earlier time) and closes the store.
// Stop serving Handler first.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.svc.Clock().Checkpoint(ctx); err != nil {
		a.opts.Logger.Warn("could not save the service clock's floor", "err", err)
	}
	return a.store.Close()
}
