package e2e_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/wsim/wsim/e2e/process"
	"github.com/wsim/wsim/internal/app"
	"github.com/wsim/wsim/internal/store/storetest"
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
	return storetest.PostgresSchema(t, base, "e2e")
}

// server is wsim running in the test process through package wsimtest. Its
// Endpoint reaches it over HTTP exactly as process.Server reaches a `wsim
// serve` process (the API at URL, the control plane under URL+"/_wsim/"), so
// that a test reads the same whichever runs it.
type server struct {
	process.Endpoint

	srv  *wsimtest.Server
	args []string
	logs *process.SyncBuffer
}

// startInProcess starts a server configured by serve flags args, parsed as
// `wsim serve` parses them (before them come --store memory and --profile
// instant, which args may override). --addr is ignored: the server listens on
// a free loopback port. It is closed when the test ends, and its log printed
// if the test failed.
func startInProcess(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{logs: &process.SyncBuffer{}}
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
	s.Endpoint = process.NewEndpoint(s.srv.URL())
	t.Cleanup(func() {
		if err := s.srv.Close(); err != nil {
			t.Errorf("close the server: %v", err)
		}
		s.CloseIdleConnections()
		if t.Failed() {
			t.Logf("in-process wsim serve %s log:\n%s", strings.Join(s.args, " "), s.Logs())
		}
	})
	return s
}

// Logs returns what the server logged.
func (s *server) Logs() string { return s.logs.String() }
