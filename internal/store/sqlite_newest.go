package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"time"
)

// The reads of ListNewest on SQLite, each one range of records_newest (every
// account) or records_scope_newest (one scope), walked in the order asked
// for and stopped at the limit (TestSQLiteListNewestPlan pins the plans).
// ?N numbers the arguments; a negative limit is none.
const (
	sqliteNewestTiesByID = `SELECT ` + sqliteCols + ` FROM records
		WHERE kind = ?1 AND created = ?2 AND (account, region, id) > (?3, ?4, ?5)
		ORDER BY account, region, id LIMIT ?6`
	sqliteNewestTiesByScope = `SELECT ` + sqliteCols + ` FROM records
		WHERE kind = ?1 AND created = ?2 AND (account, region) > (?3, ?4)
		ORDER BY account, region, id LIMIT ?6`
	sqliteNewestOlder = `SELECT ` + sqliteCols + ` FROM records
		WHERE kind = ?1 AND created < ?2
		ORDER BY created DESC, account, region, id LIMIT ?3`
	sqliteNewestScopeTies = `SELECT ` + sqliteCols + ` FROM records
		WHERE account = ?1 AND region = ?2 AND kind = ?3 AND created = ?4 AND id > ?5
		ORDER BY id LIMIT ?6`
	sqliteNewestScopeOlder = `SELECT ` + sqliteCols + ` FROM records
		WHERE account = ?1 AND region = ?2 AND kind = ?3 AND created < ?4
		ORDER BY created DESC, id LIMIT ?5`
	sqliteNewestRegions = `SELECT region FROM scope_counts WHERE account = ?1 AND kind = ?2 ORDER BY region`
)

// sqliteNewestStmts are ListNewest's statements, prepared on the read pool
// the first time it is called: parsing them took a quarter of a page.
type sqliteNewestStmts struct {
	once  sync.Once
	err   error
	stmts map[string]*sql.Stmt
}

// newestQuery runs q, one of the constants above, prepared.
func (s *sqliteStore) newestQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	n := &s.newest
	n.once.Do(func() {
		n.stmts = map[string]*sql.Stmt{}
		for _, q := range []string{sqliteNewestTiesByID, sqliteNewestTiesByScope, sqliteNewestOlder, sqliteNewestScopeTies, sqliteNewestScopeOlder, sqliteNewestRegions} {
			st, err := s.rdb.PrepareContext(context.Background(), q)
			if err != nil {
				n.err = fmt.Errorf("store: prepare %q: %w", q, err)
				return
			}
			n.stmts[q] = st
		}
	})
	if n.err != nil {
		return nil, n.err
	}
	return n.stmts[q].QueryContext(ctx, args...)
}

// ListNewest reads through the read pool, as ListKind does.
func (s *sqliteStore) ListNewest(ctx context.Context, kind string, sel Selection, after *Position, limit int) ([]*Record, error) {
	if s.readClosed.Load() {
		return nil, errClosed
	}
	return listNewest(ctx, s, kind, sel, after, limit)
}

func sqliteLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

func (s *sqliteStore) newestTies(ctx context.Context, kind string, sc *Scope, created time.Time, b tieBound, limit int) ([]*Record, error) {
	q, args := sqliteNewestTiesByID, []any{kind, created.UnixMicro(), b.Account, b.Region, b.ID, sqliteLimit(limit)}
	switch {
	case sc != nil:
		q, args = sqliteNewestScopeTies, []any{sc.Account, sc.Region, kind, created.UnixMicro(), b.ID, sqliteLimit(limit)}
	case b.pastScope:
		q = sqliteNewestTiesByScope
	}
	rows, err := s.newestQuery(ctx, q, args...)
	if err != nil {
		return nil, sqliteFail("list newest", err)
	}
	return sqliteScanAll(rows)
}

func (s *sqliteStore) newestOlder(ctx context.Context, kind string, sc *Scope, before *time.Time, limit int) ([]*Record, error) {
	var end int64 = math.MaxInt64
	if before != nil {
		end = before.UnixMicro()
	}
	q, args := sqliteNewestOlder, []any{kind, end, sqliteLimit(limit)}
	if sc != nil {
		q, args = sqliteNewestScopeOlder, []any{sc.Account, sc.Region, kind, end, sqliteLimit(limit)}
	}
	rows, err := s.newestQuery(ctx, q, args...)
	if err != nil {
		return nil, sqliteFail("list newest", err)
	}
	return sqliteScanAll(rows)
}

func (s *sqliteStore) newestRegions(ctx context.Context, account, kind string) ([]string, error) {
	rows, err := s.newestQuery(ctx, sqliteNewestRegions, account, kind)
	if err != nil {
		return nil, sqliteFail("list newest", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, sqliteFail("list newest", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, sqliteFail("list newest", err)
	}
	return out, nil
}
