package workspaces

import (
	"context"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/records"
)

// RebuildWorkspaces rebuilds one WorkSpace (the model allows one request):
// REBUILDING, then AVAILABLE, with a new root volume from its image, the
// user volume from its latest snapshot and a new private IP address.
func (s *Service) RebuildWorkspaces(ctx context.Context, in *api.RebuildWorkspacesInput) (*api.RebuildWorkspacesOutput, error) {
	req, sc, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	ids := workspaceIDs(in.RebuildWorkspaceRequests, func(r api.RebuildRequest) *string { return r.WorkspaceId })
	failed, err := s.batch(ctx, req, ids, func(w *records.Workspace, v view) error {
		if inMaintenance(v) {
			return errUnchanged
		}
		if err := allowed(w.ID, "rebuilt", v, rebuildFrom); err != nil {
			return err
		}
		if len(snapshots(w, req.Now)) == 0 {
			return fail(codeWorkspaceState, "The WorkSpace %s has no snapshot of its user volume yet, so it cannot be rebuilt.", w.ID)
		}
		w.IPAddress = ipAddress(w.Account, w.Region, w.ID, req.Now.Format(time.RFC3339Nano))
		return s.begin(sc, w, KindRebuild)
	})
	if err != nil {
		return nil, err
	}
	return &api.RebuildWorkspacesOutput{FailedRequests: failed}, nil
}

// RestoreWorkspace restores a WorkSpace from its latest root and user
// volume snapshots: RESTORING, then AVAILABLE. Unlike the batch calls it
// answers refusals as errors.
func (s *Service) RestoreWorkspace(ctx context.Context, in *api.RestoreWorkspaceInput) (*api.RestoreWorkspaceOutput, error) {
	req, sc, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	err = s.change(ctx, req, *in.WorkspaceId, func(w *records.Workspace, v view) error {
		if inMaintenance(v) {
			return errUnchanged
		}
		if err := allowed(w.ID, "restored", v, restoreFrom); err != nil {
			return &api.OperationNotSupportedException{Message: err.(*itemError).message}
		}
		if len(snapshots(w, req.Now)) == 0 {
			return &api.OperationNotSupportedException{Message: fmt.Sprintf(
				"The WorkSpace %s has no root and user volume snapshots yet, so it cannot be restored.", w.ID)}
		}
		return s.begin(sc, w, KindRestore)
	})
	if err != nil {
		return nil, err
	}
	return &api.RestoreWorkspaceOutput{}, nil
}

// ModifyWorkspaceState moves an AVAILABLE WorkSpace into ADMIN_MAINTENANCE
// and back. Asking for the state it is in, or moving towards, changes
// nothing.
func (s *Service) ModifyWorkspaceState(ctx context.Context, in *api.ModifyWorkspaceStateInput) (*api.ModifyWorkspaceStateOutput, error) {
	req, sc, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	target := *in.WorkspaceState
	err = s.change(ctx, req, *in.WorkspaceId, func(w *records.Workspace, v view) error {
		cur, _ := w.History.Current(req.Now)
		toward := cur.Kind == KindMaintenanceOn && !v.st.Done && target == api.TargetWorkspaceStateAdminMaintenance ||
			cur.Kind == KindMaintenanceOff && !v.st.Done && target == api.TargetWorkspaceStateAvailable
		if toward || v.state == target && v.st.Done {
			return errUnchanged
		}
		kind, from := KindMaintenanceOn, api.WorkspaceStateAvailable
		if target == api.TargetWorkspaceStateAvailable {
			kind, from = KindMaintenanceOff, api.WorkspaceStateAdminMaintenance
		}
		if v.state != from || !v.st.Done {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"The WorkSpace %s is %s; only an AVAILABLE WorkSpace can be set to ADMIN_MAINTENANCE, and only one in ADMIN_MAINTENANCE to AVAILABLE.", w.ID, v.state)}
		}
		return s.begin(sc, w, kind)
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyWorkspaceStateOutput{}, nil
}

// SnapshotInterval is how often AWS snapshots a WorkSpace's volumes
// ("every 12 hours") [AG reset-workspace.html].
const SnapshotInterval = 12 * time.Hour

// snapshots lists, newest first, the snapshot times of the WorkSpace at
// now: one when its launch completed and one every SnapshotInterval
// after, while it exists. A WorkSpace that never launched has none. At most
// the latest three are kept, as wsim's choice.
func snapshots(w *records.Workspace, now time.Time) []time.Time {
	if !launched(w, now) {
		return nil
	}
	launchedAt := w.Launch.At(now).LastUpdated
	var out []time.Time
	n := int(now.Sub(launchedAt) / SnapshotInterval)
	for k := n; k >= 0 && len(out) < 3; k-- {
		out = append(out, launchedAt.Add(time.Duration(k)*SnapshotInterval))
	}
	return out
}

// DescribeWorkspaceSnapshots lists the snapshots a rebuild (user volume)
// and a restore (root and user volumes) would use.
func (s *Service) DescribeWorkspaceSnapshots(ctx context.Context, in *api.DescribeWorkspaceSnapshotsInput) (*api.DescribeWorkspaceSnapshotsOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	w, err := getLive(ctx, s.env.DB, req, *in.WorkspaceId)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspaceSnapshotsOutput{RebuildSnapshots: []api.Snapshot{}, RestoreSnapshots: []api.Snapshot{}}
	for _, t := range snapshots(w, req.Now) {
		out.RebuildSnapshots = append(out.RebuildSnapshots, api.Snapshot{SnapshotTime: api.NewTimestamp(t)})
		out.RestoreSnapshots = append(out.RestoreSnapshots, api.Snapshot{SnapshotTime: api.NewTimestamp(t)})
	}
	return out, nil
}
