//go:build !unix

package store

import "os"

// lockFile is a no-op where flock is unavailable; wsim's supported platforms
// are unix, and there a second process is refused (see lock_unix.go).
func lockFile(db string) (*os.File, error) { return nil, nil }

func unlockFile(f *os.File) error { return nil }
