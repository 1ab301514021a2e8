package workspaces_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// TestConnectionStatusPages pages DescribeWorkspacesConnectionStatus by 25,
// by id, over the whole account and over up to 25 named ids (repeated and unknown
// ones left out), and leaves out terminated WorkSpaces once gone.
func TestConnectionStatusPages(t *testing.T) {
	h := newHarness(t, func(c *service.Config) { c.WorkspaceQuota = 40 })
	var ids []string
	for i := range 31 {
		ids = append(ids, h.launch(acctA, region1, req(dirA, "u"+strconv.Itoa(i), publicBundle.ID)))
	}
	terminated := ids[30]
	if _, err := servicetest.Call(h.Svc, api.OpTerminateWorkspaces, as(acctA, region1), &api.TerminateWorkspacesInput{
		TerminateWorkspaceRequests: []api.TerminateRequest{{WorkspaceId: api.String(terminated)}}}); err != nil {
		t.Fatal(err)
	}
	h.Advance(24 * time.Hour)
	live := slices.Sorted(slices.Values(ids[:30]))
	walk := func(named []string) (pages [][]string) {
		var tok *string
		for {
			out, err := servicetest.Call(h.Svc, api.OpDescribeWorkspacesConnectionStatus, as(acctA, region1),
				&api.DescribeWorkspacesConnectionStatusInput{WorkspaceIds: named, NextToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			var page []string
			for _, c := range out.WorkspacesConnectionStatus {
				page = append(page, *c.WorkspaceId)
			}
			pages = append(pages, page)
			if tok = out.NextToken; tok == nil {
				return pages
			}
		}
	}
	if diff := cmp.Diff([][]string{live[:25], live[25:]}, walk(nil)); diff != "" {
		t.Errorf("the account's pages (-want +got):\n%s", diff)
	}
	named := append(slices.Clone(ids[:22]), ids[3], "ws-000000000", terminated)
	want := slices.Sorted(slices.Values(ids[:22]))
	if diff := cmp.Diff([][]string{want}, walk(named)); diff != "" {
		t.Errorf("the named ids' pages (-want +got):\n%s", diff)
	}
}
