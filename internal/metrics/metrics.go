// Package metrics holds wsim's Prometheus series that are not the HTTP
// edge's own (those are in package server): the state of the service,
// computed at scrape time, and the control-plane actions.
//
// The Collector reads the dashboard's read model of every long-running
// operation, page by page, at the service time, so that the gauges follow
// the service clock exactly as the API and the dashboard do: advance the
// clock and the next scrape shows the imports that finished. Its work is
// capped (MaxRecords, Timeout) so that a scrape of a large store stays cheap
// and a slow store cannot hang it.
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsim/wsim/internal/dashboard"
)

// Defaults of Config.MaxRecords and Config.Timeout.
const (
	DefaultMaxRecords = 10000
	DefaultTimeout    = 2 * time.Second
)

// ClockReading is what the collector shows of the service clock.
type ClockReading struct {
	Frozen bool
	// Offset is the service time minus real time: how far the service
	// clock is ahead (negative: behind), frozen or not.
	Offset time.Duration
}

// Config is what a Collector reads.
type Config struct {
	// Pipelines lists a page of the read model (service.Service.Pipelines).
	Pipelines func(ctx context.Context, f dashboard.PipelineFilter) (dashboard.PipelinePage, error)
	// Clock reads the service clock.
	Clock func(ctx context.Context) (ClockReading, error)
	// MaxRecords caps the pipelines one scrape reads (DefaultMaxRecords
	// when 0); past it, wsim_resources_truncated is 1.
	MaxRecords int
	// Timeout bounds one scrape's reading (DefaultTimeout when 0).
	Timeout time.Duration
	// Logger receives why a scrape could not read the service (discarded
	// when nil).
	Logger *slog.Logger
}

// Collector is the prometheus.Collector of the service's state.
type Collector struct {
	cfg Config

	resources, failures, truncated, scrapeOK, offset, frozen *prometheus.Desc
}

// NewCollector returns the collector over cfg.
func NewCollector(cfg Config) *Collector {
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = DefaultMaxRecords
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Collector{
		cfg: cfg,
		resources: prometheus.NewDesc("wsim_resources",
			"Long-running resources (imports, copies, updates, account modifications) by kind and state, at the service time.",
			[]string{"kind", "state"}, nil),
		failures: prometheus.NewDesc("wsim_resource_failures",
			"Long-running resources that failed, by kind and error code, at the service time.",
			[]string{"kind", "code"}, nil),
		truncated: prometheus.NewDesc("wsim_resources_truncated",
			"1 when wsim_resources and wsim_resource_failures count only the first records of the store (the scrape's cap), else 0.",
			nil, nil),
		scrapeOK: prometheus.NewDesc("wsim_resources_scrape_success",
			"1 when the last scrape read the resources, 0 when the store failed or was too slow (the resource gauges are then absent).",
			nil, nil),
		offset: prometheus.NewDesc("wsim_clock_offset_seconds",
			"The service time minus real time, in seconds: positive when the service clock is ahead; a frozen clock falls behind.",
			nil, nil),
		frozen: prometheus.NewDesc("wsim_clock_frozen",
			"1 when the service clock is frozen, else 0.",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.resources, c.failures, c.truncated, c.scrapeOK, c.offset, c.frozen} {
		ch <- d
	}
}

type kindState struct{ kind, state string }

// Collect implements prometheus.Collector: it reads the clock and up to
// MaxRecords pipelines within Timeout.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	if r, err := c.cfg.Clock(ctx); err != nil {
		c.cfg.Logger.Warn("metrics: cannot read the service clock", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.offset, prometheus.GaugeValue, r.Offset.Seconds())
		ch <- prometheus.MustNewConstMetric(c.frozen, prometheus.GaugeValue, boolValue(r.Frozen))
	}

	states, failures, truncated, err := c.count(ctx)
	if err != nil {
		c.cfg.Logger.Warn("metrics: cannot list the resources", "err", err)
		ch <- prometheus.MustNewConstMetric(c.scrapeOK, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeOK, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.truncated, prometheus.GaugeValue, boolValue(truncated))
	for k, n := range states {
		ch <- prometheus.MustNewConstMetric(c.resources, prometheus.GaugeValue, float64(n), k.kind, k.state)
	}
	for k, n := range failures {
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(n), k.kind, k.state)
	}
}

// count reads the pipelines page by page, up to MaxRecords, and counts them
// by kind and state, and the failed ones by kind and error code.
func (c *Collector) count(ctx context.Context) (states, failures map[kindState]int, truncated bool, err error) {
	states, failures = map[kindState]int{}, map[kindState]int{}
	seen := 0
	f := dashboard.PipelineFilter{}
	for {
		f.Limit = min(dashboard.MaxPipelineLimit, c.cfg.MaxRecords-seen)
		page, err := c.cfg.Pipelines(ctx, f)
		if err != nil {
			return nil, nil, false, err
		}
		for _, p := range page.Pipelines {
			states[kindState{string(p.Kind), p.State}]++
			if p.Phase == dashboard.PhaseFailed {
				code := ""
				if p.Error != nil {
					code = p.Error.Code
				}
				failures[kindState{string(p.Kind), code}]++
			}
		}
		seen += len(page.Pipelines)
		if page.NextToken == "" {
			return states, failures, false, nil
		}
		if seen >= c.cfg.MaxRecords {
			return states, failures, true, nil
		}
		f.NextToken = page.NextToken
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ControlActions is wsim_control_actions_total{action}: the control-plane
// actions that took effect. actions are shown at 0 from the start.
func ControlActions(reg prometheus.Registerer, actions ...string) func(action string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsim_control_actions_total",
		Help: "Control-plane actions that took effect (clock changes, fault rules added and deleted, resets), by action.",
	}, []string{"action"})
	for _, a := range actions {
		c.WithLabelValues(a)
	}
	reg.MustRegister(c)
	return func(action string) { c.WithLabelValues(action).Inc() }
}
