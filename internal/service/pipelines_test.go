package service

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/pipeline"
)

const hostileMessage = `<script>alert("owned")</script> & more`

// pipelineWorld starts one operation of every kind in two accounts and two
// Regions, on the quick profile with a frozen clock (see newImageHarness):
// golden, doomed (scripted to fail at GENERALIZING), legacy and a BYOL
// modification at T0; other in another account and Region at T0+5s.
type pipelineWorld struct {
	*imageHarness
	t0  time.Time
	ids map[string]string // name -> resource id
}

func newPipelineWorld(t *testing.T) *pipelineWorld {
	h := newImageHarness(t)
	if _, err := h.svc.Clock().Freeze(as(acctA, region1)); err != nil {
		t.Fatal(err)
	}
	w := &pipelineWorld{imageHarness: h, t0: h.time.now(), ids: map[string]string{}}
	w.ids["golden"] = w.customImport(acctA, region1, "golden")
	w.ids["doomed"] = w.customImport(acctA, region1, "doomed",
		api.Tag{Key: api.String(pipeline.TagFailAt), Value: api.String("GENERALIZING")},
		api.Tag{Key: api.String(pipeline.TagErrorMessage), Value: api.String(hostileMessage)})
	w.ids["legacy"] = h.startImport(acctA, region1, "legacy")
	if _, err := h.svc.ModifyAccount(as(acctB, region2), &api.ModifyAccountInput{
		DedicatedTenancySupport:             api.String(api.DedicatedTenancySupportEnumEnabled),
		DedicatedTenancyManagementCidrRange: api.String("10.1.0.0/16"),
	}); err != nil {
		t.Fatalf("ModifyAccount: %v", err)
	}
	w.ids["10.1.0.0/16"] = w.only(PipelineFilter{Kind: pipeline.KindAccountModification}).ResourceID
	w.advance(5 * time.Second)
	w.ids["other"] = w.customImport(acctB, region2, "other")
	return w
}

func (w *pipelineWorld) customImport(account, region, name string, tags ...api.Tag) string {
	w.t.Helper()
	out, err := w.svc.ImportCustomWorkspaceImage(as(account, region), &api.ImportCustomWorkspaceImageInput{
		ImageName: api.String(name), ImageDescription: api.String("Windows 11 (golden)"),
		ComputeType: api.String(api.ImageComputeTypeBase), Protocol: api.String(api.CustomImageProtocolDcv),
		ImageSource:                    &api.ImageSourceIdentifier{Ec2ImageId: api.String("ami-0123456789abcdef0")},
		InfrastructureConfigurationArn: api.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/x"),
		Platform:                       api.String(api.PlatformWindows), OsVersion: api.String(api.OSVersionWindows11), Tags: tags,
	})
	if err != nil {
		w.t.Fatalf("ImportCustomWorkspaceImage(%s): %v", name, err)
	}
	return *out.ImageId
}

// advance moves the service clock to T0+d's worth of progress.
func (w *pipelineWorld) advance(d time.Duration) {
	w.t.Helper()
	if _, err := w.svc.Clock().Advance(as(acctA, region1), d); err != nil {
		w.t.Fatal(err)
	}
}

func (w *pipelineWorld) list(f PipelineFilter) PipelinePage {
	w.t.Helper()
	page, err := w.svc.Pipelines(as(acctC, region1), f)
	if err != nil {
		w.t.Fatalf("Pipelines(%+v): %v", f, err)
	}
	return page
}

func (w *pipelineWorld) only(f PipelineFilter) Pipeline {
	w.t.Helper()
	page := w.list(f)
	if len(page.Pipelines) != 1 {
		w.t.Fatalf("Pipelines(%+v) = %d pipelines, want 1", f, len(page.Pipelines))
	}
	return page.Pipelines[0]
}

