//go:build !amd64 || purego

package asm

// maxIntoF32Arch: maxIntoF32 has no SIMD body here.
func maxIntoF32Arch(o, x []float32) int { return 0 }

// maxPoolF32Arch: Pool2D.MaxF32 has no SIMD body here.
func maxPoolF32Arch(p *Pool2D, in, out []float32, r0, r1 int) bool { return false }
