package server

// This file bounds what one wsim process takes on at once (docs/security.md,
// "Limits"): open connections, requests in flight and the time a request's
// body may take to arrive. Without these, 1,250 stalled uploads held as many
// file descriptors until the process ran out and the API and the health
// check went down with it.

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/awsjson"
)

// Defaults of wsim serve's --max-connections, --max-requests,
// --read-header-timeout, --read-timeout and --idle-timeout.
const (
	DefaultMaxConnections    = 1024
	DefaultMaxRequests       = 256
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

// Paths the request limit leaves alone: the health check and the metrics,
// so that a monitor can tell "busy" from "down" (and see how busy) while the
// API throttles, and the dashboard's event streams, which stay open for as
// long as a page does and have a cap of their own.
var unlimitedPaths = map[string]bool{
	"/_wsim/health": true,
	"/_wsim/events": true,
	"/metrics":      true,
}

// reservedFiles are the descriptors kept out of the connections' share of
// the open-file limit: the store's files and connections, the listener,
// standard streams and what the runtime opens.
const reservedFiles = 64

// FitMaxConnections lowers max so that that many connections, with
// reservedFiles descriptors to spare, fit in the process's open-file limit:
// a limit above it would let connections exhaust the descriptors before the
// listener's limit applies, and take the store and the health check down
// with them. It returns the open-file limit too (0 when unknown, and then
// max unchanged); max 0 (no limit) is kept.
func FitMaxConnections(max int) (int, uint64) {
	nofile := openFileLimit()
	return fitConnections(max, nofile), nofile
}

func fitConnections(max int, nofile uint64) int {
	if max <= 0 || nofile == 0 {
		return max
	}
	room := 1
	if nofile > reservedFiles+1 {
		room = int(min(nofile-reservedFiles, 1<<30))
	}
	return min(max, room)
}

// LimitListener returns a listener that keeps at most max connections open:
// beyond that, Accept waits until one closes, and new connections wait in
// the kernel's accept queue (whose length the kernel bounds). max <= 0 means
// no limit.
func LimitListener(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// RequestLimits configures LimitRequests.
type RequestLimits struct {
	// MaxRequests is how many requests may be in flight at once; beyond it
	// a request is answered at once, never queued. <= 0 means no limit.
	MaxRequests int
	// BodyTimeout bounds the time from the end of a request's headers to the
	// end of its body. 0 means no limit.
	BodyTimeout time.Duration
	// Logger, when set, gets a line per throttled request.
	Logger *slog.Logger
	// Registry, when set, receives wsim_requests_throttled_total and, with
	// a limit, wsim_requests_in_flight.
	Registry prometheus.Registerer
}

// LimitRequests wraps h with the limits: a request beyond MaxRequests gets
// ThrottlingException (HTTP 400 in AWS JSON, as AWS throttles), or for the
// control plane a 429; a request body not read within BodyTimeout fails the
// read with os.ErrDeadlineExceeded, which the API answers with
// RequestTimeoutException.
func LimitRequests(h http.Handler, l RequestLimits) http.Handler {
	if l.Logger == nil {
		l.Logger = slog.New(slog.DiscardHandler)
	}
	lh := &limitedHandler{next: h, limits: l}
	if l.MaxRequests > 0 {
		lh.slots = make(chan struct{}, l.MaxRequests)
	}
	if l.Registry != nil {
		lh.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsim_requests_throttled_total", Help: "Requests answered at once because --max-requests were in flight, by plane (api or control).",
		}, []string{"plane"})
		for _, plane := range []string{planeAPI, planeControl} {
			lh.throttled.WithLabelValues(plane) // shown at 0 from the start
		}
		l.Registry.MustRegister(lh.throttled)
		if lh.slots != nil {
			l.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "wsim_requests_in_flight", Help: "Requests holding one of the --max-requests slots now.",
			}, func() float64 { return float64(len(lh.slots)) }))
		}
	}
	return lh
}

// Planes of wsim_requests_throttled_total.
const (
	planeAPI     = "api"
	planeControl = "control"
)

type limitedHandler struct {
	next      http.Handler
	limits    RequestLimits
	slots     chan struct{}
	throttled *prometheus.CounterVec
}

func (lh *limitedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if lh.slots != nil && !unlimitedPaths[r.URL.Path] {
		select {
		case lh.slots <- struct{}{}:
			defer func() { <-lh.slots }()
		default:
			plane := planeAPI
			if isControlPath(r.URL.Path) {
				plane = planeControl
			}
			if lh.throttled != nil {
				lh.throttled.WithLabelValues(plane).Inc()
			}
			lh.limits.Logger.LogAttrs(r.Context(), slog.LevelWarn, "request throttled",
				slog.String("plane", plane), slog.String("path", r.URL.Path), slog.Int("max_requests", lh.limits.MaxRequests))
			throttle(w, r, lh.limits.MaxRequests)
			return
		}
	}
	if lh.limits.BodyTimeout > 0 && r.Body != nil && r.Body != http.NoBody {
		rc := http.NewResponseController(w)
		// A server that cannot set deadlines (a test's recorder) serves
		// without one.
		if rc.SetReadDeadline(time.Now().Add(lh.limits.BodyTimeout)) == nil {
			r.Body = &deadlineBody{body: r.Body, rc: rc}
		}
	}
	lh.next.ServeHTTP(w, r)
}

// deadlineBody lifts the read deadline once the body has been read to its
// end: net/http's background read, which notices a client going away
// during a long handler, must not stop at the deadline (that cancels the
// request's context).
type deadlineBody struct {
	body io.ReadCloser
	rc   *http.ResponseController
	once sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		b.lift()
	}
	return n, err
}

func (b *deadlineBody) Close() error { return b.body.Close() }

func (b *deadlineBody) lift() { b.once.Do(func() { b.rc.SetReadDeadline(time.Time{}) }) }

// errRequestTimeout answers a request whose body did not arrive in time, in
// the words AWS uses for a socket left idle (a 4xx: the client stalled).
var errRequestTimeout = &api.Error{Code: "RequestTimeoutException", Status: http.StatusRequestTimeout,
	Message: "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."}

// throttle answers a request beyond the limit: in AWS JSON with
// ThrottlingException for the API, which every AWS SDK retries with
// backoff, and as the control plane answers errors under /_wsim/.
func throttle(w http.ResponseWriter, r *http.Request, max int) {
	w.Header().Set("Retry-After", "1")
	if isControlPath(r.URL.Path) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":"wsim has ` + strconv.Itoa(max) + ` requests in flight, its limit (--max-requests); retry"}` + "\n"))
		return
	}
	err := &api.Error{Code: "ThrottlingException", Status: http.StatusBadRequest, Message: "Rate exceeded"}
	body := awsjson.EncodeError(err)
	w.Header()["x-amzn-RequestId"] = []string{newRequestID()}
	w.Header()["X-Amzn-ErrorType"] = []string{err.Code}
	w.Header().Set("Content-Type", awsjson.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(err.Status)
	w.Write(body)
}

func isControlPath(p string) bool {
	return strings.HasPrefix(p, "/_wsim/") || strings.HasPrefix(p, "/moto-api/")
}
