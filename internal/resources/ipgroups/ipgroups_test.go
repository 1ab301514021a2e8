package ipgroups_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/resources/ipgroups"
	"github.com/wsim/wsim/internal/service/servicetest"
)

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	region1 = "us-east-1"
	region2 = "eu-west-1"
)

var as = servicetest.As

type harness struct{ *servicetest.Harness }

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{servicetest.New(t)}
	h.Freeze()
	return h
}

func rule(src, desc string) api.IpRuleItem {
	return api.IpRuleItem{IpRule: api.String(src), RuleDesc: api.String(desc)}
}

func (h *harness) create(account, region, name string, rules ...api.IpRuleItem) string {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpCreateIpGroup, as(account, region), &api.CreateIpGroupInput{
		GroupName: api.String(name), UserRules: rules,
	})
	if err != nil {
		h.T.Fatalf("CreateIpGroup(%s): %v", name, err)
	}
	return *out.GroupId
}

func (h *harness) group(account, region, id string) *api.WorkspacesIpGroup {
	h.T.Helper()
	out, err := servicetest.Call(h.Svc, api.OpDescribeIpGroups, as(account, region), &api.DescribeIpGroupsInput{GroupIds: []string{id}})
	if err != nil {
		h.T.Fatalf("DescribeIpGroups(%s): %v", id, err)
	}
	if len(out.Result) != 1 {
		return nil
	}
	return &out.Result[0]
}

func sources(g *api.WorkspacesIpGroup) []string {
	var out []string
	for _, r := range g.UserRules {
		out = append(out, *r.IpRule)
	}
	return out
}

// directory stores a directory record the way RegisterWorkspaceDirectory
// does, registered after registering (0: already REGISTERED).
func (h *harness) directory(account, region, id string, registering time.Duration) {
	h.T.Helper()
	plan := pipeline.Plan{Start: h.Now(), Final: api.WorkspaceDirectoryStateRegistered}
	if registering > 0 {
		plan.Stages = []pipeline.Stage{{State: api.WorkspaceDirectoryStateRegistering, Duration: registering}}
	}
	d := &records.Directory{
		Meta:         records.Meta{Account: account, Region: region, ID: id, Created: h.Now()},
		Registration: plan, Tenancy: api.TenancyShared,
	}
	if err := records.Directories.Create(context.Background(), h.Svc.Records(), d, nil); err != nil {
		h.T.Fatal(err)
	}
}

// deregister starts the directory's deregistration, done after d.
func (h *harness) deregister(account, region, id string, d time.Duration) {
	h.T.Helper()
	now := h.Now()
	_, err := records.Directories.Mutate(context.Background(), h.Svc.Records(), account, region, id, func(_ *records.Tx, dir *records.Directory) error {
		dir.Deregistration = &pipeline.Plan{Start: now, Final: api.WorkspaceDirectoryStateDeregistered,
			Stages: []pipeline.Stage{{State: api.WorkspaceDirectoryStateDeregistering, Duration: d}}}
		return nil
	})
	if err != nil {
		h.T.Fatal(err)
	}
}

func (h *harness) dirGroups(account, region, id string) []string {
	h.T.Helper()
	d, err := records.Directories.Get(context.Background(), h.Svc.Records(), account, region, id)
	if err != nil {
		h.T.Fatal(err)
	}
	return d.IPGroupIDs
}

func (h *harness) groupDirs(account, region, id string) []string {
	h.T.Helper()
	g, err := records.IPGroups.Get(context.Background(), h.Svc.Records(), account, region, id)
	if err != nil {
		h.T.Fatal(err)
	}
	return g.Directories
}

func (h *harness) associate(account, region, dir string, groups ...string) error {
	_, err := servicetest.Call(h.Svc, api.OpAssociateIpGroups, as(account, region), &api.AssociateIpGroupsInput{DirectoryId: api.String(dir), GroupIds: groups})
	return err
}

