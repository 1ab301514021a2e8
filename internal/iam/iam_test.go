package iam

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/api"
)

func mustPolicy(t *testing.T, doc string) Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", doc, err)
	}
	return p
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"statement object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"workspaces:*","Resource":"*"}}`, ""},
		{"statement list", `{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Deny","NotAction":["workspaces:Describe*"],"NotResource":"arn:aws:workspaces:*:*:workspace/*"}]}`, ""},
		{"no version", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "Version"},
		{"no statement", `{"Version":"2012-10-17"}`, "Statement is required"},
		{"bad effect", `{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, "Effect"},
		{"action and notaction", `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}`, "exclusive"},
		{"no action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, "Action or NotAction"},
		{"no resource", `{"Statement":{"Effect":"Allow","Action":"*"}}`, "Resource or NotResource"},
		{"action without service", `{"Statement":{"Effect":"Allow","Action":"DescribeWorkspaces","Resource":"*"}}`, "service:action"},
		{"principal", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, "Principal"},
		{"unknown operator", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"a":"1"}}}}`, "not supported"},
		{"not json", `{`, "malformed"},
		{"misspelt element", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condtion":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}`, "unknown field"},
		{"unknown top-level element", `{"Versoin":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.doc))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrMalformedPolicy)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"workspaces:Describe*", "workspaces:DescribeWorkspaces", true},
		{"workspaces:Describe*", "workspaces:CreateTags", false},
		{"ws-?????????", "ws-abcdefghi", true},
		{"ws-?????????", "ws-abcdefgh", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"arn:aws:workspaces:*:111122223333:workspaceimage/*", "arn:aws:workspaces:eu-west-1:111122223333:workspaceimage/wsi-1", true},
		{"arn:aws:workspaces:*:111122223333:workspaceimage/*", "arn:aws:workspaces:eu-west-1:444455556666:workspaceimage/wsi-1", false},
		{strings.Repeat("*a", 30), strings.Repeat("a", 100) + "b", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.value); got != tt.want {
			t.Errorf("Match(%q, %q) = %v", tt.pattern, tt.value, got)
		}
	}
}

func TestEvaluate(t *testing.T) {
	const img = "arn:aws:workspaces:us-east-1:111122223333:workspaceimage/wsi-123456789"
	ctx := func(tags map[string]string) Context {
		return func(key string) ([]string, bool) {
			if key == "aws:requestedregion" {
				return []string{"us-east-1"}, true
			}
			if k, ok := strings.CutPrefix(key, "aws:resourcetag/"); ok {
				v, ok := tags[k]
				return []string{v}, ok
			}
			return nil, false
		}
	}
	allowAll := `{"Statement":{"Effect":"Allow","Action":"workspaces:*","Resource":"*"}}`
	tests := []struct {
		name     string
		policies []string
		action   string
		resource string
		tags     map[string]string
		want     Decision
	}{
		{"no policy: implicit deny", nil, "workspaces:DescribeWorkspaces", "*", nil, ImplicitDeny},
		{"allow all", []string{allowAll}, "workspaces:DescribeWorkspaces", "*", nil, Allow},
		{"action case-insensitive", []string{`{"Statement":{"Effect":"Allow","Action":"WorkSpaces:describeworkspaces","Resource":"*"}}`}, "workspaces:DescribeWorkspaces", "*", nil, Allow},
		{"wildcard action", []string{`{"Statement":{"Effect":"Allow","Action":"workspaces:Describe*","Resource":"*"}}`}, "workspaces:ImportCustomWorkspaceImage", img, nil, ImplicitDeny},
		{"deny wins over allow", []string{allowAll, `{"Statement":{"Effect":"Deny","Action":"workspaces:DeleteWorkspaceImage","Resource":"*"}}`}, "workspaces:DeleteWorkspaceImage", img, nil, ExplicitDeny},
		{"deny wins in the same policy", []string{`{"Statement":[{"Effect":"Deny","Action":"workspaces:*","Resource":"` + img + `"},{"Effect":"Allow","Action":"*","Resource":"*"}]}`}, "workspaces:DescribeWorkspaceImages", img, nil, ExplicitDeny},
		{"NotAction allows the rest", []string{`{"Statement":{"Effect":"Allow","NotAction":"workspaces:Delete*","Resource":"*"}}`}, "workspaces:DeleteWorkspaceImage", img, nil, ImplicitDeny},
		{"NotAction allows others", []string{`{"Statement":{"Effect":"Allow","NotAction":"workspaces:Delete*","Resource":"*"}}`}, "workspaces:CreateTags", img, nil, Allow},
		{"Resource wildcard", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:workspaces:*:111122223333:workspaceimage/*"}}`}, "workspaces:DeleteWorkspaceImage", img, nil, Allow},
		{"Resource other type", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:workspaces:*:111122223333:workspace/*"}}`}, "workspaces:DeleteWorkspaceImage", img, nil, ImplicitDeny},
		{"Resource is case-sensitive", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:workspaces:*:111122223333:WorkspaceImage/*"}}`}, "workspaces:DeleteWorkspaceImage", img, nil, ImplicitDeny},
		{"NotResource", []string{allowAll, `{"Statement":{"Effect":"Deny","Action":"*","NotResource":"arn:aws:workspaces:*:*:workspace/*"}}`}, "workspaces:DeleteWorkspaceImage", img, nil, ExplicitDeny},
		{"NotResource spares its own", []string{allowAll, `{"Statement":{"Effect":"Deny","Action":"*","NotResource":"arn:aws:workspaces:*:*:workspaceimage/*"}}`}, "workspaces:DeleteWorkspaceImage", img, nil, Allow},
		{"RequestedRegion equals", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}}`}, "workspaces:DescribeWorkspaces", "*", nil, Allow},
		{"RequestedRegion other", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}`}, "workspaces:DescribeWorkspaces", "*", nil, ImplicitDeny},
		{"RequestedRegion not equals denies", []string{allowAll, `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}}`}, "workspaces:DescribeWorkspaces", "*", nil, ExplicitDeny},
		{"RequestedRegion like", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:RequestedRegion":"us-*"}}}}`}, "workspaces:DescribeWorkspaces", "*", nil, Allow},
		{"ResourceTag equals", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}}`}, "workspaces:DeleteWorkspaceImage", img, map[string]string{"team": "blue"}, Allow},
		{"ResourceTag other value", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}}`}, "workspaces:DeleteWorkspaceImage", img, map[string]string{"team": "red"}, ImplicitDeny},
		{"ResourceTag absent", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}}`}, "workspaces:DeleteWorkspaceImage", img, nil, ImplicitDeny},
		{"ResourceTag absent, StringNotEquals true", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/team":"blue"}}}}`}, "workspaces:DeleteWorkspaceImage", img, nil, Allow},
		{"IfExists on an absent key", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:ResourceTag/team":"blue"}}}}`}, "workspaces:DeleteWorkspaceImage", img, nil, Allow},
		{"ForAnyValue", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:ResourceTag/team":["gr*","bl*"]}}}}`}, "workspaces:DeleteWorkspaceImage", img, map[string]string{"team": "blue"}, Allow},
		{"Null true on an absent key", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:ResourceTag/team":"true"}}}}`}, "workspaces:DeleteWorkspaceImage", img, nil, Allow},
		{"all conditions must hold", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue","aws:RequestedRegion":"eu-west-1"}}}}`}, "workspaces:DeleteWorkspaceImage", img, map[string]string{"team": "blue"}, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []Policy
			for _, d := range tt.policies {
				ps = append(ps, mustPolicy(t, d))
			}
			got, err := Evaluate(ps, Request{Action: tt.action, Resource: tt.resource, Context: ctx(tt.tags)})
			if err != nil || got != tt.want {
				t.Errorf("Evaluate = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestResources(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		op   string
		in   any
		want []string
	}{
		{"DescribeAccount", &api.DescribeAccountInput{}, []string{"*"}},
		{"DescribeWorkspaceImages", &api.DescribeWorkspaceImagesInput{}, []string{"arn:aws:workspaces:us-east-1:111122223333:workspaceimage/*"}},
		{"DescribeWorkspaceImages", &api.DescribeWorkspaceImagesInput{ImageIds: []string{"wsi-1", "wsi-2"}}, []string{
			"arn:aws:workspaces:us-east-1:111122223333:workspaceimage/wsi-1", "arn:aws:workspaces:us-east-1:111122223333:workspaceimage/wsi-2"}},
		{"CreateWorkspaces", &api.CreateWorkspacesInput{Workspaces: []api.WorkspaceRequest{{DirectoryId: s("d-1"), BundleId: s("wsb-1")}, {DirectoryId: s("d-1"), BundleId: s("wsb-2")}}}, []string{
			"arn:aws:workspaces:us-east-1:111122223333:directory/d-1", "arn:aws:workspaces:us-east-1:111122223333:workspacebundle/wsb-1", "arn:aws:workspaces:us-east-1:111122223333:workspacebundle/wsb-2"}},
		{"CreateTags", &api.CreateTagsInput{ResourceId: s("wsipg-12345678")}, []string{"arn:aws:workspaces:us-east-1:111122223333:workspaceipgroup/wsipg-12345678"}},
		{"CopyWorkspaceImage", &api.CopyWorkspaceImageInput{SourceImageId: s("wsi-1"), SourceRegion: s("eu-west-1")}, []string{"arn:aws:workspaces:eu-west-1:111122223333:workspaceimage/wsi-1"}},
		{"RebootWorkspaces", &api.RebootWorkspacesInput{RebootWorkspaceRequests: []api.RebootRequest{{WorkspaceId: s("ws-1")}}}, []string{"arn:aws:workspaces:us-east-1:111122223333:workspace/ws-1"}},
		{"ImportCustomWorkspaceImage", &api.ImportCustomWorkspaceImageInput{}, []string{"arn:aws:workspaces:us-east-1:111122223333:workspaceimage/*"}},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range Resources(tt.op, tt.in, "us-east-1") {
			got = append(got, r.ARN("111122223333"))
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("Resources(%s) = %v, want %v", tt.op, got, tt.want)
		}
	}
	if Resources("DescribeWorkspaces", &api.DescribeWorkspacesInput{}, "cn-north-1")[0].ARN("111122223333") != "arn:aws-cn:workspaces:cn-north-1:111122223333:workspace/*" {
		t.Error("China partition")
	}
}

// Every operation the model defines that some table field names must have
// paths that exist in its input shape; operations without an entry are
// caught by TestEveryImplementedOperationHasResources (service package).
func TestResourcePathsExist(t *testing.T) {
	for op, fields := range operationResources {
		o := api.Operations[op]
		if o == nil {
			t.Errorf("%s is not an operation of the model", op)
			continue
		}
		for _, fd := range fields {
			if fd.path == "" {
				continue
			}
			name, _, _ := strings.Cut(fd.path, ".")
			name = strings.TrimSuffix(name, "[]")
			b, _ := jsonFields(o.NewInput())
			if !b[name] {
				t.Errorf("%s: input has no member %s", op, name)
			}
		}
	}
}

func TestAuthorize(t *testing.T) {
	p := Principal{ARN: "arn:aws:iam::111122223333:role/ci", Account: "111122223333", Region: "us-east-1"}
	policies := map[string][]Policy{
		p.ARN:                                   {mustPolicy(t, `{"Statement":[{"Effect":"Allow","Action":"workspaces:*","Resource":"*"},{"Effect":"Deny","Action":"workspaces:DeleteWorkspaceImage","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/protected":"yes"}}}]}`)},
		"arn:aws:iam::111122223333:role/reader": {mustPolicy(t, `{"Statement":{"Effect":"Allow","Action":"workspaces:Describe*","Resource":"*"}}`)},
	}
	a := &Authorizer{
		Policies: func(arn string) ([]Policy, bool) { ps, ok := policies[arn]; return ps, ok },
		Tags: func(_ context.Context, account, region, id string) (map[string]string, error) {
			if id == "wsi-protected" && account == "111122223333" && region == "us-east-1" {
				return map[string]string{"protected": "yes"}, nil
			}
			return nil, nil
		},
	}
	s := func(v string) *string { return &v }
	reader := p
	reader.ARN = "arn:aws:iam::111122223333:role/reader"
	anyone := p
	anyone.ARN = "arn:aws:iam::111122223333:role/no-policies"
	tests := []struct {
		name    string
		p       Principal
		op      string
		in      any
		wantMsg string
	}{
		{"allowed", p, "DeleteWorkspaceImage", &api.DeleteWorkspaceImageInput{ImageId: s("wsi-other")}, ""},
		{"tag condition denies", p, "DeleteWorkspaceImage", &api.DeleteWorkspaceImageInput{ImageId: s("wsi-protected")},
			"User: arn:aws:iam::111122223333:role/ci is not authorized to perform: workspaces:DeleteWorkspaceImage on resource: arn:aws:workspaces:us-east-1:111122223333:workspaceimage/wsi-protected with an explicit deny in an identity-based policy"},
		{"reader may describe", reader, "DescribeWorkspaces", &api.DescribeWorkspacesInput{}, ""},
		{"reader may not import", reader, "ImportCustomWorkspaceImage", &api.ImportCustomWorkspaceImageInput{},
			"User: arn:aws:iam::111122223333:role/reader is not authorized to perform: workspaces:ImportCustomWorkspaceImage on resource: arn:aws:workspaces:us-east-1:111122223333:workspaceimage/* because no identity-based policy allows the workspaces:ImportCustomWorkspaceImage action"},
		{"reader, no resource", reader, "ModifyAccount", &api.ModifyAccountInput{},
			"User: arn:aws:iam::111122223333:role/reader is not authorized to perform: workspaces:ModifyAccount on resource: * because no identity-based policy allows the workspaces:ModifyAccount action"},
		{"no policies: full access", anyone, "ModifyAccount", &api.ModifyAccountInput{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Authorize(context.Background(), tt.p, tt.op, tt.in)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Authorize = %v", err)
				}
				return
			}
			var denied *api.AccessDeniedException
			if !errors.As(err, &denied) || denied.Message != tt.wantMsg || denied.HTTPStatus() != 400 {
				t.Fatalf("Authorize = %v, want AccessDeniedException %q", err, tt.wantMsg)
			}
		})
	}
}

// jsonFields names the members of an input struct by their JSON names.
func jsonFields(in any) (map[string]bool, error) {
	out := map[string]bool{}
	t := reflect.TypeOf(in).Elem()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out, nil
}
