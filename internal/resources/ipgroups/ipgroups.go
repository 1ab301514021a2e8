// Package ipgroups is the IP access control groups (create, describe,
// delete, their rules) and their association with directories. Every
// operation is synchronous: AWS answers with the change already made, and so
// does wsim.
package ipgroups

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/records"
)

// Limits of IP access control groups. The groups per account and Region
// (100) are the kind's quota, configured in package service.
const (
	// MaxGroupsPerDirectory is how many groups one directory may have
	// (WorkSpaces Administration Guide, IP access control groups).
	MaxGroupsPerDirectory = 25
	// MaxRulesPerGroup is how many rules one group may hold. AWS answers
	// ResourceLimitExceededException past a limit it does not publish;
	// wsim takes 10 (docs/ip-groups.md).
	MaxRulesPerGroup = 10
	// pageSize is DescribeIpGroups' page without MaxResults: the model's
	// maximum.
	pageSize = 25
)

// Service implements the IP access control group operations.
type Service struct{ env *kit.Env }

// New returns the IP access control group operations over env.
func New(env *kit.Env) *Service { return &Service{env: env} }

// Register adds the IP access control group operations to r.
func (s *Service) Register(r *api.Registry) {
	api.Handle(r, api.OpCreateIpGroup, s.CreateIpGroup)
	api.Handle(r, api.OpDescribeIpGroups, s.DescribeIpGroups)
	api.Handle(r, api.OpDeleteIpGroup, s.DeleteIpGroup)
	api.Handle(r, api.OpAuthorizeIpRules, s.AuthorizeIpRules)
	api.Handle(r, api.OpRevokeIpRules, s.RevokeIpRules)
	api.Handle(r, api.OpUpdateRulesOfIpGroup, s.UpdateRulesOfIpGroup)
	api.Handle(r, api.OpAssociateIpGroups, s.AssociateIpGroups)
	api.Handle(r, api.OpDisassociateIpGroups, s.DisassociateIpGroups)
}

// CatalogSources are the IP access control groups, as the dashboard's
// catalogue lists them: their rules, and the directories using them.
func (s *Service) CatalogSources() []dashboard.CatalogSource {
	return []dashboard.CatalogSource{dashboard.KindCatalog(s.env.DB, "ip-group", records.IPGroups, groupResource)}
}

func groupResource(_ context.Context, g *records.IPGroup, _ time.Time) (dashboard.Resource, error) {
	srcs := make([]string, len(g.Rules))
	for i, r := range g.Rules {
		srcs[i] = r.Source
	}
	r := dashboard.Resource{
		Name: g.Name, Description: g.Description, Created: g.Created,
		Attributes: map[string]string{"rules": strconv.Itoa(len(g.Rules))},
	}
	if len(srcs) > 0 {
		r.Attributes["sources"] = strings.Join(srcs, ", ")
	}
	if len(g.Tags) > 0 {
		r.Tags = kit.TagMap(g.Tags)
	}
	for _, d := range g.Directories {
		r.Relations = append(r.Relations, dashboard.Relation{Type: "directory", Account: g.Account, Region: g.Region, ID: d})
	}
	return r, nil
}

// toAPI is the groups as DescribeIpGroups shows them, pointing into the
// records (which no reader changes) and one slice holding every group's
// rules: a page of 25 groups made some 180 allocations when each rule's
// fields had their own.
func toAPI(groups []*records.IPGroup) []api.WorkspacesIpGroup {
	n := 0
	for _, g := range groups {
		n += len(g.Rules)
	}
	out := make([]api.WorkspacesIpGroup, len(groups))
	items := make([]api.IpRuleItem, n)
	for i, g := range groups {
		rules := items[:len(g.Rules):len(g.Rules)]
		items = items[len(g.Rules):]
		for j := range g.Rules {
			r := &g.Rules[j]
			rules[j].IpRule = &r.Source
			if r.Description != "" {
				rules[j].RuleDesc = &r.Description
			}
		}
		out[i] = api.WorkspacesIpGroup{GroupId: &g.ID, GroupName: &g.Name, UserRules: rules}
		if g.Description != "" {
			out[i].GroupDesc = &g.Description
		}
		// A group's answer depends on nothing but its record: its key is "".
		out[i].Encoded = records.Encoded(&g.Meta, "", &out[i])
	}
	return out
}

