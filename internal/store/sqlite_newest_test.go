package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteListNewestPlan pins the plans of ListNewest's reads: each is a
// search of its index in the order asked for, never a sort, so a page reads
// about its own rows however many the kind or the scope holds.
func TestSQLiteListNewestPlan(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, "sqlite", dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, "wsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		q, index string
		args     []any
	}{
		{sqliteNewestTiesByID, "records_newest (kind=? AND created=? AND (account,region,id)>(?,?,?))", []any{"image", 1, "a", "r", "i", "", 10}},
		{sqliteNewestTiesByScope, "records_newest (kind=? AND created=? AND (account,region)>(?,?))", []any{"image", 1, "a", "r", "", 10}},
		{sqliteNewestOlder, "records_newest (kind=? AND created<?)", []any{"image", 1, 10}},
		{sqliteNewestScopeTies, "records_scope_newest (account=? AND region=? AND kind=? AND created=? AND id>?)", []any{"a", "r", "image", 1, "i", 10}},
		{sqliteNewestScopeOlder, "records_scope_newest (account=? AND region=? AND kind=? AND created<?)", []any{"a", "r", "image", 1, 10}},
	} {
		rows, err := db.Query(`EXPLAIN QUERY PLAN `+tc.q, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "USING INDEX "+tc.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("plan of %s:\n%s\nwant a search of %s without a sort", tc.q, got, tc.index)
		}
	}
}
