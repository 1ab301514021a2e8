package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSQLiteLockFollowsTheFile opens a database, then tries a second open
// through every other name of the same file: each is refused while the
// first is open. Before the lock followed the file, a hard link let a second
// process run beside the first with a write-ahead log of its own.
func TestSQLiteLockFollowsTheFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "wsim.db")
	first, err := Open(ctx, "sqlite:"+file, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { first.Close() }()
	wantErr(t, "insert", insert(t, first, rec("1", "ws-1", ""), 0), nil)

	other := t.TempDir()
	mustDo(t, os.Symlink(file, filepath.Join(other, "link.db")))
	mustDo(t, os.Symlink(dir, filepath.Join(other, "linkdir")))
	mustDo(t, os.Link(file, filepath.Join(other, "hard.db")))
	for _, tc := range []struct{ name, path, want string }{
		{"the same path", file, "in use by another wsim process"},
		{"another spelling", filepath.Join(dir, "..", filepath.Base(dir), ".", "wsim.db"), "in use by another wsim process"},
		{"a symbolic link to the file", filepath.Join(other, "link.db"), "in use by another wsim process"},
		{"through a symbolic link to its directory", filepath.Join(other, "linkdir", "wsim.db"), "in use by another wsim process"},
		{"a hard link", filepath.Join(other, "hard.db"), "in use by another wsim process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, "sqlite:"+tc.path, "")
			if err == nil {
				s.Close()
				t.Fatalf("second Open through %s succeeded beside the first", tc.path)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("second Open through %s: %v, want %q naming the path", tc.path, err, tc.want)
			}
		})
	}
	first.Close()

	t.Run("a file with two hard links is refused when nobody holds it", func(t *testing.T) {
		for _, p := range []string{file, filepath.Join(other, "hard.db")} {
			_, err := Open(ctx, "sqlite:"+p, "")
			if err == nil || !strings.Contains(err.Error(), "has 2 hard links") || !strings.Contains(err.Error(), p) {
				t.Fatalf("Open of %s: %v, want a refusal naming the file and its 2 hard links", p, err)
			}
		}
	})
	mustDo(t, os.Remove(filepath.Join(other, "hard.db")))
	t.Run("through a symbolic link once the other name is gone, the same data", func(t *testing.T) {
		s, err := Open(ctx, "sqlite:"+filepath.Join(other, "link.db"), "")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Get(ctx, rec("1", "ws-1", "").Key); err != nil {
			t.Fatalf("record written through the real name: %v", err)
		}
		wantErr(t, "insert", insert(t, s, rec("1", "ws-2", ""), 0), nil)
		// The write-ahead log is the real file's, not the link's.
		if _, err := os.Stat(file + "-wal"); err != nil {
			t.Errorf("no write-ahead log beside the real file: %v", err)
		}
		if _, err := os.Lstat(filepath.Join(other, "link.db-wal")); err == nil {
			t.Error("a write-ahead log beside the symbolic link")
		}
	})
}

// TestSQLiteRefusesAnUnwritableFile makes the file read-only: with its mode,
// or as root (whom modes do not stop) with chattr +i.
func TestSQLiteRefusesAnUnwritableFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wsim.db")
	s, err := Open(context.Background(), "sqlite:"+file, "")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if os.Geteuid() == 0 {
		immutable(t, file)
	} else {
		mustDo(t, os.Chmod(file, 0o400))
	}
	_, err = Open(context.Background(), "sqlite:"+file, "")
	if err == nil || !strings.Contains(err.Error(), "is not writable") || !strings.Contains(err.Error(), file) {
		t.Fatalf("Open of a read-only file: %v, want a refusal naming it", err)
	}
}

// TestSQLiteReadOnlyAfterStart makes the database and its log immutable
// under a running store (chattr +i, which stops root too): writes fail with
// ErrUnavailable, and succeed again once the files are writable.
func TestSQLiteReadOnlyAfterStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wsim.db")
	s, err := Open(context.Background(), "sqlite:"+file, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantErr(t, "insert", insert(t, s, rec("1", "before", ""), 0), nil)
	immutable(t, file, file+"-wal")
	err = insert(t, s, rec("1", "during", ""), 0)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("insert into an immutable database: %v, want ErrUnavailable", err)
	}
	mutable(t, file, file+"-wal")
	wantErr(t, "insert after", insert(t, s, rec("1", "after", ""), 0), nil)
}

// TestSQLiteDiskFull fills a 2 MiB tmpfs (mounting needs root): the write
// that finds the disk full fails with ErrUnavailable, and the store works
// again once there is room.
func TestSQLiteDiskFull(t *testing.T) {
	dir := tinyDisk(t, "2m")
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(dir, "wsim.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := []byte(`"` + strings.Repeat("x", 64<<10) + `"`)
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		r := rec("1", fmt.Sprintf("ws-%d", i), "")
		r.Body = body
		full = insert(t, s, r, 0)
	}
	if !errors.Is(full, ErrUnavailable) {
		t.Fatalf("inserts into a full disk: %v, want ErrUnavailable", full)
	}
	mustDo(t, os.Remove(filepath.Join(dir, "ballast")))
	wantErr(t, "insert once there is room", insert(t, s, rec("1", "small", ""), 0), nil)
}

