package pipeline

import (
	"errors"
	"time"
)

// MaxHistory bounds a History: older plans are dropped, which changes
// nothing observable now, because only the latest started plan decides the
// state; it only shortens what the dashboard can show of the past.
const MaxHistory = 64

// ErrPlanOrder refuses a plan that starts before the latest one: the state
// would no longer be a function of the record and the clock alone.
var ErrPlanOrder = errors.New("pipeline: a plan cannot start before the latest plan of its history")

// History is the life of a resource whose state changes again and again (a
// WorkSpace goes AVAILABLE, STOPPING, STOPPED, STARTING, AVAILABLE, ...):
// every state-changing call appends the plan it starts, and the state at any
// instant is the latest plan that has started by then, evaluated then. Like
// a single Plan it is stored with the resource and never needs a goroutine
// or a timer, and every replica computes the same state from it.
type History []Plan

// Current returns the plan in force at now: the latest one that started at
// or before now, or the first one when now is before them all (a clock
// earlier than a resource's creation shows its first stage, as Plan.At
// does). ok is false for an empty history.
func (h History) Current(now time.Time) (p Plan, ok bool) {
	if len(h) == 0 {
		return Plan{}, false
	}
	for i := len(h) - 1; i > 0; i-- {
		if !h[i].Start.After(now) {
			return h[i], true
		}
	}
	return h[0], true
}

// At returns the state at now of the plan in force then; the zero Status for
// an empty history.
func (h History) At(now time.Time) Status {
	p, ok := h.Current(now)
	if !ok {
		return Status{}
	}
	return p.At(now)
}

// Append returns h with p added as its latest plan, keeping at most
// MaxHistory plans. The result shares no memory with h.
func (h History) Append(p Plan) (History, error) {
	if n := len(h); n > 0 && p.Start.Before(h[n-1].Start) {
		return h, ErrPlanOrder
	}
	keep := h
	if len(keep) >= MaxHistory {
		keep = keep[len(keep)-MaxHistory+1:]
	}
	out := make(History, 0, len(keep)+1)
	return append(append(out, keep...), p), nil
}

// Latest is the most recently appended plan; ok is false for an empty history.
func (h History) Latest() (p Plan, ok bool) {
	if len(h) == 0 {
		return Plan{}, false
	}
	return h[len(h)-1], true
}
