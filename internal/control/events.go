package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wsim/wsim/internal/webui"
)

// Defaults of the dashboard's event streams.
const (
	// DefaultEventInterval is how often a stream recomputes its page.
	DefaultEventInterval = 500 * time.Millisecond
	// DefaultEventHeartbeat is how long a stream stays silent at most: a
	// comment line then keeps proxies and the browser from timing it out.
	DefaultEventHeartbeat = 15 * time.Second
	// DefaultMaxEventStreams is how many streams may be open at once.
	DefaultMaxEventStreams = 16
	// eventRetry is the reconnection delay a stream asks the browser for.
	eventRetry = 3 * time.Second
)

// streams are the dashboard's open event streams.
type streams struct {
	interval, heartbeat time.Duration
	slots               chan struct{}

	mu sync.Mutex
	// closing holds, for each http.Server the streams were served by, a
	// channel closed when it shuts down: http.Server.Shutdown waits for
	// connections to go idle, which a stream never does by itself.
	closing map[*http.Server]chan struct{}
}

// WithEventStreams sets how often the dashboard's event streams recompute
// their page, how long they stay silent at most, and how many may be open
// at once (the Default... constants otherwise).
func WithEventStreams(interval, heartbeat time.Duration, max int) Option {
	return func(h *Handler) { h.streams = newStreams(interval, heartbeat, max) }
}

func newStreams(interval, heartbeat time.Duration, max int) *streams {
	return &streams{interval: interval, heartbeat: heartbeat, slots: make(chan struct{}, max), closing: map[*http.Server]chan struct{}{}}
}

// shutdown returns the channel closed when the server of r shuts down (nil,
// which never fires, when r has no server, as under httptest.NewRecorder).
func (s *streams) shutdown(r *http.Request) <-chan struct{} {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.closing[srv]
	if !ok {
		ch = make(chan struct{})
		s.closing[srv] = ch
		srv.RegisterOnShutdown(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			close(ch)
			delete(s.closing, srv)
		})
	}
	return ch
}

// events serves GET /_wsim/events: the dashboard's live updates as
// server-sent events, for the filter in the query (the dashboard's own).
// Every interval it computes the page as the dashboard would and, when
// anything on it changed since it last sent, sends one "update" event: a
// JSON webui.Update of the parts and rows that changed (everything, the
// first time, unless the query's since is the webui.Live.Version of the
// page as it is: the client has drawn that already). A comment line is sent
// when it has been silent for a heartbeat. It stops when the client goes away or the server shuts down.
// A refused filter is answered 400 and too many open streams 503, both as
// JSON errors, before any event.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since := q.Get("since")
	q.Del("since")
	if p, status := h.page(r.Context(), q); status == http.StatusBadRequest {
		writeError(w, status, errors.New(p.Problem))
		return
	}
	select {
	case h.streams.slots <- struct{}{}:
		defer func() { <-h.streams.slots }()
	default:
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("too many live dashboards: at most %d event streams may be open at once", cap(h.streams.slots)))
		return
	}
	ctx, closing := r.Context(), h.streams.shutdown(r)
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives any write timeout; no deadline is fine too
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &flushWriter{w: w, rc: rc}
	if fmt.Fprintf(out, "retry: %d\n\n", eventRetry.Milliseconds()); out.err != nil {
		return
	}
	tick := time.NewTicker(h.streams.interval)
	defer tick.Stop()
	var prev *webui.Live
	quiet := time.Now()
	for {
		p, _ := h.page(ctx, q) // a failure is the page's Problem, sent like any change
		if ctx.Err() != nil {
			return
		}
		live, err := webui.Snapshot(p)
		if err != nil {
			live = webui.Live{HTML: map[string]string{webui.PartProblem: err.Error()}}
		}
		if prev == nil && since != "" && live.Version() == since {
			prev = &live // the client has this already
		} else if u, changed := live.Since(prev); changed {
			var data bytes.Buffer
			enc := json.NewEncoder(&data)
			enc.SetEscapeHTML(false) // parsed by JSON.parse, never part of a page
			enc.Encode(u)
			if writeEvent(out, "update", bytes.TrimSuffix(data.Bytes(), []byte("\n"))); out.err != nil {
				return
			}
			prev, quiet = &live, time.Now()
		} else if time.Since(quiet) >= h.streams.heartbeat {
			if io.WriteString(out, ": heartbeat\n\n"); out.err != nil {
				return
			}
			quiet = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-closing:
			return
		case <-tick.C:
		}
	}
}

// flushWriter sends each write to the client at once, and keeps the first
// error, after which it writes nothing.
type flushWriter struct {
	w   io.Writer
	rc  *http.ResponseController
	err error
}

func (f *flushWriter) Write(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.w.Write(b)
	if err == nil {
		err = f.rc.Flush()
	}
	f.err = err
	return n, err
}

// writeEvent writes one server-sent event: its name, then its data a line
// at a time (any line break in data, CR, LF or CRLF, starts a new "data:"
// line, which the browser joins with LF), then the blank line that ends it.
// The name must be one line.
func writeEvent(w io.Writer, event string, data []byte) error {
	if strings.ContainsAny(event, "\r\n") {
		return fmt.Errorf("event name %q is not one line", event)
	}
	var b bytes.Buffer
	if event != "" {
		b.WriteString("event: ")
		b.WriteString(event)
		b.WriteByte('\n')
	}
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		b.WriteString("data: ")
		b.Write(data[:i])
		b.WriteByte('\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	_, err := w.Write(b.Bytes())
	return err
}
