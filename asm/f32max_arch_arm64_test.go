//go:build !purego

package asm

// maxIntoF32Arch, the body registered as maxIntoKernel, runs on NEON,
// 4 floats at a time (TestMaxIntoF32SIMD).
const (
	maxIntoKernel = "f32_maxpool_fold_x16__neon"
	maxIntoPath   = PathNEON
	maxIntoBlock  = 4
)
