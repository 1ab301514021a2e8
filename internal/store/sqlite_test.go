package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "99") || !strings.Contains(err.Error(), "up to 1") {
		t.Fatalf("Open: %v, want ErrNewerSchema naming versions 99 and 1", err)
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
