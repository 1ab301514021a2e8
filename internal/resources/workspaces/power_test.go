package workspaces_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// power calls a batch operation on WorkSpaces of acctA in region1 and
// returns its FailedRequests.
func (h *harness) power(op string, ids ...string) []api.FailedWorkspaceChangeRequest {
	h.T.Helper()
	ctx := as(acctA, region1)
	var failed []api.FailedWorkspaceChangeRequest
	var err error
	switch op {
	case api.OpStartWorkspaces.Name:
		in := &api.StartWorkspacesInput{}
		for _, id := range ids {
			in.StartWorkspaceRequests = append(in.StartWorkspaceRequests, api.StartRequest{WorkspaceId: api.String(id)})
		}
		var out *api.StartWorkspacesOutput
		out, err = servicetest.Call(h.Svc, api.OpStartWorkspaces, ctx, in)
		if err == nil {
			failed = out.FailedRequests
		}
	case api.OpStopWorkspaces.Name:
		in := &api.StopWorkspacesInput{}
		for _, id := range ids {
			in.StopWorkspaceRequests = append(in.StopWorkspaceRequests, api.StopRequest{WorkspaceId: api.String(id)})
		}
		var out *api.StopWorkspacesOutput
		out, err = servicetest.Call(h.Svc, api.OpStopWorkspaces, ctx, in)
		if err == nil {
			failed = out.FailedRequests
		}
	case api.OpRebootWorkspaces.Name:
		in := &api.RebootWorkspacesInput{}
		for _, id := range ids {
			in.RebootWorkspaceRequests = append(in.RebootWorkspaceRequests, api.RebootRequest{WorkspaceId: api.String(id)})
		}
		var out *api.RebootWorkspacesOutput
		out, err = servicetest.Call(h.Svc, api.OpRebootWorkspaces, ctx, in)
		if err == nil {
			failed = out.FailedRequests
		}
	case api.OpRebuildWorkspaces.Name:
		in := &api.RebuildWorkspacesInput{}
		for _, id := range ids {
			in.RebuildWorkspaceRequests = append(in.RebuildWorkspaceRequests, api.RebuildRequest{WorkspaceId: api.String(id)})
		}
		var out *api.RebuildWorkspacesOutput
		out, err = servicetest.Call(h.Svc, api.OpRebuildWorkspaces, ctx, in)
		if err == nil {
			failed = out.FailedRequests
		}
	default:
		h.T.Fatalf("no batch operation %s", op)
	}
	if err != nil {
		h.T.Fatalf("%s: %v", op, err)
	}
	if failed == nil {
		h.T.Fatalf("%s: FailedRequests is absent, want a list", op)
	}
	return failed
}

// launchAvailable launches a WorkSpace in the running mode and waits until
// it is AVAILABLE.
func (h *harness) launchAvailable(user, mode string) string {
	h.T.Helper()
	r := req(dirA, user, publicBundle.ID)
	r.WorkspaceProperties = &api.WorkspaceProperties{RunningMode: api.String(mode)}
	id := h.launch(acctA, region1, r)
	h.wantStates(id, step{5 * time.Second, "AVAILABLE"})
	return id
}

func TestPowerCyclesThroughEveryState(t *testing.T) {
	h := newHarness(t)
	id := h.launchAvailable("u", "AUTO_STOP")
	for _, c := range []struct {
		op    string
		steps []step
	}{
		{api.OpStopWorkspaces.Name, []step{{0, "STOPPING"}, {2 * time.Second, "STOPPING"}, {time.Second, "STOPPED"}}},
		{api.OpStartWorkspaces.Name, []step{{0, "STARTING"}, {2 * time.Second, "STARTING"}, {time.Second, "AVAILABLE"}}},
		{api.OpRebootWorkspaces.Name, []step{{0, "REBOOTING"}, {3 * time.Second, "AVAILABLE"}}},
		{api.OpRebuildWorkspaces.Name, []step{{0, "REBUILDING"}, {5 * time.Second, "REBUILDING"}, {time.Second, "AVAILABLE"}}},
	} {
		before := *h.one(acctA, region1, id).IpAddress
		if f := h.power(c.op, id); len(f) != 0 {
			t.Fatalf("%s: %s %s", c.op, *f[0].ErrorCode, *f[0].ErrorMessage)
		}
		h.wantStates(id, c.steps...)
		after := *h.one(acctA, region1, id).IpAddress
		if (c.op == api.OpRebuildWorkspaces.Name) != (before != after) {
			t.Errorf("%s: address %s → %s (only a rebuild changes it)", c.op, before, after)
		}
	}
	if _, err := servicetest.Call(h.Svc, api.OpRestoreWorkspace, as(acctA, region1), &api.RestoreWorkspaceInput{WorkspaceId: api.String(id)}); err != nil {
		t.Fatal(err)
	}
	h.wantStates(id, step{0, "RESTORING"}, step{6 * time.Second, "AVAILABLE"})
}

