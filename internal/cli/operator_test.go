package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// importAt is a custom import of 12 two-second stages started at t0,
// standing at stage idx with progress percent, in phase.
func importAt(state, phase string, idx, progress int) dashboard.Pipeline {
	p := dashboard.Pipeline{
		Kind: pipeline.KindCustomImport, Account: "111122223333", Region: "us-east-1", ResourceID: "wsi-abcdefghi",
		Name: "golden", State: state, Phase: phase, Progress: progress, StageIndex: idx,
		Created: t0, LastUpdated: t0.Add(time.Duration(2*idx) * time.Second),
	}
	for i, s := range pipeline.KindCustomImport.Stages() {
		st := dashboard.PipelineStage{State: s, Start: t0.Add(time.Duration(2*i) * time.Second), End: t0.Add(time.Duration(2*i+2) * time.Second), DurationSeconds: 2}
		switch {
		case i < idx:
			st.Status = dashboard.StageDone
		case i > idx:
			st.Status = dashboard.StagePending
		case phase == dashboard.PhaseFailed:
			st.Status = dashboard.StageFailed
		default:
			st.Status = dashboard.StageCurrent
		}
		p.Stages = append(p.Stages, st)
	}
	if phase == dashboard.PhaseFailed {
		p.Error = &dashboard.PipelineError{Code: "AppXPackagesInstalled", Message: "AppX packages are installed."}
	}
	return p
}

func TestProgressBar(t *testing.T) {
	for _, tt := range []struct {
		percent, width int
		want           string
	}{
		{0, 10, "[░░░░░░░░░░]"},
		{9, 10, "[░░░░░░░░░░]"},
		{10, 10, "[█░░░░░░░░░]"},
		{55, 10, "[█████░░░░░]"},
		{99, 10, "[█████████░]"},
		{100, 10, "[██████████]"},
		{-5, 4, "[░░░░]"},
		{250, 4, "[████]"},
		{50, 24, "[████████████░░░░░░░░░░░░]"},
	} {
		if got := progressBar(tt.percent, tt.width); got != tt.want {
			t.Errorf("progressBar(%d, %d) = %q, want %q", tt.percent, tt.width, got, tt.want)
		}
	}
}

func TestWatchRendering(t *testing.T) {
	running := importAt("UPDATING_OPERATING_SYSTEM", dashboard.PhaseInFlight, 4, 30)
	running.ExpectedCompletion = t0.Add(40 * time.Second)
	now := t0.Add(11 * time.Second)
	failed := importAt("ERROR", dashboard.PhaseFailed, 9, 77)
	done := importAt("COMPLETED", dashboard.PhaseCompleted, 12, 100)
	overdue := running
	overdue.ExpectedCompletion = now
	for _, tt := range []struct {
		name      string
		p         dashboard.Pipeline
		line, bar string
	}{
		{"running", running,
			"2026-03-01T12:00:11Z  UPDATING_OPERATING_SYSTEM      30%  stage 5 of 12",
			"[███████░░░░░░░░░░░░░░░░░]  30%  UPDATING_OPERATING_SYSTEM (5/12), 29s left"},
		{"no time left", overdue,
			"2026-03-01T12:00:11Z  UPDATING_OPERATING_SYSTEM      30%  stage 5 of 12",
			"[███████░░░░░░░░░░░░░░░░░]  30%  UPDATING_OPERATING_SYSTEM (5/12)"},
		{"failed", failed,
			"2026-03-01T12:00:11Z  ERROR                          77%  failed at GENERALIZING: AppXPackagesInstalled",
			"[██████████████████░░░░░░]  77%  ERROR at GENERALIZING: AppXPackagesInstalled"},
		{"completed", done,
			"2026-03-01T12:00:11Z  COMPLETED                     100%",
			"[████████████████████████] 100%  COMPLETED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := watchLine(tt.p, now); got != tt.line {
				t.Errorf("watchLine =\n%q, want\n%q", got, tt.line)
			}
			if got := barLine(tt.p, now); got != tt.bar {
				t.Errorf("barLine =\n%q, want\n%q", got, tt.bar)
			}
		})
	}
}

