// Package pipeline owns the time model of wsim's long-running operations:
// image imports, copies, updates, BYOL account modifications and whatever
// lifecycle a resource package declares next.
//
// Every kind of operation is declared once, as data, in the registry of
// lifecycles (lifecycles.go): its stages, their messages, default errors and
// durations per timing profile. An operation stores a Plan when it is
// created and never changes it; a resource whose state changes again and
// again stores a History of plans, one per state-changing call. The state at
// any instant is a pure function of the stored plans and the service clock
// (Plan.At, History.At), so there are no goroutines or timers to keep alive,
// a restarted server or a second process reading the same store sees exactly
// the same progress, and tests drive time with a fake clock instead of
// sleeping.
//
// The package also owns how long each stage takes (Profile), how failures are
// scripted (Failure, from tags or from server-side FaultRules) and the wording
// shown to clients for every state and every default error.
package pipeline

import (
	"fmt"
	"math/bits"
	"time"
)

// Kind names a kind of long-running operation. Its string form is stored
// with plans and used in fault rules, so it must stay stable.
type Kind string

// The operation kinds, one per API that starts a long-running operation.
const (
	// KindCustomImport is ImportCustomWorkspaceImage.
	KindCustomImport Kind = "custom-import"
	// KindLegacyImport is the older ImportWorkspaceImage BYOL path.
	KindLegacyImport Kind = "legacy-import"
	// KindCopy is CopyWorkspaceImage.
	KindCopy Kind = "copy"
	// KindUpdate is CreateUpdatedWorkspaceImage.
	KindUpdate Kind = "update"
	// KindAccountModification is ModifyAccount enabling BYOL.
	KindAccountModification Kind = "account-modification"
)

// StateError is the state of an operation that failed, whatever its kind.
// Callers whose API names failure differently (ModifyAccount says FAILED)
// translate it at their edge.
const StateError = "ERROR"

// Kinds returns every operation kind.
func Kinds() []Kind { return append([]Kind(nil), kindOrder...) }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := kinds[k]; return ok }

// Lifecycle returns the declaration of k; ok is false for an unknown kind.
func (k Kind) Lifecycle() (l Lifecycle, ok bool) {
	lc, ok := kinds[k]
	if !ok {
		return Lifecycle{}, false
	}
	return lc.Lifecycle, true
}

// Stages returns the non-terminal states of k in order; nil for an unknown kind.
func (k Kind) Stages() []string {
	s, ok := kinds[k]
	if !ok {
		return nil
	}
	return append([]string(nil), s.stages...)
}

// Final returns the terminal success state of k; "" for an unknown kind.
func (k Kind) Final() string {
	if s, ok := kinds[k]; ok {
		return s.Final
	}
	return ""
}

// HasStage reports whether stage is a non-terminal state of k.
func (k Kind) HasStage(stage string) bool {
	s, ok := kinds[k]
	return ok && stageIndex(s.stages, stage) >= 0
}

// Label names k for people; an unknown kind is its own label.
func (k Kind) Label() string {
	if s, ok := kinds[k]; ok {
		return s.Label
	}
	return string(k)
}

func (k Kind) noun() string {
	if s, ok := kinds[k]; ok {
		return s.Noun
	}
	return "operation"
}

func stageIndex(stages []string, stage string) int {
	for i, s := range stages {
		if s == stage {
			return i
		}
	}
	return -1
}

// Stage is one step of a plan.
type Stage struct {
	State    string        `json:"state"`
	Duration time.Duration `json:"duration"`
}

