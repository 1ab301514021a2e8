package dashboard_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/resources/images"
	"github.com/wsim/wsim/internal/service/servicetest"
)

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	acctC   = "777788889999"
	region1 = "us-east-1"
	region2 = "eu-west-1"
)

const hostileMessage = `<script>alert("owned")</script> & more`

// pipelineWorld starts one operation of every kind in two accounts and two
// Regions, on the quick profile with a frozen clock (see servicetest.New):
// golden, doomed (scripted to fail at GENERALIZING), legacy and a BYOL
// modification at T0; other in another account and Region at T0+5s.
type pipelineWorld struct {
	*servicetest.Harness
	t0  time.Time
	ids map[string]string // name -> resource id
}

func newPipelineWorld(t *testing.T) *pipelineWorld {
	h := servicetest.New(t)
	if _, err := h.Svc.Clock().Freeze(servicetest.As(acctA, region1)); err != nil {
		t.Fatal(err)
	}
	w := &pipelineWorld{Harness: h, t0: h.Real.Now(), ids: map[string]string{}}
	w.ids["golden"] = w.customImport(acctA, region1, "golden")
	w.ids["doomed"] = w.customImport(acctA, region1, "doomed",
		api.Tag{Key: api.String(pipeline.TagFailAt), Value: api.String("GENERALIZING")},
		api.Tag{Key: api.String(pipeline.TagErrorMessage), Value: api.String(hostileMessage)})
	w.ids["legacy"] = w.startImport(acctA, region1, "legacy")
	if _, err := servicetest.Call(h.Svc, api.OpModifyAccount, servicetest.As(acctB, region2), &api.ModifyAccountInput{
		DedicatedTenancySupport:             api.String(api.DedicatedTenancySupportEnumEnabled),
		DedicatedTenancyManagementCidrRange: api.String("10.1.0.0/16"),
	}); err != nil {
		t.Fatalf("ModifyAccount: %v", err)
	}
	w.ids["10.1.0.0/16"] = w.only(dashboard.PipelineFilter{Kind: pipeline.KindAccountModification}).ResourceID
	w.advance(5 * time.Second)
	w.ids["other"] = w.customImport(acctB, region2, "other")
	return w
}

// startImport starts a legacy import.
func (w *pipelineWorld) startImport(account, region, name string) string {
	w.T.Helper()
	out, err := servicetest.Call(w.Svc, api.OpImportWorkspaceImage, servicetest.As(account, region), &api.ImportWorkspaceImageInput{
		Ec2ImageId: api.String("ami-0123456789abcdef0"), IngestionProcess: api.String(api.WorkspaceImageIngestionProcessByolRegularWsp),
		ImageName: api.String(name), ImageDescription: api.String("test image"),
	})
	if err != nil {
		w.T.Fatalf("ImportWorkspaceImage(%s): %v", name, err)
	}
	return *out.ImageId
}

func (w *pipelineWorld) customImport(account, region, name string, tags ...api.Tag) string {
	w.T.Helper()
	out, err := servicetest.Call(w.Svc, api.OpImportCustomWorkspaceImage, servicetest.As(account, region), &api.ImportCustomWorkspaceImageInput{
		ImageName: api.String(name), ImageDescription: api.String("Windows 11 (golden)"),
		ComputeType: api.String(api.ImageComputeTypeBase), Protocol: api.String(api.CustomImageProtocolDcv),
		ImageSource:                    &api.ImageSourceIdentifier{Ec2ImageId: api.String("ami-0123456789abcdef0")},
		InfrastructureConfigurationArn: api.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/x"),
		Platform:                       api.String(api.PlatformWindows), OsVersion: api.String(api.OSVersionWindows11), Tags: tags,
	})
	if err != nil {
		w.T.Fatalf("ImportCustomWorkspaceImage(%s): %v", name, err)
	}
	return *out.ImageId
}