// byName indexes a page by name.
func byName(p PipelinePage) map[string]Pipeline {
	m := map[string]Pipeline{}
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

func briefOf(p Pipeline) brief {
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
			"golden":      {"PROCESSING_SOURCE_IMAGE", PhaseInFlight, 12, 2, StageCurrent},
			"doomed":      {"PROCESSING_SOURCE_IMAGE", PhaseInFlight, 12, 2, StageCurrent},
			"legacy":      {"PENDING", PhaseInFlight, 25, 0, StageCurrent},
			"10.1.0.0/16": {"COMPLETED", PhaseCompleted, 100, 1, ""},
			"other":       {"PENDING", PhaseInFlight, 0, 0, StageCurrent},
		}},
		{31 * time.Second, map[string]brief{
			"golden":      {"GENERALIZING", PhaseInFlight, 77, 9, StageCurrent},
			"doomed":      {"ERROR", PhaseFailed, 77, 9, StageFailed},
			"legacy":      {"AVAILABLE", PhaseCompleted, 100, 1, ""},
			"10.1.0.0/16": {"COMPLETED", PhaseCompleted, 100, 1, ""},
			"other":       {"INSTALLING_COMPONENTS", PhaseInFlight, 65, 8, StageCurrent},
		}},
		{time.Hour, map[string]brief{
			"golden":      {"COMPLETED", PhaseCompleted, 100, 12, ""},
			"doomed":      {"ERROR", PhaseFailed, 77, 9, StageFailed},
			"legacy":      {"AVAILABLE", PhaseCompleted, 100, 1, ""},
			"10.1.0.0/16": {"COMPLETED", PhaseCompleted, 100, 1, ""},
			"other":       {"COMPLETED", PhaseCompleted, 100, 12, ""},
		}},
	}
	elapsed := 5 * time.Second
	for _, step := range steps {
		w.advance(step.at - elapsed)
		elapsed = step.at
		page := w.list(PipelineFilter{})
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
	w2 := newImageHarness(t)
	w2.svc.Clock().Freeze(as(acctA, region1))
	if _, err := w2.svc.ModifyAccount(as(acctA, region1), &api.ModifyAccountInput{
		DedicatedTenancySupport:             api.String(api.DedicatedTenancySupportEnumEnabled),
		DedicatedTenancyManagementCidrRange: api.String("10.2.0.0/16"),
	}); err != nil {
		t.Fatal(err)
	}
	page, err := w2.svc.Pipelines(as(acctA, region1), PipelineFilter{})
	if err != nil || len(page.Pipelines) != 1 {
		t.Fatalf("Pipelines: %v, %v", page, err)
	}
	if got, want := briefOf(page.Pipelines[0]), (brief{"PENDING", PhaseInFlight, 0, 0, StageCurrent}); got != want {
		t.Errorf("new modification = %+v, want %+v", got, want)
	}
}

