// Package workspaces is the WorkSpaces themselves: launched from bundles
// into registered directories, started, stopped, rebooted, rebuilt,
// restored, modified, migrated, captured into images and terminated, each
// change taking time on the service clock.
//
// A WorkSpace's state is never stored: every state-changing call appends
// the plan it starts to the WorkSpace's pipeline.History, and the state is
// that history evaluated at the service clock. The lifecycles are declared
// once, as data, in this package's init.
package workspaces

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// Service implements the WorkSpace operations.
type Service struct{ env *kit.Env }

// New returns the WorkSpace operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the WorkSpace operations to r.
func (s *Service) Register(r *api.Registry) {
	api.Handle(r, api.OpCreateWorkspaces, s.CreateWorkspaces)
	api.Handle(r, api.OpDescribeWorkspaces, s.DescribeWorkspaces)
	api.Handle(r, api.OpTerminateWorkspaces, s.TerminateWorkspaces)
	api.Handle(r, api.OpStartWorkspaces, s.StartWorkspaces)
	api.Handle(r, api.OpStopWorkspaces, s.StopWorkspaces)
	api.Handle(r, api.OpRebootWorkspaces, s.RebootWorkspaces)
	api.Handle(r, api.OpRebuildWorkspaces, s.RebuildWorkspaces)
	api.Handle(r, api.OpRestoreWorkspace, s.RestoreWorkspace)
	api.Handle(r, api.OpModifyWorkspaceState, s.ModifyWorkspaceState)
	api.Handle(r, api.OpDescribeWorkspaceSnapshots, s.DescribeWorkspaceSnapshots)
	api.Handle(r, api.OpModifyWorkspaceProperties, s.ModifyWorkspaceProperties)
	api.Handle(r, api.OpMigrateWorkspace, s.MigrateWorkspace)
	api.Handle(r, api.OpDescribeWorkspacesConnectionStatus, s.DescribeWorkspacesConnectionStatus)
	api.Handle(r, api.OpCreateWorkspaceImage, s.CreateWorkspaceImage)
}

// The lifecycle kinds of a WorkSpace, one per state-changing call.
const (
	KindCreate         pipeline.Kind = "workspace-create"
	KindStart          pipeline.Kind = "workspace-start"
	KindStop           pipeline.Kind = "workspace-stop"
	KindReboot         pipeline.Kind = "workspace-reboot"
	KindRebuild        pipeline.Kind = "workspace-rebuild"
	KindRestore        pipeline.Kind = "workspace-restore"
	KindTerminate      pipeline.Kind = "workspace-terminate"
	KindMaintenanceOn  pipeline.Kind = "workspace-maintenance-on"
	KindMaintenanceOff pipeline.Kind = "workspace-maintenance-off"
	KindCapture        pipeline.Kind = "workspace-capture"
	KindModify         pipeline.Kind = "workspace-modify"
)

// stateKinds are the kinds whose plans make up a WorkSpace's history.
var stateKinds = []pipeline.Kind{KindCreate, KindStart, KindStop, KindReboot, KindRebuild, KindRestore,
	KindTerminate, KindMaintenanceOn, KindMaintenanceOff, KindCapture}

// taggableKinds are the kinds a WorkSpace's wsim:fail-at tag can name a
// stage of: its states and its modifications.
var taggableKinds = append(slices.Clone(stateKinds), KindModify)

// st is one stage of a WorkSpace lifecycle.
func st(state, message, code string, realistic, quick time.Duration) pipeline.StageSpec {
	return pipeline.StageSpec{State: state, Message: message, ErrorCode: code, Realistic: realistic, Quick: quick}
}

