package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/pipeline"
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
	// NextToken continues the listing after the page that returned it.
	NextToken string
	// Limit is the page size: DefaultPipelineLimit when 0, at most
	// MaxPipelineLimit.
	Limit int
}

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

// Pipelines lists every long-running operation of every account and
// Region, ordered by account, Region and resource id, with its state
// computed from its plan and the service clock. A filter on the phase is
// applied at the time of each page, so a page turned after the clock moved
// may skip or repeat an operation that changed phase in between.
func (s *Service) Pipelines(ctx context.Context, f PipelineFilter) (PipelinePage, error) {
	if err := f.validate(); err != nil {
		return PipelinePage{}, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultPipelineLimit
	}
	after, err := decodePipelineToken(f.NextToken)
	if err != nil {
		return PipelinePage{}, err
	}
	now, err := s.clock.Now(ctx)
	if err != nil {
		return PipelinePage{}, storeError(err)
	}
	// Start where the account (and Region) begin rather than scan the
	// accounts before it; IDs are never empty, so "strictly after the
	// empty id" is the first record.
	if f.Account != "" {
		start := store.Key{Account: f.Account}
		if f.Region != "" {
			start.Region = f.Region
		}
		if compareScope(after, start) < 0 {
			after = start
		}
	}
	batch := min(max(limit+1, 100), MaxPipelineLimit+1)
	var cursors []*kindCursor
	if f.Kind != pipeline.KindAccountModification {
		cursors = append(cursors, &kindCursor{kind: kindImage, after: after, batch: batch})
	}
	if f.Kind == "" || f.Kind == pipeline.KindAccountModification {
		cursors = append(cursors, &kindCursor{kind: accountModificationKind, after: after, batch: batch})
	}

	page := PipelinePage{Now: now, Pipelines: []Pipeline{}}
	for {
		rec, err := s.nextRecord(ctx, cursors, f)
		if err != nil || rec == nil {
			return page, err
		}
		if f.Region != "" && rec.Region != f.Region {
			continue // spare decoding what the filter drops anyway
		}
		p, err := s.pipelineOf(rec, now)
		if err != nil {
			return PipelinePage{}, err
		}
		if !f.matches(p) {
			continue
		}
		if len(page.Pipelines) == limit {
			last := page.Pipelines[limit-1]
			page.NextToken = encodePipelineToken(last.Account, last.Region, last.ResourceID)
			return page, nil
		}
		page.Pipelines = append(page.Pipelines, p)
	}
}

func (f PipelineFilter) validate() error {
	if f.Kind != "" && !f.Kind.Valid() {
		kinds := make([]string, 0, 5)
		for _, k := range pipeline.Kinds() {
			kinds = append(kinds, string(k))
		}
		return fmt.Errorf("%w: unknown kind %q; use one of %s", ErrInvalidFilter, f.Kind, strings.Join(kinds, ", "))
	}
	switch f.Phase {
	case "", PhaseInFlight, PhaseCompleted, PhaseFailed:
	default:
		return fmt.Errorf("%w: unknown state %q; use %s, %s or %s", ErrInvalidFilter, f.Phase, PhaseInFlight, PhaseCompleted, PhaseFailed)
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
		(f.Phase == "" || p.Phase == f.Phase)
}

// kindCursor reads the records of one store kind in ListKind order, a
// batch at a time.
type kindCursor struct {
	kind  string
	after store.Key
	batch int
	buf   []*store.Record
	done  bool
}

func (c *kindCursor) head(ctx context.Context, st store.Store) (*store.Record, error) {
	if len(c.buf) == 0 && !c.done {
		recs, err := st.ListKind(ctx, c.kind, c.after, c.batch)
		if err != nil {
			return nil, storeError(err)
		}
		c.buf, c.done = recs, len(recs) < c.batch
		if len(recs) > 0 {
			c.after = recs[len(recs)-1].Key
		}
	}
	if len(c.buf) == 0 {
		return nil, nil
	}
	return c.buf[0], nil
}

// nextRecord merges the cursors: it takes the record that comes first in
// (account, Region, id) order, or nil when they are exhausted or past the
// filter's account and Region. Image ids (wsi-) and modification ids (hex
// digits) never coincide, so the order is total.
func (s *Service) nextRecord(ctx context.Context, cursors []*kindCursor, f PipelineFilter) (*store.Record, error) {
	var best *kindCursor
	var bestRec *store.Record
	for _, c := range cursors {
		rec, err := c.head(ctx, s.store)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			continue
		}
		if bestRec == nil || compareScope(rec.Key, bestRec.Key) < 0 ||
			compareScope(rec.Key, bestRec.Key) == 0 && rec.ID < bestRec.ID {
			best, bestRec = c, rec
		}
	}
	if bestRec == nil {
		return nil, nil
	}
	if f.Account != "" && bestRec.Account != f.Account ||
		f.Account != "" && f.Region != "" && bestRec.Region != f.Region {
		return nil, nil // listing started at the account (and Region), so it is past it
	}
	best.buf = best.buf[1:]
	return bestRec, nil
}

// compareScope orders keys by account, then Region.
func compareScope(a, b store.Key) int {
	if c := strings.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	return strings.Compare(a.Region, b.Region)
}

// pipelineOf is the pipeline of an image or account modification record.
func (s *Service) pipelineOf(rec *store.Record, now time.Time) (Pipeline, error) {
	if rec.Kind == accountModificationKind {
		m, err := decodeShared[accountModification](s.decoded, rec)
		if err != nil {
			return Pipeline{}, err
		}
		state, _ := m.state(now)
		p := newPipeline(m.Plan, now, state)
		p.Account, p.Region, p.ResourceID, p.Name = m.Account, m.Region, m.ID, m.CIDR
		p.Created = m.Plan.Start
		return p, nil
	}
	img, err := decodeShared[image](s.decoded, rec)
	if err != nil {
		return Pipeline{}, err
	}
	st := img.Plan.At(now)
	state := imageState(st)
	if img.CustomImport != nil {
		state = st.State
	}
	p := newPipeline(img.Plan, now, state)
	p.Account, p.Region, p.ResourceID = img.Owner, img.Region, img.ID
	p.Name, p.Description, p.Created = img.Name, img.Description, img.Created
	switch {
	case img.CustomImport != nil:
		p.Source = sourceID(&img.CustomImport.Source)
	case img.LegacyImport != nil:
		p.Source = img.LegacyImport.Ec2ImageID
	case img.Copy != nil:
		p.Source = img.Copy.SourceRegion + "/" + img.Copy.SourceImageID
	case img.Update != nil:
		p.Source = img.Update.SourceImageID
	}
	return p, nil
}

// newPipeline fills in what every kind has in common: the state at now, the
// timeline and the failure plan.
func newPipeline(plan pipeline.Plan, now time.Time, state string) Pipeline {
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
	for i, span := range plan.Timeline() {
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

func decodePipelineToken(tok string) (store.Key, error) {
	if tok == "" {
		return store.Key{}, nil
	}
	var parts []string
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		err = json.Unmarshal(raw, &parts)
	}
	if err != nil || len(parts) != 4 || parts[0] != "p1" || parts[3] == "" {
		return store.Key{}, fmt.Errorf("%w: the nextToken is not valid: pass the nextToken of the previous page unchanged", ErrInvalidFilter)
	}
	return store.Key{Account: parts[1], Region: parts[2], ID: parts[3]}, nil
}
