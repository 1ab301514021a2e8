package e2e_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/jackc/pgx/v5"

	"github.com/wsim/wsim/e2e/process"
)

// These tests make the store fail under the real binary, as the findings of
// issue 11 were seen: a second wsim on one SQLite file through another name,
// a store it cannot write, a full disk, a hung PostgreSQL and one out of
// connections. See docs/security.md, "Store failures".

// refusedStart runs `wsim serve` with args, which must refuse to start: exit
// with a non-zero status within 20 s. It returns what wsim printed.
func refusedStart(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := process.Command(t, append([]string{"serve", "--addr", addr}, args...)...)
	var out process.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
			t.Fatalf("wsim serve %s exited with %v, want a non-zero status; output:\n%s", strings.Join(args, " "), err, out.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("wsim serve %s started (still running after 20 s), want a refusal; output:\n%s", strings.Join(args, " "), out.String())
	}
	return out.String()
}

func wantContains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not say %q", what, got, w)
		}
	}
}

// noRetries makes a client report the first answer, so that a test sees
// the 503 and how long it took rather than the SDK's retries.
func noRetries(o *workspaces.Options) { o.Retryer = aws.NopRetryer{} }

// want503 checks that err is AWS's retryable ServiceUnavailableException.
func want503(t *testing.T, what string, err error) {
	t.Helper()
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable || errorCode(err) != "ServiceUnavailableException" {
		t.Fatalf("%s: %v, want a 503 ServiceUnavailableException", what, err)
	}
}

func wantDegraded(t *testing.T, srv *process.Server) {
	t.Helper()
	if h, status := srv.Health(t); status != http.StatusServiceUnavailable || h.Status != "degraded" || h.StoreWritable || h.Reason == "" {
		t.Errorf("health = %d %+v, want 503 degraded with a reason", status, h)
	}
}

func wantHealthy(t *testing.T, srv *process.Server) {
	t.Helper()
	if h, status := srv.Health(t); status != http.StatusOK || h.Status != "ok" || !h.StoreWritable {
		t.Errorf("health = %d %+v, want ok", status, h)
	}
}

// eventually calls f until it succeeds, up to n times.
func eventually(t *testing.T, what string, n int, f func() error) {
	t.Helper()
	var err error
	for range n {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // a real outage ending, not service time
	}
	t.Fatalf("%s: still failing: %v", what, err)
}

// TestSQLiteOneProcessThroughAnyName: while one wsim runs on a SQLite file,
// a second one is refused whatever name it opens the file by. Before, a
// hard link let a second process run beside the first (300 of 600
// acknowledged imports were lost) and a symbolic link gave two processes
// with diverging caches and clocks.
func TestSQLiteOneProcessThroughAnyName(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wsim.db")
	srv := process.Start(t, "--store", "sqlite:"+file)
	importImage(t, srv.Client(t, accountA, usEast1), importInput("first"))

	other := t.TempDir()
	symlink := filepath.Join(other, "link.db")
	hardlink := filepath.Join(other, "hard.db")
	if err := os.Symlink(file, symlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(other, "dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(file, hardlink); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, args string }{
		{"the same file", "sqlite:" + file},
		{"a symbolic link to it", "sqlite:" + symlink},
		{"its directory through a symbolic link", "sqlite:" + filepath.Join(other, "dir", "wsim.db")},
		{"a hard link to it", "sqlite:" + hardlink},
		{"its data directory", "sqlite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := refusedStart(t, "--store", tc.args, "--data-dir", dir)
			wantContains(t, "second wsim", out, "in use by another wsim process", "pid ")
		})
	}
	srv.Stop()

	t.Run("a file with two hard links is refused", func(t *testing.T) {
		out := refusedStart(t, "--store", "sqlite:"+file)
		wantContains(t, "wsim on a hard-linked file", out, file, "has 2 hard links")
	})
	if err := os.Remove(hardlink); err != nil {
		t.Fatal(err)
	}
	t.Run("one name left, it starts and keeps the data", func(t *testing.T) {
		srv := process.Start(t, "--store", "sqlite:"+symlink)
		out, err := srv.Client(t, accountA, usEast1).DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
		if err != nil || len(out.Images) != 1 {
			t.Fatalf("images through the symbolic link: %v, %v; want the one imported", out, err)
		}
	})
}

