package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

const pgEnv = "WSIM_TEST_POSTGRES"

// pgTestDSN returns a DSN for a schema of its own, dropped when tb ends, so
// tests (and concurrent runs) sharing one database never see each other.
func pgTestDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(pgEnv)
	if base == "" {
		tb.Skipf("%s is not set; run scripts/with-postgres.sh go test ./internal/store/ to test against a real PostgreSQL", pgEnv)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", pgEnv, err)
	}
	schema := fmt.Sprintf("wsim_test_%d_%d", os.Getpid(), rand.Uint32())
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s must be a postgres:// URL: %v", pgEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgresTest(t *testing.T) Store {
	s, err := Open(context.Background(), pgTestDSN(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresConformance(t *testing.T) { runConformance(t, openPostgresTest) }

func TestPostgresConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := pgTestDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn, "")
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

func TestPostgresNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgTestDSN(t)
	s, err := Open(ctx, dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "insert", insert(t, s, rec("1", "ws-1", ""), 0), nil)
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dsn, "")
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("Open: %v, want ErrNewerSchema naming version 99", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM records`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("records after refused Open: %d, %v", n, err)
	}
}

// TestPostgresUnavailable needs no server: it checks how a refused
// connection is reported.
func TestPostgresUnavailable(t *testing.T) {
	// A port nothing listens on: take one and give it back.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = Open(context.Background(), "postgres://wsim:secret@"+addr+"/wsim", "")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open of a dead server: %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}
