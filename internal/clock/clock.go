// Package clock is the service clock: the time every time-derived value in
// wsim (states, progress, timestamps) is computed from. It follows the real
// clock plus an offset, or stands frozen, and can be advanced; its state lives
// in the store so that every replica reads the same time.
//
// The one rule everything else follows from: the service time never
// decreases. Changes that would move it back are refused (ErrBackwards);
// Reset returns to real time only when real time is not earlier than the
// service time, and otherwise keeps the clock running from where it stands;
// every change raises a persisted floor (State.Floor) that the service time
// never reads below, whatever the system clock does; and the service time
// stays within [MinTime, MaxTime] (ErrOutOfRange), so that no arithmetic on
// it can overflow. docs/control-api.md states the rules for users.
package clock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The range of service times. MinTime is the Unix epoch: AWS timestamps are
// seconds since it. MaxTime leaves room for the longest plan a profile can
// make (12 stages of at most a year each) before the last instant that Go's
// int64 nanoseconds since the epoch (time.Duration, Time.UnixNano) can carry,
// 2262-04-11T23:47:16Z, so that every time wsim derives from the clock —
// stage boundaries, durations between any two of them, ids made from the
// time — is exact. Both ends are well inside what every SDK's timestamp
// type holds (Python's datetime stops at 9999).
var (
	MinTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ErrBackwards refuses a change that would move the service clock back:
// progress and timestamps must never decrease.
var ErrBackwards = errors.New("the service clock cannot move backwards: progress and timestamps never decrease")

// ErrOutOfRange refuses a change that would take the service clock outside
// [MinTime, MaxTime].
var ErrOutOfRange = fmt.Errorf("the service clock must stay between %s and %s",
	MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))

// State is the persistent part of the clock.
type State struct {
	Frozen   bool      `json:"frozen"`
	FrozenAt time.Time `json:"frozenAt,omitzero"`
	// Offset is what a running clock adds to real time.
	Offset time.Duration `json:"offset"`
	// Floor is the latest service time the clock was changed to (frozen,
	// resumed, advanced, set, reset or checkpointed at). The service time
	// never reads earlier, so a system clock stepped back, or a restart
	// after one, cannot make it decrease.
	Floor time.Time `json:"floor,omitzero"`
}

// Now is the service time in this state, given the real time: the frozen
// time or real time plus the offset, never below Floor, within [MinTime,
// MaxTime].
func (s State) Now(real time.Time) time.Time {
	t := real.Add(s.Offset)
	if s.Frozen {
		t = s.FrozenAt
	}
	if t.Before(s.Floor) {
		t = s.Floor
	}
	return clamp(t)
}

// AtRealTime reports whether the clock runs at real time, with no offset.
func (s State) AtRealTime() bool { return !s.Frozen && s.Offset == 0 }

// at returns s moved to the service time t at real time real: frozen at t,
// or running with the offset that reads t now. t is within range.
func (s State) at(t, real time.Time) State {
	if s.Frozen {
		return State{Frozen: true, FrozenAt: t, Floor: t}
	}
	return State{Offset: t.Sub(real), Floor: t}
}

func clamp(t time.Time) time.Time {
	switch {
	case t.Before(MinTime):
		return MinTime
	case t.After(MaxTime):
		return MaxTime
	}
	return t
}

// Source persists the clock state. Change applies fn atomically to the
// stored state (read-modify-write) and returns the state it stored.
type Source interface {
	Load(ctx context.Context) (State, error)
	Change(ctx context.Context, fn func(State) (State, error)) (State, error)
}

// Clock reads the service time. With a cache TTL above zero, a state loaded
// from the source is reused that long; only a single process that owns its
// store may cache, since another replica's change would go unseen.
type Clock struct {
	src  Source
	real func() time.Time
	ttl  time.Duration

	mu       sync.Mutex
	cached   State
	cachedAt time.Time
	valid    bool
}

// New returns a clock over src. real is the real clock; when nil it is
// Monotonic().
func New(src Source, real func() time.Time, ttl time.Duration) *Clock {
	if real == nil {
		real = Monotonic()
	}
	return &Clock{src: src, real: real, ttl: ttl}
}

// Monotonic returns a real clock immune to steps of the system clock: the
// system time when Monotonic was called, plus the time elapsed since by Go's
// monotonic clock. A step of the system clock while wsim runs (NTP, an
// administrator) therefore cannot move the service clock; wsim takes up the
// system time again when it next starts.
func Monotonic() func() time.Time {
	base := time.Now()
	wall := base.Round(0) // no monotonic reading: compares by wall time
	return func() time.Time { return wall.Add(time.Since(base)) }
}

