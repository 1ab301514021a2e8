//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDB makes this process the only one using the SQLite database at path,
// whatever name it is reached by. It resolves symbolic links (SQLite names
// its write-ahead log after the name it opens, so every process must open
// one name), opens the database file itself, creating it empty (which
// SQLite takes as a new database), and takes an exclusive flock on that
// open file: the lock belongs to the file, not to a name, so a second wsim
// reaching the same file through a hard link, a symbolic link, a bind mount
// or another spelling of the path is refused. A file with more than one hard
// link is refused outright: each name would get a write-ahead log of its
// own, and a process opening another name would not see, and could undo,
// writes acknowledged through the first.
//
// flock rather than SQLite's locking_mode=EXCLUSIVE: the latter would also
// shut out our own read-connection pool (in WAL mode it drops the
// shared-memory index other connections need), and it only bites at the
// first write, whereas the flock fails Open at once. On Linux, flock locks
// and the fcntl locks SQLite takes are independent, so they never conflict
// within this process. The descriptor stays open until SQLite has closed the
// file: closing any descriptor of a file drops the process's fcntl locks on
// it, SQLite's included.
//
// It also locks <resolved>.lock, which is what wsim versions before this one
// locked (so that an older wsim on the same file is refused too, and refuses
// this one), and writes the pid there for the error message. The kernel
// drops both locks when the process dies, so a crash never leaves a stale
// lock behind. It returns the resolved path, which is what SQLite must open.
func lockDB(path string) (resolved string, files []*os.File, err error) {
	if resolved, err = resolvePath(path); err != nil {
		return "", nil, err
	}
	named := path
	if resolved != path {
		named = fmt.Sprintf("%s (%s)", path, resolved)
	}
	f, err := os.OpenFile(resolved, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return "", nil, fmt.Errorf("store: SQLite file %s is not writable (%v); wsim must write its store: make it writable or choose another --data-dir or --store", named, err)
		}
		return "", nil, fmt.Errorf("store: open SQLite file %s: %w", named, err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return "", nil, fmt.Errorf("store: stat %s: %w", named, err)
	}
	lockPath := resolved + ".lock"
	inUse := func() error {
		holder := ""
		if pid := flockHolder(uint64(st.Dev), st.Ino); pid != "" {
			holder = " (pid " + pid + ")"
		} else if b, rerr := os.ReadFile(lockPath); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = " (pid " + strings.TrimSpace(string(b)) + ")"
		}
		return fmt.Errorf("store: %s is in use by another wsim process%s; a SQLite file can be opened by one process only, through any of its names; use PostgreSQL to share state between replicas", named, holder)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return "", nil, inUse()
		}
		return "", nil, fmt.Errorf("store: lock %s: %w", named, err)
	}
	if st.Nlink > 1 {
		return "", nil, fmt.Errorf("store: SQLite file %s has %d hard links; SQLite keeps its write-ahead log beside the name a process opens, "+
			"so two names for one database can lose acknowledged writes: remove the other links (find / -xdev -samefile %s) and use one name", named, st.Nlink, resolved)
	}

	lf, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("store: lock file: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lf.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return "", nil, inUse()
		}
		return "", nil, fmt.Errorf("store: lock %s: %w", lockPath, err)
	}
	// The pid is only a hint for the error message above.
	if err := lf.Truncate(0); err == nil {
		lf.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return resolved, []*os.File{f, lf}, nil
}

// resolvePath follows symbolic links in path: in the file itself when it
// exists, else in its directory.
func resolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("store: %s: %w", path, err)
	}
	if _, err := os.Lstat(abs); err == nil {
		r, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return "", fmt.Errorf("store: resolve %s: %w", path, err)
		}
		return r, nil
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("store: resolve %s: %w", path, err)
	}
	return filepath.Join(dir, filepath.Base(abs)), nil
}

// flockHolder finds the process holding a flock on the file with device dev
// and inode ino in /proc/locks (Linux), whatever name it opened the file by;
// "" when it cannot tell.
func flockHolder(dev, ino uint64) string {
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return ""
	}
	// Linux's encoding of a device number into major and minor.
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, ino)
	for _, line := range strings.Split(string(b), "\n") {
		// "1: FLOCK  ADVISORY  WRITE 2453 fd:01:1234 0 EOF"
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == "FLOCK" && f[5] == want {
			return f[4]
		}
	}
	return ""
}

func unlockFiles(files []*os.File) error {
	var errs []error
	for _, f := range files {
		errs = append(errs, f.Close()) // closing the descriptor releases its flock
	}
	return errors.Join(errs...)
}