func m(n int) time.Duration   { return time.Duration(n) * time.Minute }
func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// The WorkSpace lifecycles. Realistic durations are AWS's where it
// publishes one: a create took about 17 minutes (20m here), a start is
// "typically under 90 seconds", a rebuild takes "up to an hour". The others
// are wsim's: a stop 2m, a reboot 3m, a restore 30m (like a rebuild, from
// snapshots, but without a new root image), a termination 5m then
// TERMINATED for 1m, entering or leaving ADMIN_MAINTENANCE 30s, an image
// capture as long as the image (45m, from the image's own lifecycle).
// Quick keeps each state a few seconds long so a client polling every
// second or two sees it. A WorkSpace's default error codes are wsim's:
// AWS publishes no list of Workspace.ErrorCode values.
func init() {
	reg := func(kind pipeline.Kind, label, noun, final, finalMsg, failMsg string, stages ...pipeline.StageSpec) {
		pipeline.Register(pipeline.Lifecycle{Kind: kind, Label: label, Noun: noun, Stages: stages,
			Final: final, FinalMessage: finalMsg, FailureMessage: failMsg})
	}
	reg(KindCreate, "WorkSpace launch", "WorkSpace launch", api.WorkspaceStateAvailable,
		"The WorkSpace was launched and is available.",
		"The WorkSpace could not be launched. Terminate it and launch it again; if the problem persists, contact AWS Support.",
		st(api.WorkspaceStatePending, "The WorkSpace is being launched.", "WorkspaceLaunchFailed", m(20), sec(5)))
	reg(KindStart, "WorkSpace start", "WorkSpace start", api.WorkspaceStateAvailable, "The WorkSpace was started.",
		"The WorkSpace could not be started. Reboot or rebuild it; if the problem persists, contact AWS Support.",
		st(api.WorkspaceStateStarting, "The WorkSpace is starting.", "WorkspaceStartFailed", sec(90), sec(3)))
	reg(KindStop, "WorkSpace stop", "WorkSpace stop", api.WorkspaceStateStopped, "The WorkSpace was stopped.",
		"The WorkSpace could not be stopped. Try again; if the problem persists, contact AWS Support.",
		st(api.WorkspaceStateStopping, "The WorkSpace is stopping.", "WorkspaceStopFailed", m(2), sec(3)))
	reg(KindReboot, "WorkSpace reboot", "WorkSpace reboot", api.WorkspaceStateAvailable, "The WorkSpace was rebooted.",
		"The WorkSpace could not be rebooted. Rebuild or restore it; if the problem persists, contact AWS Support.",
		st(api.WorkspaceStateRebooting, "The WorkSpace is rebooting.", "WorkspaceRebootFailed", m(3), sec(3)))
	reg(KindRebuild, "WorkSpace rebuild", "WorkSpace rebuild", api.WorkspaceStateAvailable, "The WorkSpace was rebuilt.",
		"The WorkSpace could not be rebuilt. Try again; if the problem persists, contact AWS Support.",
		st(api.WorkspaceStateRebuilding, "The WorkSpace is being rebuilt from its bundle image and its latest user volume snapshot.", "WorkspaceRebuildFailed", m(60), sec(6)))
	reg(KindRestore, "WorkSpace restore", "WorkSpace restore", api.WorkspaceStateAvailable, "The WorkSpace was restored.",
		"The WorkSpace could not be restored. Try again; if the problem persists, contact AWS Support.",
		st(api.WorkspaceStateRestoring, "The WorkSpace is being restored from its latest root and user volume snapshots.", "WorkspaceRestoreFailed", m(30), sec(6)))
	reg(KindTerminate, "WorkSpace termination", "WorkSpace termination", records.WorkspaceGone, "The WorkSpace was terminated and no longer exists.",
		"The WorkSpace could not be terminated. Try again; if the problem persists, contact AWS Support.",
		st(api.WorkspaceStateTerminating, "The WorkSpace is being terminated.", "WorkspaceTerminationFailed", m(5), sec(3)),
		st(api.WorkspaceStateTerminated, "The WorkSpace was terminated; its metadata is being cleaned up.", "WorkspaceTerminationFailed", m(1), sec(2)))
	reg(KindMaintenanceOn, "WorkSpace into admin maintenance", "change to ADMIN_MAINTENANCE", api.WorkspaceStateAdminMaintenance,
		"The WorkSpace is in administrative maintenance.", "",
		st(api.WorkspaceStateAvailable, "The WorkSpace is entering administrative maintenance.", "UnknownError", sec(30), sec(1)))
	reg(KindMaintenanceOff, "WorkSpace out of admin maintenance", "change to AVAILABLE", api.WorkspaceStateAvailable,
		"The WorkSpace left administrative maintenance and is available.", "",
		st(api.WorkspaceStateAdminMaintenance, "The WorkSpace is leaving administrative maintenance.", "UnknownError", sec(30), sec(1)))
	reg(KindCapture, "WorkSpace image capture", "WorkSpace image capture", api.WorkspaceStateAvailable,
		"The image was captured and the WorkSpace is available again.", "",
		st(api.WorkspaceStateSuspended, "An image is being created from the WorkSpace.", "UnknownError", m(45), sec(10)))
	reg(records.KindWorkspaceImage, "Image from WorkSpace", "image creation", api.WorkspaceImageStateAvailable,
		"The image was created from the WorkSpace and is available.",
		"The image could not be created from the WorkSpace. Try again; if the problem persists, contact AWS Support.",
		st(api.WorkspaceImageStatePending, "The image is being created from the WorkSpace.", "UnknownError", m(45), sec(10)))
	reg(KindModify, "WorkSpace modification", "WorkSpace modification", modificationDone,
		"The modification is complete.",
		"The WorkSpace could not be modified. Try again; if the problem persists, contact AWS Support.",
		st(api.ModificationStateEnumUpdateInitiated, "The modification was requested.", "WorkspaceModificationFailed", m(1), sec(1)),
		st(api.ModificationStateEnumUpdateInProgress, "The modification is in progress.", "WorkspaceModificationFailed", m(20), sec(4)))
}