// parseSource reads a rule's source: an IPv4 address (one host) or an IPv4
// CIDR range. As in AWS, a range may have host bits set (10.0.0.1/16, which
// the Terraform provider's own acceptance tests create beside 10.0.0.0/16);
// it is kept as written, and is a source of its own.
func parseSource(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			return netip.Prefix{}, kit.InvalidParameter("The IP rule %q is not valid: give an IPv4 address, such as 203.0.113.25, or an IPv4 CIDR range, such as 203.0.113.0/24.", s)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Prefix{}, kit.InvalidParameter("The IP rule %q is not valid: give an IPv4 address, such as 203.0.113.25, or an IPv4 CIDR range, such as 203.0.113.0/24.", s)
	}
	return netip.PrefixFrom(a, 32), nil
}

// checkRules validates the rules add, added to have (nil to replace the
// rules, or for a new group, whose groupID is ""), and returns the group's
// rules afterwards: no source twice (an address and its /32 are
// the same source), at most MaxRulesPerGroup.
func checkRules(groupID string, have []records.IPRule, add []api.IpRuleItem) ([]records.IPRule, error) {
	out := slices.Clone(have)
	seen := make(map[netip.Prefix]string, len(have)+len(add))
	held := make(map[netip.Prefix]bool, len(have))
	for _, r := range have {
		if p, err := parseSource(r.Source); err == nil {
			seen[p] = r.Source
			held[p] = true
		}
	}
	for _, item := range add {
		if item.IpRule == nil {
			return nil, kit.InvalidParameter("Every rule needs an ipRule: the IPv4 address or CIDR range it allows.")
		}
		src := *item.IpRule
		p, err := parseSource(src)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[p]; ok {
			if held[p] {
				return nil, kit.InvalidParameter("The IP access control group %s already has a rule for %s (%s).", groupID, src, prev)
			}
			return nil, kit.InvalidParameter("The IP rule %s is given more than once: it is the same source as %s.", src, prev)
		}
		seen[p] = src
		out = append(out, records.IPRule{Source: src, Description: api.ToString(item.RuleDesc)})
	}
	if len(out) > MaxRulesPerGroup {
		if groupID == "" {
			return nil, &api.ResourceLimitExceededException{Message: fmt.Sprintf(
				"An IP access control group can have at most %d rules; %d were given.", MaxRulesPerGroup, len(out))}
		}
		return nil, &api.ResourceLimitExceededException{Message: fmt.Sprintf(
			"The IP access control group %s can have at most %d rules; this request would give it %d.", groupID, MaxRulesPerGroup, len(out))}
	}
	return out, nil
}

// CreateIpGroup creates a group, with rules and tags if given.
func (s *Service) CreateIpGroup(ctx context.Context, in *api.CreateIpGroupInput) (*api.CreateIpGroupOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(*in.GroupName) == "" {
		return nil, kit.InvalidParameter("The group name must not be empty.")
	}
	tags, err := kit.CheckTags(in.Tags)
	if err != nil {
		return nil, err
	}
	rules, err := checkRules("", nil, in.UserRules)
	if err != nil {
		return nil, err
	}
	g := &records.IPGroup{
		Meta:        records.Meta{Account: req.Account, Region: req.Region, Name: *in.GroupName, Created: req.Now},
		Description: api.ToString(in.GroupDesc),
		Rules:       rules,
		Tags:        tags,
	}
	if err := records.IPGroups.Create(ctx, s.env.DB, g, nil); err != nil {
		return nil, err
	}
	return &api.CreateIpGroupOutput{GroupId: api.String(g.ID)}, nil
}

// DescribeIpGroups lists the caller's groups in the Region by id, or those of
// GroupIds that exist (ids that don't are left out), a page at a time.
func (s *Service) DescribeIpGroups(ctx context.Context, in *api.DescribeIpGroupsInput) (*api.DescribeIpGroupsOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	limit := pageSize
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	if len(in.GroupIds) == 0 {
		groups, next, err := records.IPGroups.Page(ctx, s.env.DB, req.Account, req.Region, in.NextToken, limit)
		if err != nil {
			return nil, err
		}
		return &api.DescribeIpGroupsOutput{Result: toAPI(groups), NextToken: next}, nil
	}
	_, after, err := records.DecodeToken(in.NextToken, records.IPGroups.Name)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeIpGroupsOutput{}
	ids := slices.Clone(in.GroupIds)
	slices.Sort(ids)
	var groups []*records.IPGroup
	for _, id := range slices.Compact(ids) {
		if id <= after {
			continue
		}
		g, err := records.IPGroups.Find(ctx, s.env.DB, req.Account, req.Region, id)
		if err != nil {
			return nil, err
		}
		if g == nil {
			continue
		}
		if len(groups) == limit {
			out.NextToken = records.EncodeToken(records.IPGroups.Name, groups[len(groups)-1].ID)
			break
		}
		groups = append(groups, g)
	}
	out.Result = toAPI(groups)
	return out, nil
}

