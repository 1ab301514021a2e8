package process

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
)

// Endpoint is a running wsim reached over HTTP at URL, whatever runs it: a
// `wsim serve` process (Server embeds an Endpoint) or a server inside the test
// process (package wsimtest serves the same API and control plane). Its
// methods are what the end-to-end tests need of it: an aws-sdk-go-v2
// WorkSpaces client, the control plane under URL+"/_wsim/" (service clock,
// fault rules) and raw HTTP for protocol tests.
type Endpoint struct {
	// URL is the base URL of the API and of the control plane, e.g. http://127.0.0.1:43121.
	URL string

	http *http.Client
}

// NewEndpoint returns an Endpoint for the wsim serving at url, with an HTTP
// client of its own; CloseIdleConnections closes its connections.
func NewEndpoint(url string) Endpoint {
	return Endpoint{URL: url, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}}
}

// CloseIdleConnections closes the connections Raw, Do and the control
// methods keep open, as after the server stopped.
func (e *Endpoint) CloseIdleConnections() { e.http.CloseIdleConnections() }

// Port returns the TCP port of URL.
func (e *Endpoint) Port() int {
	u, _ := url.Parse(e.URL)
	n, _ := strconv.Atoi(u.Port())
	return n
}

// Client returns a WorkSpaces client for the account and Region: wsim takes a
// 12-digit access key id as the account. So that error tests are fast and
// deterministic, it retries nothing the service answers (no throttling or 5xx
// retries) and only retries, at once, a connection the client itself broke:
// aws-sdk-go-v2 can close a connection while reading a response that arrived
// before it finished writing the request, which loopback makes frequent
// (aws/aws-sdk-go-v2#2737; its default retryer retries that too). optFns may
// change all this.
func (e *Endpoint) Client(t testing.TB, account, region string, optFns ...func(*workspaces.Options)) *workspaces.Client {
	t.Helper()
	opts := workspaces.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(account, "test", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.RateLimiter = ratelimit.None
		}),
	}
	return workspaces.New(opts, optFns...)
}

// ClockState is the service clock as GET /_wsim/clock shows it.
type ClockState struct {
	Now           time.Time  `json:"now"`
	Epoch         float64    `json:"epoch"`
	Frozen        bool       `json:"frozen"`
	OffsetSeconds float64    `json:"offsetSeconds"`
	FrozenAt      *time.Time `json:"frozenAt"`
	// Note explains a reset that could not return to real time.
	Note string `json:"note"`
}

// Health is what GET /_wsim/health answers.
type Health struct {
	Status         string            `json:"status"`
	Reason         string            `json:"reason"`
	Version        string            `json:"version"`
	Store          string            `json:"store"`
	StoreWritable  bool              `json:"storeWritable"`
	Profile        string            `json:"profile"`
	StageOverrides map[string]string `json:"stageOverrides"`
	BYOL           string            `json:"byol"`
	Clock          *ClockState       `json:"clock"`
}

// Health returns the health check's answer and its HTTP status.
func (e *Endpoint) Health(t testing.TB) (Health, int) {
	t.Helper()
	status, _, body := e.Do(t, http.MethodGet, "/_wsim/health", nil, nil)
	var h Health
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("process: GET /_wsim/health: decode %s: %v", body, err)
	}
	return h, status
}

// ResetResult is what POST /_wsim/reset answers.
type ResetResult struct {
	Scope      string         `json:"scope"`
	Account    string         `json:"account"`
	Region     string         `json:"region"`
	Removed    map[string]int `json:"removed"`
	Unshared   int            `json:"unshared"`
	Clock      string         `json:"clock"`
	FaultRules int            `json:"faultRules"`
}

// Reset posts a reset of everything (no arguments), of an account, or of an
// account in a Region, and returns what wsim removed.
func (e *Endpoint) Reset(t testing.TB, accountAndRegion ...string) ResetResult {
	t.Helper()
	body := map[string]string{}
	if len(accountAndRegion) > 0 {
		body["account"] = accountAndRegion[0]
	}
	if len(accountAndRegion) > 1 {
		body["region"] = accountAndRegion[1]
	}
	var r ResetResult
	e.control(t, http.MethodPost, "/_wsim/reset", body, http.StatusOK, &r)
	return r
}

// Clock returns the state of the service clock.
func (e *Endpoint) Clock(t testing.TB) ClockState {
	t.Helper()
	var c ClockState
	e.control(t, http.MethodGet, "/_wsim/clock", nil, http.StatusOK, &c)
	return c
}

// ChangeClock posts a change to the service clock (action freeze, resume,
// advance with "by", set with "to", or reset) and returns its new state.
func (e *Endpoint) ChangeClock(t testing.TB, change map[string]string) ClockState {
	t.Helper()
	var c ClockState
	e.control(t, http.MethodPost, "/_wsim/clock", change, http.StatusOK, &c)
	return c
}