// modificationDone is the final state of a modification's plan; a done
// modification is no longer listed in ModificationStates.
const modificationDone = "UPDATED"

// Running modes that can be started and stopped.
func stoppable(mode string) bool {
	return mode == api.RunningModeAutoStop || mode == api.RunningModeManual
}

// view is a WorkSpace's observable state at one instant.
type view struct {
	st    pipeline.Status
	state string
	props records.WorkspaceProperties
	// inFlight is the modification still running, if any.
	inFlight *records.WorkspaceModification
}

// look evaluates w at now; its props are the caller's to change.
func look(w *records.Workspace, now time.Time) view {
	v := observe(w, now, w.Status(now))
	v.props.Protocols = slices.Clone(v.props.Protocols)
	return v
}

// observe is look for a reader that changes nothing, given w's status at
// now: its props may share w's Protocols.
func observe(w *records.Workspace, now time.Time, st pipeline.Status) view {
	v := view{st: st, state: st.State, props: w.Properties}
	for i := range w.Modifications {
		mod := &w.Modifications[i]
		ms := mod.Plan.At(now)
		switch {
		case !ms.Done:
			v.inFlight = mod
		case !ms.Failed:
			applyModification(&v.props, mod)
		}
	}
	return v
}

// applyModification sets the property a finished modification changed.
func applyModification(p *records.WorkspaceProperties, mod *records.WorkspaceModification) {
	switch mod.Resource {
	case api.ModificationResourceEnumRootVolume:
		n, _ := strconv.Atoi(mod.Value)
		p.RootVolumeGiB = int32(n)
	case api.ModificationResourceEnumUserVolume:
		n, _ := strconv.Atoi(mod.Value)
		p.UserVolumeGiB = int32(n)
	case api.ModificationResourceEnumComputeType:
		p.ComputeType = mod.Value
	case api.ModificationResourceEnumProtocol:
		p.Protocols = []string{mod.Value}
	}
}

