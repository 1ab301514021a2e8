package e2e_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
)

// publicWindowsBundle is a public bundle (Value with Windows 10) real
// clients name by id.
const publicWindowsBundle = "wsb-bh8rsxt14"

var (
	regexpWorkspaceID  = regexp.MustCompile(`^ws-[0-9a-z]{9}$`)
	regexpComputerName = regexp.MustCompile(`^WSAMZN-[A-Z0-9]{8}$`)
)

func registerWSDirectory(t *testing.T, c *workspaces.Client, id string, tenancy types.Tenancy) {
	t.Helper()
	if _, err := c.RegisterWorkspaceDirectory(ctx(t), &workspaces.RegisterWorkspaceDirectoryInput{
		DirectoryId: aws.String(id), Tenancy: tenancy,
	}); err != nil {
		t.Fatalf("RegisterWorkspaceDirectory(%s): %v", id, err)
	}
}

func wsDirectoryState(t *testing.T, c *workspaces.Client, id string) string {
	t.Helper()
	out, err := c.DescribeWorkspaceDirectories(ctx(t), &workspaces.DescribeWorkspaceDirectoriesInput{DirectoryIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeWorkspaceDirectories(%s): %v", id, err)
	}
	if len(out.Directories) == 0 {
		return "gone"
	}
	return string(out.Directories[0].State)
}

func wsRequest(dir, user, bundle string, mode types.RunningMode, tags ...types.Tag) types.WorkspaceRequest {
	r := types.WorkspaceRequest{DirectoryId: aws.String(dir), UserName: aws.String(user), BundleId: aws.String(bundle), Tags: tags}
	if mode != "" {
		r.WorkspaceProperties = &types.WorkspaceProperties{RunningMode: mode}
	}
	return r
}

func launchWorkspace(t *testing.T, c *workspaces.Client, r types.WorkspaceRequest) string {
	t.Helper()
	out, err := c.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{r}})
	if err != nil {
		t.Fatalf("CreateWorkspaces: %v", err)
	}
	if len(out.FailedRequests) != 0 {
		t.Fatalf("CreateWorkspaces failed: %s %s", aws.ToString(out.FailedRequests[0].ErrorCode), aws.ToString(out.FailedRequests[0].ErrorMessage))
	}
	p := out.PendingRequests[0]
	if p.State != types.WorkspaceStatePending || !regexpWorkspaceID.MatchString(aws.ToString(p.WorkspaceId)) {
		t.Fatalf("pending request %+v", p)
	}
	return aws.ToString(p.WorkspaceId)
}

// describeWorkspace is the WorkSpace, or nil once DescribeWorkspaces no
// longer lists it.
func describeWorkspace(t *testing.T, c *workspaces.Client, id string) *types.Workspace {
	t.Helper()
	out, err := c.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{WorkspaceIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeWorkspaces(%s): %v", id, err)
	}
	if len(out.Workspaces) == 0 {
		return nil
	}
	return &out.Workspaces[0]
}

func workspaceState(t *testing.T, c *workspaces.Client, id string) string {
	t.Helper()
	w := describeWorkspace(t, c, id)
	if w == nil {
		return "gone"
	}
	return string(w.State)
}

// stateStep is a clock advance and the state expected after it.
type stateStep struct {
	after time.Duration
	state string
}

// observe advances the frozen clock step by step and checks each state.
func observe(t *testing.T, srv *server, what string, state func() string, steps ...stateStep) {
	t.Helper()
	for _, s := range steps {
		if s.after > 0 {
			srv.Advance(t, s.after)
		}
		if got := state(); got != s.state {
			t.Fatalf("%s: after %s more, state %s, want %s", what, s.after, got, s.state)
		}
	}
}

func TestWorkspaceWholeStory(t *testing.T) { forEachStore(t, workspaceWholeStory) }

