// Package clock is the service clock: the time every time-derived value in
// wsim (states, progress, timestamps) is computed from. It follows the real
// clock plus an offset, or stands frozen, and can be advanced; its state lives
// in the store so that every replica reads the same time.
package clock

import (
	"context"
	"errors"
	"sync"
	"time"
)

// State is the persistent part of the clock.
type State struct {
	Frozen   bool          `json:"frozen"`
	FrozenAt time.Time     `json:"frozenAt,omitzero"`
	Offset   time.Duration `json:"offset"`
}

// Now is the service time in this state, given the real time.
func (s State) Now(real time.Time) time.Time {
	if s.Frozen {
		return s.FrozenAt
	}
	return real.Add(s.Offset)
}

// Source persists the clock state. Change applies fn atomically to the
// stored state (read-modify-write) and returns the state it stored.
type Source interface {
	Load(ctx context.Context) (State, error)
	Change(ctx context.Context, fn func(State) (State, error)) (State, error)
}

// ErrBackwards refuses a change that would move the service clock back:
// progress and timestamps must never decrease.
var ErrBackwards = errors.New("the service clock cannot move backwards; use reset to return to real time")

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

// New returns a clock over src. real is the real clock (time.Now when nil).
func New(src Source, real func() time.Time, ttl time.Duration) *Clock {
	if real == nil {
		real = time.Now
	}
	return &Clock{src: src, real: real, ttl: ttl}
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

func (c *Clock) change(ctx context.Context, fn func(s State, real time.Time) (State, error)) (State, error) {
	real := c.real()
	s, err := c.src.Change(ctx, func(s State) (State, error) { return fn(s, real) })
	if err != nil {
		return State{}, err
	}
	c.remember(s, real)
	return s, nil
}

// Freeze stops the service clock at its current time.
func (c *Clock) Freeze(ctx context.Context) (State, error) {
	return c.change(ctx, func(s State, real time.Time) (State, error) {
		return State{Frozen: true, FrozenAt: s.Now(real)}, nil
	})
}

// Resume lets a frozen clock run again from where it stood.
func (c *Clock) Resume(ctx context.Context) (State, error) {
	return c.change(ctx, func(s State, real time.Time) (State, error) {
		return State{Offset: s.Now(real).Sub(real)}, nil
	})
}

// Advance moves the service clock forward by d, frozen or not.
func (c *Clock) Advance(ctx context.Context, d time.Duration) (State, error) {
	if d < 0 {
		return State{}, ErrBackwards
	}
	return c.change(ctx, func(s State, _ time.Time) (State, error) {
		if s.Frozen {
			s.FrozenAt = s.FrozenAt.Add(d)
		} else {
			s.Offset += d
		}
		return s, nil
	})
}

// Set moves the service clock forward to t, frozen or not.
func (c *Clock) Set(ctx context.Context, t time.Time) (State, error) {
	return c.change(ctx, func(s State, real time.Time) (State, error) {
		if t.Before(s.Now(real)) {
			return State{}, ErrBackwards
		}
		if s.Frozen {
			s.FrozenAt = t
		} else {
			s.Offset = t.Sub(real)
		}
		return s, nil
	})
}

// Reset returns the service clock to real time, running.
func (c *Clock) Reset(ctx context.Context) (State, error) {
	return c.change(ctx, func(State, time.Time) (State, error) { return State{}, nil })
}
