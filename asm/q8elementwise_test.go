package asm

import (
	"math"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/stretchr/testify/require"
)

// TestQ8AddHand checks ADD on hand-computed values. With s1 = 0.5, s2 =
// 0.25, so = 1 (zero points 0): twice = 1, so M1 = 2^30, S1 = 0 (0.5);
// M2 = 2^30, S2 = −1 (0.25); MOut = 2^30, SOut = −19 (2^−20). Every step is
// exact until the last shift: v1 = x·2^19, v2 = y·2^18, and
// out = RoundingDivideByPOT((2x + y)·2^17, 19) = round((2x + y)/4), ties away
// from zero — the real sum 0.5x + 0.25y. The NEON block is exact too here.
func TestQ8AddHand(t *testing.T) {
	a := NewQAdd(0.5, 0, 0.25, 0, 1, 0, -128, 127)
	require.Equal(t, [6]int32{1 << 30, 0, 1 << 30, -1, 1 << 30, -19}, [6]int32{a.M1, a.S1, a.M2, a.S2, a.MOut, a.SOut})
	for _, tc := range []struct{ x, y, want int8 }{
		{1, 1, 1},         // 0.75
		{1, -4, -1},       // −0.5 → −1
		{0, 2, 1},         // 0.5 → 1
		{-1, 0, -1},       // −0.5 → −1
		{100, 100, 75},    // 75
		{127, 127, 95},    // 95.25
		{-128, -128, -96}, // −96
		{3, -5, 0},        // 0.25
	} {
		require.Equal(t, tc.want, a.ref(tc.x, tc.y), "ref %d + %d", tc.x, tc.y)
		require.Equal(t, tc.want, a.block16(tc.x, tc.y), "block16 %d + %d", tc.x, tc.y)
		require.Equal(t, tc.want, a.block8(tc.x, tc.y), "block8 %d + %d", tc.x, tc.y)
	}
	// Output zero point and ReLU clamp: zo = 3, clamp [3, 127].
	b := NewQAdd(0.5, 0, 0.25, 0, 1, 3, 3, 127)
	out := make([]int8, 3)
	b.Run([]int8{1, 1, -40}, []int8{1, -4, 0}, out)
	require.Equal(t, []int8{4, 3, 3}, out)
}

// TestQ8AddNarrowing pins the NEON block's int16 narrowing: s1 = s2 = 1,
// so = 1/128, zero points −128: M1 = M2 = 2^30, S1 = S2 = 0, MOut = 2^30,
// SOut = −11 (2/2^13). For x = y = 127 (real 255 + 255 = 510) the rescaled
// sum is 255·2^9 = 130560: the reference clamps it to 127, while the NEON
// block truncates it to int16 (130560 − 2^17 = −512) and saturates to −128.
// A 16-element Run shows the block result, a 15-element one the reference.
func TestQ8AddNarrowing(t *testing.T) {
	a := NewQAdd(1, -128, 1, -128, 1.0/128, 0, -128, 127)
	require.Equal(t, int32(-11), a.SOut)
	x := make([]int8, 16)
	for i := range x {
		x[i] = 127
	}
	out := make([]int8, 16)
	a.Run(x, x, out)
	require.Equal(t, int8(-128), out[0])
	require.Equal(t, int8(-128), out[15])
	a.Run(x[:15], x[:15], out[:15])
	require.Equal(t, int8(127), out[0])
	a.Scalar = true
	a.Run(x, x, out)
	require.Equal(t, int8(127), out[15])
}

// q8AddRef is TFLite's reference add of one element, step by step with the
// quant package.
func q8AddRef(a *QAdd, x, y int8) int8 {
	mul := func(v, m, s int32) int32 { return quant.MultiplyByQuantizedMultiplier(v, m, int(s)) }
	v1 := mul((int32(x)-a.Z1)*(1<<20), a.M1, a.S1)
	v2 := mul((int32(y)-a.Z2)*(1<<20), a.M2, a.S2)
	v := a.ZOut + mul(v1+v2, a.MOut, a.SOut)
	return int8(min(max(v, a.Min), a.Max))
}