func TestTables(t *testing.T) {
	failed := importAt("ERROR", dashboard.PhaseFailed, 9, 77)
	failed.ResourceID, failed.Name, failed.Account, failed.Region = "wsi-doomed123", "doomed", "444455556666", "eu-west-1"
	failed.Created = t0.Add(-time.Hour)
	running := importAt("PENDING", dashboard.PhaseInFlight, 0, 0)
	images := []dashboard.Resource{
		{Kind: kindImage, Account: "111122223333", Region: "us-east-1", ID: "wsi-abcdefghi", Name: "golden", State: "AVAILABLE", Created: t0,
			Tags: map[string]string{"team": "vdi", "env": "prod"}, Attributes: map[string]string{"origin": "custom-import", "source": "ami-0123456789abcdef0"},
			Relations: []dashboard.Relation{{Type: dashboard.RelSharedWith, Account: "444455556666"}, {Type: dashboard.RelSharedWith, Account: "777788889999"}}},
		{Kind: kindImageShare, Account: "444455556666", Region: "us-east-1", ID: "wsi-abcdefghi", Name: "golden", State: "AVAILABLE", Created: t0,
			Relations: []dashboard.Relation{{Type: dashboard.RelSharedBy, Account: "111122223333", Region: "us-east-1", ID: "wsi-abcdefghi"}}},
		{Kind: kindImage, Account: "444455556666", Region: "eu-west-1", ID: "wsi-copy12345", Name: "golden-copy", State: "PENDING", Created: t0.Add(-time.Minute),
			Attributes: map[string]string{"origin": "copy"},
			Relations:  []dashboard.Relation{{Type: dashboard.RelCopyOf, Account: "111122223333", Region: "us-east-1", ID: "wsi-abcdefghi"}}},
	}
	rules := []pipeline.FaultRule{
		{ID: "rule-abcd1234", NamePattern: "nightly-*", FailAt: "GENERALIZING"},
		{ID: "rule-efgh5678", Kind: pipeline.KindCopy, Account: "111122223333", Region: "eu-west-1", SourceID: "wsi-abcdefghi", FailAt: "PENDING",
			ErrorCode: "Boom", ErrorMessage: strings.Repeat("x", 100)},
	}
	for _, tt := range []struct {
		name  string
		write func(*bytes.Buffer) error
		want  string
	}{
		{"imports", func(b *bytes.Buffer) error { return importsTable(b, []dashboard.Pipeline{running, failed}) }, `
IMAGE ID       NAME    ACCOUNT       REGION     STATE    PROGRESS  CREATED               ERROR
wsi-abcdefghi  golden  111122223333  us-east-1  PENDING  0%        2026-03-01T12:00:00Z  -
wsi-doomed123  doomed  444455556666  eu-west-1  ERROR    77%       2026-03-01T11:00:00Z  AppXPackagesInstalled
`},
		{"no imports", func(b *bytes.Buffer) error { return importsTable(b, nil) }, "\nNo imports.\n"},
		{"images", func(b *bytes.Buffer) error { return imagesTable(b, images) }, `
IMAGE ID       NAME         ACCOUNT       REGION     OWNER         STATE      ORIGIN         SHARED WITH                TAGS               CREATED
wsi-abcdefghi  golden       111122223333  us-east-1  111122223333  AVAILABLE  custom-import  444455556666,777788889999  env=prod,team=vdi  2026-03-01T12:00:00Z
wsi-abcdefghi  golden       444455556666  us-east-1  111122223333  AVAILABLE  shared         -                          -                  2026-03-01T12:00:00Z
wsi-copy12345  golden-copy  444455556666  eu-west-1  444455556666  PENDING    copy           -                          -                  2026-03-01T11:59:00Z
`},
		{"no images", func(b *bytes.Buffer) error { return imagesTable(b, []dashboard.Resource{}) }, "\nNo images.\n"},
		{"faults", func(b *bytes.Buffer) error { return faultsTable(b, rules) }, `
ID             KIND           ACCOUNT       REGION     NAME PATTERN  SOURCE ID      FAIL AT       ERROR CODE  ERROR MESSAGE
rule-abcd1234  custom-import  *             *          nightly-*     *              GENERALIZING  -           -
rule-efgh5678  copy           111122223333  eu-west-1  *             wsi-abcdefghi  PENDING       Boom        ` + strings.Repeat("x", 59) + `…
`},
		{"no faults", func(b *bytes.Buffer) error { return faultsTable(b, nil) }, "\nNo fault rules.\n"},
		{"frozen clock", func(b *bytes.Buffer) error {
			return fields(b, clockFields(clockState{Now: t0, Frozen: true, OffsetSeconds: 99}))
		}, `
Service time:  2026-03-01T12:00:00Z
Clock:         frozen, 1m39s ahead of real time
`},
		{"clock with a note", func(b *bytes.Buffer) error {
			return fields(b, clockFields(clockState{Now: t0, Frozen: true, OffsetSeconds: -0.4, Note: "the clock stays ahead"}))
		}, `
Service time:  2026-03-01T12:00:00Z
Clock:         frozen, on real time
Note:          the clock stays ahead
`},
		{"clock ahead", func(b *bytes.Buffer) error {
			return fields(b, clockFields(clockState{Now: t0, OffsetSeconds: 2700.0004}))
		}, `
Service time:  2026-03-01T12:00:00Z
Clock:         running, 45m0s ahead of real time
`},
		{"clock behind", func(b *bytes.Buffer) error { return fields(b, clockFields(clockState{Now: t0, OffsetSeconds: -3})) }, `
Service time:  2026-03-01T12:00:00Z
Clock:         running, 3s behind real time
`},
		{"clock on time", func(b *bytes.Buffer) error {
			return fields(b, clockFields(clockState{Now: t0.Add(time.Millisecond), OffsetSeconds: 0.2}))
		}, `
Service time:  2026-03-01T12:00:00Z
Clock:         running, on real time
`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.TrimPrefix(tt.want, "\n"), b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestImportDetail(t *testing.T) {
	p := importAt("GENERALIZING", dashboard.PhaseInFlight, 9, 75)
	p.Description, p.Source, p.Message = "Windows 11", "ami-0123456789abcdef0", "Running Sysprep."
	p.Stages[10] = dashboard.PipelineStage{State: "VALIDATING", Status: dashboard.StageSkipped, DurationSeconds: 720}
	p.FailurePlan = &dashboard.FailurePlan{Stage: "GENERALIZING", Code: "AppXPackagesInstalled", Message: "AppX.", At: t0.Add(19 * time.Second)}
	var b bytes.Buffer
	if err := importDetail(&b, p, t0.Add(18500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Image ID:             wsi-abcdefghi\n",
		"State:                GENERALIZING (stage 10 of 12)\n",
		"Progress:             75%\n",
		"Expected completion:  -\n",
		"Error:                -\n",
		"Failure plan:         fails at GENERALIZING at 2026-03-01T12:00:19Z with AppXPackagesInstalled: AppX.\n",
		"Service time:         2026-03-01T12:00:18Z\n\n#   STAGE ",
		"\n1   PENDING                       done     2026-03-01T12:00:00Z  2026-03-01T12:00:02Z  2s\n",
		"\n10  GENERALIZING                  current  2026-03-01T12:00:18Z  2026-03-01T12:00:20Z  2s\n",
		"\n11  VALIDATING                    skipped  -                     -                     12m0s\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("detail lacks %q:\n%s", want, b.String())
		}
	}
	if got := stageOf(importAt("ERROR", dashboard.PhaseFailed, 9, 77)); got != "ERROR (failed at GENERALIZING, stage 10 of 12)" {
		t.Errorf("stageOf(failed) = %q", got)
	}
	if got := stageOf(importAt("COMPLETED", dashboard.PhaseCompleted, 12, 100)); got != "COMPLETED" {
		t.Errorf("stageOf(completed) = %q", got)
	}
}

// fakeControl is a control API that answers GET /_wsim/pipelines with the
// next of its pages each time (the last one again once they are used up),
// and GET /_wsim/clock with clock.
type fakeControl struct {
	t     *testing.T
	mu    sync.Mutex
	pages [][]dashboard.Pipeline
	// status, when not 0, answers every pipelines request after the first
	// with it.
	status  int
	clock   clockState
	queries []string
}

func (f *fakeControl) start() *controlClient {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/_wsim/clock":
			json.NewEncoder(w).Encode(f.clock)
		case "/_wsim/pipelines":
			f.queries = append(f.queries, r.URL.RawQuery)
			if f.status != 0 && len(f.queries) > 1 {
				w.WriteHeader(f.status)
				fmt.Fprint(w, `{"error":"the store is unreachable"}`)
				return
			}
			page := f.pages[0]
			if len(f.pages) > 1 {
				f.pages = f.pages[1:]
			}
			if page == nil {
				page = []dashboard.Pipeline{}
			}
			json.NewEncoder(w).Encode(dashboard.PipelinePage{Now: t0.Add(time.Duration(len(f.queries)) * time.Second), Pipelines: page})
		default:
			http.NotFound(w, r)
		}
	}))
	f.t.Cleanup(srv.Close)
	return &controlClient{base: srv.URL, http: srv.Client()}
}

