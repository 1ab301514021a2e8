// Package server is the HTTP edge of wsim: it routes AWS JSON 1.1 requests to
// the operation table (and STS query-protocol requests, which carry no
// X-Amz-Target, to package sts), renders every outcome as an AWS-shaped
// response, logs one line per request and counts it in the metrics. Nothing
// below it knows about HTTP.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/awsjson"
	"github.com/wsim/wsim/internal/store"
	"github.com/wsim/wsim/internal/sts"
)

// DefaultMaxBodyBytes bounds a request body. WorkSpaces requests are small;
// the largest modelled member is a 1.77 MB logo, sent base64-encoded.
const DefaultMaxBodyBytes = 4 << 20

// Options configures a Server.
type Options struct {
	// API is the dispatch table of the implemented operations.
	API *api.Registry
	// Defaults name the caller of unsigned requests and of access keys that
	// are not account ids.
	Defaults auth.Defaults
	Logger   *slog.Logger
	// MaxBodyBytes bounds request bodies (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// Control, when set, serves everything under /_wsim/ and /moto-api/.
	Control http.Handler
	// Registry, when set, receives the request metrics and is served at /metrics.
	Registry *prometheus.Registry
	// Guard, when set, checks every request's Host, and the control plane's
	// writes and token, before routing (guard.go). Only tests of the edge
	// itself leave it nil.
	Guard *GuardOptions
	// Verifier, when set, checks every request's SigV4 signature (--auth
	// sigv4); without it the caller is read from the credential scope,
	// unchecked (the friendly mode).
	Verifier *auth.Verifier
	// Authorize, when set, is asked whether the caller may call the
	// operation with the decoded input (identity policies, package iam).
	Authorize func(ctx context.Context, c auth.Caller, operation string, in any) error
}

// Kinds of wsim_store_errors_total: the store could not be reached (or did
// not answer in time), or something else failed inside wsim.
const (
	StoreErrorUnavailable = "unavailable"
	StoreErrorInternal    = "internal"
)

// Server is the http.Handler of a wsim endpoint.
type Server struct {
	opts        Options
	mux         *http.ServeMux
	handler     http.Handler // mux, behind the guard when there is one
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
}

// New returns a server for opts.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	if opts.Registry != nil {
		s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsim_api_requests_total", Help: "API requests by operation and HTTP status.",
		}, []string{"operation", "status"})
		s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wsim_api_request_duration_seconds", Help: "API request latency by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"operation"})
		s.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsim_api_errors_total", Help: "API requests answered with an error, by operation and error code.",
		}, []string{"operation", "code"})
		s.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsim_store_errors_total", Help: "API requests failed inside wsim: the store unavailable (503) or an internal failure (500).",
		}, []string{"kind"})
		for _, kind := range []string{StoreErrorUnavailable, StoreErrorInternal} {
			s.storeErrors.WithLabelValues(kind) // shown at 0 from the start
		}
		opts.Registry.MustRegister(s.requests, s.duration, s.errors, s.storeErrors)
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{}))
	}
	if opts.Control != nil {
		s.mux.Handle("/_wsim/", opts.Control)
		// moto's server-mode reset, which its test decorator posts to.
		s.mux.Handle("/moto-api/", opts.Control)
		s.mux.HandleFunc("GET /{$}", s.serveRoot)
	}
	s.mux.HandleFunc("/", s.serveAPI)
	s.handler = s.mux
	if opts.Guard != nil {
		s.handler = newGuard(*opts.Guard, s.mux, opts.Logger)
	}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// serveRoot sends a browser that opens wsim's address to the dashboard;
// anything else asking GET / is an API client that gets the API's error (or
// an STS answer for ?Action=...).
func (s *Server) serveRoot(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") == "" && strings.Contains(r.Header.Get("Accept"), "text/html") && !r.URL.Query().Has("Action") {
		http.Redirect(w, r, "/_wsim/", http.StatusFound)
		return
	}
	s.serveAPI(w, r)
}