func (h *harness) disassociate(account, region, dir string, groups ...string) error {
	_, err := servicetest.Call(h.Svc, api.OpDisassociateIpGroups, as(account, region), &api.DisassociateIpGroupsInput{DirectoryId: api.String(dir), GroupIds: groups})
	return err
}

func (h *harness) delete(account, region, id string) error {
	_, err := servicetest.Call(h.Svc, api.OpDeleteIpGroup, as(account, region), &api.DeleteIpGroupInput{GroupId: api.String(id)})
	return err
}

func TestCreateAndDescribe(t *testing.T) {
	h := newHarness(t)
	out, err := servicetest.Call(h.Svc, api.OpCreateIpGroup, as(acctA, region1), &api.CreateIpGroupInput{
		GroupName: api.String("office"), GroupDesc: api.String("head office"),
		UserRules: []api.IpRuleItem{rule("203.0.113.0/24", "LAN"), {IpRule: api.String("198.51.100.7")}},
		Tags:      []api.Tag{{Key: api.String("team"), Value: api.String("it")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.GroupId
	if len(id) != len("wsipg-")+9 || id[:6] != "wsipg-" {
		t.Fatalf("group id %q", id)
	}
	g := h.group(acctA, region1, id)
	if api.ToString(g.GroupId) != id || api.ToString(g.GroupName) != "office" || api.ToString(g.GroupDesc) != "head office" ||
		!slices.Equal(sources(g), []string{"203.0.113.0/24", "198.51.100.7"}) ||
		api.ToString(g.UserRules[0].RuleDesc) != "LAN" || g.UserRules[1].RuleDesc != nil {
		t.Errorf("described %+v", g)
	}
	tags, err := servicetest.Call(h.Svc, api.OpDescribeTags, as(acctA, region1), &api.DescribeTagsInput{ResourceId: api.String(id)})
	if err != nil || len(tags.TagList) != 1 || *tags.TagList[0].Key != "team" {
		t.Errorf("DescribeTags = %+v, %v", tags, err)
	}
	// A group without description or rules: no groupDesc, an empty rule list.
	bare := h.create(acctA, region1, "bare")
	if g := h.group(acctA, region1, bare); g.GroupDesc != nil || g.UserRules == nil || len(g.UserRules) != 0 {
		t.Errorf("bare group %+v", g)
	}
}

func TestCreateRefusals(t *testing.T) {
	eleven := make([]api.IpRuleItem, 11)
	for i := range eleven {
		eleven[i] = rule(fmt.Sprintf("10.0.%d.0/24", i), "")
	}
	fiftyOne := make([]api.Tag, 51)
	for i := range fiftyOne {
		fiftyOne[i] = api.Tag{Key: api.String(fmt.Sprintf("k%d", i)), Value: api.String("v")}
	}
	cases := []struct {
		name  string
		in    api.CreateIpGroupInput
		code  string
		frags []string
	}{
		{"taken name", api.CreateIpGroupInput{GroupName: api.String("taken")}, "ResourceAlreadyExistsException", []string{"taken"}},
		{"empty name", api.CreateIpGroupInput{GroupName: api.String(" ")}, "InvalidParameterValuesException", nil},
		{"no name", api.CreateIpGroupInput{}, "ValidationException", nil},
		{"prefix too long", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("10.0.0.0/33", "")}}, "InvalidParameterValuesException", []string{"10.0.0.0/33"}},
		{"leading zero", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("10.0.0.01/24", "")}}, "InvalidParameterValuesException", nil},
		{"negative prefix", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("10.0.0.0/-1", "")}}, "InvalidParameterValuesException", nil},
		{"empty rule", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("", "")}}, "InvalidParameterValuesException", nil},
		{"ipv6", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("2001:db8::/32", "")}}, "InvalidParameterValuesException", []string{"IPv4"}},
		{"ipv6 address", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("::1", "")}}, "InvalidParameterValuesException", nil},
		{"not an address", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("office", "")}}, "InvalidParameterValuesException", nil},
		{"octet range", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("256.1.1.1", "")}}, "InvalidParameterValuesException", nil},
		{"no ipRule", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{{RuleDesc: api.String("x")}}}, "InvalidParameterValuesException", nil},
		{"same source twice", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: []api.IpRuleItem{rule("1.2.3.4", ""), rule("1.2.3.4/32", "")}}, "InvalidParameterValuesException", []string{"more than once"}},
		{"eleven rules", api.CreateIpGroupInput{GroupName: api.String("g"), UserRules: eleven}, "ResourceLimitExceededException", []string{"10 rules"}},
		{"51 tags", api.CreateIpGroupInput{GroupName: api.String("g"), Tags: fiftyOne}, "ResourceLimitExceededException", []string{"50 tags"}},
		{"aws: tag", api.CreateIpGroupInput{GroupName: api.String("g"), Tags: []api.Tag{{Key: api.String("aws:x"), Value: api.String("v")}}}, "InvalidParameterValuesException", []string{"aws:"}},
	}
	h := newHarness(t)
	h.create(acctA, region1, "taken")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := servicetest.Call(h.Svc, api.OpCreateIpGroup, as(acctA, region1), &c.in)
			servicetest.WantCode(t, err, c.code, c.frags...)
		})
	}
	if got := h.walk(acctA, region1, api.DescribeIpGroupsInput{}); len(got) != 1 {
		t.Errorf("after refusals: %v; want only the group taken", got)
	}
	// As in the Terraform provider's acceptance tests against AWS: a range
	// with host bits set is its own source, kept as written.
	tf, err := servicetest.Call(h.Svc, api.OpCreateIpGroup, as(acctA, region1), &api.CreateIpGroupInput{GroupName: api.String("tf"),
		UserRules: []api.IpRuleItem{rule("10.0.0.0/16", ""), rule("10.0.0.1/16", "Home")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := sources(h.group(acctA, region1, *tf.GroupId)); !slices.Equal(got, []string{"10.0.0.0/16", "10.0.0.1/16"}) {
		t.Errorf("rules %v", got)
	}
	// Ten rules, including 0.0.0.0/0 and a bare address, are fine.
	ok := append(eleven[:9:9], rule("0.0.0.0/0", "anywhere"))
	if _, err := servicetest.Call(h.Svc, api.OpCreateIpGroup, as(acctA, region1), &api.CreateIpGroupInput{GroupName: api.String("ten"), UserRules: ok}); err != nil {
		t.Errorf("ten rules: %v", err)
	}
}

func TestQuotaAndIsolation(t *testing.T) {
	h := newHarness(t)
	for i := range 100 {
		h.create(acctA, region1, fmt.Sprintf("g%03d", i))
	}
	_, err := servicetest.Call(h.Svc, api.OpCreateIpGroup, as(acctA, region1), &api.CreateIpGroupInput{GroupName: api.String("one-more")})
	servicetest.WantCode(t, err, "ResourceLimitExceededException", "100", region1)
	// Other accounts and Regions have their own quota and names.
	other := h.create(acctB, region1, "g000")
	elsewhere := h.create(acctA, region2, "g000")
	for _, c := range []struct{ account, region, id string }{{acctA, region1, other}, {acctB, region2, elsewhere}, {acctA, region1, elsewhere}} {
		if g := h.group(c.account, c.region, c.id); g != nil {
			t.Errorf("%s in %s sees %s", c.account, c.region, c.id)
		}
		_, err := servicetest.Call(h.Svc, api.OpAuthorizeIpRules, as(c.account, c.region), &api.AuthorizeIpRulesInput{GroupId: api.String(c.id), UserRules: []api.IpRuleItem{rule("1.1.1.1", "")}})
		servicetest.WantCode(t, err, "ResourceNotFoundException", c.id)
		servicetest.WantCode(t, h.delete(c.account, c.region, c.id), "ResourceNotFoundException", c.id)
	}
	// Deleting one makes room again.
	first := h.walk(acctA, region1, api.DescribeIpGroupsInput{})[0]
	if err := h.delete(acctA, region1, first); err != nil {
		t.Fatal(err)
	}
	h.create(acctA, region1, "one-more")
}

// walk pages through DescribeIpGroups and returns the ids in order.
func (h *harness) walk(account, region string, in api.DescribeIpGroupsInput) []string {
	h.T.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 200 {
			h.T.Fatal("more than 200 pages")
		}
		out, err := servicetest.Call(h.Svc, api.OpDescribeIpGroups, as(account, region), &in)
		if err != nil {
			h.T.Fatal(err)
		}
		limit := 25
		if in.MaxResults != nil {
			limit = int(*in.MaxResults)
		}
		if len(out.Result) > limit {
			h.T.Fatalf("page of %d, limit %d", len(out.Result), limit)
		}
		for _, g := range out.Result {
			ids = append(ids, *g.GroupId)
		}
		if out.NextToken == nil {
			return ids
		}
		in.NextToken = out.NextToken
	}
}

func TestDescribePaging(t *testing.T) {
	h := newHarness(t)
	var all []string
	for i := range 30 {
		all = append(all, h.create(acctA, region1, fmt.Sprintf("g%02d", i)))
	}
	slices.Sort(all)
	picked := []string{all[3], all[17], "wsipg-000000000", all[3], all[29], all[0], all[11]}
	wantPicked := []string{all[0], all[3], all[11], all[17], all[29]}
	for _, n := range []int32{1, 2, 7, 25} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			if got := h.walk(acctA, region1, api.DescribeIpGroupsInput{MaxResults: api.Int32(n)}); !slices.Equal(got, all) {
				t.Errorf("all groups by %d: %v, want %v", n, got, all)
			}
			if got := h.walk(acctA, region1, api.DescribeIpGroupsInput{MaxResults: api.Int32(n), GroupIds: picked}); !slices.Equal(got, wantPicked) {
				t.Errorf("picked groups by %d: %v, want %v", n, got, wantPicked)
			}
		})
	}
	if got := h.walk(acctA, region1, api.DescribeIpGroupsInput{}); !slices.Equal(got, all) {
		t.Errorf("default page size: %v", got)
	}
	for _, in := range []api.DescribeIpGroupsInput{
		{NextToken: api.String("not-a-token")},
		{MaxResults: api.Int32(26)},
		{MaxResults: api.Int32(0)},
		{GroupIds: []string{"sg-12345678"}},
	} {
		_, err := servicetest.Call(h.Svc, api.OpDescribeIpGroups, as(acctA, region1), &in)
		servicetest.WantCode(t, err, "ValidationException")
	}
	// Another account's listing is empty, and says so with an empty list.
	out, err := servicetest.Call(h.Svc, api.OpDescribeIpGroups, as(acctB, region1), &api.DescribeIpGroupsInput{})
	if err != nil || out.Result == nil || len(out.Result) != 0 || out.NextToken != nil {
		t.Errorf("other account: %+v, %v", out, err)
	}
}

