package loadgen

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Why a run stopped.
const (
	StoppedRequests = "requests" // the request cap was reached
	StoppedDuration = "duration" // the duration cap was reached
	StoppedCanceled = "canceled" // the caller's context ended
)

// Report is what a run measured. Latencies count from sending a request to
// reading the last byte of its response, signing excluded; throughput is
// completed requests over the wall time of the measured phase.
type Report struct {
	// Baseline is true for the do-nothing handler of Baseline.
	Baseline       bool           `json:"baseline"`
	Target         string         `json:"target"`
	Region         string         `json:"region"`
	Concurrency    int            `json:"concurrency"`
	RequestsCap    int            `json:"requests_cap"`
	DurationCap    time.Duration  `json:"-"`
	Mix            map[string]int `json:"mix"`
	AccountsPrefix string         `json:"accounts_prefix"`
	Started        time.Time      `json:"started"`
	// Stopped is StoppedRequests, StoppedDuration or StoppedCanceled.
	Stopped string `json:"stopped"`
	// Wall is the duration of the measured phase.
	Wall time.Duration `json:"-"`
	// Aborted counts requests cut short when the run's time was up; they are
	// in no other count.
	Aborted int `json:"aborted"`
	// Setup is the pool of imports made for describe-import, if any.
	Setup *OpStats `json:"setup,omitempty"`
	// Prefill is the imports of Config.Prefill, if any.
	Prefill *OpStats `json:"prefill,omitempty"`
	// Fixture is the requests that made the fixture account what the
	// list-* and describe-* operations read, if any.
	Fixture *OpStats `json:"fixture,omitempty"`
	// Ops has one entry per operation of the mix, by name.
	Ops   []OpStats `json:"ops"`
	Total OpStats   `json:"total"`
}

// OpStats are the counts and latencies of one operation, or of all.
type OpStats struct {
	Op string `json:"op"`
	// Requests counts completed requests: OK plus Failed.
	Requests int `json:"requests"`
	OK       int `json:"ok"`
	// Failed counts non-2xx answers and transport errors.
	Failed     int          `json:"failed"`
	Throughput float64      `json:"requests_per_second"`
	Latency    Latency      `json:"latency"`
	Errors     []ErrorCount `json:"errors,omitempty"`
}

// ErrorCount groups failed requests by HTTP status (0 for a transport
// error) and AWS error type.
type ErrorCount struct {
	Status  int    `json:"status"`
	Type    string `json:"type"`
	Count   int    `json:"count"`
	Example string `json:"example,omitempty"`
}

// Latency summarizes the latencies of completed requests, successful or
// not. Percentiles are exact (nearest rank over all samples).
type Latency struct {
	Min, Mean, P50, P90, P99, Max time.Duration
}

// MarshalJSON writes milliseconds, which is what people read.
func (l Latency) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return json.Marshal(struct {
		Min  float64 `json:"min_ms"`
		Mean float64 `json:"mean_ms"`
		P50  float64 `json:"p50_ms"`
		P90  float64 `json:"p90_ms"`
		P99  float64 `json:"p99_ms"`
		Max  float64 `json:"max_ms"`
	}{ms(l.Min), ms(l.Mean), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max)})
}

// MarshalJSON adds the durations in seconds.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		plain
		DurationCap float64 `json:"duration_cap_seconds"`
		Wall        float64 `json:"wall_seconds"`
	}{plain(r), r.DurationCap.Seconds(), r.Wall.Seconds()})
}

// rank returns the 1-based nearest rank of the p-th percentile (0 < p ≤ 100)
// of n samples: the smallest rank with at least p% of samples at or below it.
func rank(p float64, n int) int {
	// The epsilon keeps p*n/100 from rounding up past an exact integer.
	r := int(math.Ceil(p*float64(n)/100 - 1e-9))
	return max(1, min(r, n))
}

// percentile returns the nearest-rank p-th percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[rank(p, len(sorted))-1]
}

// summarize sorts samples in place and summarizes them.
func summarize(samples []time.Duration) Latency {
	slices.Sort(samples)
	return summarizeSorted([][]time.Duration{samples})
}

// summarizeSorted summarizes the union of sorted lists without copying them:
// it walks them in merged order up to the highest rank it needs.
func summarizeSorted(lists [][]time.Duration) Latency {
	n := 0
	var sum float64
	var l Latency
	first := true
	for _, s := range lists {
		if len(s) == 0 {
			continue
		}
		n += len(s)
		for _, d := range s {
			sum += float64(d)
		}
		if first || s[0] < l.Min {
			l.Min = s[0]
		}
		if first || s[len(s)-1] > l.Max {
			l.Max = s[len(s)-1]
		}
		first = false
	}
	if n == 0 {
		return Latency{}
	}
	l.Mean = time.Duration(sum / float64(n))
	ranks := [3]int{rank(50, n), rank(90, n), rank(99, n)}
	outs := [3]*time.Duration{&l.P50, &l.P90, &l.P99}
	idx := make([]int, len(lists))
	next := 0
	for i := 1; next < len(ranks); i++ {
		best := -1
		for j, s := range lists {
			if idx[j] < len(s) && (best < 0 || s[idx[j]] < lists[best][idx[best]]) {
				best = j
			}
		}
		v := lists[best][idx[best]]
		idx[best]++
		for next < len(ranks) && ranks[next] == i {
			*outs[next] = v
			next++
		}
	}
	return l
}

