package control_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsim/wsim/internal/control"
	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/webui"
)

func TestWriteEvent(t *testing.T) {
	tests := []struct {
		name, event, data string
		want              string
	}{
		{"one line", "update", `{"a":1}`, "event: update\ndata: {\"a\":1}\n\n"},
		{"no name", "", "x", "data: x\n\n"},
		{"empty data", "ping", "", "event: ping\ndata: \n\n"},
		{"LF", "update", "a\nb", "event: update\ndata: a\ndata: b\n\n"},
		{"CRLF", "update", "a\r\nb", "event: update\ndata: a\ndata: b\n\n"},
		// A lone CR ends a line for the browser too: were it written as
		// it is, "event: evil" would start a field of its own.
		{"CR", "update", "a\revent: evil\rdata: b", "event: update\ndata: a\ndata: event: evil\ndata: data: b\n\n"},
		{"trailing LF", "update", "a\n", "event: update\ndata: a\ndata: \n\n"},
		{"blank lines", "update", "a\n\n\nb", "event: update\ndata: a\ndata: \ndata: \ndata: b\n\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := control.WriteEvent(&b, tt.event, []byte(tt.data)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if b.String() != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, b.String(), tt.want)
		}
	}
	for _, bad := range []string{"a\nb", "a\rb"} {
		var b strings.Builder
		if err := control.WriteEvent(&b, bad, nil); err == nil || b.Len() != 0 {
			t.Errorf("event name %q: %v, wrote %q", bad, err, b.String())
		}
	}
}

func TestDashboardQuery(t *testing.T) {
	tests := []struct {
		query       string
		pipelines   dashboard.PipelineFilter
		catalog     dashboard.CatalogFilter
		wantRefused string
	}{
		{"", dashboard.PipelineFilter{Order: dashboard.OrderNewest}, dashboard.CatalogFilter{}, ""},
		{"account=" + acctA + "&region=us-east-1",
			dashboard.PipelineFilter{Account: acctA, Region: "us-east-1", Order: dashboard.OrderNewest},
			dashboard.CatalogFilter{Account: acctA, Region: "us-east-1"}, ""},
		{"region=eu-west-1&kind=copy&state=failed&resourceKind=bundle",
			dashboard.PipelineFilter{Region: "eu-west-1", Kind: "copy", Phase: "failed", Order: dashboard.OrderNewest},
			dashboard.CatalogFilter{Region: "eu-west-1", Kind: "bundle"}, ""},
		{"limit=5&nextToken=p&resourceNextToken=r&order=key",
			dashboard.PipelineFilter{Limit: 5, NextToken: "p", Order: dashboard.OrderKey},
			dashboard.CatalogFilter{Limit: 5, NextToken: "r"}, ""},
		{"limit=0", dashboard.PipelineFilter{}, dashboard.CatalogFilter{}, "limit"},
		{"limit=x", dashboard.PipelineFilter{}, dashboard.CatalogFilter{}, "limit"},
		{"acount=1", dashboard.PipelineFilter{}, dashboard.CatalogFilter{}, `unknown parameter "acount"`},
		{"id=wsi-1", dashboard.PipelineFilter{ID: "wsi-1", Order: dashboard.OrderNewest}, dashboard.CatalogFilter{}, ""},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		pf, cf, err := control.DashboardQuery(q)
		if tt.wantRefused != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantRefused) {
				t.Errorf("%q: error %v, want one about %s", tt.query, err, tt.wantRefused)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		if diff := cmp.Diff(tt.pipelines, pf); diff != "" {
			t.Errorf("%q pipelines (-want +got):\n%s", tt.query, diff)
		}
		if diff := cmp.Diff(tt.catalog, cf); diff != "" {
			t.Errorf("%q catalogue (-want +got):\n%s", tt.query, diff)
		}
	}
}

// event is one server-sent event, or a comment.
type event struct {
	name, data, comment, retry string
}

// stream is an open GET /_wsim/events.
type stream struct {
	t      *testing.T
	resp   *http.Response
	events chan event
	cancel context.CancelFunc
}

