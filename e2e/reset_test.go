package e2e_test

import (
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"

	"github.com/wsim/wsim/e2e/process"
)

func share(t *testing.T, c *workspaces.Client, id, grantee string) {
	t.Helper()
	if _, err := c.UpdateWorkspaceImagePermission(ctx(t), &workspaces.UpdateWorkspaceImagePermissionInput{
		ImageId: aws.String(id), SharedAccountId: aws.String(grantee), AllowCopyImage: aws.Bool(true),
	}); err != nil {
		t.Fatalf("share %s with %s: %v", id, grantee, err)
	}
}

func imageIDs(t *testing.T, c *workspaces.Client) []string {
	t.Helper()
	out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, img := range out.Images {
		ids = append(ids, aws.ToString(img.ImageId))
	}
	slices.Sort(ids)
	return ids
}

// TestReset drives POST /_wsim/reset and /moto-api/reset through real
// clients on every store: a scoped reset removes one account's state in one
// Region and the grants it had with others on both sides, and a full reset
// empties everything and returns the clock and fault rules to their
// defaults, so the same test can run again.
func TestReset(t *testing.T) { forEachStore(t, reset) }

func reset(t *testing.T, store storeBackend) {
	srv := store.start(t)
	a, aEU, b := srv.Client(t, accountA, usEast1), srv.Client(t, accountA, euWest1), srv.Client(t, accountB, usEast1)
	a1 := importImage(t, a, importInput("golden"))
	a2 := importImage(t, aEU, importInput("golden"))
	b1 := importImage(t, b, importInput("golden"))
	share(t, a, a1, accountB)
	share(t, b, b1, accountA)
	srv.AddFaultRule(t, map[string]any{"namePattern": "never-*", "failAt": "PENDING"})
	srv.FreezeRounded(t)
	frozen := srv.Advance(t, 24*time.Hour)

	got := srv.Reset(t, accountA, usEast1)
	if want := map[string]int{"image": 1, "image-share": 2}; got.Scope != "region" || !maps.Equal(got.Removed, want) ||
		got.Unshared != 1 || got.Clock != "kept" || got.FaultRules != 0 {
		t.Errorf("reset of A in %s = %+v, want removed %v, 1 unshared, clock kept", usEast1, got, want)
	}
	if ids := imageIDs(t, b); !slices.Equal(ids, []string{b1}) {
		t.Errorf("B sees %v, want only its own %s", ids, b1)
	}
	if ids := imageIDs(t, a); len(ids) != 0 {
		t.Errorf("A still sees %v in %s", ids, usEast1)
	}
	if ids := imageIDs(t, aEU); !slices.Equal(ids, []string{a2}) {
		t.Errorf("A sees %v in %s, want %s", ids, euWest1, a2)
	}
	perms, err := b.DescribeWorkspaceImagePermissions(ctx(t), &workspaces.DescribeWorkspaceImagePermissionsInput{ImageId: aws.String(b1)})
	if err != nil || len(perms.ImagePermissions) != 0 {
		t.Errorf("b1 is still shared after A's reset: %+v, %v", perms, err)
	}
	if now := srv.Now(t); !now.Equal(frozen) {
		t.Errorf("a scoped reset moved the clock from %v to %v", frozen, now)
	}
	// The name is free again: the same import runs a second time.
	importImage(t, a, importInput("golden"))

	// A Region without an account is refused.
	status, _, body := srv.Do(t, http.MethodPost, "/_wsim/reset", strings.NewReader(`{"region":"us-east-1"}`), map[string]string{"Content-Type": "application/json"})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "needs its account") {
		t.Errorf("reset of a Region alone: %d %s", status, body)
	}

	got = srv.Reset(t)
	if want := map[string]int{"image": 3}; got.Scope != "all" || !maps.Equal(got.Removed, want) || got.Clock != "reset" || got.FaultRules != 1 {
		t.Errorf("full reset = %+v, want removed %v, clock reset, 1 fault rule", got, want)
	}
	if st := srv.Clock(t); st.Frozen || st.OffsetSeconds != 0 || time.Since(st.Now).Abs() > time.Minute {
		t.Errorf("after a full reset the clock reads %+v, want real time, running", st)
	}
	for _, c := range []*workspaces.Client{a, aEU, b} {
		if ids := imageIDs(t, c); len(ids) != 0 {
			t.Errorf("after a full reset a client sees %v", ids)
		}
	}

	// moto's server mode: its decorator posts no body and reads nothing back.
	importImage(t, a, importInput("golden"))
	srv.Freeze(t)
	status, _, body = srv.Do(t, http.MethodPost, "/moto-api/reset", nil, nil)
	if status != http.StatusOK || string(body) != `{"status": "ok"}` {
		t.Errorf("POST /moto-api/reset = %d %s", status, body)
	}
	if ids := imageIDs(t, a); len(ids) != 0 {
		t.Errorf("after moto's reset A sees %v", ids)
	}
	if st := srv.Clock(t); st.Frozen {
		t.Errorf("moto's reset left the clock frozen")
	}
}

