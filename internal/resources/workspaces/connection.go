package workspaces

import (
	"context"
	"slices"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
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
	all, err := records.Workspaces.List(ctx, s.env.DB, req.Account, req.Region)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspacesConnectionStatusOutput{WorkspacesConnectionStatus: []api.WorkspaceConnectionStatus{}}
	for _, w := range all {
		if w.ID <= after || w.Gone(req.Now) || len(in.WorkspaceIds) > 0 && !slices.Contains(in.WorkspaceIds, w.ID) {
			continue
		}
		if len(out.WorkspacesConnectionStatus) == connectionPage {
			out.NextToken = records.EncodeToken(records.Workspaces.Name, *out.WorkspacesConnectionStatus[connectionPage-1].WorkspaceId)
			break
		}
		out.WorkspacesConnectionStatus = append(out.WorkspacesConnectionStatus, connectionStatus(w, req))
	}
	return out, nil
}

func connectionStatus(w *records.Workspace, req kit.Request) api.WorkspaceConnectionStatus {
	out := api.WorkspaceConnectionStatus{WorkspaceId: api.String(w.ID)}
	st := w.Status(req.Now)
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