// DeleteIpGroup deletes a group that no directory uses any more. A
// directory that is gone (deregistered) does not hold the group.
func (s *Service) DeleteIpGroup(ctx context.Context, in *api.DeleteIpGroupInput) (*api.DeleteIpGroupOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		g, err := records.IPGroups.Get(ctx, tx, req.Account, req.Region, *in.GroupId)
		if err != nil {
			return err
		}
		for _, id := range g.Directories {
			d, err := holder(ctx, tx, req, id, g.ID)
			if err != nil {
				return err
			}
			if d == nil {
				continue
			}
			if d.State(req.Now) != api.WorkspaceDirectoryStateDeregistered {
				return &api.ResourceAssociatedException{Message: fmt.Sprintf(
					"The IP access control group %s is associated with the directory %s. Disassociate it from every directory before deleting it.", g.ID, id)}
			}
			// A deregistered directory that is still stored lets go of the
			// group with it.
			d.IPGroupIDs = without(d.IPGroupIDs, g.ID)
			if err := records.Directories.Put(ctx, tx, d); err != nil {
				return err
			}
		}
		return records.IPGroups.Delete(ctx, tx, g)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteIpGroupOutput{}, nil
}

// holder is the directory id if it is stored and lists group among its
// groups, else nil: a directory deleted when it was gone, or registered
// again since, does not hold the group.
func holder(ctx context.Context, tx *records.Tx, req kit.Request, id, group string) (*records.Directory, error) {
	d, err := records.Directories.Find(ctx, tx, req.Account, req.Region, id)
	if err != nil || d == nil {
		return nil, err
	}
	if _, found := slices.BinarySearch(d.IPGroupIDs, group); !found {
		return nil, nil
	}
	return d, nil
}

// changeRules sets the rules of the caller's group id to what rules makes
// of it, in one read-modify-write transaction.
func (s *Service) changeRules(ctx context.Context, id string, rules func(g *records.IPGroup) ([]records.IPRule, error)) error {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return err
	}
	_, err = records.IPGroups.Mutate(ctx, s.env.DB, req.Account, req.Region, id, func(_ *records.Tx, g *records.IPGroup) error {
		r, err := rules(g)
		if err != nil {
			return err
		}
		g.Rules = r
		return nil
	})
	return err
}

// AuthorizeIpRules adds rules to a group.
func (s *Service) AuthorizeIpRules(ctx context.Context, in *api.AuthorizeIpRulesInput) (*api.AuthorizeIpRulesOutput, error) {
	if len(in.UserRules) == 0 {
		return nil, kit.InvalidParameter("UserRules must list at least one rule to add.")
	}
	err := s.changeRules(ctx, *in.GroupId, func(g *records.IPGroup) ([]records.IPRule, error) {
		return checkRules(g.ID, g.Rules, in.UserRules)
	})
	if err != nil {
		return nil, err
	}
	return &api.AuthorizeIpRulesOutput{}, nil
}