// advance moves the service clock to T0+d's worth of progress.
func (w *pipelineWorld) advance(d time.Duration) {
	w.T.Helper()
	if _, err := w.Svc.Clock().Advance(servicetest.As(acctA, region1), d); err != nil {
		w.T.Fatal(err)
	}
}

func (w *pipelineWorld) list(f dashboard.PipelineFilter) dashboard.PipelinePage {
	w.T.Helper()
	page, err := w.Svc.Pipelines(servicetest.As(acctC, region1), f)
	if err != nil {
		w.T.Fatalf("Pipelines(%+v): %v", f, err)
	}
	return page
}

func (w *pipelineWorld) only(f dashboard.PipelineFilter) dashboard.Pipeline {
	w.T.Helper()
	page := w.list(f)
	if len(page.Pipelines) != 1 {
		w.T.Fatalf("Pipelines(%+v) = %d pipelines, want 1", f, len(page.Pipelines))
	}
	return page.Pipelines[0]
}

// byName indexes a page by name.
func byName(p dashboard.PipelinePage) map[string]dashboard.Pipeline {
	m := map[string]dashboard.Pipeline{}
	for _, x := range p.Pipelines {
		m[x.Name] = x
	}
	return m
}

// brief is what the table below checks of each pipeline.
type brief struct {
	State, Phase string
	Progress     int
	StageIndex   int
	Current      string // status of stage StageIndex, "" when completed
}

func briefOf(p dashboard.Pipeline) brief {
	b := brief{State: p.State, Phase: p.Phase, Progress: p.Progress, StageIndex: p.StageIndex}
	if p.StageIndex < len(p.Stages) {
		b.Current = p.Stages[p.StageIndex].Status
	}
	return b
}

func TestPipelinesOverTime(t *testing.T) {
	w := newPipelineWorld(t)
	// Offsets are from T0; "other" started at T0+5s, and the world is
	// built at T0+5s.
	steps := []struct {
		at   time.Duration
		want map[string]brief
	}{
		{5 * time.Second, map[string]brief{
			"golden":      {"PROCESSING_SOURCE_IMAGE", dashboard.PhaseInFlight, 12, 2, dashboard.StageCurrent},
			"doomed":      {"PROCESSING_SOURCE_IMAGE", dashboard.PhaseInFlight, 12, 2, dashboard.StageCurrent},
			"legacy":      {"PENDING", dashboard.PhaseInFlight, 25, 0, dashboard.StageCurrent},
			"10.1.0.0/16": {"COMPLETED", dashboard.PhaseCompleted, 100, 1, ""},
			"other":       {"PENDING", dashboard.PhaseInFlight, 0, 0, dashboard.StageCurrent},
		}},
		{31 * time.Second, map[string]brief{
			"golden":      {"GENERALIZING", dashboard.PhaseInFlight, 77, 9, dashboard.StageCurrent},
			"doomed":      {"ERROR", dashboard.PhaseFailed, 77, 9, dashboard.StageFailed},
			"legacy":      {"AVAILABLE", dashboard.PhaseCompleted, 100, 1, ""},
			"10.1.0.0/16": {"COMPLETED", dashboard.PhaseCompleted, 100, 1, ""},
			"other":       {"INSTALLING_COMPONENTS", dashboard.PhaseInFlight, 65, 8, dashboard.StageCurrent},
		}},
		{time.Hour, map[string]brief{
			"golden":      {"COMPLETED", dashboard.PhaseCompleted, 100, 12, ""},
			"doomed":      {"ERROR", dashboard.PhaseFailed, 77, 9, dashboard.StageFailed},
			"legacy":      {"AVAILABLE", dashboard.PhaseCompleted, 100, 1, ""},
			"10.1.0.0/16": {"COMPLETED", dashboard.PhaseCompleted, 100, 1, ""},
			"other":       {"COMPLETED", dashboard.PhaseCompleted, 100, 12, ""},
		}},
	}
	elapsed := 5 * time.Second
	for _, step := range steps {
		w.advance(step.at - elapsed)
		elapsed = step.at
		page := w.list(dashboard.PipelineFilter{})
		if !page.Now.Equal(w.t0.Add(step.at)) {
			t.Errorf("at T0+%v the page says now is %v", step.at, page.Now)
		}
		got := map[string]brief{}
		for name, p := range byName(page) {
			got[name] = briefOf(p)
		}
		if diff := cmp.Diff(step.want, got); diff != "" {
			t.Errorf("at T0+%v (-want +got):\n%s", step.at, diff)
		}
	}

	// The modification was PENDING before; check its first seconds by
	// starting another in a fresh world.
	w2 := servicetest.New(t)
	w2.Svc.Clock().Freeze(servicetest.As(acctA, region1))
	if _, err := servicetest.Call(w2.Svc, api.OpModifyAccount, servicetest.As(acctA, region1), &api.ModifyAccountInput{
		DedicatedTenancySupport:             api.String(api.DedicatedTenancySupportEnumEnabled),
		DedicatedTenancyManagementCidrRange: api.String("10.2.0.0/16"),
	}); err != nil {
		t.Fatal(err)
	}
	page, err := w2.Svc.Pipelines(servicetest.As(acctA, region1), dashboard.PipelineFilter{})
	if err != nil || len(page.Pipelines) != 1 {
		t.Fatalf("Pipelines: %v, %v", page, err)
	}
	if got, want := briefOf(page.Pipelines[0]), (brief{"PENDING", dashboard.PhaseInFlight, 0, 0, dashboard.StageCurrent}); got != want {
		t.Errorf("new modification = %+v, want %+v", got, want)
	}
}

