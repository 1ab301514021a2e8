package workspaces_test

import (
	"context"
	"regexp"
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

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	region1 = "us-east-1"
	region2 = "eu-west-1"
	dirA    = "d-926722edaf"
	dirB    = "d-1234567890"
	dirDed  = "d-abcdef0123"
)

var as = servicetest.As

// publicBundle is the first public Windows bundle with an 80/10 layout.
var publicBundle = func() records.PublicBundle {
	for _, b := range records.PublicBundles {
		if b.ComputeType == "VALUE" && strings.Contains(b.Name, "Windows") {
			return b
		}
	}
	return records.PublicBundles[0]
}()

type harness struct{ *servicetest.Harness }

// newHarness is the service harness with a quota of 10 WorkSpaces, and
// registered directories dirA, dirB (SHARED) and dirDed (DEDICATED) in
// acctA/region1, made as records: directory registration is another
// package's.
func newHarness(t *testing.T, mutate ...func(*service.Config)) *harness {
	t.Helper()
	mutate = append([]func(*service.Config){func(c *service.Config) { c.WorkspaceQuota = 10 }}, mutate...)
	h := &harness{servicetest.New(t, mutate...)}
	h.Freeze()
	h.directory(acctA, region1, dirA, api.TenancyShared)
	h.directory(acctA, region1, dirB, api.TenancyShared)
	h.directory(acctA, region1, dirDed, api.TenancyDedicated)
	return h
}

func (h *harness) directory(account, region, id, tenancy string) {
	h.T.Helper()
	now := h.Now()
	d := &records.Directory{
		Meta:         records.Meta{Account: account, Region: region, ID: id, Created: now},
		Registration: pipeline.Plan{Start: now, Final: api.WorkspaceDirectoryStateRegistered},
		Tenancy:      tenancy,
	}
	if err := records.Directories.Create(context.Background(), h.Svc.Records(), d, nil); err != nil {
		h.T.Fatal(err)
	}
}

func (h *harness) create(account, region string, reqs ...api.WorkspaceRequest) *api.CreateWorkspacesOutput {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpCreateWorkspaces, as(account, region), &api.CreateWorkspacesInput{Workspaces: reqs})
	if err != nil {
		h.T.Fatalf("CreateWorkspaces: %v", err)
	}
	return out
}

// launch creates one WorkSpace and returns its id, failing on a refusal.
func (h *harness) launch(account, region string, r api.WorkspaceRequest) string {
	h.T.Helper()
	out := h.create(account, region, r)
	if len(out.FailedRequests) > 0 {
		h.T.Fatalf("CreateWorkspaces failed: %s %s", *out.FailedRequests[0].ErrorCode, *out.FailedRequests[0].ErrorMessage)
	}
	return *out.PendingRequests[0].WorkspaceId
}

func req(dir, user, bundle string) api.WorkspaceRequest {
	return api.WorkspaceRequest{DirectoryId: api.String(dir), UserName: api.String(user), BundleId: api.String(bundle)}
}

func (h *harness) describe(account, region string, in *api.DescribeWorkspacesInput) *api.DescribeWorkspacesOutput {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaces, as(account, region), in)
	if err != nil {
		h.T.Fatalf("DescribeWorkspaces: %v", err)
	}
	return out
}

// one describes a WorkSpace by id; nil when it is not listed.
func (h *harness) one(account, region, id string) *api.Workspace {
	h.T.Helper()
	out := h.describe(account, region, &api.DescribeWorkspacesInput{WorkspaceIds: []string{id}})
	if len(out.Workspaces) == 0 {
		return nil
	}
	return &out.Workspaces[0]
}

func (h *harness) state(id string) string {
	h.T.Helper()
	w := h.one(acctA, region1, id)
	if w == nil {
		return "gone"
	}
	return *w.State
}

// wantStates advances the clock by each step and checks the state after it.
func (h *harness) wantStates(id string, steps ...step) {
	h.T.Helper()
	for _, s := range steps {
		h.Advance(s.after)
		if got := h.state(id); got != s.state {
			h.T.Fatalf("after %s more: state %s, want %s", s.after, got, s.state)
		}
	}
}

