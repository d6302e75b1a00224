//go:build purego || !arm64

package asm

// interleave3F32Arch: InterleaveRGBF32 has no SIMD body here.
func interleave3F32Arch(dst, r, g, b []float32) int { return 0 }

// interleave3U8Arch: InterleaveRGB8 has no SIMD body here.
func interleave3U8Arch(dst, r, g, b []byte) int { return 0 }