func TestRules(t *testing.T) {
	h := newHarness(t)
	id := h.create(acctA, region1, "g", rule("10.0.0.0/16", "vpc"))
	call := func(op string, rules ...string) error {
		var err error
		switch op {
		case "authorize":
			items := make([]api.IpRuleItem, len(rules))
			for i, r := range rules {
				items[i] = rule(r, "d-"+r)
			}
			_, err = servicetest.Call(h.Svc, api.OpAuthorizeIpRules, as(acctA, region1), &api.AuthorizeIpRulesInput{GroupId: api.String(id), UserRules: items})
		case "revoke":
			_, err = servicetest.Call(h.Svc, api.OpRevokeIpRules, as(acctA, region1), &api.RevokeIpRulesInput{GroupId: api.String(id), UserRules: append([]string{}, rules...)})
		case "update":
			items := make([]api.IpRuleItem, len(rules))
			for i, r := range rules {
				items[i] = rule(r, "")
			}
			_, err = servicetest.Call(h.Svc, api.OpUpdateRulesOfIpGroup, as(acctA, region1), &api.UpdateRulesOfIpGroupInput{GroupId: api.String(id), UserRules: items})
		}
		return err
	}
	nine := make([]string, 9)
	for i := range nine {
		nine[i] = fmt.Sprintf("192.0.2.%d", i)
	}
	steps := []struct {
		op    string
		rules []string
		code  string // "" for success
		want  []string
	}{
		{"authorize", []string{"198.51.100.0/24", "203.0.113.9"}, "", []string{"10.0.0.0/16", "198.51.100.0/24", "203.0.113.9"}},
		{"authorize", []string{"203.0.113.9/32"}, "InvalidParameterValuesException", nil},
		{"authorize", []string{"1.1.1.1", "bad"}, "InvalidParameterValuesException", nil},
		{"authorize", nil, "InvalidParameterValuesException", nil},
		{"authorize", nine, "ResourceLimitExceededException", nil},
		{"revoke", []string{"203.0.113.9/32"}, "", []string{"10.0.0.0/16", "198.51.100.0/24"}},
		{"revoke", []string{"10.0.0.0/16", "172.16.0.0/12"}, "InvalidParameterValuesException", nil},
		{"revoke", []string{"10.0.0.1/16"}, "InvalidParameterValuesException", nil},
		{"revoke", []string{"10.0.0.0/99"}, "InvalidParameterValuesException", nil},
		{"revoke", nil, "InvalidParameterValuesException", nil},
		{"authorize", nine[:8], "", append([]string{"10.0.0.0/16", "198.51.100.0/24"}, nine[:8]...)},
		{"authorize", nine[8:], "ResourceLimitExceededException", nil},
		{"update", append([]string{"10.0.0.0/8"}, nine...), "", append([]string{"10.0.0.0/8"}, nine...)},
		{"update", append([]string{"10.0.0.0/8", "11.0.0.0/8"}, nine...), "ResourceLimitExceededException", nil},
		{"update", []string{"1.2.3.4", "1.2.3.4"}, "InvalidParameterValuesException", nil},
		{"update", nil, "", nil},
		{"authorize", []string{"0.0.0.0/0"}, "", []string{"0.0.0.0/0"}},
	}
	var have []string = []string{"10.0.0.0/16"}
	for i, s := range steps {
		err := call(s.op, s.rules...)
		if s.code != "" {
			servicetest.WantCode(t, err, s.code)
		} else if err != nil {
			t.Fatalf("step %d %s %v: %v", i, s.op, s.rules, err)
		} else {
			have = s.want
		}
		if got := sources(h.group(acctA, region1, id)); !slices.Equal(got, have) {
			t.Fatalf("step %d %s %v: rules %v, want %v", i, s.op, s.rules, got, have)
		}
	}
	g := h.group(acctA, region1, id)
	if api.ToString(g.UserRules[0].RuleDesc) != "d-0.0.0.0/0" {
		t.Errorf("rule description %+v", g.UserRules[0])
	}
	_, err := servicetest.Call(h.Svc, api.OpUpdateRulesOfIpGroup, as(acctA, region1), &api.UpdateRulesOfIpGroupInput{GroupId: api.String("wsipg-000000000"), UserRules: []api.IpRuleItem{}})
	servicetest.WantCode(t, err, "ResourceNotFoundException", "wsipg-000000000")
	_, err = servicetest.Call(h.Svc, api.OpRevokeIpRules, as(acctA, region1), &api.RevokeIpRulesInput{GroupId: api.String("wsipg-000000000"), UserRules: []string{"1.1.1.1"}})
	servicetest.WantCode(t, err, "ResourceNotFoundException")
}