// Freeze stops the service clock and returns the time it stands at.
func (e *Endpoint) Freeze(t testing.TB) time.Time {
	t.Helper()
	return e.ChangeClock(t, map[string]string{"action": "freeze"}).Now
}

// FreezeRounded freezes the service clock at the next whole second and
// returns that time. Timestamps travel as epoch seconds with millisecond
// precision, so a test that compares them with the clock wants a round time.
func (e *Endpoint) FreezeRounded(t testing.TB) time.Time {
	t.Helper()
	now := e.Freeze(t)
	return e.SetClock(t, now.Truncate(time.Second).Add(time.Second))
}

// Advance moves the service clock forward by d and returns the new time.
func (e *Endpoint) Advance(t testing.TB, d time.Duration) time.Time {
	t.Helper()
	return e.ChangeClock(t, map[string]string{"action": "advance", "by": d.String()}).Now
}

// SetClock moves the service clock forward to at.
func (e *Endpoint) SetClock(t testing.TB, at time.Time) time.Time {
	t.Helper()
	return e.ChangeClock(t, map[string]string{"action": "set", "to": at.Format(time.RFC3339Nano)}).Now
}

// ResetClock returns the service clock to real time, running, unless it is
// ahead of real time (then it runs on from where it stands), and returns its
// new state.
func (e *Endpoint) ResetClock(t testing.TB) ClockState {
	t.Helper()
	return e.ChangeClock(t, map[string]string{"action": "reset"})
}

// Now returns the service time.
func (e *Endpoint) Now(t testing.TB) time.Time {
	t.Helper()
	return e.Clock(t).Now
}

// AddFaultRule installs a server-side fault rule (fields as in POST
// /_wsim/faults: account, region, namePattern, sourceId, kind, failAt,
// errorCode, errorMessage) and returns the id wsim gave it.
func (e *Endpoint) AddFaultRule(t testing.TB, rule map[string]any) string {
	t.Helper()
	var created struct {
		ID string `json:"id"`
	}
	e.control(t, http.MethodPost, "/_wsim/faults", rule, http.StatusCreated, &created)
	if created.ID == "" {
		t.Fatalf("process: fault rule created without an id")
	}
	return created.ID
}

// ClearFaultRules removes every fault rule.
func (e *Endpoint) ClearFaultRules(t testing.TB) {
	t.Helper()
	e.control(t, http.MethodDelete, "/_wsim/faults", nil, http.StatusNoContent, nil)
}

// control calls the control plane, failing the test unless it answers want.
func (e *Endpoint) control(t testing.TB, method, path string, in any, want int, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("process: %v", err)
		}
		body = bytes.NewReader(b)
	}
	status, _, resp := e.Do(t, method, path, body, map[string]string{"Content-Type": "application/json"})
	if status != want {
		t.Fatalf("process: %s %s: status %d, want %d: %s", method, path, status, want, resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			t.Fatalf("process: %s %s: decode %s: %v", method, path, resp, err)
		}
	}
}

// Raw POSTs body to / as an AWS JSON 1.1 request for target (X-Amz-Target is
// left out when target is empty). headers are added last and may override
// Content-Type; without an Authorization header wsim acts for its default
// account and Region (see AuthHeader).
func (e *Endpoint) Raw(t testing.TB, target, body string, headers map[string]string) (status int, hdr http.Header, respBody []byte) {
	t.Helper()
	h := map[string]string{"Content-Type": ContentType}
	if target != "" {
		h["X-Amz-Target"] = target
	}
	for k, v := range headers {
		h[k] = v
	}
	return e.Do(t, http.MethodPost, "/", strings.NewReader(body), h)
}

// Do sends one HTTP request to the server and returns its response in full;
// a "Host" in headers replaces the request's Host.
func (e *Endpoint) Do(t testing.TB, method, path string, body io.Reader, headers map[string]string) (status int, hdr http.Header, respBody []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		t.Fatalf("process: %v", err)
	}
	for k, v := range headers {
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = v // net/http sends req.Host, never a Host header
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("process: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("process: %s %s: read response: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, respBody
}

// AuthHeader returns headers carrying a SigV4-shaped Authorization header for
// account and region, for Raw requests that must act for a given caller. The
// signature is not valid; wsim does not verify signatures yet.
func AuthHeader(account, region string) map[string]string {
	date := time.Now().UTC().Format("20060102")
	return map[string]string{
		"Authorization": "AWS4-HMAC-SHA256 Credential=" + account + "/" + date + "/" + region +
			"/workspaces/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
			strings.Repeat("0", 64),
		"X-Amz-Date": time.Now().UTC().Format("20060102T150405Z"),
	}
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers, such as the
// stdout and stderr of a process, or a server's log and the test reading it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