// openStream opens the event stream of query on the server at base.
func openStream(t *testing.T, base, query string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_wsim/events"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &stream{t: t, resp: resp, events: make(chan event, 100), cancel: cancel}
	t.Cleanup(s.close)
	if resp.StatusCode != http.StatusOK {
		return s
	}
	go func() {
		defer close(s.events)
		br := bufio.NewReader(resp.Body)
		var ev event
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				select {
				case s.events <- ev:
				case <-ctx.Done():
					return
				}
				ev = event{}
			case strings.HasPrefix(line, ":"):
				ev.comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				if ev.data != "" {
					ev.data += "\n"
				}
				ev.data += line[len("data: "):]
			case strings.HasPrefix(line, "retry: "):
				ev.retry = line[len("retry: "):]
			default:
				s.t.Errorf("a line the tests do not expect: %q", line)
			}
		}
	}()
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the next event, or fails the test after a few seconds.
func (s *stream) next() event {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		s.t.Fatal("no event within 5 s")
	}
	return event{}
}

// update returns the next update, skipping heartbeats.
func (s *stream) update() webui.Update {
	s.t.Helper()
	for {
		ev := s.next()
		if ev.comment != "" || ev.retry != "" && ev.name == "" && ev.data == "" {
			continue
		}
		if ev.name != "update" {
			s.t.Fatalf("event %+v, want an update", ev)
		}
		var u webui.Update
		if err := json.Unmarshal([]byte(ev.data), &u); err != nil {
			s.t.Fatalf("update %q: %v", ev.data, err)
		}
		return u
	}
}

// TestEvents follows the event stream of one account's dashboard as the
// clock moves: the first update is the whole page, then only what changed;
// a still page gets heartbeats only; what users control stays escaped.
func TestEvents(t *testing.T) {
	w := newWorld(t)
	srv := httptest.NewServer(control.New(w.svc, control.WithEventStreams(10*time.Millisecond, 100*time.Millisecond, 4)))
	t.Cleanup(srv.Close) // after the streams' cleanups, which close them

	s := openStream(t, srv.URL, "?account="+acctB)
	if ct := s.resp.Header.Get("Content-Type"); s.resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("GET /_wsim/events: %d %s", s.resp.StatusCode, ct)
	}
	if ev := s.next(); ev.retry != "3000" {
		t.Errorf("first event %+v, want retry: 3000", ev)
	}
	first := s.update()
	if !first.Frozen || !first.Now.Equal(t0) || len(first.HTML) != 7 {
		t.Errorf("first update: frozen %v, now %v, %d parts", first.Frozen, first.Now, len(first.HTML))
	}
	doomedKey := acctB + "/eu-west-1/" + w.ids["doomed"]
	if got := first.Rows[webui.PartPipelines].Keys; !cmp.Equal(got, []string{doomedKey}) {
		t.Errorf("pipelines of account B = %v, want only doomed", got)
	}
	if got := first.Rows[webui.PartResources].Keys; len(got) != 1 || !strings.HasPrefix(got[0], "image/"+acctB) {
		t.Errorf("resources of account B = %v", got)
	}
	if row := first.Rows[webui.PartPipelines].Changed[doomedKey]; !strings.Contains(row, "PENDING") {
		t.Errorf("doomed's row = %s", row)
	}

	// Frozen, the page does not change: heartbeats only.
	deadline := time.After(350 * time.Millisecond)
	heartbeats := 0
	for done := false; !done; {
		select {
		case ev := <-s.events:
			if ev.comment != "heartbeat" {
				t.Errorf("a frozen page sent %+v", ev)
			}
			heartbeats++
		case <-deadline:
			done = true
		}
	}
	if heartbeats < 1 || heartbeats > 5 {
		t.Errorf("%d heartbeats in 350 ms, want about 3", heartbeats)
	}

	// Moved, the clock and doomed's row change, nothing else.
	w.post("/_wsim/clock", `{"action":"advance","by":"10s"}`, http.StatusOK)
	u := s.update()
	if _, ok := u.HTML[webui.PartClock]; !ok || len(u.HTML) != 1 || !u.Now.Equal(t0.Add(10*time.Second)) {
		t.Errorf("after advancing: parts %v, now %v", u.HTML, u.Now)
	}
	if ru := u.Rows[webui.PartPipelines]; len(ru.Changed) != 1 || !strings.Contains(ru.Changed[doomedKey], "Stage 4 of 12: IMAGE_TESTING_START") {
		t.Errorf("after advancing, pipelines = %+v", ru)
	}
	if _, ok := u.Rows[webui.PartResources]; ok {
		t.Errorf("the resources, still PENDING, were sent again")
	}

	// Failed, the hostile message arrives escaped.
	w.post("/_wsim/clock", `{"action":"advance","by":"30s"}`, http.StatusOK)
	row := s.update().Rows[webui.PartPipelines].Changed[doomedKey]
	if !strings.Contains(row, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") || strings.Contains(row, hostile) {
		t.Errorf("the failed row is missing the message or has it unescaped:\n%s", row)
	}
}

