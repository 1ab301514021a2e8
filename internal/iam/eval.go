package iam

import (
	"fmt"
	"strings"
)

// Decision is the outcome of evaluating policies for one request.
type Decision int

const (
	// ImplicitDeny: no statement allows the request (nor denies it).
	ImplicitDeny Decision = iota
	// Allow: a statement allows the request and none denies it.
	Allow
	// ExplicitDeny: a Deny statement applies, whatever else allows it.
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Context gives the values of condition keys for a request, looked up by
// their lowercased names (aws:requestedregion, aws:resourcetag/owner); ok
// is false when the request has no value for the key.
type Context func(key string) (values []string, ok bool)

// Request is what is evaluated: an action (service:Action) on one resource
// ARN ("*" for actions without a resource), with its condition keys.
type Request struct {
	Action   string
	Resource string
	Context  Context
}

// Evaluate applies IAM's identity-policy logic to req: an explicit Deny in
// any statement wins; else an Allow in any statement allows; else the
// request is implicitly denied.
func Evaluate(policies []Policy, req Request) (Decision, error) {
	d := ImplicitDeny
	for _, p := range policies {
		for _, s := range p.Statement {
			applies, err := s.applies(req)
			if err != nil {
				return ImplicitDeny, err
			}
			if !applies {
				continue
			}
			if s.Effect == EffectDeny {
				return ExplicitDeny, nil
			}
			d = Allow
		}
	}
	return d, nil
}

func (s Statement) applies(req Request) (bool, error) {
	if s.Action != nil && !anyMatch(s.Action, req.Action, true) {
		return false, nil
	}
	if s.NotAction != nil && anyMatch(s.NotAction, req.Action, true) {
		return false, nil
	}
	if s.Resource != nil && !anyMatch(s.Resource, req.Resource, false) {
		return false, nil
	}
	if s.NotResource != nil && anyMatch(s.NotResource, req.Resource, false) {
		return false, nil
	}
	for op, keys := range s.Condition {
		for key, want := range keys {
			ok, err := evalCondition(op, key, want, req.Context)
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

func anyMatch(patterns []string, value string, foldCase bool) bool {
	for _, p := range patterns {
		if foldCase {
			if Match(strings.ToLower(p), strings.ToLower(value)) {
				return true
			}
		} else if Match(p, value) {
			return true
		}
	}
	return false
}

// Match reports whether value matches pattern, where * matches any run of
// characters (also none) and ? any one character, as IAM matches actions,
// resources and StringLike values.
func Match(pattern, value string) bool {
	// Iterative wildcard matching with backtracking to the last *: linear in
	// practice, never exponential.
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// operator is a condition operator: how one request value compares with the
// policy's values, and whether the operator is a negation (true when the
// key is absent).
type operator struct {
	match   func(want, got string) bool
	negated bool
}

var operators = map[string]operator{
	"stringequals":              {match: func(w, g string) bool { return w == g }},
	"stringnotequals":           {match: func(w, g string) bool { return w == g }, negated: true},
	"stringequalsignorecase":    {match: strings.EqualFold},
	"stringnotequalsignorecase": {match: strings.EqualFold, negated: true},
	"stringlike":                {match: Match},
	"stringnotlike":             {match: Match, negated: true},
}

// condOp is a parsed condition operator name: ForAnyValue:/ForAllValues:
// set operators, the operator itself, and IfExists.
type condOp struct {
	op       operator
	anyValue bool
	allValue bool
	ifExists bool
	null     bool
}

func lookupOperator(name string) (condOp, error) {
	var c condOp
	n := strings.ToLower(name)
	if rest, ok := strings.CutPrefix(n, "foranyvalue:"); ok {
		c.anyValue, n = true, rest
	} else if rest, ok := strings.CutPrefix(n, "forallvalues:"); ok {
		c.allValue, n = true, rest
	}
	if n == "null" {
		c.null = true
		return c, nil
	}
	if rest, ok := strings.CutSuffix(n, "ifexists"); ok {
		c.ifExists, n = true, rest
	}
	op, ok := operators[n]
	if !ok {
		return c, fmt.Errorf("condition operator %q is not supported (StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike, Null, with ForAnyValue:/ForAllValues: and IfExists)", name)
	}
	c.op = op
	return c, nil
}

// evalCondition evaluates one key of one operator as IAM does.
func evalCondition(opName, key string, want []string, ctx Context) (bool, error) {
	c, err := lookupOperator(opName)
	if err != nil {
		return false, err
	}
	var got []string
	present := false
	if ctx != nil {
		got, present = ctx(strings.ToLower(key))
	}
	if c.null {
		// Null: "true" asks for the key to be absent, "false" for it present.
		for _, w := range want {
			if strings.EqualFold(w, "true") == !present {
				return true, nil
			}
		}
		return false, nil
	}
	matchesOne := func(g string) bool {
		for _, w := range want {
			if c.op.match(w, g) {
				return true
			}
		}
		return false
	}
	switch {
	case c.allValue:
		// True when every value of the request is among the policy's (also
		// when the request has none).
		for _, g := range got {
			if matchesOne(g) == c.op.negated {
				return false, nil
			}
		}
		return true, nil
	case c.anyValue:
		for _, g := range got {
			if matchesOne(g) != c.op.negated {
				return true, nil
			}
		}
		return false, nil
	}
	if !present {
		return c.ifExists || c.op.negated, nil
	}
	for _, g := range got {
		if matchesOne(g) {
			return !c.op.negated, nil
		}
	}
	return c.op.negated, nil
}