func TestPowerRefusesPerItem(t *testing.T) {
	h := newHarness(t)
	alwaysOn := h.launchAvailable("on", "ALWAYS_ON")
	autoStop := h.launchAvailable("auto", "AUTO_STOP")
	pending := h.launch(acctA, region1, req(dirA, "new", publicBundle.ID))
	cases := []struct {
		name, op, id, code, frag string
	}{
		{"stop ALWAYS_ON", api.OpStopWorkspaces.Name, alwaysOn, "OperationNotSupported.RunningMode", "ALWAYS_ON"},
		{"start ALWAYS_ON", api.OpStartWorkspaces.Name, alwaysOn, "OperationNotSupported.RunningMode", "ALWAYS_ON"},
		{"start AVAILABLE", api.OpStartWorkspaces.Name, autoStop, "InvalidResourceState", "only when it is STOPPED"},
		{"reboot PENDING", api.OpRebootWorkspaces.Name, pending, "InvalidResourceState", "AVAILABLE, UNHEALTHY or REBOOTING"},
		{"rebuild PENDING", api.OpRebuildWorkspaces.Name, pending, "InvalidResourceState", "PENDING"},
		{"stop unknown", api.OpStopWorkspaces.Name, "ws-000000000", "ResourceNotFound.Workspace", "ws-000000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := h.power(c.op, c.id)
			if len(f) != 1 || *f[0].WorkspaceId != c.id || *f[0].ErrorCode != c.code || !strings.Contains(*f[0].ErrorMessage, c.frag) {
				t.Fatalf("got %+v, want %s containing %q", f, c.code, c.frag)
			}
		})
	}
	// One refusal leaves the rest of the batch alone.
	if f := h.power(api.OpRebootWorkspaces.Name, alwaysOn, pending, autoStop); len(f) != 1 || *f[0].WorkspaceId != pending {
		t.Fatalf("batch %+v", f)
	}
	if h.state(alwaysOn) != "REBOOTING" || h.state(autoStop) != "REBOOTING" {
		t.Errorf("states %s %s", h.state(alwaysOn), h.state(autoStop))
	}
	_, err := servicetest.Call(h.Svc, api.OpRestoreWorkspace, as(acctA, region1), &api.RestoreWorkspaceInput{WorkspaceId: api.String(pending)})
	servicetest.WantCode(t, err, "OperationNotSupportedException", "PENDING")
	_, err = servicetest.Call(h.Svc, api.OpRestoreWorkspace, as(acctA, region1), &api.RestoreWorkspaceInput{WorkspaceId: api.String("ws-000000000")})
	servicetest.WantCode(t, err, "ResourceNotFoundException")
	_, err = servicetest.Call(h.Svc, api.OpRebuildWorkspaces, as(acctA, region1), &api.RebuildWorkspacesInput{RebuildWorkspaceRequests: []api.RebuildRequest{
		{WorkspaceId: api.String(pending)}, {WorkspaceId: api.String(autoStop)}}})
	servicetest.WantCode(t, err, "ValidationException")
}

