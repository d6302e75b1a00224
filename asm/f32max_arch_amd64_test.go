//go:build !purego

package asm

// maxIntoF32Arch, the body registered as maxIntoKernel, runs on AVX2,
// 8 floats at a time (TestMaxIntoF32SIMD).
const (
	maxIntoKernel = "f32_maxpool_c8__avx2"
	maxIntoPath   = PathAVX2
	maxIntoBlock  = 8
)