// launched reports whether the WorkSpace's creation finished successfully
// by now, so that it has an address, a computer name and snapshots.
func launched(w *records.Workspace, now time.Time) bool {
	st := w.Launch.At(now)
	return st.Done && !st.Failed
}

// Values the answers point to; shared by every answer, never written.
var (
	enabled      = true
	updateFailed = api.ModificationStateEnumUpdateFailed
)

// workspaceView holds what toAPI's answer points to that the record does
// not hold as such.
type workspaceView struct {
	view
	root, user, autoStop    int32
	errorCode, errorMessage string
	props                   api.WorkspaceProperties
}

// toAPI is the WorkSpace, whose status at now is st, as DescribeWorkspaces
// shows it, pointing into w (which no reader changes) and v instead of
// copying every member: a page of 25 WorkSpaces made some 350 allocations
// when each had its own.
func toAPI(w *records.Workspace, now time.Time, st pipeline.Status, v *workspaceView) api.Workspace {
	v.view = observe(w, now, st)
	p := &v.view.props
	v.root, v.user, v.autoStop = p.RootVolumeGiB, p.UserVolumeGiB, p.AutoStopTimeout
	v.props = api.WorkspaceProperties{
		RunningMode:       &p.RunningMode,
		RootVolumeSizeGib: &v.root,
		UserVolumeSizeGib: &v.user,
		ComputeTypeName:   &p.ComputeType,
		Protocols:         p.Protocols,
	}
	out := api.Workspace{
		WorkspaceId:         &w.ID,
		DirectoryId:         &w.DirectoryID,
		UserName:            &w.UserName,
		State:               &v.state,
		BundleId:            &w.BundleID,
		WorkspaceProperties: &v.props,
		ModificationStates:  modificationStates(w, now),
	}
	// The CLI's example of real output has no encryption members for a
	// WorkSpace without encryption.
	if w.UserEncrypted {
		out.UserVolumeEncryptionEnabled = &enabled
	}
	if w.RootEncrypted {
		out.RootVolumeEncryptionEnabled = &enabled
	}
	if p.RunningMode == api.RunningModeAutoStop {
		v.props.RunningModeAutoStopTimeoutInMinutes = &v.autoStop
	}
	if p.OperatingSystem != "" {
		v.props.OperatingSystemName = &p.OperatingSystem
	}
	if w.WorkspaceName != "" {
		out.WorkspaceName = &w.WorkspaceName
	}
	if w.VolumeEncryptionKey != "" {
		out.VolumeEncryptionKey = &w.VolumeEncryptionKey
	}
	if launched(w, now) {
		out.IpAddress = &w.IPAddress
		out.SubnetId = &w.SubnetID
		out.ComputerName = &w.ComputerName
	}
	if v.st.Failed {
		v.errorCode, v.errorMessage = v.st.ErrorCode, v.st.ErrorMessage
		out.ErrorCode, out.ErrorMessage = &v.errorCode, &v.errorMessage
	}
	return out
}

// modificationStates lists the modifications in flight and, for each
// resource, the latest one if it failed; always a list, as AWS answers.
func modificationStates(w *records.Workspace, now time.Time) []api.ModificationState {
	if len(w.Modifications) == 0 {
		return []api.ModificationState{}
	}
	out := []api.ModificationState{}
	for i := range w.Modifications {
		mod := &w.Modifications[i]
		st := mod.Plan.At(now)
		switch {
		case !st.Done:
			state := st.State
			out = append(out, api.ModificationState{Resource: &mod.Resource, State: &state})
		case st.Failed && latest(w.Modifications, i):
			out = append(out, api.ModificationState{Resource: &mod.Resource, State: &updateFailed})
		}
	}
	return out
}

// latest reports whether mods[i] is the last modification of its resource.
func latest(mods []records.WorkspaceModification, i int) bool {
	for _, m := range mods[i+1:] {
		if m.Resource == mods[i].Resource {
			return false
		}
	}
	return true
}

