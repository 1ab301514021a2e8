package webui

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const hostile = `<script>alert("x")</script>`

func TestRelative(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		// In whole minutes, rounded down, so a row changes at most once a
		// minute as the clock runs.
		{0, "under a minute ago"},
		{400 * time.Millisecond, "in under a minute"},
		{59 * time.Second, "in under a minute"},
		{-59 * time.Second, "under a minute ago"},
		{time.Minute, "in 1m"},
		{3*time.Minute + 59*time.Second, "in 3m"},
		{-(3*time.Minute + 5*time.Second), "3m ago"},
		{-(3*time.Minute + 59*time.Second), "3m ago"},
		{-(2*time.Hour + 30*time.Minute + 10*time.Second), "2h 30m ago"},
		{47*time.Hour + 59*time.Minute, "in 47h 59m"},
		{30 * 24 * time.Hour, "in 30d"},
		{-30 * 24 * time.Hour, "30d ago"},
	}
	for _, tt := range tests {
		if got := relative(now.Add(tt.d), now); got != tt.want {
			t.Errorf("relative(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := when(now.Add(time.Hour), now); got != "13:00:00" {
		t.Errorf("when, same day = %q", got)
	}
	if got := when(now.Add(-24*time.Hour), now); got != "Feb 28 12:00:00" {
		t.Errorf("when, another day = %q", got)
	}
}

func TestWeights(t *testing.T) {
	stages := []dashboard.PipelineStage{{DurationSeconds: 1}, {DurationSeconds: 3}}
	if a, b := weight(stages[0], stages), weight(stages[1], stages); a != 25 || b != 75 {
		t.Errorf("weights %v, %v; want 25, 75", a, b)
	}
	instant := []dashboard.PipelineStage{{}, {}}
	if w := weight(instant[0], instant); w != 1 {
		t.Errorf("weight of an instant stage = %v, want 1", w)
	}
}

func TestLinksKeepTheFilter(t *testing.T) {
	tests := []struct {
		name string
		page Page
		got  func(partView) string
		want string
	}{
		{"next page of pipelines",
			Page{Filter: dashboard.PipelineFilter{Account: "111122223333", Kind: pipeline.KindCopy, Limit: 5, Order: dashboard.OrderNewest},
				CatalogFilter: dashboard.CatalogFilter{Kind: "bundle", NextToken: "r1"},
				Pipelines:     dashboard.PipelinePage{NextToken: "tok&en"}},
			partView.NextURL, "?account=111122223333&kind=copy&limit=5&nextToken=tok%26en&resourceKind=bundle&resourceNextToken=r1"},
		{"last page of pipelines", Page{Filter: dashboard.PipelineFilter{Account: "111122223333"}}, partView.NextURL, ""},
		{"next page of resources",
			Page{Filter: dashboard.PipelineFilter{Region: "eu-west-1", NextToken: "p1", Order: dashboard.OrderKey},
				Catalog: dashboard.CatalogPage{NextToken: "r2"}},
			partView.ResourcesNextURL, "?nextToken=p1&order=key&region=eu-west-1&resourceNextToken=r2"},
		{"last page of resources", Page{}, partView.ResourcesNextURL, ""},
		{"an account, from the first page",
			Page{Filter: dashboard.PipelineFilter{Region: "eu-west-1", Phase: "failed", NextToken: "p1"}},
			func(v partView) string { return v.ScopeURL("444455556666", "") }, "?account=444455556666&state=failed"},
		{"an account and Region",
			Page{Filter: dashboard.PipelineFilter{Account: "1", Region: "x"}},
			func(v partView) string { return v.ScopeURL("444455556666", "us-east-1") }, "?account=444455556666&region=us-east-1"},
	}
	for _, tt := range tests {
		if got := tt.got(partView{Page: tt.page}); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestRenderEmpty checks the page renders without any pipeline, resource or
// rule.
func TestRenderEmpty(t *testing.T) {
	var b strings.Builder
	if err := Render(&b, Page{Pipelines: dashboard.PipelinePage{Now: now}, Profile: "quick"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"No pipelines match", "No resources match", "No fault rules", "2026-03-01 12:00:00 UTC", "running", "<body>"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("empty dashboard lacks %q", want)
		}
	}
}

// TestRenderEmptyPageWithMore checks that a page that stopped early with
// nothing to show says that the next page looks further, not that nothing
// matches.
func TestRenderEmptyPageWithMore(t *testing.T) {
	var b strings.Builder
	err := Render(&b, Page{Pipelines: dashboard.PipelinePage{Now: now, NextToken: "p"}, Catalog: dashboard.CatalogPage{NextToken: "r"}, Profile: "quick"})
	if err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{"None of the pipelines this page looked through match", "None of the resources this page looked through match", "Next page of pipelines", "Next page of resources"} {
		if !strings.Contains(got, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	for _, wrong := range []string{"No pipelines match", "No resources match"} {
		if strings.Contains(got, wrong) {
			t.Errorf("dashboard says %q though more may match", wrong)
		}
	}
}

func resource(kind, id string, mod func(*dashboard.Resource)) dashboard.Resource {
	r := dashboard.Resource{Kind: kind, Account: "111122223333", Region: "us-east-1", ID: id, Created: now.Add(-time.Hour)}
	if mod != nil {
		mod(&r)
	}
	return r
}

// TestRenderCatalogue renders resources of every kind, and of a kind the
// template has never heard of, through the one generic row.
func TestRenderCatalogue(t *testing.T) {
	tests := []struct {
		name    string
		r       dashboard.Resource
		want    []string
		notWant []string
	}{
		{"an image with tags, sharing and its origin",
			resource("image", "wsi-golden0001", func(r *dashboard.Resource) {
				r.Name, r.Description, r.State = "golden", "Windows 11", "AVAILABLE"
				r.Tags = map[string]string{"team": "vdi", "env": "ci"}
				r.Attributes = map[string]string{"origin": "custom-import", "source": "ami-0123456789abcdef0"}
				r.Relations = []dashboard.Relation{{Type: dashboard.RelSharedWith, Account: "444455556666"}}
			}),
			[]string{`<tr class="completed" data-key="image/111122223333/us-east-1/wsi-golden0001" data-kind="image">`,
				`<div class="name">golden</div>`, `<span class="state">AVAILABLE</span>`, "Windows 11",
				`<span class="tag mono">env=ci</span><span class="tag mono">team=vdi</span>`, // by key
				`<dt>origin</dt><dd class="mono">custom-import</dd>`, `<dt>source</dt><dd class="mono">ami-0123456789abcdef0</dd>`,
				`<li>shared with account <a class="mono" href="?account=444455556666">444455556666</a></li>`,
				`<a class="mono" href="?account=111122223333">111122223333</a><br><a href="?account=111122223333&amp;region=us-east-1">us-east-1</a>`,
				`title="2026-03-01 11:00:00 UTC">11:00:00</td>`},
			nil},
		{"a copy in flight",
			resource("image", "wsi-copy00001", func(r *dashboard.Resource) {
				r.Name, r.State = "golden-copy", "PENDING"
				r.Relations = []dashboard.Relation{{Type: dashboard.RelCopyOf, Account: "444455556666", Region: "eu-west-1", ID: "wsi-golden0001"}}
			}),
			[]string{`<tr class="in-flight"`, `<li>copy of <span class="mono">wsi-golden0001</span> in eu-west-1 of <a class="mono" href="?account=444455556666">444455556666</a></li>`},
			nil},
		{"a failed image", resource("image", "wsi-bad000001", func(r *dashboard.Resource) { r.State = "ERROR" }),
			[]string{`<tr class="failed"`, `<div class="name">wsi-bad000001</div>`}, nil},
		{"a bundle", resource("bundle", "wsb-00000001", func(r *dashboard.Resource) {
			r.Name, r.State = "golden-bundle", "AVAILABLE"
			r.Attributes = map[string]string{"computeType": "STANDARD"}
			r.Relations = []dashboard.Relation{{Type: dashboard.RelUsesImage, Account: "111122223333", Region: "us-east-1", ID: "wsi-golden0001"}}
		}), []string{`data-kind="bundle"`, "uses image", `<dt>computeType</dt><dd class="mono">STANDARD</dd>`}, nil},
		{"a kind added later, with nothing but its name",
			resource("workspace", "ws-0123456789", func(r *dashboard.Resource) { r.State = "STARTING"; r.Name = "alice" }),
			[]string{`data-kind="workspace"`, `<div class="muted">workspace</div>`, `<span class="state">STARTING</span>`, "<span class=\"muted\">—</span>"},
			nil},
		{"hostile values stay text",
			resource("image", "wsi-hostile01", func(r *dashboard.Resource) {
				r.Name, r.Description, r.State = hostile, hostile, hostile
				r.Tags = map[string]string{hostile: hostile}
				r.Attributes = map[string]string{hostile: `"><img src=x onerror=alert(1)>`}
				r.Relations = []dashboard.Relation{{Type: hostile, Account: `"><b>`, ID: hostile}}
			}),
			[]string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"},
			[]string{hostile, "<img", "<b>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			p := Page{Pipelines: dashboard.PipelinePage{Now: now}, Catalog: dashboard.CatalogPage{Now: now, Resources: []dashboard.Resource{tt.r}}}
			if err := Render(&b, p); err != nil {
				t.Fatal(err)
			}
			body := b.String()
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			for _, bad := range tt.notWant {
				if strings.Contains(body, bad) {
					t.Errorf("the page contains %q", bad)
				}
			}
			if !strings.Contains(body, "1 resource(s), newest first") {
				t.Errorf("the page does not count one resource")
			}
		})
	}
}

func pipelineAt(id, state string, progress int) dashboard.Pipeline {
	return dashboard.Pipeline{
		Kind: pipeline.KindCustomImport, Account: "111122223333", Region: "us-east-1", ResourceID: id, Name: "n-" + id,
		State: state, Phase: dashboard.PhaseInFlight, Progress: progress, StageIndex: 1, Created: now, LastUpdated: now,
		Stages: []dashboard.PipelineStage{{State: "PENDING", Status: "done"}, {State: state, Status: "current"}},
	}
}

// TestRenderPipelinesEscapes checks that what users control in a pipeline
// stays text, and that the problem replaces the lists.
func TestRenderPipelinesEscapes(t *testing.T) {
	p := pipelineAt("wsi-1", "GENERALIZING", 70)
	p.Name, p.Description, p.Message = hostile, hostile, hostile
	p.Error = &dashboard.PipelineError{Code: "AppXPackagesInstalled", Message: hostile}
	p.FailurePlan = &dashboard.FailurePlan{Stage: "GENERALIZING", Code: hostile, At: now}
	tests := []struct {
		name    string
		page    Page
		want    []string
		notWant []string
	}{
		{"a hostile pipeline",
			Page{Pipelines: dashboard.PipelinePage{Now: now, Pipelines: []dashboard.Pipeline{p}}},
			[]string{"<strong>AppXPackagesInstalled</strong>: &lt;script&gt;", `aria-label="Progress of &lt;script&gt;`, "Failed in stage 2 of 2: GENERALIZING"},
			[]string{hostile}},
		{"a problem",
			Page{Pipelines: dashboard.PipelinePage{Now: now, Pipelines: []dashboard.Pipeline{p}}, Problem: "store down: " + hostile},
			[]string{`role="alert">store down: &lt;script&gt;`, "Pipelines not listed", "Resources not listed"},
			[]string{hostile, "n-wsi-1"}},
		{"a hostile events URL",
			Page{Pipelines: dashboard.PipelinePage{Now: now}, Events: `/_wsim/events?account="><script>`},
			[]string{`<body data-events="/_wsim/events?account=&#34;&gt;&lt;script&gt;" data-version="`},
			[]string{`"><script>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Render(&b, tt.page); err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(b.String(), want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			for _, bad := range tt.notWant {
				if strings.Contains(b.String(), bad) {
					t.Errorf("the page contains %q", bad)
				}
			}
		})
	}
}

// TestPageIsItsParts checks that the page is put together from the parts
// the event stream sends, so that an update turns a page into the page it
// would be after a reload.
func TestPageIsItsParts(t *testing.T) {
	p := Page{
		Pipelines: dashboard.PipelinePage{Now: now, Pipelines: []dashboard.Pipeline{pipelineAt("wsi-1", "PENDING", 0), pipelineAt("wsi-2", "VALIDATING", 90)}, NextToken: "t"},
		Catalog:   dashboard.CatalogPage{Now: now, Resources: []dashboard.Resource{resource("image", "wsi-1", nil)}},
		Rules:     []pipeline.FaultRule{{ID: "r1", FailAt: "GENERALIZING", NamePattern: "doomed-*"}},
		Frozen:    true,
	}
	var b strings.Builder
	if err := Render(&b, p); err != nil {
		t.Fatal(err)
	}
	live, err := Snapshot(p)
	if err != nil {
		t.Fatal(err)
	}
	body := b.String()
	for _, id := range plainParts {
		if want := `id="` + id + `"`; !strings.Contains(body, want) {
			t.Errorf("the page has no element %s", want)
		}
		if !strings.Contains(body, ">"+live.HTML[id]+"</") {
			t.Errorf("the page does not hold part %s as rendered:\n%s", id, live.HTML[id])
		}
	}
	wantKeys := map[string][]string{
		PartPipelines: {"111122223333/us-east-1/wsi-1", "111122223333/us-east-1/wsi-2"},
		PartResources: {"image/111122223333/us-east-1/wsi-1"},
	}
	for id, keys := range wantKeys {
		var got []string
		for _, r := range live.Rows[id] {
			got = append(got, r.Key)
			if !strings.Contains(body, r.HTML) || !strings.Contains(r.HTML, `data-key="`+r.Key+`"`) {
				t.Errorf("row %s of %s is not on the page, or lacks its key", r.Key, id)
			}
		}
		if diff := cmp.Diff(keys, got); diff != "" {
			t.Errorf("rows of %s (-want +got):\n%s", id, diff)
		}
	}
	if !strings.Contains(live.HTML[PartClock], "frozen") || !strings.Contains(live.HTML[PartPipelinesMore], "Next page of pipelines") {
		t.Errorf("clock %q, more %q", live.HTML[PartClock], live.HTML[PartPipelinesMore])
	}
}

// TestSince checks what an update holds: everything the first time, then
// only the parts and rows that changed.
func TestSince(t *testing.T) {
	page := func(mod func(*Page)) Page {
		p := Page{
			Pipelines: dashboard.PipelinePage{Now: now, Pipelines: []dashboard.Pipeline{pipelineAt("wsi-2", "PENDING", 0), pipelineAt("wsi-1", "PENDING", 0)}},
			Catalog:   dashboard.CatalogPage{Now: now, Resources: []dashboard.Resource{resource("image", "wsi-2", nil), resource("image", "wsi-1", nil)}},
			Frozen:    true,
		}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	snap := func(p Page) Live {
		l, err := Snapshot(p)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	base := snap(page(nil))
	const k1, k2 = "111122223333/us-east-1/wsi-1", "111122223333/us-east-1/wsi-2"
	// brief is an update in brief: the plain parts and, per keyed part,
	// its keys and the keys of the rows sent.
	type brief struct {
		HTML    []string
		Keys    map[string][]string
		Changed map[string][]string
	}
	tests := []struct {
		name string
		prev *Live
		next Page
		want *brief // nil: no update
	}{
		{"first update: everything", nil, page(nil), &brief{
			HTML:    plainParts,
			Keys:    map[string][]string{PartPipelines: {k2, k1}, PartResources: {"image/" + k2, "image/" + k1}},
			Changed: map[string][]string{PartPipelines: {k1, k2}, PartResources: {"image/" + k1, "image/" + k2}},
		}},
		{"nothing changed", &base, page(nil), nil},
		{"the clock resumed", &base, page(func(p *Page) { p.Frozen = false }), &brief{HTML: []string{PartClock}}},
		{"one pipeline moved", &base, page(func(p *Page) { p.Pipelines.Pipelines[1] = pipelineAt("wsi-1", "VALIDATING", 90) }), &brief{
			Keys: map[string][]string{PartPipelines: {k2, k1}}, Changed: map[string][]string{PartPipelines: {k1}},
		}},
		{"a new pipeline, first", &base, page(func(p *Page) {
			p.Pipelines.Pipelines = append([]dashboard.Pipeline{pipelineAt("wsi-3", "PENDING", 0)}, p.Pipelines.Pipelines...)
		}), &brief{
			HTML: []string{PartPipelinesSummary},
			Keys: map[string][]string{PartPipelines: {"111122223333/us-east-1/wsi-3", k2, k1}}, Changed: map[string][]string{PartPipelines: {"111122223333/us-east-1/wsi-3"}},
		}},
		{"a resource gone", &base, page(func(p *Page) { p.Catalog.Resources = p.Catalog.Resources[:1] }), &brief{
			HTML: []string{PartResourcesSummary},
			Keys: map[string][]string{PartResources: {"image/" + k2}}, Changed: map[string][]string{},
		}},
		{"rows reordered", &base, page(func(p *Page) {
			ps := p.Pipelines.Pipelines
			ps[0], ps[1] = ps[1], ps[0]
		}), &brief{Keys: map[string][]string{PartPipelines: {k1, k2}}, Changed: map[string][]string{}}},
		{"everything gone", &base, page(func(p *Page) { p.Problem = "store down" }), &brief{
			HTML: []string{PartProblem, PartPipelinesSummary, PartResourcesSummary},
			Keys: map[string][]string{PartPipelines: {"none"}, PartResources: {"none"}}, Changed: map[string][]string{PartPipelines: {"none"}, PartResources: {"none"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, changed := snap(tt.next).Since(tt.prev)
			if tt.want == nil {
				if changed {
					t.Errorf("an update with nothing changed: %+v", u)
				}
				return
			}
			if !changed {
				t.Fatalf("no update")
			}
			got := brief{Keys: map[string][]string{}, Changed: map[string][]string{}}
			for id := range u.HTML {
				got.HTML = append(got.HTML, id)
			}
			for id, ru := range u.Rows {
				got.Keys[id] = ru.Keys
				got.Changed[id] = []string{}
				for k := range ru.Changed {
					got.Changed[id] = append(got.Changed[id], k)
				}
			}
			want := *tt.want
			if want.Keys == nil {
				want.Keys = map[string][]string{}
			}
			if want.Changed == nil {
				want.Changed = map[string][]string{}
			}
			for id := range want.Keys {
				if _, ok := want.Changed[id]; !ok {
					want.Changed[id] = []string{}
				}
			}
			sorted := cmp.Transformer("sort", func(in []string) []string { return slices.Sorted(slices.Values(in)) })
			if diff := cmp.Diff(want.HTML, got.HTML, sorted); diff != "" {
				t.Errorf("plain parts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.Keys, got.Keys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.Changed, got.Changed, sorted); diff != "" {
				t.Errorf("rows sent (-want +got):\n%s", diff)
			}
			// On the wire, a keyed part always has its keys, even none.
			b, _ := json.Marshal(u)
			for id := range u.Rows {
				if !strings.Contains(string(b), `"`+id+`":{"keys":[`) {
					t.Errorf("%s has no keys on the wire: %s", id, b)
				}
			}
		})
	}
}

// TestVersion checks that the page carries the Version of its parts, which
// changes exactly when they do.
func TestVersion(t *testing.T) {
	page := func(state string, frozen bool) Page {
		return Page{Pipelines: dashboard.PipelinePage{Now: now, Pipelines: []dashboard.Pipeline{pipelineAt("wsi-1", state, 10)}}, Frozen: frozen, Events: "/_wsim/events"}
	}
	version := func(p Page) string {
		l, err := Snapshot(p)
		if err != nil {
			t.Fatal(err)
		}
		return l.Version()
	}
	tests := []struct {
		name string
		a, b Page
		same bool
	}{
		{"the same page", page("PENDING", true), page("PENDING", true), true},
		{"a pipeline moved", page("PENDING", true), page("VALIDATING", true), false},
		{"the clock resumed", page("PENDING", true), page("PENDING", false), false},
		{"only the events URL differs", page("PENDING", true), func() Page { p := page("PENDING", true); p.Events = "/x"; return p }(), true},
	}
	for _, tt := range tests {
		if got := version(tt.a) == version(tt.b); got != tt.same {
			t.Errorf("%s: same version = %v, want %v", tt.name, got, tt.same)
		}
	}
	var b strings.Builder
	p := page("PENDING", true)
	if err := Render(&b, p); err != nil {
		t.Fatal(err)
	}
	if want := `data-version="` + version(p) + `"`; !strings.Contains(b.String(), want) {
		t.Errorf("the page lacks %s", want)
	}
}
