package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/server"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/store"
)

// benchAPI is the whole request path over a fresh store of spec, for the
// paging benchmarks: its service clock (on the realistic profile) moves
// only when later is called, and requests are signed as an account of the
// run's own, so that -count=2 never meets the first run's records.
type benchAPI struct {
	b       *testing.B
	h       http.Handler
	svc     *service.Service
	now     atomic.Int64
	account string
	authz   string
}

func newBenchAPI(b *testing.B, spec string, workspaceQuota int) *benchAPI {
	b.Helper()
	st, err := store.Open(context.Background(), spec, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	a := &benchAPI{b: b}
	a.now.Store(1796000000)
	profile, _ := pipeline.LookupProfile(pipeline.ProfileRealistic)
	a.svc = service.New(service.Config{
		Profile: profile, WorkspaceQuota: workspaceQuota,
		Now: func() time.Time { return time.Unix(a.now.Load(), 0) },
	}, st)
	a.h = server.New(server.Options{API: a.svc.Registry(), Defaults: auth.Defaults{Account: "123456789012", Region: "us-east-1"}, MaxBodyBytes: 1 << 16})
	a.account = fmt.Sprintf("%012d", 200000000000+time.Now().UnixNano()%100000000000)
	a.authz = "AWS4-HMAC-SHA256 Credential=" + a.account + "/20261130/us-east-1/workspaces/aws4_request, SignedHeaders=host, Signature=00"
	return a
}

// later moves the service clock a day on.
func (a *benchAPI) later() { a.now.Add(24 * 3600) }

// request is target with body, signed as the benchmark's account.
func (a *benchAPI) request(target, body string) *http.Request {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", "WorkspacesService."+target)
	r.Header.Set("Authorization", a.authz)
	return r
}

// call sends target with body as the benchmark's account.
func (a *benchAPI) call(target, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, a.request(target, body))
	return w
}

// measure runs target with body in b's loop and reports the answer's size.
// The answers are written to one benchWriter, whose buffer keeps its size
// from one request to the next as a server's pooled buffers do: a fresh
// httptest.ResponseRecorder grows its buffer from nothing for every answer,
// which made a 27 KB page look dearer than it is.
func (a *benchAPI) measure(b *testing.B, target, body string) {
	b.ReportAllocs()
	w := &benchWriter{h: http.Header{}}
	for b.Loop() {
		w.reset()
		a.h.ServeHTTP(w, a.request(target, body))
		if w.code != http.StatusOK {
			b.Fatalf("status %d: %s", w.code, w.body.Bytes())
		}
	}
	b.ReportMetric(float64(w.body.Len()), "resp-B")
}

// benchWriter is the http.ResponseWriter measure reuses.
type benchWriter struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (w *benchWriter) Header() http.Header { return w.h }

func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

func (w *benchWriter) reset() {
	clear(w.h)
	w.code = 0
	w.body.Reset()
}

// must is call that stops the benchmark unless the answer is a 200.
func (a *benchAPI) must(target, body string) []byte {
	w := a.call(target, body)
	if w.Code != 200 {
		a.b.Fatalf("%s %s: %d %s", target, body, w.Code, w.Body)
	}
	return w.Body.Bytes()
}
