package app

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wsim/wsim/internal/pipeline"
)

// TestMetricsFollowTheService drives a composed endpoint step by step,
// through the API and the control plane, and scrapes its registry after
// each step: the gauges computed at scrape time follow the service clock,
// and the counters count what was asked.
func TestMetricsFollowTheService(t *testing.T) {
	real := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	profile, err := pipeline.LookupProfile(pipeline.ProfileQuick)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	a, err := New(context.Background(), Options{Store: "memory", Profile: profile, Now: func() time.Time { return real }, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h := a.Handler()
	const importBody = `{"ImageName":"%s","ImageDescription":"d","ComputeType":"BASE","Protocol":"DCV",` +
		`"ImageSource":{"Ec2ImageId":"ami-0123456789abcdef0"},` +
		`"InfrastructureConfigurationArn":"arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/x",` +
		`"Platform":"WINDOWS","OsVersion":"Windows_11"%s}`
	failTag := `,"Tags":[{"Key":"wsim:fail-at","Value":"GENERALIZING"}]`

	type series = map[string]float64 // `name{label="value",...}` → value; 0 is also "absent"
	steps := []struct {
		name           string
		method, path   string
		target, body   string
		status         int
		want           series
		absent         []string // series that must not be exposed
		labelsOfSeries string   // a metric whose series must be exactly want's
	}{
		{name: "nothing yet", want: series{
			`wsim_clock_frozen`: 0, `wsim_clock_offset_seconds`: 0, `wsim_resources_truncated`: 0, `wsim_resources_scrape_success`: 1,
			`wsim_control_actions_total{action="clock.freeze"}`: 0, `wsim_control_actions_total{action="reset"}`: 0,
			`wsim_store_errors_total{kind="unavailable"}`: 0, `wsim_store_errors_total{kind="internal"}`: 0,
		}, absent: []string{"wsim_resources", "wsim_resource_failures", "wsim_api_errors_total"}},
		{name: "freeze", method: "POST", path: "/_wsim/clock", body: `{"action":"freeze"}`, status: 200, want: series{
			`wsim_clock_frozen`: 1, `wsim_clock_offset_seconds`: 0, `wsim_control_actions_total{action="clock.freeze"}`: 1,
		}},
		{name: "an import starts", method: "POST", path: "/", target: "ImportCustomWorkspaceImage", body: fmt.Sprintf(importBody, "golden", ""), status: 200, want: series{
			`wsim_resources{kind="custom-import",state="PENDING"}`:                         1,
			`wsim_api_requests_total{operation="ImportCustomWorkspaceImage",status="200"}`: 1,
		}, labelsOfSeries: "wsim_resources"},
		{name: "another, scripted to fail", method: "POST", path: "/", target: "ImportCustomWorkspaceImage", body: fmt.Sprintf(importBody, "doomed", failTag), status: 200, want: series{
			`wsim_resources{kind="custom-import",state="PENDING"}`: 2,
		}, labelsOfSeries: "wsim_resources"},
		{name: "the clock moves on: one is in progress", method: "POST", path: "/_wsim/clock", body: `{"action":"advance","by":"3s"}`, status: 200, want: series{
			`wsim_resources{kind="custom-import",state="IN_PROGRESS"}`: 2,
			`wsim_clock_offset_seconds`:                                3,
			`wsim_control_actions_total{action="clock.advance"}`:       1,
		}, labelsOfSeries: "wsim_resources"},
		{name: "the clock moves past the end", method: "POST", path: "/_wsim/clock", body: `{"action":"advance","by":"1h"}`, status: 200, want: series{
			`wsim_resources{kind="custom-import",state="COMPLETED"}`:                    1,
			`wsim_resources{kind="custom-import",state="ERROR"}`:                        1,
			`wsim_resource_failures{code="AppXPackagesInstalled",kind="custom-import"}`: 1,
			`wsim_clock_offset_seconds`:                                                 3603,
			`wsim_control_actions_total{action="clock.advance"}`:                        2,
		}, labelsOfSeries: "wsim_resources"},
		{name: "an error is counted by code", method: "POST", path: "/", target: "DescribeCustomWorkspaceImageImport", body: `{"ImageId":"wsi-000000000"}`, status: 400, want: series{
			`wsim_api_errors_total{code="ResourceNotFoundException",operation="DescribeCustomWorkspaceImageImport"}`: 1,
		}, labelsOfSeries: "wsim_api_errors_total"},
		{name: "a refused clock change is not an action", method: "POST", path: "/_wsim/clock", body: `{"action":"advance","by":"-1h"}`, status: 400, want: series{
			`wsim_control_actions_total{action="clock.advance"}`: 2, `wsim_clock_offset_seconds`: 3603,
		}},
		{name: "a fault rule", method: "POST", path: "/_wsim/faults", body: `{"namePattern":"x-*","failAt":"VALIDATING"}`, status: 201, want: series{
			`wsim_control_actions_total{action="fault.add"}`: 1,
		}},
		{name: "fault rules cleared", method: "DELETE", path: "/_wsim/faults", status: 204, want: series{
			`wsim_control_actions_total{action="fault.delete"}`: 1, `wsim_control_actions_total{action="fault.add"}`: 1,
		}},
		{name: "resume: a resumed clock keeps its lead", method: "POST", path: "/_wsim/clock", body: `{"action":"resume"}`, status: 200, want: series{
			`wsim_clock_frozen`: 0, `wsim_clock_offset_seconds`: 3603, `wsim_control_actions_total{action="clock.resume"}`: 1,
		}},
		{name: "STS is counted as its operation", method: "POST", path: "/", body: "Action=GetCallerIdentity&Version=2011-06-15", status: 200, want: series{
			`wsim_api_requests_total{operation="GetCallerIdentity",status="200"}`: 1,
		}},
	}
	for _, st := range steps {
		if st.method != "" {
			r := httptest.NewRequest(st.method, "http://127.0.0.1:4599"+st.path, strings.NewReader(st.body))
			switch {
			case st.target != "":
				r.Header.Set("X-Amz-Target", "WorkspacesService."+st.target)
				r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			case st.path == "/":
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			default:
				r.Header.Set("Content-Type", "application/json")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != st.status {
				t.Fatalf("%s: %s %s = %d %s, want %d", st.name, st.method, st.path, w.Code, w.Body, st.status)
			}
		}
		got := scrape(t, reg)
		for k, v := range st.want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", st.name, k, got[k], v)
			}
		}
		for _, name := range st.absent {
			for k := range got {
				if k == name || strings.HasPrefix(k, name+"{") {
					t.Errorf("%s: %s is exposed, want it absent", st.name, k)
				}
			}
		}
		if st.labelsOfSeries != "" {
			only := maps.Clone(got)
			maps.DeleteFunc(only, func(k string, _ float64) bool { return !strings.HasPrefix(k, st.labelsOfSeries+"{") })
			wantOnly := maps.Clone(st.want)
			maps.DeleteFunc(wantOnly, func(k string, _ float64) bool { return !strings.HasPrefix(k, st.labelsOfSeries+"{") })
			if !maps.Equal(only, wantOnly) {
				t.Errorf("%s: %s series %v, want exactly %v", st.name, st.labelsOfSeries, only, wantOnly)
			}
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	// And /metrics serves them.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://localhost:4599/metrics", nil))
	for _, name := range []string{"wsim_resources{", "wsim_resource_failures{", "wsim_resources_truncated ", "wsim_clock_offset_seconds ",
		"wsim_clock_frozen ", "wsim_control_actions_total{", "wsim_api_errors_total{", "wsim_store_errors_total{"} {
		if !strings.Contains(w.Body.String(), "\n"+name) {
			t.Errorf("GET /metrics has no %s...:\n%s", name, w.Body)
		}
	}
}

// scrape gathers reg into `name{label="value",...}` → value, labels in
// name order as Prometheus sorts them.
func scrape(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			if len(m.GetLabel()) > 0 {
				var ls []string
				for _, lp := range m.GetLabel() {
					ls = append(ls, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
				}
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
