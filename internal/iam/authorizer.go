package iam

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wsim/wsim/internal/api"
)

// ServicePrefix is the IAM service prefix of WorkSpaces actions.
const ServicePrefix = "workspaces"

// Principal is who a request acts for: the ARN of the IAM identity, and the
// account and Region the request is scoped to.
type Principal struct {
	ARN, Account, Region string
}

// Authorizer decides whether a principal may call an operation.
type Authorizer struct {
	// Policies returns the identity policies of a principal ARN; ok false
	// means the principal has no policy set at all, which Authorizer takes
	// as full access (see docs/security.md, "Policies").
	Policies func(principal string) (policies []Policy, ok bool)
	// Tags returns the tags of a resource of the account in the Region by
	// id (nil when there is no such resource), for aws:ResourceTag/<key>.
	Tags func(ctx context.Context, account, region, id string) (map[string]string, error)
}

// Authorize returns nil when p may call operation with input in, and
// AccessDeniedException worded as AWS words it otherwise. Each resource the
// input names is evaluated; the first one refused is the one the message
// names.
func (a *Authorizer) Authorize(ctx context.Context, p Principal, operation string, in any) error {
	policies, ok := a.Policies(p.ARN)
	if !ok {
		return nil
	}
	action := ServicePrefix + ":" + operation
	requestTags := requestTags(in)
	for _, ref := range Resources(operation, in, p.Region) {
		arn := ref.ARN(p.Account)
		var resourceTags map[string]string
		var tagsErr error
		loaded := false
		ctxFn := func(key string) ([]string, bool) {
			switch {
			case key == "aws:requestedregion":
				return []string{p.Region}, true
			case key == "aws:principalarn":
				return []string{p.ARN}, true
			case key == "aws:principalaccount":
				return []string{p.Account}, true
			case key == "aws:tagkeys":
				if requestTags == nil {
					return nil, false
				}
				keys := make([]string, 0, len(requestTags))
				for k := range requestTags {
					keys = append(keys, k)
				}
				return keys, true
			case strings.HasPrefix(key, "aws:requesttag/"):
				return lookupTag(requestTags, strings.TrimPrefix(key, "aws:requesttag/"))
			case strings.HasPrefix(key, "aws:resourcetag/"):
				if ref.Type == "" || ref.ID == "*" || a.Tags == nil {
					return nil, false
				}
				if !loaded {
					loaded = true
					resourceTags, tagsErr = a.Tags(ctx, p.Account, ref.Region, ref.ID)
				}
				return lookupTag(resourceTags, strings.TrimPrefix(key, "aws:resourcetag/"))
			}
			return nil, false
		}
		d, err := Evaluate(policies, Request{Action: action, Resource: arn, Context: ctxFn})
		if tagsErr != nil {
			return tagsErr
		}
		if err != nil {
			return err
		}
		if d != Allow {
			return accessDenied(p.ARN, action, arn, d)
		}
	}
	return nil
}

// lookupTag finds a tag by key; tag keys match case-insensitively in
// condition keys, as IAM matches aws:ResourceTag/<key>.
func lookupTag(tags map[string]string, key string) ([]string, bool) {
	for k, v := range tags {
		if strings.EqualFold(k, key) {
			return []string{v}, true
		}
	}
	return nil, false
}

// requestTags are the tags an input asks for (a Tags member), nil when it
// has none.
func requestTags(in any) map[string]string {
	b, err := json.Marshal(in)
	if err != nil {
		return nil
	}
	var doc struct {
		Tags []api.Tag `json:"Tags"`
	}
	if json.Unmarshal(b, &doc) != nil || doc.Tags == nil {
		return nil
	}
	tags := make(map[string]string, len(doc.Tags))
	for _, t := range doc.Tags {
		if t.Key != nil {
			v := ""
			if t.Value != nil {
				v = *t.Value
			}
			tags[*t.Key] = v
		}
	}
	return tags
}

// accessDenied is AWS's AccessDeniedException for a refused action, with the
// reason IAM gives since 2021: no identity-based policy allows it, or an
// explicit deny in one.
func accessDenied(principal, action, resource string, d Decision) error {
	reason := "because no identity-based policy allows the " + action + " action"
	if d == ExplicitDeny {
		reason = "with an explicit deny in an identity-based policy"
	}
	return &api.AccessDeniedException{Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s",
		principal, action, resource, reason)}
}
