package server_test

import (
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

// call sends target with body as the benchmark's account.
func (a *benchAPI) call(target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", "WorkspacesService."+target)
	r.Header.Set("Authorization", a.authz)
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

// must is call that stops the benchmark unless the answer is a 200.
func (a *benchAPI) must(target, body string) []byte {
	w := a.call(target, body)
	if w.Code != 200 {
		a.b.Fatalf("%s %s: %d %s", target, body, w.Code, w.Body)
	}
	return w.Body.Bytes()
}
