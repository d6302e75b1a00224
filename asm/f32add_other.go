//go:build purego || !(amd64 || arm64)

package asm

// addClampF32Arch: AddClampF32 has no SIMD body here.
func addClampF32Arch(dst, a, b []float32, c Clamp) int { return 0 }
