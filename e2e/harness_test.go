package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/jackc/pgx/v5"

	"github.com/wsim/wsim/e2e/process"
	"github.com/wsim/wsim/internal/app"
	"github.com/wsim/wsim/internal/wsimtesthook"
	"github.com/wsim/wsim/wsimtest"
)

// The protocol's constants, and whom unsigned requests act for.
const (
	contentType    = process.ContentType
	targetPrefix   = process.TargetPrefix
	defaultAccount = wsimtest.DefaultAccount
	defaultRegion  = wsimtest.DefaultRegion
)

// authHeader returns headers acting for account and region in Raw requests.
func authHeader(account, region string) map[string]string { return process.AuthHeader(account, region) }

// storeBackend is one of the stores the in-process tests run against.
type storeBackend struct {
	name string
	// args returns the serve flags selecting a new, empty store of this
	// kind, or skips t when the store is not available.
	args func(t *testing.T) []string
}

// stores are the backends every in-process test runs against. PostgreSQL is
// used when WSIM_TEST_POSTGRES holds a URL (scripts/with-postgres.sh sets it)
// and skipped otherwise.
var stores = []storeBackend{
	{"memory", func(*testing.T) []string { return []string{"--store", "memory"} }},
	{"sqlite", func(t *testing.T) []string { return []string{"--store", "sqlite", "--data-dir", t.TempDir()} }},
	{"postgres", func(t *testing.T) []string { return []string{"--store", pgURL(t)} }},
}

// forEachStore runs test in parallel against each of stores, as subtests
// named after the store.
func forEachStore(t *testing.T, test func(t *testing.T, store storeBackend)) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			test(t, store)
		})
	}
}

// start starts wsim in this process on a new, empty store of this kind, with
// args as `wsim serve` takes them. Unless args say otherwise it uses the
// instant timing profile. Each call gets a store of its own.
func (b storeBackend) start(t *testing.T, args ...string) *server {
	t.Helper()
	return startInProcess(t, append(b.args(t), args...)...)
}

// pgURL returns a PostgreSQL URL whose tables live in a schema of their own,
// dropped when the test ends, so that tests never see each other's state; it
// skips without PostgreSQL.
func pgURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("WSIM_TEST_POSTGRES")
	if base == "" {
		t.Skip("WSIM_TEST_POSTGRES is not set; run through scripts/with-postgres.sh (./scripts/test does)")
	}
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	schema := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		conn.Close(context.Background())
		t.Fatal(err)
	}
	// Cleanups run last-in first-out, so the servers using the schema have
	// closed their connections by then.
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// server is wsim running in the test process through package wsimtest, with
// the methods of the subprocess harness (package process), so that a test
// reads the same whichever runs it.
type server struct {
	// URL is the base URL of the API and of the control plane.
	URL string

	srv  *wsimtest.Server
	args []string
	http *http.Client
	logs *syncBuffer
}

// startInProcess starts a server configured by serve flags args, parsed as
// `wsim serve` parses them (before them come --store memory and --profile
// instant, which args may override). --addr is ignored: the server listens on
// a free loopback port. It is closed when the test ends, and its log printed
// if the test failed.
func startInProcess(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{logs: &syncBuffer{}, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}}
	s.args = append([]string{"--store", "memory", "--profile", "instant"}, args...)
	_, opts, err := app.ParseServeArgs(s.args, s.logs)
	if err != nil {
		t.Fatalf("serve %s: %v", strings.Join(s.args, " "), err)
	}
	v, err := wsimtesthook.NewServer(context.Background(), opts)
	if err != nil {
		t.Fatalf("serve %s: %v", strings.Join(s.args, " "), err)
	}
	s.srv = v.(*wsimtest.Server)
	s.URL = s.srv.URL()
	t.Cleanup(func() {
		if err := s.srv.Close(); err != nil {
			t.Errorf("close the server: %v", err)
		}
		s.http.CloseIdleConnections()
		if t.Failed() {
			t.Logf("in-process wsim serve %s log:\n%s", strings.Join(s.args, " "), s.logs.String())
		}
	})
	return s
}

// Client returns a WorkSpaces client for the account and Region, configured
// by wsimtest's AWSConfig: it retries only connections the client broke
// itself. optFns may change that.
func (s *server) Client(t testing.TB, account, region string, optFns ...func(*workspaces.Options)) *workspaces.Client {
	t.Helper()
	return workspaces.NewFromConfig(s.srv.AWSConfig(account, region), optFns...)
}

// clockState is the service clock as GET /_wsim/clock shows it.
type clockState struct {
	Now           time.Time
	Epoch         float64
	Frozen        bool
	OffsetSeconds float64
}

