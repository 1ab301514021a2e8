package workspaces

import (
	"context"
	"slices"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// describePage is DescribeWorkspaces' page size when Limit is not given:
// the model's maximum.
const describePage = 25

// DescribeWorkspaces lists the caller's WorkSpaces in the Region by id, a
// page at a time, filtered by one of: WorkspaceIds, DirectoryId (with
// UserName, optionally), BundleId or WorkspaceName. Ids that name no
// WorkSpace are left out, as terminated ones are once gone.
func (s *Service) DescribeWorkspaces(ctx context.Context, in *api.DescribeWorkspacesInput) (*api.DescribeWorkspacesOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	filters := 0
	for _, set := range []bool{len(in.WorkspaceIds) > 0, in.DirectoryId != nil, in.BundleId != nil, in.WorkspaceName != nil} {
		if set {
			filters++
		}
	}
	if filters > 1 {
		return nil, kit.InvalidParameter("You can specify only one filter at a time: WorkspaceIds, DirectoryId (with UserName), BundleId or WorkspaceName.")
	}
	if in.UserName != nil && in.DirectoryId == nil {
		return nil, kit.InvalidParameter("UserName can only be used together with DirectoryId.")
	}
	limit := int(api.ToInt32(in.Limit, describePage))
	_, after, err := records.DecodeToken(in.NextToken, records.Workspaces.Name)
	if err != nil {
		return nil, err
	}
	keep := func(w *records.Workspace) bool {
		switch {
		case len(in.WorkspaceIds) > 0:
			return slices.Contains(in.WorkspaceIds, w.ID)
		case in.DirectoryId != nil:
			return w.DirectoryID == *in.DirectoryId && (in.UserName == nil || strings.EqualFold(w.UserName, *in.UserName))
		case in.BundleId != nil:
			return w.BundleID == *in.BundleId
		case in.WorkspaceName != nil:
			return w.WorkspaceName == *in.WorkspaceName
		}
		return true
	}
	all, err := records.Workspaces.List(ctx, s.env.DB, req.Account, req.Region)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspacesOutput{Workspaces: []api.Workspace{}}
	for _, w := range all {
		if w.ID <= after || w.Gone(req.Now) || !keep(w) {
			continue
		}
		if len(out.Workspaces) == limit {
			out.NextToken = records.EncodeToken(records.Workspaces.Name, *out.Workspaces[limit-1].WorkspaceId)
			break
		}
		out.Workspaces = append(out.Workspaces, toAPI(w, req.Now))
	}
	return out, nil
}