func TestWatch(t *testing.T) {
	pending := importAt("PENDING", dashboard.PhaseInFlight, 0, 0)
	started := importAt("IN_PROGRESS", dashboard.PhaseInFlight, 1, 5)
	done := importAt("COMPLETED", dashboard.PhaseCompleted, 12, 100)
	failed := importAt("ERROR", dashboard.PhaseFailed, 9, 77)
	one := func(p dashboard.Pipeline) []dashboard.Pipeline { return []dashboard.Pipeline{p} }
	header := "Watching wsi-abcdefghi \"golden\" (custom-import) in account 111122223333, Region us-east-1\n"
	for _, tt := range []struct {
		name     string
		pages    [][]dashboard.Pipeline
		status   int
		frozen   bool
		terminal bool
		out      string
		err      string // "" when it succeeds
		note     string
	}{
		{name: "completes", pages: [][]dashboard.Pipeline{one(pending), one(pending), one(started), one(done)}, out: header +
			"2026-03-01T12:00:01Z  PENDING                         0%  stage 1 of 12\n" +
			"2026-03-01T12:00:03Z  IN_PROGRESS                     5%  stage 2 of 12\n" +
			"2026-03-01T12:00:04Z  COMPLETED                     100%\n"},
		{name: "fails", pages: [][]dashboard.Pipeline{one(started), one(failed)}, out: header +
			"2026-03-01T12:00:01Z  IN_PROGRESS                     5%  stage 2 of 12\n" +
			"2026-03-01T12:00:02Z  ERROR                          77%  failed at GENERALIZING: AppXPackagesInstalled\n",
			err: "import wsi-abcdefghi failed at GENERALIZING: AppXPackagesInstalled: AppX packages are installed."},
		{name: "already completed", pages: [][]dashboard.Pipeline{one(done)}, frozen: true, out: header +
			"2026-03-01T12:00:01Z  COMPLETED                     100%\n"},
		{name: "on a terminal", terminal: true, pages: [][]dashboard.Pipeline{one(pending), one(pending), one(started), one(done)}, out: header +
			"\r\x1b[K[░░░░░░░░░░░░░░░░░░░░░░░░]   0%  PENDING (1/12)" +
			"\r\x1b[K[█░░░░░░░░░░░░░░░░░░░░░░░]   5%  IN_PROGRESS (2/12)" +
			"\r\x1b[K[████████████████████████] 100%  COMPLETED\n"},
		{name: "fails on a terminal", terminal: true, pages: [][]dashboard.Pipeline{one(failed)}, out: header +
			"\r\x1b[K[██████████████████░░░░░░]  77%  ERROR at GENERALIZING: AppXPackagesInstalled\n",
			err: "failed at GENERALIZING: AppXPackagesInstalled: AppX packages are installed."},
		{name: "frozen clock", frozen: true, pages: [][]dashboard.Pipeline{one(pending), one(done)}, out: header +
			"2026-03-01T12:00:01Z  PENDING                         0%  stage 1 of 12\n" +
			"2026-03-01T12:00:02Z  COMPLETED                     100%\n",
			note: "wsim: the service clock is frozen at 2026-03-01T12:00:00Z: the import moves only when the clock does"},
		{name: "unknown", pages: [][]dashboard.Pipeline{nil}, err: "has no import wsi-abcdefghi in any account or Region"},
		{name: "vanishes", terminal: true, pages: [][]dashboard.Pipeline{one(pending), nil}, out: header +
			"\r\x1b[K[░░░░░░░░░░░░░░░░░░░░░░░░]   0%  PENDING (1/12)\n",
			err: "import wsi-abcdefghi vanished while watched"},
		{name: "wsim fails", status: http.StatusServiceUnavailable, pages: [][]dashboard.Pipeline{one(pending)}, out: header +
			"2026-03-01T12:00:01Z  PENDING                         0%  stage 1 of 12\n",
			err: "wsim answered 503 Service Unavailable: the store is unreachable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeControl{t: t, pages: tt.pages, status: tt.status, clock: clockState{Now: t0, Frozen: tt.frozen}}
			c := f.start()
			var out, errOut bytes.Buffer
			err := watch(context.Background(), c, "wsi-abcdefghi", watchOptions{Interval: time.Millisecond, Out: &out, Err: &errOut, Terminal: tt.terminal})
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("watch = %v, want an error containing %q", err, tt.err)
			}
			if diff := cmp.Diff(tt.out, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if tt.note == "" && errOut.Len() > 0 || !strings.Contains(errOut.String(), tt.note) {
				t.Errorf("notes = %q, want %q", errOut.String(), tt.note)
			}
			// Found anywhere first, then asked for in its account and Region.
			for i, q := range f.queries {
				want := "id=wsi-abcdefghi&limit=1"
				if i > 0 {
					want = "account=111122223333&id=wsi-abcdefghi&limit=1&region=us-east-1"
				}
				if q != want {
					t.Errorf("query %d = %q, want %q", i, q, want)
				}
			}
		})
	}

	t.Run("interrupted", func(t *testing.T) {
		f := &fakeControl{t: t, pages: [][]dashboard.Pipeline{one(pending)}}
		c := f.start()
		ctx, cancel := context.WithCancel(context.Background())
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() {
			done <- watch(ctx, c, "wsi-abcdefghi", watchOptions{Interval: time.Hour, Out: &out, Err: &out})
		}()
		cancel()
		if err := <-done; err == nil || !strings.Contains(err.Error(), "stopped watching wsi-abcdefghi: context canceled") {
			t.Errorf("watch after its context ended = %v", err)
		}
	})
}

