// Package webui is wsim's dashboard: one HTML page, served by the control
// plane at /_wsim/, that shows every long-running operation of every account
// and Region with its progress and stage timeline, the catalogue of every
// resource (images with their sharing, copies and tags, bundles, and any kind
// a resource package adds), the service clock with buttons to move it, and
// the fault rules, newest first.
//
// The page is cut into live parts (the clock, the summaries, the rows of
// each table, the rules), each rendered by its own template: Render puts
// them together into the page, and Snapshot returns them one by one, so
// that the control plane's event stream can push to an open page exactly
// the parts and rows that changed since it last did (Live.Since). The
// template and its few lines of plain JavaScript are embedded, so the page
// works offline; html/template escapes everything it shows. Without
// JavaScript the page still shows everything and reloads on demand.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
)

//go:embed dashboard.html
var files embed.FS

var page = template.Must(template.New("dashboard.html").Funcs(template.FuncMap{
	"kindLabel":     KindLabel,
	"phaseLabel":    phaseLabel,
	"stateClass":    stateClass,
	"relationLabel": relationLabel,
	"when":          when,
	"fullTime":      fullTime,
	"relative":      relative,
	"weight":        weight,
	"add":           func(a, b int) int { return a + b },
}).ParseFS(files, "dashboard.html"))

// Page is everything the dashboard shows.
type Page struct {
	// Pipelines is the page of pipelines to show, computed at Pipelines.Now.
	Pipelines dashboard.PipelinePage
	Filter    dashboard.PipelineFilter
	// Catalog is the page of resources to show, newest first.
	Catalog       dashboard.CatalogPage
	CatalogFilter dashboard.CatalogFilter
	// CatalogKinds are the kinds of resources the catalogue has, for the
	// filter.
	CatalogKinds []string
	Frozen       bool
	Profile      string
	Rules        []pipeline.FaultRule
	// Problem, when set, is shown instead of the pipelines and resources:
	// a refused filter or an unreachable store.
	Problem string
	// Events is the URL of the event stream that keeps the page live
	// (no live updates when empty).
	Events string
}

// Query is the dashboard's query string for the filters of p, without the
// page tokens: what a link to the same view, or the event stream of it,
// carries.
func (p Page) Query() url.Values {
	q := url.Values{}
	for k, val := range map[string]string{
		"account": p.Filter.Account, "region": p.Filter.Region, "kind": string(p.Filter.Kind), "state": p.Filter.Phase,
		"id": p.Filter.ID, "resourceKind": p.CatalogFilter.Kind,
	} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if p.Filter.Order != "" && p.Filter.Order != dashboard.OrderNewest {
		q.Set("order", p.Filter.Order)
	}
	if p.Filter.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Filter.Limit))
	}
	return q
}

// Render writes the dashboard.
func Render(w io.Writer, p Page) error {
	live, err := Snapshot(p)
	if err != nil {
		return err
	}
	return page.Execute(w, pageView{Page: p, live: live})
}

// pageView is what the page template sees: the page and its rendered parts.
type pageView struct {
	Page
	live Live
}

// Version is the Version of the page's parts.
func (v pageView) Version() string { return v.live.Version() }

// Part is the rendered HTML of a plain live part, for the page template.
func (v pageView) Part(id string) template.HTML { return template.HTML(v.live.HTML[id]) }

// Rows are the rendered rows of a keyed live part, for the page template.
func (v pageView) Rows(id string) []template.HTML {
	var out []template.HTML
	for _, r := range v.live.Rows[id] {
		out = append(out, template.HTML(r.HTML))
	}
	return out
}

// Kinds lists the operation kinds with their labels, for the filter.
func (pageView) Kinds() []pipeline.Kind { return pipeline.Kinds() }

// Phases lists the phases the filter offers.
func (pageView) Phases() []string {
	return []string{dashboard.PhaseInFlight, dashboard.PhaseCompleted, dashboard.PhaseFailed}
}