func TestAssociation(t *testing.T) {
	h := newHarness(t)
	const dir, dir2, pending = "d-1234567890", "d-abcdef0123", "d-9999999999"
	h.directory(acctA, region1, dir, 0)
	h.directory(acctA, region1, dir2, 0)
	h.directory(acctA, region1, pending, time.Minute)
	h.directory(acctB, region1, "d-0000000000", 0)
	g1 := h.create(acctA, region1, "g1")
	g2 := h.create(acctA, region1, "g2")
	sorted := []string{g1, g2}
	slices.Sort(sorted)

	refusals := []struct {
		name, dir string
		groups    []string
		code      string
	}{
		{"unknown directory", "d-0123456789", []string{g1}, "ResourceNotFoundException"},
		{"other account's directory", "d-0000000000", []string{g1}, "ResourceNotFoundException"},
		{"registering", pending, []string{g1}, "InvalidResourceStateException"},
		{"unknown group", dir, []string{g1, "wsipg-000000000"}, "ResourceNotFoundException"},
		{"no groups", dir, []string{}, "InvalidParameterValuesException"},
		{"bad directory id", "sd-1", []string{g1}, "ValidationException"},
	}
	for _, c := range refusals {
		servicetest.WantCode(t, h.associate(acctA, region1, c.dir, c.groups...), c.code)
	}
	if got := h.dirGroups(acctA, region1, dir); got != nil {
		t.Fatalf("refused associations left %v", got)
	}

	if err := h.associate(acctA, region1, dir, g2, g1, g2); err != nil {
		t.Fatal(err)
	}
	if err := h.associate(acctA, region1, dir, g1); err != nil {
		t.Fatalf("associating again: %v", err)
	}
	if err := h.associate(acctA, region1, dir2, g1); err != nil {
		t.Fatal(err)
	}
	if got := h.dirGroups(acctA, region1, dir); !slices.Equal(got, sorted) {
		t.Errorf("directory lists %v, want %v", got, sorted)
	}
	if got := h.groupDirs(acctA, region1, g1); !slices.Equal(got, []string{dir, dir2}) {
		t.Errorf("group lists %v", got)
	}
	// Once REGISTERED, the pending directory takes groups too.
	h.Advance(time.Minute)
	if err := h.associate(acctA, region1, pending, g2); err != nil {
		t.Fatal(err)
	}

	servicetest.WantCode(t, h.delete(acctA, region1, g1), "ResourceAssociatedException", g1)
	if err := h.disassociate(acctA, region1, dir, g1); err != nil {
		t.Fatal(err)
	}
	if err := h.disassociate(acctA, region1, dir, g1); err != nil {
		t.Fatalf("disassociating again: %v", err)
	}
	servicetest.WantCode(t, h.disassociate(acctA, region1, dir, "wsipg-000000000"), "ResourceNotFoundException")
	servicetest.WantCode(t, h.disassociate(acctA, region1, "d-0123456789", g1), "ResourceNotFoundException")
	servicetest.WantCode(t, h.delete(acctA, region1, g1), "ResourceAssociatedException", dir2)
	if err := h.disassociate(acctA, region1, dir2, g1); err != nil {
		t.Fatal(err)
	}
	if err := h.delete(acctA, region1, g1); err != nil {
		t.Fatal(err)
	}
	if got := h.dirGroups(acctA, region1, dir); !slices.Equal(got, []string{g2}) {
		t.Errorf("directory lists %v, want [%s]", got, g2)
	}
	if got := h.dirGroups(acctA, region1, dir2); got != nil {
		t.Errorf("directory 2 lists %v", got)
	}
}

