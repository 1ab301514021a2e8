package records

import (
	"context"
	"fmt"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
)

// Workspace is a WorkSpace. Its state is never stored: it is History.At(now),
// the latest plan a state-changing call started, evaluated at the service
// clock (package workspaces declares the lifecycles).
type Workspace struct {
	Meta
	DirectoryID string    `json:"directoryId"`
	UserName    string    `json:"userName"`
	BundleID    string    `json:"bundleId"`
	Tags        []api.Tag `json:"tags,omitempty"`

	// WorkspaceName names a user-decoupled WorkSpace (UserName [UNDEFINED]).
	WorkspaceName string `json:"workspaceName,omitempty"`
	// ImageID and ImageOwner are the image the bundle launched, which the
	// WorkSpace keeps using whatever happens to the bundle later.
	ImageID    string `json:"imageId"`
	ImageOwner string `json:"imageOwner"`
	// BYOL is true when the image came from a BYOL import.
	BYOL bool `json:"byol,omitempty"`

	Properties WorkspaceProperties `json:"properties"`

	VolumeEncryptionKey string `json:"volumeEncryptionKey,omitempty"`
	RootEncrypted       bool   `json:"rootEncrypted,omitempty"`
	UserEncrypted       bool   `json:"userEncrypted,omitempty"`

	ComputerName string `json:"computerName"`
	IPAddress    string `json:"ipAddress"`
	SubnetID     string `json:"subnetId"`

	// Launch is the creation's plan, kept apart because History drops its
	// oldest plans; History holds a plan per state-changing call, starting
	// with Launch.
	Launch  pipeline.Plan    `json:"launch"`
	History pipeline.History `json:"history"`
	// Modifications are the property changes of ModifyWorkspaceProperties,
	// oldest first; one that has finished successfully has replaced the
	// property's value in Properties' view (see package workspaces).
	Modifications []WorkspaceModification `json:"modifications,omitempty"`
	// CapturingImage is the latest image CreateWorkspaceImage made from the
	// WorkSpace, if any.
	CapturingImage string `json:"capturingImage,omitempty"`
}

// WorkspaceProperties are the WorkSpace's properties as it was created or
// as ModifyWorkspaceProperties last set them directly (running mode and its
// timeout change at once; volumes, compute type and protocol through
// Modifications).
type WorkspaceProperties struct {
	RunningMode     string   `json:"runningMode"`
	AutoStopTimeout int32    `json:"autoStopTimeout,omitempty"`
	RootVolumeGiB   int32    `json:"rootVolumeGiB"`
	UserVolumeGiB   int32    `json:"userVolumeGiB"`
	ComputeType     string   `json:"computeType"`
	Protocols       []string `json:"protocols,omitempty"`
	OperatingSystem string   `json:"operatingSystem,omitempty"`
}

// WorkspaceModification is one property change in flight or done: Resource
// is a ModificationResourceEnum value, Value its new value (a size in GiB, a
// compute type, a protocol), Plan when it runs.
type WorkspaceModification struct {
	Resource string        `json:"resource"`
	Value    string        `json:"value"`
	Plan     pipeline.Plan `json:"plan"`
}

// WorkspaceGone is the final state of a termination: the WorkSpace no
// longer exists, whatever its record still says.
const WorkspaceGone = "GONE"

// Status is the WorkSpace's lifecycle status at now.
func (w *Workspace) Status(now time.Time) pipeline.Status { return w.History.At(now) }

// State is the WorkSpace's WorkspaceState at now, or WorkspaceGone once a
// termination has finished.
func (w *Workspace) State(now time.Time) string { return w.Status(now).State }

// Gone reports whether the WorkSpace has been terminated by now. Its record
// may still be stored until the next write in its account and Region
// removes it; every reader must treat it as absent.
func (w *Workspace) Gone(now time.Time) bool { return w.State(now) == WorkspaceGone }

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
// Region for which keep is true. Terminated WorkSpaces whose records are
// still stored are passed to keep too: test w.Gone(now) to leave them out.
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

// LiveWorkspacesWhere is WorkspacesWhere without the WorkSpaces gone by now.
func LiveWorkspacesWhere(ctx context.Context, r Reader, account, region string, now time.Time, keep func(*Workspace) bool) ([]string, error) {
	return WorkspacesWhere(ctx, r, account, region, func(w *Workspace) bool { return !w.Gone(now) && keep(w) })
}

// PurgeGoneWorkspaces deletes the records of the WorkSpaces of the account
// and Region that are gone by now, freeing their places in the quota.
func PurgeGoneWorkspaces(ctx context.Context, tx *Tx, account, region string, now time.Time) error {
	all, err := Workspaces.List(ctx, tx, account, region)
	if err != nil {
		return err
	}
	for _, w := range all {
		if w.Gone(now) {
			if err := Workspaces.Delete(ctx, tx, w); err != nil {
				return err
			}
		}
	}
	return nil
}
