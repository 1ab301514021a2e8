package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRelative(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "now"},
		{400 * time.Millisecond, "now"},
		{12 * time.Second, "in 12s"},
		{-12 * time.Second, "12s ago"},
		{3*time.Minute + 5*time.Second, "in 3m 5s"},
		{-(2*time.Hour + 30*time.Minute), "2h 30m ago"},
		{30 * 24 * time.Hour, "in 30d"},
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

func TestGroupsAndWeights(t *testing.T) {
	ps := []dashboard.Pipeline{
		{Account: "1", Region: "a", Name: "x"}, {Account: "1", Region: "a", Name: "y"},
		{Account: "1", Region: "b", Name: "z"}, {Account: "2", Region: "a", Name: "w"},
	}
	var got []string
	for _, g := range groups(ps) {
		got = append(got, g.Account+"/"+g.Region+":"+strings.Repeat("*", len(g.Pipelines)))
	}
	if diff := cmp.Diff([]string{"1/a:**", "1/b:*", "2/a:*"}, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}

	stages := []dashboard.PipelineStage{{DurationSeconds: 1}, {DurationSeconds: 3}}
	if a, b := weight(stages[0], stages), weight(stages[1], stages); a != 25 || b != 75 {
		t.Errorf("weights %v, %v; want 25, 75", a, b)
	}
	instant := []dashboard.PipelineStage{{}, {}}
	if w := weight(instant[0], instant); w != 1 {
		t.Errorf("weight of an instant stage = %v, want 1", w)
	}
}

func TestNextURLKeepsTheFilter(t *testing.T) {
	v := view{Page: Page{
		Filter:    dashboard.PipelineFilter{Account: "111122223333", Kind: pipeline.KindCopy, Limit: 5},
		Pipelines: dashboard.PipelinePage{NextToken: "tok&en"},
	}}
	if got, want := v.NextURL(), "?account=111122223333&kind=copy&limit=5&nextToken=tok%26en"; got != want {
		t.Errorf("NextURL = %q, want %q", got, want)
	}
	v.Pipelines.NextToken = ""
	if got := v.NextURL(); got != "" {
		t.Errorf("NextURL of a last page = %q", got)
	}
}

// TestRenderEmpty checks the page renders without any pipeline or rule.
func TestRenderEmpty(t *testing.T) {
	var b strings.Builder
	if err := Render(&b, Page{Pipelines: dashboard.PipelinePage{Now: now}, Profile: "quick"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"No pipelines match", "No fault rules", "2026-03-01 12:00:00 UTC", "running"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("empty dashboard lacks %q", want)
		}
	}
}
