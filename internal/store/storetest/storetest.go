// Package storetest gives tests and benchmarks of every package a
// PostgreSQL store of their own.
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresSchema returns dsn (a postgres:// URL, WSIM_TEST_POSTGRES) with its
// search_path set to a new schema named after prefix, which is dropped when
// tb ends: the tables a store opened on it creates are that test's alone.
// It is registered first, so its cleanup runs after those of the stores the
// test opens on it (cleanups run last first), once they have let go of it.
func PostgresSchema(tb testing.TB, dsn, prefix string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("%s must be a postgres:// URL: %v", dsn, err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("%s_%d_%d", prefix, time.Now().UnixNano(), rand.Uint32())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
