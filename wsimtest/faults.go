package wsimtest

import (
	"context"
	"fmt"

	"github.com/wsim/wsim/internal/app"
	"github.com/wsim/wsim/internal/pipeline"
)

// Errors of Faults, for errors.Is.
var (
	// ErrInvalidFaultRule wraps what is wrong with a rule Add refuses.
	ErrInvalidFaultRule = app.ErrInvalidFaultRule
	// ErrNoSuchFaultRule is returned by Delete for an id no rule has.
	ErrNoSuchFaultRule = app.ErrNoSuchFaultRule
)

// FaultRule makes matching new operations fail, for code under test that
// cannot tag what it creates. Its fields and their JSON names are those of
// the control plane's POST /_wsim/faults (docs/import-pipeline.md). Empty
// match fields match anything.
type FaultRule struct {
	// ID is assigned by Add; leave it empty.
	ID string `json:"id,omitempty"`
	// Account (12 digits) and Region restrict the rule to one caller.
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	// NamePattern is a path.Match glob on the image name, e.g. "doomed-*".
	NamePattern string `json:"namePattern,omitempty"`
	// SourceID matches the source: an AMI id, an import task id or an Image
	// Builder ARN.
	SourceID string `json:"sourceId,omitempty"`
	// Kind is the kind of operation: custom-import (when empty),
	// legacy-import, copy, update or account-modification.
	Kind string `json:"kind,omitempty"`
	// FailAt is the stage the operation fails at, e.g. "GENERALIZING".
	FailAt string `json:"failAt"`
	// ErrorCode and ErrorMessage are what the failed operation reports; by
	// default a code fitting the stage, and that code's message.
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

func (r FaultRule) internal() pipeline.FaultRule {
	return pipeline.FaultRule{
		ID: r.ID, Account: r.Account, Region: r.Region, NamePattern: r.NamePattern, SourceID: r.SourceID,
		Kind: pipeline.Kind(r.Kind), FailAt: r.FailAt, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
	}
}

func publicRule(r pipeline.FaultRule) FaultRule {
	return FaultRule{
		ID: r.ID, Account: r.Account, Region: r.Region, NamePattern: r.NamePattern, SourceID: r.SourceID,
		Kind: string(r.Kind), FailAt: r.FailAt, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
	}
}

// Faults are a server's fault rules. They apply to operations created after
// they are added, in the order they were added; the first that matches wins,
// and wsim:fail-at tags on the request win over every rule. They are kept in
// the store, so servers sharing a PostgreSQL store share them.
type Faults struct {
	app *app.App
}

// Add validates r and installs it, returning the id it was given. A refused
// rule's error wraps ErrInvalidFaultRule.
func (f *Faults) Add(r FaultRule) (string, error) {
	if r.ID != "" {
		return "", fmt.Errorf("%w: the id is assigned by wsim; leave it out", ErrInvalidFaultRule)
	}
	added, err := f.app.AddFaultRule(context.Background(), r.internal())
	if err != nil {
		return "", err
	}
	return added.ID, nil
}

// List returns the rules in the order they match.
func (f *Faults) List() ([]FaultRule, error) {
	rules, err := f.app.FaultRules(context.Background())
	if err != nil {
		return nil, err
	}
	out := make([]FaultRule, len(rules))
	for i, r := range rules {
		out[i] = publicRule(r)
	}
	return out, nil
}

// Delete removes the rule with the id, or returns ErrNoSuchFaultRule.
func (f *Faults) Delete(id string) error {
	if id == "" {
		return fmt.Errorf("%w: the id is empty (Clear removes every rule)", ErrNoSuchFaultRule)
	}
	return f.app.DeleteFaultRule(context.Background(), id)
}

// Clear removes every rule.
func (f *Faults) Clear() error { return f.app.DeleteFaultRule(context.Background(), "") }