// exchange is one API request on its way through the server.
type exchange struct {
	id        string
	operation string
	caller    auth.Caller
	status    int
	// code is the error code answered, "" on success.
	code string
}

// answerBuffers hold the buffers answers are encoded into: a page of 25
// images is some 15 KB, which growing a new buffer for every answer
// allocated several times over. ResponseWriter.Write copies what it is
// given, so a buffer is free again once the answer is written.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledAnswer keeps a rare huge answer's buffer from being held.
const maxPooledAnswer = 1 << 20

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	x := &exchange{id: newRequestID(), operation: "-"}
	w.Header()["x-amzn-RequestId"] = []string{x.id} // AWS spells it so; set directly to keep the spelling
	defer s.record(r, x, start)
	if s.opts.Verifier != nil {
		s.bufferBody(r)
	}
	if r.Header.Get("X-Amz-Target") == "" {
		// No WorkSpaces request: perhaps an STS query-protocol one.
		if req, ok := sts.Read(r, s.opts.MaxBodyBytes); ok {
			s.serveSTS(w, r, x, req)
			return
		}
	}
	buf := answerBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxPooledAnswer {
			answerBuffers.Put(buf)
		}
	}()
	body, err := s.handle(r, x, (*buf)[:0])
	if cap(body) > cap(*buf) {
		*buf = body[:0] // grown: keep the larger buffer
	}
	if err != nil {
		apiErr := s.wireError(r.Context(), x, err)
		x.status, x.code = apiErr.HTTPStatus(), apiErr.ErrorCode()
		body = awsjson.EncodeError(apiErr)
		// AWS JSON services name the error in a header too; some clients
		// read it before the body.
		w.Header()["X-Amzn-ErrorType"] = []string{apiErr.ErrorCode()}
	} else {
		x.status = http.StatusOK
	}
	w.Header().Set("Content-Type", awsjson.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(x.status)
	w.Write(body)
}

// serveSTS answers an STS query-protocol request (package sts), signed for
// the signing name sts.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, x *exchange, req sts.Request) {
	caller, err := s.identify(r, auth.STSSigningName)
	if err == nil {
		x.caller = caller
	}
	resp := sts.Serve(req, caller, err, x.id)
	if resp.Operation != "" {
		x.operation = resp.Operation
	}
	x.status, x.code = resp.Status, resp.Code
	w.Header().Set("Content-Type", sts.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(x.status)
	w.Write(resp.Body)
}

// record logs the request's line, with its error code when it failed, and
// counts it in the metrics.
func (s *Server) record(r *http.Request, x *exchange, start time.Time) {
	elapsed := time.Since(start)
	attrs := []slog.Attr{
		slog.String("operation", x.operation),
		slog.String("account", x.caller.Account),
		slog.String("region", x.caller.Region),
		slog.Int("status", x.status),
		slog.Duration("duration", elapsed),
		slog.String("request_id", x.id),
	}
	if x.code != "" {
		attrs = append(attrs, slog.String("error_code", x.code))
	}
	s.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	if s.requests != nil {
		s.requests.WithLabelValues(x.operation, strconv.Itoa(x.status)).Inc()
		s.duration.WithLabelValues(x.operation).Observe(elapsed.Seconds())
		if x.code != "" {
			s.errors.WithLabelValues(x.operation, x.code).Inc()
		}
	}
}

