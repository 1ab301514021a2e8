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
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/webui"
)

// Handler serves /_wsim/.
type Handler struct {
	svc *service.Service
	mux *http.ServeMux
}

// New returns the control plane of svc.
func New(svc *service.Service) *Handler {
	h := &Handler{svc: svc, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /_wsim/{$}", h.dashboard)
	h.mux.HandleFunc("GET /_wsim/pipelines", h.pipelines)
	h.mux.HandleFunc("GET /_wsim/health", h.health)
	h.mux.HandleFunc("GET /_wsim/clock", h.getClock)
	h.mux.HandleFunc("POST /_wsim/clock", h.changeClock)
	h.mux.HandleFunc("GET /_wsim/faults", h.listFaults)
	h.mux.HandleFunc("POST /_wsim/faults", h.addFault)
	h.mux.HandleFunc("DELETE /_wsim/faults", h.deleteFault)
	h.mux.HandleFunc("DELETE /_wsim/faults/{id}", h.deleteFault)
	// Go's profiler, for measuring wsim under load (docs/performance.md).
	h.mux.HandleFunc("GET /_wsim/debug/pprof/", pprof.Index)
	h.mux.HandleFunc("GET /_wsim/debug/pprof/profile", pprof.Profile)
	h.mux.HandleFunc("/_wsim/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no control endpoint %s %s", r.Method, r.URL.Path))
	})
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
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
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	return nil
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.Store().Ping(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "profile": h.svc.Profile().Name})
}

// clockView is the clock as the control plane shows it.
type clockView struct {
	Now       time.Time `json:"now"`
	Epoch     float64   `json:"epoch"`
	Frozen    bool      `json:"frozen"`
	OffsetSec float64   `json:"offsetSeconds"`
}

func (h *Handler) viewClock(w http.ResponseWriter, s clock.State) {
	now := s.Now(time.Now()).UTC()
	writeJSON(w, http.StatusOK, clockView{
		Now: now, Epoch: float64(now.UnixMilli()) / 1000, Frozen: s.Frozen, OffsetSec: s.Offset.Seconds(),
	})
}

func (h *Handler) getClock(w http.ResponseWriter, r *http.Request) {
	s, err := h.svc.Clock().State(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	h.viewClock(w, s)
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

func (h *Handler) changeClock(w http.ResponseWriter, r *http.Request) {
	var c clockChange
	if err := readJSON(r, &c); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
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
			writeError(w, http.StatusBadRequest, fmt.Errorf("advance needs \"by\" as a duration such as \"90m\": %w", perr))
			return
		}
		s, err = clk.Advance(ctx, d)
	case "set":
		t, perr := time.Parse(time.RFC3339Nano, c.To)
		if perr != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("set needs \"to\" as an RFC 3339 time: %w", perr))
			return
		}
		s, err = clk.Set(ctx, t)
	default:
		writeError(w, http.StatusBadRequest, fmt.Errorf("unknown action %q: use freeze, resume, advance, set or reset", c.Action))
		return
	}
	switch {
	case errors.Is(err, clock.ErrBackwards):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
	default:
		h.viewClock(w, s)
	}
}

func (h *Handler) listFaults(w http.ResponseWriter, r *http.Request) {
	rules, err := h.svc.FaultRules(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	if rules == nil {
		rules = []pipeline.FaultRule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rules})
}

func (h *Handler) addFault(w http.ResponseWriter, r *http.Request) {
	var rule pipeline.FaultRule
	if err := readJSON(r, &rule); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if rule.ID != "" {
		writeError(w, http.StatusBadRequest, errors.New("id is assigned by wsim; leave it out"))
		return
	}
	rule, err := h.svc.AddFaultRule(r.Context(), rule)
	switch {
	case errors.Is(err, service.ErrInvalidRule):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
	default:
		writeJSON(w, http.StatusCreated, rule)
	}
}

func (h *Handler) deleteFault(w http.ResponseWriter, r *http.Request) {
	err := h.svc.DeleteFaultRule(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, service.ErrNoSuchRule):
		writeError(w, http.StatusNotFound, err)
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// pipelineFilter reads the query of /_wsim/pipelines and of the dashboard.
// Unknown parameters are refused, so that a typo never silently shows
// everything.
func pipelineFilter(q url.Values) (service.PipelineFilter, error) {
	for k := range q {
		switch k {
		case "account", "region", "kind", "state", "limit", "nextToken":
		default:
			return service.PipelineFilter{}, fmt.Errorf("unknown parameter %q: use account, region, kind, state, limit and nextToken", k)
		}
	}
	f := service.PipelineFilter{
		Account: q.Get("account"), Region: q.Get("region"), Kind: pipeline.Kind(q.Get("kind")),
		Phase: q.Get("state"), NextToken: q.Get("nextToken"),
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, fmt.Errorf("limit %q is not a number between 1 and %d", v, service.MaxPipelineLimit)
		}
		f.Limit = n
	}
	return f, nil
}

func (h *Handler) pipelines(w http.ResponseWriter, r *http.Request) {
	f, err := pipelineFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	page, err := h.svc.Pipelines(r.Context(), f)
	switch {
	case errors.Is(err, service.ErrInvalidFilter):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
	default:
		writeJSON(w, http.StatusOK, page)
	}
}

// dashboard renders the page of package webui. A refused filter or an
// unreachable store is shown on the page, with the matching status, so that
// a browser polling it keeps its controls.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := webui.Page{Profile: h.svc.Profile().Name}
	status := http.StatusOK
	fail := func(code int, err error) {
		if status == http.StatusOK {
			status, p.Problem = code, err.Error()
		}
	}
	f, err := pipelineFilter(r.URL.Query())
	p.Filter = f
	if err != nil {
		fail(http.StatusBadRequest, err)
	}
	if st, err := h.svc.Clock().State(ctx); err != nil {
		fail(http.StatusServiceUnavailable, err)
	} else {
		p.Frozen = st.Frozen
	}
	if p.Problem == "" {
		p.Pipelines, err = h.svc.Pipelines(ctx, f)
		if errors.Is(err, service.ErrInvalidFilter) {
			fail(http.StatusBadRequest, err)
		} else if err != nil {
			fail(http.StatusServiceUnavailable, err)
		}
	}
	if p.Pipelines.Now.IsZero() {
		// Still show the time of a page that could not list anything.
		p.Pipelines.Now, _ = h.svc.Clock().Now(ctx)
	}
	if p.Rules, err = h.svc.FaultRules(ctx); err != nil {
		fail(http.StatusServiceUnavailable, err)
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