func TestAdminMaintenance(t *testing.T) {
	h := newHarness(t)
	id := h.launchAvailable("u", "AUTO_STOP")
	modify := func(state string) error {
		_, err := servicetest.Call(h.Svc, api.OpModifyWorkspaceState, as(acctA, region1), &api.ModifyWorkspaceStateInput{
			WorkspaceId: api.String(id), WorkspaceState: api.String(state)})
		return err
	}
	if err := modify("ADMIN_MAINTENANCE"); err != nil {
		t.Fatal(err)
	}
	h.wantStates(id, step{time.Second, "ADMIN_MAINTENANCE"})
	// Power, rebuild and restore requests are ignored.
	for _, op := range []string{api.OpStopWorkspaces.Name, api.OpRebootWorkspaces.Name, api.OpRebuildWorkspaces.Name} {
		if f := h.power(op, id); len(f) != 0 {
			t.Errorf("%s: %+v", op, f)
		}
	}
	if h.state(id) != "ADMIN_MAINTENANCE" {
		t.Fatalf("state %s", h.state(id))
	}
	if err := modify("ADMIN_MAINTENANCE"); err != nil {
		t.Errorf("again: %v", err)
	}
	if err := modify("AVAILABLE"); err != nil {
		t.Fatal(err)
	}
	h.wantStates(id, step{0, "ADMIN_MAINTENANCE"}, step{time.Second, "AVAILABLE"})
	h.power(api.OpStopWorkspaces.Name, id)
	servicetest.WantCode(t, modify("ADMIN_MAINTENANCE"), "InvalidResourceStateException", "STOPPING")
	h.Advance(3 * time.Second)
	servicetest.WantCode(t, modify("AVAILABLE"), "InvalidResourceStateException", "STOPPED")
}

func TestSnapshotsEveryTwelveHours(t *testing.T) {
	h := newHarness(t)
	pending := h.launch(acctA, region1, req(dirA, "p", publicBundle.ID))
	snaps := func(id string) *api.DescribeWorkspaceSnapshotsOutput {
		t.Helper()
		out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceSnapshots, as(acctA, region1), &api.DescribeWorkspaceSnapshotsInput{WorkspaceId: api.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := snaps(pending); out.RebuildSnapshots == nil || len(out.RebuildSnapshots) != 0 || len(out.RestoreSnapshots) != 0 {
		t.Fatalf("a PENDING WorkSpace has no snapshots: %+v", out)
	}
	h.Advance(5 * time.Second)
	launchedAt := h.Now()
	if out := snaps(pending); len(out.RestoreSnapshots) != 1 || !out.RestoreSnapshots[0].SnapshotTime.Equal(launchedAt) {
		t.Fatalf("at launch: %+v", out)
	}
	h.Advance(25 * time.Hour)
	out := snaps(pending)
	if len(out.RebuildSnapshots) != 3 || !out.RebuildSnapshots[0].SnapshotTime.Equal(launchedAt.Add(24*time.Hour)) {
		t.Fatalf("after 25h: %+v", out)
	}
	_, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceSnapshots, as(acctB, region1), &api.DescribeWorkspaceSnapshotsInput{WorkspaceId: api.String(pending)})
	servicetest.WantCode(t, err, "ResourceNotFoundException")
}

func TestLongHistoryKeepsTheLaunch(t *testing.T) {
	h := newHarness(t)
	id := h.launchAvailable("u", "ALWAYS_ON")
	ip := *h.one(acctA, region1, id).IpAddress
	for i := 0; i < 70; i++ {
		if f := h.power(api.OpRebootWorkspaces.Name, id); len(f) != 0 {
			t.Fatalf("reboot %d: %+v", i, f)
		}
		h.Advance(3 * time.Second)
	}
	w := h.one(acctA, region1, id)
	if *w.State != "AVAILABLE" || api.ToString(w.IpAddress) != ip || w.ComputerName == nil {
		t.Fatalf("after 70 reboots: %+v", w)
	}
	out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaceSnapshots, as(acctA, region1), &api.DescribeWorkspaceSnapshotsInput{WorkspaceId: api.String(id)})
	if err != nil || len(out.RestoreSnapshots) != 1 {
		t.Fatalf("snapshots %+v %v", out, err)
	}
}
