package clock

import (
	"context"
	"errors"
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
	frozen := State{Frozen: true, FrozenAt: frozen0}
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
			want:    State{Frozen: true, FrozenAt: real0.Add(90 * time.Minute)},
			wantNow: real0.Add(90 * time.Minute),
		},
		{
			name:    "freeze a frozen clock keeps its time",
			start:   frozen,
			change:  (*Clock).Freeze,
			want:    frozen,
			wantNow: frozen0,
		},
		{
			name:    "resume runs on from where the clock stood",
			start:   frozen,
			change:  (*Clock).Resume,
			want:    State{Offset: frozen0.Sub(real0)},
			wantNow: frozen0,
		},
		{
			name:    "resume a running clock changes nothing",
			start:   running,
			change:  (*Clock).Resume,
			want:    running,
			wantNow: real0.Add(90 * time.Minute),
		},
		{
			name:    "advance a frozen clock",
			start:   frozen,
			change:  func(c *Clock, ctx context.Context) (State, error) { return c.Advance(ctx, time.Hour) },
			want:    State{Frozen: true, FrozenAt: frozen0.Add(time.Hour)},
			wantNow: frozen0.Add(time.Hour),
		},
		{
			name:    "advance a running clock",
			start:   running,
			change:  func(c *Clock, ctx context.Context) (State, error) { return c.Advance(ctx, time.Hour) },
			want:    State{Offset: 150 * time.Minute},
			wantNow: real0.Add(150 * time.Minute),
		},
		{
			name:    "advance by zero",
			start:   running,
			change:  func(c *Clock, ctx context.Context) (State, error) { return c.Advance(ctx, 0) },
			want:    running,
			wantNow: real0.Add(90 * time.Minute),
		},
		{
			name:    "advance backwards is refused",
			start:   running,
			change:  func(c *Clock, ctx context.Context) (State, error) { return c.Advance(ctx, -time.Second) },
			want:    running,
			wantNow: real0.Add(90 * time.Minute),
			wantErr: ErrBackwards,
		},
		{
			name:    "set a frozen clock forward",
			start:   frozen,
			change:  func(c *Clock, ctx context.Context) (State, error) { return c.Set(ctx, frozen0.Add(48*time.Hour)) },
			want:    State{Frozen: true, FrozenAt: frozen0.Add(48 * time.Hour)},
			wantNow: frozen0.Add(48 * time.Hour),
		},
		{
			name:    "set a running clock forward",
			start:   running,
			change:  func(c *Clock, ctx context.Context) (State, error) { return c.Set(ctx, real0.Add(48*time.Hour)) },
			want:    State{Offset: 48 * time.Hour},
			wantNow: real0.Add(48 * time.Hour),
		},
		{
			name:    "set to the current time is allowed",
			start:   frozen,
			change:  func(c *Clock, ctx context.Context) (State, error) { return c.Set(ctx, frozen0) },
			want:    frozen,
			wantNow: frozen0,
		},
		{
			name:    "set a frozen clock backwards is refused",
			start:   frozen,
			change:  func(c *Clock, ctx context.Context) (State, error) { return c.Set(ctx, frozen0.Add(-time.Nanosecond)) },
			want:    frozen,
			wantNow: frozen0,
			wantErr: ErrBackwards,
		},
		{
			name:  "set a running clock backwards is refused, even ahead of real time",
			start: running,
			change: func(c *Clock, ctx context.Context) (State, error) {
				return c.Set(ctx, real0.Add(time.Hour))
			},
			want:    running,
			wantNow: real0.Add(90 * time.Minute),
			wantErr: ErrBackwards,
		},
		{
			name:    "reset a frozen clock to real time",
			start:   frozen,
			change:  (*Clock).Reset,
			want:    State{},
			wantNow: real0,
		},
		{
			name:    "reset a running clock to real time",
			start:   running,
			change:  (*Clock).Reset,
			want:    State{},
			wantNow: real0,
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
	return a.Frozen == b.Frozen && a.FrozenAt.Equal(b.FrozenAt) && a.Offset == b.Offset
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
					if _, err := c.Set(ctx, time.Time{}); !errors.Is(err, ErrBackwards) {
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