// script decides how new operations on WorkSpaces are scripted to fail,
// with the fault rules read once, before the transaction that uses it.
type script struct {
	req   kit.Request
	rules []pipeline.FaultRule
}

// prepare begins a state-changing request: the caller and the service
// time, and how its operations are scripted to fail.
func (s *Service) prepare(ctx context.Context) (kit.Request, *script, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return kit.Request{}, nil, err
	}
	sc, err := s.script(ctx, req)
	if err != nil {
		return kit.Request{}, nil, err
	}
	return req, sc, nil
}

func (s *Service) script(ctx context.Context, req kit.Request) (*script, error) {
	rules, err := s.env.FaultRules(ctx)
	if err != nil {
		return nil, err
	}
	return &script{req: req, rules: rules}, nil
}

// failure is how an operation of kind on w is scripted to fail: from the
// WorkSpace's wsim:fail-at tags when they name a stage of kind, else from
// the first matching fault rule (whose name pattern matches the user name,
// or the WorkSpace name of a user-decoupled WorkSpace, and whose sourceId
// matches the bundle id).
func (sc *script) failure(w *records.Workspace, kind pipeline.Kind) (*pipeline.Failure, error) {
	tags := kit.TagMap(w.Tags)
	if stage, ok := tags[pipeline.TagFailAt]; ok && kind.HasStage(stage) {
		f, err := pipeline.ParseFailureTags(kind, tags)
		if err != nil {
			return nil, kit.InvalidParameter("%v", err)
		}
		return f, nil
	}
	return pipeline.MatchFailure(sc.rules, pipeline.Subject{
		Kind: kind, Account: sc.req.Account, Region: sc.req.Region, Name: subjectName(w), SourceID: w.BundleID,
	}), nil
}

// begin appends to w the plan of an operation of kind starting now.
func (s *Service) begin(sc *script, w *records.Workspace, kind pipeline.Kind) error {
	failure, err := sc.failure(w, kind)
	if err != nil {
		return err
	}
	h, err := w.History.Append(s.env.Profile.Plan(kind, sc.req.Now, failure))
	if err != nil {
		return err
	}
	w.History = h
	return nil
}

func subjectName(w *records.Workspace) string {
	if w.WorkspaceName != "" {
		return w.WorkspaceName
	}
	return w.UserName
}

// checkFailureTags refuses failure tags no WorkSpace operation could use.
func checkFailureTags(tags []api.Tag) error {
	m := kit.TagMap(tags)
	stage, ok := m[pipeline.TagFailAt]
	if !ok {
		for _, t := range []string{pipeline.TagErrorCode, pipeline.TagErrorMessage} {
			if _, ok := m[t]; ok {
				return kit.InvalidParameter("The tag %s requires the tag %s naming the stage to fail at.", t, pipeline.TagFailAt)
			}
		}
		return nil
	}
	var stages []string
	for _, k := range taggableKinds {
		if k.HasStage(stage) {
			_, err := pipeline.ParseFailureTags(k, m)
			if err != nil {
				return kit.InvalidParameter("%v", err)
			}
			return nil
		}
		for _, st := range k.Stages() {
			if !slices.Contains(stages, st) {
				stages = append(stages, st)
			}
		}
	}
	return kit.InvalidParameter("The tag %s names %q, which is not a stage of any WorkSpace operation; valid stages are %s.",
		pipeline.TagFailAt, stage, strings.Join(stages, ", "))
}

// findLive returns the WorkSpace, or nil when there is none or it is gone.
func findLive(ctx context.Context, r records.Reader, req kit.Request, id string) (*records.Workspace, error) {
	w, err := records.Workspaces.Find(ctx, r, req.Account, req.Region, id)
	if err != nil || w == nil || w.Gone(req.Now) {
		return nil, err
	}
	return w, nil
}

