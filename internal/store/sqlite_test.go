package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func openSQLiteTest(t *testing.T) Store {
	s, err := Open(context.Background(), "sqlite", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) { runConformance(t, openSQLiteTest) }

func TestSQLiteDurableAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s, err := Open(ctx, "sqlite", dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	r := rec("1", "ws-1", "kept")
	wantErr(t, "insert", insert(t, s, r, 0), nil)
	r.Body = []byte(`{"v":2}`)
	wantErr(t, "put", put(s, r), nil)
	wantErr(t, "insert", insert(t, s, rec("1", "ws-2", ""), 0), nil)
	wantErr(t, "delete", del(s, rec("1", "ws-2", "").Key), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := put(s, r); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Update after Close: %v, want ErrUnavailable", err)
	}

	s, err = Open(ctx, "sqlite:"+filepath.Join(dir, "wsim.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sameRecord(t, mustGet(t, s, r.Key), r)
	if _, err := s.Get(ctx, rec("1", "ws-2", "").Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted record came back: %v", err)
	}
	wantErr(t, "name still unique after reopen", insert(t, s, rec("1", "ws-3", "kept"), 0), ErrNameTaken)
}

func TestSQLiteSecondOpenRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, "sqlite", dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, "sqlite", dir)
	if err == nil || !strings.Contains(err.Error(), "in use by another wsim process") {
		t.Fatalf("second Open: %v, want an in-use error", err)
	}
	s.Close()
	s, err = Open(ctx, "sqlite", dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s.Close()
}

func TestSQLiteNewerSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "wsim.db")
	s, err := Open(ctx, "sqlite", dir)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "insert", insert(t, s, rec("1", "ws-1", ""), 0), nil)
	s.Close()

	// Pretend a future wsim wrote the file.
	db, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	_, err = Open(ctx, "sqlite", dir)
	supported := fmt.Sprintf("up to %d", len(sqliteMigrations))
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "99") || !strings.Contains(err.Error(), supported) {
		t.Fatalf("Open: %v, want ErrNewerSchema naming versions 99 and %s", err, supported)
	}
	after, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("refusing a newer schema modified the file")
	}
	// The refused Open released its lock.
	if _, err := Open(ctx, "sqlite", dir); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("second Open: %v, want ErrNewerSchema again", err)
	}
}

func TestSQLitePanicInUpdate(t *testing.T) {
	s := openSQLiteTest(t)
	ctx := context.Background()
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v, want the fn's panic", v)
			}
		}()
		s.Update(ctx, func(tx Tx) error {
			tx.Insert(ctx, rec("1", "half", ""), 0)
			panic("boom")
		})
	}()
	if _, err := s.Get(ctx, rec("1", "half", "").Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("write of panicking fn applied: %v", err)
	}
	wantErr(t, "store still works", insert(t, s, rec("1", "after", ""), 0), nil)
}

// TestSQLiteReadCacheFollowsWrites checks that the read cache never shows a
// reader less than what writes already acknowledged, under concurrency, and
// that failed transactions and deletes leave nothing stale behind.
func TestSQLiteReadCacheFollowsWrites(t *testing.T) {
	s := openSQLiteTest(t)
	ctx := context.Background()
	k := Key{Account: "111122223333", Region: "us-east-1", Kind: "counter", ID: "c"}
	if err := s.Update(ctx, func(tx Tx) error {
		return tx.Insert(ctx, &Record{Key: k, Body: []byte(`0`)}, 0)
	}); err != nil {
		t.Fatal(err)
	}
	const writers, increments = 4, 50
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range increments {
				var wrote int64
				err := s.Update(ctx, func(tx Tx) error {
					r, err := tx.Get(ctx, k)
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(r.Body))
					r.Body = []byte(strconv.Itoa(n + 1))
					if err := tx.Put(ctx, r); err != nil {
						return err
					}
					wrote = r.Version
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				// Read-your-writes through the cache, with readers racing.
				got, err := s.Get(ctx, k)
				if err != nil || got.Version < wrote {
					t.Errorf("after writing version %d, Get gave %v, %v", wrote, got, err)
					return
				}
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range increments * 4 {
				if _, err := s.Get(ctx, k); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := s.Get(ctx, k)
	if err != nil || string(got.Body) != strconv.Itoa(writers*increments) {
		t.Fatalf("final Get = %v, %v; want %d", got, err, writers*increments)
	}

	// A failed transaction's writes never reach readers.
	boom := errors.New("boom")
	if err := s.Update(ctx, func(tx Tx) error {
		r, _ := tx.Get(ctx, k)
		r.Body = []byte(`-1`)
		if err := tx.Put(ctx, r); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, k); string(got.Body) != strconv.Itoa(writers*increments) {
		t.Fatalf("rolled-back write visible: %s", got.Body)
	}
	// Callers may scribble on what Get returns.
	got.Body[0] = 'x'
	if again, _ := s.Get(ctx, k); again.Body[0] == 'x' {
		t.Fatal("Get returned the cache's own record")
	}
	if err := s.Update(ctx, func(tx Tx) error { return tx.Delete(ctx, k) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted record still readable: %v", err)
	}
}

// TestSQLiteMigrateCounts: a file written at schema version 1, before the
// scopes' records were counted, is upgraded with the counts of what it
// holds, and quotas then hold on them exactly.
func TestSQLiteMigrateCounts(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "wsim.db")
	db, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(sqliteMigrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO meta (key, value) VALUES ('schema_version', '1')`); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ws-1", "ws-2", "ws-3"} {
		if _, err := db.Exec(`INSERT INTO records (account, region, kind, id, created, version, body) VALUES ('1', 'us-east-1', 'workspace', ?, 0, 1, '{}')`, id); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(ctx, "sqlite:"+file, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc := Scope{"1", "us-east-1", "workspace"}
	count := func() int {
		var n int
		if err := s.Update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.Count(ctx, sc)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Fatalf("count after the upgrade = %d, want 3", n)
	}
	wantErr(t, "insert beyond the quota", insert(t, s, rec("1", "ws-4", ""), 3), ErrLimitExceeded)
	wantErr(t, "insert within the quota", insert(t, s, rec("1", "ws-4", ""), 4), nil)
	wantErr(t, "delete", s.Update(ctx, func(tx Tx) error { return tx.Delete(ctx, Key{"1", "us-east-1", "workspace", "ws-1"}) }), nil)
	if n := count(); n != 3 {
		t.Fatalf("count after an insert and a delete = %d, want 3", n)
	}
	if _, err := Purge(ctx, s, Selection{Account: "1"}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("count after a purge = %d, want 0", n)
	}
}

// TestSQLiteListKindPlan: ListKind seeks the kind's index and reads it in
// order, never a scan of every record nor a sort.
func TestSQLiteListKindPlan(t *testing.T) {
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
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+sqliteListKind, "", "", "image", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	got := strings.Join(plan, "; ")
	if !strings.Contains(got, "USING INDEX records_kind (kind=?") || strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("plan: %s, want a search of records_kind by kind without a sort", got)
	}
}
