// Package iam evaluates IAM identity policies for WorkSpaces requests: the
// policy grammar (Version, Statement, Effect, Action / NotAction, Resource /
// NotResource, Condition), the evaluation logic (an explicit Deny wins;
// without an Allow, denied), the resource ARNs each implemented operation
// acts on (resources.go) and the AccessDeniedException a refused call gets
// (authorizer.go). It knows nothing about HTTP or signatures: package auth
// says who the caller is, this package says what the caller may do.
package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Versions of the policy language IAM accepts.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// ErrMalformedPolicy wraps what is wrong with a policy document.
var ErrMalformedPolicy = errors.New("malformed policy document")

// Policy is one identity policy document.
type Policy struct {
	Version   string
	ID        string
	Statement []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect string
	// Action or NotAction (exactly one is set), as written.
	Action, NotAction []string
	// Resource or NotResource (exactly one is set), as written.
	Resource, NotResource []string
	// Condition maps operators (e.g. StringEquals, ForAnyValue:StringLike)
	// to keys and the values they compare with.
	Condition map[string]map[string][]string
}

// strings1 is a JSON string or list of strings, as IAM accepts for Action,
// Resource and condition values.
type strings1 []string

func (s *strings1) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("expected a string or a list of strings")
	}
	*s = many
	return nil
}

type rawStatement struct {
	Sid         string                         `json:"Sid"`
	Effect      string                         `json:"Effect"`
	Action      *strings1                      `json:"Action"`
	NotAction   *strings1                      `json:"NotAction"`
	Resource    *strings1                      `json:"Resource"`
	NotResource *strings1                      `json:"NotResource"`
	Condition   map[string]map[string]strings1 `json:"Condition"`
	Principal   json.RawMessage                `json:"Principal"`
}

type rawPolicy struct {
	Version   string          `json:"Version"`
	ID        string          `json:"Id"`
	Statement json.RawMessage `json:"Statement"`
}

// ParsePolicy reads and checks a policy document in IAM's JSON grammar. What
// IAM would refuse as a MalformedPolicyDocument is refused here too, with an
// error wrapping ErrMalformedPolicy that says why.
func ParsePolicy(doc []byte) (Policy, error) {
	var raw rawPolicy
	if err := strict(doc, &raw); err != nil {
		return Policy{}, fmt.Errorf("%w: %v", ErrMalformedPolicy, err)
	}
	p := Policy{Version: raw.Version, ID: raw.ID}
	switch p.Version {
	case Version2012, Version2008:
	case "":
		p.Version = Version2008 // IAM's default when Version is left out
	default:
		return Policy{}, fmt.Errorf("%w: Version must be %s or %s, not %q", ErrMalformedPolicy, Version2012, Version2008, raw.Version)
	}
	var stmts []rawStatement
	trimmed := strings.TrimSpace(string(raw.Statement))
	switch {
	case trimmed == "" || trimmed == "null":
		return Policy{}, fmt.Errorf("%w: Statement is required", ErrMalformedPolicy)
	case strings.HasPrefix(trimmed, "{"):
		var one rawStatement
		if err := strict(raw.Statement, &one); err != nil {
			return Policy{}, fmt.Errorf("%w: Statement: %v", ErrMalformedPolicy, err)
		}
		stmts = []rawStatement{one}
	default:
		if err := strict(raw.Statement, &stmts); err != nil {
			return Policy{}, fmt.Errorf("%w: Statement: %v", ErrMalformedPolicy, err)
		}
	}
	for i, rs := range stmts {
		s, err := rs.check()
		if err != nil {
			return Policy{}, fmt.Errorf("%w: Statement %d: %v", ErrMalformedPolicy, i, err)
		}
		p.Statement = append(p.Statement, s)
	}
	return p, nil
}

// strict decodes b into v refusing unknown members, as IAM refuses an
// element it does not know: a misspelt "Condtion" must not silently widen
// an Allow.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (rs rawStatement) check() (Statement, error) {
	s := Statement{Sid: rs.Sid, Effect: rs.Effect}
	if s.Effect != EffectAllow && s.Effect != EffectDeny {
		return s, fmt.Errorf("Effect must be Allow or Deny, not %q", rs.Effect)
	}
	if len(rs.Principal) > 0 {
		return s, errors.New("an identity policy has no Principal")
	}
	switch {
	case rs.Action != nil && rs.NotAction != nil:
		return s, errors.New("Action and NotAction are exclusive")
	case rs.Action != nil:
		s.Action = *rs.Action
	case rs.NotAction != nil:
		s.NotAction = *rs.NotAction
	default:
		return s, errors.New("Action or NotAction is required")
	}
	for _, a := range append(append([]string{}, s.Action...), s.NotAction...) {
		if a != "*" && !strings.Contains(a, ":") {
			return s, fmt.Errorf("action %q must be service:action, e.g. workspaces:DescribeWorkspaces", a)
		}
	}
	switch {
	case rs.Resource != nil && rs.NotResource != nil:
		return s, errors.New("Resource and NotResource are exclusive")
	case rs.Resource != nil:
		s.Resource = *rs.Resource
	case rs.NotResource != nil:
		s.NotResource = *rs.NotResource
	default:
		return s, errors.New("Resource or NotResource is required")
	}
	for op, keys := range rs.Condition {
		if _, err := lookupOperator(op); err != nil {
			return s, err
		}
		if s.Condition == nil {
			s.Condition = map[string]map[string][]string{}
		}
		s.Condition[op] = map[string][]string{}
		for k, v := range keys {
			s.Condition[op][k] = v
		}
	}
	return s, nil
}

// MarshalJSON writes the policy back in IAM's grammar (Statement always a
// list, single values as lists).
func (p Policy) MarshalJSON() ([]byte, error) {
	type stmt struct {
		Sid         string                         `json:"Sid,omitempty"`
		Effect      string                         `json:"Effect"`
		Action      []string                       `json:"Action,omitempty"`
		NotAction   []string                       `json:"NotAction,omitempty"`
		Resource    []string                       `json:"Resource,omitempty"`
		NotResource []string                       `json:"NotResource,omitempty"`
		Condition   map[string]map[string][]string `json:"Condition,omitempty"`
	}
	out := struct {
		Version   string `json:"Version"`
		ID        string `json:"Id,omitempty"`
		Statement []stmt `json:"Statement"`
	}{Version: p.Version, ID: p.ID, Statement: []stmt{}}
	for _, s := range p.Statement {
		out.Statement = append(out.Statement, stmt{s.Sid, s.Effect, s.Action, s.NotAction, s.Resource, s.NotResource, s.Condition})
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a policy as ParsePolicy does.
func (p *Policy) UnmarshalJSON(b []byte) error {
	parsed, err := ParsePolicy(b)
	if err != nil {
		return err
	}
	*p = parsed
	return nil
}

// Effects of a statement.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)
