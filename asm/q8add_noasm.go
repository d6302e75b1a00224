//go:build purego || !(arm64 || amd64)

package asm

// q8AddArch reports that this build has no SIMD QAdd body.
func q8AddArch(a *QAdd, x, y, out []int8) bool { return false }

// q8AddLinArch: this build has no linear ADD body.
func q8AddLinArch(a *QAdd, s1, s2, so float32) *q8AddLin { return nil }
