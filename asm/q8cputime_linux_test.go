//go:build linux

package asm

import (
	"syscall"
	"time"
)

// q8ThreadCPU is the CPU time of the calling OS thread, so single-threaded
// benchmarks can report throughput that other load on a shared machine
// does not distort.
func q8ThreadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
