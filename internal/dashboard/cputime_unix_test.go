//go:build unix

package dashboard_test

import "syscall"

// cpuTime is the CPU time the process has used (user and system, every
// thread, the garbage collector's included), in nanoseconds, or -1 where
// it cannot be read: on a machine shared with other work it moves less
// than the wall clock.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
