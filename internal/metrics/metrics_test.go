package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/metrics"
	"github.com/wsim/wsim/internal/pipeline"
)

// fakePipelines pages through ps as the read model does, counting pages.
type fakePipelines struct {
	ps    []dashboard.Pipeline
	pages int
	err   error
	block bool // wait for the context to end
}

func (f *fakePipelines) list(ctx context.Context, flt dashboard.PipelineFilter) (dashboard.PipelinePage, error) {
	f.pages++
	if f.block {
		<-ctx.Done()
		return dashboard.PipelinePage{}, fmt.Errorf("list: %w", ctx.Err())
	}
	if f.err != nil {
		return dashboard.PipelinePage{}, f.err
	}
	if flt.Limit < 1 || flt.Limit > dashboard.MaxPipelineLimit {
		return dashboard.PipelinePage{}, fmt.Errorf("limit %d", flt.Limit)
	}
	start := 0
	if flt.NextToken != "" {
		fmt.Sscan(flt.NextToken, &start)
	}
	end := min(start+flt.Limit, len(f.ps))
	page := dashboard.PipelinePage{Pipelines: f.ps[start:end]}
	if end < len(f.ps) {
		page.NextToken = fmt.Sprint(end)
	}
	return page, nil
}

func pipelines(n int, kind pipeline.Kind, state, phase, code string) []dashboard.Pipeline {
	out := make([]dashboard.Pipeline, n)
	for i := range out {
		out[i] = dashboard.Pipeline{Kind: kind, State: state, Phase: phase}
		if code != "" {
			out[i].Error = &dashboard.PipelineError{Code: code, Message: "failed"}
		}
	}
	return out
}

func concat(parts ...[]dashboard.Pipeline) []dashboard.Pipeline {
	var out []dashboard.Pipeline
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestCollector(t *testing.T) {
	mixed := concat(
		pipelines(3, pipeline.KindCustomImport, "GENERALIZING", dashboard.PhaseInFlight, ""),
		pipelines(2, pipeline.KindCustomImport, "COMPLETED", dashboard.PhaseCompleted, ""),
		pipelines(2, pipeline.KindCustomImport, "ERROR", dashboard.PhaseFailed, "InvalidImageSource"),
		pipelines(1, pipeline.KindCustomImport, "ERROR", dashboard.PhaseFailed, "InternalServerError"),
		pipelines(1, pipeline.KindCopy, "PENDING", dashboard.PhaseInFlight, ""),
		pipelines(1, pipeline.KindAccountModification, "FAILED", dashboard.PhaseFailed, "InvalidParameterValuesException"),
	)
	tests := []struct {
		name       string
		src        *fakePipelines
		clock      metrics.ClockReading
		clockErr   error
		maxRecords int
		want       string
		wantPages  int
	}{
		{
			name: "empty store, clock running at real time", src: &fakePipelines{},
			want: `
wsim_clock_frozen 0
wsim_clock_offset_seconds 0
wsim_resources_scrape_success 1
wsim_resources_truncated 0
`, wantPages: 1,
		},
		{
			name: "by kind and state, failures by code", src: &fakePipelines{ps: mixed},
			clock: metrics.ClockReading{Frozen: true, Offset: -90 * time.Second},
			want: `
wsim_clock_frozen 1
wsim_clock_offset_seconds -90
wsim_resource_failures{code="InternalServerError",kind="custom-import"} 1
wsim_resource_failures{code="InvalidImageSource",kind="custom-import"} 2
wsim_resource_failures{code="InvalidParameterValuesException",kind="account-modification"} 1
wsim_resources{kind="account-modification",state="FAILED"} 1
wsim_resources{kind="copy",state="PENDING"} 1
wsim_resources{kind="custom-import",state="COMPLETED"} 2
wsim_resources{kind="custom-import",state="ERROR"} 3
wsim_resources{kind="custom-import",state="GENERALIZING"} 3
wsim_resources_scrape_success 1
wsim_resources_truncated 0
`, wantPages: 1,
		},
		{
			name:  "pages up to the cap, then says it is truncated",
			src:   &fakePipelines{ps: pipelines(2500, pipeline.KindCustomImport, "COMPLETED", dashboard.PhaseCompleted, "")},
			clock: metrics.ClockReading{Offset: 45 * time.Minute}, maxRecords: 2200,
			want: `
wsim_clock_frozen 0
wsim_clock_offset_seconds 2700
wsim_resources{kind="custom-import",state="COMPLETED"} 2200
wsim_resources_scrape_success 1
wsim_resources_truncated 1
`, wantPages: 3,
		},
		{
			name: "exactly the cap is not truncated",
			src:  &fakePipelines{ps: pipelines(2000, pipeline.KindCopy, "AVAILABLE", dashboard.PhaseCompleted, "")}, maxRecords: 2000,
			want: `
wsim_clock_frozen 0
wsim_clock_offset_seconds 0
wsim_resources{kind="copy",state="AVAILABLE"} 2000
wsim_resources_scrape_success 1
wsim_resources_truncated 0
`, wantPages: 2,
		},
		{
			name: "a failing store: no resource gauges, scrape_success 0", src: &fakePipelines{err: errors.New("store unavailable")},
			clockErr: errors.New("store unavailable"),
			want: `
wsim_resources_scrape_success 0
`, wantPages: 1,
		},
		{
			name: "a store too slow: the scrape's timeout ends the listing", src: &fakePipelines{block: true},
			want: `
wsim_clock_frozen 0
wsim_clock_offset_seconds 0
wsim_resources_scrape_success 0
`, wantPages: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := metrics.NewCollector(metrics.Config{
				Pipelines: tt.src.list,
				Clock: func(context.Context) (metrics.ClockReading, error) {
					return tt.clock, tt.clockErr
				},
				MaxRecords: tt.maxRecords,
				Timeout:    50 * time.Millisecond,
			})
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(c)
			if got, want := samples(t, reg), strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("scraped:\n%s\nwant:\n%s", got, want)
			}
			if tt.src.pages != tt.wantPages {
				t.Errorf("%d pages read, want %d", tt.src.pages, tt.wantPages)
			}
			if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %v", problems, err)
			}
		})
	}
}

// samples renders every series of reg as `name{label="value",...} value`,
// one a line, in the registry's order (by name, then labels).
func samples(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			b.WriteString(mf.GetName())
			if len(m.GetLabel()) > 0 {
				var ls []string
				for _, lp := range m.GetLabel() {
					ls = append(ls, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
				}
				b.WriteString("{" + strings.Join(ls, ",") + "}")
			}
			v := m.GetGauge().GetValue()
			if m.GetCounter() != nil {
				v = m.GetCounter().GetValue()
			}
			fmt.Fprintf(&b, " %g\n", v)
		}
	}
	return b.String()
}

func TestControlActions(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	count := metrics.ControlActions(reg, "clock.freeze", "reset")
	count("clock.freeze")
	count("clock.freeze")
	count("fault.add")
	want := `
# HELP wsim_control_actions_total Control-plane actions that took effect (clock changes, fault rules added and deleted, resets), by action.
# TYPE wsim_control_actions_total counter
wsim_control_actions_total{action="clock.freeze"} 2
wsim_control_actions_total{action="fault.add"} 1
wsim_control_actions_total{action="reset"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
