package workspaces

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
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
	page, statuses, more, err := s.page(ctx, req, in.WorkspaceIds, after, limit, keep)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeWorkspacesOutput{Workspaces: make([]api.Workspace, len(page))}
	views := make([]workspaceView, len(page))
	for i, w := range page {
		out.Workspaces[i] = toAPI(w, req.Now, statuses[i], &views[i])
		// The key is made in a buffer of this frame: it is only compared
		// (and copied when kept), so a short one costs no allocation.
		var buf [64]byte
		key := answerKey(buf[:0], w, req.Now, statuses[i])
		out.Workspaces[i].Encoded = records.Encoded(&w.Meta, string(key), &out.Workspaces[i])
	}
	if more {
		out.NextToken = records.EncodeToken(records.Workspaces.Name, page[len(page)-1].ID)
	}
	return out, nil
}

// page is up to limit of the WorkSpaces after the id after that keep
// selects and that are not gone, by id, their statuses at the request's
// time (evaluated once, for both), and whether more follow. Named ids
// are read one by one; otherwise the account is read a page at a time, so
// that neither a by-id describe nor a first page reads every WorkSpace of
// the account.
func (s *Service) page(ctx context.Context, req kit.Request, ids []string, after string, limit int,
	keep func(*records.Workspace) bool) ([]*records.Workspace, []pipeline.Status, bool, error) {
	out := make([]*records.Workspace, 0, limit)
	statuses := make([]pipeline.Status, 0, limit)
	take := func(w *records.Workspace) bool {
		if w.ID <= after || !keep(w) {
			return false
		}
		st := w.Status(req.Now)
		if st.State == records.WorkspaceGone {
			return false
		}
		if len(out) == limit {
			return true
		}
		out, statuses = append(out, w), append(statuses, st)
		return false
	}
	if len(ids) > 0 {
		ids = slices.Clone(ids)
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			w, err := records.Workspaces.Find(ctx, s.env.DB, req.Account, req.Region, id)
			if err != nil {
				return nil, nil, false, err
			}
			if w != nil && take(w) {
				return out, statuses, true, nil
			}
		}
		return out, statuses, false, nil
	}
	for from := after; ; {
		batch, more, err := records.Workspaces.After(ctx, s.env.DB, req.Account, req.Region, from, limit+1)
		if err != nil {
			return nil, nil, false, err
		}
		for _, w := range batch {
			if take(w) {
				return out, statuses, true, nil
			}
		}
		if !more {
			return out, statuses, false, nil
		}
		from = batch[len(batch)-1].ID
	}
}

// answerKey appends to b what the answer of a WorkSpace whose status at now
// is st depends on besides its record: the outcome at now of every plan
// toAPI reads. Its state and error come from st; its address, subnet and
// computer name from whether its launch succeeded; its properties and
// ModificationStates from whether each modification is in flight (and in
// which state), done or failed. Every other member is read from the record.
func answerKey(b []byte, w *records.Workspace, now time.Time, st pipeline.Status) []byte {
	b = append(b, st.State...)
	if st.Failed {
		b = append(b, 0)
		b = append(b, st.ErrorCode...)
		b = append(b, 0)
		b = append(b, st.ErrorMessage...)
	}
	b = append(b, 0)
	if launched(w, now) {
		b = append(b, 'L')
	}
	for i := range w.Modifications {
		ms := w.Modifications[i].Plan.At(now)
		b = append(b, 0)
		switch {
		case !ms.Done:
			b = append(b, ms.State...)
		case ms.Failed:
			b = append(b, '!')
		default:
			b = append(b, '+')
		}
	}
	return b
}
