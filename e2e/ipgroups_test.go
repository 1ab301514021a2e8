package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"
)

var regexpIPGroupID = regexp.MustCompile(`^wsipg-[0-9a-z]{9}$`)

func ipRule(src, desc string) types.IpRuleItem {
	return types.IpRuleItem{IpRule: aws.String(src), RuleDesc: aws.String(desc)}
}

func createIPGroup(t *testing.T, c *workspaces.Client, name string, rules ...types.IpRuleItem) string {
	t.Helper()
	out, err := c.CreateIpGroup(ctx(t), &workspaces.CreateIpGroupInput{GroupName: aws.String(name), GroupDesc: aws.String(""), UserRules: rules})
	if err != nil {
		t.Fatalf("CreateIpGroup(%s): %v", name, err)
	}
	return aws.ToString(out.GroupId)
}

// describeIPGroup is the group as DescribeIpGroups lists it by id, or nil.
func describeIPGroup(t *testing.T, c *workspaces.Client, id string) *types.WorkspacesIpGroup {
	t.Helper()
	out, err := c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{GroupIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeIpGroups(%s): %v", id, err)
	}
	switch len(out.Result) {
	case 0:
		return nil
	case 1:
		return &out.Result[0]
	}
	t.Fatalf("DescribeIpGroups(%s) listed %d groups", id, len(out.Result))
	return nil
}

func ruleSources(g *types.WorkspacesIpGroup) []string {
	var out []string
	for _, r := range g.UserRules {
		out = append(out, aws.ToString(r.IpRule))
	}
	return out
}

// allIPGroups pages through DescribeIpGroups, pageSize at a time.
func allIPGroups(t *testing.T, c *workspaces.Client, pageSize int32, ids ...string) []string {
	t.Helper()
	in := &workspaces.DescribeIpGroupsInput{MaxResults: aws.Int32(pageSize), GroupIds: ids}
	var got []string
	for pages := 0; ; pages++ {
		if pages > 200 {
			t.Fatal("more than 200 pages")
		}
		out, err := c.DescribeIpGroups(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Result) > int(pageSize) {
			t.Fatalf("page of %d, MaxResults %d", len(out.Result), pageSize)
		}
		for _, g := range out.Result {
			got = append(got, aws.ToString(g.GroupId))
		}
		if out.NextToken == nil {
			return got
		}
		in.NextToken = out.NextToken
	}
}

// registeredDirectory registers id and lets the registration finish.
func registeredDirectory(t *testing.T, srv *server, c *workspaces.Client, id string) {
	t.Helper()
	registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(id)})
	srv.Advance(t, 3*time.Second)
	wantDirectoryState(t, c, id, types.WorkspaceDirectoryStateRegistered)
}

