// Package dashboard is the read model of every long-running operation, as
// the dashboard and /_wsim/pipelines show it: each resource package
// contributes a Source of its own pipelines, and Pipelines merges them into
// one listing across accounts and Regions, with filters and pages. A new
// resource kind appears here by contributing a Source; nothing here knows
// any one resource.
package dashboard

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/clock"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/store"
)

// Phases of a pipeline: the coarse state every long-running operation is in,
// whatever its own API calls that state.
const (
	PhaseInFlight  = "in-flight"
	PhaseCompleted = "completed"
	PhaseFailed    = "failed"
)

// Page sizes of Pipelines.
const (
	DefaultPipelineLimit = 100
	MaxPipelineLimit     = 1000
)

// ErrInvalidFilter wraps what is wrong with a PipelineFilter.
var ErrInvalidFilter = errors.New("invalid pipeline filter")

// PipelineFilter selects the pipelines Pipelines lists. Empty fields match
// everything.
type PipelineFilter struct {
	Account string
	Region  string
	Kind    pipeline.Kind
	// Phase is PhaseInFlight, PhaseCompleted or PhaseFailed.
	Phase string
	// ID is one resource id (exact), such as an image id: ids are unique
	// within an account and Region, so it selects one pipeline, or one per
	// account and Region that holds it.
	ID string
	// NextToken continues the listing after the page that returned it.
	NextToken string
	// Limit is the page size: DefaultPipelineLimit when 0, at most
	// MaxPipelineLimit.
	Limit int
	// Order is OrderKey (the default: by account, Region and resource id)
	// or OrderNewest (by creation, newest first, then by key).
	Order string
}

// The orders of Pipelines.List.
const (
	OrderKey    = "key"
	OrderNewest = "newest"
)

// PipelinePage is one page of Pipelines, computed at the service time Now.
type PipelinePage struct {
	Now       time.Time  `json:"now"`
	Pipelines []Pipeline `json:"pipelines"`
	// NextToken is set when more pipelines match; pass it back in the
	// filter for the next page.
	NextToken string `json:"nextToken,omitempty"`
}

// Pipeline is one long-running operation as the dashboard shows it: every
// image (each has a plan, however it was made) and every BYOL account
// modification. The control plane serves it as JSON as it is.
type Pipeline struct {
	Kind    pipeline.Kind `json:"kind"`
	Account string        `json:"account"`
	Region  string        `json:"region"`
	// ResourceID is the image id, or the id of the account modification.
	ResourceID string `json:"resourceId"`
	// Name is the image name, or the management CIDR range an account
	// modification moves to (what fault rules match as its name).
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Source is what the operation started from: the AMI, import task or
	// image version of an import, the source image of a copy
	// (REGION/ID) or of an update.
	Source string `json:"source,omitempty"`
	// State is named as the operation's own API names it: a custom import
	// stage, COMPLETED or ERROR; PENDING, AVAILABLE or ERROR for other
	// images; PENDING, COMPLETED or FAILED for account modifications.
	State string `json:"state"`
	// Phase is PhaseInFlight, PhaseCompleted or PhaseFailed.
	Phase   string `json:"phase"`
	Message string `json:"message"`
	// Progress is a percentage, 100 only when completed.
	Progress int `json:"progress"`
	// StageIndex indexes Stages: the current stage, the one that failed,
	// or len(Stages) once completed.
	StageIndex         int             `json:"stageIndex"`
	Stages             []PipelineStage `json:"stages"`
	Created            time.Time       `json:"created"`
	LastUpdated        time.Time       `json:"lastUpdated"`
	ExpectedCompletion time.Time       `json:"expectedCompletion,omitzero"`
	Error              *PipelineError  `json:"error,omitempty"`
	// FailurePlan is wsim's insight into the future: the failure scripted
	// by tags or a fault rule when the operation started.
	FailurePlan *FailurePlan `json:"failurePlan,omitempty"`
}

// Statuses of a stage in a pipeline's timeline.
const (
	StageDone    = "done"
	StageCurrent = "current"
	StageFailed  = "failed"
	StagePending = "pending"
	// StageSkipped is a stage after a failure: it never runs.
	StageSkipped = "skipped"
)

// PipelineStage is one stage of a pipeline's timeline. Start and End are
// planned (or past) times; a skipped stage has neither, and a failing stage
// ends when it fails.
type PipelineStage struct {
	State           string    `json:"state"`
	Status          string    `json:"status"`
	Start           time.Time `json:"start,omitzero"`
	End             time.Time `json:"end,omitzero"`
	DurationSeconds float64   `json:"durationSeconds"`
}