// RevokeIpRules removes rules from a group, all of them or none: a source
// the group does not have is refused.
func (s *Service) RevokeIpRules(ctx context.Context, in *api.RevokeIpRulesInput) (*api.RevokeIpRulesOutput, error) {
	if len(in.UserRules) == 0 {
		return nil, kit.InvalidParameter("UserRules must list at least one rule to revoke.")
	}
	drop := make(map[netip.Prefix]bool, len(in.UserRules))
	for _, src := range in.UserRules {
		p, err := parseSource(src)
		if err != nil {
			return nil, err
		}
		drop[p] = true
	}
	err := s.changeRules(ctx, *in.GroupId, func(g *records.IPGroup) ([]records.IPRule, error) {
		kept := make([]records.IPRule, 0, len(g.Rules))
		found := make(map[netip.Prefix]bool, len(drop))
		for _, r := range g.Rules {
			p, err := parseSource(r.Source)
			if err == nil && drop[p] {
				found[p] = true
				continue
			}
			kept = append(kept, r)
		}
		for _, src := range in.UserRules {
			if p, _ := parseSource(src); !found[p] {
				return nil, kit.InvalidParameter("The IP access control group %s has no rule for %s.", g.ID, src)
			}
		}
		if len(kept) == 0 {
			kept = nil
		}
		return kept, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.RevokeIpRulesOutput{}, nil
}

// UpdateRulesOfIpGroup replaces a group's rules; an empty list removes them
// all.
func (s *Service) UpdateRulesOfIpGroup(ctx context.Context, in *api.UpdateRulesOfIpGroupInput) (*api.UpdateRulesOfIpGroupOutput, error) {
	err := s.changeRules(ctx, *in.GroupId, func(g *records.IPGroup) ([]records.IPRule, error) {
		return checkRules(g.ID, nil, in.UserRules)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateRulesOfIpGroupOutput{}, nil
}

// directory reads a directory of the caller that is not gone.
func directory(ctx context.Context, tx *records.Tx, req kit.Request, id string) (*records.Directory, error) {
	d, err := records.Directories.Find(ctx, tx, req.Account, req.Region, id)
	if err != nil {
		return nil, err
	}
	if d == nil || d.State(req.Now) == api.WorkspaceDirectoryStateDeregistered {
		return nil, records.Directories.NotFound(id)
	}
	return d, nil
}

// groups reads the groups of ids, each once, in id order.
func groups(ctx context.Context, tx *records.Tx, req kit.Request, ids []string) ([]*records.IPGroup, error) {
	if len(ids) == 0 {
		return nil, kit.InvalidParameter("GroupIds must list at least one IP access control group.")
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	var out []*records.IPGroup
	for _, id := range slices.Compact(ids) {
		g, err := records.IPGroups.Get(ctx, tx, req.Account, req.Region, id)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// AssociateIpGroups associates groups with a REGISTERED directory. A group
// already associated with it stays so: the call is idempotent.
func (s *Service) AssociateIpGroups(ctx context.Context, in *api.AssociateIpGroupsInput) (*api.AssociateIpGroupsOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		d, err := directory(ctx, tx, req, *in.DirectoryId)
		if err != nil {
			return err
		}
		if st := d.State(req.Now); st != api.WorkspaceDirectoryStateRegistered {
			return &api.InvalidResourceStateException{Message: fmt.Sprintf(
				"The directory %s is %s; IP access control groups can only be associated with a REGISTERED directory.", d.ID, st)}
		}
		gs, err := groups(ctx, tx, req, in.GroupIds)
		if err != nil {
			return err
		}
		ids := slices.Clone(d.IPGroupIDs)
		for _, g := range gs {
			ids = with(ids, g.ID)
		}
		if len(ids) > MaxGroupsPerDirectory {
			return &api.ResourceLimitExceededException{Message: fmt.Sprintf(
				"A directory can have at most %d IP access control groups; the directory %s has %d and this request would give it %d.",
				MaxGroupsPerDirectory, d.ID, len(d.IPGroupIDs), len(ids))}
		}
		for _, g := range gs {
			g.Directories = with(g.Directories, d.ID)
			if err := records.IPGroups.Put(ctx, tx, g); err != nil {
				return err
			}
		}
		d.IPGroupIDs = ids
		return records.Directories.Put(ctx, tx, d)
	})
	if err != nil {
		return nil, err
	}
	return &api.AssociateIpGroupsOutput{}, nil
}

// DisassociateIpGroups disassociates groups from a directory that is not
// gone, whatever its state. A group not associated with it is left alone.
func (s *Service) DisassociateIpGroups(ctx context.Context, in *api.DisassociateIpGroupsInput) (*api.DisassociateIpGroupsOutput, error) {
	req, err := s.env.Begin(ctx)
	if err != nil {
		return nil, err
	}
	err = s.env.DB.Update(ctx, func(tx *records.Tx) error {
		d, err := directory(ctx, tx, req, *in.DirectoryId)
		if err != nil {
			return err
		}
		gs, err := groups(ctx, tx, req, in.GroupIds)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if !slices.Contains(g.Directories, d.ID) {
				continue
			}
			g.Directories = without(g.Directories, d.ID)
			if err := records.IPGroups.Put(ctx, tx, g); err != nil {
				return err
			}
		}
		ids := slices.Clone(d.IPGroupIDs)
		for _, g := range gs {
			ids = without(ids, g.ID)
		}
		if len(ids) == len(d.IPGroupIDs) {
			return nil
		}
		d.IPGroupIDs = ids
		return records.Directories.Put(ctx, tx, d)
	})
	if err != nil {
		return nil, err
	}
	return &api.DisassociateIpGroupsOutput{}, nil
}

// with returns the sorted ids with id in them.
func with(ids []string, id string) []string {
	i, found := slices.BinarySearch(ids, id)
	if found {
		return ids
	}
	return slices.Insert(ids, i, id)
}

// without returns the sorted ids without id, nil when none is left.
func without(ids []string, id string) []string {
	i, found := slices.BinarySearch(ids, id)
	if !found {
		return ids
	}
	out := slices.Delete(slices.Clone(ids), i, i+1)
	if len(out) == 0 {
		return nil
	}
	return out
}
