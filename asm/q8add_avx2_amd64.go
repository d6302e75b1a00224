//go:build !purego

package asm

import "unsafe"

// q8AddAvx2x16 is qs8_vadd_requant_x16__avx2 (q8add_avx2_amd64.s, generated
// by gen_q8add.go): n (a positive multiple of 16) elements of QAdd.Run's
// block arithmetic.
//
//go:noescape
func q8AddAvx2x16(x, y, out *int8, n int, p *q8AddParams)

// q8AddArch runs QAdd.Run (x and y already resliced to len(out)) on the
// AVX2 body when the avx2 path is selected and there is at least one whole
// block, and reports whether it did.
func q8AddArch(a *QAdd, x, y, out []int8) bool {
	var p q8AddParams
	nb := len(out) / 16 * 16
	if level < pathLevel(PathAVX2) || nb == 0 || !q8AddSIMDParams(a, &p) {
		return false
	}
	q8AddAvx2x16((*int8)(unsafe.Pointer(&x[0])), (*int8)(unsafe.Pointer(&y[0])), (*int8)(unsafe.Pointer(&out[0])), nb, &p)
	a.runTail(x, y, out, nb)
	return true
}