// workspaceWholeStory follows a BYOL WorkSpace from the image import to the
// directory's deregistration, observing every state in order on a frozen
// clock moved by hand (quick profile).
func workspaceWholeStory(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick")
	srv.FreezeRounded(t)
	c := srv.Client(t, accountA, usEast1)

	img := importImage(t, c, importInput("story-win11"))
	observe(t, srv, "import", func() string { return string(describeImport(t, c, img).State) },
		stateStep{0, "PENDING"}, stateStep{40 * time.Second, "COMPLETED"})
	bundle := aws.ToString(createBundle(t, c, bundleInput("story-bundle", img)).BundleId)

	const dedicated, shared = "d-9067a1b2c3", "d-9067a1b2c4"
	registerWSDirectory(t, c, dedicated, types.TenancyDedicated)
	registerWSDirectory(t, c, shared, types.TenancyShared)
	observe(t, srv, "directory", func() string { return wsDirectoryState(t, c, dedicated) },
		stateStep{0, "REGISTERING"}, stateStep{3 * time.Second, "REGISTERED"})

	// A BYOL bundle launches only into the DEDICATED directory; the batch
	// answers per item.
	out, err := c.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{
		wsRequest(shared, "Mary", bundle, ""),
		wsRequest(dedicated, "Mary", bundle, types.RunningModeAutoStop, tag("team", "story")),
		wsRequest("d-ffffffffff", "Mary", bundle, ""),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.PendingRequests) != 1 || len(out.FailedRequests) != 2 {
		t.Fatalf("CreateWorkspaces: %+v", out)
	}
	for i, want := range []struct{ dir, code, frag string }{
		{shared, "UnsupportedWorkspaceConfiguration.Tenancy", "DEDICATED"},
		{"d-ffffffffff", "ResourceNotFound.Directory", "The specified directory could not be found in the specified region."},
	} {
		f := out.FailedRequests[i]
		if aws.ToString(f.WorkspaceRequest.DirectoryId) != want.dir || aws.ToString(f.ErrorCode) != want.code || !strings.Contains(aws.ToString(f.ErrorMessage), want.frag) {
			t.Errorf("FailedRequests[%d] = %s %s (%s), want %s %q", i, aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage), aws.ToString(f.WorkspaceRequest.DirectoryId), want.code, want.frag)
		}
	}
	id := aws.ToString(out.PendingRequests[0].WorkspaceId)
	state := func() string { return workspaceState(t, c, id) }
	observe(t, srv, "launch", state, stateStep{0, "PENDING"}, stateStep{4 * time.Second, "PENDING"}, stateStep{time.Second, "AVAILABLE"})

	w := describeWorkspace(t, c, id)
	if aws.ToString(w.DirectoryId) != dedicated || aws.ToString(w.UserName) != "Mary" || aws.ToString(w.BundleId) != bundle ||
		!regexpComputerName.MatchString(aws.ToString(w.ComputerName)) || aws.ToString(w.IpAddress) == "" || aws.ToString(w.SubnetId) == "" {
		t.Errorf("WorkSpace %+v", w)
	}
	p := w.WorkspaceProperties
	if p.RunningMode != types.RunningModeAutoStop || aws.ToInt32(p.RunningModeAutoStopTimeoutInMinutes) != 60 ||
		aws.ToInt32(p.RootVolumeSizeGib) != 80 || aws.ToInt32(p.UserVolumeSizeGib) != 50 || p.ComputeTypeName != types.ComputeStandard {
		t.Errorf("WorkspaceProperties %+v", p)
	}
	if got := describeTags(t, c, id); got["team"] != "story" {
		t.Errorf("DescribeTags = %v", got)
	}

	power := []struct {
		name  string
		call  func() ([]types.FailedWorkspaceChangeRequest, error)
		steps []stateStep
	}{
		{"stop", func() ([]types.FailedWorkspaceChangeRequest, error) {
			o, err := c.StopWorkspaces(ctx(t), &workspaces.StopWorkspacesInput{StopWorkspaceRequests: []types.StopRequest{{WorkspaceId: aws.String(id)}}})
			return failedOf(o, err, func() []types.FailedWorkspaceChangeRequest { return o.FailedRequests })
		}, []stateStep{{0, "STOPPING"}, {3 * time.Second, "STOPPED"}}},
		{"start", func() ([]types.FailedWorkspaceChangeRequest, error) {
			o, err := c.StartWorkspaces(ctx(t), &workspaces.StartWorkspacesInput{StartWorkspaceRequests: []types.StartRequest{{WorkspaceId: aws.String(id)}}})
			return failedOf(o, err, func() []types.FailedWorkspaceChangeRequest { return o.FailedRequests })
		}, []stateStep{{0, "STARTING"}, {3 * time.Second, "AVAILABLE"}}},
		{"reboot", func() ([]types.FailedWorkspaceChangeRequest, error) {
			o, err := c.RebootWorkspaces(ctx(t), &workspaces.RebootWorkspacesInput{RebootWorkspaceRequests: []types.RebootRequest{{WorkspaceId: aws.String(id)}}})
			return failedOf(o, err, func() []types.FailedWorkspaceChangeRequest { return o.FailedRequests })
		}, []stateStep{{0, "REBOOTING"}, {3 * time.Second, "AVAILABLE"}}},
		{"rebuild", func() ([]types.FailedWorkspaceChangeRequest, error) {
			o, err := c.RebuildWorkspaces(ctx(t), &workspaces.RebuildWorkspacesInput{RebuildWorkspaceRequests: []types.RebuildRequest{{WorkspaceId: aws.String(id)}}})
			return failedOf(o, err, func() []types.FailedWorkspaceChangeRequest { return o.FailedRequests })
		}, []stateStep{{0, "REBUILDING"}, {6 * time.Second, "AVAILABLE"}}},
	}
	for _, op := range power {
		failed, err := op.call()
		if err != nil || len(failed) != 0 {
			t.Fatalf("%s: %v %+v", op.name, err, failed)
		}
		observe(t, srv, op.name, state, op.steps...)
	}

	// Starting an AVAILABLE WorkSpace is refused per item.
	so, err := c.StartWorkspaces(ctx(t), &workspaces.StartWorkspacesInput{StartWorkspaceRequests: []types.StartRequest{{WorkspaceId: aws.String(id)}}})
	if err != nil || len(so.FailedRequests) != 1 || aws.ToString(so.FailedRequests[0].ErrorCode) != "InvalidResourceState" {
		t.Fatalf("start AVAILABLE: %v %+v", err, so)
	}

	// The bundle can't be deleted while the WorkSpace uses it.
	_, err = c.DeleteWorkspaceBundle(ctx(t), &workspaces.DeleteWorkspaceBundleInput{BundleId: aws.String(bundle)})
	wantAPIError(t, err, "ResourceAssociatedException", 400, id)

	ci, err := c.CreateWorkspaceImage(ctx(t), &workspaces.CreateWorkspaceImageInput{
		Name: aws.String("story-golden"), Description: aws.String("captured"), WorkspaceId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if ci.State != types.WorkspaceImageStatePending || ci.RequiredTenancy != types.WorkspaceImageRequiredTenancyDedicated || aws.ToString(ci.OwnerAccountId) != accountA {
		t.Errorf("CreateWorkspaceImage = %+v", ci)
	}
	golden := aws.ToString(ci.ImageId)
	both := func() string { return state() + "/" + string(catalogueImage(t, c, golden).State) }
	observe(t, srv, "capture", both, stateStep{0, "SUSPENDED/PENDING"}, stateStep{9 * time.Second, "SUSPENDED/PENDING"}, stateStep{time.Second, "AVAILABLE/AVAILABLE"})

	// The directory can't be deregistered while it has a WorkSpace.
	_, err = c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String(dedicated)})
	wantAPIError(t, err, "OperationNotSupportedException", 400, id)

	to, err := c.TerminateWorkspaces(ctx(t), &workspaces.TerminateWorkspacesInput{TerminateWorkspaceRequests: []types.TerminateRequest{{WorkspaceId: aws.String(id)}}})
	if err != nil || len(to.FailedRequests) != 0 {
		t.Fatalf("TerminateWorkspaces: %v %+v", err, to)
	}
	observe(t, srv, "termination", state, stateStep{0, "TERMINATING"}, stateStep{3 * time.Second, "TERMINATED"}, stateStep{2 * time.Second, "gone"})

	if _, err := c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String(dedicated)}); err != nil {
		t.Fatal(err)
	}
	observe(t, srv, "deregistration", func() string { return wsDirectoryState(t, c, dedicated) },
		stateStep{0, "DEREGISTERING"}, stateStep{3 * time.Second, "DEREGISTERED"}, stateStep{2 * time.Second, "gone"})
	if _, err := c.DeleteWorkspaceBundle(ctx(t), &workspaces.DeleteWorkspaceBundleInput{BundleId: aws.String(bundle)}); err != nil {
		t.Errorf("DeleteWorkspaceBundle once the WorkSpace is gone: %v", err)
	}
}

