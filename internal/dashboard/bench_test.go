package dashboard_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
	"github.com/wsim/wsim/internal/store"
	"github.com/wsim/wsim/internal/store/storetest"
)

// benchSizes are the numbers of images BenchmarkDashboardPage fills a store
// with; WSIM_DASHBOARD_BENCH_SIZES (comma-separated) replaces them, e.g.
// with 1000000 to measure a million by hand.
func benchSizes(b *testing.B) []int {
	spec := orDefault(os.Getenv("WSIM_DASHBOARD_BENCH_SIZES"), "1000,100000")
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("WSIM_DASHBOARD_BENCH_SIZES: %q is not a number of images", f)
		}
		out = append(out, n)
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// BenchmarkDashboardPage measures what the dashboard asks for, on stores
// of every size: its first page (the newest 100 pipelines and the newest
// 100 resources), the next page, and filtered pages, whose cost must not
// grow with the number of images. The images are spread over 10 accounts
// and 2 Regions, created 100 ms apart on the quick profile, so at the
// service time of the pages the newest few hundred are in flight and the
// rest completed, and none failed. Besides the wall time, each reports
// cpu-ns/op, the process's CPU time per page, steadier on a shared machine.
func BenchmarkDashboardPage(b *testing.B) {
	backends := []struct{ name, spec string }{{"memory", "memory"}, {"sqlite", ""}, {"postgres", os.Getenv("WSIM_TEST_POSTGRES")}}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			if be.name == "postgres" && be.spec == "" {
				b.Skip("WSIM_TEST_POSTGRES is not set")
			}
			for _, n := range benchSizes(b) {
				b.Run(fmt.Sprintf("images=%d", n), func(b *testing.B) {
					svc := benchService(b, be.spec, n)
					ctx := servicetest.As(acctA, region1)
					next := func(f dashboard.PipelineFilter) dashboard.PipelineFilter {
						page, err := svc.Pipelines(ctx, f)
						if err != nil || page.NextToken == "" {
							b.Fatalf("first page: %v, token %q", err, page.NextToken)
						}
						f.NextToken = page.NextToken
						return f
					}
					for _, bc := range []struct {
						name    string
						filter  dashboard.PipelineFilter
						catalog dashboard.CatalogFilter
					}{
						{"first-page", dashboard.PipelineFilter{Order: dashboard.OrderNewest}, dashboard.CatalogFilter{}},
						{"next-page", next(dashboard.PipelineFilter{Order: dashboard.OrderNewest}), dashboard.CatalogFilter{}},
						{"state=completed", dashboard.PipelineFilter{Order: dashboard.OrderNewest, Phase: dashboard.PhaseCompleted}, dashboard.CatalogFilter{}},
						{"state=in-flight", dashboard.PipelineFilter{Order: dashboard.OrderNewest, Phase: dashboard.PhaseInFlight}, dashboard.CatalogFilter{}},
						{"state=failed(none)", dashboard.PipelineFilter{Order: dashboard.OrderNewest, Phase: dashboard.PhaseFailed}, dashboard.CatalogFilter{}},
						{"account", dashboard.PipelineFilter{Order: dashboard.OrderNewest, Account: benchAccount(3)}, dashboard.CatalogFilter{Account: benchAccount(3)}},
						{"region", dashboard.PipelineFilter{Order: dashboard.OrderNewest, Region: region2}, dashboard.CatalogFilter{Region: region2}},
						{"kind=custom-import", dashboard.PipelineFilter{Order: dashboard.OrderNewest, Kind: pipeline.KindCustomImport}, dashboard.CatalogFilter{Kind: "image"}},
						{"kind=copy(none)", dashboard.PipelineFilter{Order: dashboard.OrderNewest, Kind: pipeline.KindCopy}, dashboard.CatalogFilter{Kind: "ip-group"}},
						{"key-order,state=completed", dashboard.PipelineFilter{Order: dashboard.OrderKey, Phase: dashboard.PhaseCompleted}, dashboard.CatalogFilter{}},
					} {
						b.Run(bc.name, func(b *testing.B) {
							b.ReportAllocs()
							cpu := cpuTime()
							for b.Loop() {
								if _, err := svc.Pipelines(ctx, bc.filter); err != nil {
									b.Fatal(err)
								}
								if _, err := svc.Catalog(ctx, bc.catalog); err != nil {
									b.Fatal(err)
								}
							}
							if cpu >= 0 {
								b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
							}
						})
					}
				})
			}
		})
	}
}

func benchAccount(i int) string { return fmt.Sprintf("1000000000%02d", i%10) }

// benchService is a service over a store of the spec ("" for SQLite in a
// temporary directory) holding n images: one imported through the API,
// the rest its copies written straight through the typed layer, 2,000 to
// a transaction (PostgreSQL's 10,000 outlasted the store's 5 s deadline
// on a busy machine).
func benchService(b *testing.B, spec string, n int) *service.Service {
	b.Helper()
	ctx := context.Background()
	if spec == "" {
		spec = "sqlite:" + b.TempDir() + "/wsim.db"
	}
	if strings.HasPrefix(spec, "postgres") {
		// A schema of its own: purging a database an earlier run of a
		// million images filled took longer than the store's deadline.
		spec = storetest.PostgresSchema(b, spec, "bench_dashboard")
	}
	st, err := store.Open(ctx, spec, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	prof, err := pipeline.LookupProfile(pipeline.ProfileQuick)
	if err != nil {
		b.Fatal(err)
	}
	start := servicetest.Start
	const step = 100 * time.Millisecond
	now := start.Add(time.Duration(n) * step)
	svc := service.New(service.Config{Profile: prof, Now: func() time.Time { return now }, ImageQuota: 1 << 30}, st)
	out, err := servicetest.Call(svc, api.OpImportCustomWorkspaceImage, servicetest.As(acctA, region1), &api.ImportCustomWorkspaceImageInput{
		ImageName: api.String("template"), ImageDescription: api.String("Windows 11 (golden)"),
		ComputeType: api.String(api.ImageComputeTypeBase), Protocol: api.String(api.CustomImageProtocolDcv),
		ImageSource:                    &api.ImageSourceIdentifier{Ec2ImageId: api.String("ami-0123456789abcdef0")},
		InfrastructureConfigurationArn: api.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/x"),
		Platform:                       api.String(api.PlatformWindows), OsVersion: api.String(api.OSVersionWindows11),
		Tags: []api.Tag{{Key: api.String("team"), Value: api.String("vdi")}},
	})
	if err != nil {
		b.Fatal(err)
	}
	db := svc.Records()
	tmpl, err := records.Images.Get(ctx, db, acctA, region1, *out.ImageId)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 2000
	for i := 1; i < n; i += batch {
		err := db.Update(ctx, func(tx *records.Tx) error {
			for j := i; j < min(i+batch, n); j++ {
				img := *tmpl
				img.CustomImport = new(records.CustomImport)
				*img.CustomImport = *tmpl.CustomImport
				created := start.Add(time.Duration(j) * step)
				img.Meta = records.Meta{Account: benchAccount(j), Region: []string{region1, region2}[j/10%2], Name: fmt.Sprintf("image-%07d", j), Created: created}
				img.Plan.Start = created
				if err := records.Images.Insert(ctx, tx, &img); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return svc
}
