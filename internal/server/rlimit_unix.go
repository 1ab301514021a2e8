//go:build unix

package server

import "syscall"

// openFileLimit is the process's soft limit on open files (which the Go
// runtime has already raised to the hard limit), 0 when unknown.
func openFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return uint64(l.Cur)
}
