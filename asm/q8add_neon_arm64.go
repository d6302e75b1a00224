//go:build !purego

package asm

import "unsafe"

// q8AddNeon16 is qs8_vadd_requant_x16__neon (q8add_neon_arm64.s, generated
// by gen_q8add.go): n (a positive multiple of 16) elements of QAdd.Run's
// block arithmetic.
//
//go:noescape
func q8AddNeon16(x, y, out *int8, n int, p *q8AddParams)

// q8AddArch runs QAdd.Run (x and y already resliced to len(out)) on the
// NEON body when the neon path is selected and there is at least one whole
// block, and reports whether it did.
func q8AddArch(a *QAdd, x, y, out []int8) bool {
	var p q8AddParams
	nb := len(out) / 16 * 16
	if level < pathLevel(PathNEON) || nb == 0 || !q8AddSIMDParams(a, &p) {
		return false
	}
	q8AddNeon16((*int8)(unsafe.Pointer(&x[0])), (*int8)(unsafe.Pointer(&y[0])), (*int8)(unsafe.Pointer(&out[0])), nb, &p)
	a.runTail(x, y, out, nb)
	return true
}

// q8AddLinArch: the NEON path has no linear ADD body.
func q8AddLinArch(a *QAdd, s1, s2, so float32) *q8AddLin { return nil }
