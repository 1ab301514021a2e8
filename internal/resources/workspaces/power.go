package workspaces

import (
	"context"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// The states each call starts from [model, Administration Guide].
var (
	startFrom   = []string{api.WorkspaceStateStopped}
	stopFrom    = []string{api.WorkspaceStateAvailable, api.WorkspaceStateImpaired, api.WorkspaceStateUnhealthy, api.WorkspaceStateError}
	rebootFrom  = []string{api.WorkspaceStateAvailable, api.WorkspaceStateUnhealthy, api.WorkspaceStateRebooting}
	rebuildFrom = []string{api.WorkspaceStateAvailable, api.WorkspaceStateError, api.WorkspaceStateUnhealthy, api.WorkspaceStateStopped, api.WorkspaceStateRebooting}
	restoreFrom = []string{api.WorkspaceStateAvailable, api.WorkspaceStateError, api.WorkspaceStateUnhealthy, api.WorkspaceStateStopped}
)

// inMaintenance reports whether the WorkSpace ignores power and rebuild
// requests: ADMIN_MAINTENANCE, as the model says, "do[es] not respond to
// requests to reboot, stop, start, rebuild, or restore". wsim answers them
// as successes that change nothing.
func inMaintenance(v view) bool { return v.state == api.WorkspaceStateAdminMaintenance }

// StartWorkspaces starts STOPPED AUTO_STOP or MANUAL WorkSpaces: STARTING,
// then AVAILABLE.
func (s *Service) StartWorkspaces(ctx context.Context, in *api.StartWorkspacesInput) (*api.StartWorkspacesOutput, error) {
	ids := workspaceIDs(in.StartWorkspaceRequests, func(r api.StartRequest) *string { return r.WorkspaceId })
	failed, err := s.power(ctx, ids, "started", startFrom, true, KindStart)
	if err != nil {
		return nil, err
	}
	return &api.StartWorkspacesOutput{FailedRequests: failed}, nil
}

// StopWorkspaces stops AUTO_STOP or MANUAL WorkSpaces: STOPPING, then
// STOPPED.
func (s *Service) StopWorkspaces(ctx context.Context, in *api.StopWorkspacesInput) (*api.StopWorkspacesOutput, error) {
	ids := workspaceIDs(in.StopWorkspaceRequests, func(r api.StopRequest) *string { return r.WorkspaceId })
	failed, err := s.power(ctx, ids, "stopped", stopFrom, true, KindStop)
	if err != nil {
		return nil, err
	}
	return &api.StopWorkspacesOutput{FailedRequests: failed}, nil
}

// RebootWorkspaces reboots WorkSpaces whatever their running mode:
// REBOOTING, then AVAILABLE.
func (s *Service) RebootWorkspaces(ctx context.Context, in *api.RebootWorkspacesInput) (*api.RebootWorkspacesOutput, error) {
	ids := workspaceIDs(in.RebootWorkspaceRequests, func(r api.RebootRequest) *string { return r.WorkspaceId })
	failed, err := s.power(ctx, ids, "rebooted", rebootFrom, false, KindReboot)
	if err != nil {
		return nil, err
	}
	return &api.RebootWorkspacesOutput{FailedRequests: failed}, nil
}

func (s *Service) power(ctx context.Context, ids []string, verb string, from []string, needsMode bool, kind pipeline.Kind) ([]api.FailedWorkspaceChangeRequest, error) {
	req, sc, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	return s.batch(ctx, req, ids, func(w *records.Workspace, v view) error {
		if inMaintenance(v) {
			return errUnchanged
		}
		if needsMode {
			if err := needsStoppable(w.ID, verb, v); err != nil {
				return err
			}
		}
		if err := allowed(w.ID, verb, v, from); err != nil {
			return err
		}
		return s.begin(sc, w, kind)
	})
}
