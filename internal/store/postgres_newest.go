package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// The reads of ListNewest on PostgreSQL, each one range of records_newest
// (every account) or records_scope_newest (one scope) in the order asked
// for, stopped at the limit (NULL: none). Both indexes are partial, on
// created > '-infinity' (always true: no record is created then), which
// these reads say and no other does: a read of one record by its key can
// never use them (see pgMigrations' version 6).
const (
	pgNewestTiesByID = `SELECT ` + pgCols + ` FROM records
		WHERE kind = $1 AND created = $2 AND (account, region, id) > ($3, $4, $5) AND created > '-infinity'
		ORDER BY account, region, id LIMIT $6`
	pgNewestTiesByScope = `SELECT ` + pgCols + ` FROM records
		WHERE kind = $1 AND created = $2 AND (account, region) > ($3, $4) AND created > '-infinity'
		ORDER BY account, region, id LIMIT $5`
	pgNewestOlder = `SELECT ` + pgCols + ` FROM records
		WHERE kind = $1 AND created < $2 AND created > '-infinity'
		ORDER BY created DESC, account, region, id LIMIT $3`
	pgNewestFirst = `SELECT ` + pgCols + ` FROM records
		WHERE kind = $1 AND created > '-infinity'
		ORDER BY created DESC, account, region, id LIMIT $2`
	pgNewestScopeTies = `SELECT ` + pgCols + ` FROM records
		WHERE account = $1 AND region = $2 AND kind = $3 AND created = $4 AND id > $5 AND created > '-infinity'
		ORDER BY id LIMIT $6`
	pgNewestScopeOlder = `SELECT ` + pgCols + ` FROM records
		WHERE account = $1 AND region = $2 AND kind = $3 AND created < $4 AND created > '-infinity'
		ORDER BY created DESC, id LIMIT $5`
	pgNewestScopeFirst = `SELECT ` + pgCols + ` FROM records
		WHERE account = $1 AND region = $2 AND kind = $3 AND created > '-infinity'
		ORDER BY created DESC, id LIMIT $4`
	pgNewestRegions = `SELECT region FROM scope_counts WHERE account = $1 AND kind = $2 AND n > 0 ORDER BY region`
)

func (p *pgStore) ListNewest(ctx context.Context, kind string, sel Selection, after *Position, limit int) ([]*Record, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	out, err := listNewest(ctx, p, kind, sel, after, limit)
	if err != nil {
		return nil, pgFail(ctx, "list newest", err)
	}
	return out, nil
}

func (p *pgStore) newestQuery(ctx context.Context, q string, args ...any) ([]*Record, error) {
	rows, err := p.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgScanAll(rows)
}

func (p *pgStore) newestTies(ctx context.Context, kind string, sc *Scope, created time.Time, b tieBound, limit int) ([]*Record, error) {
	switch {
	case sc != nil:
		return p.newestQuery(ctx, pgNewestScopeTies, sc.Account, sc.Region, kind, created, b.ID, pgLimit(limit))
	case b.pastScope:
		return p.newestQuery(ctx, pgNewestTiesByScope, kind, created, b.Account, b.Region, pgLimit(limit))
	}
	return p.newestQuery(ctx, pgNewestTiesByID, kind, created, b.Account, b.Region, b.ID, pgLimit(limit))
}

func (p *pgStore) newestOlder(ctx context.Context, kind string, sc *Scope, before *time.Time, limit int) ([]*Record, error) {
	switch {
	case sc != nil && before == nil:
		return p.newestQuery(ctx, pgNewestScopeFirst, sc.Account, sc.Region, kind, pgLimit(limit))
	case sc != nil:
		return p.newestQuery(ctx, pgNewestScopeOlder, sc.Account, sc.Region, kind, *before, pgLimit(limit))
	case before == nil:
		return p.newestQuery(ctx, pgNewestFirst, kind, pgLimit(limit))
	}
	return p.newestQuery(ctx, pgNewestOlder, kind, *before, pgLimit(limit))
}

func (p *pgStore) newestRegions(ctx context.Context, account, kind string) ([]string, error) {
	rows, err := p.pool.Query(ctx, pgNewestRegions, account, kind)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
