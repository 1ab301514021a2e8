// Package control is wsim's own control plane, served under /_wsim/ on the
// API port: the service clock, server-side fault rules, the list of every
// pipeline and a health check, as plain JSON over HTTP so that any test
// harness can drive them, and the dashboard (package webui) for people.
package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strconv"
	"time"

	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/webui"
)

// Handler serves /_wsim/.
type Handler struct {
	svc *service.Service
	mux *http.ServeMux
}

// handlerFunc is a control endpoint: it writes its answer, or returns the
// error that errorStatus turns into a status and a JSON error body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		writeError(w, errorStatus(err), err)
	}
}

// statusError gives an error the status it is answered with.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func badRequest(err error) error { return &statusError{http.StatusBadRequest, err} }

// errorStatus maps the errors of the control plane to statuses: refusals
// are the caller's mistake (400, 404); anything else is the store failing,
// which the caller may retry (503).
func errorStatus(err error) int {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.status
	case errors.Is(err, dashboard.ErrInvalidFilter), errors.Is(err, kit.ErrInvalidRule), errors.Is(err, clock.ErrBackwards):
		return http.StatusBadRequest
	case errors.Is(err, kit.ErrNoSuchRule):
		return http.StatusNotFound
	}
	return http.StatusServiceUnavailable
}

// New returns the control plane of svc.
func New(svc *service.Service) *Handler {
	h := &Handler{svc: svc, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /_wsim/{$}", h.dashboard)
	for pattern, f := range map[string]handlerFunc{
		"GET /_wsim/pipelines":      h.pipelines,
		"GET /_wsim/resources":      h.resources,
		"GET /_wsim/health":         h.health,
		"GET /_wsim/clock":          h.getClock,
		"POST /_wsim/clock":         h.changeClock,
		"GET /_wsim/faults":         h.listFaults,
		"POST /_wsim/faults":        h.addFault,
		"DELETE /_wsim/faults":      h.deleteFault,
		"DELETE /_wsim/faults/{id}": h.deleteFault,
		"/_wsim/": func(_ http.ResponseWriter, r *http.Request) error {
			return &statusError{http.StatusNotFound, fmt.Errorf("no control endpoint %s %s", r.Method, r.URL.Path)}
		},
	} {
		h.mux.Handle(pattern, f)
	}
	// Go's profiler, for measuring wsim under load (docs/performance.md).
	h.mux.HandleFunc("GET /_wsim/debug/pprof/", pprof.Index)
	h.mux.HandleFunc("GET /_wsim/debug/pprof/profile", pprof.Profile)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
	return nil
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// readJSON decodes a small JSON request body, refusing unknown fields so that
// a typo never silently does nothing.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return badRequest(fmt.Errorf("invalid JSON body: %w", err))
	}
	return nil
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Store().Ping(r.Context()); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "profile": h.svc.Profile().Name})
}

// clockView is the clock as the control plane shows it.
type clockView struct {
	Now       time.Time `json:"now"`
	Epoch     float64   `json:"epoch"`
	Frozen    bool      `json:"frozen"`
	OffsetSec float64   `json:"offsetSeconds"`
}

func (h *Handler) viewClock(w http.ResponseWriter, s clock.State) error {
	now := h.svc.Clock().TimeIn(s)
	return writeJSON(w, http.StatusOK, clockView{
		Now: now, Epoch: float64(now.UnixMilli()) / 1000, Frozen: s.Frozen, OffsetSec: s.Offset.Seconds(),
	})
}

func (h *Handler) getClock(w http.ResponseWriter, r *http.Request) error {
	s, err := h.svc.Clock().State(r.Context())
	if err != nil {
		return err
	}
	return h.viewClock(w, s)
}

// clockChange is the body of POST /_wsim/clock.
type clockChange struct {
	// Action is freeze, resume, advance, set or reset.
	Action string `json:"action"`
	// By is how far advance moves the clock, a Go duration ("90m", "2h30m").
	By string `json:"by,omitempty"`
	// To is the RFC 3339 time set moves the clock to.
	To string `json:"to,omitempty"`
}