// The ids of the live parts: elements of the page whose inner HTML is a
// part (plain parts) or whose children are the rows of one (keyed parts).
const (
	PartClock            = "clock"
	PartProblem          = "problem"
	PartPipelinesSummary = "pipelines-summary"
	PartPipelines        = "pipelines"
	PartPipelinesMore    = "pipelines-more"
	PartResourcesSummary = "resources-summary"
	PartResources        = "resources"
	PartResourcesMore    = "resources-more"
	PartRules            = "rules"
)

// plainParts are the plain live parts, each rendered by the template of
// the same name from a partView.
var plainParts = []string{PartClock, PartProblem, PartPipelinesSummary, PartPipelinesMore, PartResourcesSummary, PartResourcesMore, PartRules}

// Row is one row of a keyed live part: a <tr data-key="Key">.
type Row struct {
	Key  string
	HTML string
}

// Live is the page cut into its live parts, rendered.
type Live struct {
	Now    time.Time
	Frozen bool
	// HTML is the inner HTML of each plain part, by id.
	HTML map[string]string
	// Rows are the rows of each keyed part, in order, by id.
	Rows map[string][]Row
}

// Snapshot renders the live parts of p.
func Snapshot(p Page) (Live, error) {
	v := partView{Page: p}
	l := Live{Now: p.Pipelines.Now, Frozen: p.Frozen, HTML: map[string]string{}, Rows: map[string][]Row{}}
	var buf bytes.Buffer
	render := func(name string, data any) (string, error) {
		buf.Reset()
		if err := page.ExecuteTemplate(&buf, name, data); err != nil {
			return "", fmt.Errorf("render the dashboard's %s: %w", name, err)
		}
		return buf.String(), nil
	}
	for _, id := range plainParts {
		html, err := render(id, v)
		if err != nil {
			return Live{}, err
		}
		l.HTML[id] = html
	}
	rows := func(id string, keys []string, rowTemplate string, data func(i int) any, none string) error {
		for i, key := range keys {
			html, err := render(rowTemplate, data(i))
			if err != nil {
				return err
			}
			l.Rows[id] = append(l.Rows[id], Row{Key: key, HTML: html})
		}
		if len(keys) == 0 {
			html, err := render(none, v)
			if err != nil {
				return err
			}
			l.Rows[id] = []Row{{Key: "none", HTML: html}}
		}
		return nil
	}
	ps, rs := p.shownPipelines(), p.shownResources()
	pkeys := make([]string, len(ps))
	for i, pl := range ps {
		pkeys[i] = PipelineKey(pl)
	}
	if err := rows(PartPipelines, pkeys, "pipelineRow", func(i int) any {
		return pipelineRow{Key: pkeys[i], P: ps[i], Now: p.Pipelines.Now, view: v}
	}, "pipelinesNone"); err != nil {
		return Live{}, err
	}
	rkeys := make([]string, len(rs))
	for i, r := range rs {
		rkeys[i] = ResourceKey(r)
	}
	if err := rows(PartResources, rkeys, "resourceRow", func(i int) any {
		return resourceRow{Key: rkeys[i], R: rs[i], Now: p.Pipelines.Now, view: v}
	}, "resourcesNone"); err != nil {
		return Live{}, err
	}
	return l, nil
}

func (p Page) shownPipelines() []dashboard.Pipeline {
	if p.Problem != "" {
		return nil
	}
	return p.Pipelines.Pipelines
}

func (p Page) shownResources() []dashboard.Resource {
	if p.Problem != "" {
		return nil
	}
	return p.Catalog.Resources
}

// PipelineKey is a pipeline's row key: account/Region/resource id.
func PipelineKey(p dashboard.Pipeline) string { return p.Account + "/" + p.Region + "/" + p.ResourceID }

// ResourceKey is a resource's row key: kind/account/Region/id.
func ResourceKey(r dashboard.Resource) string {
	return r.Kind + "/" + r.Account + "/" + r.Region + "/" + r.ID
}