// destroyLikeTerraform deletes a group the way the Terraform provider does:
// every directory (all pages) that lists it gets a DisassociateIpGroups,
// then DeleteIpGroup.
func destroyLikeTerraform(t *testing.T, c *workspaces.Client, id string) {
	t.Helper()
	p := workspaces.NewDescribeWorkspaceDirectoriesPaginator(c, &workspaces.DescribeWorkspaceDirectoriesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Directories {
			if slices.Contains(d.IpGroupIds, id) {
				if _, err := c.DisassociateIpGroups(ctx(t), &workspaces.DisassociateIpGroupsInput{DirectoryId: d.DirectoryId, GroupIds: []string{id}}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if _, err := c.DeleteIpGroup(ctx(t), &workspaces.DeleteIpGroupInput{GroupId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteIpGroup(%s): %v", id, err)
	}
}

func TestIPGroupLifecycle(t *testing.T) { forEachStore(t, ipGroupLifecycle) }

func ipGroupLifecycle(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick")
	c := srv.Client(t, accountA, usEast1)
	srv.FreezeRounded(t)

	out, err := c.CreateIpGroup(ctx(t), &workspaces.CreateIpGroupInput{
		GroupName: aws.String("Contractors"), GroupDesc: aws.String("Contractors IP access control group"),
		UserRules: []types.IpRuleItem{ipRule("150.24.14.0/24", "NY"), ipRule("125.191.14.85/32", "LA")},
		Tags:      []types.Tag{tag("team", "desk")},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.GroupId)
	if !regexpIPGroupID.MatchString(id) {
		t.Fatalf("group id %q", id)
	}
	g := describeIPGroup(t, c, id)
	if g == nil || aws.ToString(g.GroupName) != "Contractors" || aws.ToString(g.GroupDesc) != "Contractors IP access control group" ||
		!slices.Equal(ruleSources(g), []string{"150.24.14.0/24", "125.191.14.85/32"}) || aws.ToString(g.UserRules[0].RuleDesc) != "NY" {
		t.Fatalf("described %+v", g)
	}
	if got := describeTags(t, c, id); got["team"] != "desk" {
		t.Errorf("tags = %v", got)
	}

	// On the wire: lower camel case members in a list named Result.
	status, _, body := srv.Raw(t, targetPrefix+"DescribeIpGroups", fmt.Sprintf(`{"GroupIds":[%q]}`, id), authHeader(accountA, usEast1))
	var wire struct {
		Result []map[string]json.RawMessage
	}
	if status != http.StatusOK || json.Unmarshal(body, &wire) != nil || len(wire.Result) != 1 {
		t.Fatalf("DescribeIpGroups on the wire: %d %s", status, body)
	}
	for _, k := range []string{"groupId", "groupName", "groupDesc", "userRules"} {
		if _, ok := wire.Result[0][k]; !ok {
			t.Errorf("member %s missing from %s", k, body)
		}
	}
	var rules []map[string]string
	if json.Unmarshal(wire.Result[0]["userRules"], &rules) != nil || len(rules) != 2 || rules[0]["ipRule"] != "150.24.14.0/24" || rules[0]["ruleDesc"] != "NY" {
		t.Errorf("userRules on the wire: %s", wire.Result[0]["userRules"])
	}

	// Rules change at once.
	if _, err := c.AuthorizeIpRules(ctx(t), &workspaces.AuthorizeIpRulesInput{GroupId: aws.String(id), UserRules: []types.IpRuleItem{ipRule("44.98.100.0/24", "STL")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeIpRules(ctx(t), &workspaces.RevokeIpRulesInput{GroupId: aws.String(id), UserRules: []string{"125.191.14.85/32"}}); err != nil {
		t.Fatal(err)
	}
	if got := ruleSources(describeIPGroup(t, c, id)); !slices.Equal(got, []string{"150.24.14.0/24", "44.98.100.0/24"}) {
		t.Errorf("after authorize and revoke: %v", got)
	}
	if _, err := c.UpdateRulesOfIpGroup(ctx(t), &workspaces.UpdateRulesOfIpGroupInput{GroupId: aws.String(id), UserRules: []types.IpRuleItem{ipRule("10.0.0.0/8", "")}}); err != nil {
		t.Fatal(err)
	}
	if g := describeIPGroup(t, c, id); !slices.Equal(ruleSources(g), []string{"10.0.0.0/8"}) || g.UserRules[0].RuleDesc != nil {
		t.Errorf("after update: %+v", g.UserRules)
	}

	// Association needs a REGISTERED directory.
	registerDirectory(t, c, &workspaces.RegisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)})
	_, err = c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: []string{id}})
	wantAPIError(t, err, "InvalidResourceStateException", 400, directoryID, "REGISTERING")
	srv.Advance(t, 3*time.Second)
	other := createIPGroup(t, c, "Office")
	if _, err := c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: []string{other, id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: []string{id}}); err != nil {
		t.Fatalf("associating again: %v", err)
	}
	want := []string{id, other}
	slices.Sort(want)
	if d := describeDirectory(t, c, directoryID); !slices.Equal(d.IpGroupIds, want) {
		t.Errorf("ipGroupIds = %v, want %v", d.IpGroupIds, want)
	}
	_, err = c.DeleteIpGroup(ctx(t), &workspaces.DeleteIpGroupInput{GroupId: aws.String(id)})
	wantAPIError(t, err, "ResourceAssociatedException", 400, id, directoryID)

	// Terraform's destroy: disassociate from every directory, then delete.
	destroyLikeTerraform(t, c, id)
	if describeIPGroup(t, c, id) != nil {
		t.Error("deleted group still listed")
	}
	if d := describeDirectory(t, c, directoryID); !slices.Equal(d.IpGroupIds, []string{other}) {
		t.Errorf("ipGroupIds after delete = %v", d.IpGroupIds)
	}
	_, err = c.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", 400)
	_, err = c.DeleteIpGroup(ctx(t), &workspaces.DeleteIpGroupInput{GroupId: aws.String(id)})
	wantAPIError(t, err, "ResourceNotFoundException", 400, id)

	// Deregistering the directory lets go of its groups.
	if _, err := c.DeregisterWorkspaceDirectory(ctx(t), &workspaces.DeregisterWorkspaceDirectoryInput{DirectoryId: aws.String(directoryID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteIpGroup(ctx(t), &workspaces.DeleteIpGroupInput{GroupId: aws.String(other)}); err != nil {
		t.Fatalf("deleting the group of a deregistering directory: %v", err)
	}
	srv.Advance(t, 5*time.Second)
	last := createIPGroup(t, c, "Office")
	_, err = c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: []string{last}})
	wantAPIError(t, err, "ResourceNotFoundException", 400, directoryID)

	// Tags on a group through the tag operations.
	if _, err := c.CreateTags(ctx(t), &workspaces.CreateTagsInput{ResourceId: aws.String(last), Tags: []types.Tag{tag("env", "prod")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTags(ctx(t), &workspaces.DeleteTagsInput{ResourceId: aws.String(last), TagKeys: []string{"nothing"}}); err != nil {
		t.Fatal(err)
	}
	if got := describeTags(t, c, last); got["env"] != "prod" || len(got) != 1 {
		t.Errorf("tags = %v", got)
	}
}

func TestIPGroupErrorsAndLimits(t *testing.T) { forEachStore(t, ipGroupErrorsAndLimits) }

func ipGroupErrorsAndLimits(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick")
	c := srv.Client(t, accountA, usEast1)
	srv.FreezeRounded(t)
	id := createIPGroup(t, c, "taken")

	_, err := c.CreateIpGroup(ctx(t), &workspaces.CreateIpGroupInput{GroupName: aws.String("taken")})
	wantAPIError(t, err, "ResourceAlreadyExistsException", 400, "taken")
	for _, bad := range []string{"10.0.0.0/33", "10.0.0.01/24", "2001:db8::/32", "office", "1.2.3"} {
		_, err := c.CreateIpGroup(ctx(t), &workspaces.CreateIpGroupInput{GroupName: aws.String("g"), UserRules: []types.IpRuleItem{ipRule(bad, "")}})
		wantAPIError(t, err, "InvalidParameterValuesException", 400, bad)
	}
	// The rules of the Terraform provider's acceptance tests, which pass
	// against AWS: a range with host bits set beside its network.
	tf := createIPGroup(t, c, "tf", types.IpRuleItem{IpRule: aws.String("10.0.0.0/16")}, ipRule("10.0.0.1/16", "Home"))
	if got := ruleSources(describeIPGroup(t, c, tf)); !slices.Equal(got, []string{"10.0.0.0/16", "10.0.0.1/16"}) {
		t.Errorf("rules %v", got)
	}
	if _, err := c.DeleteIpGroup(ctx(t), &workspaces.DeleteIpGroupInput{GroupId: aws.String(tf)}); err != nil {
		t.Fatal(err)
	}
	eleven := make([]types.IpRuleItem, 11)
	for i := range eleven {
		eleven[i] = ipRule(fmt.Sprintf("192.0.2.%d", i), "")
	}
	_, err = c.CreateIpGroup(ctx(t), &workspaces.CreateIpGroupInput{GroupName: aws.String("g"), UserRules: eleven})
	wantAPIError(t, err, "ResourceLimitExceededException", 400, "10 rules")
	if _, err := c.UpdateRulesOfIpGroup(ctx(t), &workspaces.UpdateRulesOfIpGroupInput{GroupId: aws.String(id), UserRules: eleven[:10]}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AuthorizeIpRules(ctx(t), &workspaces.AuthorizeIpRulesInput{GroupId: aws.String(id), UserRules: eleven[10:]})
	wantAPIError(t, err, "ResourceLimitExceededException", 400, id)
	_, err = c.AuthorizeIpRules(ctx(t), &workspaces.AuthorizeIpRulesInput{GroupId: aws.String(id), UserRules: eleven[:1]})
	wantAPIError(t, err, "InvalidParameterValuesException", 400, "already has a rule for 192.0.2.0")
	_, err = c.RevokeIpRules(ctx(t), &workspaces.RevokeIpRulesInput{GroupId: aws.String(id), UserRules: []string{"198.51.100.0/24"}})
	wantAPIError(t, err, "InvalidParameterValuesException", 400, "198.51.100.0/24")
	_, err = c.AuthorizeIpRules(ctx(t), &workspaces.AuthorizeIpRulesInput{GroupId: aws.String("wsipg-000000000"), UserRules: eleven[:1]})
	wantAPIError(t, err, "ResourceNotFoundException", 400, "wsipg-000000000")
	_, err = c.CreateIpGroup(ctx(t), &workspaces.CreateIpGroupInput{GroupName: aws.String("g"), Tags: []types.Tag{tag("aws:owner", "x")}})
	wantAPIError(t, err, "InvalidParameterValuesException", 400, "aws:")
	// The model's own checks come first, as ValidationException.
	status, hdr, body := srv.Raw(t, targetPrefix+"DescribeIpGroups", `{"MaxResults":26}`, authHeader(accountA, usEast1))
	wantRawError(t, status, hdr, body, http.StatusBadRequest, "ValidationException", "maxResults")
	status, hdr, body = srv.Raw(t, targetPrefix+"AssociateIpGroups", fmt.Sprintf(`{"DirectoryId":"dir-1","GroupIds":[%q]}`, id), authHeader(accountA, usEast1))
	wantRawError(t, status, hdr, body, http.StatusBadRequest, "ValidationException", "directoryId")
	_, err = c.DescribeIpGroups(ctx(t), &workspaces.DescribeIpGroupsInput{NextToken: aws.String("bogus")})
	wantAPIError(t, err, "ValidationException", 400, "NextToken")

	// 100 groups per account and Region.
	ids := []string{id}
	for i := 1; i < 100; i++ {
		ids = append(ids, createIPGroup(t, c, fmt.Sprintf("group-%03d", i)))
	}
	_, err = c.CreateIpGroup(ctx(t), &workspaces.CreateIpGroupInput{GroupName: aws.String("one-too-many")})
	wantAPIError(t, err, "ResourceLimitExceededException", 400, "100", usEast1)
	slices.Sort(ids)
	for _, n := range []int32{1, 7, 25} {
		if got := allIPGroups(t, c, n); !slices.Equal(got, ids) {
			t.Errorf("paging by %d: %d groups, want %d in id order", n, len(got), len(ids))
		}
	}
	picked := []string{ids[50], ids[3], "wsipg-000000000", ids[99], ids[3]}
	if got := allIPGroups(t, c, 2, picked...); !slices.Equal(got, []string{ids[3], ids[50], ids[99]}) {
		t.Errorf("picked groups: %v", got)
	}

	// 25 groups per directory.
	registeredDirectory(t, srv, c, directoryID)
	_, err = c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: ids[:26]})
	wantAPIError(t, err, "ResourceLimitExceededException", 400, "25")
	if _, err := c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: ids[:25]}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: ids[25:26]})
	wantAPIError(t, err, "ResourceLimitExceededException", 400, directoryID)
	if d := describeDirectory(t, c, directoryID); !slices.Equal(d.IpGroupIds, ids[:25]) {
		t.Errorf("ipGroupIds = %v", d.IpGroupIds)
	}
	_, err = c.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String("d-0123456789"), GroupIds: ids[:1]})
	wantAPIError(t, err, "ResourceNotFoundException", 400, "d-0123456789")
	_, err = c.DisassociateIpGroups(ctx(t), &workspaces.DisassociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: []string{"wsipg-000000000"}})
	wantAPIError(t, err, "ResourceNotFoundException", 400, "wsipg-000000000")
}

func TestIPGroupIsolation(t *testing.T) { forEachStore(t, ipGroupIsolation) }

func ipGroupIsolation(t *testing.T, store storeBackend) {
	srv := store.start(t, "--profile", "quick")
	srv.FreezeRounded(t)
	a := srv.Client(t, accountA, usEast1)
	b := srv.Client(t, accountB, usEast1)
	aEU := srv.Client(t, accountA, euWest1)
	id := createIPGroup(t, a, "shared-name", ipRule("10.0.0.0/8", ""))
	// The same name elsewhere is another group.
	idB := createIPGroup(t, b, "shared-name")
	idEU := createIPGroup(t, aEU, "shared-name")
	for _, c := range []struct {
		name   string
		client *workspaces.Client
		own    string
	}{{"other account", b, idB}, {"other Region", aEU, idEU}} {
		if got := allIPGroups(t, c.client, 25); !slices.Equal(got, []string{c.own}) {
			t.Errorf("%s lists %v, want only %s", c.name, got, c.own)
		}
		if describeIPGroup(t, c.client, id) != nil {
			t.Errorf("%s sees %s", c.name, id)
		}
		_, err := c.client.UpdateRulesOfIpGroup(ctx(t), &workspaces.UpdateRulesOfIpGroupInput{GroupId: aws.String(id), UserRules: []types.IpRuleItem{}})
		wantAPIError(t, err, "ResourceNotFoundException", 400, id)
		_, err = c.client.DeleteIpGroup(ctx(t), &workspaces.DeleteIpGroupInput{GroupId: aws.String(id)})
		wantAPIError(t, err, "ResourceNotFoundException", 400, id)
		_, err = c.client.DescribeTags(ctx(t), &workspaces.DescribeTagsInput{ResourceId: aws.String(id)})
		wantAPIError(t, err, "ResourceNotFoundException", 400)
	}
	// Another account's directory cannot take the group, nor the group
	// another account's directory.
	registeredDirectory(t, srv, b, directoryID)
	_, err := b.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: []string{id}})
	wantAPIError(t, err, "ResourceNotFoundException", 400, id)
	_, err = a.AssociateIpGroups(ctx(t), &workspaces.AssociateIpGroupsInput{DirectoryId: aws.String(directoryID), GroupIds: []string{id}})
	wantAPIError(t, err, "ResourceNotFoundException", 400, directoryID)
	if g := describeIPGroup(t, a, id); g == nil || !slices.Equal(ruleSources(g), []string{"10.0.0.0/8"}) {
		t.Errorf("own group after the others' calls: %+v", g)
	}
}
