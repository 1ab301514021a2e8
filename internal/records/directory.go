package records

import (
	"context"
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

	// What the registration found or was given; never changed afterwards.
	WorkspaceType    string   `json:"workspaceType"`
	UserIdentityType string   `json:"userIdentityType"`
	DirectoryType    string   `json:"directoryType"`
	DirectoryName    string   `json:"directoryName,omitempty"`
	RegistrationCode string   `json:"registrationCode"`
	SubnetIDs        []string `json:"subnetIds,omitempty"`
	DNSIPAddresses   []string `json:"dnsIpAddresses,omitempty"`
	CustomerUserName string   `json:"customerUserName,omitempty"`
	SecurityGroupID  string   `json:"securityGroupId"`
	// WorkspaceDirectoryName and Description name a POOLS or Identity
	// Center directory (wsd-); Meta.Name is the name too, so it is unique
	// in the account and Region.
	WorkspaceDirectoryName        string                     `json:"workspaceDirectoryName,omitempty"`
	WorkspaceDirectoryDescription string                     `json:"workspaceDirectoryDescription,omitempty"`
	IdcInstanceArn                string                     `json:"idcInstanceArn,omitempty"`
	MicrosoftEntraConfig          *api.MicrosoftEntraConfig  `json:"microsoftEntraConfig,omitempty"`
	ActiveDirectoryConfig         *api.ActiveDirectoryConfig `json:"activeDirectoryConfig,omitempty"`

	// The properties the Modify* operations set: those AWS lists for a
	// new directory filled in with its defaults at registration, the
	// others nil (or "") until first set.
	Creation               api.DefaultWorkspaceCreationProperties `json:"creation"`
	Access                 api.WorkspaceAccessProperties          `json:"access"`
	SelfService            api.SelfservicePermissions             `json:"selfService"`
	Client                 api.ClientProperties                   `json:"client"`
	Saml                   *api.SamlProperties                    `json:"saml,omitempty"`
	CertificateBasedAuth   *api.CertificateBasedAuthProperties    `json:"certificateBasedAuth,omitempty"`
	Streaming              *api.StreamingProperties               `json:"streaming,omitempty"`
	EndpointEncryptionMode string                                 `json:"endpointEncryptionMode,omitempty"`
}

// Directories are the directories registered with WorkSpaces.
var Directories = &Kind[Directory, *Directory]{
	Name: "directory", Prefix: "wsd-", IDLen: 9,
	NotFound: func(id string) error {
		return notFound(id, "The directory %s could not be found in this account and Region.", id)
	},
	AlreadyExists: func(name string) error {
		return &api.ResourceAlreadyExistsException{Message: fmt.Sprintf("A directory with the name %s is already registered in this account and Region.", name)}
	},
	LimitExceeded: func(limit int, region string) error {
		return &api.ResourceLimitExceededException{Message: fmt.Sprintf(
			"Your account has reached its limit of %d registered directories in %s.", limit, region)}
	},
}

// State is the directory's WorkspaceDirectoryState at now.
func (d *Directory) State(now time.Time) string {
	if d.Deregistration != nil {
		// The plan's stages are DEREGISTERING then DEREGISTERED; once it
		// is done the directory is Gone, last seen DEREGISTERED.
		if st := d.Deregistration.At(now); !st.Done && st.State == api.WorkspaceDirectoryStateDeregistering {
			return api.WorkspaceDirectoryStateDeregistering
		}
		return api.WorkspaceDirectoryStateDeregistered
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

// Gone reports whether the directory no longer exists at now: its
// deregistration has ended, after DEREGISTERED was shown briefly. A gone
// directory is found by no operation; its record stays until the account
// registers a directory again (which purges gone records) or is reset.
func (d *Directory) Gone(now time.Time) bool {
	return d.Deregistration != nil && d.Deregistration.At(now).Done
}

// FindDirectory returns the directory registered with WorkSpaces as it is at
// now, or nil when there is none or it is gone.
func FindDirectory(ctx context.Context, r Reader, account, region, id string, now time.Time) (*Directory, error) {
	d, err := Directories.Find(ctx, r, account, region, id)
	if err != nil || d == nil || d.Gone(now) {
		return nil, err
	}
	return d, nil
}

// GetDirectory is FindDirectory answering ResourceNotFoundException when
// there is no such directory.
func GetDirectory(ctx context.Context, r Reader, account, region, id string, now time.Time) (*Directory, error) {
	d, err := FindDirectory(ctx, r, account, region, id, now)
	if err == nil && d == nil {
		err = Directories.NotFound(id)
	}
	return d, err
}

// Registered reports whether the directory is REGISTERED at now, the only
// state in which WorkSpaces can be launched in it.
func (d *Directory) Registered(now time.Time) bool {
	return d.State(now) == api.WorkspaceDirectoryStateRegistered
}