// getLive is findLive answering ResourceNotFoundException.
func getLive(ctx context.Context, r records.Reader, req kit.Request, id string) (*records.Workspace, error) {
	w, err := findLive(ctx, r, req, id)
	if err == nil && w == nil {
		err = records.Workspaces.NotFound(id)
	}
	return w, err
}

// derived is a stable pseudo-random value of the WorkSpace: every replica
// computes the same address and computer name from its id.
func derived(account, region, id, what string) [32]byte {
	return sha256.Sum256([]byte(what + "/" + account + "/" + region + "/" + id))
}

const computerNameAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// computerName is WSAMZN- and 8 characters, as AWS names WorkSpaces.
func computerName(account, region, id string) string {
	sum := derived(account, region, id, "computer")
	b := make([]byte, 8)
	for i := range b {
		b[i] = computerNameAlphabet[int(sum[i])%len(computerNameAlphabet)]
	}
	return "WSAMZN-" + string(b)
}

// ipAddress is a private address in 172.16.0.0/12 for the WorkSpace; salt
// changes it, as a rebuild does.
func ipAddress(account, region, id, salt string) string {
	sum := derived(account, region, id, "ip"+salt)
	return fmt.Sprintf("172.%d.%d.%d", 16+int(sum[0])%16, sum[1], 4+int(sum[2])%250)
}

// subnetID is the subnet the WorkSpace is in: one of its directory's
// subnets, picked from the WorkSpace id, or one derived from the directory
// when the directory lists none.
func subnetID(d *records.Directory, id string) string {
	if len(d.SubnetIDs) > 0 {
		sum := derived(d.Account, d.Region, id, "subnet")
		return d.SubnetIDs[int(sum[0])%len(d.SubnetIDs)]
	}
	sum := derived(d.Account, d.Region, d.ID, "subnet")
	return fmt.Sprintf("subnet-%x", sum[:9])[:len("subnet-")+17]
}

// Sources are the WorkSpace pipelines: each WorkSpace shows the plan in
// force, and each image made from a WorkSpace shows up among the images.
func (s *Service) Sources() []dashboard.Source {
	return []dashboard.Source{dashboard.KindSource(s.env.DB, records.Workspaces, stateKinds, workspacePipeline)}
}

func workspacePipeline(w *records.Workspace, now time.Time) dashboard.Pipeline {
	plan, _ := w.History.Current(now)
	p := dashboard.New(plan, now, w.State(now))
	p.Account, p.Region, p.ResourceID = w.Account, w.Region, w.ID
	p.Name, p.Created, p.Source = subjectName(w), w.Created, w.BundleID
	return p
}

// CatalogSources are the WorkSpaces, as the dashboard's catalogue lists them.
func (s *Service) CatalogSources() []dashboard.CatalogSource {
	return []dashboard.CatalogSource{dashboard.KindCatalog(s.env.DB, "workspace", records.Workspaces, workspaceResource)}
}

func workspaceResource(_ context.Context, w *records.Workspace, now time.Time) (dashboard.Resource, error) {
	v := look(w, now)
	r := dashboard.Resource{
		Name: subjectName(w), State: v.state, Created: w.Created,
		Attributes: map[string]string{
			"directoryId": w.DirectoryID, "userName": w.UserName, "bundleId": w.BundleID,
			"runningMode": v.props.RunningMode, "computeType": v.props.ComputeType,
		},
		Relations: []dashboard.Relation{
			{Type: "in-directory", Account: w.Account, Region: w.Region, ID: w.DirectoryID},
			{Type: "uses-bundle", Account: w.Account, Region: w.Region, ID: w.BundleID},
		},
	}
	if w.CapturingImage != "" {
		r.Relations = append(r.Relations, dashboard.Relation{Type: "captured-into", Account: w.Account, Region: w.Region, ID: w.CapturingImage})
	}
	if len(w.Tags) > 0 {
		r.Tags = kit.TagMap(w.Tags)
	}
	return r, nil
}
