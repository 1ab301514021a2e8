package workspaces_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

func (h *harness) modify(id string, p api.WorkspaceProperties) error {
	_, err := servicetest.Call(h.Svc, api.OpModifyWorkspaceProperties, as(acctA, region1), &api.ModifyWorkspacePropertiesInput{
		WorkspaceId: api.String(id), WorkspaceProperties: &p})
	return err
}

func mods(w *api.Workspace) []string {
	var out []string
	for _, m := range w.ModificationStates {
		out = append(out, *m.Resource+"="+*m.State)
	}
	return out
}

func TestModifyPropertiesThroughModificationStates(t *testing.T) {
	h := newHarness(t)
	id := h.launchAvailable("u", "ALWAYS_ON")
	// The running mode changes at once, with its default timeout.
	if err := h.modify(id, api.WorkspaceProperties{RunningMode: api.String("AUTO_STOP")}); err != nil {
		t.Fatal(err)
	}
	w := h.one(acctA, region1, id)
	if *w.WorkspaceProperties.RunningMode != "AUTO_STOP" || *w.WorkspaceProperties.RunningModeAutoStopTimeoutInMinutes != 60 || len(w.ModificationStates) != 0 {
		t.Fatalf("%+v %v", w.WorkspaceProperties, mods(w))
	}
	// The user volume grows through a modification; the state stays AVAILABLE.
	if err := h.modify(id, api.WorkspaceProperties{UserVolumeSizeGib: api.Int32(50)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		after time.Duration
		mods  []string
		user  int32
	}{
		{0, []string{"USER_VOLUME=UPDATE_INITIATED"}, 10},
		{time.Second, []string{"USER_VOLUME=UPDATE_IN_PROGRESS"}, 10},
		{4 * time.Second, nil, 50},
	} {
		h.Advance(c.after)
		w := h.one(acctA, region1, id)
		if diff := cmp.Diff(c.mods, mods(w)); diff != "" || *w.State != "AVAILABLE" || *w.WorkspaceProperties.UserVolumeSizeGib != c.user {
			t.Fatalf("after %s: state %s user %d mods %v", c.after, *w.State, *w.WorkspaceProperties.UserVolumeSizeGib, mods(w))
		}
	}
	// Volumes grow once in 6 hours; the compute type changes meanwhile.
	servicetest.WantCode(t, h.modify(id, api.WorkspaceProperties{UserVolumeSizeGib: api.Int32(100)}), "InvalidResourceStateException", "once in 6 hours")
	if err := h.modify(id, api.WorkspaceProperties{ComputeTypeName: api.String("STANDARD")}); err != nil {
		t.Fatal(err)
	}
	servicetest.WantCode(t, h.modify(id, api.WorkspaceProperties{Protocols: []string{"WSP"}}), "OperationInProgressException", "COMPUTE_TYPE")
	h.Advance(5 * time.Second)
	if w := h.one(acctA, region1, id); *w.WorkspaceProperties.ComputeTypeName != "STANDARD" {
		t.Fatalf("compute %s", *w.WorkspaceProperties.ComputeTypeName)
	}
	h.Advance(6 * time.Hour)
	if err := h.modify(id, api.WorkspaceProperties{UserVolumeSizeGib: api.Int32(100)}); err != nil {
		t.Fatalf("after 6 hours: %v", err)
	}
}

func TestModifyPropertiesRefuses(t *testing.T) {
	h := newHarness(t)
	id := h.launchAvailable("u", "ALWAYS_ON")
	pending := h.launch(acctA, region1, req(dirA, "p", publicBundle.ID))
	cases := []struct {
		name string
		id   string
		p    api.WorkspaceProperties
		code string
		frag string
	}{
		{"pending", pending, api.WorkspaceProperties{RunningMode: api.String("AUTO_STOP")}, "InvalidResourceStateException", "PENDING"},
		{"unknown", "ws-000000000", api.WorkspaceProperties{RunningMode: api.String("AUTO_STOP")}, "ResourceNotFoundException", ""},
		{"volume and compute", id, api.WorkspaceProperties{UserVolumeSizeGib: api.Int32(50), ComputeTypeName: api.String("STANDARD")}, "InvalidParameterValuesException", "same time"},
		{"root and user", id, api.WorkspaceProperties{RootVolumeSizeGib: api.Int32(175), UserVolumeSizeGib: api.Int32(100)}, "InvalidParameterValuesException", "same time"},
		{"shrink", id, api.WorkspaceProperties{UserVolumeSizeGib: api.Int32(5)}, "InvalidParameterValuesException", "only grow"},
		{"bad combination", id, api.WorkspaceProperties{RootVolumeSizeGib: api.Int32(100)}, "InvalidParameterValuesException", "not a valid combination"},
		{"to graphics", id, api.WorkspaceProperties{ComputeTypeName: api.String("GRAPHICS")}, "UnsupportedWorkspaceConfigurationException", "graphics"},
		{"timeout not AUTO_STOP", id, api.WorkspaceProperties{RunningModeAutoStopTimeoutInMinutes: api.Int32(120)}, "InvalidParameterValuesException", "AUTO_STOP"},
		{"two protocols", id, api.WorkspaceProperties{Protocols: []string{"PCOIP", "WSP"}}, "UnsupportedWorkspaceConfigurationException", "one protocol"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			servicetest.WantCode(t, h.modify(c.id, c.p), c.code, c.frag)
		})
	}
	if w := h.one(acctA, region1, id); len(w.ModificationStates) != 0 || *w.WorkspaceProperties.UserVolumeSizeGib != 10 {
		t.Errorf("a refusal changed the WorkSpace: %+v", w)
	}
}