type step struct {
	after time.Duration
	state string
}

func TestCreateLaunchesFromPublicBundleAndBecomesAvailable(t *testing.T) {
	h := newHarness(t)
	out := h.create(acctA, region1, req(dirA, "Mateo", publicBundle.ID))
	if len(out.FailedRequests) != 0 || len(out.PendingRequests) != 1 {
		t.Fatalf("got %+v", out)
	}
	p := out.PendingRequests[0]
	if *p.State != "PENDING" || *p.DirectoryId != dirA || *p.UserName != "Mateo" || *p.BundleId != publicBundle.ID {
		t.Fatalf("pending request %+v", p)
	}
	id := *p.WorkspaceId
	if !regexp.MustCompile(`^ws-[0-9a-z]{9}$`).MatchString(id) {
		t.Fatalf("id %q", id)
	}
	w := h.one(acctA, region1, id)
	if *w.State != "PENDING" || w.IpAddress != nil || w.ComputerName != nil {
		t.Fatalf("a PENDING WorkSpace has no address or computer name yet: %+v", w)
	}
	h.wantStates(id, step{4 * time.Second, "PENDING"}, step{time.Second, "AVAILABLE"})
	w = h.one(acctA, region1, id)
	if !regexp.MustCompile(`^WSAMZN-[A-Z0-9]{8}$`).MatchString(*w.ComputerName) {
		t.Errorf("ComputerName %q", *w.ComputerName)
	}
	if !regexp.MustCompile(`^172\.(1[6-9]|2[0-9]|3[01])\.\d+\.\d+$`).MatchString(*w.IpAddress) {
		t.Errorf("IpAddress %q", *w.IpAddress)
	}
	if !regexp.MustCompile(`^subnet-[0-9a-f]{17}$`).MatchString(*w.SubnetId) {
		t.Errorf("SubnetId %q", *w.SubnetId)
	}
	want := &api.WorkspaceProperties{
		RunningMode: api.String("ALWAYS_ON"), RootVolumeSizeGib: api.Int32(80), UserVolumeSizeGib: api.Int32(10),
		ComputeTypeName: api.String("VALUE"), Protocols: []string{"PCOIP"}, OperatingSystemName: w.WorkspaceProperties.OperatingSystemName,
	}
	if diff := cmp.Diff(want, w.WorkspaceProperties); diff != "" {
		t.Errorf("properties (-want +got):\n%s", diff)
	}
	if w.ModificationStates == nil || len(w.ModificationStates) != 0 {
		t.Errorf("ModificationStates %v, want []", w.ModificationStates)
	}
}

func TestCreateAutoStopDefaultsItsTimeout(t *testing.T) {
	h := newHarness(t)
	r := req(dirA, "Mary", publicBundle.ID)
	r.WorkspaceProperties = &api.WorkspaceProperties{RunningMode: api.String("AUTO_STOP")}
	id := h.launch(acctA, region1, r)
	w := h.one(acctA, region1, id)
	if *w.WorkspaceProperties.RunningMode != "AUTO_STOP" || api.ToInt32(w.WorkspaceProperties.RunningModeAutoStopTimeoutInMinutes, 0) != 60 {
		t.Fatalf("properties %+v", w.WorkspaceProperties)
	}
}

