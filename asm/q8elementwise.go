package asm

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/quant"
)

// QAdd is TFLite 2.9's int8 ADD (add.cc with optimized_integer_ops). Inputs
// are rescaled onto a common scale with 20 bits of headroom, added, and
// rescaled to the output. With the parameters of NewQAdd, TFLite's reference
// arithmetic for one element is
//
//	v1 := RoundingDivideByPOT(SaturatingRoundingDoublingHighMul((x − Z1)<<20, M1), −S1)
//	v2 := RoundingDivideByPOT(SaturatingRoundingDoublingHighMul((y − Z2)<<20, M2), −S2)
//	out = clamp(ZOut + RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(v1+v2, MOut), −SOut), Min, Max)
//
// TFLite's optimised kernel, which the builtin resolver runs, differs in its
// NEON blocks (also compiled for x86 through NEON_2_SSE), and the kernels
// here reproduce that unless Scalar is set:
//
//   - AddElementwise (Run, and each row of RunBroadcast): in every whole
//     block of 16 elements from the start of the call the input shift is
//     folded into the left shift, v1 := SaturatingRoundingDoublingHighMul((x −
//     Z1) << (20+S1), M1) (a flooring right shift if 20+S1 < 0), and the
//     result is narrowed through int16 (wrapping) before saturating to int8;
//     the tail uses the reference arithmetic.
//   - AddScalarBroadcast (RunScalar): in every whole block of 8 the input
//     rescale ends in a flooring shift, v1 := SaturatingRoundingDoublingHighMul((x
//     − Z1)<<20, M1) >> −S1, with the same narrowing; the tail uses the
//     reference arithmetic.
//
// So a Run call must cover what one TFLite call covers: the whole tensor for
// same-shape inputs, one innermost row for a broadcast.
type QAdd struct {
	Z1, Z2, ZOut int32
	M1, M2, MOut int32
	S1, S2, SOut int32
	Min, Max     int32
	// Scalar selects TFLite's scalar arithmetic for every element (a TFLite
	// build without NEON or SSE4.1, or its reference kernel).
	Scalar bool

	// The rescaled inputs depend on one int8 each, so NewQAdd tabulates them
	// by bit pattern: ref (scalar arithmetic), vec (AddElementwise block) and
	// bc (AddScalarBroadcast block), for x and y.
	ref1, ref2, vec1, vec2, bc1, bc2 [256]int32
	// lin, when not nil, is a float form of the whole blocks that equals
	// them on every input pair for the output parameters in linKey
	// (q8AddLinArch; amd64 only).
	lin    *q8AddLin
	linKey [5]int32
}

// q8AddLin is the argument block of the AVX2 linear ADD body (layout fixed
// by the assembly): out = clamp(sat8(RoundToEven(A·x + (B·y + C))), Lo, Hi)
// in float32 FMAs.
type q8AddLin struct {
	A, B, C float32
	Lo, Hi  int32
	// Wide reports that the avx512vnni path's ZMM body reproduces the
	// fixed-point blocks too (checked like the avx2 one).
	Wide bool
}

// outKey is what the block arithmetic reads from a's output parameters.
func (a *QAdd) outKey() [5]int32 { return [5]int32{a.MOut, a.SOut, a.ZOut, a.Min, a.Max} }

// NewQAdd prepares an int8 ADD of x (scale s1, zero point z1) and y (s2, z2)
// into an output with scale so and zero point zo, clamped to [min, max]
// (quant.ActivationRange), as TFLite's add.cc Prepare does:
//
//	twice := 2·max(s1, s2)
//	M1, S1 = quant.QuantizeMultiplier(float64(s1) / twice)
//	M2, S2 = quant.QuantizeMultiplier(float64(s2) / twice)
//	MOut, SOut = quant.QuantizeMultiplier(twice / float64(2^20·so))
func NewQAdd(s1 float32, z1 int32, s2 float32, z2 int32, so float32, zo int32, min, max int32) *QAdd {
	twice := float64(2 * max32(s1, s2))
	a := &QAdd{Z1: z1, Z2: z2, ZOut: zo, Min: min, Max: max}
	var s int
	a.M1, s = quant.QuantizeMultiplier(float64(s1) / twice)
	a.S1 = int32(s)
	a.M2, s = quant.QuantizeMultiplier(float64(s2) / twice)
	a.S2 = int32(s)
	a.MOut, s = quant.QuantizeMultiplier(twice / float64(float32(1<<20)*so))
	a.SOut = int32(s)
	checkQ8Clamp("NewQAdd", zo, min, max)
	for v := -128; v <= 127; v++ {
		u := uint8(int8(v))
		d1, d2 := int32(v)-z1, int32(v)-z2
		a.ref1[u] = rdouble(d1<<20, a.M1, a.S1)
		a.ref2[u] = rdouble(d2<<20, a.M2, a.S2)
		a.vec1[u] = srdhm(neonShl(d1, 20+a.S1), a.M1)
		a.vec2[u] = srdhm(neonShl(d2, 20+a.S2), a.M2)
		a.bc1[u] = neonShl(srdhm(d1<<20, a.M1), a.S1)
		a.bc2[u] = neonShl(srdhm(d2<<20, a.M2), a.S2)
	}
	a.lin = q8AddLinArch(a, s1, s2, so)
	a.linKey = a.outKey()
	return a
}