func TestModificationFailureShowsUpdateFailed(t *testing.T) {
	h := newHarness(t)
	r := req(dirA, "u", publicBundle.ID)
	r.Tags = []api.Tag{{Key: api.String(pipeline.TagFailAt), Value: api.String("UPDATE_IN_PROGRESS")}}
	id := h.launch(acctA, region1, r)
	h.Advance(5 * time.Second)
	if err := h.modify(id, api.WorkspaceProperties{Protocols: []string{"WSP"}}); err != nil {
		t.Fatal(err)
	}
	h.Advance(time.Minute)
	w := h.one(acctA, region1, id)
	if diff := cmp.Diff([]string{"PROTOCOL=UPDATE_FAILED"}, mods(w)); diff != "" || w.WorkspaceProperties.Protocols[0] != "PCOIP" || *w.State != "AVAILABLE" {
		t.Fatalf("%v %v %s", mods(w), w.WorkspaceProperties.Protocols, *w.State)
	}
}

func TestMigrateReplacesTheWorkspace(t *testing.T) {
	h := newHarness(t, func(c *service.Config) { c.WorkspaceQuota = 1 })
	id := h.launchAvailable("u", "AUTO_STOP")
	var target records.PublicBundle
	for _, b := range records.PublicBundles {
		if b.ComputeType == "PERFORMANCE" && strings.Contains(b.Name, "Windows") {
			target = b
		}
	}
	out, err := servicetest.Call(h.Svc, api.OpMigrateWorkspace, as(acctA, region1), &api.MigrateWorkspaceInput{
		SourceWorkspaceId: api.String(id), BundleId: api.String(target.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if *out.SourceWorkspaceId != id || *out.TargetWorkspaceId == id {
		t.Fatalf("%+v", out)
	}
	if h.one(acctA, region1, id) != nil {
		t.Errorf("the source is still listed")
	}
	nid := *out.TargetWorkspaceId
	h.wantStates(nid, step{0, "PENDING"}, step{5 * time.Second, "AVAILABLE"})
	w := h.one(acctA, region1, nid)
	if *w.BundleId != target.ID || *w.WorkspaceProperties.ComputeTypeName != "PERFORMANCE" || *w.WorkspaceProperties.RunningMode != "AUTO_STOP" || *w.UserName != "u" {
		t.Errorf("%+v %+v", w, w.WorkspaceProperties)
	}
	for _, c := range []struct {
		name, src, bundle, code string
	}{
		{"same bundle", nid, target.ID, "InvalidParameterValuesException"},
		{"unknown bundle", nid, "wsb-zzzzzzzzz", "ResourceNotFoundException"},
		{"unknown source", "ws-000000000", publicBundle.ID, "ResourceNotFoundException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := servicetest.Call(h.Svc, api.OpMigrateWorkspace, as(acctA, region1), &api.MigrateWorkspaceInput{
				SourceWorkspaceId: api.String(c.src), BundleId: api.String(c.bundle)})
			servicetest.WantCode(t, err, c.code)
		})
	}
	h.power(api.OpRebootWorkspaces.Name, nid)
	_, err = servicetest.Call(h.Svc, api.OpMigrateWorkspace, as(acctA, region1), &api.MigrateWorkspaceInput{
		SourceWorkspaceId: api.String(nid), BundleId: api.String(publicBundle.ID)})
	servicetest.WantCode(t, err, "OperationInProgressException", "REBOOTING")
}

func TestConnectionStatus(t *testing.T) {
	h := newHarness(t)
	pending := h.launch(acctA, region1, req(dirA, "p", publicBundle.ID))
	out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspacesConnectionStatus, as(acctA, region1), &api.DescribeWorkspacesConnectionStatusInput{WorkspaceIds: []string{pending}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.WorkspacesConnectionStatus) != 1 || out.WorkspacesConnectionStatus[0].ConnectionState != nil {
		t.Fatalf("a just-launched WorkSpace has no connection state: %+v", out.WorkspacesConnectionStatus)
	}
	r := req(dirA, "c", publicBundle.ID)
	r.Tags = []api.Tag{{Key: api.String("wsim:connection-state"), Value: api.String("CONNECTED")}}
	connected := h.launch(acctA, region1, r)
	h.Advance(5 * time.Second)
	out, err = servicetest.Call(h.Svc, api.OpDescribeWorkspacesConnectionStatus, as(acctA, region1), &api.DescribeWorkspacesConnectionStatusInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range out.WorkspacesConnectionStatus {
		got[*c.WorkspaceId] = *c.ConnectionState
		if !c.ConnectionStateCheckTimestamp.Equal(h.Now()) {
			t.Errorf("checked at %v", c.ConnectionStateCheckTimestamp)
		}
	}
	if diff := cmp.Diff(map[string]string{pending: "DISCONNECTED", connected: "CONNECTED"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_ = context.Background
}
