// Package service is the WorkSpaces API's behaviour: typed inputs in, typed
// outputs or AWS errors out, with every resource kept in a store.Store and
// every time-derived value computed from the service clock. No HTTP here.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// Defaults for Config fields left zero.
const (
	DefaultImageQuota = 40
	// DefaultBundleQuota is the AWS default of custom bundles per account
	// and Region (not adjustable there; configurable here).
	DefaultBundleQuota = 50
	// MaxTags is the number of tags a resource may carry.
	MaxTags = 50
)

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
	// ClockCacheTTL lets a process that owns its store cache the clock state.
	// It must be zero when replicas share the store.
	ClockCacheTTL time.Duration
	Logger        *slog.Logger
	// Now is the real clock (time.Now when nil); the service clock runs on it.
	Now func() time.Time
}

// Service implements api.Handler.
type Service struct {
	api.UnimplementedHandler
	cfg   Config
	store store.Store
	clock *clock.Clock
	// decoded spares the describe paths from decoding unchanged records.
	decoded *decodeCache
}

var _ api.Handler = (*Service)(nil)

// New returns a service over st.
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, store: st, decoded: newDecodeCache(100_000)}
	s.clock = clock.New(clockSource{st}, cfg.Now, cfg.ClockCacheTTL)
	return s
}

// Clock is the service clock.
func (s *Service) Clock() *clock.Clock { return s.clock }

// Store is the service's store.
func (s *Service) Store() store.Store { return s.store }

// Profile is the timing profile new operations get.
func (s *Service) Profile() pipeline.Profile { return s.cfg.Profile }

// request is what every operation starts from: who calls, and when.
type request struct {
	account, region string
	now             time.Time
}

func (s *Service) begin(ctx context.Context) (request, error) {
	c, ok := auth.FromContext(ctx)
	if !ok {
		return request{}, errors.New("service: no caller in context")
	}
	now, err := s.clock.Now(ctx)
	if err != nil {
		return request{}, storeError(err)
	}
	return request{account: c.Account, region: c.Region, now: now}, nil
}

// storeError maps store failures to what the client sees: an unavailable store
// is a retryable 503; anything else stays an internal error, logged by the
// server with its cause.
func storeError(err error) error {
	var apiErr api.APIError
	if errors.As(err, &apiErr) {
		return err
	}
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return &api.Error{Code: "ServiceUnavailableException", Status: 503,
			Message: "The service is temporarily unable to reach its store. Retry the request."}
	}
	return fmt.Errorf("store: %w", err)
}

func invalidParameter(format string, args ...any) error {
	return &api.InvalidParameterValuesException{Message: fmt.Sprintf(format, args...)}
}

func notFound(id, format string, args ...any) error {
	return &api.ResourceNotFoundException{Message: fmt.Sprintf(format, args...), ResourceId: api.String(id)}
}