// Clock returns the state of the service clock.
func (s *server) Clock(t testing.TB) clockState {
	t.Helper()
	st, err := s.srv.Clock().State()
	if err != nil {
		t.Fatalf("read the clock: %v", err)
	}
	return clockState{Now: st.Now, Epoch: float64(st.Now.UnixMilli()) / 1000, Frozen: st.Frozen, OffsetSeconds: st.Offset.Seconds()}
}

// ChangeClock changes the service clock as POST /_wsim/clock would (action
// freeze, resume, advance with "by", set with "to", or reset) and returns its
// new state.
func (s *server) ChangeClock(t testing.TB, change map[string]string) clockState {
	t.Helper()
	c := s.srv.Clock()
	var err error
	switch change["action"] {
	case "freeze":
		err = c.Freeze()
	case "resume":
		err = c.Resume()
	case "reset":
		err = c.Reset()
	case "advance":
		var d time.Duration
		if d, err = time.ParseDuration(change["by"]); err == nil {
			err = c.Advance(d)
		}
	case "set":
		var at time.Time
		if at, err = time.Parse(time.RFC3339Nano, change["to"]); err == nil {
			err = c.Set(at)
		}
	default:
		err = fmt.Errorf("unknown action %q", change["action"])
	}
	if err != nil {
		t.Fatalf("change the clock %v: %v", change, err)
	}
	return s.Clock(t)
}

// Freeze stops the service clock and returns the time it stands at.
func (s *server) Freeze(t testing.TB) time.Time {
	t.Helper()
	return s.ChangeClock(t, map[string]string{"action": "freeze"}).Now
}

// FreezeRounded freezes the service clock at the next whole second and
// returns that time. Timestamps travel as epoch seconds with millisecond
// precision, so a test that compares them with the clock wants a round time.
func (s *server) FreezeRounded(t testing.TB) time.Time {
	t.Helper()
	now := s.Freeze(t)
	return s.SetClock(t, now.Truncate(time.Second).Add(time.Second))
}

// Advance moves the service clock forward by d and returns the new time.
func (s *server) Advance(t testing.TB, d time.Duration) time.Time {
	t.Helper()
	return s.ChangeClock(t, map[string]string{"action": "advance", "by": d.String()}).Now
}

// SetClock moves the service clock forward to at.
func (s *server) SetClock(t testing.TB, at time.Time) time.Time {
	t.Helper()
	return s.ChangeClock(t, map[string]string{"action": "set", "to": at.Format(time.RFC3339Nano)}).Now
}

// ResetClock returns the service clock to real time, running.
func (s *server) ResetClock(t testing.TB) {
	t.Helper()
	s.ChangeClock(t, map[string]string{"action": "reset"})
}

// Now returns the service time.
func (s *server) Now(t testing.TB) time.Time {
	t.Helper()
	now, err := s.srv.Clock().Now()
	if err != nil {
		t.Fatalf("read the clock: %v", err)
	}
	return now
}

// AddFaultRule installs a server-side fault rule given with the fields of
// POST /_wsim/faults (account, region, namePattern, sourceId, kind, failAt,
// errorCode, errorMessage) and returns the id wsim gave it.
func (s *server) AddFaultRule(t testing.TB, rule map[string]any) string {
	t.Helper()
	b, err := json.Marshal(rule)
	if err != nil {
		t.Fatal(err)
	}
	var r wsimtest.FaultRule
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("fault rule %s: %v", b, err)
	}
	id, err := s.srv.Faults().Add(r)
	if err != nil {
		t.Fatalf("add fault rule %s: %v", b, err)
	}
	return id
}

// ClearFaultRules removes every fault rule.
func (s *server) ClearFaultRules(t testing.TB) {
	t.Helper()
	if err := s.srv.Faults().Clear(); err != nil {
		t.Fatalf("clear the fault rules: %v", err)
	}
}

// Raw POSTs body to / as an AWS JSON 1.1 request for target (X-Amz-Target is
// left out when target is empty). headers are added last and may override
// Content-Type; without an Authorization header wsim acts for its default
// account and Region (see authHeader).
func (s *server) Raw(t testing.TB, target, body string, headers map[string]string) (status int, hdr http.Header, respBody []byte) {
	t.Helper()
	h := map[string]string{"Content-Type": contentType}
	if target != "" {
		h["X-Amz-Target"] = target
	}
	for k, v := range headers {
		h[k] = v
	}
	return s.Do(t, http.MethodPost, "/", strings.NewReader(body), h)
}

// Do sends one HTTP request to the server and returns its response in full.
func (s *server) Do(t testing.TB, method, path string, body io.Reader, headers map[string]string) (status int, hdr http.Header, respBody []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read response: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, respBody
}

// Port returns the TCP port the server listens on.
func (s *server) Port() int {
	u, _ := url.Parse(s.URL)
	_, p, _ := net.SplitHostPort(u.Host)
	n, _ := strconv.Atoi(p)
	return n
}

// Logs returns what the server logged.
func (s *server) Logs() string { return s.logs.String() }

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
