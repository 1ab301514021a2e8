package dashboard_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// newBusyCatalog is the catalogue world with more of every kind in more
// accounts and Regions, several created at the same instant in the same
// account and Region, so that the order below the creation time (account,
// Region, kind, id) decides between kinds.
func newBusyCatalog(t *testing.T) *catalogWorld {
	w := newCatalogWorld(t)
	w.advance(time.Hour) // golden is AVAILABLE, so bundles can use it
	for _, a := range []string{acctA, acctB, acctC} {
		for _, r := range []string{region1, region2} {
			w.startImport(a, r, "bulk-"+a[:3]+"-"+r)
			w.customImport(a, r, "custom-"+a[:3]+"-"+r)
		}
	}
	for _, name := range []string{"tie-1", "tie-2"} {
		if _, err := servicetest.Call(w.Svc, api.OpCreateWorkspaceBundle, servicetest.As(acctA, region1), &api.CreateWorkspaceBundleInput{
			BundleName: api.String(name), BundleDescription: api.String("d"), ImageId: api.String(w.ids["golden"]),
			ComputeType: &api.ComputeType{Name: api.String(api.ComputeStandard)}, UserStorage: &api.UserStorage{Capacity: api.String("50")},
		}); err != nil {
			t.Fatal(err)
		}
	}
	w.advance(time.Second)
	w.customImport(acctB, region1, "last")
	return w
}

// catalogKey is a resource's place in the catalogue's order, as a string.
func catalogKey(r dashboard.Resource) string {
	return r.Created.Format(time.RFC3339Nano) + " " + r.Account + "/" + r.Region + "/" + r.Kind + "/" + r.ID
}

// TestCatalogOrderAcrossKinds checks the order of the whole catalogue
// against the one it promises, and that pages of every size, with and
// without filters, and pages cut short by the bound on what a page leaves
// out, walk exactly the resources the filter selects.
func TestCatalogOrderAcrossKinds(t *testing.T) {
	w := newBusyCatalog(t)
	all := w.catalog(dashboard.CatalogFilter{Limit: dashboard.MaxCatalogLimit})
	if all.NextToken != "" || len(all.Resources) < 20 {
		t.Fatalf("one big page: %d resources, token %q", len(all.Resources), all.NextToken)
	}
	want := slices.Clone(all.Resources)
	slices.SortFunc(want, func(a, b dashboard.Resource) int {
		return cmp.Or(b.Created.Compare(a.Created), strings.Compare(a.Account, b.Account), strings.Compare(a.Region, b.Region),
			strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID))
	})
	if diff := gocmp.Diff(keysOf(want), keysOf(all.Resources)); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
	ties := 0
	for i := 1; i < len(want); i++ {
		if want[i].Created.Equal(want[i-1].Created) && want[i].Account == want[i-1].Account && want[i].Region == want[i-1].Region && want[i].Kind != want[i-1].Kind {
			ties++
		}
	}
	if ties == 0 {
		t.Fatal("no two kinds tie on creation, account and Region: the world does not test the order between kinds")
	}

	dashboard.SetMaxSkipped(t, 2)
	short := 0
	for _, f := range []dashboard.CatalogFilter{{}, {Region: region2}, {Region: region1, Kind: "image"}, {Account: acctB}, {Account: acctA, Region: region1}, {Kind: "bundle"}, {Region: "ap-south-1"}} {
		var selected []string
		for _, r := range want {
			if (f.Account == "" || r.Account == f.Account) && (f.Region == "" || r.Region == f.Region) && (f.Kind == "" || r.Kind == f.Kind) {
				selected = append(selected, catalogKey(r))
			}
		}
		for size := 1; size <= len(selected)+1; size++ {
			var got []string
			f.Limit, f.NextToken = size, ""
			for pages := 0; ; pages++ {
				page := w.catalog(f)
				if len(page.Resources) > size || pages > len(want) {
					t.Fatalf("%+v: page of %d resources", f, len(page.Resources))
				}
				got = append(got, keysOf(page.Resources)...)
				if page.NextToken == "" {
					break
				}
				if len(page.Resources) < size {
					short++
				}
				f.NextToken = page.NextToken
			}
			if diff := gocmp.Diff(selected, got); diff != "" {
				t.Fatalf("%+v in pages of %d (-want +got):\n%s", f, size, diff)
			}
		}
	}
	if short == 0 {
		t.Error("no page was cut short, though a Region of every account leaves out more than 2 resources")
	}
}

