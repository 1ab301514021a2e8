package workspaces

import (
	"context"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/records"
)

// TerminateWorkspaces terminates WorkSpaces in any state but SUSPENDED:
// TERMINATING, then TERMINATED briefly, then gone (DescribeWorkspaces no
// longer lists them, and their places in the quota are free). Terminating
// a WorkSpace that is already terminating changes nothing.
func (s *Service) TerminateWorkspaces(ctx context.Context, in *api.TerminateWorkspacesInput) (*api.TerminateWorkspacesOutput, error) {
	req, sc, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	ids := workspaceIDs(in.TerminateWorkspaceRequests, func(r api.TerminateRequest) *string { return r.WorkspaceId })
	failed, err := s.batch(ctx, req, ids, func(w *records.Workspace, v view) error {
		switch v.state {
		case api.WorkspaceStateTerminating, api.WorkspaceStateTerminated:
			return errUnchanged
		case api.WorkspaceStateSuspended:
			return fail(codeWorkspaceState, "The WorkSpace %s is SUSPENDED while an image is created from it; it can be terminated once the image is created.", w.ID)
		}
		return s.begin(sc, w, KindTerminate)
	})
	if err != nil {
		return nil, err
	}
	return &api.TerminateWorkspacesOutput{FailedRequests: failed}, nil
}