func TestCreateRefusesPerItem(t *testing.T) {
	h := newHarness(t)
	h.directory(acctA, region1, "d-0000000001", api.TenancyShared)
	// A directory still registering.
	now := h.Now()
	reg := &records.Directory{
		Meta: records.Meta{Account: acctA, Region: region1, ID: "d-0000000002", Created: now},
		Registration: pipeline.Plan{Start: now, Final: api.WorkspaceDirectoryStateRegistered,
			Stages: []pipeline.Stage{{State: "REGISTERING", Duration: 100 * time.Hour}}},
	}
	if err := records.Directories.Create(context.Background(), h.Svc.Records(), reg, nil); err != nil {
		t.Fatal(err)
	}
	h.launch(acctA, region1, req(dirA, "taken", publicBundle.ID))
	byol := h.byolBundle()

	withProps := func(r api.WorkspaceRequest, p api.WorkspaceProperties) api.WorkspaceRequest {
		r.WorkspaceProperties = &p
		return r
	}
	linux := ""
	for _, b := range records.PublicBundles {
		if regexp.MustCompile(`Amazon Linux`).MatchString(b.Name) {
			linux = b.ID
		}
	}
	cases := []struct {
		name string
		r    api.WorkspaceRequest
		code string
		frag string
	}{
		{"unknown directory", req("d-ffffffffff", "u", publicBundle.ID), "ResourceNotFound.Directory", "The specified directory could not be found in the specified region."},
		{"directory of another Region", req(dirA, "u", publicBundle.ID), "", ""},
		{"registering directory", req("d-0000000002", "u", publicBundle.ID), "InvalidResourceState.Directory", "REGISTERING"},
		{"unknown bundle", req(dirA, "u", "wsb-zzzzzzzzz"), "ResourceNotFound.Bundle", "wsb-zzzzzzzzz"},
		{"user has one", req(dirA, "TAKEN", publicBundle.ID), "ResourceExists.Workspace", "already has a WorkSpace"},
		{"BYOL into SHARED", req(dirB, "u", byol), "UnsupportedWorkspaceConfiguration.Tenancy", "DEDICATED"},
		{"decoupled without name", req(dirA, "[UNDEFINED]", publicBundle.ID), "InvalidParameterValues", "WorkspaceName is required"},
		{"bad volumes", withProps(req(dirA, "u", publicBundle.ID), api.WorkspaceProperties{RootVolumeSizeGib: api.Int32(90)}), "InvalidParameterValues", "not a valid combination"},
		{"timeout not AUTO_STOP", withProps(req(dirA, "u", publicBundle.ID), api.WorkspaceProperties{RunningModeAutoStopTimeoutInMinutes: api.Int32(60)}), "InvalidParameterValues", "applies only to the AUTO_STOP"},
		{"timeout not hourly", withProps(req(dirA, "u", publicBundle.ID), api.WorkspaceProperties{RunningMode: api.String("AUTO_STOP"), RunningModeAutoStopTimeoutInMinutes: api.Int32(90)}), "InvalidParameterValues", "multiple of 60"},
		{"PCOIP on Linux", withProps(req(dirA, "u", linux), api.WorkspaceProperties{Protocols: []string{"PCOIP"}}), "InvalidParameterValues", "PCOIP"},
		{"fail-at no stage", func() api.WorkspaceRequest {
			r := req(dirA, "u", publicBundle.ID)
			r.Tags = []api.Tag{{Key: api.String(pipeline.TagFailAt), Value: api.String("NOWHERE")}}
			return r
		}(), "InvalidParameterValues", "not a stage of any WorkSpace operation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			region := region1
			if c.code == "" {
				region, c.code, c.frag = region2, "ResourceNotFound.Directory", "could not be found"
			}
			out := h.create(acctA, region, c.r)
			if len(out.PendingRequests) != 0 || len(out.FailedRequests) != 1 {
				t.Fatalf("got %+v", out)
			}
			f := out.FailedRequests[0]
			if *f.ErrorCode != c.code || !regexp.MustCompile(regexp.QuoteMeta(c.frag)).MatchString(*f.ErrorMessage) {
				t.Errorf("got %s %q, want %s containing %q", *f.ErrorCode, *f.ErrorMessage, c.code, c.frag)
			}
			if *f.WorkspaceRequest.BundleId != *c.r.BundleId {
				t.Errorf("FailedRequests echoes %+v", f.WorkspaceRequest)
			}
		})
	}
}

