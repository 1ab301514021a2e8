package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
)

// TestClockControl drives /_wsim/clock and checks imports follow it.
func TestClockControl(t *testing.T) { forEachStore(t, clockControl) }

func clockControl(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "realistic")
	c := srv.Client(t, accountA, usEast1)

	start := srv.FreezeRounded(t)
	if st := srv.Clock(t); !st.Frozen || !st.Now.Equal(start) || st.Epoch != float64(start.Unix()) {
		t.Fatalf("frozen clock reads %+v, want frozen at %v", st, start)
	}
	if again := srv.Now(t); !again.Equal(start) {
		t.Errorf("a frozen clock moved from %v to %v", start, again)
	}
	id := importImage(t, c, importInput("clocked"))
	if got := srv.Advance(t, 90*time.Minute); !got.Equal(start.Add(90 * time.Minute)) {
		t.Errorf("advance 90m reads %v, want %v", got, start.Add(90*time.Minute))
	}
	mid := describeImport(t, c, id)
	if p := aws.ToInt32(mid.ProgressPercentage); p <= 0 || p >= 100 {
		t.Errorf("after 90 min progress is %d, want between 0 and 100", p)
	}

	// The clock cannot go back, so nothing time-derived can decrease.
	status, _, body := srv.Do(t, http.MethodPost, "/_wsim/clock",
		strings.NewReader(`{"action":"set","to":"`+start.Format(time.RFC3339)+`"}`), map[string]string{"Content-Type": "application/json"})
	if status != http.StatusBadRequest {
		t.Errorf("setting the clock back: %d %s, want 400", status, body)
	}
	for _, bad := range []string{`{"action":"rewind"}`, `{"action":"advance","by":"soon"}`, `{"action":"freeze","extra":1}`, `{"action":"advance","by":"-1h"}`} {
		if status, _, body := srv.Do(t, http.MethodPost, "/_wsim/clock", strings.NewReader(bad), map[string]string{"Content-Type": "application/json"}); status != http.StatusBadRequest {
			t.Errorf("POST /_wsim/clock %s: %d %s, want 400", bad, status, body)
		}
	}

	// Resume keeps the time reached and lets it run from there.
	resumed := srv.ChangeClock(t, map[string]string{"action": "resume"})
	if resumed.Frozen || resumed.Now.Before(start.Add(90*time.Minute)) {
		t.Errorf("resumed clock %+v went back or stayed frozen", resumed)
	}
	if off := resumed.OffsetSeconds; off < 90*60-5 {
		t.Errorf("resumed clock offset %vs, want at least 90 min", off)
	}
	srv.Advance(t, 2*time.Hour)
	if out := describeImport(t, c, id); out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("3.5 h after the start the import is %s, want COMPLETED", out.State)
	}

	// The clock is hours ahead of real time, so reset cannot return to real
	// time without moving it back: it keeps running from where it stands,
	// says so, and the finished import stays finished.
	before := srv.Now(t)
	reset := srv.ResetClock(t)
	if reset.Frozen || reset.Now.Before(before) || reset.OffsetSeconds < 3*3600 || !strings.Contains(reset.Note, "would move it back") {
		t.Errorf("reset ahead of real time reads %+v, want running on from %v with a note", reset, before)
	}
	if out := describeImport(t, c, id); out.State != types.CustomWorkspaceImageImportStateCompleted || aws.ToInt32(out.ProgressPercentage) != 100 {
		t.Errorf("after the reset the import is %s %d%%, want COMPLETED 100%%", out.State, aws.ToInt32(out.ProgressPercentage))
	}

	// Frozen behind real time, reset returns to real time, running.
	clean := store.start(t, "--profile", "realistic")
	clean.Freeze(t)
	if st := clean.ResetClock(t); st.Frozen || st.OffsetSeconds != 0 || st.Note != "" {
		t.Errorf("reset from frozen reads %+v, want running at offset 0", st)
	}
	if d := time.Since(clean.Now(t)); d < -time.Minute || d > time.Minute {
		t.Errorf("reset clock is %v away from real time", d)
	}
}

// TestStageDurationOverride checks --stage-duration changes one stage of a
// profile and leaves the rest.
func TestStageDurationOverride(t *testing.T) { forEachStore(t, stageDurationOverride) }

func stageDurationOverride(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "instant", "--stage-duration", "GENERALIZING=10m")
	c := srv.Client(t, accountA, usEast1)
	start := srv.FreezeRounded(t)
	id := importImage(t, c, importInput("slow-sysprep"))
	out := describeImport(t, c, id)
	if out.State != types.CustomWorkspaceImageImportStateGeneralizing {
		t.Fatalf("with only GENERALIZING lasting, the import is %s", out.State)
	}
	if !aws.ToTime(out.LastUpdatedTime).Equal(start) {
		t.Errorf("LastUpdatedTime = %v, want %v", aws.ToTime(out.LastUpdatedTime), start)
	}
	if out.ImageBuilderInstanceId == nil {
		t.Errorf("no ImageBuilderInstanceId in GENERALIZING")
	}
	srv.Advance(t, 5*time.Minute)
	if out := describeImport(t, c, id); out.State != types.CustomWorkspaceImageImportStateGeneralizing || aws.ToInt32(out.ProgressPercentage) != 50 {
		t.Errorf("half way: %s %d%%, want GENERALIZING 50%%", out.State, aws.ToInt32(out.ProgressPercentage))
	}
	end := srv.Advance(t, 5*time.Minute)
	out = describeImport(t, c, id)
	if out.State != types.CustomWorkspaceImageImportStateCompleted || !aws.ToTime(out.LastUpdatedTime).Equal(end) {
		t.Errorf("after 10 min: %s updated %v, want COMPLETED at %v", out.State, aws.ToTime(out.LastUpdatedTime), end)
	}
}
