//go:build purego || !(arm64 || amd64)

package asm

// q8QuantizeArch: this build has no SIMD QuantizeF32 body.
func q8QuantizeArch(in []float32, out []int8, n int, rs float32, zero int32) int { return 0 }