// immutable makes files immutable (chattr +i, which stops root too, whom
// file modes do not), undone when the test ends; it skips where chattr is
// not available or not allowed.
func immutable(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if out, err := exec.Command("chattr", "+i", f).CombinedOutput(); err != nil {
			t.Skipf("cannot make %s immutable (needs root and chattr): %v %s", f, err, out)
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

// readOnly makes a file or directory read-only: by its mode, or as root with
// chattr +i.
func readOnly(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() == 0 {
		immutable(t, path)
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, fi.Mode().Perm()&0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(path, fi.Mode().Perm()) })
}

// TestStoreNotWritableRefusedAtStart: wsim refuses to start on a store it
// cannot write, with the reason, rather than starting and failing every
// write.
func TestStoreNotWritableRefusedAtStart(t *testing.T) {
	existing := func(t *testing.T) (dir, file string) {
		dir = t.TempDir()
		file = filepath.Join(dir, "wsim.db")
		srv := process.Start(t, "--store", "sqlite:"+file)
		srv.Stop()
		return dir, file
	}
	t.Run("a read-only database file", func(t *testing.T) {
		_, file := existing(t)
		readOnly(t, file)
		out := refusedStart(t, "--store", "sqlite:"+file)
		wantContains(t, "wsim on a read-only file", out, file, "is not writable")
	})
	t.Run("a read-only directory", func(t *testing.T) {
		dir, file := existing(t)
		readOnly(t, dir)
		out := refusedStart(t, "--store", "sqlite:"+file)
		wantContains(t, "wsim in a read-only directory", out, file, "is not writable with its directory")
	})
	t.Run("a PostgreSQL role that may only read", func(t *testing.T) {
		dsn := pgURL(t)
		srv := process.Start(t, "--store", dsn) // creates the schema
		srv.Stop()
		u, _ := url.Parse(dsn)
		schema := u.Query().Get("search_path")
		role := "ro_" + schema
		conn, err := pgx.Connect(ctx(t), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		for _, q := range []string{
			"CREATE ROLE " + role + " LOGIN",
			"GRANT USAGE ON SCHEMA " + schema + " TO " + role,
			"GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + role,
		} {
			if _, err := conn.Exec(ctx(t), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		t.Cleanup(func() {
			conn.Exec(context.Background(), "DROP OWNED BY "+role)
			conn.Exec(context.Background(), "DROP ROLE "+role)
		})
		u.User = url.User(role)
		out := refusedStart(t, "--store", u.String())
		wantContains(t, "wsim as a read-only role", out, "does not take writes", "permission denied")
	})
}

// TestSQLiteReadOnlyAfterStart makes the database file and its write-ahead
// log immutable under a running wsim: writes answer 503 (not 500) and the
// health check says degraded, until the files are writable again.
func TestSQLiteReadOnlyAfterStart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "wsim.db")
	srv := process.Start(t, "--store", "sqlite:"+file)
	c := srv.Client(t, accountA, usEast1, noRetries)
	importImage(t, c, importInput("before"))
	immutable(t, file, file+"-wal")

	_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("during"))
	want503(t, "import into a read-only database", err)
	wantDegraded(t, srv)

	mutable(t, file, file+"-wal")
	eventually(t, "import once writable again", 20, func() error {
		_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("after"))
		return err
	})
	wantHealthy(t, srv)
}

// TestSQLiteDiskFull runs wsim on a small tmpfs (mounting one needs root)
// and fills it: the write that finds the disk full answers 503, the health
// check says degraded, and wsim recovers once there is room.
func TestSQLiteDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root; SQLITE_FULL is classified in internal/store's TestSQLiteDiskFull, which needs it too")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	srv := process.Start(t, "--store", "sqlite:"+filepath.Join(dir, "wsim.db"), "--image-quota", "100000")
	c := srv.Client(t, accountA, usEast1, noRetries)
	importImage(t, c, importInput("before"))

	// Fill the disk to the last block.
	ballast := filepath.Join(dir, "ballast")
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	// The log may have room left in pages it already holds; write until
	// it needs more.
	var full error
	for i := 0; i < 5000 && full == nil; i++ {
		_, full = c.ImportCustomWorkspaceImage(ctx(t), importInput(fmt.Sprintf("fill-%d", i)))
	}
	want503(t, "import on a full disk", full)
	wantDegraded(t, srv)

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	eventually(t, "import once there is room", 20, func() error {
		_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("after"))
		return err
	})
	wantHealthy(t, srv)
}

// dedicatedPostgres starts a PostgreSQL of this test's own through
// scripts/with-postgres.sh, so that stopping it or running it out of
// connections disturbs no other test. It returns its URL (as the superuser)
// and the pids of the postmaster, for SIGSTOP.
func dedicatedPostgres(t *testing.T) (dsn string, postmaster int) {
	t.Helper()
	if os.Getenv("WSIM_TEST_POSTGRES") == "" {
		t.Skip("WSIM_TEST_POSTGRES is not set; run through scripts/with-postgres.sh (./scripts/test does), which this test also uses for a server of its own")
	}
	cmd := exec.Command("../scripts/with-postgres.sh", "sh", "-c", `echo "$WSIM_TEST_POSTGRES"; exec cat >/dev/null`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs process.SyncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // ends cat: the script stops the server and deletes it
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("with-postgres.sh: %v\n%s", err, logs.String())
	}
	go io.Copy(io.Discard, stdout)
	dsn = strings.TrimSpace(line)
	conn, err := pgx.Connect(ctx(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var data string
	if err := conn.QueryRow(ctx(t), "SHOW data_directory").Scan(&data); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if postmaster, err = strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0]); err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	return dsn, postmaster
}