func keysOf(rs []dashboard.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, catalogKey(r))
	}
	return out
}

// TestPipelineFiltersBounded pages through every filter in both orders
// with a page allowed to leave out one pipeline only: pages come back
// short, even empty, with a token, and together hold exactly the
// pipelines the filter selects, in order.
func TestPipelineFiltersBounded(t *testing.T) {
	w := newPipelineWorld(t)
	for _, a := range []string{acctA, acctB, acctC} {
		for _, r := range []string{region1, region2} {
			w.startImport(a, r, "bulk-"+a[:3]+"-"+r)
			w.customImport(a, r, "custom-"+a[:3]+"-"+r)
		}
	}
	w.advance(31 * time.Second)
	w.customImport(acctC, region2, "fresh")
	w.customImport(acctA, region2, "doomed-too",
		api.Tag{Key: api.String(pipeline.TagFailAt), Value: api.String("PENDING")})
	w.advance(time.Second)

	full := map[string][]dashboard.Pipeline{}
	for _, order := range []string{dashboard.OrderKey, dashboard.OrderNewest} {
		page := w.list(dashboard.PipelineFilter{Order: order, Limit: dashboard.MaxPipelineLimit})
		if page.NextToken != "" {
			t.Fatalf("%s: one big page has a token", order)
		}
		full[order] = page.Pipelines
	}
	dashboard.SetMaxSkipped(t, 1)
	short := 0
	for _, f := range []dashboard.PipelineFilter{
		{Phase: dashboard.PhaseInFlight}, {Phase: dashboard.PhaseCompleted}, {Phase: dashboard.PhaseFailed},
		{Kind: pipeline.KindLegacyImport}, {Kind: pipeline.KindAccountModification}, {Region: region1},
		{Account: acctA, Phase: dashboard.PhaseFailed}, {Account: acctB, Region: region2, Kind: pipeline.KindCustomImport},
		{ID: w.ids["other"]}, {ID: "wsi-000000000"}, {Region: region2, Phase: dashboard.PhaseInFlight},
	} {
		for _, order := range []string{dashboard.OrderKey, dashboard.OrderNewest} {
			var want []string
			for _, p := range full[order] {
				if (f.Account == "" || p.Account == f.Account) && (f.Region == "" || p.Region == f.Region) && (f.Kind == "" || p.Kind == f.Kind) &&
					(f.Phase == "" || p.Phase == f.Phase) && (f.ID == "" || p.ResourceID == f.ID) {
					want = append(want, p.Account+"/"+p.Region+"/"+p.ResourceID)
				}
			}
			for _, size := range []int{1, 2, 5} {
				g := f
				g.Order, g.Limit = order, size
				var got []string
				for pages := 0; ; pages++ {
					page := w.list(g)
					if len(page.Pipelines) > size || pages > len(full[order]) {
						t.Fatalf("%+v: page of %d", g, len(page.Pipelines))
					}
					for _, p := range page.Pipelines {
						got = append(got, p.Account+"/"+p.Region+"/"+p.ResourceID)
					}
					if page.NextToken == "" {
						break
					}
					if len(page.Pipelines) < size {
						short++
					}
					g.NextToken = page.NextToken
				}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("%+v in pages of %d (-want +got):\n%s", g, size, diff)
				}
			}
		}
	}
	if short == 0 {
		t.Error("no page was cut short, though every filter leaves out more than one pipeline")
	}
}
