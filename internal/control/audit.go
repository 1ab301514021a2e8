package control

import (
	"log/slog"
	"net/http"

	"github.com/wsim/wsim/internal/clock"
)

// Actions of the control plane, as recordAction logs them and the metric
// wsim_control_actions_total labels them.
const (
	ActionClockFreeze  = "clock.freeze"
	ActionClockResume  = "clock.resume"
	ActionClockAdvance = "clock.advance"
	ActionClockSet     = "clock.set"
	ActionClockReset   = "clock.reset"
	ActionFaultAdd     = "fault.add"
	ActionFaultDelete  = "fault.delete"
	ActionReset        = "reset"
)

// Actions lists every action, for metrics that show them from the start.
var Actions = []string{
	ActionClockFreeze, ActionClockResume, ActionClockAdvance, ActionClockSet, ActionClockReset,
	ActionFaultAdd, ActionFaultDelete, ActionReset,
	ActionDirectoryDeclare, ActionDirectoryUndeclare,
	ActionPolicyPut, ActionPolicyDelete,
}

// Option configures a Handler.
type Option func(*Handler)

// WithLogger logs every control-plane action at info to l (discarded
// without it).
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) {
		if l != nil {
			h.logger = l
		}
	}
}

// WithActionHook calls f with the name of every control-plane action that
// took effect (one of Actions), e.g. to count it.
func WithActionHook(f func(action string)) Option {
	return func(h *Handler) { h.onAction = f }
}

// recordAction is called once a control-plane action has taken effect: it
// logs "control action" at info with the action, who asked (the remote
// address) and what changed (attrs), and calls the action hook. Every
// endpoint that changes state calls it, e.g.
//
//	h.recordAction(r, ActionReset, slog.String("account", account), slog.Int("removed", n))
func (h *Handler) recordAction(r *http.Request, action string, attrs ...slog.Attr) {
	all := make([]slog.Attr, 0, len(attrs)+2)
	all = append(all, slog.String("action", action), slog.String("remote_addr", r.RemoteAddr))
	all = append(all, attrs...)
	h.logger.LogAttrs(r.Context(), slog.LevelInfo, "control action", all...)
	if h.onAction != nil {
		h.onAction(action)
	}
}

// recordClockAction records a clock change c that took effect, leaving the
// clock in state s.
func (h *Handler) recordClockAction(r *http.Request, c clockChange, s clock.State) {
	attrs := make([]slog.Attr, 0, 4)
	switch c.Action {
	case "advance":
		attrs = append(attrs, slog.String("by", c.By))
	case "set":
		attrs = append(attrs, slog.String("to", c.To))
	}
	attrs = append(attrs,
		slog.Time("now", h.svc.Clock().TimeIn(s)),
		slog.Bool("frozen", s.Frozen))
	h.recordAction(r, "clock."+c.Action, attrs...)
}

// faultDeleted says which rules a DELETE /_wsim/faults[/{id}] removed.
func faultDeleted(id string) slog.Attr {
	if id == "" {
		return slog.String("rule_id", "all")
	}
	return slog.String("rule_id", id)
}
