//go:build !purego

package asm

import "math"

// q8QuantizeNeon16 is qs8_vcvt_f32_x16__neon (q8add_neon_arm64.s, generated
// by gen_q8add.go): QuantizeF32's block arithmetic on n (a positive
// multiple of 16) elements, rs the float32 bits of the reciprocal scale.
//
//go:noescape
func q8QuantizeNeon16(in *float32, out *int8, n int, rs, zero int32)

// q8QuantizeArch quantises the whole 16-element blocks of in[:n] (n a
// multiple of 8, the block part of QuantizeF32) on the NEON body when the
// neon path is selected, and returns how many it did.
func q8QuantizeArch(in []float32, out []int8, n int, rs float32, zero int32) int {
	m := n / 16 * 16
	if level < pathLevel(PathNEON) || m == 0 {
		return 0
	}
	_, _ = in[m-1], out[m-1]
	q8QuantizeNeon16(&in[0], &out[0], m, int32(math.Float32bits(rs)), zero)
	return m
}