// Run adds same-shape tensors: out[i] = x[i] + y[i] for i < len(out), as one
// TFLite AddElementwise call. The parameters must not change after NewQAdd
// (except Scalar). Run does not allocate.
func (a *QAdd) Run(x, y, out []int8) {
	x, y = x[:len(out)], y[:len(out)]
	if q8AddArch(a, x, y, out) {
		return
	}
	nb := 0
	if !a.Scalar {
		nb = len(out) / 16 * 16 // only whole blocks take the vector arithmetic
	}
	if a.SOut > 0 || a.MOut < 0 {
		// Outside TFLite's parameter range (its Prepare rejects an output
		// multiplier ≥ 1): the general arithmetic.
		for i := 0; i < nb; i++ {
			out[i] = a.narrow(a.vec1[uint8(x[i])] + a.vec2[uint8(y[i])])
		}
		for i := nb; i < len(out); i++ {
			out[i] = a.finish(a.ref1[uint8(x[i])] + a.ref2[uint8(y[i])])
		}
		return
	}
	m, e := int64(a.MOut), uint(-a.SOut)
	mask := int32(1)<<e - 1
	half := mask >> 1
	zo, lo, hi := a.ZOut, a.Min, a.Max
	for i := 0; i < nb; i++ {
		v := rdivPOTMask(srdhmPos(a.vec1[uint8(x[i])]+a.vec2[uint8(y[i])], m), e, mask, half)
		v = int32(int16(int16(v) + int16(zo)))
		out[i] = int8(min(max(v, lo, -128), hi, 127))
	}
	for i := nb; i < len(out); i++ {
		v := zo + rdivPOTMask(srdhmPos(a.ref1[uint8(x[i])]+a.ref2[uint8(y[i])], m), e, mask, half)
		out[i] = int8(min(max(v, lo), hi))
	}
}

// RunBroadcast adds a per-channel vector y (len c) to every c-element row of
// x: out[r·c + j] = x[r·c + j] + y[j] for r < len(out)/c, each row as one
// TFLite AddElementwise call (BroadcastAddFivefold with y4 = c > 1). It
// does not allocate.
func (a *QAdd) RunBroadcast(x, y, out []int8, c int) {
	if c <= 0 || len(out)%c != 0 || len(y) < c || len(x) < len(out) {
		panic(fmt.Sprintf("asm: QAdd.RunBroadcast: %d outputs, %d inputs, %d channels, vector %d", len(out), len(x), c, len(y)))
	}
	for r := 0; r < len(out); r += c {
		a.Run(x[r:r+c], y[:c], out[r:r+c])
	}
}

// RunScalar adds one value to every element: out[i] = x[i] + y, as one
// TFLite AddScalarBroadcast call. It does not allocate.
func (a *QAdd) RunScalar(x []int8, y int8, out []int8) {
	x = x[:len(out)]
	nb := 0
	if !a.Scalar {
		nb = len(out) / 8 * 8
	}
	b2, r2 := a.bc2[uint8(y)], a.ref2[uint8(y)]
	for i := 0; i < nb; i++ {
		out[i] = a.narrow(a.bc1[uint8(x[i])] + b2)
	}
	for i := nb; i < len(out); i++ {
		out[i] = a.finish(a.ref1[uint8(x[i])] + r2)
	}
}

// ref is TFLite's scalar add of one element.
func (a *QAdd) ref(x, y int8) int8 { return a.finish(a.ref1[uint8(x)] + a.ref2[uint8(y)]) }

// block16 is one lane of AddElementwise's NEON block.
func (a *QAdd) block16(x, y int8) int8 { return a.narrow(a.vec1[uint8(x)] + a.vec2[uint8(y)]) }

// block8 is one lane of AddScalarBroadcast's NEON block.
func (a *QAdd) block8(x, y int8) int8 { return a.narrow(a.bc1[uint8(x)] + a.bc2[uint8(y)]) }

// finish is the scalar epilogue: output rescale, zero point, clamp.
func (a *QAdd) finish(sum int32) int8 {
	v := a.ZOut + rdouble(sum, a.MOut, a.SOut)
	return int8(min(max(v, a.Min), a.Max))
}

// narrow is the common NEON epilogue: output rescale, VMOVN to int16
// (wrapping), add the zero point in int16 (wrapping), VQMOVN to int8, clamp.
func (a *QAdd) narrow(sum int32) int8 {
	v := rdouble(sum, a.MOut, a.SOut)
	v = sat8(wrap16(wrap16(v) + a.ZOut))
	return int8(min(max(v, a.Min), a.Max))
}