// handle runs one API request and returns the response body, or the error to
// render instead.
func (s *Server) handle(r *http.Request, x *exchange, dst []byte) (body []byte, err error) {
	target := r.Header.Get("X-Amz-Target")
	if target == "" {
		return nil, &api.Error{Code: "UnknownOperationException", Status: http.StatusBadRequest,
			Message: "Missing X-Amz-Target header: every WorkSpaces request is a POST naming its operation as " + api.TargetPrefix + ".<Operation>."}
	}
	name, ok := strings.CutPrefix(target, api.TargetPrefix+".")
	op := api.Operations[name]
	if !ok || op == nil {
		return nil, &api.Error{Code: "UnknownOperationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Unknown operation %q.", target)}
	}
	x.operation = op.Name
	if r.Method != http.MethodPost {
		return nil, &api.Error{Code: "UnknownOperationException", Status: http.StatusMethodNotAllowed,
			Message: "WorkSpaces operations are called with POST, not " + r.Method + "."}
	}
	if s.opts.Verifier == nil {
		if x.caller, err = s.identify(r, auth.SigningName); err != nil {
			return nil, err
		}
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The body did not arrive within --read-timeout (limit.go).
		return nil, errRequestTimeout
	}
	if err != nil {
		return nil, &api.Error{Code: "SerializationException", Status: http.StatusBadRequest,
			Message: "The request body could not be read."}
	}
	if int64(len(raw)) > s.opts.MaxBodyBytes {
		return nil, &api.Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("The request body exceeds the limit of %d bytes.", s.opts.MaxBodyBytes)}
	}
	if s.opts.Verifier != nil {
		// The signature covers the body, so it is checked once the body is read.
		if x.caller, err = s.identify(r, auth.SigningName); err != nil {
			return nil, err
		}
	}
	in := op.NewInput()
	if err := awsjson.Decode(raw, in); err != nil {
		return nil, err
	}
	if s.opts.Authorize != nil {
		if err := s.opts.Authorize(r.Context(), x.caller, op.Name, in); err != nil {
			return nil, err
		}
	}
	out, err := s.opts.API.Dispatch(auth.WithCaller(r.Context(), x.caller), op, in)
	if err != nil {
		return nil, err
	}
	return awsjson.AppendOutput(dst, out)
}

// identify returns the caller of r, a request to the service with the
// signing name service: its verified signature's (Verifier), or the one its
// credential scope names (the friendly mode).
func (s *Server) identify(r *http.Request, service string) (auth.Caller, error) {
	if s.opts.Verifier == nil {
		return auth.FromRequestFor(r, s.opts.Defaults, service)
	}
	body, _ := r.Context().Value(bodyKey{}).([]byte)
	return s.opts.Verifier.Verify(r, body, service)
}

type bodyKey struct{}

// bufferBody reads r's body (up to MaxBodyBytes+1 bytes, so that the
// handler still sees a body too large) so that the signature can cover it,
// and gives r a body that reads the same bytes again, then fails as the
// original read did.
func (s *Server) bufferBody(r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), errReader{err}))
	*r = *r.WithContext(context.WithValue(r.Context(), bodyKey{}, raw))
}

// errReader fails reads with err (io.EOF when nil).
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

// StatusClientClosedRequest is what a request the client gave up on is
// logged and counted with: it is not an internal failure.
const StatusClientClosedRequest = 499

// wireError is the one place where failures become what the client sees: AWS
// errors as they are; a store that can't be reached, or didn't answer in
// time, a retryable 503; a request its client cancelled is logged at info;
// anything else is an InternalFailure whose cause is logged, never sent.
func (s *Server) wireError(ctx context.Context, x *exchange, err error) api.APIError {
	var apiErr api.APIError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		s.opts.Logger.Info("request cancelled by the client", "request_id", x.id, "operation", x.operation)
		return &api.Error{Code: "RequestCanceled", Status: StatusClientClosedRequest, Message: "The client cancelled the request."}
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		s.countStoreError(StoreErrorUnavailable)
		s.opts.Logger.Warn("store unavailable", "request_id", x.id, "operation", x.operation, "err", err)
		return &api.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable,
			Message: "The service is temporarily unable to reach its store. Retry the request."}
	}
	s.countStoreError(StoreErrorInternal)
	s.opts.Logger.Error("internal failure", "request_id", x.id, "operation", x.operation, "err", err)
	return &api.Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
		Message: "The request processing has failed because of an unknown error, exception or failure."}
}

func (s *Server) countStoreError(kind string) {
	if s.storeErrors != nil {
		s.storeErrors.WithLabelValues(kind).Inc()
	}
}

func newRequestID() string { return uuid.NewString() }