func TestGroupsPerDirectory(t *testing.T) {
	h := newHarness(t)
	const dir = "d-1234567890"
	h.directory(acctA, region1, dir, 0)
	var ids []string
	for i := range 26 {
		ids = append(ids, h.create(acctA, region1, fmt.Sprintf("g%02d", i)))
	}
	if err := h.associate(acctA, region1, dir, ids[:20]...); err != nil {
		t.Fatal(err)
	}
	servicetest.WantCode(t, h.associate(acctA, region1, dir, ids[20:]...), "ResourceLimitExceededException", "25")
	if err := h.associate(acctA, region1, dir, ids[15:25]...); err != nil {
		t.Fatalf("up to 25, overlapping: %v", err)
	}
	if n := len(h.dirGroups(acctA, region1, dir)); n != ipgroups.MaxGroupsPerDirectory {
		t.Fatalf("%d groups", n)
	}
	servicetest.WantCode(t, h.associate(acctA, region1, dir, ids[25]), "ResourceLimitExceededException")
	if got := h.groupDirs(acctA, region1, ids[25]); got != nil {
		t.Errorf("refused group lists %v", got)
	}
}

// TestGoneDirectory: a directory being deregistered still holds its groups;
// once deregistered (or deleted) it no longer does.
func TestGoneDirectory(t *testing.T) {
	for _, deleted := range []bool{false, true} {
		t.Run(fmt.Sprint("deleted=", deleted), func(t *testing.T) {
			h := newHarness(t)
			const dir = "d-1234567890"
			h.directory(acctA, region1, dir, 0)
			g := h.create(acctA, region1, "g")
			if err := h.associate(acctA, region1, dir, g); err != nil {
				t.Fatal(err)
			}
			h.deregister(acctA, region1, dir, time.Minute)
			servicetest.WantCode(t, h.associate(acctA, region1, dir, g), "InvalidResourceStateException", "DEREGISTERING")
			servicetest.WantCode(t, h.delete(acctA, region1, g), "ResourceAssociatedException")
			h.Advance(time.Minute)
			if deleted {
				err := h.Svc.Records().Update(context.Background(), func(tx *records.Tx) error {
					return records.Directories.DeleteID(context.Background(), tx, acctA, region1, dir)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			servicetest.WantCode(t, h.associate(acctA, region1, dir, g), "ResourceNotFoundException", dir)
			servicetest.WantCode(t, h.disassociate(acctA, region1, dir, g), "ResourceNotFoundException", dir)
			if err := h.delete(acctA, region1, g); err != nil {
				t.Fatalf("deleting the group of a gone directory: %v", err)
			}
			if !deleted {
				if got := h.dirGroups(acctA, region1, dir); got != nil {
					t.Errorf("deregistered directory still lists %v", got)
				}
			}
		})
	}
}

// TestReregisteredDirectory: a directory registered again under the same id
// starts without groups, and does not hold the groups of its first life.
func TestReregisteredDirectory(t *testing.T) {
	h := newHarness(t)
	const dir = "d-1234567890"
	h.directory(acctA, region1, dir, 0)
	g := h.create(acctA, region1, "g")
	if err := h.associate(acctA, region1, dir, g); err != nil {
		t.Fatal(err)
	}
	err := h.Svc.Records().Update(context.Background(), func(tx *records.Tx) error {
		return records.Directories.DeleteID(context.Background(), tx, acctA, region1, dir)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.directory(acctA, region1, dir, 0)
	if err := h.delete(acctA, region1, g); err != nil {
		t.Fatalf("group of the first registration: %v", err)
	}
}

func TestCatalog(t *testing.T) {
	h := newHarness(t)
	const dir = "d-1234567890"
	h.directory(acctA, region1, dir, 0)
	id := h.create(acctA, region1, "office", rule("10.0.0.0/8", ""), rule("192.0.2.1", ""))
	if err := h.associate(acctA, region1, dir, id); err != nil {
		t.Fatal(err)
	}
	h.create(acctB, region1, "other")
	page, err := h.Svc.Catalog(context.Background(), dashboard.CatalogFilter{Kind: "ip-group", Account: acctA})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Resources) != 1 {
		t.Fatalf("catalogue: %+v", page.Resources)
	}
	r := page.Resources[0]
	if r.ID != id || r.Name != "office" || r.Attributes["rules"] != "2" || r.Attributes["sources"] != "10.0.0.0/8, 192.0.2.1" ||
		len(r.Relations) != 1 || r.Relations[0].ID != dir || r.Relations[0].Type != "directory" {
		t.Errorf("catalogue entry %+v", r)
	}
}