// recorder collects one worker's (or, merged, one phase's) samples. Each
// worker owns its recorders, so recording takes no lock.
type recorder struct {
	lat     []time.Duration
	ok      int
	aborted int
	errs    map[errKey]*ErrorCount
}

type errKey struct {
	status int
	typ    string
}

func newRecorder(capacity int) *recorder {
	return &recorder{lat: make([]time.Duration, 0, max(capacity, 0))}
}

func (r *recorder) add(res result) {
	r.lat = append(r.lat, res.latency)
	if res.ok() {
		r.ok++
		return
	}
	if r.errs == nil {
		r.errs = map[errKey]*ErrorCount{}
	}
	k := errKey{res.status, res.errType}
	e := r.errs[k]
	if e == nil {
		e = &ErrorCount{Status: res.status, Type: res.errType, Example: res.message}
		r.errs[k] = e
	}
	e.Count++
}

func (r *recorder) merge(o *recorder) {
	r.lat = append(r.lat, o.lat...)
	r.mergeCounts(o)
}

// mergeCounts merges everything but the samples.
func (r *recorder) mergeCounts(o *recorder) {
	r.ok += o.ok
	r.aborted += o.aborted
	for k, e := range o.errs {
		if r.errs == nil {
			r.errs = map[errKey]*ErrorCount{}
		}
		if mine := r.errs[k]; mine != nil {
			mine.Count += e.Count
		} else {
			c := *e
			r.errs[k] = &c
		}
	}
}

// stats sorts r's samples in place and summarizes them.
func (r *recorder) stats(op string, wall time.Duration) OpStats {
	s := OpStats{Op: op, Requests: len(r.lat), OK: r.ok, Failed: len(r.lat) - r.ok, Latency: summarize(r.lat)}
	if wall > 0 {
		s.Throughput = float64(s.Requests) / wall.Seconds()
	}
	for _, e := range r.errs {
		s.Errors = append(s.Errors, *e)
	}
	slices.SortFunc(s.Errors, func(a, b ErrorCount) int {
		return cmp.Or(b.Count-a.Count, a.Status-b.Status, strings.Compare(a.Type, b.Type))
	})
	return s
}

// String renders the report as a table per operation, a total line and the
// errors by operation, status and type.
func (r Report) String() string {
	var b strings.Builder
	kind := "target " + r.Target
	if r.Baseline {
		kind = "baseline (do-nothing handler at " + r.Target + ")"
	}
	fmt.Fprintf(&b, "%s  region %s  concurrency %d  mix %s  accounts %s*\n", kind, r.Region, r.Concurrency, mixString(r.Mix), r.AccountsPrefix)
	fmt.Fprintf(&b, "stopped by %s after %s (caps: %d requests, %s)", r.Stopped, r.Wall.Round(time.Millisecond), r.RequestsCap, r.DurationCap)
	if r.Aborted > 0 {
		fmt.Fprintf(&b, "; %d in-flight requests aborted", r.Aborted)
	}
	b.WriteString("\n")
	if r.Prefill != nil {
		fmt.Fprintf(&b, "prefill: %d imports, %d ok, %d failed, %.1f/s\n", r.Prefill.Requests, r.Prefill.OK, r.Prefill.Failed, r.Prefill.Throughput)
	}
	if r.Setup != nil {
		fmt.Fprintf(&b, "setup: %d pool imports, %d ok, %d failed\n", r.Setup.Requests, r.Setup.OK, r.Setup.Failed)
	}
	if r.Fixture != nil {
		fmt.Fprintf(&b, "fixture: %d requests, %d ok, %d failed\n", r.Fixture.Requests, r.Fixture.OK, r.Fixture.Failed)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\trequests\tok\tfailed\treq/s\tmean ms\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	row := func(s OpStats) {
		ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", s.Op, s.Requests, s.OK, s.Failed, s.Throughput,
			ms(s.Latency.Mean), ms(s.Latency.P50), ms(s.Latency.P90), ms(s.Latency.P99), ms(s.Latency.Max))
	}
	for _, s := range r.Ops {
		row(s)
	}
	row(r.Total)
	tw.Flush()

	var errs []string
	for _, s := range append(append(append(append([]OpStats{}, r.Ops...), derefOr(r.Prefill)...), derefOr(r.Setup)...), derefOr(r.Fixture)...) {
		for _, e := range s.Errors {
			line := fmt.Sprintf("  %-24s %3d  %-40s %8d", s.Op, e.Status, e.Type, e.Count)
			if e.Example != "" {
				line += "  e.g. " + truncate(e.Example, 100)
			}
			errs = append(errs, line)
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nerrors (operation, status, type, count):\n")
		b.WriteString(strings.Join(errs, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

func derefOr(s *OpStats) []OpStats {
	if s == nil {
		return nil
	}
	return []OpStats{*s}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// mixString renders a mix in report order: "describe-import=90,import=10".
func mixString(m map[string]int) string {
	var parts []string
	for _, op := range opNames {
		if w := m[op]; w > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", op, w))
		}
	}
	return strings.Join(parts, ",")
}