// byolBundle imports a BYOL image, lets it finish and makes a bundle of it.
func (h *harness) byolBundle() string {
	h.T.Helper()
	ctx := as(acctA, region1)
	img, err := servicetest.Call(h.Svc, api.OpImportWorkspaceImage, ctx, &api.ImportWorkspaceImageInput{
		Ec2ImageId: api.String("ami-0123456789abcdef0"), IngestionProcess: api.String(api.WorkspaceImageIngestionProcessByolRegularWsp),
		ImageName: api.String("byol-" + h.Now().Format("150405.000000000")), ImageDescription: api.String("byol"),
	})
	if err != nil {
		h.T.Fatal(err)
	}
	h.Advance(time.Hour)
	b, err := servicetest.Call(h.Svc, api.OpCreateWorkspaceBundle, ctx, &api.CreateWorkspaceBundleInput{
		BundleName: api.String("byol-bundle-" + h.Now().Format("150405")), BundleDescription: api.String("byol"),
		ImageId: img.ImageId, ComputeType: &api.ComputeType{Name: api.String("STANDARD")},
		UserStorage: &api.UserStorage{Capacity: api.String("50")}, RootStorage: &api.RootStorage{Capacity: api.String("80")},
	})
	if err != nil {
		h.T.Fatal(err)
	}
	return *b.WorkspaceBundle.BundleId
}

func TestCreateBYOLIntoDedicatedDirectory(t *testing.T) {
	h := newHarness(t)
	b := h.byolBundle()
	id := h.launch(acctA, region1, req(dirDed, "byoluser", b))
	h.wantStates(id, step{5 * time.Second, "AVAILABLE"})
	w := h.one(acctA, region1, id)
	if *w.WorkspaceProperties.ComputeTypeName != "STANDARD" || *w.WorkspaceProperties.UserVolumeSizeGib != 50 {
		t.Errorf("properties from the bundle: %+v", w.WorkspaceProperties)
	}
}

func TestCreateBatchIsPerItemAndQuotaCounts(t *testing.T) {
	h := newHarness(t, func(c *service.Config) { c.WorkspaceQuota = 2 })
	out := h.create(acctA, region1,
		req(dirA, "u1", publicBundle.ID), req("d-ffffffffff", "u2", publicBundle.ID),
		req(dirA, "u3", publicBundle.ID), req(dirA, "u4", publicBundle.ID))
	if len(out.PendingRequests) != 2 || len(out.FailedRequests) != 2 {
		t.Fatalf("got %+v", out)
	}
	if got := *out.FailedRequests[1].ErrorCode; got != "ResourceLimitExceeded" {
		t.Errorf("quota: %s %s", got, *out.FailedRequests[1].ErrorMessage)
	}
	if *out.FailedRequests[1].WorkspaceRequest.UserName != "u4" {
		t.Errorf("the quota refuses the last: %+v", out.FailedRequests[1].WorkspaceRequest)
	}
	// Terminating frees the quota, once the WorkSpace is gone.
	id := *out.PendingRequests[0].WorkspaceId
	h.terminate(id)
	if f := h.create(acctA, region1, req(dirA, "u5", publicBundle.ID)).FailedRequests; len(f) != 1 {
		t.Fatalf("a TERMINATING WorkSpace still counts: %+v", f)
	}
	h.Advance(5 * time.Second)
	if f := h.create(acctA, region1, req(dirA, "u5", publicBundle.ID)).FailedRequests; len(f) != 0 {
		t.Fatalf("a gone WorkSpace still counts: %s", *f[0].ErrorMessage)
	}
}

func (h *harness) terminate(ids ...string) []api.FailedWorkspaceChangeRequest {
	h.T.Helper()
	in := &api.TerminateWorkspacesInput{}
	for _, id := range ids {
		in.TerminateWorkspaceRequests = append(in.TerminateWorkspaceRequests, api.TerminateRequest{WorkspaceId: api.String(id)})
	}
	out, err := servicetest.Call(h.Svc, api.OpTerminateWorkspaces, as(acctA, region1), in)
	if err != nil {
		h.T.Fatalf("TerminateWorkspaces: %v", err)
	}
	return out.FailedRequests
}

