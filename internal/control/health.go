package control

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// About is what the health check says about the wsim it serves, beyond what
// the service knows itself.
type About struct {
	// Version is wsim's version.
	Version string
	// Store says in words which store wsim uses, without passwords
	// (store.Describe).
	Store string
}

// WithAbout gives the health check wsim's version and store description.
func WithAbout(a About) Option {
	return func(h *Handler) { h.about = a }
}

// HealthWriteTimeout bounds the write the health check probes the store
// with.
const HealthWriteTimeout = 2 * time.Second

// healthView is the answer of GET /_wsim/health.
type healthView struct {
	// Status is "ok", or "degraded" (with HTTP 503) when the store does not
	// take writes or the clock cannot be read; Reason then says why.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Version is wsim's version.
	Version string `json:"version"`
	// Store says which store wsim uses; StoreWritable whether a write to
	// it just succeeded.
	Store         string `json:"store"`
	StoreWritable bool   `json:"storeWritable"`
	// Profile is the name of the timing profile, StageOverrides the stage
	// durations --stage-duration changed (Go durations, by stage).
	Profile        string            `json:"profile"`
	StageOverrides map[string]string `json:"stageOverrides"`
	// BYOL is how accounts start: friendly or strict.
	BYOL string `json:"byol"`
	// Directories is how wsim stands in for Directory Service: friendly or
	// strict.
	Directories string `json:"directories"`
	// Clock is the service clock as GET /_wsim/clock shows it; absent when
	// it cannot be read.
	Clock *clockView `json:"clock,omitempty"`
}

// health serves GET /_wsim/health: what wsim runs, and whether its store
// takes writes, probed with a real one.
func (h *Handler) health(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := h.svc.Profile()
	v := healthView{
		Status: "ok", Version: h.about.Version, Store: h.about.Store,
		Profile: p.Name, StageOverrides: map[string]string{}, BYOL: string(h.svc.BYOL()),
		Directories: string(h.svc.Records().DirectoryMode()),
	}
	for stage, d := range p.Overrides() {
		v.StageOverrides[stage] = d.String()
	}
	var problems []string
	if err := h.svc.ProbeWrite(ctx, HealthWriteTimeout); err != nil {
		problems = append(problems, fmt.Sprintf("the store does not take writes: %v", err))
	} else {
		v.StoreWritable = true
	}
	// The clock is a store read too: bounded like the probe, so that a
	// hung store makes the health check say degraded in seconds.
	cctx, cancel := context.WithTimeout(ctx, HealthWriteTimeout)
	defer cancel()
	if s, err := h.svc.Clock().State(cctx); err != nil {
		problems = append(problems, fmt.Sprintf("the service clock cannot be read: %v", err))
	} else {
		c := newClockView(h.svc.Clock().Read(s))
		v.Clock = &c
	}
	status := http.StatusOK
	if len(problems) > 0 {
		v.Status, status, v.Reason = "degraded", http.StatusServiceUnavailable, strings.Join(problems, "; ")
	}
	return writeJSON(w, status, v)
}
