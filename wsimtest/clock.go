package wsimtest

import (
	"context"
	"time"

	"github.com/wsim/wsim/internal/clock"
)

// ErrClockBackwards is returned by Set and Advance for a change that would
// move the service clock back: progress and timestamps never decrease.
var ErrClockBackwards = clock.ErrBackwards

// ErrClockOutOfRange is returned by Set and Advance for a change that would
// take the service clock outside [ClockMin, ClockMax].
var ErrClockOutOfRange = clock.ErrOutOfRange

// ClockMin and ClockMax bound the service time (docs/control-api.md).
var (
	ClockMin = clock.MinTime
	ClockMax = clock.MaxTime
)

// Clock is a server's service clock: the time every state, progress and
// timestamp of the API is computed from. It runs with the real clock, plus an
// offset, until frozen; it can be advanced whether frozen or not, and it
// never moves back, not even by Reset. Its state is kept in the store, so
// servers sharing a PostgreSQL store share one clock.
type Clock struct {
	c *clock.Clock
}

// ClockState is the service clock at one moment.
type ClockState struct {
	// Now is the service time.
	Now time.Time
	// Frozen says whether the clock stands still.
	Frozen bool
	// Offset is how far the service time is ahead of real time (negative:
	// behind), frozen or not: a frozen clock's falls as real time passes.
	Offset time.Duration
}

// Now returns the service time, in UTC.
func (c *Clock) Now() (time.Time, error) { return c.c.Now(context.Background()) }

// State returns the service clock's state.
func (c *Clock) State() (ClockState, error) {
	st, err := c.c.State(context.Background())
	if err != nil {
		return ClockState{}, err
	}
	r := c.c.Read(st)
	return ClockState{Now: r.Now, Frozen: r.Frozen, Offset: r.Offset}, nil
}

// Freeze stops the service clock at its current time.
func (c *Clock) Freeze() error { return discard(c.c.Freeze(context.Background())) }

// Resume lets a frozen clock run again from where it stands.
func (c *Clock) Resume() error { return discard(c.c.Resume(context.Background())) }

// Advance moves the service clock forward by d (a negative d is refused with
// ErrClockBackwards).
func (c *Clock) Advance(d time.Duration) error {
	return discard(c.c.Advance(context.Background(), d))
}

// Set moves the service clock forward to t; a t before the service time is
// refused with ErrClockBackwards. A frozen clock stays frozen at t.
func (c *Clock) Set(t time.Time) error { return discard(c.c.Set(context.Background(), t)) }

// Reset returns the service clock to real time, running, unless it is ahead
// of real time: then it keeps running from where it stands, since it never
// moves back.
func (c *Clock) Reset() error { return discard(c.c.Reset(context.Background())) }

func discard(_ clock.State, err error) error { return err }