// q8AddNEONRef is one lane of TFLite's NEON AddElementwise (block16) or
// AddScalarBroadcast (block8), written with quant primitives and int64
// arithmetic: shifts by a negative amount floor, VMOVN truncates to int16,
// the zero point is added in int16, VQMOVN saturates.
func q8AddNEONRef(a *QAdd, x, y int8, scalarBroadcast bool) int8 {
	shl := func(v int64, e int32) int32 {
		if e >= 0 {
			return int32(v << uint(e))
		}
		return int32(int64(math.Floor(float64(v) / math.Exp2(float64(-e)))))
	}
	in := func(v int8, z, m, s int32) int32 {
		d := int64(v) - int64(z)
		if scalarBroadcast {
			return shl(int64(quant.SaturatingRoundingDoublingHighMul(int32(d<<20), m)), s)
		}
		return quant.SaturatingRoundingDoublingHighMul(shl(d, 20+s), m)
	}
	sum := in(x, a.Z1, a.M1, a.S1) + in(y, a.Z2, a.M2, a.S2)
	v := quant.RoundingDivideByPOT(quant.SaturatingRoundingDoublingHighMul(sum, a.MOut), int(-a.SOut))
	v16 := int16(int16(v) + int16(a.ZOut))
	v8 := min(max(int32(v16), -128), 127)
	return int8(min(max(v8, a.Min), a.Max))
}

// TestQ8AddRandom checks Run, RunBroadcast and RunScalar against the step by
// step references, lane by lane according to TFLite's block structure, and
// that the NEON arithmetic stays within 1 of the reference.
func TestQ8AddRandom(t *testing.T) {
	r := q8Seeded(t, 21)
	diff := 0
	for it := 0; it < 300; it++ {
		s1 := float32(math.Exp2(r.Float64()*10 - 8))
		s2 := float32(math.Exp2(r.Float64()*10 - 8))
		switch r.IntN(6) {
		case 0:
			s2 = s1
		case 1:
			// Input 2 is 2^21..2^28 times finer: 20 + S2 < 0, so the NEON
			// block floors it away before the multiply.
			s2 = float32(float64(s1) * math.Exp2(-21-7*r.Float64()))
		}
		so := float32(float64(max32(s1, s2)) * math.Exp2(r.Float64()*4-1))
		lo, hi := q8Clamp(r)
		a := NewQAdd(s1, q8Zero(r), s2, q8Zero(r), so, q8Zero(r), lo, hi)
		n := r.IntN(70)
		x := newQ8Buf(n, func(int) int8 { return int8(r.IntN(256) - 128) })
		y := newQ8Buf(n, func(int) int8 { return int8(r.IntN(256) - 128) })
		out := newQ8Buf(n, q8Gap)
		a.Run(x.data(), y.data(), out.data())
		for i := 0; i < n; i++ {
			xi, yi := x.data()[i], y.data()[i]
			want := q8AddRef(a, xi, yi)
			if i < n/16*16 {
				want = q8AddNEONRef(a, xi, yi, false)
				ref := q8AddRef(a, xi, yi)
				require.LessOrEqual(t, math.Abs(float64(want)-float64(ref)), 1.0, "NEON vs reference %d+%d %+v", xi, yi, *a)
				if want != ref {
					diff++
				}
			}
			require.Equal(t, want, out.data()[i], "Run element %d of %d: %d + %d, %+v", i, n, xi, yi, *a)
		}
		out.checkGuards(t, "Run")

		// Per-channel broadcast: each row of c is one AddElementwise call.
		c := 1 + r.IntN(40)
		rows := 1 + r.IntN(4)
		xb := q8Rand(r, rows*c, -128, 127)
		yb := q8Rand(r, c, -128, 127)
		ob := newQ8Buf(rows*c, q8Gap)
		a.RunBroadcast(xb, yb, ob.data(), c)
		for i, got := range ob.data() {
			j := i % c
			want := q8AddRef(a, xb[i], yb[j])
			if j < c/16*16 {
				want = q8AddNEONRef(a, xb[i], yb[j], false)
			}
			require.Equal(t, want, got, "RunBroadcast element %d (c %d)", i, c)
		}
		ob.checkGuards(t, "RunBroadcast")

		// Scalar broadcast: blocks of 8 take AddScalarBroadcast's NEON path.
		ys := int8(r.IntN(256) - 128)
		os := newQ8Buf(n, q8Gap)
		a.RunScalar(x.data(), ys, os.data())
		for i, got := range os.data() {
			want := q8AddRef(a, x.data()[i], ys)
			if i < n/8*8 {
				want = q8AddNEONRef(a, x.data()[i], ys, true)
			}
			require.Equal(t, want, got, "RunScalar element %d of %d", i, n)
		}
		os.checkGuards(t, "RunScalar")

		a.Scalar = true
		a.Run(x.data(), y.data(), out.data())
		for i := 0; i < n; i++ {
			require.Equal(t, q8AddRef(a, x.data()[i], y.data()[i]), out.data()[i], "Scalar Run element %d", i)
		}
	}
	t.Logf("NEON and reference arithmetic differed on %d elements", diff)
}

