// Package resources_test checks what the resource packages share: the
// answers of the list operations kept with the records they are made from.
package resources_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

const (
	owner   = "111122223333"
	other   = "444455556666"
	region  = "us-east-1"
	dirOK   = "d-926722edaf"
	dirFail = "d-1234567890"
)

var as = servicetest.As

// TestKeptAnswersAreFresh drives every listed kind through its states, by
// the clock and by writes, and checks after each step that every list and
// by-id describe, from the owner and from an account an image is shared
// with, writes what encoding its answer afresh writes: a kept answer is
// never stale. encoding/json ignores Encoded, so it encodes the members
// each describe computed anew from the record and the clock.
func TestKeptAnswersAreFresh(t *testing.T) {
	h := servicetest.New(t, func(c *service.Config) { c.WorkspaceQuota = 10 })
	h.Freeze()
	ids := map[string]string{}
	call := func(account string, op *api.Operation, in api.Input) (any, error) {
		return h.Svc.Registry().Dispatch(as(account, region), op, in)
	}
	do := func(account string, op *api.Operation, in api.Input) any {
		t.Helper()
		out, err := call(account, op, in)
		if err != nil {
			t.Fatalf("%s: %v", op.Name, err)
		}
		return out
	}
	failTags := func(stage, message string) []api.Tag {
		return []api.Tag{{Key: api.String(pipeline.TagFailAt), Value: api.String(stage)}, {Key: api.String(pipeline.TagErrorMessage), Value: api.String(message)}}
	}
	importImage := func(name string, tags []api.Tag) string {
		out := do(owner, api.OpImportWorkspaceImage.Operation, &api.ImportWorkspaceImageInput{
			Ec2ImageId: api.String("ami-0123456789abcdef0"), IngestionProcess: api.String(api.WorkspaceImageIngestionProcessByolRegularWsp),
			ImageName: api.String(name), ImageDescription: api.String("kept answers"), Tags: tags,
		})
		return *out.(*api.ImportWorkspaceImageOutput).ImageId
	}

	steps := []struct {
		name string
		act  func()
	}{
		{"nothing yet", func() {}},
		{"directories registering, images importing, a group", func() {
			do(owner, api.OpRegisterWorkspaceDirectory.Operation, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirOK)})
			do(owner, api.OpRegisterWorkspaceDirectory.Operation, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(dirFail),
				Tags: failTags("REGISTERING", "The subnets are not in supported zones.")})
			ids["image"] = importImage("kept", nil)
			ids["image2"] = importImage("kept-2", nil)
			ids["failing"] = importImage("failing", []api.Tag{
				{Key: api.String(pipeline.TagFailAt), Value: api.String(api.WorkspaceImageStatePending)},
				{Key: api.String(pipeline.TagErrorCode), Value: api.String("InvalidImage")},
				{Key: api.String(pipeline.TagErrorMessage), Value: api.String("The image is not a supported Windows.")},
			})
			out := do(owner, api.OpCreateIpGroup.Operation, &api.CreateIpGroupInput{GroupName: api.String("office"), GroupDesc: api.String("d"),
				UserRules: []api.IpRuleItem{{IpRule: api.String("10.0.0.0/24"), RuleDesc: api.String("office")}}})
			ids["group"] = *out.(*api.CreateIpGroupOutput).GroupId
		}},
		{"registered, failed, imported", func() { h.Advance(time.Hour) }},
		{"an image shared, a bundle, a rule added", func() {
			do(owner, api.OpUpdateWorkspaceImagePermission.Operation, &api.UpdateWorkspaceImagePermissionInput{
				ImageId: api.String(ids["image"]), SharedAccountId: api.String(other), AllowCopyImage: api.Bool(true)})
			out := do(owner, api.OpCreateWorkspaceBundle.Operation, &api.CreateWorkspaceBundleInput{
				BundleName: api.String("kept"), BundleDescription: api.String("d"), ImageId: api.String(ids["image"]),
				ComputeType: &api.ComputeType{Name: api.String("STANDARD")}, UserStorage: &api.UserStorage{Capacity: api.String("50")}})
			ids["bundle"] = *out.(*api.CreateWorkspaceBundleOutput).WorkspaceBundle.BundleId
			do(owner, api.OpAuthorizeIpRules.Operation, &api.AuthorizeIpRulesInput{GroupId: api.String(ids["group"]),
				UserRules: []api.IpRuleItem{{IpRule: api.String("192.0.2.7")}}})
		}},
		{"a WorkSpace launching, a directory's permissions changed", func() {
			out := do(owner, api.OpCreateWorkspaces.Operation, &api.CreateWorkspacesInput{Workspaces: []api.WorkspaceRequest{{
				DirectoryId: api.String(dirOK), UserName: api.String("kept"), BundleId: api.String(smallBundle().ID),
				WorkspaceProperties: &api.WorkspaceProperties{RunningMode: api.String(api.RunningModeAutoStop)},
			}}}).(*api.CreateWorkspacesOutput)
			if len(out.PendingRequests) != 1 {
				t.Fatalf("CreateWorkspaces: %s", *out.FailedRequests[0].ErrorMessage)
			}
			ids["workspace"] = *out.PendingRequests[0].WorkspaceId
			do(owner, api.OpModifySelfservicePermissions.Operation, &api.ModifySelfservicePermissionsInput{ResourceId: api.String(dirOK),
				SelfservicePermissions: &api.SelfservicePermissions{RestartWorkspace: api.String(api.ReconnectEnumDisabled)}})
		}},
		{"the WorkSpace available", func() { h.Advance(time.Hour) }},
		{"a modification requested", func() {
			do(owner, api.OpModifyWorkspaceProperties.Operation, &api.ModifyWorkspacePropertiesInput{WorkspaceId: api.String(ids["workspace"]),
				WorkspaceProperties: &api.WorkspaceProperties{UserVolumeSizeGib: api.Int32(50)}})
		}},
		{"the modification in progress", func() { h.Advance(time.Second) }},
		{"the modification done", func() { h.Advance(10 * time.Second) }},
		{"the WorkSpace stopping", func() {
			do(owner, api.OpStopWorkspaces.Operation, &api.StopWorkspacesInput{StopWorkspaceRequests: []api.StopRequest{{WorkspaceId: api.String(ids["workspace"])}}})
		}},
		{"the WorkSpace stopped", func() { h.Advance(time.Hour) }},
		{"the bundle on another image, rules replaced, the failed directory deregistering", func() {
			do(owner, api.OpUpdateWorkspaceBundle.Operation, &api.UpdateWorkspaceBundleInput{BundleId: api.String(ids["bundle"]), ImageId: api.String(ids["image2"])})
			do(owner, api.OpUpdateRulesOfIpGroup.Operation, &api.UpdateRulesOfIpGroupInput{GroupId: api.String(ids["group"]),
				UserRules: []api.IpRuleItem{{IpRule: api.String("198.51.100.0/24"), RuleDesc: api.String("new office")}}})
			do(owner, api.OpDeregisterWorkspaceDirectory.Operation, &api.DeregisterWorkspaceDirectoryInput{DirectoryId: api.String(dirFail)})
		}},
		{"updates available for the images, the directory gone", func() { h.Advance(31 * 24 * time.Hour) }},
		{"the image unshared", func() {
			do(owner, api.OpUpdateWorkspaceImagePermission.Operation, &api.UpdateWorkspaceImagePermissionInput{
				ImageId: api.String(ids["image"]), SharedAccountId: api.String(other), AllowCopyImage: api.Bool(false)})
		}},
	}

	type describe struct {
		account string
		op      *api.Operation
		in      api.Input
	}
	describes := func() []describe {
		d := []describe{
			{owner, api.OpDescribeWorkspaceDirectories.Operation, &api.DescribeWorkspaceDirectoriesInput{}},
			{owner, api.OpDescribeWorkspaceDirectories.Operation, &api.DescribeWorkspaceDirectoriesInput{DirectoryIds: []string{dirOK}}},
			{owner, api.OpDescribeWorkspaceDirectories.Operation, &api.DescribeWorkspaceDirectoriesInput{DirectoryIds: []string{dirFail}}},
			{owner, api.OpDescribeWorkspaceImages.Operation, &api.DescribeWorkspaceImagesInput{}},
			{other, api.OpDescribeWorkspaceImages.Operation, &api.DescribeWorkspaceImagesInput{}},
			{owner, api.OpDescribeWorkspaceBundles.Operation, &api.DescribeWorkspaceBundlesInput{}},
			{owner, api.OpDescribeWorkspaceBundles.Operation, &api.DescribeWorkspaceBundlesInput{Owner: api.String("AMAZON")}},
			{owner, api.OpDescribeWorkspaces.Operation, &api.DescribeWorkspacesInput{}},
			{owner, api.OpDescribeIpGroups.Operation, &api.DescribeIpGroupsInput{}},
		}
		for _, id := range []string{ids["image"], ids["failing"]} {
			if id != "" {
				d = append(d, describe{owner, api.OpDescribeWorkspaceImages.Operation, &api.DescribeWorkspaceImagesInput{ImageIds: []string{id}}},
					describe{other, api.OpDescribeWorkspaceImages.Operation, &api.DescribeWorkspaceImagesInput{ImageIds: []string{id}}})
			}
		}
		if id := ids["bundle"]; id != "" {
			d = append(d, describe{owner, api.OpDescribeWorkspaceBundles.Operation, &api.DescribeWorkspaceBundlesInput{BundleIds: []string{id, records.PublicBundles[0].ID}}})
		}
		if id := ids["workspace"]; id != "" {
			d = append(d, describe{owner, api.OpDescribeWorkspaces.Operation, &api.DescribeWorkspacesInput{WorkspaceIds: []string{id}}})
		}
		if id := ids["group"]; id != "" {
			d = append(d, describe{owner, api.OpDescribeIpGroups.Operation, &api.DescribeIpGroupsInput{GroupIds: []string{id}}})
		}
		return d
	}

	for _, step := range steps {
		step.act()
		for _, d := range describes() {
			name := fmt.Sprintf("%s: %s by %s %s", step.name, d.op.Name, d.account, must(json.Marshal(d.in)))
			var first []byte
			var made [][]byte
			// The first round may make the answers, the second must write
			// the very ones it kept, and both must write what a fresh
			// encoding writes.
			for round := range 2 {
				out, err := call(d.account, d.op, d.in)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				wire := out.(api.Output).AppendJSON(nil)
				if fresh := must(json.Marshal(out)); !bytes.Equal(wire, fresh) {
					t.Fatalf("%s, round %d: the answer kept is stale:\nwrote %s\nfresh %s", name, round, wire, fresh)
				}
				if round == 0 {
					first, made = wire, encoded(out)
					continue
				}
				if !bytes.Equal(first, wire) {
					t.Errorf("%s: the two rounds differ:\n%s\n%s", name, first, wire)
				}
				for j, enc := range encoded(out) {
					if len(enc) == 0 || len(made[j]) == 0 || &enc[0] != &made[j][0] {
						t.Errorf("%s: item %d is not written from the answer kept in the first round", name, j)
					}
				}
			}
		}
	}
	// The scenario reached every state it is meant to check.
	for _, want := range []struct {
		account string
		op      *api.Operation
		in      api.Input
		state   string
	}{
		{owner, api.OpDescribeWorkspaces.Operation, &api.DescribeWorkspacesInput{}, `"State":"STOPPED"`},
		{owner, api.OpDescribeWorkspaces.Operation, &api.DescribeWorkspacesInput{}, `"UserVolumeSizeGib":50`},
		{owner, api.OpDescribeWorkspaceImages.Operation, &api.DescribeWorkspaceImagesInput{}, `"UpdateAvailable":true`},
		{owner, api.OpDescribeWorkspaceImages.Operation, &api.DescribeWorkspaceImagesInput{}, `"ErrorCode":"InvalidImage"`},
		{owner, api.OpDescribeWorkspaceBundles.Operation, &api.DescribeWorkspaceBundlesInput{}, `"ImageId":"` + ids["image2"] + `"`},
		{owner, api.OpDescribeIpGroups.Operation, &api.DescribeIpGroupsInput{}, `"198.51.100.0/24"`},
		{owner, api.OpDescribeWorkspaceDirectories.Operation, &api.DescribeWorkspaceDirectoriesInput{}, `"RestartWorkspace":"DISABLED"`},
	} {
		out, err := call(want.account, want.op, want.in)
		if err != nil {
			t.Fatal(err)
		}
		if wire := out.(api.Output).AppendJSON(nil); !bytes.Contains(wire, []byte(want.state)) {
			t.Errorf("%s: %s does not show %s", want.op.Name, wire, want.state)
		}
	}
}

