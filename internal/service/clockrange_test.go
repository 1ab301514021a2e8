package service_test

import (
	"math"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/pipeline"
)

// TestPlansFromTheLastServiceTimeStayExact checks the reasoning behind
// clock.MaxTime: an operation started at the latest service time, with every
// stage as long as an override can make it, still ends where int64
// nanoseconds since the epoch can carry it, so that every stage boundary,
// every duration between two times wsim holds and every id made from a time
// is exact, and no plan end can overflow.
func TestPlansFromTheLastServiceTimeStayExact(t *testing.T) {
	longest := pipeline.Profile{Name: pipeline.ProfileRealistic}
	for _, kind := range pipeline.Kinds() {
		for _, stage := range kind.Stages() {
			var err error
			if longest, err = longest.WithOverride(stage, pipeline.MaxStageDuration); err != nil {
				t.Fatal(err)
			}
		}
	}
	lastNano := time.Unix(0, math.MaxInt64)
	for _, kind := range pipeline.Kinds() {
		plan := longest.Plan(kind, clock.MaxTime, nil)
		end := plan.End()
		if !end.Before(lastNano) {
			t.Errorf("%s started at %v ends at %v, past %v", kind, clock.MaxTime, end, lastNano)
		}
		if d := end.Sub(clock.MinTime); d == time.Duration(math.MaxInt64) {
			t.Errorf("%s: the span from MinTime to its end saturates time.Duration", kind)
		}
		for _, span := range plan.Timeline() {
			if got := time.Unix(0, span.End.UnixNano()); !got.Equal(span.End) {
				t.Errorf("%s: stage %s ends at %v, which UnixNano carries as %v", kind, span.State, span.End, got)
			}
		}
		// The clock never passes MaxTime, so such a plan stays at its first stage.
		if st := plan.At(clock.MaxTime); st.Done || st.Progress != 0 || st.StageIndex != 0 {
			t.Errorf("%s at MaxTime: %+v, want its first stage at 0%%", kind, st)
		}
	}
}
