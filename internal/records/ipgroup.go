package records

import (
	"fmt"

	"github.com/wsim/wsim/internal/api"
)

// IPGroup is an IP access control group.
type IPGroup struct {
	Meta
	// Directories lists, in ascending order, the directories the group is
	// associated with; each lists the group in its IPGroupIDs, written in
	// the same transaction.
	Directories []string  `json:"directories,omitempty"`
	Tags        []api.Tag `json:"tags,omitempty"`
	// Description is the GroupDesc, "" when none was given.
	Description string `json:"description,omitempty"`
	// Rules are the group's rules in the order they were added.
	Rules []IPRule `json:"rules,omitempty"`
}

// IPRule is one rule of an IP access control group: an IPv4 address or
// CIDR range as the caller wrote it, and its description.
type IPRule struct {
	Source      string `json:"source"`
	Description string `json:"description,omitempty"`
}

// IPGroups are the IP access control groups, named uniquely per account and
// Region.
var IPGroups = &Kind[IPGroup, *IPGroup]{
	Name: "ip-group", Prefix: "wsipg-", IDLen: 9,
	NotFound: func(id string) error {
		return notFound(id, "The IP access control group %s could not be found in this account and Region.", id)
	},
	AlreadyExists: func(name string) error {
		return &api.ResourceAlreadyExistsException{Message: fmt.Sprintf("An IP access control group with the name %s already exists in this account and Region.", name)}
	},
	LimitExceeded: func(limit int, region string) error {
		return &api.ResourceLimitExceededException{Message: fmt.Sprintf(
			"Your account has reached its limit of %d IP access control groups in %s.", limit, region)}
	},
}