// TestClockNeverGoesBackThroughTheBinary freezes, advances, resets and
// restarts a real wsim process on one SQLite file, cleanly and with SIGKILL,
// and checks that an import never goes back: its stage and progress never
// decrease, a finished import stays COMPLETED, and refused clock changes
// change nothing. It also checks what start-up and /_wsim/health say about
// the clock, and wsim reset from the command line.
func TestClockNeverGoesBackThroughTheBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := process.Start(t, "--store", "sqlite", "--data-dir", dir, "--profile", "realistic", "--stage-duration", "PENDING=5m")
	c := srv.Client(t, accountA, usEast1)
	start := srv.FreezeRounded(t)
	id := importImage(t, c, importInput("never-back"))

	lastStage, lastProgress := -1, int32(-1)
	check := func(when string) *workspaces.DescribeCustomWorkspaceImageImportOutput {
		t.Helper()
		out := describeImport(t, c, id)
		stage := slices.Index(customImportStates, out.State)
		progress := aws.ToInt32(out.ProgressPercentage)
		if stage < lastStage || progress < lastProgress {
			t.Fatalf("%s: the import went back to %s %d%% from %s %d%%", when, out.State, progress,
				customImportStates[max(lastStage, 0)], lastProgress)
		}
		lastStage, lastProgress = stage, progress
		return out
	}
	check("at the start")
	srv.Advance(t, time.Hour)
	mid := check("after an hour")
	if mid.State == types.CustomWorkspaceImageImportStatePending || aws.ToInt32(mid.ProgressPercentage) == 0 {
		t.Fatalf("after an hour the import is %s %d%%", mid.State, aws.ToInt32(mid.ProgressPercentage))
	}
	// A reset ahead of real time keeps the time reached.
	if st := srv.ResetClock(t); st.Frozen || st.Now.Before(start.Add(time.Hour)) || st.Note == "" {
		t.Errorf("reset an hour ahead: %+v", st)
	}
	check("after a reset")
	srv.Freeze(t)
	srv.Advance(t, 3*time.Hour)
	if out := check("after 4 hours"); out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Fatalf("after 4 hours the import is %s", out.State)
	}
	srv.ResetClock(t)
	check("after a second reset")
	srv.Freeze(t)
	frozenAt := srv.Now(t)

	// Refused changes change nothing.
	for _, bad := range []string{
		`{"action":"set","to":"` + start.Format(time.RFC3339) + `"}`,
		`{"action":"advance","by":"2000000h"}`,
		`{"action":"set","to":"9999-12-31T23:59:59Z"}`,
		`{"action":"advance","by":"-1s"}`,
	} {
		if status, _, body := srv.Do(t, http.MethodPost, "/_wsim/clock", strings.NewReader(bad), map[string]string{"Content-Type": "application/json"}); status != http.StatusBadRequest {
			t.Errorf("POST /_wsim/clock %s = %d %s, want 400", bad, status, body)
		}
	}
	if now := srv.Now(t); !now.Equal(frozenAt) {
		t.Errorf("refused changes moved the clock from %v to %v", frozenAt, now)
	}

	// A clean restart, then a crash: the frozen clock and the import stay.
	srv.Restart(t)
	c = srv.Client(t, accountA, usEast1)
	check("after a restart")
	srv.Kill()
	srv.Restart(t)
	c = srv.Client(t, accountA, usEast1)
	if out := check("after SIGKILL and a restart"); out.State != types.CustomWorkspaceImageImportStateCompleted {
		t.Errorf("after the restarts the import is %s", out.State)
	}
	if now := srv.Now(t); !now.Equal(frozenAt) {
		t.Errorf("after the restarts the clock reads %v, want the frozen %v", now, frozenAt)
	}

	// Start-up says the clock is frozen, on stdout and as a warning.
	logs := srv.Logs()
	runs := strings.Split(logs, "---- process: restart ----")
	last := runs[len(runs)-1]
	if !strings.Contains(last, "clock: frozen at "+frozenAt.Format(time.RFC3339Nano)+")") {
		t.Errorf("the start-up line does not say the clock is frozen:\n%s", last)
	}
	if !strings.Contains(last, "level=WARN") || !strings.Contains(last, "the service clock is frozen") {
		t.Errorf("no warning that the clock is frozen at start-up:\n%s", last)
	}
	if !strings.Contains(runs[0], "clock: running at real time)") || strings.Contains(runs[0], "level=WARN") {
		t.Errorf("the first start does not say the clock runs at real time, or warns:\n%s", runs[0])
	}

	h, status := srv.Health(t)
	if status != http.StatusOK || h.Status != "ok" || !h.StoreWritable || !strings.HasPrefix(h.Store, "SQLite store at "+dir) ||
		h.Profile != "realistic" || h.StageOverrides["PENDING"] != "5m0s" || h.BYOL != "friendly" || h.Version == "" ||
		h.Clock == nil || !h.Clock.Frozen || h.Clock.FrozenAt == nil || !h.Clock.FrozenAt.Equal(frozenAt) {
		t.Errorf("health = %d %+v (clock %+v)", status, h, h.Clock)
	}

	// wsim reset from the command line, the endpoint from WSIM_ENDPOINT.
	cmd := process.Command(t, "reset", "--account", accountA, "--region", usEast1)
	cmd.Env = append(os.Environ(), "WSIM_ENDPOINT="+srv.URL)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "account "+accountA+" in "+usEast1) || !strings.Contains(string(out), "image 1") {
		t.Errorf("wsim reset --account --region: %v\n%s", err, out)
	}
	if _, err := c.DescribeCustomWorkspaceImageImport(ctx(t), &workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("after wsim reset the import answers %v, want ResourceNotFoundException", err)
	}
	out, err = process.Command(t, "reset", "--endpoint", srv.URL, "-o", "json").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"clock": "reset"`) {
		t.Errorf("wsim reset -o json: %v\n%s", err, out)
	}
	if st := srv.Clock(t); st.Frozen {
		t.Errorf("after wsim reset the clock is still frozen")
	}
	out, err = process.Command(t, "reset", "--endpoint", srv.URL, "--region", usEast1).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--region needs --account") {
		t.Errorf("wsim reset --region alone: %v\n%s", err, out)
	}
}
