// Package control is wsim's own control plane, served under /_wsim/ on the
// API port: the service clock, server-side fault rules, the list of every
// pipeline and a health check, as plain JSON over HTTP so that any test
// harness can drive them, and the dashboard (package webui) for people.
package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/kit"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/service"
)

// Handler serves /_wsim/.
type Handler struct {
	svc *service.Service
	mux *http.ServeMux
	// streams are the dashboard's open event streams (events.go).
	streams *streams
	// logger and onAction receive the actions (see recordAction, audit.go).
	logger   *slog.Logger
	onAction func(action string)
	// about is what the health check says wsim runs (health.go).
	about About
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
	case errors.Is(err, dashboard.ErrInvalidFilter), errors.Is(err, kit.ErrInvalidRule), errors.Is(err, clock.ErrBackwards),
		errors.Is(err, clock.ErrOutOfRange), errors.Is(err, service.ErrInvalidSelection):
		return http.StatusBadRequest
	case errors.Is(err, kit.ErrNoSuchRule):
		return http.StatusNotFound
	}
	return http.StatusServiceUnavailable
}

// New returns the control plane of svc, configured by opts (WithLogger,
// WithActionHook).
func New(svc *service.Service, opts ...Option) *Handler {
	h := &Handler{svc: svc, mux: http.NewServeMux(), logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(h)
	}
	if h.streams == nil {
		h.streams = newStreams(DefaultEventInterval, DefaultEventHeartbeat, DefaultMaxEventStreams)
	}
	h.mux.HandleFunc("GET /_wsim/{$}", h.dashboard)
	h.mux.HandleFunc("GET /_wsim/events", h.events)
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
		"POST /_wsim/reset":         h.reset,
		"POST /moto-api/reset":      h.motoReset,
		"/_wsim/":                   noEndpoint,
		"/moto-api/":                noEndpoint,
	} {
		h.mux.Handle(pattern, f)
	}
	h.directoryRoutes()
	// Go's profiler, for measuring wsim under load (docs/performance.md).
	h.mux.Handle("GET "+pprofPrefix, &profiler{})
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

func noEndpoint(_ http.ResponseWriter, r *http.Request) error {
	return &statusError{http.StatusNotFound, fmt.Errorf("no control endpoint %s %s", r.Method, r.URL.Path)}
}

// clockView is the clock as the control plane shows it.
type clockView struct {
	Now    time.Time `json:"now"`
	Epoch  float64   `json:"epoch"`
	Frozen bool      `json:"frozen"`
	// OffsetSec is how far the service time is ahead of real time
	// (negative: behind), frozen or not.
	OffsetSec float64 `json:"offsetSeconds"`
	// FrozenAt is where a frozen clock stands; absent while running.
	FrozenAt *time.Time `json:"frozenAt,omitempty"`
	// Note explains a reset that could not return to real time.
	Note string `json:"note,omitempty"`
}

func newClockView(r clock.Reading) clockView {
	v := clockView{Now: r.Now, Epoch: float64(r.Now.UnixMilli()) / 1000, Frozen: r.Frozen, OffsetSec: r.Offset.Seconds()}
	if r.Frozen {
		v.FrozenAt = &r.FrozenAt
	}
	return v
}

func (h *Handler) viewClock(w http.ResponseWriter, s clock.State) error {
	return writeJSON(w, http.StatusOK, newClockView(h.svc.Clock().Read(s)))
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
		if s, err = clk.Reset(ctx); err == nil && !s.AtRealTime() {
			h.recordClockAction(r, c, s)
			reading := clk.Read(s)
			v := newClockView(reading)
			v.Note = fmt.Sprintf("the service clock is %s ahead of real time, and returning to real time would move it back: "+
				"it runs on from %s instead, never backwards (docs/control-api.md#rules-of-the-service-clock)",
				reading.Offset.Round(time.Millisecond), reading.Now.Format(time.RFC3339Nano))
			return writeJSON(w, http.StatusOK, v)
		}
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
	h.recordClockAction(r, c, s)
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
	h.recordAction(r, ActionFaultAdd, slog.Any("rule", rule))
	return writeJSON(w, http.StatusCreated, rule)
}

func (h *Handler) deleteFault(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteFaultRule(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	h.recordAction(r, ActionFaultDelete, faultDeleted(r.PathValue("id")))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pipelineFilter reads the query of /_wsim/pipelines and of the dashboard.
// Unknown parameters are refused, so that a typo never silently shows
// everything.
func pipelineFilter(q url.Values) (dashboard.PipelineFilter, error) {
	for k := range q {
		switch k {
		case "account", "region", "kind", "state", "id", "limit", "nextToken", "order":
		default:
			return dashboard.PipelineFilter{}, badRequest(fmt.Errorf("unknown parameter %q: use account, region, kind, state, id, limit, order and nextToken", k))
		}
	}
	f := dashboard.PipelineFilter{
		Account: q.Get("account"), Region: q.Get("region"), Kind: pipeline.Kind(q.Get("kind")),
		Phase: q.Get("state"), ID: q.Get("id"), NextToken: q.Get("nextToken"), Order: q.Get("order"),
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
