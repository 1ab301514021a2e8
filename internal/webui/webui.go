// Package webui is wsim's dashboard: one HTML page, served by the control
// plane at /_wsim/, that shows every long-running operation of every account
// and Region with its progress and stage timeline, the service clock with
// buttons to move it, and the fault rules. The template is embedded, so the
// page works offline; html/template escapes everything it shows. A few lines
// of plain JavaScript reload the live part of the page every two seconds and
// post the clock buttons to /_wsim/clock; without JavaScript the page still
// shows everything and reloads on demand.
package webui

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
)

//go:embed dashboard.html
var files embed.FS

var page = template.Must(template.New("dashboard.html").Funcs(template.FuncMap{
	"kindLabel":  KindLabel,
	"phaseLabel": phaseLabel,
	"when":       when,
	"fullTime":   fullTime,
	"relative":   relative,
	"weight":     weight,
	"add":        func(a, b int) int { return a + b },
}).ParseFS(files, "dashboard.html"))

// Page is everything the dashboard shows.
type Page struct {
	// Pipelines is the page of pipelines to show, computed at Pipelines.Now.
	Pipelines dashboard.PipelinePage
	Filter    dashboard.PipelineFilter
	Frozen    bool
	Profile   string
	Rules     []pipeline.FaultRule
	// Problem, when set, is shown instead of the pipelines: a refused
	// filter or an unreachable store.
	Problem string
}

// Render writes the dashboard.
func Render(w io.Writer, p Page) error {
	return page.Execute(w, view{Page: p, Groups: groups(p.Pipelines.Pipelines)})
}

// view is what the template sees.
type view struct {
	Page
	Groups []group
}

// group is the pipelines of one account in one Region.
type group struct {
	Account, Region string
	Pipelines       []dashboard.Pipeline
}

// groups splits pipelines, which come ordered by account and Region, into
// one group per account and Region.
func groups(ps []dashboard.Pipeline) []group {
	var out []group
	for _, p := range ps {
		if n := len(out); n == 0 || out[n-1].Account != p.Account || out[n-1].Region != p.Region {
			out = append(out, group{Account: p.Account, Region: p.Region})
		}
		out[len(out)-1].Pipelines = append(out[len(out)-1].Pipelines, p)
	}
	return out
}

// Kinds lists the operation kinds with their labels, for the filter.
func (view) Kinds() []pipeline.Kind { return pipeline.Kinds() }

// Phases lists the phases the filter offers.
func (view) Phases() []string {
	return []string{dashboard.PhaseInFlight, dashboard.PhaseCompleted, dashboard.PhaseFailed}
}

// NextURL is the link to the next page, keeping the filter.
func (v view) NextURL() string {
	if v.Pipelines.NextToken == "" {
		return ""
	}
	q := url.Values{}
	for k, val := range map[string]string{
		"account": v.Filter.Account, "region": v.Filter.Region, "kind": string(v.Filter.Kind), "state": v.Filter.Phase,
	} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if v.Filter.Limit != 0 {
		q.Set("limit", strconv.Itoa(v.Filter.Limit))
	}
	q.Set("nextToken", v.Pipelines.NextToken)
	return "?" + q.Encode()
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

// relative says how far t is from now in words: "in 12s", "3m 5s ago".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d > 0:
		return "in " + short(d)
	default:
		return short(-d) + " ago"
	}
}

func short(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
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
