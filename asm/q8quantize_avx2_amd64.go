//go:build !purego

package asm

// q8QuantizeAvx2x16 is qs8_vcvt_f32_x16__avx2 (q8add_avx2_amd64.s, generated
// by gen_q8add.go): QuantizeF32's block arithmetic on n (a positive multiple
// of 16) elements, with lo = −128 − zero and hi = 127 − zero.
//
//go:noescape
func q8QuantizeAvx2x16(in *float32, out *int8, n int, rs, lo, hi float32, zero int32)

// q8QuantizeArch quantises the whole 16-element blocks of in[:n] (n a
// multiple of 8, the block part of QuantizeF32) on the AVX2 body when the
// avx2 path is selected, and returns how many it did.
func q8QuantizeArch(in []float32, out []int8, n int, rs float32, zero int32) int {
	m := n / 16 * 16
	// int8 zero points only: lo and hi are then small exact floats.
	if level < pathLevel(PathAVX2) || m == 0 || zero < -128 || zero > 127 {
		return 0
	}
	_, _ = in[m-1], out[m-1]
	q8QuantizeAvx2x16(&in[0], &out[0], m, rs, float32(-128-zero), float32(127-zero), zero)
	return m
}