// Failure scripts an operation to fail during a stage.
type Failure struct {
	Stage   string `json:"stage"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Plan is what is stored with an operation at its creation; it never changes
// afterwards, which is what makes At reproducible across processes.
type Plan struct {
	Kind    Kind      `json:"kind"`
	Start   time.Time `json:"start"`
	Stages  []Stage   `json:"stages"`
	Final   string    `json:"final"`
	Failure *Failure  `json:"failure,omitempty"`
}

// Status is the observable state of an operation at one instant.
type Status struct {
	// State is a stage name, the plan's Final, or StateError.
	State string
	// StageIndex indexes Plan.Stages: the current stage, len(Stages) once
	// finished successfully, or the stage that failed.
	StageIndex int
	// Progress is 0..100, never decreases as time passes, and is 100 only at Final.
	Progress int
	// Message is a sentence for this state, at most 1000 characters
	// (the limit of WorkflowStateMessage).
	Message string
	// LastUpdated is the instant of the latest state change.
	LastUpdated time.Time
	// Done is true in Final and in ERROR; nothing changes afterwards.
	Done bool
	// Failed is true only in ERROR.
	Failed bool
	// ErrorCode and ErrorMessage are set only when Failed.
	ErrorCode, ErrorMessage string
	// BuilderInstance reports whether the build instance exists: a custom
	// import that has reached IMAGE_TESTING_START, including after it finished.
	BuilderInstance bool
}

// maxMessage is the maximum length of WorkflowStateMessage in the model.
const maxMessage = 1000

// At returns the state of the operation at now.
//
// A clock earlier than Start counts as Start, so a clock stepped backwards
// shows the first stage rather than something invented. A scripted failure
// happens at the midpoint of its stage, so the failing stage is observable
// for half its duration before ERROR; with a zero-length stage it fails as
// soon as the stage is entered. A Failure naming a stage that is not in the
// plan is ignored (Profile.Plan and the parsers never produce one).
func (p Plan) At(now time.Time) Status {
	elapsed := now.Sub(p.Start)
	if elapsed < 0 {
		elapsed = 0
	}
	total := p.total()

	if p.Failure != nil {
		if k := p.stageIndexOf(p.Failure.Stage); k >= 0 {
			failOff := addSat(p.offset(k), p.Stages[k].Duration/2)
			if elapsed >= failOff {
				return p.failed(k, failOff, total)
			}
		}
	}

	if elapsed >= total {
		return Status{
			State:           p.Final,
			StageIndex:      len(p.Stages),
			Progress:        100,
			Message:         StateMessage(p.Kind, p.Final),
			LastUpdated:     p.Start.Add(total),
			Done:            true,
			BuilderInstance: p.reached(len(p.Stages)),
		}
	}

	// elapsed < total guarantees some stage ends after elapsed; zero-length
	// stages never satisfy elapsed < end and so are passed through.
	var off time.Duration
	i := 0
	for ; i < len(p.Stages); i++ {
		end := addSat(off, p.Stages[i].Duration)
		if elapsed < end {
			break
		}
		off = end
	}
	state := p.Stages[i].State
	return Status{
		State:           state,
		StageIndex:      i,
		Progress:        progress(elapsed, total),
		Message:         StateMessage(p.Kind, state),
		LastUpdated:     p.Start.Add(off),
		BuilderInstance: p.reached(i),
	}
}

// Span is when one stage of a plan runs.
type Span struct {
	State      string
	Start, End time.Time
}

// Timeline returns when each stage of p starts and ends as planned, as if
// nothing failed; FailsAt says where a scripted failure cuts it short.
func (p Plan) Timeline() []Span {
	out := make([]Span, len(p.Stages))
	var off time.Duration
	for i, s := range p.Stages {
		end := addSat(off, s.Duration)
		out[i] = Span{State: s.State, Start: p.Start.Add(off), End: p.Start.Add(end)}
		off = end
	}
	return out
}

// End is when p reaches its Final state, unless it fails first.
func (p Plan) End() time.Time { return p.Start.Add(p.total()) }

// FailsAt returns the stage index and the instant of p's scripted failure;
// ok is false when p runs to its Final state.
func (p Plan) FailsAt() (stage int, at time.Time, ok bool) {
	if p.Failure == nil {
		return 0, time.Time{}, false
	}
	k := p.stageIndexOf(p.Failure.Stage)
	if k < 0 {
		return 0, time.Time{}, false
	}
	return k, p.Start.Add(addSat(p.offset(k), p.Stages[k].Duration/2)), true
}

func (p Plan) failed(k int, failOff, total time.Duration) Status {
	f := p.Failure.withDefaults(p.Kind)
	return Status{
		State:           StateError,
		StageIndex:      k,
		Progress:        progress(failOff, total),
		Message:         truncate(fmt.Sprintf("The %s failed during %s: %s", p.Kind.noun(), f.Stage, f.Message)),
		LastUpdated:     p.Start.Add(failOff),
		Done:            true,
		Failed:          true,
		ErrorCode:       f.Code,
		ErrorMessage:    f.Message,
		BuilderInstance: p.reached(k),
	}
}

// reached reports whether stage index i is at or past the builder stage.
func (p Plan) reached(i int) bool {
	lc, ok := kinds[p.Kind]
	if !ok || lc.BuilderStage == "" {
		return false
	}
	b := p.stageIndexOf(lc.BuilderStage)
	return b >= 0 && i >= b
}

func (p Plan) stageIndexOf(state string) int {
	for i, s := range p.Stages {
		if s.State == state {
			return i
		}
	}
	return -1
}

// offset is the time from Start at which stage i begins.
func (p Plan) offset(i int) time.Duration {
	var off time.Duration
	for _, s := range p.Stages[:i] {
		off = addSat(off, s.Duration)
	}
	return off
}

func (p Plan) total() time.Duration { return p.offset(len(p.Stages)) }

// progress is min(99, floor(100*elapsed/total)): the progress of an
// operation that has not reached Final. It is 99 rather than 100 at
// elapsed == total because a failure scheduled at the very end (a zero-length
// last stage) must not report 100, which is reserved for Final; and 0 when
// total is 0 because such an operation fails before anything happened.
// The product is taken in 128 bits because 100*elapsed overflows int64 for
// plans longer than about three years.
func progress(elapsed, total time.Duration) int {
	if total <= 0 || elapsed <= 0 {
		return 0
	}
	if elapsed >= total {
		return 99
	}
	hi, lo := bits.Mul64(100, uint64(elapsed))
	q, _ := bits.Div64(hi, lo, uint64(total))
	return min(99, int(q))
}

// addSat adds non-negative durations, saturating instead of wrapping so that a
// hand-built plan with absurd durations still yields a monotone answer.
// Negative durations are treated as zero.
func addSat(a, b time.Duration) time.Duration {
	if b <= 0 {
		return a
	}
	if a > maxDuration-b {
		return maxDuration
	}
	return a + b
}

const maxDuration = time.Duration(1<<63 - 1)

// truncate keeps a message within maxMessage characters (code points, as
// the model's length constraints count them).
func truncate(s string) string {
	r := []rune(s)
	if len(r) <= maxMessage {
		return s
	}
	return string(r[:maxMessage-3]) + "..."
}