func TestTerminateGoesThroughTerminatedToGone(t *testing.T) {
	h := newHarness(t)
	id := h.launch(acctA, region1, req(dirA, "u", publicBundle.ID))
	if f := h.terminate(id, "ws-000000000"); len(f) != 1 || *f[0].WorkspaceId != "ws-000000000" || *f[0].ErrorCode != "ResourceNotFound.Workspace" {
		t.Fatalf("FailedRequests %+v", f)
	}
	h.wantStates(id, step{0, "TERMINATING"}, step{2 * time.Second, "TERMINATING"}, step{time.Second, "TERMINATED"}, step{2 * time.Second, "gone"})
	if f := h.terminate(id); len(f) != 1 {
		t.Errorf("terminating a gone WorkSpace: %+v", f)
	}
}

func TestFailureTagEndsInError(t *testing.T) {
	h := newHarness(t)
	r := req(dirA, "u", publicBundle.ID)
	r.Tags = []api.Tag{{Key: api.String(pipeline.TagFailAt), Value: api.String("PENDING")},
		{Key: api.String(pipeline.TagErrorCode), Value: api.String("InvalidSubnet")}}
	id := h.launch(acctA, region1, r)
	h.wantStates(id, step{2 * time.Second, "PENDING"}, step{time.Second, "ERROR"})
	w := h.one(acctA, region1, id)
	if *w.ErrorCode != "InvalidSubnet" || w.ErrorMessage == nil || w.IpAddress != nil {
		t.Errorf("%+v", w)
	}
	// A stage of a later operation leaves the launch alone and fails that one.
	r = req(dirA, "v", publicBundle.ID)
	r.WorkspaceProperties = &api.WorkspaceProperties{RunningMode: api.String("AUTO_STOP")}
	r.Tags = []api.Tag{{Key: api.String(pipeline.TagFailAt), Value: api.String("STOPPING")}}
	id = h.launch(acctA, region1, r)
	h.wantStates(id, step{5 * time.Second, "AVAILABLE"})
	h.power(api.OpStopWorkspaces.Name, id)
	h.wantStates(id, step{time.Second, "STOPPING"}, step{time.Second, "ERROR"})
	if w := h.one(acctA, region1, id); *w.ErrorCode != "WorkspaceStopFailed" {
		t.Errorf("default code %s", *w.ErrorCode)
	}
}

func TestFaultRuleFailsMatchingLaunch(t *testing.T) {
	h := newHarness(t)
	if _, err := h.Svc.AddFaultRule(context.Background(), pipeline.FaultRule{Kind: "workspace-create", NamePattern: "doomed*", FailAt: "PENDING"}); err != nil {
		t.Fatal(err)
	}
	bad := h.launch(acctA, region1, req(dirA, "doomed1", publicBundle.ID))
	good := h.launch(acctA, region1, req(dirA, "fine", publicBundle.ID))
	h.Advance(5 * time.Second)
	if h.state(bad) != "ERROR" || h.state(good) != "AVAILABLE" {
		t.Fatalf("bad %s good %s", h.state(bad), h.state(good))
	}
}