// Update is what changed between two Lives, as the event stream sends it.
type Update struct {
	// Now is the service time of the newer Live.
	Now    time.Time `json:"now"`
	Frozen bool      `json:"frozen"`
	// HTML is the new inner HTML of each plain part that changed, by id.
	HTML map[string]string `json:"html,omitempty"`
	// Rows are the keyed parts that changed, by id.
	Rows map[string]RowsUpdate `json:"rows,omitempty"`
}

// RowsUpdate is the change of a keyed part.
type RowsUpdate struct {
	// Keys are the keys of every row the part now has, in order.
	Keys []string `json:"keys"`
	// Changed holds the HTML of the rows, by key, that are new or differ;
	// the others are kept as they are.
	Changed map[string]string `json:"changed,omitempty"`
}

// Since returns what changed from prev to l (everything when prev is nil),
// and whether anything did.
func (l Live) Since(prev *Live) (Update, bool) {
	u := Update{Now: l.Now, Frozen: l.Frozen}
	for id, html := range l.HTML {
		if old, ok := prev.html(id); !ok || old != html {
			if u.HTML == nil {
				u.HTML = map[string]string{}
			}
			u.HTML[id] = html
		}
	}
	for id, rows := range l.Rows {
		var old []Row
		if prev != nil {
			old = prev.Rows[id]
		}
		oldHTML := make(map[string]string, len(old))
		for _, r := range old {
			oldHTML[r.Key] = r.HTML
		}
		ru := RowsUpdate{Keys: make([]string, len(rows))}
		same := prev != nil && len(old) == len(rows)
		for i, r := range rows {
			ru.Keys[i] = r.Key
			if h, ok := oldHTML[r.Key]; !ok || h != r.HTML {
				if ru.Changed == nil {
					ru.Changed = map[string]string{}
				}
				ru.Changed[r.Key] = r.HTML
			}
			if same && old[i].Key != r.Key {
				same = false
			}
		}
		if same && ru.Changed == nil {
			continue
		}
		if u.Rows == nil {
			u.Rows = map[string]RowsUpdate{}
		}
		u.Rows[id] = ru
	}
	return u, u.HTML != nil || u.Rows != nil
}

