package records

import (
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
)

// DirectoryMode says how wsim stands in for AWS Directory Service, where the
// directories WorkSpaces registers really live.
type DirectoryMode string

const (
	// DirectoriesFriendly takes any well-formed d- id as an existing Active
	// Directory Service directory, with generated details, and accepts
	// every user name in it.
	DirectoriesFriendly DirectoryMode = "friendly"
	// DirectoriesStrict knows only the directories, and their users,
	// declared through the control API (DirectoryServiceDirectories).
	DirectoriesStrict DirectoryMode = "strict"
)

// ParseDirectoryMode reads a --directories value.
func ParseDirectoryMode(s string) (DirectoryMode, error) {
	switch m := DirectoryMode(s); m {
	case DirectoriesFriendly, DirectoriesStrict:
		return m, nil
	}
	return "", fmt.Errorf("unknown directories mode %q: use friendly or strict", s)
}

// Directory is a directory registered with WorkSpaces. Meta.ID is its
// DirectoryId: the Directory Service id (d-...) it was registered with, or a
// wsd- id wsim made for a POOLS or IAM Identity Center directory.
type Directory struct {
	Meta
	// Registration is REGISTERING until it ends; Deregistration, once set,
	// is DEREGISTERING until it ends, when the directory is gone.
	Registration   pipeline.Plan  `json:"registration"`
	Deregistration *pipeline.Plan `json:"deregistration,omitempty"`
	// Tenancy is SHARED or DEDICATED.
	Tenancy string `json:"tenancy"`
	// IPGroupIDs lists, in ascending order, the IP access control groups
	// associated with the directory. Each group lists the directory in its
	// own Directories, written in the same transaction.
	IPGroupIDs []string  `json:"ipGroupIds,omitempty"`
	Tags       []api.Tag `json:"tags,omitempty"`
	// Package directories adds the fields of the registration and of the
	// property operations here.
}

// Directories are the directories registered with WorkSpaces.
var Directories = &Kind[Directory, *Directory]{
	Name: "directory", Prefix: "wsd-", IDLen: 9,
	NotFound: func(id string) error {
		return notFound(id, "The directory %s could not be found in this account and Region.", id)
	},
	LimitExceeded: func(limit int, region string) error {
		return &api.ResourceLimitExceededException{Message: fmt.Sprintf(
			"Your account has reached its limit of %d registered directories in %s.", limit, region)}
	},
}

// State is the directory's WorkspaceDirectoryState at now.
func (d *Directory) State(now time.Time) string {
	if d.Deregistration != nil {
		if st := d.Deregistration.At(now); st.Done {
			return api.WorkspaceDirectoryStateDeregistered
		}
		return api.WorkspaceDirectoryStateDeregistering
	}
	st := d.Registration.At(now)
	switch {
	case st.Failed:
		return api.WorkspaceDirectoryStateError
	case st.Done:
		return api.WorkspaceDirectoryStateRegistered
	}
	return api.WorkspaceDirectoryStateRegistering
}
