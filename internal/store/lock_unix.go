//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive flock on <db>.lock, creating it. flock rather than
// SQLite's locking_mode=EXCLUSIVE: the latter would also shut out our own
// read-connection pool (in WAL mode it drops the shared-memory index other
// connections need), and it only bites at the first write, whereas the flock
// fails Open at once with a message naming the holder. The kernel drops the
// lock when the process dies, so a crash never leaves a stale lock behind.
func lockFile(db string) (*os.File, error) {
	path := db + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = " (pid " + strings.TrimSpace(string(b)) + ")"
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("store: %s is in use by another wsim process%s (lock %s); a SQLite file can be opened by one process only, use PostgreSQL to share state between replicas", db, holder, path)
		}
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	// The pid is only a hint for the error message above.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func unlockFile(f *os.File) error {
	if f == nil {
		return nil
	}
	return f.Close() // closing the descriptor releases the flock
}