// TestQ8MulHand: s1 = s2 = 0.5, so = 0.25 gives M = 2^30, S = 1 (×1), so
// out = zo + (x − z1)(y − z2) exactly. With s1 = s2 = 1, so = 1/256 (×256,
// S = 9) and zo = 10, x = y = 127: the reference clamps 127·127·256 to 127;
// the NEON block saturates it to 32767 in int16, adds 10 with wrap-around
// (−32759) and saturates to −128.
func TestQ8MulHand(t *testing.T) {
	m := NewQMul(0.5, 0, 0.5, 0, 0.25, 10, -128, 127)
	require.Equal(t, int32(1<<30), m.M)
	require.Equal(t, int32(1), m.S)
	out := make([]int8, 4)
	m.Run([]int8{3, 20, -128, 0}, []int8{-5, 20, 1, 99}, out)
	require.Equal(t, []int8{-5, 127, -118, 10}, out)

	w := NewQMul(1, 0, 1, 0, 1.0/256, 10, -128, 127)
	require.Equal(t, int32(9), w.S)
	x := make([]int8, 17)
	for i := range x {
		x[i] = 127
	}
	o := make([]int8, 17)
	w.Run(x, x, o)
	require.Equal(t, int8(-128), o[0], "NEON block")
	require.Equal(t, int8(127), o[16], "scalar tail")
	w.RunScalar(x, 127, o)
	require.Equal(t, int8(-128), o[15])
	require.Equal(t, int8(127), o[16])
}

func TestQ8MulRandom(t *testing.T) {
	r := q8Seeded(t, 22)
	for it := 0; it < 300; it++ {
		s1, s2 := float32(math.Exp2(r.Float64()*8-6)), float32(math.Exp2(r.Float64()*8-6))
		so := float32(float64(s1*s2) * math.Exp2(r.Float64()*16-2))
		lo, hi := q8Clamp(r)
		m := NewQMul(s1, q8Zero(r), s2, q8Zero(r), so, q8Zero(r), lo, hi)
		mq, sq := quant.QuantizeMultiplier(float64(s1 * s2 / so))
		require.Equal(t, mq, m.M)
		require.Equal(t, int32(sq), m.S)
		ref := func(x, y int8, block bool) int8 {
			v := quant.MultiplyByQuantizedMultiplier((int32(x)-m.Z1)*(int32(y)-m.Z2), m.M, int(m.S))
			if block {
				v = int32(int16(min(max(v, -32768), 32767)) + int16(m.ZOut))
				v = min(max(v, -128), 127)
			} else {
				v += m.ZOut
			}
			return int8(min(max(v, m.Min), m.Max))
		}
		n := r.IntN(50)
		x, y := q8Rand(r, n, -128, 127), q8Rand(r, n, -128, 127)
		out := newQ8Buf(n, q8Gap)
		m.Run(x, y, out.data())
		for i := range x {
			require.Equal(t, ref(x[i], y[i], i < n/16*16), out.data()[i], "Run %d of %d", i, n)
		}
		out.checkGuards(t, "Run")
		c := 1 + r.IntN(40)
		xb, yb := q8Rand(r, 3*c, -128, 127), q8Rand(r, c, -128, 127)
		ob := make([]int8, 3*c)
		m.RunBroadcast(xb, yb, ob, c)
		for i := range ob {
			require.Equal(t, ref(xb[i], yb[i%c], i%c < c/16*16), ob[i], "RunBroadcast %d", i)
		}
		ys := int8(r.IntN(256) - 128)
		m.RunScalar(x, ys, out.data())
		for i := range x {
			require.Equal(t, ref(x[i], ys, i < n/16*16), out.data()[i], "RunScalar %d", i)
		}
		m.Scalar = true
		m.Run(x, y, out.data())
		for i := range x {
			require.Equal(t, ref(x[i], y[i], false), out.data()[i], "Scalar %d", i)
		}
	}
}
