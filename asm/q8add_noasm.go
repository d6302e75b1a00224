//go:build purego || !(arm64 || amd64)

package asm

// q8AddArch reports that this build has no SIMD QAdd body.
func q8AddArch(a *QAdd, x, y, out []int8) bool { return false }