// TestPipelineDetails checks one pipeline in full: identity, times, the
// stage timeline, the failure plan and the error.
func TestPipelineDetails(t *testing.T) {
	w := newPipelineWorld(t)
	w.advance(26 * time.Second) // T0+31s: doomed has just failed
	all := byName(w.list(PipelineFilter{}))
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
		want := StagePending
		switch {
		case i < 9:
			want = StageDone
		case i == 9:
			want = StageCurrent
		}
		if st.Status != want {
			t.Errorf("golden stage %s is %s, want %s", st.State, st.Status, want)
		}
	}

	doomed := all["doomed"]
	wantPlan := &FailurePlan{Stage: "GENERALIZING", Code: "AppXPackagesInstalled", Message: hostileMessage, At: at(31 * time.Second)}
	if diff := cmp.Diff(wantPlan, doomed.FailurePlan); diff != "" {
		t.Errorf("doomed failure plan (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&PipelineError{Code: "AppXPackagesInstalled", Message: hostileMessage}, doomed.Error); diff != "" {
		t.Errorf("doomed error (-want +got):\n%s", diff)
	}
	if !doomed.ExpectedCompletion.IsZero() || !doomed.LastUpdated.Equal(at(31*time.Second)) || !strings.Contains(doomed.Message, "GENERALIZING") {
		t.Errorf("doomed: expected completion %v, last updated %v, message %q", doomed.ExpectedCompletion, doomed.LastUpdated, doomed.Message)
	}
	fail := doomed.Stages[9]
	if fail.Status != StageFailed || !fail.End.Equal(at(31*time.Second)) || fail.DurationSeconds != 2 {
		t.Errorf("failing stage = %+v", fail)
	}
	for _, st := range doomed.Stages[10:] {
		if st.Status != StageSkipped || !st.Start.IsZero() || !st.End.IsZero() {
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
	out, err := w.svc.CopyWorkspaceImage(as(acctA, region2), &api.CopyWorkspaceImageInput{
		Name: api.String("golden-copy"), SourceImageId: api.String(w.ids["golden"]), SourceRegion: api.String(region1),
	})
	if err != nil {
		t.Fatal(err)
	}
	cp := w.only(PipelineFilter{Kind: pipeline.KindCopy})
	if cp.ResourceID != *out.ImageId || cp.State != "PENDING" || cp.Source != region1+"/"+w.ids["golden"] || cp.Region != region2 {
		t.Errorf("copy = %+v", cp)
	}
	w.advance(UpdateInterval)
	up, err := w.svc.CreateUpdatedWorkspaceImage(as(acctA, region1), &api.CreateUpdatedWorkspaceImageInput{
		Name: api.String("golden-v2"), Description: api.String("updated"), SourceImageId: api.String(w.ids["golden"]),
	})
	if err != nil {
		t.Fatal(err)
	}
	u := w.only(PipelineFilter{Kind: pipeline.KindUpdate})
	if u.ResourceID != *up.ImageId || u.State != "PENDING" || u.Phase != PhaseInFlight || u.Source != w.ids["golden"] {
		t.Errorf("update = %+v", u)
	}
	w.advance(15 * time.Second)
	if u := w.only(PipelineFilter{Kind: pipeline.KindUpdate}); u.State != "AVAILABLE" || u.Progress != 100 {
		t.Errorf("update after 15s = %s %d%%", u.State, u.Progress)
	}
	if cp := w.only(PipelineFilter{Kind: pipeline.KindCopy}); cp.State != "AVAILABLE" {
		t.Errorf("copy a month later = %s", cp.State)
	}
}

func TestPipelineFilters(t *testing.T) {
	w := newPipelineWorld(t)
	w.advance(26 * time.Second) // T0+31s
	names := func(f PipelineFilter) []string {
		var out []string
		for _, p := range w.list(f).Pipelines {
			out = append(out, p.Name)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name   string
		filter PipelineFilter
		want   []string
	}{
		{"everything", PipelineFilter{}, []string{"10.1.0.0/16", "doomed", "golden", "legacy", "other"}},
		{"account", PipelineFilter{Account: acctA}, []string{"doomed", "golden", "legacy"}},
		{"account and Region", PipelineFilter{Account: acctB, Region: region2}, []string{"10.1.0.0/16", "other"}},
		{"Region", PipelineFilter{Region: region2}, []string{"10.1.0.0/16", "other"}},
		{"account in another Region", PipelineFilter{Account: acctA, Region: region2}, nil},
		{"unknown account", PipelineFilter{Account: acctC}, nil},
		{"kind", PipelineFilter{Kind: pipeline.KindCustomImport}, []string{"doomed", "golden", "other"}},
		{"account modifications", PipelineFilter{Kind: pipeline.KindAccountModification}, []string{"10.1.0.0/16"}},
		{"in flight", PipelineFilter{Phase: PhaseInFlight}, []string{"golden", "other"}},
		{"completed", PipelineFilter{Phase: PhaseCompleted}, []string{"10.1.0.0/16", "legacy"}},
		{"failed", PipelineFilter{Phase: PhaseFailed}, []string{"doomed"}},
		{"everything at once", PipelineFilter{Account: acctA, Region: region1, Kind: pipeline.KindCustomImport, Phase: PhaseInFlight}, []string{"golden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, names(tt.filter)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	for _, bad := range []PipelineFilter{
		{Kind: "nightly"}, {Phase: "PENDING"}, {Limit: -1}, {Limit: MaxPipelineLimit + 1},
		{NextToken: "???"}, {NextToken: *encodeToken("wsi-123")},
	} {
		if _, err := w.svc.Pipelines(as(acctA, region1), bad); !errors.Is(err, ErrInvalidFilter) {
			t.Errorf("Pipelines(%+v) = %v, want ErrInvalidFilter", bad, err)
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
	for _, f := range []PipelineFilter{{}, {Account: acctB}, {Region: region1}, {Phase: PhaseCompleted}, {Kind: pipeline.KindLegacyImport}} {
		full := w.list(PipelineFilter{Account: f.Account, Region: f.Region, Kind: f.Kind, Phase: f.Phase, Limit: MaxPipelineLimit})
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
	if n := len(w.list(PipelineFilter{}).Pipelines); n != 17 {
		t.Errorf("default page has %d pipelines, want all 17", n)
	}
}
