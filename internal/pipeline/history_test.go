package pipeline

import (
	"errors"
	"testing"
	"time"
)

func TestHistory(t *testing.T) {
	quick, _ := LookupProfile(ProfileQuick)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// A custom import started at t0, and (as a resource that changes again)
	// a copy plan appended at t0+1h and an update plan at t0+2h.
	var h History
	for i, kind := range []Kind{KindCustomImport, KindCopy, KindUpdate} {
		var err error
		if h, err = h.Append(quick.Plan(kind, t0.Add(time.Duration(i)*time.Hour), nil)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		at        time.Duration
		wantKind  Kind
		wantState string
	}{
		{-time.Hour, KindCustomImport, "PENDING"}, // before it all: the first stage
		{0, KindCustomImport, "PENDING"},
		{30 * time.Minute, KindCustomImport, "COMPLETED"},
		{time.Hour, KindCopy, "PENDING"},
		{time.Hour + 10*time.Second, KindCopy, "AVAILABLE"},
		{2*time.Hour - time.Nanosecond, KindCopy, "AVAILABLE"},
		{2 * time.Hour, KindUpdate, "PENDING"},
		{5 * time.Hour, KindUpdate, "AVAILABLE"},
	}
	for _, tt := range tests {
		now := t0.Add(tt.at)
		p, ok := h.Current(now)
		if !ok || p.Kind != tt.wantKind {
			t.Errorf("at %v: current plan %s, want %s", tt.at, p.Kind, tt.wantKind)
		}
		if got := h.At(now).State; got != tt.wantState {
			t.Errorf("at %v: state %s, want %s", tt.at, got, tt.wantState)
		}
	}
	if _, err := h.Append(quick.Plan(KindCopy, t0, nil)); !errors.Is(err, ErrPlanOrder) {
		t.Errorf("appending a plan older than the latest: %v", err)
	}
	if latest, _ := h.Latest(); latest.Kind != KindUpdate {
		t.Errorf("latest = %s", latest.Kind)
	}
	if (History{}).At(t0) != (Status{}) {
		t.Error("empty history has a state")
	}
}

func TestHistoryIsBounded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var h History
	for i := range MaxHistory + 10 {
		next, err := h.Append(Profile{}.Plan(KindCopy, t0.Add(time.Duration(i)*time.Minute), nil))
		if err != nil {
			t.Fatal(err)
		}
		if len(h) > 0 && &next[0] == &h[0] {
			t.Fatal("Append shares memory with its receiver")
		}
		h = next
	}
	if len(h) != MaxHistory {
		t.Fatalf("len = %d, want %d", len(h), MaxHistory)
	}
	if last, _ := h.Latest(); !last.Start.Equal(t0.Add(time.Duration(MaxHistory+9) * time.Minute)) {
		t.Errorf("latest plan starts %v", last.Start)
	}
}