func TestDescribeFiltersAndPages(t *testing.T) {
	h := newHarness(t)
	a1 := h.launch(acctA, region1, req(dirA, "alice", publicBundle.ID))
	a2 := h.launch(acctA, region1, req(dirA, "bob", publicBundle.ID))
	b1 := h.launch(acctA, region1, req(dirB, "alice", publicBundle.ID))
	named := req(dirB, "[UNDEFINED]", publicBundle.ID)
	named.WorkspaceName = api.String("MaryWorkspace1")
	n1 := h.launch(acctA, region1, named)
	other := h.byolBundle()
	d1 := h.launch(acctA, region1, req(dirDed, "carol", other))

	ids := func(out *api.DescribeWorkspacesOutput) []string {
		var got []string
		for _, w := range out.Workspaces {
			got = append(got, *w.WorkspaceId)
		}
		return got
	}
	sorted := func(s ...string) []string {
		out := append([]string(nil), s...)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if out[j] < out[i] {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	}
	cases := []struct {
		name string
		in   api.DescribeWorkspacesInput
		want []string
	}{
		{"all", api.DescribeWorkspacesInput{}, sorted(a1, a2, b1, n1, d1)},
		{"ids", api.DescribeWorkspacesInput{WorkspaceIds: []string{a2, "ws-000000000", b1}}, sorted(a2, b1)},
		{"directory", api.DescribeWorkspacesInput{DirectoryId: api.String(dirA)}, sorted(a1, a2)},
		{"directory and user", api.DescribeWorkspacesInput{DirectoryId: api.String(dirB), UserName: api.String("ALICE")}, []string{b1}},
		{"bundle", api.DescribeWorkspacesInput{BundleId: api.String(other)}, []string{d1}},
		{"name", api.DescribeWorkspacesInput{WorkspaceName: api.String("MaryWorkspace1")}, []string{n1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, ids(h.describe(acctA, region1, &c.in))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// The same, a page of one at a time.
			in := c.in
			in.Limit = api.Int32(1)
			var got []string
			for {
				out := h.describe(acctA, region1, &in)
				if len(out.Workspaces) > 1 {
					t.Fatalf("page of %d", len(out.Workspaces))
				}
				got = append(got, ids(out)...)
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("paged (-want +got):\n%s", diff)
			}
		})
	}
	for _, c := range []struct {
		name string
		in   api.DescribeWorkspacesInput
		code string
	}{
		{"two filters", api.DescribeWorkspacesInput{DirectoryId: api.String(dirA), BundleId: api.String(publicBundle.ID)}, "InvalidParameterValuesException"},
		{"ids and name", api.DescribeWorkspacesInput{WorkspaceIds: []string{a1}, WorkspaceName: api.String("x1")}, "InvalidParameterValuesException"},
		{"user alone", api.DescribeWorkspacesInput{UserName: api.String("alice")}, "InvalidParameterValuesException"},
		{"limit 26", api.DescribeWorkspacesInput{Limit: api.Int32(26)}, "ValidationException"},
		{"bad token", api.DescribeWorkspacesInput{NextToken: api.String("nope")}, "ValidationException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := servicetest.Call(h.Svc, api.OpDescribeWorkspaces, as(acctA, region1), &c.in)
			servicetest.WantCode(t, err, c.code)
		})
	}
	// Isolation: another account and another Region see none of them.
	for _, scope := range [][2]string{{acctB, region1}, {acctA, region2}} {
		if got := h.describe(scope[0], scope[1], &api.DescribeWorkspacesInput{}); len(got.Workspaces) != 0 {
			t.Errorf("%v sees %v", scope, ids(got))
		}
	}
}

func TestStrictDirectoriesKnowOnlyDeclaredUsers(t *testing.T) {
	h := newHarness(t, func(c *service.Config) { c.Directories = service.DirectoriesStrict })
	ds := &records.DSDirectory{
		Meta: records.Meta{Account: acctA, Region: region1, ID: dirA, Created: h.Now()},
		Type: "SIMPLE_AD", Stage: records.DSStageActive, Users: []string{"alice"},
	}
	if err := records.DSDirectories.Create(context.Background(), h.Svc.Records(), ds, nil); err != nil {
		t.Fatal(err)
	}
	out := h.create(acctA, region1, req(dirA, "ALICE", publicBundle.ID), req(dirA, "mallory", publicBundle.ID), req(dirB, "alice", publicBundle.ID))
	if len(out.PendingRequests) != 1 || *out.PendingRequests[0].UserName != "ALICE" {
		t.Fatalf("pending %+v", out.PendingRequests)
	}
	for i, user := range []string{"mallory", "alice"} {
		f := out.FailedRequests[i]
		if *f.WorkspaceRequest.UserName != user || *f.ErrorCode != "ResourceNotFound.User" {
			t.Errorf("FailedRequests[%d] = %s %s", i, *f.ErrorCode, *f.ErrorMessage)
		}
	}
}
