package clock

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// fakeSource keeps the state in memory and counts loads, so tests can see
// when the Clock goes to its source and when it answers from its cache.
type fakeSource struct {
	s       State
	loads   int
	changes int
	loadErr error
}

func (f *fakeSource) Load(context.Context) (State, error) {
	f.loads++
	if f.loadErr != nil {
		return State{}, f.loadErr
	}
	return f.s, nil
}

func (f *fakeSource) Change(_ context.Context, fn func(State) (State, error)) (State, error) {
	f.changes++
	s, err := fn(f.s)
	if err != nil {
		return State{}, err
	}
	f.s = s
	return s, nil
}

// fakeReal is the injected real clock; tests move it by hand.
type fakeReal struct{ t time.Time }

func (r *fakeReal) now() time.Time { return r.t }

var (
	// real0 is the real time the tests start at, in a zone other than UTC
	// so that Now's conversion shows.
	real0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("UTC+2", 2*3600))
	// frozen0 is an earlier service time a frozen clock stands at.
	frozen0 = time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC)
)

func TestStateNow(t *testing.T) {
	tests := []struct {
		name string
		s    State
		want time.Time
	}{
		{"zero state is real time", State{}, real0},
		{"running with an offset", State{Offset: time.Hour}, real0.Add(time.Hour)},
		{"frozen ignores real time", State{Frozen: true, FrozenAt: frozen0}, frozen0},
		{"frozen ignores a stale offset", State{Frozen: true, FrozenAt: frozen0, Offset: time.Hour}, frozen0},
		{"running never reads below the floor", State{Offset: -time.Hour, Floor: real0.Add(-time.Minute)}, real0.Add(-time.Minute)},
		{"running above the floor ignores it", State{Floor: frozen0}, real0},
		{"frozen never reads below the floor", State{Frozen: true, FrozenAt: frozen0, Floor: real0}, real0},
		{"an offset past MaxTime reads MaxTime", State{Offset: math.MaxInt64}, MaxTime},
		{"an offset before the epoch reads MinTime", State{Offset: math.MinInt64}, MinTime},
		{"frozen past MaxTime reads MaxTime", State{Frozen: true, FrozenAt: MaxTime.Add(time.Hour)}, MaxTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Now(real0); !got.Equal(tt.want) {
				t.Fatalf("Now = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestChanges runs each change on a given stored state and checks the state
// it stores and returns, and the service time that follows.
func TestChanges(t *testing.T) {
	running := State{Offset: 90 * time.Minute} // an hour and a half ahead
	behind := State{Offset: -time.Hour}        // resumed after an hour frozen
	frozen := State{Frozen: true, FrozenAt: frozen0}
	ahead := real0.Add(90 * time.Minute)
	advance := func(d time.Duration) func(c *Clock, ctx context.Context) (State, error) {
		return func(c *Clock, ctx context.Context) (State, error) { return c.Advance(ctx, d) }
	}
	set := func(to time.Time) func(c *Clock, ctx context.Context) (State, error) {
		return func(c *Clock, ctx context.Context) (State, error) { return c.Set(ctx, to) }
	}
	tests := []struct {
		name    string
		start   State
		change  func(c *Clock, ctx context.Context) (State, error)
		want    State // stored and returned; on error, what stays stored
		wantNow time.Time
		wantErr error
	}{
		{
			name:    "freeze a running clock at its time",
			start:   running,
			change:  (*Clock).Freeze,
			want:    State{Frozen: true, FrozenAt: ahead, Floor: ahead},
			wantNow: ahead,
		},
		{
			name:    "freeze a frozen clock keeps its time",
			start:   frozen,
			change:  (*Clock).Freeze,
			want:    State{Frozen: true, FrozenAt: frozen0, Floor: frozen0},
			wantNow: frozen0,
		},
		{
			name:    "resume runs on from where the clock stood",
			start:   frozen,
			change:  (*Clock).Resume,
			want:    State{Offset: frozen0.Sub(real0), Floor: frozen0},
			wantNow: frozen0,
		},
		{
			name:    "resume a running clock keeps its time",
			start:   running,
			change:  (*Clock).Resume,
			want:    State{Offset: 90 * time.Minute, Floor: ahead},
			wantNow: ahead,
		},
		{
			name:    "advance a frozen clock",
			start:   frozen,
			change:  advance(time.Hour),
			want:    State{Frozen: true, FrozenAt: frozen0.Add(time.Hour), Floor: frozen0.Add(time.Hour)},
			wantNow: frozen0.Add(time.Hour),
		},
		{
			name:    "advance a running clock",
			start:   running,
			change:  advance(time.Hour),
			want:    State{Offset: 150 * time.Minute, Floor: real0.Add(150 * time.Minute)},
			wantNow: real0.Add(150 * time.Minute),
		},
		{
			name:    "advance by zero",
			start:   running,
			change:  advance(0),
			want:    State{Offset: 90 * time.Minute, Floor: ahead},
			wantNow: ahead,
		},
		{
			name:    "advance backwards is refused",
			start:   running,
			change:  advance(-time.Second),
			want:    running,
			wantNow: ahead,
			wantErr: ErrBackwards,
		},
		{
			name:    "advance to exactly MaxTime",
			start:   frozen,
			change:  advance(MaxTime.Sub(frozen0)),
			want:    State{Frozen: true, FrozenAt: MaxTime, Floor: MaxTime},
			wantNow: MaxTime,
		},
		{
			name:    "advance a nanosecond past MaxTime is refused",
			start:   frozen,
			change:  advance(MaxTime.Sub(frozen0) + 1),
			want:    frozen,
			wantNow: frozen0,
			wantErr: ErrOutOfRange,
		},
		{
			name:    "advance a running clock by the largest duration is refused, not wrapped",
			start:   running,
			change:  advance(math.MaxInt64),
			want:    running,
			wantNow: ahead,
			wantErr: ErrOutOfRange,
		},
		{
			name:    "advance a clock at MaxTime by anything is refused",
			start:   State{Frozen: true, FrozenAt: MaxTime, Floor: MaxTime},
			change:  advance(time.Nanosecond),
			want:    State{Frozen: true, FrozenAt: MaxTime, Floor: MaxTime},
			wantNow: MaxTime,
			wantErr: ErrOutOfRange,
		},
		{
			name:    "advance a clock at MaxTime by zero",
			start:   State{Frozen: true, FrozenAt: MaxTime, Floor: MaxTime},
			change:  advance(0),
			want:    State{Frozen: true, FrozenAt: MaxTime, Floor: MaxTime},
			wantNow: MaxTime,
		},
		{
			name:    "set a frozen clock forward",
			start:   frozen,
			change:  set(frozen0.Add(48 * time.Hour)),
			want:    State{Frozen: true, FrozenAt: frozen0.Add(48 * time.Hour), Floor: frozen0.Add(48 * time.Hour)},
			wantNow: frozen0.Add(48 * time.Hour),
		},
		{
			name:    "set a running clock forward",
			start:   running,
			change:  set(real0.Add(48 * time.Hour)),
			want:    State{Offset: 48 * time.Hour, Floor: real0.Add(48 * time.Hour)},
			wantNow: real0.Add(48 * time.Hour),
		},
		{
			name:    "set to the current time is allowed",
			start:   frozen,
			change:  set(frozen0),
			want:    State{Frozen: true, FrozenAt: frozen0, Floor: frozen0},
			wantNow: frozen0,
		},
		{
			name:    "set a frozen clock backwards is refused",
			start:   frozen,
			change:  set(frozen0.Add(-time.Nanosecond)),
			want:    frozen,
			wantNow: frozen0,
			wantErr: ErrBackwards,
		},
		{
			name:    "set a running clock backwards is refused, even ahead of real time",
			start:   running,
			change:  set(real0.Add(time.Hour)),
			want:    running,
			wantNow: ahead,
			wantErr: ErrBackwards,
		},
		{
			name:    "set a running clock to MaxTime, over 170 years ahead",
			start:   running,
			change:  set(MaxTime),
			want:    State{Offset: MaxTime.Sub(real0), Floor: MaxTime},
			wantNow: MaxTime,
		},
		{
			name:    "set past MaxTime is refused",
			start:   running,
			change:  set(MaxTime.Add(time.Nanosecond)),
			want:    running,
			wantNow: ahead,
			wantErr: ErrOutOfRange,
		},
		{
			name:    "set to year 9999 is refused",
			start:   frozen,
			change:  set(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)),
			want:    frozen,
			wantNow: frozen0,
			wantErr: ErrOutOfRange,
		},
		{
			name:    "set before the epoch is refused as out of range",
			start:   frozen,
			change:  set(MinTime.Add(-time.Second)),
			want:    frozen,
			wantNow: frozen0,
			wantErr: ErrOutOfRange,
		},
		{
			name:    "reset a frozen clock behind real time to real time",
			start:   frozen,
			change:  (*Clock).Reset,
			want:    State{Floor: real0},
			wantNow: real0,
		},
		{
			name:    "reset a running clock behind real time to real time",
			start:   behind,
			change:  (*Clock).Reset,
			want:    State{Floor: real0},
			wantNow: real0,
		},
		{
			name:    "reset a clock at real time changes nothing but the floor",
			start:   State{},
			change:  (*Clock).Reset,
			want:    State{Floor: real0},
			wantNow: real0,
		},
		{
			name:    "reset a running clock ahead of real time keeps it running from its time",
			start:   running,
			change:  (*Clock).Reset,
			want:    State{Offset: 90 * time.Minute, Floor: ahead},
			wantNow: ahead,
		},
		{
			name:    "reset a frozen clock ahead of real time resumes it from its time",
			start:   State{Frozen: true, FrozenAt: ahead},
			change:  (*Clock).Reset,
			want:    State{Offset: 90 * time.Minute, Floor: ahead},
			wantNow: ahead,
		},
		{
			name:    "reset a clock held up by its floor keeps the floor",
			start:   State{Floor: ahead},
			change:  (*Clock).Reset,
			want:    State{Offset: 90 * time.Minute, Floor: ahead},
			wantNow: ahead,
		},
		{
			name:    "advance a clock held up by its floor counts from the floor",
			start:   State{Offset: -time.Hour, Floor: ahead},
			change:  advance(time.Minute),
			want:    State{Offset: 91 * time.Minute, Floor: ahead.Add(time.Minute)},
			wantNow: ahead.Add(time.Minute),
		},
		{
			name:    "set a clock held up by its floor below the floor is refused",
			start:   State{Offset: -time.Hour, Floor: ahead},
			change:  set(real0),
			want:    State{Offset: -time.Hour, Floor: ahead},
			wantNow: ahead,
			wantErr: ErrBackwards,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			src := &fakeSource{s: tt.start}
			c := New(src, (&fakeReal{real0}).now, 0)
			got, err := tt.change(c, ctx)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !sameState(got, tt.want) {
				t.Errorf("returned %+v, want %+v", got, tt.want)
			}
			if !sameState(src.s, tt.want) {
				t.Errorf("stored %+v, want %+v", src.s, tt.want)
			}
			now, err := c.Now(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !now.Equal(tt.wantNow) || now.Location() != time.UTC {
				t.Errorf("Now = %v, want %v in UTC", now, tt.wantNow.UTC())
			}
		})
	}
}

// sameState compares states by instant, not by time zone.
func sameState(a, b State) bool {
	return a.Frozen == b.Frozen && a.FrozenAt.Equal(b.FrozenAt) && a.Offset == b.Offset && a.Floor.Equal(b.Floor)
}

// TestCache checks when the Clock reads its source. Each step moves the
// injected real clock by elapse, then reads or changes the clock; loads is the
// total number of source loads wanted after the step.
func TestCache(t *testing.T) {
	type step struct {
		elapse time.Duration
		do     string // "read", "freeze", "backwards" (a refused Set), "external" (another replica's change)
		loads  int
		frozen bool // whether the read saw a frozen clock
	}
	tests := []struct {
		name  string
		ttl   time.Duration
		steps []step
	}{
		{
			name: "TTL 0 never caches",
			ttl:  0,
			steps: []step{
				{do: "read", loads: 1},
				{do: "read", loads: 2},
				{do: "freeze", loads: 2},
				{do: "read", loads: 3, frozen: true},
			},
		},
		{
			name: "a loaded state is reused for the TTL of real time, then reloaded",
			ttl:  time.Second,
			steps: []step{
				{do: "read", loads: 1},
				{do: "read", loads: 1},
				{elapse: 999 * time.Millisecond, do: "read", loads: 1},
				{elapse: time.Millisecond, do: "read", loads: 2},
				{elapse: 500 * time.Millisecond, do: "read", loads: 2},
				{elapse: 600 * time.Millisecond, do: "read", loads: 3},
			},
		},
		{
			name: "a change through this Clock updates the cache at once",
			ttl:  time.Hour,
			steps: []step{
				{do: "read", loads: 1},
				{do: "freeze", loads: 1},
				{do: "read", loads: 1, frozen: true},
			},
		},
		{
			name: "a change fills an empty cache",
			ttl:  time.Hour,
			steps: []step{
				{do: "freeze", loads: 0},
				{elapse: 59 * time.Minute, do: "read", loads: 0, frozen: true},
				{elapse: time.Minute, do: "read", loads: 1, frozen: true},
			},
		},
		{
			name: "a refused change leaves the cache as it was",
			ttl:  time.Hour,
			steps: []step{
				{do: "freeze", loads: 0},
				{do: "backwards", loads: 0},
				{do: "read", loads: 0, frozen: true},
			},
		},
		{
			name: "another replica's change goes unseen until the TTL runs out",
			ttl:  time.Minute,
			steps: []step{
				{do: "read", loads: 1},
				{do: "external", loads: 1},
				{elapse: 30 * time.Second, do: "read", loads: 1, frozen: false},
				{elapse: 30 * time.Second, do: "read", loads: 2, frozen: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			src := &fakeSource{}
			real := &fakeReal{real0}
			c := New(src, real.now, tt.ttl)
			for i, st := range tt.steps {
				real.t = real.t.Add(st.elapse)
				switch st.do {
				case "read":
					s, err := c.State(ctx)
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if s.Frozen != st.frozen {
						t.Fatalf("step %d: read %+v, want frozen %v", i, s, st.frozen)
					}
				case "freeze":
					if _, err := c.Freeze(ctx); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				case "backwards":
					if _, err := c.Set(ctx, MinTime); !errors.Is(err, ErrBackwards) {
						t.Fatalf("step %d: Set backwards = %v, want ErrBackwards", i, err)
					}
				case "external":
					src.s = State{Frozen: true, FrozenAt: frozen0}
				}
				if src.loads != st.loads {
					t.Fatalf("step %d (%s): %d loads, want %d", i, st.do, src.loads, st.loads)
				}
			}
		})
	}
}

func TestLoadErrorIsReturnedAndNotCached(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	src := &fakeSource{loadErr: boom}
	c := New(src, (&fakeReal{real0}).now, time.Hour)
	if _, err := c.Now(ctx); !errors.Is(err, boom) {
		t.Fatalf("Now = %v, want %v", err, boom)
	}
	src.loadErr = nil
	src.s = State{Frozen: true, FrozenAt: frozen0}
	now, err := c.Now(ctx)
	if err != nil || !now.Equal(frozen0) {
		t.Fatalf("after the source recovered, Now = %v, %v; want %v", now, err, frozen0)
	}
	if src.loads != 2 {
		t.Fatalf("%d loads, want 2", src.loads)
	}
}

func TestNewDefaultsToRealTime(t *testing.T) {
	c := New(&fakeSource{}, nil, 0)
	before := time.Now()
	now, err := c.Now(context.Background())
	after := time.Now()
	if err != nil || now.Before(before.Add(-time.Second)) || now.After(after.Add(time.Second)) {
		t.Fatalf("Now = %v, %v; want about %v", now, err, before)
	}
}

// TestRealClockSteppedBack checks that the service time stands at the floor
// while real time is behind where the clock was last changed, then runs on.
func TestRealClockSteppedBack(t *testing.T) {
	ctx := context.Background()
	real := &fakeReal{real0}
	c := New(&fakeSource{}, real.now, 0)
	if _, err := c.Advance(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	changed := real0.Add(time.Minute)
	real.t = real0.Add(-time.Hour) // an NTP step, say
	if now, _ := c.Now(ctx); !now.Equal(changed) {
		t.Fatalf("after the real clock stepped back an hour Now = %v, want the floor %v", now, changed)
	}
	real.t = real0.Add(time.Hour)
	if now, _ := c.Now(ctx); !now.Equal(real0.Add(61 * time.Minute)) {
		t.Fatalf("once real time caught up Now = %v, want %v", now, real0.Add(61*time.Minute))
	}
}

func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	real := &fakeReal{real0}
	src := &fakeSource{}
	c := New(src, real.now, 0)
	if err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if !src.s.Floor.Equal(real0) || !src.s.AtRealTime() {
		t.Fatalf("after a checkpoint the state is %+v, want running at real time with floor %v", src.s, real0)
	}
	changes := src.changes
	if err := c.Checkpoint(ctx); err != nil || src.changes != changes {
		t.Fatalf("a checkpoint that moves nothing wrote (%d changes, was %d): %v", src.changes, changes, err)
	}
	// A restart after the system clock was stepped back reads the
	// checkpointed time until real time catches up.
	real.t = real0.Add(-time.Hour)
	restarted := New(src, real.now, 0)
	if now, _ := restarted.Now(ctx); !now.Equal(real0) {
		t.Fatalf("after the restart Now = %v, want the checkpoint %v", now, real0)
	}
	frozen := &fakeSource{s: State{Frozen: true, FrozenAt: frozen0, Floor: frozen0}}
	if err := New(frozen, real.now, 0).Checkpoint(ctx); err != nil || frozen.changes != 0 {
		t.Fatalf("checkpointing a frozen clock wrote %d changes: %v", frozen.changes, err)
	}
}

func TestForgetReloads(t *testing.T) {
	ctx := context.Background()
	src := &fakeSource{}
	c := New(src, (&fakeReal{real0}).now, time.Hour)
	if _, err := c.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	src.s = State{} // emptied under the clock, as a reset of the whole store does
	if s, _ := c.State(ctx); !s.Frozen {
		t.Fatalf("the cached state should still be frozen before Forget")
	}
	c.Forget()
	if s, _ := c.State(ctx); s.Frozen || src.loads != 1 {
		t.Fatalf("after Forget: %+v with %d loads, want the source's state", s, src.loads)
	}
}

func TestReading(t *testing.T) {
	ctx := context.Background()
	real := &fakeReal{real0}
	src := &fakeSource{}
	c := New(src, real.now, 0)
	tests := []struct {
		do   func() (State, error)
		want Reading
		text string
	}{
		{func() (State, error) { return c.State(ctx) }, Reading{Now: real0.UTC()}, "running at real time"},
		{func() (State, error) { return c.Advance(ctx, 90*time.Minute) }, Reading{Now: real0.Add(90 * time.Minute).UTC(), Offset: 90 * time.Minute, Floor: real0.Add(90 * time.Minute)},
			"running 1h30m0s ahead of real time"},
		{func() (State, error) { return c.Freeze(ctx) }, Reading{Now: real0.Add(90 * time.Minute).UTC(), Frozen: true, FrozenAt: real0.Add(90 * time.Minute), Offset: 90 * time.Minute, Floor: real0.Add(90 * time.Minute)},
			"frozen at 2025-03-01T11:30:00Z"},
		{func() (State, error) { real.t = real.t.Add(3 * time.Hour); return c.Resume(ctx) }, Reading{Now: real0.Add(90 * time.Minute).UTC(), Offset: -90 * time.Minute, Floor: real0.Add(90 * time.Minute)},
			"running 1h30m0s behind real time"},
	}
	for i, tt := range tests {
		s, err := tt.do()
		if err != nil {
			t.Fatal(err)
		}
		got := c.Read(s)
		if !got.Now.Equal(tt.want.Now) || got.Now.Location() != time.UTC || got.Frozen != tt.want.Frozen ||
			!got.FrozenAt.Equal(tt.want.FrozenAt) || got.Offset != tt.want.Offset || !got.Floor.Equal(tt.want.Floor) {
			t.Errorf("step %d: Read = %+v, want %+v", i, got, tt.want)
		}
		if got.String() != tt.text {
			t.Errorf("step %d: %q, want %q", i, got.String(), tt.text)
		}
	}
}

// TestServiceTimeNeverDecreases runs random sequences of every change, reads,
// refused changes, real time passing, cache expiries and restarts (a new
// Clock over the same source, after a checkpoint, on a system clock that
// may have been stepped back meanwhile) and checks that no read or change
// ever shows an earlier service time than one shown before, and that a
// refused change changes nothing.
func TestServiceTimeNeverDecreases(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 9))
		real := &fakeReal{real0}
		src := &fakeSource{}
		ttl := time.Duration(rng.IntN(2)) * time.Hour
		c := New(src, real.now, ttl)
		var last time.Time
		var log []string
		observe := func(what string, now time.Time) {
			log = append(log, what+" → "+now.Format(time.RFC3339Nano))
			if now.Before(last) {
				t.Fatalf("seed %d: the service time went back from %v to %v:\n%v", seed, last, now, log)
			}
			if now.Before(MinTime) || now.After(MaxTime) {
				t.Fatalf("seed %d: the service time %v is out of range:\n%v", seed, now, log)
			}
			last = now
		}
		// durations covers the small, the large and the overflowing.
		durations := []time.Duration{0, time.Nanosecond, time.Second, time.Hour, 24 * time.Hour,
			100 * 365 * 24 * time.Hour, 200 * 365 * 24 * time.Hour, math.MaxInt64, -time.Second, math.MinInt64}
		for step := 0; step < 60; step++ {
			var s State
			var err error
			var what string
			before := src.s
			switch op := rng.IntN(9); op {
			case 0:
				what = "freeze"
				s, err = c.Freeze(ctx)
			case 1:
				what = "resume"
				s, err = c.Resume(ctx)
			case 2:
				d := durations[rng.IntN(len(durations))]
				what = "advance " + d.String()
				s, err = c.Advance(ctx, d)
			case 3:
				to := last.Add(time.Duration(rng.Int64N(int64(48*time.Hour))) - 24*time.Hour)
				if rng.IntN(4) == 0 {
					to = MaxTime.Add(time.Duration(rng.Int64N(3)-1) * time.Second)
				}
				what = "set " + to.Format(time.RFC3339Nano)
				s, err = c.Set(ctx, to)
			case 4:
				what = "reset"
				s, err = c.Reset(ctx)
			case 5:
				d := time.Duration(rng.Int64N(int64(2 * time.Hour)))
				real.t = real.t.Add(d)
				what = "real +" + d.String()
				s, err = c.State(ctx)
			case 6: // restart after a clean shutdown, the system clock maybe stepped back
				if err := c.Checkpoint(ctx); err != nil {
					t.Fatal(err)
				}
				d := time.Duration(rng.Int64N(int64(3 * time.Hour)))
				real.t = real.t.Add(-d)
				c = New(src, real.now, ttl)
				what = "restart, real -" + d.String()
				s, err = c.State(ctx)
			default:
				what = "read"
				s, err = c.State(ctx)
			}
			switch {
			case err == nil:
			case errors.Is(err, ErrBackwards), errors.Is(err, ErrOutOfRange):
				if src.s != before {
					t.Fatalf("seed %d: refused %s changed the state from %+v to %+v", seed, what, before, src.s)
				}
				s, _ = c.State(ctx)
			default:
				t.Fatal(err)
			}
			observe(what, c.Read(s).Now)
			now, err := c.Now(ctx)
			if err != nil {
				t.Fatal(err)
			}
			observe("now", now)
		}
	}
}
