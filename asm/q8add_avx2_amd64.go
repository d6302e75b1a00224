//go:build !purego

package asm

import (
	"math"
	"slices"
	"unsafe"
)

// q8AddAvx2x16 is qs8_vadd_requant_x16__avx2 (q8add_avx2_amd64.s, generated
// by gen_q8add.go): n (a positive multiple of 16) elements of QAdd.Run's
// block arithmetic.
//
//go:noescape
func q8AddAvx2x16(x, y, out *int8, n int, p *q8AddParams)

// q8AddAvx2x16F is q8AddAvx2x16 with the inputs' rescale in int32 lanes
// (the parameters of q8AddFastParams; see the .s header).
//
//go:noescape
func q8AddAvx2x16F(x, y, out *int8, n int, p *q8AddParams, f *q8AddFast)

// q8AddAvx2x16Lin is qs8_vadd_linear_x16__avx2: n (a positive multiple of
// 16) elements of out = clamp(sat8(RoundToEven(A·x + (B·y + C))), Lo, Hi).
//
//go:noescape
func q8AddAvx2x16Lin(x, y, out *int8, n int, l *q8AddLin)

// q8AddAvx512x32Lin is qs8_vadd_linear_x32__avx512: q8AddAvx2x16Lin's
// arithmetic on ZMM registers (AVX512F), for the avx512vnni path.
//
//go:noescape
func q8AddAvx512x32Lin(x, y, out *int8, n int, l *q8AddLin)

// q8AddUseLin enables the linear body (tests turn it off).
var q8AddUseLin = true

// q8AddLinArch returns the float form of a's whole-block arithmetic when
// the linear body, run here on all 65 536 (x, y) byte pairs, reproduces
// the fixed-point blocks (block16) on every one, else nil. The form is
// A = 2^20·(M1·2^S1)·(MOut·2^SOut)/2^62 and B alike (the slopes the
// fixed-point multipliers really apply), C = ZOut − A·Z1 − B·Z2 (float64,
// rounded to float32); when some pair misses, C nudged by up to ±4
// float32 steps is tried, then A and B nudged by up to ±2 steps with each
// of those C. Calibrated scales rarely put a pair's exact sum within
// float32 rounding of a .5 tie, and a tie the first form misses usually
// moves off with a one-step nudge of A or B (ResNet-50's and MobileNet
// v2's last refused ADDs); the check, not that argument, is what makes the
// body exact. s1, s2 and so only serve a's parameters.
func q8AddLinArch(a *QAdd, s1, s2, so float32) *q8AddLin {
	var p q8AddParams
	if hwLevel < pathLevel(PathAVX2) || !q8AddSIMDParams(a, &p) {
		return nil
	}
	x, y := make([]int8, 1<<16), make([]int8, 1<<16)
	want, got := make([]int8, 1<<16), make([]int8, 1<<16)
	for i := range x {
		x[i], y[i] = int8(i>>8), int8(i)
		want[i] = a.block16(x[i], y[i])
	}
	A := math.Ldexp(float64(a.M1)*float64(a.MOut), int(a.S1+a.SOut)-42)
	B := math.Ldexp(float64(a.M2)*float64(a.MOut), int(a.S2+a.SOut)-42)
	c := float32(float64(a.ZOut) - A*float64(a.Z1) - B*float64(a.Z2))
	l := &q8AddLin{Lo: a.Min, Hi: a.Max}
	steps := []int{0, 1, -1, 2, -2, 3, -3, 4, -4}
	for _, ka := range steps[:5] {
		for _, kb := range steps[:5] {
			l.A, l.B = nudgeF32(float32(A), ka), nudgeF32(float32(B), kb)
			for _, kc := range steps {
				l.C = nudgeF32(c, kc)
				q8AddAvx2x16Lin(&x[0], &y[0], &got[0], len(got), l)
				if slices.Equal(got, want) {
					if hwLevel >= pathLevel(PathVNNI) {
						clear(got)
						q8AddAvx512x32Lin(&x[0], &y[0], &got[0], len(got), l)
						l.Wide = slices.Equal(got, want)
					}
					return l
				}
			}
		}
	}
	return nil
}

// nudgeF32 moves v by k float32 steps (ulps).
func nudgeF32(v float32, k int) float32 {
	for ; k > 0; k-- {
		v = math.Nextafter32(v, float32(math.Inf(1)))
	}
	for ; k < 0; k++ {
		v = math.Nextafter32(v, float32(math.Inf(-1)))
	}
	return v
}

// q8AddFast is q8AddAvx2x16F's extra argument block (layout in the .s
// header): per input, the multiplier's halves as int16 pairs (ml, 0) and
// (mh, 0), the rounding term 2^(d−1) and the shift counts A, B, C.
type q8AddFast struct {
	mlo [2][8]int32
	mhi [2][8]int32
	rnd [2][8]int32
	sh  [2][3][2]uint64 // A, B, C per input, each a 16-byte xmm operand
}

// q8AddUseFast enables q8AddAvx2x16F (tests turn it off to run the same
// cases on q8AddAvx2x16).
var q8AddUseFast = true

// q8AddFastParams fills f for q8AddAvx2x16F and reports whether both
// inputs allow it: L = 20 + S in [0, 22] (v·2^L cannot wrap for |v| ≤ 255,
// and v·mh·2^(16−d) fits int32) and M ≥ 0 with its high half below 2^15
// once the low half is taken as signed.
func q8AddFastParams(a *QAdd, f *q8AddFast) bool {
	for i, sm := range [2][2]int32{{a.S1, a.M1}, {a.S2, a.M2}} {
		l, m := 20+sm[0], sm[1]
		ml := int32(int16(uint16(m)))
		mh := (int64(m) - int64(ml)) >> 16 // int64: M near 2^31 would wrap
		if l < 0 || l > 22 || m < 0 || mh >= 1<<15 {
			return false
		}
		d := 31 - l
		sh := [3]uint64{uint64(16 - d), uint64(d), 0}
		if d > 16 {
			sh = [3]uint64{0, 16, uint64(d - 16)}
		}
		for j := range 8 {
			f.mlo[i][j], f.mhi[i][j], f.rnd[i][j] = int32(uint16(ml)), int32(mh), 1<<(d-1)
		}
		for k := range sh {
			f.sh[i][k] = [2]uint64{sh[k], 0}
		}
	}
	return true
}

// q8AddArch runs QAdd.Run (x and y already resliced to len(out)) on the
// AVX2 body when the avx2 path is selected and there is at least one whole
// block, and reports whether it did.
func q8AddArch(a *QAdd, x, y, out []int8) bool {
	var p q8AddParams
	nb := len(out) / 16 * 16
	if level < pathLevel(PathAVX2) || nb == 0 || !q8AddSIMDParams(a, &p) {
		return false
	}
	xp, yp, op := (*int8)(unsafe.Pointer(&x[0])), (*int8)(unsafe.Pointer(&y[0])), (*int8)(unsafe.Pointer(&out[0]))
	var f q8AddFast
	if q8AddUseLin && a.lin != nil && a.linKey == a.outKey() {
		if a.lin.Wide && level >= pathLevel(PathVNNI) {
			q8AddAvx512x32Lin(xp, yp, op, nb, a.lin)
		} else {
			q8AddAvx2x16Lin(xp, yp, op, nb, a.lin)
		}
	} else if q8AddUseFast && q8AddFastParams(a, &f) {
		q8AddAvx2x16F(xp, yp, op, nb, &p, &f)
	} else {
		q8AddAvx2x16(xp, yp, op, nb, &p)
	}
	a.runTail(x, y, out, nb)
	return true
}
