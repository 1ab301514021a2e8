package workspaces

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// The ErrorCode values of the FailedRequests of the batch operations on
// existing WorkSpaces (AWS publishes none; they follow CreateWorkspaces').
const (
	codeWorkspaceNotFound = "ResourceNotFound.Workspace"
	codeWorkspaceState    = "InvalidResourceState"
	codeRunningMode       = "OperationNotSupported.RunningMode"
)

// errUnchanged ends a change that leaves the WorkSpace as it is (and
// succeeds), so nothing is written.
var errUnchanged = errors.New("unchanged")

// changeFn changes w, as it is at now (v), or refuses with an itemError.
type changeFn func(w *records.Workspace, v view) error

// change applies fn to the WorkSpace id in a transaction of its own.
func (s *Service) change(ctx context.Context, req kit.Request, id string, fn changeFn) error {
	_, err := records.Workspaces.Mutate(ctx, s.env.DB, req.Account, req.Region, id, func(tx *records.Tx, w *records.Workspace) error {
		if w.Gone(req.Now) {
			return records.Workspaces.NotFound(id)
		}
		return fn(w, look(w, req.Now))
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// workspaceIDs are the WorkspaceIds of a batch call's requests, in order.
func workspaceIDs[R any](reqs []R, id func(R) *string) []string {
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = api.ToString(id(r))
	}
	return ids
}

// batch applies fn to each WorkSpace id independently and lists the
// refusals as FailedRequests (always a list, as AWS answers).
func (s *Service) batch(ctx context.Context, req kit.Request, ids []string, fn changeFn) ([]api.FailedWorkspaceChangeRequest, error) {
	failed := []api.FailedWorkspaceChangeRequest{}
	for _, id := range ids {
		err := s.change(ctx, req, id, fn)
		if err == nil {
			continue
		}
		var nf *api.ResourceNotFoundException
		if errors.As(err, &nf) {
			err = fail(codeWorkspaceNotFound, "The WorkSpace %s could not be found.", id)
		}
		ie, ok := asItemError(err)
		if !ok {
			return nil, err
		}
		failed = append(failed, api.FailedWorkspaceChangeRequest{
			WorkspaceId: api.String(id), ErrorCode: api.String(ie.code), ErrorMessage: api.String(ie.message),
		})
	}
	return failed, nil
}

// stateList names states for messages: "A, B or C".
func stateList(states []string) string {
	if len(states) == 1 {
		return states[0]
	}
	return strings.Join(states[:len(states)-1], ", ") + " or " + states[len(states)-1]
}

// allowed refuses a transition from a state it does not start from.
func allowed(id, verb string, v view, from []string) error {
	if slices.Contains(from, v.state) {
		return nil
	}
	return fail(codeWorkspaceState, "The WorkSpace %s is %s; it can be %s only when it is %s.", id, v.state, verb, stateList(from))
}

func needsStoppable(id, verb string, v view) error {
	if stoppable(v.props.RunningMode) {
		return nil
	}
	return fail(codeRunningMode, "The WorkSpace %s runs in the %s running mode; only AUTO_STOP and MANUAL WorkSpaces can be %s.", id, v.props.RunningMode, verb)
}