// Version identifies the parts and rows of l: two Lives with the same
// Version look the same. The page carries the Version it was drawn with, so
// that its event stream need not send it all again.
func (l Live) Version() string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	for _, id := range slices.Sorted(maps.Keys(l.HTML)) {
		field(id)
		field(l.HTML[id])
	}
	for _, id := range slices.Sorted(maps.Keys(l.Rows)) {
		field(id)
		fmt.Fprintf(h, "%d;", len(l.Rows[id]))
		for _, r := range l.Rows[id] {
			field(r.Key)
			field(r.HTML)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func (l *Live) html(id string) (string, bool) {
	if l == nil {
		return "", false
	}
	h, ok := l.HTML[id]
	return h, ok
}

// partView is what the part templates see.
type partView struct {
	Page
}

// Now is the service time the page is computed at.
func (v partView) Now() time.Time { return v.Pipelines.Now }

// NextURL is the link to the next page of pipelines, keeping the filter and
// the page of resources.
func (v partView) NextURL() string {
	if v.Pipelines.NextToken == "" {
		return ""
	}
	q := v.Query()
	q.Set("nextToken", v.Pipelines.NextToken)
	if v.CatalogFilter.NextToken != "" {
		q.Set("resourceNextToken", v.CatalogFilter.NextToken)
	}
	return "?" + q.Encode()
}

// ResourcesNextURL is the link to the next page of resources, keeping the
// filter and the page of pipelines.
func (v partView) ResourcesNextURL() string {
	if v.Catalog.NextToken == "" {
		return ""
	}
	q := v.Query()
	if v.Filter.NextToken != "" {
		q.Set("nextToken", v.Filter.NextToken)
	}
	q.Set("resourceNextToken", v.Catalog.NextToken)
	return "?" + q.Encode()
}

// ScopeURL links to the same view narrowed to an account, or to an account
// and Region (region may be empty), from the first page.
func (v partView) ScopeURL(account, region string) string {
	q := v.Query()
	q.Set("account", account)
	q.Del("id")
	q.Del("region")
	if region != "" {
		q.Set("region", region)
	}
	return "?" + q.Encode()
}

// pipelineRow is what the template of a pipeline's row sees.
type pipelineRow struct {
	Key  string
	P    dashboard.Pipeline
	Now  time.Time
	view partView
}

func (r pipelineRow) ScopeURL(account, region string) string { return r.view.ScopeURL(account, region) }

// resourceRow is what the template of a resource's row sees.
type resourceRow struct {
	Key  string
	R    dashboard.Resource
	Now  time.Time
	view partView
}

func (r resourceRow) ScopeURL(account, region string) string { return r.view.ScopeURL(account, region) }

// Relations are the resource's relations with their labels, for the row.
func (r resourceRow) Relations() []relationView {
	out := make([]relationView, 0, len(r.R.Relations))
	for _, rel := range r.R.Relations {
		out = append(out, relationView{Relation: rel, Label: relationLabel(rel.Type)})
	}
	return out
}

// relationView is a relation with its label.
type relationView struct {
	dashboard.Relation
	Label string
}

// Attributes are the resource's attributes in key order.
func (r resourceRow) Attributes() [][2]string { return sortedPairs(r.R.Attributes) }

// Tags are the resource's tags in key order.
func (r resourceRow) Tags() [][2]string { return sortedPairs(r.R.Tags) }

func sortedPairs(m map[string]string) [][2]string {
	out := make([][2]string, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// KindLabel names an operation kind for people, as its lifecycle declares.
func KindLabel(k pipeline.Kind) string { return k.Label() }

func phaseLabel(phase string) string {
	switch phase {
	case dashboard.PhaseInFlight:
		return "in flight"
	case dashboard.PhaseCompleted:
		return "completed"
	case dashboard.PhaseFailed:
		return "failed"
	}
	return phase
}

// stateClass colours a resource's state by what its name says, for any
// kind: failed, completed (available) or in flight. The state is always
// written out too.
func stateClass(state string) string {
	s := strings.ToUpper(state)
	switch {
	case s == "":
		return ""
	case strings.Contains(s, "ERROR"), strings.Contains(s, "FAIL"), strings.Contains(s, "UNHEALTHY"):
		return dashboard.PhaseFailed
	case s == "AVAILABLE", s == "COMPLETED", s == "ACTIVE", s == "RUNNING", s == "SUCCEEDED":
		return dashboard.PhaseCompleted
	}
	return dashboard.PhaseInFlight
}

// relationLabel names a relation type for people: "copy-of" is "copy of".
func relationLabel(t string) string { return strings.ReplaceAll(t, "-", " ") }

// when is a time of day, the part that changes while people watch, with
// the date when it is not the day of now.
func when(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04:05")
}

// fullTime is an unambiguous time, for titles and the clock.
func fullTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// relative says how far t is from now in words: "in 3m", "2h 30m ago",
// "under a minute ago", in whole minutes rounded down. It changes at most
// once a minute as the clock runs (the time of day beside it has the
// seconds), so that a row's HTML changes only when the operation moves, and
// the event stream sends it that rarely.
func relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d >= time.Minute:
		return "in " + coarse(d)
	case d > 0:
		return "in under a minute"
	case d > -time.Minute:
		return "under a minute ago"
	default:
		return coarse(-d) + " ago"
	}
}

// coarse is d in whole minutes, hours and minutes, or days, rounded down.
func coarse(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours())/24)
}

// weight is a stage's share of its timeline bar, as a flex-grow factor; a
// timeline of instant stages gets equal shares.
func weight(st dashboard.PipelineStage, all []dashboard.PipelineStage) float64 {
	var total float64
	for _, s := range all {
		total += s.DurationSeconds
	}
	if total <= 0 {
		return 1
	}
	return float64(int(1000*st.DurationSeconds/total)) / 10
}