func (h *Handler) changeClock(w http.ResponseWriter, r *http.Request) error {
	var c clockChange
	if err := readJSON(r, &c); err != nil {
		return err
	}
	ctx, clk := r.Context(), h.svc.Clock()
	var s clock.State
	var err error
	switch c.Action {
	case "freeze":
		s, err = clk.Freeze(ctx)
	case "resume":
		s, err = clk.Resume(ctx)
	case "reset":
		s, err = clk.Reset(ctx)
	case "advance":
		d, perr := time.ParseDuration(c.By)
		if perr != nil {
			return badRequest(fmt.Errorf("advance needs \"by\" as a duration such as \"90m\": %w", perr))
		}
		s, err = clk.Advance(ctx, d)
	case "set":
		t, perr := time.Parse(time.RFC3339Nano, c.To)
		if perr != nil {
			return badRequest(fmt.Errorf("set needs \"to\" as an RFC 3339 time: %w", perr))
		}
		s, err = clk.Set(ctx, t)
	default:
		return badRequest(fmt.Errorf("unknown action %q: use freeze, resume, advance, set or reset", c.Action))
	}
	if err != nil {
		return err
	}
	return h.viewClock(w, s)
}

func (h *Handler) listFaults(w http.ResponseWriter, r *http.Request) error {
	rules, err := h.svc.FaultRules(r.Context())
	if err != nil {
		return err
	}
	if rules == nil {
		rules = []pipeline.FaultRule{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"rules": rules})
}

func (h *Handler) addFault(w http.ResponseWriter, r *http.Request) error {
	var rule pipeline.FaultRule
	if err := readJSON(r, &rule); err != nil {
		return err
	}
	if rule.ID != "" {
		return badRequest(errors.New("id is assigned by wsim; leave it out"))
	}
	rule, err := h.svc.AddFaultRule(r.Context(), rule)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, rule)
}

func (h *Handler) deleteFault(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteFaultRule(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pipelineFilter reads the query of /_wsim/pipelines and of the dashboard.
// Unknown parameters are refused, so that a typo never silently shows
// everything.
func pipelineFilter(q url.Values) (dashboard.PipelineFilter, error) {
	for k := range q {
		switch k {
		case "account", "region", "kind", "state", "limit", "nextToken", "order":
		default:
			return dashboard.PipelineFilter{}, badRequest(fmt.Errorf("unknown parameter %q: use account, region, kind, state, limit, order and nextToken", k))
		}
	}
	f := dashboard.PipelineFilter{
		Account: q.Get("account"), Region: q.Get("region"), Kind: pipeline.Kind(q.Get("kind")),
		Phase: q.Get("state"), NextToken: q.Get("nextToken"), Order: q.Get("order"),
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, badRequest(fmt.Errorf("limit %q is not a number between 1 and %d", v, dashboard.MaxPipelineLimit))
		}
		f.Limit = n
	}
	return f, nil
}

func (h *Handler) pipelines(w http.ResponseWriter, r *http.Request) error {
	f, err := pipelineFilter(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := h.svc.Pipelines(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// dashboard renders the page of package webui. A refused filter or an
// unreachable store is shown on the page, with the matching status, so that
// a browser polling it keeps its controls.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := webui.Page{Profile: h.svc.Profile().Name}
	status := http.StatusOK
	fail := func(err error) {
		if status == http.StatusOK {
			status, p.Problem = errorStatus(err), err.Error()
		}
	}
	f, err := pipelineFilter(r.URL.Query())
	p.Filter = f
	if err != nil {
		fail(err)
	}
	if st, err := h.svc.Clock().State(ctx); err != nil {
		fail(err)
	} else {
		p.Frozen = st.Frozen
	}
	if p.Problem == "" {
		if p.Pipelines, err = h.svc.Pipelines(ctx, f); err != nil {
			fail(err)
		}
	}
	if p.Pipelines.Now.IsZero() {
		// Still show the time of a page that could not list anything.
		p.Pipelines.Now, _ = h.svc.Clock().Now(ctx)
	}
	if p.Rules, err = h.svc.FaultRules(ctx); err != nil {
		fail(err)
	}
	var buf bytes.Buffer
	if err := webui.Render(&buf, p); err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("render the dashboard: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
