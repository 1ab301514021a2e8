//go:build !unix

package store

import "os"

// lockDB takes no lock where flock is unavailable; wsim's supported platforms
// are unix, and there a second process is refused (see lock_unix.go).
func lockDB(path string) (string, []*os.File, error) { return path, nil, nil }

func unlockFiles(files []*os.File) error { return nil }