// tinyDisk mounts a tmpfs of size with a 1 MiB ballast file on it, or skips.
func tinyDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	mustDo(t, os.WriteFile(filepath.Join(dir, "ballast"), make([]byte, 1<<20), 0o600))
	return dir
}

// immutable sets the immutable attribute on files (undone when t ends), or
// skips: it needs root and a file system that has it.
func immutable(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if out, err := exec.Command("chattr", "+i", f).CombinedOutput(); err != nil {
			t.Skipf("chattr +i %s: %v %s", f, err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", f).Run() })
	}
}

func mutable(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if out, err := exec.Command("chattr", "-i", f).CombinedOutput(); err != nil {
			t.Fatalf("chattr -i %s: %v %s", f, err, out)
		}
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hungStore answers nothing until the context of the call is done, as a
// PostgreSQL stopped with SIGSTOP does.
type hungStore struct{ Store }

func (hungStore) Get(ctx context.Context, k Key) (*Record, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("store: get: %w", ctx.Err())
}

func (hungStore) Update(ctx context.Context, fn func(Tx) error) error {
	<-ctx.Done()
	return ctx.Err()
}

// answeringStore answers at once with err.
type answeringStore struct {
	Store
	err error
}

func (s answeringStore) Get(ctx context.Context, k Key) (*Record, error) { return nil, s.err }

func TestTimedDeadline(t *testing.T) {
	const d = 50 * time.Millisecond
	errFn := errors.New("fn's own error")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		st      Store
		ctx     context.Context
		call    func(ctx context.Context, s Store) error
		want    error
		notWant error
	}{
		{"a hung Get is unavailable", hungStore{}, context.Background(),
			func(ctx context.Context, s Store) error { _, err := s.Get(ctx, Key{}); return err }, ErrUnavailable, nil},
		{"a hung Update is unavailable", hungStore{}, context.Background(),
			func(ctx context.Context, s Store) error { return s.Update(ctx, func(Tx) error { return nil }) }, ErrUnavailable, nil},
		{"the caller's cancellation is its own", hungStore{}, cancelled,
			func(ctx context.Context, s Store) error { _, err := s.Get(ctx, Key{}); return err }, context.Canceled, ErrUnavailable},
		{"an answer is an answer", answeringStore{err: ErrNotFound}, context.Background(),
			func(ctx context.Context, s Store) error { _, err := s.Get(ctx, Key{}); return err }, ErrNotFound, ErrUnavailable},
		{"fn's error is passed through", answeringStore{Store: newMemory()}, context.Background(),
			func(ctx context.Context, s Store) error { return s.Update(ctx, func(Tx) error { return errFn }) }, errFn, ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &timed{Store: tc.st, d: d}
			start := time.Now()
			err := tc.call(tc.ctx, s)
			if !errors.Is(err, tc.want) || (tc.notWant != nil && errors.Is(err, tc.notWant)) {
				t.Fatalf("got %v, want %v (and not %v)", err, tc.want, tc.notWant)
			}
			if took := time.Since(start); took > 20*d {
				t.Errorf("took %s with a deadline of %s", took, d)
			}
		})
	}
}

func TestPgUnavailableCode(t *testing.T) {
	for code, want := range map[string]bool{
		"08006": true, "08001": true, // connection failure, cannot connect
		"53300": true, "53100": true, "53200": true, // too many connections, disk full, out of memory
		"57P01": true, "57P02": true, "57P03": true, // admin, crash shutdown; cannot connect now
		"25006": true, // read-only transaction
		"23505": false, "40001": false, "42501": false, "42P01": false, "57014": false,
	} {
		if got := pgUnavailableCode(code); got != want {
			t.Errorf("pgUnavailableCode(%s) = %v, want %v", code, got, want)
		}
	}
}

// TestSQLiteStalledWriterAnswersQueuedRequests holds the writer inside one
// transaction, as a stalled disk would: a request queued behind it is
// answered when its deadline passes, not when the writer moves on, and it
// is never run afterwards.
func TestSQLiteStalledWriterAnswersQueuedRequests(t *testing.T) {
	s := openSQLiteTest(t)
	ctx := context.Background()
	stall, stalled := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Update(ctx, func(tx Tx) error {
			close(stalled)
			<-stall
			return tx.Insert(ctx, rec("1", "first", ""), 0)
		})
	}()
	<-stalled

	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	ran := false
	start := time.Now()
	err := s.Update(dctx, func(tx Tx) error {
		ran = true
		return tx.Insert(ctx, rec("1", "queued", ""), 0)
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued Update behind a stalled writer: %v, want its deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("answered after %s, with a deadline of 50ms", took)
	}

	close(stall)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// One more write goes through the writer after the abandoned one.
	wantErr(t, "insert after", insert(t, s, rec("1", "after", ""), 0), nil)
	if ran {
		t.Error("the abandoned request was run")
	}
	if _, err := s.Get(ctx, rec("1", "queued", "").Key); !errors.Is(err, ErrNotFound) {
		t.Errorf("the abandoned request's write: %v, want ErrNotFound", err)
	}
}