// Now returns the service time.
func (c *Clock) Now(ctx context.Context) (time.Time, error) {
	s, err := c.State(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return s.Now(c.real()).UTC(), nil
}

// TimeIn is the service time in state s now, by this clock's real time.
func (c *Clock) TimeIn(s State) time.Time { return s.Now(c.real()).UTC() }

// Reading is the clock at one instant, as the control plane and the logs
// show it.
type Reading struct {
	// Now is the service time, in UTC.
	Now time.Time
	// Frozen says whether the clock stands still; FrozenAt is where (zero
	// when running).
	Frozen   bool
	FrozenAt time.Time
	// Offset is how far the service time is ahead of real time (negative:
	// behind), frozen or not: a frozen clock's falls as real time passes.
	Offset time.Duration
	// Floor is the service time the clock never reads below.
	Floor time.Time
}

// Read is state s at this instant.
func (c *Clock) Read(s State) Reading {
	real := c.real()
	now := s.Now(real).UTC()
	r := Reading{Now: now, Frozen: s.Frozen, Offset: now.Sub(real), Floor: s.Floor.UTC()}
	if s.Frozen {
		r.FrozenAt = now
	}
	return r
}

// String says the reading in a few words, for logs and the start-up line.
func (r Reading) String() string {
	switch {
	case r.Frozen:
		return "frozen at " + r.FrozenAt.Format(time.RFC3339Nano)
	case r.Offset == 0:
		return "running at real time"
	case r.Offset > 0:
		return "running " + r.Offset.String() + " ahead of real time"
	}
	return "running " + (-r.Offset).String() + " behind real time"
}

// State returns the clock's state.
func (c *Clock) State(ctx context.Context) (State, error) {
	real := c.real()
	if c.ttl > 0 {
		c.mu.Lock()
		if c.valid && real.Sub(c.cachedAt) < c.ttl {
			s := c.cached
			c.mu.Unlock()
			return s, nil
		}
		c.mu.Unlock()
	}
	s, err := c.src.Load(ctx)
	if err != nil {
		return State{}, err
	}
	c.remember(s, real)
	return s, nil
}

func (c *Clock) remember(s State, at time.Time) {
	c.mu.Lock()
	c.cached, c.cachedAt, c.valid = s, at, true
	c.mu.Unlock()
}

// Forget drops the cached state, so that the next read loads it from the
// source: for a source changed other than through this Clock, such as a
// store emptied by a reset.
func (c *Clock) Forget() {
	c.mu.Lock()
	c.valid = false
	c.mu.Unlock()
}

// change applies fn to the stored state. fn gets the service time now of
// the stored state and the real time it was computed at.
func (c *Clock) change(ctx context.Context, fn func(s State, now, real time.Time) (State, error)) (State, error) {
	real := c.real()
	s, err := c.src.Change(ctx, func(s State) (State, error) { return fn(s, s.Now(real), real) })
	if err != nil {
		return State{}, err
	}
	c.remember(s, real)
	return s, nil
}

// Freeze stops the service clock at its current time.
func (c *Clock) Freeze(ctx context.Context) (State, error) {
	return c.change(ctx, func(_ State, now, _ time.Time) (State, error) {
		return State{Frozen: true, FrozenAt: now, Floor: now}, nil
	})
}

// Resume lets a frozen clock run again from where it stood; a running clock
// runs on from where it stands.
func (c *Clock) Resume(ctx context.Context) (State, error) {
	return c.change(ctx, func(_ State, now, real time.Time) (State, error) {
		return State{Offset: now.Sub(real), Floor: now}, nil
	})
}

// Advance moves the service clock forward by d, frozen or not. A negative d
// is ErrBackwards; one that would pass MaxTime is ErrOutOfRange.
func (c *Clock) Advance(ctx context.Context, d time.Duration) (State, error) {
	if d < 0 {
		return State{}, fmt.Errorf("%w: advance by %s", ErrBackwards, d)
	}
	return c.change(ctx, func(s State, now, real time.Time) (State, error) {
		if d > MaxTime.Sub(now) {
			return State{}, fmt.Errorf("%w: advancing %s by %s would pass %s", ErrOutOfRange,
				now.Format(time.RFC3339Nano), d, MaxTime.Format(time.RFC3339))
		}
		return s.at(now.Add(d), real), nil
	})
}

// Set moves the service clock forward to t, frozen or not. A t outside
// [MinTime, MaxTime] is ErrOutOfRange; one before the service time is
// ErrBackwards.
func (c *Clock) Set(ctx context.Context, t time.Time) (State, error) {
	if t.Before(MinTime) || t.After(MaxTime) {
		return State{}, fmt.Errorf("%w: cannot set it to %s", ErrOutOfRange, t.Format(time.RFC3339Nano))
	}
	return c.change(ctx, func(s State, now, real time.Time) (State, error) {
		if t.Before(now) {
			return State{}, fmt.Errorf("%w: cannot set it to %s, the service time is already %s", ErrBackwards,
				t.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
		}
		return s.at(t, real), nil
	})
}

// Reset returns the service clock to real time, running, when real time is
// not earlier than the service time. Otherwise the clock is ahead, and going
// to real time would move it back: it keeps running from the service time
// instead, with the smallest offset that does not go back (the state's
// AtRealTime then reports false).
func (c *Clock) Reset(ctx context.Context) (State, error) {
	return c.change(ctx, func(_ State, now, real time.Time) (State, error) {
		if r := clamp(real); !r.Before(now) {
			return State{Floor: r}, nil
		}
		return State{Offset: now.Sub(real), Floor: now}, nil
	})
}

// Checkpoint raises the floor to the current service time, so that a
// restart after the system clock was stepped back cannot show an earlier
// time than this one. It writes only when the floor moves.
func (c *Clock) Checkpoint(ctx context.Context) error {
	s, err := c.State(ctx)
	if err != nil {
		return err
	}
	if !s.Floor.Before(c.TimeIn(s)) {
		return nil
	}
	_, err = c.change(ctx, func(s State, now, _ time.Time) (State, error) {
		if s.Floor.Before(now) {
			s.Floor = now
		}
		return s, nil
	})
	return err
}
