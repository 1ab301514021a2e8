package records

import (
	"context"
	"fmt"

	"github.com/wsim/wsim/internal/api"
)

// Workspace is a WorkSpace.
type Workspace struct {
	Meta
	DirectoryID string    `json:"directoryId"`
	UserName    string    `json:"userName"`
	BundleID    string    `json:"bundleId"`
	Tags        []api.Tag `json:"tags,omitempty"`
	// Package workspaces adds the WorkSpace's properties and the history
	// of its lifecycle here.
}

// Workspaces are the WorkSpaces of an account and Region.
var Workspaces = &Kind[Workspace, *Workspace]{
	Name: "workspace", Prefix: "ws-", IDLen: 9,
	NotFound: func(id string) error {
		return notFound(id, "The WorkSpace %s could not be found in this account and Region.", id)
	},
	LimitExceeded: func(limit int, region string) error {
		return &api.ResourceLimitExceededException{Message: fmt.Sprintf(
			"Your account has reached its limit of %d WorkSpaces in %s.", limit, region)}
	},
}

// WorkspacesWhere returns the ids of the WorkSpaces of the account and
// Region for which keep is true.
func WorkspacesWhere(ctx context.Context, r Reader, account, region string, keep func(*Workspace) bool) ([]string, error) {
	all, err := Workspaces.List(ctx, r, account, region)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, w := range all {
		if keep(w) {
			ids = append(ids, w.ID)
		}
	}
	return ids, nil
}
