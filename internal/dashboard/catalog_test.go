package dashboard_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// catalogWorld holds, in this order: golden (A,
// region1, tagged, shared with B), a bundle on it (A), its copy (B,
// region2), and legacy (B, region1, PENDING), a minute apart.
type catalogWorld struct {
	*pipelineWorld
}

func newCatalogWorld(t *testing.T) *catalogWorld {
	h := servicetest.New(t)
	h.Freeze()
	w := &catalogWorld{&pipelineWorld{Harness: h, t0: h.Now(), ids: map[string]string{}}}
	step := func() { w.advance(time.Minute) }
	w.ids["golden"] = w.customImport(acctA, region1, "golden", api.Tag{Key: api.String("team"), Value: api.String("vdi")})
	step()
	if _, err := servicetest.Call(h.Svc, api.OpUpdateWorkspaceImagePermission, servicetest.As(acctA, region1), &api.UpdateWorkspaceImagePermissionInput{
		ImageId: api.String(w.ids["golden"]), SharedAccountId: api.String(acctB), AllowCopyImage: api.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	step()
	b, err := servicetest.Call(h.Svc, api.OpCreateWorkspaceBundle, servicetest.As(acctA, region1), &api.CreateWorkspaceBundleInput{
		BundleName: api.String("golden-bundle"), BundleDescription: api.String("d"), ImageId: api.String(w.ids["golden"]),
		ComputeType: &api.ComputeType{Name: api.String(api.ComputeStandard)}, UserStorage: &api.UserStorage{Capacity: api.String("50")},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.ids["golden-bundle"] = *b.WorkspaceBundle.BundleId
	step()
	cp, err := servicetest.Call(h.Svc, api.OpCopyWorkspaceImage, servicetest.As(acctB, region2), &api.CopyWorkspaceImageInput{
		Name: api.String("golden-copy"), SourceImageId: api.String(w.ids["golden"]), SourceRegion: api.String(region1),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.ids["golden-copy"] = *cp.ImageId
	step()
	w.ids["legacy"] = w.startImport(acctB, region1, "legacy")
	return w
}

func (w *catalogWorld) catalog(f dashboard.CatalogFilter) dashboard.CatalogPage {
	w.T.Helper()
	page, err := w.Svc.Catalog(servicetest.As(acctC, region1), f)
	if err != nil {
		w.T.Fatalf("Catalog(%+v): %v", f, err)
	}
	return page
}

// row is a resource in brief: kind and name.
func rows(p dashboard.CatalogPage) []string {
	var out []string
	for _, r := range p.Resources {
		out = append(out, r.Kind+":"+r.Name)
	}
	return out
}

func TestCatalog(t *testing.T) {
	w := newCatalogWorld(t)
	tests := []struct {
		name   string
		filter dashboard.CatalogFilter
		want   []string
	}{
		{"everything, newest first", dashboard.CatalogFilter{},
			[]string{"image:legacy", "image:golden-copy", "bundle:golden-bundle", "image-share:golden", "image:golden"}},
		{"one account", dashboard.CatalogFilter{Account: acctB}, []string{"image:legacy", "image:golden-copy", "image-share:golden"}},
		{"one account and Region", dashboard.CatalogFilter{Account: acctB, Region: region2}, []string{"image:golden-copy"}},
		{"one Region of every account", dashboard.CatalogFilter{Region: region1},
			[]string{"image:legacy", "bundle:golden-bundle", "image-share:golden", "image:golden"}},
		{"one Region, one kind", dashboard.CatalogFilter{Region: region2, Kind: "image"}, []string{"image:golden-copy"}},
		{"one kind", dashboard.CatalogFilter{Kind: "bundle"}, []string{"bundle:golden-bundle"}},
		{"nothing", dashboard.CatalogFilter{Account: acctC}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, rows(w.catalog(tt.filter))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	all := w.catalog(dashboard.CatalogFilter{}).Resources
	byName := map[string]dashboard.Resource{}
	for _, r := range all {
		byName[r.Kind+":"+r.Name] = r
	}
	golden := byName["image:golden"]
	if golden.State != "AVAILABLE" || byName["image:legacy"].State != "PENDING" || golden.Tags["team"] != "vdi" || golden.Attributes["origin"] != "custom-import" ||
		!slices.Contains(golden.Relations, dashboard.Relation{Type: dashboard.RelSharedWith, Account: acctB}) {
		t.Errorf("golden = %+v", golden)
	}
	if c := byName["image:golden-copy"]; !slices.Contains(c.Relations, dashboard.Relation{Type: dashboard.RelCopyOf, Account: acctA, Region: region1, ID: w.ids["golden"]}) || c.Account != acctB {
		t.Errorf("copy = %+v", c)
	}
	if b := byName["bundle:golden-bundle"]; b.Attributes["computeType"] != api.ComputeStandard || b.Relations[0].ID != w.ids["golden"] {
		t.Errorf("bundle = %+v", b)
	}
	if s := byName["image-share:golden"]; s.Account != acctB || s.ID != w.ids["golden"] || s.Relations[0] != (dashboard.Relation{Type: dashboard.RelSharedBy, Account: acctA, Region: region1, ID: w.ids["golden"]}) {
		t.Errorf("share = %+v", s)
	}

	// Every page size walks every resource once, in the same order.
	for size := 1; size <= 6; size++ {
		var got []string
		f := dashboard.CatalogFilter{Limit: size}
		for pages := 0; ; pages++ {
			page := w.catalog(f)
			if len(page.Resources) > size || pages > 10 {
				t.Fatalf("size %d: %d resources on a page", size, len(page.Resources))
			}
			got = append(got, rows(page)...)
			if page.NextToken == "" {
				break
			}
			f.NextToken = page.NextToken
		}
		if diff := cmp.Diff(tests[0].want, got); diff != "" {
			t.Errorf("size %d (-want +got):\n%s", size, diff)
		}
	}

	for _, bad := range []dashboard.CatalogFilter{
		{Kind: "nightly"}, {Limit: -1}, {Limit: dashboard.MaxCatalogLimit + 1}, {NextToken: "???"},
	} {
		if _, err := w.Svc.Catalog(servicetest.As(acctA, region1), bad); !errors.Is(err, dashboard.ErrInvalidFilter) {
			t.Errorf("Catalog(%+v) = %v, want ErrInvalidFilter", bad, err)
		}
	}
	if got := fmt.Sprint(w.Svc.CatalogKinds()); got != "[image image-share bundle directory ip-group workspace]" {
		t.Errorf("kinds = %s", got)
	}
}