func failedOf[O any](o *O, err error, f func() []types.FailedWorkspaceChangeRequest) ([]types.FailedWorkspaceChangeRequest, error) {
	if err != nil {
		return nil, err
	}
	return f(), nil
}

func TestWorkspaceErrorsAndIsolation(t *testing.T) { forEachStore(t, workspaceErrorsAndIsolation) }

func workspaceErrorsAndIsolation(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick", "--workspace-quota", "2")
	srv.FreezeRounded(t)
	c := srv.Client(t, accountA, usEast1)
	const dir = "d-926722edaf"
	registerWSDirectory(t, c, dir, types.TenancyShared)
	srv.Advance(t, 3*time.Second)

	// The quota (2 here) refuses the third WorkSpace; an existing user the second.
	out, err := c.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{
		wsRequest(dir, "Mateo", publicWindowsBundle, ""),
		wsRequest(dir, "mateo", publicWindowsBundle, ""),
		wsRequest(dir, "Mary", publicWindowsBundle, types.RunningModeAutoStop),
		wsRequest(dir, "Pat", publicWindowsBundle, ""),
		wsRequest(dir, "Sam", "wsb-zzzzzzzzz", ""),
	}})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, f := range out.FailedRequests {
		codes[aws.ToString(f.WorkspaceRequest.UserName)] = aws.ToString(f.ErrorCode)
	}
	want := map[string]string{"mateo": "ResourceExists.Workspace", "Pat": "ResourceLimitExceeded", "Sam": "ResourceNotFound.Bundle"}
	if len(out.PendingRequests) != 2 || len(codes) != 3 || codes["mateo"] != want["mateo"] || codes["Pat"] != want["Pat"] || codes["Sam"] != want["Sam"] {
		t.Fatalf("FailedRequests codes %v, want %v; pending %d", codes, want, len(out.PendingRequests))
	}
	alwaysOn, autoStop := aws.ToString(out.PendingRequests[0].WorkspaceId), aws.ToString(out.PendingRequests[1].WorkspaceId)
	srv.Advance(t, 5*time.Second)

	// Only AUTO_STOP and MANUAL WorkSpaces stop; unknown ids fail per item.
	so, err := c.StopWorkspaces(ctx(t), &workspaces.StopWorkspacesInput{StopWorkspaceRequests: []types.StopRequest{
		{WorkspaceId: aws.String(alwaysOn)}, {WorkspaceId: aws.String(autoStop)}, {WorkspaceId: aws.String("ws-000000000")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(so.FailedRequests) != 2 || aws.ToString(so.FailedRequests[0].WorkspaceId) != alwaysOn ||
		aws.ToString(so.FailedRequests[0].ErrorCode) != "OperationNotSupported.RunningMode" ||
		aws.ToString(so.FailedRequests[1].ErrorCode) != "ResourceNotFound.Workspace" {
		t.Fatalf("StopWorkspaces FailedRequests %+v", so.FailedRequests)
	}
	if got := workspaceState(t, c, autoStop); got != "STOPPING" {
		t.Errorf("the valid item of the batch: %s", got)
	}

	// Whole-request errors.
	_, err = c.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{DirectoryId: aws.String(dir), BundleId: aws.String(publicWindowsBundle)})
	wantAPIError(t, err, "InvalidParameterValuesException", 400, "one filter")
	_, err = c.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{Limit: aws.Int32(26)})
	wantAPIError(t, err, "ValidationException", 400)
	_, err = c.RebuildWorkspaces(ctx(t), &workspaces.RebuildWorkspacesInput{RebuildWorkspaceRequests: []types.RebuildRequest{
		{WorkspaceId: aws.String(alwaysOn)}, {WorkspaceId: aws.String(autoStop)}}})
	wantAPIError(t, err, "ValidationException", 400)
	_, err = c.ModifyWorkspaceProperties(ctx(t), &workspaces.ModifyWorkspacePropertiesInput{WorkspaceId: aws.String(alwaysOn),
		WorkspaceProperties: &types.WorkspaceProperties{UserVolumeSizeGib: aws.Int32(50), ComputeTypeName: types.ComputeStandard}})
	wantAPIError(t, err, "InvalidParameterValuesException", 400, "same time")
	_, err = c.ModifyWorkspaceState(ctx(t), &workspaces.ModifyWorkspaceStateInput{WorkspaceId: aws.String(autoStop), WorkspaceState: types.TargetWorkspaceStateAdminMaintenance})
	wantAPIError(t, err, "InvalidResourceStateException", 400, "STOPPING")
	_, err = c.RestoreWorkspace(ctx(t), &workspaces.RestoreWorkspaceInput{WorkspaceId: aws.String("ws-000000000")})
	wantAPIError(t, err, "ResourceNotFoundException", 400)
	_, err = c.CreateWorkspaceImage(ctx(t), &workspaces.CreateWorkspaceImageInput{Name: aws.String("x"), Description: aws.String("x"), WorkspaceId: aws.String(autoStop)})
	wantAPIError(t, err, "InvalidResourceStateException", 400, "STOPPING")

	// Paging through every WorkSpace with the SDK's paginator, a page of one.
	var seen []string
	pg := workspaces.NewDescribeWorkspacesPaginator(c, &workspaces.DescribeWorkspacesInput{Limit: aws.Int32(1)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range page.Workspaces {
			seen = append(seen, aws.ToString(w.WorkspaceId))
		}
	}
	if len(seen) != 2 {
		t.Errorf("paged %v", seen)
	}

	// Another account and another Region see nothing, and can't act on them.
	for _, other := range []*workspaces.Client{srv.Client(t, accountB, usEast1), srv.Client(t, accountA, euWest1)} {
		d, err := other.DescribeWorkspaces(ctx(t), &workspaces.DescribeWorkspacesInput{})
		if err != nil || len(d.Workspaces) != 0 {
			t.Errorf("another scope sees %v (%v)", d, err)
		}
		to, err := other.TerminateWorkspaces(ctx(t), &workspaces.TerminateWorkspacesInput{TerminateWorkspaceRequests: []types.TerminateRequest{{WorkspaceId: aws.String(alwaysOn)}}})
		if err != nil || len(to.FailedRequests) != 1 {
			t.Errorf("another scope terminates: %+v %v", to, err)
		}
		cr, err := other.CreateWorkspaces(ctx(t), &workspaces.CreateWorkspacesInput{Workspaces: []types.WorkspaceRequest{wsRequest(dir, "Mateo", publicWindowsBundle, "")}})
		if err != nil || len(cr.FailedRequests) != 1 || aws.ToString(cr.FailedRequests[0].ErrorCode) != "ResourceNotFound.Directory" {
			t.Errorf("another scope launches into the directory: %+v %v", cr, err)
		}
	}
	if got := workspaceState(t, c, alwaysOn); got != "AVAILABLE" {
		t.Errorf("after the other scopes: %s", got)
	}
}

func TestWorkspaceFaultRule(t *testing.T) { forEachStore(t, workspaceFaultRule) }

func workspaceFaultRule(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick", "--workspace-quota", "5")
	srv.FreezeRounded(t)
	c := srv.Client(t, accountA, usEast1)
	const dir = "d-926722edaf"
	registerWSDirectory(t, c, dir, types.TenancyShared)
	srv.Advance(t, 3*time.Second)
	srv.AddFaultRule(t, map[string]any{"kind": "workspace-create", "namePattern": "doomed-*", "failAt": "PENDING", "errorCode": "InsufficientCapacity"})
	bad := launchWorkspace(t, c, wsRequest(dir, "doomed-1", publicWindowsBundle, ""))
	good := launchWorkspace(t, c, wsRequest(dir, "fine", publicWindowsBundle, ""))
	tagged := launchWorkspace(t, c, wsRequest(dir, "tagged", publicWindowsBundle, "", tag("wsim:fail-at", "REBOOTING")))
	srv.Advance(t, 5*time.Second)
	w := describeWorkspace(t, c, bad)
	if w.State != types.WorkspaceStateError || aws.ToString(w.ErrorCode) != "InsufficientCapacity" || aws.ToString(w.ErrorMessage) == "" {
		t.Errorf("faulted launch %+v", w)
	}
	if got := workspaceState(t, c, good); got != "AVAILABLE" {
		t.Errorf("unmatched launch %s", got)
	}
	if _, err := c.RebootWorkspaces(ctx(t), &workspaces.RebootWorkspacesInput{RebootWorkspaceRequests: []types.RebootRequest{{WorkspaceId: aws.String(tagged)}}}); err != nil {
		t.Fatal(err)
	}
	observe(t, srv, "tagged reboot", func() string { return workspaceState(t, c, tagged) },
		stateStep{time.Second, "REBOOTING"}, stateStep{time.Second, "ERROR"})
	// A WorkSpace in ERROR can be rebuilt.
	if _, err := c.RebuildWorkspaces(ctx(t), &workspaces.RebuildWorkspacesInput{RebuildWorkspaceRequests: []types.RebuildRequest{{WorkspaceId: aws.String(tagged)}}}); err != nil {
		t.Fatal(err)
	}
	observe(t, srv, "rebuild from ERROR", func() string { return workspaceState(t, c, tagged) },
		stateStep{0, "REBUILDING"}, stateStep{6 * time.Second, "AVAILABLE"})
}
