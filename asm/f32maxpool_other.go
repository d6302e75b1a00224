//go:build !amd64 || purego

package asm

// maxPoolF32Arch: Pool2D.MaxF32 has no whole-window SIMD body here (arm64
// folds each tap with maxIntoF32Arch).
func maxPoolF32Arch(p *Pool2D, in, out []float32, r0, r1 int) bool { return false }