// freeze stops the postmaster and every process it started with SIGSTOP, as
// a frozen host looks from outside: connections open, nothing answers. The
// returned thaw resumes them; it also runs when the test ends, so a failing
// test never leaves the server stopped.
func freeze(t *testing.T, postmaster int) (thaw func()) {
	t.Helper()
	pids := append([]int{postmaster}, children(postmaster)...)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	thawed := false
	thaw = func() {
		if thawed {
			return
		}
		thawed = true
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)
	return thaw
}

// children returns the pids of the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after
		// the last ')'.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// TestPostgreSQLFailures: a PostgreSQL that hangs (SIGSTOP) gives 503 within
// the store's deadline and a degraded health check in seconds, not a hang
// for the whole outage; one out of connections ("too many clients",
// SQLSTATE 53300) gives 503, not 500; both heal on their own.
func TestPostgreSQLFailures(t *testing.T) {
	dsn, postmaster := dedicatedPostgres(t)
	const storeTimeout = 2 * time.Second

	t.Run("hung", func(t *testing.T) {
		srv := process.Start(t, "--store", dsn, "--store-timeout", storeTimeout.String())
		c := srv.Client(t, accountA, usEast1, noRetries)
		id := importImage(t, c, importInput("before-freeze"))
		describeID := func(id string) error {
			_, err := c.DescribeCustomWorkspaceImageImport(ctx(t),
				&workspaces.DescribeCustomWorkspaceImageImportInput{ImageId: aws.String(id)})
			return err
		}
		describe := func() error { return describeID(id) }

		thaw := freeze(t, postmaster)
		start := time.Now()
		// An image the replica never read needs PostgreSQL (its own
		// import may be answered from its copy of records, if it caches
		// by now).
		want503(t, "describe on a hung PostgreSQL", describeID("wsi-000000000"))
		_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("during-freeze"))
		want503(t, "import on a hung PostgreSQL", err)
		wantDegraded(t, srv)
		// Three calls, each bounded by the store's deadline (the health
		// check by its own, shorter one), with room for a slow machine.
		if took := time.Since(start); took > 6*storeTimeout {
			t.Errorf("three calls on a hung PostgreSQL took %s, want each within about %s", took, storeTimeout)
		}

		thaw()
		eventually(t, "describe after the thaw", 50, describe)
		if _, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("after-freeze")); err != nil {
			t.Fatalf("import after the thaw: %v", err)
		}
		wantHealthy(t, srv)
	})

	t.Run("too many clients", func(t *testing.T) {
		admin, err := pgx.Connect(ctx(t), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(context.Background())
		for _, q := range []string{"CREATE ROLE limited LOGIN", "CREATE DATABASE limited OWNER limited"} {
			if _, err := admin.Exec(ctx(t), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		u, _ := url.Parse(dsn)
		u.User, u.Path = url.User("limited"), "/limited"
		srv := process.Start(t, "--store", u.String(), "--store-timeout", storeTimeout.String())
		c := srv.Client(t, accountA, usEast1, noRetries)
		importImage(t, c, importInput("before"))

		// No connection more for the role, and the ones wsim holds ended.
		if _, err := admin.Exec(ctx(t), "ALTER ROLE limited CONNECTION LIMIT 0"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx(t), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'limited'"); err != nil {
			t.Fatal(err)
		}
		// The first request may meet a connection the server just ended
		// (also a 503); the next ones need a new connection and are refused
		// with 53300.
		for i := range 3 {
			_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput(fmt.Sprintf("during-%d", i)))
			want503(t, "import when PostgreSQL refuses connections", err)
		}
		wantDegraded(t, srv)
		if logs := srv.Logs(); !strings.Contains(logs, "53300") {
			t.Errorf("the log does not name SQLSTATE 53300:\n%s", logs)
		}

		if _, err := admin.Exec(ctx(t), "ALTER ROLE limited CONNECTION LIMIT -1"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "import once connections are allowed again", 20, func() error {
			_, err := c.ImportCustomWorkspaceImage(ctx(t), importInput("after"))
			return err
		})
		wantHealthy(t, srv)
	})
}