// smallBundle is a public bundle with an 80/10 GiB layout, which a user
// volume of 50 GiB can replace.
func smallBundle() records.PublicBundle {
	for _, b := range records.PublicBundles {
		if b.RootCapacity == "80" && b.UserCapacity == "10" {
			return b
		}
	}
	panic("no public bundle of 80/10 GiB")
}

// encoded is the Encoded of every listed item of out.
func encoded(out any) [][]byte {
	var all [][]byte
	v := reflect.ValueOf(out).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Struct {
			continue
		}
		if _, ok := f.Type().Elem().FieldByName("Encoded"); !ok {
			continue
		}
		for j := range f.Len() {
			all = append(all, f.Index(j).FieldByName("Encoded").Bytes())
		}
	}
	return all
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestKeptAnswersUnderConcurrency describes the same records from many
// goroutines while the clock moves and a writer changes them: every answer
// must still be what a fresh encoding of it writes (and the race detector
// must find nothing in how answers are kept and shared).
func TestKeptAnswersUnderConcurrency(t *testing.T) {
	h := servicetest.New(t)
	h.Freeze()
	call := func(account string, op *api.Operation, in api.Input) (any, error) {
		return h.Svc.Registry().Dispatch(as(account, region), op, in)
	}
	for i := range 5 {
		if _, err := call(owner, api.OpRegisterWorkspaceDirectory.Operation, &api.RegisterWorkspaceDirectoryInput{DirectoryId: api.String(fmt.Sprintf("d-90000000%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := call(owner, api.OpCreateIpGroup.Operation, &api.CreateIpGroupInput{GroupName: api.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	group := *out.(*api.CreateIpGroupOutput).GroupId
	done := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				for _, d := range []struct {
					op *api.Operation
					in api.Input
				}{
					{api.OpDescribeWorkspaceDirectories.Operation, &api.DescribeWorkspaceDirectoriesInput{}},
					{api.OpDescribeIpGroups.Operation, &api.DescribeIpGroupsInput{}},
				} {
					out, err := call(owner, d.op, d.in)
					if err != nil {
						errs <- err
						return
					}
					if wire, fresh := out.(api.Output).AppendJSON(nil), must(json.Marshal(out)); !bytes.Equal(wire, fresh) {
						errs <- fmt.Errorf("%s wrote a stale answer:\n%s\nfresh %s", d.op.Name, wire, fresh)
						return
					}
				}
			}
		}()
	}
	for i := range 20 {
		h.Advance(time.Second)
		if _, err := call(owner, api.OpUpdateRulesOfIpGroup.Operation, &api.UpdateRulesOfIpGroupInput{GroupId: api.String(group),
			UserRules: []api.IpRuleItem{{IpRule: api.String(fmt.Sprintf("10.0.%d.0/24", i))}}}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