// TestListAll reads every page, or the first limit items, asking for pages
// no larger than the control API gives.
func TestListAll(t *testing.T) {
	const total = 2345
	var sizes []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sizes = append(sizes, q.Get("limit"))
		if q.Get("kind") != "image" {
			t.Errorf("kind = %q", q.Get("kind"))
		}
		n, _ := strconv.Atoi(q.Get("limit"))
		start, _ := strconv.Atoi(q.Get("nextToken"))
		end := min(start+n, total)
		items := []string{}
		for i := start; i < end; i++ {
			items = append(items, fmt.Sprintf(`{"id":"r%d","future":[%d]}`, i, i))
		}
		next := ""
		if end < total {
			next = strconv.Itoa(end)
		}
		fmt.Fprintf(w, `{"now":"2026-03-01T12:00:00Z","resources":[%s],"nextToken":%q}`, strings.Join(items, ","), next)
	}))
	defer srv.Close()
	c := &controlClient{base: srv.URL, http: srv.Client()}
	for _, tt := range []struct {
		limit int
		want  int
		sizes []string
	}{
		{0, total, []string{"1000", "1000", "1000"}},
		{5, 5, []string{"5"}},
		{1500, 1500, []string{"1000", "500"}},
		{5000, total, []string{"1000", "1000", "1000"}},
	} {
		sizes = nil
		items, now, err := c.listAll(context.Background(), "/_wsim/resources", map[string][]string{"kind": {"image"}}, "resources", tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != tt.want || !now.Equal(t0) || !cmp.Equal(sizes, tt.sizes) {
			t.Errorf("limit %d: %d items at %v, page sizes %v; want %d items, sizes %v", tt.limit, len(items), now, sizes, tt.want, tt.sizes)
		}
		if got, want := string(items[len(items)-1]), fmt.Sprintf(`{"id":"r%d","future":[%d]}`, tt.want-1, tt.want-1); got != want {
			t.Errorf("limit %d: last item %s, want %s as wsim sent it", tt.limit, got, want)
		}
	}
}

