//go:build !linux

package asm

import "time"

// q8ThreadCPU is unavailable off Linux.
func q8ThreadCPU() (time.Duration, bool) { return 0, false }