// TestPipelineDetails checks one pipeline in full: identity, times, the
// stage timeline, the failure plan and the error.
func TestPipelineDetails(t *testing.T) {
	w := newPipelineWorld(t)
	w.advance(26 * time.Second) // T0+31s: doomed has just failed
	all := byName(w.list(dashboard.PipelineFilter{}))
	at := func(s time.Duration) time.Time { return w.t0.Add(s) }

	golden := all["golden"]
	if golden.Kind != pipeline.KindCustomImport || golden.Account != acctA || golden.Region != region1 ||
		golden.ResourceID != w.ids["golden"] || golden.Description != "Windows 11 (golden)" || golden.Source != "ami-0123456789abcdef0" {
		t.Errorf("golden = %+v", golden)
	}
	if !golden.Created.Equal(w.t0) || !golden.LastUpdated.Equal(at(29*time.Second)) || !golden.ExpectedCompletion.Equal(at(40*time.Second)) {
		t.Errorf("golden times: created %v, last updated %v, expected completion %v", golden.Created, golden.LastUpdated, golden.ExpectedCompletion)
	}
	if golden.FailurePlan != nil || golden.Error != nil {
		t.Errorf("golden has failure %+v, error %+v", golden.FailurePlan, golden.Error)
	}
	if len(golden.Stages) != 12 || golden.Stages[0].State != "PENDING" || golden.Stages[11].State != "PUBLISHING" {
		t.Fatalf("golden stages = %+v", golden.Stages)
	}
	wantStarts := []int{0, 2, 4, 8, 11, 16, 19, 22, 25, 29, 33, 36}
	for i, st := range golden.Stages {
		if !st.Start.Equal(at(time.Duration(wantStarts[i]) * time.Second)) {
			t.Errorf("golden stage %s starts at %v, want T0+%ds", st.State, st.Start, wantStarts[i])
		}
		want := dashboard.StagePending
		switch {
		case i < 9:
			want = dashboard.StageDone
		case i == 9:
			want = dashboard.StageCurrent
		}
		if st.Status != want {
			t.Errorf("golden stage %s is %s, want %s", st.State, st.Status, want)
		}
	}

	doomed := all["doomed"]
	wantPlan := &dashboard.FailurePlan{Stage: "GENERALIZING", Code: "AppXPackagesInstalled", Message: hostileMessage, At: at(31 * time.Second)}
	if diff := cmp.Diff(wantPlan, doomed.FailurePlan); diff != "" {
		t.Errorf("doomed failure plan (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&dashboard.PipelineError{Code: "AppXPackagesInstalled", Message: hostileMessage}, doomed.Error); diff != "" {
		t.Errorf("doomed error (-want +got):\n%s", diff)
	}
	if !doomed.ExpectedCompletion.IsZero() || !doomed.LastUpdated.Equal(at(31*time.Second)) || !strings.Contains(doomed.Message, "GENERALIZING") {
		t.Errorf("doomed: expected completion %v, last updated %v, message %q", doomed.ExpectedCompletion, doomed.LastUpdated, doomed.Message)
	}
	fail := doomed.Stages[9]
	if fail.Status != dashboard.StageFailed || !fail.End.Equal(at(31*time.Second)) || fail.DurationSeconds != 2 {
		t.Errorf("failing stage = %+v", fail)
	}
	for _, st := range doomed.Stages[10:] {
		if st.Status != dashboard.StageSkipped || !st.Start.IsZero() || !st.End.IsZero() {
			t.Errorf("stage after the failure = %+v, want skipped without times", st)
		}
	}

	mod := all["10.1.0.0/16"]
	if mod.Kind != pipeline.KindAccountModification || mod.Account != acctB || mod.Region != region2 ||
		!mod.Created.Equal(w.t0) || !mod.ExpectedCompletion.Equal(at(5*time.Second)) || len(mod.Stages) != 1 {
		t.Errorf("modification = %+v", mod)
	}
	if all["legacy"].Kind != pipeline.KindLegacyImport || all["legacy"].Source != "ami-0123456789abcdef0" {
		t.Errorf("legacy = %+v", all["legacy"])
	}
}

// TestPipelinesCopyAndUpdate covers the two kinds made from other images.
func TestPipelinesCopyAndUpdate(t *testing.T) {
	w := newPipelineWorld(t)
	w.advance(time.Minute)
	out, err := servicetest.Call(w.Svc, api.OpCopyWorkspaceImage, servicetest.As(acctA, region2), &api.CopyWorkspaceImageInput{
		Name: api.String("golden-copy"), SourceImageId: api.String(w.ids["golden"]), SourceRegion: api.String(region1),
	})
	if err != nil {
		t.Fatal(err)
	}
	cp := w.only(dashboard.PipelineFilter{Kind: pipeline.KindCopy})
	if cp.ResourceID != *out.ImageId || cp.State != "PENDING" || cp.Source != region1+"/"+w.ids["golden"] || cp.Region != region2 {
		t.Errorf("copy = %+v", cp)
	}
	w.advance(images.UpdateInterval)
	up, err := servicetest.Call(w.Svc, api.OpCreateUpdatedWorkspaceImage, servicetest.As(acctA, region1), &api.CreateUpdatedWorkspaceImageInput{
		Name: api.String("golden-v2"), Description: api.String("updated"), SourceImageId: api.String(w.ids["golden"]),
	})
	if err != nil {
		t.Fatal(err)
	}
	u := w.only(dashboard.PipelineFilter{Kind: pipeline.KindUpdate})
	if u.ResourceID != *up.ImageId || u.State != "PENDING" || u.Phase != dashboard.PhaseInFlight || u.Source != w.ids["golden"] {
		t.Errorf("update = %+v", u)
	}
	w.advance(15 * time.Second)
	if u := w.only(dashboard.PipelineFilter{Kind: pipeline.KindUpdate}); u.State != "AVAILABLE" || u.Progress != 100 {
		t.Errorf("update after 15s = %s %d%%", u.State, u.Progress)
	}
	if cp := w.only(dashboard.PipelineFilter{Kind: pipeline.KindCopy}); cp.State != "AVAILABLE" {
		t.Errorf("copy a month later = %s", cp.State)
	}
}

func TestPipelineFilters(t *testing.T) {
	w := newPipelineWorld(t)
	w.advance(26 * time.Second) // T0+31s
	names := func(f dashboard.PipelineFilter) []string {
		var out []string
		for _, p := range w.list(f).Pipelines {
			out = append(out, p.Name)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name   string
		filter dashboard.PipelineFilter
		want   []string
	}{
		{"everything", dashboard.PipelineFilter{}, []string{"10.1.0.0/16", "doomed", "golden", "legacy", "other"}},
		{"account", dashboard.PipelineFilter{Account: acctA}, []string{"doomed", "golden", "legacy"}},
		{"account and Region", dashboard.PipelineFilter{Account: acctB, Region: region2}, []string{"10.1.0.0/16", "other"}},
		{"Region", dashboard.PipelineFilter{Region: region2}, []string{"10.1.0.0/16", "other"}},
		{"account in another Region", dashboard.PipelineFilter{Account: acctA, Region: region2}, nil},
		{"unknown account", dashboard.PipelineFilter{Account: acctC}, nil},
		{"kind", dashboard.PipelineFilter{Kind: pipeline.KindCustomImport}, []string{"doomed", "golden", "other"}},
		{"account modifications", dashboard.PipelineFilter{Kind: pipeline.KindAccountModification}, []string{"10.1.0.0/16"}},
		{"in flight", dashboard.PipelineFilter{Phase: dashboard.PhaseInFlight}, []string{"golden", "other"}},
		{"completed", dashboard.PipelineFilter{Phase: dashboard.PhaseCompleted}, []string{"10.1.0.0/16", "legacy"}},
		{"failed", dashboard.PipelineFilter{Phase: dashboard.PhaseFailed}, []string{"doomed"}},
		{"everything at once", dashboard.PipelineFilter{Account: acctA, Region: region1, Kind: pipeline.KindCustomImport, Phase: dashboard.PhaseInFlight}, []string{"golden"}},
		{"id", dashboard.PipelineFilter{ID: w.ids["other"]}, []string{"other"}},
		{"id of an account modification", dashboard.PipelineFilter{ID: w.ids["10.1.0.0/16"]}, []string{"10.1.0.0/16"}},
		{"id in its account and Region", dashboard.PipelineFilter{Account: acctB, Region: region2, ID: w.ids["other"]}, []string{"other"}},
		{"id in another account", dashboard.PipelineFilter{Account: acctA, ID: w.ids["other"]}, nil},
		{"id of another kind", dashboard.PipelineFilter{Kind: pipeline.KindLegacyImport, ID: w.ids["golden"]}, nil},
		{"id in another phase", dashboard.PipelineFilter{Phase: dashboard.PhaseFailed, ID: w.ids["golden"]}, nil},
		{"id newest first", dashboard.PipelineFilter{Order: dashboard.OrderNewest, ID: w.ids["doomed"]}, []string{"doomed"}},
		{"unknown id", dashboard.PipelineFilter{ID: "wsi-000000000"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, names(tt.filter)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	for _, bad := range []dashboard.PipelineFilter{
		{Kind: "nightly"}, {Phase: "PENDING"}, {Limit: -1}, {Limit: dashboard.MaxPipelineLimit + 1},
		{NextToken: "???"}, {NextToken: *records.EncodeToken("image", "wsi-123")},
	} {
		if _, err := w.Svc.Pipelines(servicetest.As(acctA, region1), bad); !errors.Is(err, dashboard.ErrInvalidFilter) {
			t.Errorf("Pipelines(%+v) = %v, want dashboard.ErrInvalidFilter", bad, err)
		}
	}
}

// TestPipelinePagination walks every page size with and without filters:
// each pipeline exactly once, in (account, Region, id) order.
func TestPipelinePagination(t *testing.T) {
	w := newPipelineWorld(t)
	// More of each kind in more scopes, so pages cross scope and kind
	// boundaries.
	for _, a := range []string{acctA, acctB, acctC} {
		for _, r := range []string{region1, region2} {
			w.startImport(a, r, "bulk-"+a[:3]+"-"+r)
			w.customImport(a, r, "custom-"+a[:3]+"-"+r)
		}
	}
	w.advance(31 * time.Second)
	for _, f := range []dashboard.PipelineFilter{{}, {Account: acctB}, {Region: region1}, {Phase: dashboard.PhaseCompleted}, {Kind: pipeline.KindLegacyImport}} {
		full := w.list(dashboard.PipelineFilter{Account: f.Account, Region: f.Region, Kind: f.Kind, Phase: f.Phase, Limit: dashboard.MaxPipelineLimit})
		if full.NextToken != "" || len(full.Pipelines) == 0 {
			t.Fatalf("%+v: one big page has %d pipelines and token %q", f, len(full.Pipelines), full.NextToken)
		}
		var keys []string
		for _, p := range full.Pipelines {
			keys = append(keys, p.Account+"/"+p.Region+"/"+p.ResourceID)
		}
		if !slices.IsSorted(keys) {
			t.Errorf("%+v: not in (account, Region, id) order: %v", f, keys)
		}
		for size := 1; size <= len(keys)+1; size++ {
			var paged []string
			f.Limit, f.NextToken = size, ""
			for pages := 0; ; pages++ {
				page := w.list(f)
				if len(page.Pipelines) > size || pages > len(keys) || len(page.Pipelines) == 0 && len(keys) > 0 {
					t.Fatalf("%+v: page of %d", f, len(page.Pipelines))
				}
				for _, p := range page.Pipelines {
					paged = append(paged, p.Account+"/"+p.Region+"/"+p.ResourceID)
				}
				if page.NextToken == "" {
					break
				}
				f.NextToken = page.NextToken
			}
			if !slices.Equal(paged, keys) {
				t.Fatalf("%+v: pages of %d = %v\nwant %v", f, size, paged, keys)
			}
		}
	}
	if n := len(w.list(dashboard.PipelineFilter{}).Pipelines); n != 17 {
		t.Errorf("default page has %d pipelines, want all 17", n)
	}
}

// TestPipelinesNewestFirst lists by creation, newest first, then by key, a
// page at a time.
func TestPipelinesNewestFirst(t *testing.T) {
	w := newPipelineWorld(t)
	w.advance(time.Second)
	w.ids["latest"] = w.customImport(acctC, region1, "latest")
	want := []string{w.ids["latest"], w.ids["other"]}
	var atT0 []dashboard.Pipeline
	for _, p := range w.list(dashboard.PipelineFilter{Limit: dashboard.MaxPipelineLimit}).Pipelines {
		if p.Created.Equal(w.t0) {
			atT0 = append(atT0, p) // already in key order
		}
	}
	for _, p := range atT0 {
		want = append(want, p.ResourceID)
	}
	for size := 1; size <= 7; size++ {
		var got []string
		f := dashboard.PipelineFilter{Order: dashboard.OrderNewest, Limit: size}
		for pages := 0; ; pages++ {
			page := w.list(f)
			if len(page.Pipelines) > size || pages > 10 {
				t.Fatalf("size %d: page of %d", size, len(page.Pipelines))
			}
			for _, p := range page.Pipelines {
				got = append(got, p.ResourceID)
			}
			if page.NextToken == "" {
				break
			}
			f.NextToken = page.NextToken
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("size %d (-want +got):\n%s", size, diff)
		}
	}
	if got := w.list(dashboard.PipelineFilter{Order: dashboard.OrderNewest, Account: acctB}).Pipelines; len(got) != 2 || got[0].ResourceID != w.ids["other"] {
		t.Errorf("account B newest first: %+v", got)
	}
	if _, err := w.Svc.Pipelines(servicetest.As(acctA, region1), dashboard.PipelineFilter{Order: "oldest"}); !errors.Is(err, dashboard.ErrInvalidFilter) {
		t.Errorf("unknown order: %v", err)
	}
}
