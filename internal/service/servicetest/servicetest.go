// Package servicetest is the one harness of wsim's service-level tests: the
// composed service over an in-memory store, a real clock the test moves by
// hand, and calls through the dispatch table, so that every operation a test
// makes is validated exactly as a client's would be.
package servicetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/store"
)

// Start is where the hand-moved real clock of every harness starts.
var Start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// HandClock is a real clock a test moves by hand.
type HandClock struct {
	mu sync.Mutex
	t  time.Time
}

// Now is the hand clock's time.
func (c *HandClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the hand clock forward.
func (c *HandClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Harness is a composed service under test.
type Harness struct {
	T    testing.TB
	Svc  *service.Service
	Real *HandClock
}

// New returns a service on a memory store, with the quick profile (so every
// operation is PENDING for some seconds) unless mutate says otherwise, and a
// real clock at Start that only the test moves.
func New(t testing.TB, mutate ...func(*service.Config)) *Harness {
	t.Helper()
	st, err := store.Open(context.Background(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	prof, err := pipeline.LookupProfile(pipeline.ProfileQuick)
	if err != nil {
		t.Fatal(err)
	}
	real := &HandClock{t: Start}
	cfg := service.Config{Profile: prof, Now: real.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	return &Harness{T: t, Svc: service.New(cfg, st), Real: real}
}

// As is a context whose caller is account in region.
func As(account, region string) context.Context {
	return auth.WithCaller(context.Background(), auth.Caller{Account: account, Region: region})
}

// Call runs op through svc's dispatch table, validation included.
func Call[In api.Input, Out any](svc *service.Service, op api.Op[In, Out], ctx context.Context, in In) (Out, error) {
	var zero Out
	out, err := svc.Registry().Dispatch(ctx, op.Operation, in)
	if err != nil {
		return zero, err
	}
	return out.(Out), nil
}

// Freeze stops the service clock.
func (h *Harness) Freeze() {
	h.T.Helper()
	if _, err := h.Svc.Clock().Freeze(context.Background()); err != nil {
		h.T.Fatal(err)
	}
}

// Advance moves the service clock forward by d, frozen or not.
func (h *Harness) Advance(d time.Duration) {
	h.T.Helper()
	if _, err := h.Svc.Clock().Advance(context.Background(), d); err != nil {
		h.T.Fatal(err)
	}
}

// Now is the service time.
func (h *Harness) Now() time.Time {
	h.T.Helper()
	now, err := h.Svc.Clock().Now(context.Background())
	if err != nil {
		h.T.Fatal(err)
	}
	return now
}

// WantCode fails the test unless err is the AWS error code and its message
// contains every fragment.
func WantCode(t testing.TB, err error, code string, fragments ...string) {
	t.Helper()
	var apiErr api.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("got %s (%v), want %s", apiErr.ErrorCode(), err, code)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%v does not contain %q", err, f)
		}
	}
}