// TestOperatorCommands runs the commands in-process against a fake control
// API: JSON passes wsim's answers through unchanged, and refusals read well.
func TestOperatorCommands(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "GET /_wsim/pipelines":
			if r.URL.Query().Get("kind") != "custom-import" || r.URL.Query().Get("order") != "newest" {
				t.Errorf("imports list asked for %s", r.URL.RawQuery)
			}
			fmt.Fprint(w, `{"now":"2026-03-01T12:00:00Z","pipelines":[{"resourceId":"wsi-abcdefghi","state":"PENDING","newField":{"a":1}}]}`)
		case "GET /_wsim/clock":
			fmt.Fprint(w, `{"now":"2026-03-01T12:00:00Z","frozen":true,"offsetSeconds":0,"extra":"kept"}`)
		case "POST /_wsim/clock":
			var body map[string]string
			json.NewDecoder(r.Body).Decode(&body)
			if body["action"] != "advance" || body["by"] != "90m" {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":"unexpected %v"}`, body)
				return
			}
			fmt.Fprint(w, `{"now":"2026-03-01T13:30:00Z","frozen":true,"offsetSeconds":0}`)
		case "GET /_wsim/faults":
			fmt.Fprint(w, `{"rules":[]}`)
		case "DELETE /_wsim/faults/rule-missing":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"no fault rule rule-missing"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Setenv("WSIM_ENDPOINT", srv.URL)
	for _, tt := range []struct {
		args []string
		out  string
		err  string
	}{
		{args: []string{"imports", "list", "-o", "json"}, out: "[\n  {\n    \"resourceId\": \"wsi-abcdefghi\",\n    \"state\": \"PENDING\",\n    \"newField\": {\n      \"a\": 1\n    }\n  }\n]\n"},
		{args: []string{"clock", "show", "--output", "json"}, out: "{\n  \"now\": \"2026-03-01T12:00:00Z\",\n  \"frozen\": true,\n  \"offsetSeconds\": 0,\n  \"extra\": \"kept\"\n}\n"},
		{args: []string{"clock", "advance", "90m"}, out: "Service time:  2026-03-01T13:30:00Z\nClock:         frozen, on real time\n"},
		{args: []string{"clock", "advance"}, err: "accepts 1 arg(s), received 0"},
		{args: []string{"clock", "set", "2027-01-01T00:00:00Z"}, err: "wsim answered 400 Bad Request: unexpected map[action:set to:2027-01-01T00:00:00Z]"},
		{args: []string{"faults", "list", "-o", "json"}, out: "[]\n"},
		{args: []string{"faults", "list"}, out: "No fault rules.\n"},
		{args: []string{"faults", "rm", "rule-missing"}, err: "no fault rule rule-missing (wsim faults list shows them)"},
		{args: []string{"faults", "rm", "rule-x", "--all"}, err: "give rule ids or --all, not both"},
		{args: []string{"faults", "add", "--kind", "copy"}, err: `required flag(s) "fail-at" not set`},
		{args: []string{"clock", "show", "-o", "yaml"}, err: `--output must be table or json, not "yaml"`},
		{args: []string{"imports", "list", "--endpoint", "127.0.0.1:4599"}, err: `--endpoint "127.0.0.1:4599" is not an http:// or https:// URL`},
		{args: []string{"imports", "list", "--limit", "-1"}, err: "--limit must be 0 (every import) or more"},
		{args: []string{"imports", "watch", "wsi-abcdefghi", "--interval", "0s"}, err: "--interval must be positive"},
		{args: []string{"imports", "frobnicate"}, err: `unknown command "frobnicate" for "wsim imports"`},
		{args: []string{"images", "list", "--endpoint", "http://127.0.0.1:1"}, err: "cannot reach wsim at http://127.0.0.1:1"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			root := newRoot()
			var out, errOut bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetArgs(tt.args)
			err := root.Execute()
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error = %v, want one containing %q", err, tt.err)
			}
			if tt.err == "" {
				if diff := cmp.Diff(tt.out, out.String()); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestCompletion checks cobra's completion command is there for every shell,
// and that flag values complete.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"completion", shell})
		if err := root.Execute(); err != nil || !strings.Contains(out.String(), "wsim") {
			t.Errorf("completion %s: %v, %d bytes", shell, err, out.Len())
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "imports", "list", "--state", ""}, "in-flight\ncompleted\nfailed\n"},
		{[]string{"__complete", "faults", "add", "--kind", "copy", "--fail-at", ""}, "PENDING\n"},
		{[]string{"__complete", "clock", "--output", ""}, "table\njson\n"},
		{[]string{"__complete", "cl"}, "clock\t"},
	} {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&bytes.Buffer{})
		root.SetArgs(tt.args)
		if err := root.Execute(); err != nil || !strings.HasPrefix(out.String(), tt.want) {
			t.Errorf("%q completes to %q (%v), want it to start with %q", tt.args, out.String(), err, tt.want)
		}
	}
}