// QMul is TFLite 2.9's int8 MUL (mul.cc with optimized_integer_ops):
//
//	out = clamp(ZOut + MultiplyByQuantizedMultiplier((x − Z1)·(y − Z2), M, S), Min, Max)
//
// TFLite's optimised kernel computes whole blocks of 16 elements (from the
// start of each MulElementwise / MulSimpleBroadcast call) with NEON, which
// narrows the rescaled product to int16 with saturation and adds the zero
// point in int16 (wrapping) before saturating to int8; it differs from the
// formula only when |rescaled product| > 32767 − |ZOut|. The kernels here
// reproduce that unless Scalar is set.
type QMul struct {
	Z1, Z2, ZOut int32
	M, S         int32
	Min, Max     int32
	// Scalar selects the scalar arithmetic for every element (see QAdd).
	Scalar bool
}

// NewQMul prepares an int8 MUL as TFLite's mul.cc Prepare does; the
// multiplier is computed in float32 before widening:
//
//	M, S = quant.QuantizeMultiplier(float64(s1·s2/so))
func NewQMul(s1 float32, z1 int32, s2 float32, z2 int32, so float32, zo int32, min, max int32) *QMul {
	m, s := quant.QuantizeMultiplier(float64(s1 * s2 / so))
	checkQ8Clamp("NewQMul", zo, min, max)
	return &QMul{Z1: z1, Z2: z2, ZOut: zo, M: m, S: int32(s), Min: min, Max: max}
}

// Run multiplies same-shape tensors: out[i] = x[i]·y[i] for i < len(out), as
// one TFLite MulElementwise call. It does not allocate.
func (m *QMul) Run(x, y, out []int8) {
	x, y = x[:len(out)], y[:len(out)]
	nb := 0
	if !m.Scalar {
		nb = len(out) / 16 * 16
	}
	if m.S > 0 || m.M < 0 {
		for i := 0; i < nb; i++ {
			out[i] = m.block(x[i], y[i])
		}
		for i := nb; i < len(out); i++ {
			out[i] = m.ref(x[i], y[i])
		}
		return
	}
	mm, e := int64(m.M), uint(-m.S)
	mask := int32(1)<<e - 1
	half := mask >> 1
	z1, z2, zo, lo, hi := m.Z1, m.Z2, m.ZOut, m.Min, m.Max
	for i := 0; i < nb; i++ {
		v := rdivPOTMask(srdhmPos((int32(x[i])-z1)*(int32(y[i])-z2), mm), e, mask, half)
		v = int32(int16(min(max(v, -32768), 32767)) + int16(zo))
		out[i] = int8(min(max(v, lo, -128), hi, 127))
	}
	for i := nb; i < len(out); i++ {
		v := zo + rdivPOTMask(srdhmPos((int32(x[i])-z1)*(int32(y[i])-z2), mm), e, mask, half)
		out[i] = int8(min(max(v, lo), hi))
	}
}

// RunBroadcast multiplies every c-element row of x by a per-channel vector y
// (len c): out[r·c + j] = x[r·c + j]·y[j], each row as one TFLite
// MulElementwise call. It does not allocate.
func (m *QMul) RunBroadcast(x, y, out []int8, c int) {
	if c <= 0 || len(out)%c != 0 || len(y) < c || len(x) < len(out) {
		panic(fmt.Sprintf("asm: QMul.RunBroadcast: %d outputs, %d inputs, %d channels, vector %d", len(out), len(x), c, len(y)))
	}
	for r := 0; r < len(out); r += c {
		m.Run(x[r:r+c], y[:c], out[r:r+c])
	}
}

// RunScalar multiplies every element by one value: out[i] = x[i]·y, as one
// TFLite MulSimpleBroadcast call. It does not allocate.
func (m *QMul) RunScalar(x []int8, y int8, out []int8) {
	x = x[:len(out)]
	i := 0
	if !m.Scalar {
		for ; i < len(out)/16*16; i++ {
			out[i] = m.block(x[i], y)
		}
	}
	for ; i < len(out); i++ {
		out[i] = m.ref(x[i], y)
	}
}

func (m *QMul) ref(x, y int8) int8 {
	v := m.ZOut + rdouble((int32(x)-m.Z1)*(int32(y)-m.Z2), m.M, m.S)
	return int8(min(max(v, m.Min), m.Max))
}

func (m *QMul) block(x, y int8) int8 {
	v := rdouble((int32(x)-m.Z1)*(int32(y)-m.Z2), m.M, m.S)
	v = sat8(wrap16(sat16(v) + m.ZOut))
	return int8(min(max(v, m.Min), m.Max))
}

// neonShl is NEON's VSHL by a signed amount: a left shift (wrapping) for
// e ≥ 0, a flooring right shift for e < 0.
func neonShl(x, e int32) int32 {
	if e >= 0 {
		return x << uint(e)
	}
	return floorShift(x, uint(min(-e, 31)))
}

// wrap16 truncates to int16 (VMOVN, VADD on 16-bit lanes).
func wrap16(v int32) int32 { return int32(int16(v)) }

func max32(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

func checkQ8Clamp(what string, zo, lo, hi int32) {
	if zo < -128 || zo > 127 || lo > hi || lo < -128 || hi > 127 {
		panic(fmt.Sprintf("asm: %s: zero point %d or clamp [%d, %d] outside int8", what, zo, lo, hi))
	}
}
