package workspaces

import (
	"context"
	"slices"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
)

// TagConnectionState tells wsim whether a user is connected to a WorkSpace
// (CONNECTED, DISCONNECTED or UNKNOWN), which only a real streaming client
// could make true. Without it, no one is ever connected.
const TagConnectionState = "wsim:connection-state"

// connectionPage is the page size of DescribeWorkspacesConnectionStatus,
// which has no Limit: the 25 ids a request may name.
const connectionPage = 25

// DescribeWorkspacesConnectionStatus reports whether users are connected to
// the caller's WorkSpaces (the ones named, or all of them), a page at a
// time. A WorkSpace that has never been launched, or is in ERROR, has no
// connection state, as at AWS; the others are DISCONNECTED unless the
// wsim:connection-state tag says otherwise, checked at the request's time.
func (s *Service) DescribeWorkspacesConnectionStatus(ctx context.Context, in *api.DescribeWorkspacesConnectionStatusInput) (*api.DescribeWorkspacesConnectionStatusOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	_, after, err := records.DecodeToken(in.NextToken, records.Workspaces.Name)
	if err != nil {
		return nil, err
	}
	// Named ids are read one by one and the account a page at a time, as
	// DescribeWorkspaces does: reading the whole account cost a page (and
	// a one-id request) milliseconds at 10,000 WorkSpaces.
	all := func(*records.Workspace) bool { return true }
	page, statuses, more, err := s.page(ctx, req, in.WorkspaceIds, after, connectionPage, all)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspacesConnectionStatusOutput{WorkspacesConnectionStatus: make([]api.WorkspaceConnectionStatus, len(page))}
	for i, w := range page {
		out.WorkspacesConnectionStatus[i] = connectionStatus(w, statuses[i], req)
	}
	if more {
		out.NextToken = records.EncodeToken(records.Workspaces.Name, page[len(page)-1].ID)
	}
	return out, nil
}

// connectionStatus is w's connection state; st is its status at req.Now.
func connectionStatus(w *records.Workspace, st pipeline.Status, req kit.Request) api.WorkspaceConnectionStatus {
	out := api.WorkspaceConnectionStatus{WorkspaceId: api.String(w.ID)}
	if !launched(w, req.Now) || st.Failed {
		return out
	}
	state := api.ConnectionStateDisconnected
	if v, ok := kit.TagMap(w.Tags)[TagConnectionState]; ok && slices.Contains(api.ConnectionStateValues, v) {
		state = v
	}
	if st.State != api.WorkspaceStateAvailable && state == api.ConnectionStateConnected {
		state = api.ConnectionStateDisconnected
	}
	out.ConnectionState = api.String(state)
	// The CLI's example of real output has no LastKnownUserConnectionTimestamp
	// for a CONNECTED WorkSpace, and wsim knows of no past connection.
	out.ConnectionStateCheckTimestamp = api.NewTimestamp(req.Now)
	return out
}