// TestEventsSince checks that a stream opened with the version of the page
// the client drew sends nothing until the page changes, and then only what
// changed; with another version, it sends everything.
func TestEventsSince(t *testing.T) {
	w := newWorld(t)
	srv := httptest.NewServer(control.New(w.svc, control.WithEventStreams(10*time.Millisecond, 50*time.Millisecond, 4)))
	t.Cleanup(srv.Close)

	html := w.get("/_wsim/?account="+acctA, http.StatusOK).Body.String()
	m := regexp.MustCompile(`data-version="([0-9a-f]+)"`).FindStringSubmatch(html)
	if m == nil {
		t.Fatal("the page has no data-version")
	}
	s := openStream(t, srv.URL, "?account="+acctA+"&since="+m[1])
	s.next() // retry
	if ev := s.next(); ev.comment != "heartbeat" {
		t.Errorf("a stream since the page as it is sent %+v, want a heartbeat", ev)
	}
	w.post("/_wsim/clock", `{"action":"advance","by":"10s"}`, http.StatusOK)
	if u := s.update(); len(u.HTML) != 1 || len(u.Rows) != 1 || len(u.Rows[webui.PartPipelines].Changed) != 1 {
		t.Errorf("after advancing: %d parts, rows %+v; want the clock and golden's row", len(u.HTML), u.Rows)
	}

	stale := openStream(t, srv.URL, "?account="+acctA+"&since="+m[1])
	if u := stale.update(); len(u.HTML) != 7 || len(u.Rows) != 2 {
		t.Errorf("a stream since an older page sent %d parts and %d tables, want everything", len(u.HTML), len(u.Rows))
	}
}

// TestEventsRefused checks the answers before any event: a bad filter, and
// too many streams; and that a stream's slot is freed when its client goes.
func TestEventsRefused(t *testing.T) {
	w := newWorld(t)
	srv := httptest.NewServer(control.New(w.svc, control.WithEventStreams(10*time.Millisecond, time.Second, 1)))
	t.Cleanup(srv.Close) // after the streams' cleanups, which close them

	for _, tt := range []struct {
		query  string
		status int
		err    string
	}{
		{"?kind=nightly", http.StatusBadRequest, "unknown kind"},
		{"?acount=1", http.StatusBadRequest, "unknown parameter"},
	} {
		s := openStream(t, srv.URL, tt.query)
		var body map[string]string
		json.NewDecoder(s.resp.Body).Decode(&body)
		if s.resp.StatusCode != tt.status || !strings.Contains(body["error"], tt.err) {
			t.Errorf("%s: %d %v", tt.query, s.resp.StatusCode, body)
		}
	}

	first := openStream(t, srv.URL, "")
	first.update()
	second := openStream(t, srv.URL, "")
	if second.resp.StatusCode != http.StatusServiceUnavailable || second.resp.Header.Get("Retry-After") == "" {
		t.Errorf("a stream beyond the bound: %d, Retry-After %q", second.resp.StatusCode, second.resp.Header.Get("Retry-After"))
	}

	// The first client goes away; its stream stops and frees its slot.
	first.close()
	for start := time.Now(); ; {
		s := openStream(t, srv.URL, "")
		if s.resp.StatusCode == http.StatusOK {
			s.update()
			break
		}
		s.close()
		if time.Since(start) > 5*time.Second {
			t.Fatal("the slot of a stream whose client left was not freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEventsEndOnShutdown checks that open streams do not hold up a
// server's graceful shutdown.
func TestEventsEndOnShutdown(t *testing.T) {
	w := newWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: control.New(w.svc, control.WithEventStreams(10*time.Millisecond, time.Second, 4))}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	s := openStream(t, "http://"+ln.Addr().String(), "")
	s.update()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with an open stream: %v after %v", err, time.Since(start))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	for ev := range s.events {
		if ev.comment == "" {
			t.Errorf("an event after shutdown: %+v", ev)
		}
	}
}
