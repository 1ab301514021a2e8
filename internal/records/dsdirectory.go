package records

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
)

// DSDirectory is wsim's stand-in for a directory of AWS Directory Service
// (or, for a wsd- id, the users of a POOLS or IAM Identity Center
// directory): what WorkSpaces reads from it when the directory is
// registered, and the users WorkSpaces can be launched for. Meta.ID is the
// directory id.
type DSDirectory struct {
	Meta
	// DomainName is the directory's DNS name, not unique: two directories
	// may serve the same domain.
	DomainName string `json:"domainName"`
	// Type is the WorkspaceDirectoryType it registers as: SIMPLE_AD or
	// AD_CONNECTOR.
	Type string `json:"type"`
	// Stage is its Directory Service stage; only an Active directory can be
	// registered.
	Stage            string   `json:"stage"`
	DNSIPAddresses   []string `json:"dnsIpAddresses"`
	SubnetIDs        []string `json:"subnetIds"`
	CustomerUserName string   `json:"customerUserName"`
	// Users are the user names in the directory, in ascending order of
	// their lower case form (SortUsers). Only strict mode reads them: in
	// friendly mode every name is a user.
	Users []string `json:"users,omitempty"`
}

// DSStageActive is the Directory Service stage of a directory that can be
// registered. The other stages are those of Directory Service's
// DirectoryStage: Requested, Creating, Created, Inoperable, Impaired,
// Restoring, RestoreFailed, Deleting, Deleted, Failed, Updating.
const DSStageActive = "Active"

// DSStages are the Directory Service stages a declared directory may have.
var DSStages = []string{"Requested", "Creating", "Created", DSStageActive, "Inoperable", "Impaired", "Restoring", "RestoreFailed", "Deleting", "Deleted", "Failed", "Updating"}

// DSDirectories are the directories declared through the control API,
// per account and Region.
var DSDirectories = &Kind[DSDirectory, *DSDirectory]{
	Name: "ds-directory",
	NotFound: func(id string) error {
		return notFound(id, "The Directory Service directory %s is not declared in this account and Region.", id)
	},
}

// FriendlyDSDirectory is the Active directory friendly mode finds for any
// well-formed d- id: a Simple AD whose details are derived from the
// account, Region and id, so that every process and every call sees the
// same directory.
func FriendlyDSDirectory(account, region, id string) *DSDirectory {
	sum := sha256.Sum256([]byte("ds/" + account + "/" + region + "/" + id))
	name := "corp.example.com"
	if hex := strings.TrimPrefix(id, "d-"); hex != id {
		name = "corp-" + hex[:min(8, len(hex))] + ".example.com"
	}
	return &DSDirectory{
		Meta:       Meta{Account: account, Region: region, ID: id},
		DomainName: name,
		Type:       "SIMPLE_AD",
		Stage:      DSStageActive,
		DNSIPAddresses: []string{
			fmt.Sprintf("172.16.0.%d", 10+int(sum[0])%240),
			fmt.Sprintf("172.16.1.%d", 10+int(sum[1])%240),
		},
		SubnetIDs:        []string{fmt.Sprintf("subnet-%x", sum[2:6]), fmt.Sprintf("subnet-%x", sum[6:10])},
		CustomerUserName: "Administrator",
	}
}

// LookupDSDirectory returns the Directory Service directory with the id as
// the directories mode sees it: a declared one, else (friendly mode, d- ids
// only) a made-up Active one; nil when there is none.
func LookupDSDirectory(ctx context.Context, r Reader, account, region, id string) (*DSDirectory, error) {
	d, err := DSDirectories.Find(ctx, r, account, region, id)
	if err != nil || d != nil {
		return d, err
	}
	if modeOf(r) == DirectoriesFriendly && strings.HasPrefix(id, "d-") {
		return FriendlyDSDirectory(account, region, id), nil
	}
	return nil, nil
}

// HasUser reports whether the declared users include the name. User names
// are compared without regard to case, as Active Directory compares them.
func (d *DSDirectory) HasUser(name string) bool {
	_, ok := slices.BinarySearchFunc(d.Users, strings.ToLower(name), func(u, n string) int {
		return strings.Compare(strings.ToLower(u), n)
	})
	return ok
}

// SortUsers orders and dedupes users as DSDirectory.Users keeps them.
func SortUsers(users []string) []string {
	out := slices.Clone(users)
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return slices.CompactFunc(out, func(a, b string) bool { return strings.EqualFold(a, b) })
}

// DirectoryUserExists reports whether userName is a user of the directory
// directoryID (d- or wsd-) of the account and Region. In friendly mode
// every name is a user of every directory, declared or not; in strict mode only the users
// declared with the directory through the control API are (for a wsd-
// directory, whose users live in IAM Identity Center or a customer's own
// directory, declare its users under its wsd- id once it is registered;
// until then it has none). It says nothing about whether the directory is
// registered with WorkSpaces: ask FindDirectory that.
func DirectoryUserExists(ctx context.Context, r Reader, account, region, directoryID, userName string) (bool, error) {
	if modeOf(r) == DirectoriesFriendly {
		return true, nil
	}
	d, err := DSDirectories.Find(ctx, r, account, region, directoryID)
	if err != nil || d == nil {
		return false, err
	}
	return d.HasUser(userName), nil
}

// modeOf is the directories mode of the store r reads.
func modeOf(r Reader) DirectoryMode {
	switch v := r.(type) {
	case *DB:
		return v.DirectoryMode()
	case *Tx:
		return v.db.DirectoryMode()
	}
	return DirectoriesFriendly
}