// PipelineError is why a pipeline failed.
type PipelineError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// FailurePlan is the failure a pipeline is scripted to meet.
type FailurePlan struct {
	Stage   string    `json:"stage"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Source is one resource kind's contribution: its pipelines in (account,
// Region, id) order.
type Source interface {
	// Kinds are the lifecycle kinds of the source's pipelines, for the kind
	// filter.
	Kinds() []pipeline.Kind
	// Scan returns up to limit items after the (account, Region, id) of
	// after, in that order.
	Scan(ctx context.Context, after records.Key, limit int) ([]Item, error)
	// Newest returns up to limit items of sel newest first, after the
	// position after (nil: from the newest), in store.ListNewest's order.
	Newest(ctx context.Context, sel store.Selection, after *store.Position, limit int) ([]Item, error)
}

// Item is one pipeline of a Source, computed only when it is listed.
type Item struct {
	Account, Region, ID string
	// Position is the item's place in the store's newest-first order.
	Position store.Position
	At       func(now time.Time) Pipeline
}

// KindSource is the Source of a stored kind whose records each have one
// pipeline, shown by view.
func KindSource[T any, P records.Record[T]](db *records.DB, k *records.Kind[T, P], kinds []pipeline.Kind, view func(v P, now time.Time) Pipeline) Source {
	return kindSource[T, P]{db: db, k: k, kinds: kinds, view: view}
}

type kindSource[T any, P records.Record[T]] struct {
	db    *records.DB
	k     *records.Kind[T, P]
	kinds []pipeline.Kind
	view  func(P, time.Time) Pipeline
}

func (s kindSource[T, P]) Kinds() []pipeline.Kind { return s.kinds }

func (s kindSource[T, P]) Scan(ctx context.Context, after records.Key, limit int) ([]Item, error) {
	vs, err := s.k.Scan(ctx, s.db, after, limit)
	if err != nil {
		return nil, err
	}
	return s.items(vs), nil
}

func (s kindSource[T, P]) Newest(ctx context.Context, sel store.Selection, after *store.Position, limit int) ([]Item, error) {
	vs, err := s.k.Newest(ctx, s.db, sel, after, limit)
	if err != nil {
		return nil, err
	}
	return s.items(vs), nil
}

func (s kindSource[T, P]) items(vs []P) []Item {
	items := make([]Item, len(vs))
	for i, v := range vs {
		m := records.MetaOf(v)
		items[i] = Item{Account: m.Account, Region: m.Region, ID: m.ID, Position: s.k.PositionOf(v), At: func(now time.Time) Pipeline { return s.view(v, now) }}
	}
	return items
}

// Pipelines is the read model over its sources.
type Pipelines struct {
	clock   *clock.Clock
	sources []Source
}

// NewPipelines returns the read model of the sources.
func NewPipelines(clk *clock.Clock, sources ...Source) *Pipelines {
	return &Pipelines{clock: clk, sources: sources}
}

// Kinds lists every lifecycle kind the sources have.
func (ps *Pipelines) Kinds() []pipeline.Kind {
	var out []pipeline.Kind
	for _, s := range ps.sources {
		out = append(out, s.Kinds()...)
	}
	return out
}

// List lists every long-running operation of every account and Region,
// ordered by account, Region and resource id, with its state computed from
// its plan and the service clock. A filter on the phase is applied at the
// time of each page, so a page turned after the clock moved may skip or
// repeat an operation that changed phase in between. The account (and its
// Region) are where the listing starts and ends; the other filters are
// applied to the operations read, and a page ends once it has left out
// 1,000 of them, short or even empty, with a NextToken to go on.
func (ps *Pipelines) List(ctx context.Context, f PipelineFilter) (PipelinePage, error) {
	if err := f.validate(ps.Kinds()); err != nil {
		return PipelinePage{}, err
	}
	if f.Order == OrderNewest {
		return ps.newest(ctx, f)
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultPipelineLimit
	}
	after, err := decodePipelineToken(f.NextToken)
	if err != nil {
		return PipelinePage{}, err
	}
	now, err := ps.clock.Now(ctx)
	if err != nil {
		return PipelinePage{}, err
	}
	// Start where the account (and Region) begin rather than scan the
	// accounts before it; ids are never empty, so "strictly after the
	// empty id" is the first record.
	if f.Account != "" {
		start := records.Key{Account: f.Account, Region: f.Region}
		if compareScope(after, start) < 0 {
			after = start
		}
	}
	batch := min(max(limit+1, 100), MaxPipelineLimit+1)
	var cursors []*cursor
	for _, s := range ps.sources {
		if f.Kind == "" || slices.Contains(s.Kinds(), f.Kind) {
			cursors = append(cursors, &cursor{src: s, after: after, batch: batch})
		}
	}
	page := PipelinePage{Now: now, Pipelines: []Pipeline{}}
	var last *Item
	skipped := 0
	for {
		it, err := next(ctx, cursors, f)
		if err != nil || it == nil {
			return page, err
		}
		if skipped >= maxSkipped {
			page.NextToken = encodePipelineToken(last.Account, last.Region, last.ID)
			return page, nil
		}
		// The Region and id need no pipeline computed.
		var p Pipeline
		ok := (f.Region == "" || it.Region == f.Region) && (f.ID == "" || it.ID == f.ID)
		if ok {
			p = it.At(now)
			ok = f.matches(p)
		}
		switch {
		case !ok:
			skipped++
		case len(page.Pipelines) == limit:
			page.NextToken = encodePipelineToken(last.Account, last.Region, last.ID)
			return page, nil
		default:
			page.Pipelines = append(page.Pipelines, p)
		}
		last = it
	}
}

func (f PipelineFilter) validate(known []pipeline.Kind) error {
	if f.Kind != "" && !slices.Contains(known, f.Kind) {
		kinds := make([]string, 0, 5)
		for _, k := range known {
			kinds = append(kinds, string(k))
		}
		return fmt.Errorf("%w: unknown kind %q; use one of %s", ErrInvalidFilter, f.Kind, strings.Join(kinds, ", "))
	}
	switch f.Phase {
	case "", PhaseInFlight, PhaseCompleted, PhaseFailed:
	default:
		return fmt.Errorf("%w: unknown state %q; use %s, %s or %s", ErrInvalidFilter, f.Phase, PhaseInFlight, PhaseCompleted, PhaseFailed)
	}
	switch f.Order {
	case "", OrderKey, OrderNewest:
	default:
		return fmt.Errorf("%w: unknown order %q; use %s or %s", ErrInvalidFilter, f.Order, OrderKey, OrderNewest)
	}
	if f.Limit < 0 || f.Limit > MaxPipelineLimit {
		return fmt.Errorf("%w: limit %d is not between 1 and %d", ErrInvalidFilter, f.Limit, MaxPipelineLimit)
	}
	return nil
}

// matches applies the parts of the filter the store listing could not.
func (f PipelineFilter) matches(p Pipeline) bool {
	return (f.Account == "" || p.Account == f.Account) &&
		(f.Region == "" || p.Region == f.Region) &&
		(f.Kind == "" || p.Kind == f.Kind) &&
		(f.Phase == "" || p.Phase == f.Phase) &&
		(f.ID == "" || p.ResourceID == f.ID)
}

// cursor reads one source in order, a batch at a time.
type cursor struct {
	src   Source
	after records.Key
	batch int
	buf   []Item
	done  bool
}

func (c *cursor) head(ctx context.Context) (*Item, error) {
	if len(c.buf) == 0 && !c.done {
		items, err := c.src.Scan(ctx, c.after, c.batch)
		if err != nil {
			return nil, err
		}
		c.buf, c.done = items, len(items) < c.batch
		if n := len(items); n > 0 {
			c.after = records.Key{Account: items[n-1].Account, Region: items[n-1].Region, ID: items[n-1].ID}
		}
	}
	if len(c.buf) == 0 {
		return nil, nil
	}
	return &c.buf[0], nil
}

// next merges the cursors: it takes the item that comes first in (account,
// Region, id) order, or nil when they are exhausted or past the filter's
// account and Region. Ids of different kinds never coincide (each kind has
// its own id form), so the order is total.
func next(ctx context.Context, cursors []*cursor, f PipelineFilter) (*Item, error) {
	var best *cursor
	var bestItem *Item
	for _, c := range cursors {
		it, err := c.head(ctx)
		if err != nil {
			return nil, err
		}
		if it == nil {
			continue
		}
		if bestItem == nil || compareItems(it, bestItem) < 0 {
			best, bestItem = c, it
		}
	}
	if bestItem == nil {
		return nil, nil
	}
	if f.Account != "" && bestItem.Account != f.Account ||
		f.Account != "" && f.Region != "" && bestItem.Region != f.Region {
		return nil, nil // listing started at the account (and Region), so it is past it
	}
	best.buf = best.buf[1:]
	return bestItem, nil
}

func compareItems(a, b *Item) int {
	if c := compareScope(records.Key{Account: a.Account, Region: a.Region}, records.Key{Account: b.Account, Region: b.Region}); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// compareScope orders keys by account, then Region.
func compareScope(a, b records.Key) int {
	if c := strings.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	return strings.Compare(a.Region, b.Region)
}

// New fills in what every kind has in common: the state at now, the
// timeline and the failure plan.
func New(plan pipeline.Plan, now time.Time, state string) Pipeline {
	st := plan.At(now)
	p := Pipeline{
		Kind:        plan.Kind,
		State:       state,
		Message:     st.Message,
		Progress:    st.Progress,
		StageIndex:  st.StageIndex,
		LastUpdated: st.LastUpdated,
	}
	switch {
	case st.Failed:
		p.Phase = PhaseFailed
		p.Error = &PipelineError{Code: st.ErrorCode, Message: st.ErrorMessage}
	case st.Done:
		p.Phase = PhaseCompleted
	default:
		p.Phase = PhaseInFlight
	}
	failStage, failAt, fails := plan.FailsAt()
	if fails {
		p.FailurePlan = &FailurePlan{Stage: plan.Failure.Stage, Code: plan.Failure.Code, Message: plan.Failure.Message, At: failAt}
	} else {
		p.ExpectedCompletion = plan.End()
	}
	timeline := plan.Timeline()
	if len(timeline) > 0 {
		p.Stages = make([]PipelineStage, 0, len(timeline))
	}
	for i, span := range timeline {
		ps := PipelineStage{State: span.State, Start: span.Start, End: span.End, DurationSeconds: span.End.Sub(span.Start).Seconds()}
		switch {
		case fails && i > failStage:
			ps = PipelineStage{State: span.State, Status: StageSkipped, DurationSeconds: ps.DurationSeconds}
		case i < st.StageIndex:
			ps.Status = StageDone
		case i > st.StageIndex:
			ps.Status = StagePending
		case st.Failed:
			ps.Status = StageFailed
		default:
			ps.Status = StageCurrent
		}
		if fails && i == failStage {
			ps.End = failAt
			ps.DurationSeconds = failAt.Sub(span.Start).Seconds()
		}
		p.Stages = append(p.Stages, ps)
	}
	return p
}

// Tokens of Pipelines: the account, Region and id of the last pipeline of
// the page, as base64-encoded JSON.
func encodePipelineToken(account, region, id string) string {
	b, _ := json.Marshal([]string{"p1", account, region, id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePipelineToken(tok string) (records.Key, error) {
	if tok == "" {
		return records.Key{}, nil
	}
	var parts []string
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		err = json.Unmarshal(raw, &parts)
	}
	if err != nil || len(parts) != 4 || parts[0] != "p1" || parts[3] == "" {
		return records.Key{}, fmt.Errorf("%w: the nextToken is not valid: pass the nextToken of the previous page unchanged", ErrInvalidFilter)
	}
	return records.Key{Account: parts[1], Region: parts[2], ID: parts[3]}, nil
}

// newest lists the pipelines the filter selects by creation, newest first
// (then by account, Region, kind and id, so the order is total and stable),
// each source's newest first from the store (store.ListNewest), which
// selects an account and an account's Region itself. The other filters are
// applied to the pipelines read, and a page ends once it has left out
// 1,000 of them (see List).
func (ps *Pipelines) newest(ctx context.Context, f PipelineFilter) (PipelinePage, error) {
	limit := cmp.Or(f.Limit, DefaultPipelineLimit)
	after, err := decodeCatalogToken(f.NextToken)
	if err != nil {
		return PipelinePage{}, err
	}
	now, err := ps.clock.Now(ctx)
	if err != nil {
		return PipelinePage{}, err
	}
	sel, _ := selection(f.Account, f.Region)
	var streams []*newestStream[Item]
	for _, s := range ps.sources {
		if f.Kind != "" && !slices.Contains(s.Kinds(), f.Kind) {
			continue
		}
		streams = append(streams, newStream(after, func(ctx context.Context, after *store.Position, limit int) ([]positioned[Item], error) {
			items, err := s.Newest(ctx, sel, after, limit)
			out := make([]positioned[Item], len(items))
			for i, it := range items {
				out[i] = positioned[Item]{pos: it.Position, val: it}
			}
			return out, err
		}))
	}
	pipelines, next, err := pageNewest(ctx, streams, limit, func(e positioned[Item]) (Pipeline, bool, error) {
		if f.Region != "" && e.pos.Region != f.Region || f.ID != "" && e.pos.ID != f.ID {
			return Pipeline{}, false, nil
		}
		p := e.val.At(now)
		return p, f.matches(p), nil
	})
	if err != nil {
		return PipelinePage{}, err
	}
	page := PipelinePage{Now: now, Pipelines: pipelines}
	if next != nil {
		page.NextToken = encodeCatalogToken(*next)
	}
	return page, nil
}
