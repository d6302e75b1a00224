package asm

import (
	"math"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/stretchr/testify/require"
)

// TestQ8RescaleTable checks the three roundings on hand-derived values.
// m = 2^30 is the multiplier 0.5, so with shift s the real result is
// x · 2^(s−1):
//
//	x = 5, s = −1 (1.25): double: SRDHM(5, 0.5) = 2.5 → 3 (ties up), then
//	    3/2 = 1.5 → 2 (away); single: floor(1.25 + 0.5) = 1; upward:
//	    (3 + 1) >> 1 = 2.
//	x = −3, s = −1 (−0.75): double: SRDHM = −1.5 → −1, −1/2 = −0.5 → −1;
//	    single: floor(−0.25) = −1; upward: (−1 + 1) >> 1 = 0.
//	x = −5, s = −1 (−1.25): double: −2.5 → −2, −2/2 = −1; single:
//	    floor(−0.75) = −1; upward: (−2 + 1) >> 1 = −1.
//	x = −3, s = 0 (−1.5): every mode rounds the tie up: −1.
//	x = 3, s = 2 (6): 12 · 0.5 exactly: 6.
//	x = −6, s = −2 (−0.75): double: −3, then −3/4 = −0.75 → −1; single:
//	    floor(−0.25) = −1; upward: (−3 + 2) >> 2 = −1.
//	x = −2, s = −2 (−0.25): double: −1, then −0.25 → 0; single: floor(0.25)
//	    = 0; upward: (−1 + 2) >> 2 = 0.
func TestQ8RescaleTable(t *testing.T) {
	const half = 1 << 30
	for _, tc := range []struct {
		x, s                   int32
		double, single, upward int32
	}{
		{5, -1, 2, 1, 2},
		{-3, -1, -1, -1, 0},
		{-5, -1, -1, -1, -1},
		{-3, 0, -1, -1, -1},
		{3, 2, 6, 6, 6},
		{-6, -2, -1, -1, -1},
		{-2, -2, 0, 0, 0},
	} {
		require.Equal(t, tc.double, rescale(RoundDouble, tc.x, half, tc.s), "double %+v", tc)
		require.Equal(t, tc.single, rescale(RoundSingle, tc.x, half, tc.s), "single %+v", tc)
		require.Equal(t, tc.upward, rescale(RoundUpward, tc.x, half, tc.s), "upward %+v", tc)
		for _, mode := range q8Roundings {
			require.Equal(t, rescale(mode, tc.x, half, tc.s), rescaleRef(mode, tc.x, half, tc.s), "%v %+v", mode, tc)
		}
	}
}

// TestQ8RescaleRandom checks rescale and its parts against the quant
// package and exact big-integer arithmetic over random and edge operands.
func TestQ8RescaleRandom(t *testing.T) {
	r := q8Seeded(t, 101)
	edges := []int32{0, 1, -1, 2, -2, 1 << 20, -1 << 20, math.MaxInt32, math.MinInt32, math.MaxInt32 - 1, math.MinInt32 + 1}
	for i := 0; i < 200000; i++ {
		x := int32(r.Uint32())
		switch r.IntN(4) {
		case 0:
			x = edges[r.IntN(len(edges))]
		case 1:
			x = int32(r.IntN(1<<16) - 1<<15)
		}
		m, s := quant.QuantizeMultiplier(math.Exp2(r.Float64()*40 - 36))
		if r.IntN(50) == 0 {
			m = 1 << 30
		}
		if s > 0 {
			// Keep x·2^s inside int32 as TFLite's callers do.
			x >>= uint(s)
		}
		require.Equal(t, quant.SaturatingRoundingDoublingHighMul(x, m), srdhm(x, m), "srdhm(%d, %d)", x, m)
		e := r.IntN(32)
		require.Equal(t, quant.RoundingDivideByPOT(x, e), rdivPOT(x, uint(e)), "rdivPOT(%d, %d)", x, e)
		for _, mode := range q8Roundings {
			require.Equal(t, rescaleRef(mode, x, m, int32(s)), rescale(mode, x, m, int32(s)), "%v x=%d m=%d s=%d", mode, x, m, s)
		}
	}
	require.Equal(t, int32(math.MaxInt32), srdhm(math.MinInt32, math.MinInt32))
}

// TestQ8NewRequant checks the two multiplier recipes against their TFLite
// formulas, including a case where rounding the scale product to float32
// first changes the multiplier.
func TestQ8NewRequant(t *testing.T) {
	r := NewRequant(0.5, []float32{0.25, 0.75}, 0.125, -3, -128, 100)
	require.Equal(t, []int32{1 << 30, 3 << 29}, r.Mult) // 1.0 = 0.5·2, 3.0 = 0.75·4
	require.Equal(t, []int32{1, 2}, r.Shift)
	require.Equal(t, int32(-3), r.OutZero)
	e := r.Expand(5)
	require.Len(t, e.Mult, 2, "Expand keeps per-channel lists")
	p := NewRequant(0.5, []float32{0.25}, 0.125, 0, -128, 127).Expand(3)
	require.Equal(t, []int32{1 << 30, 1 << 30, 1 << 30}, p.Mult)
	require.Equal(t, []int32{1, 1, 1}, p.Shift)

	differ := 0
	rg := q8Seeded(t, 102)
	for i := 0; i < 2000; i++ {
		si, sw, so := float32(rg.Float64()), float32(rg.Float64()), float32(rg.Float64()+0.01)
		a := NewRequant(si, []float32{sw}, so, 0, -128, 127)
		b := NewRequantLegacy(si, sw, so, 0, -128, 127, 2)
		m1, s1 := quant.QuantizeMultiplier(float64(si) * float64(sw) / float64(so))
		m2, s2 := quant.QuantizeMultiplier(float64(si*sw) / float64(so))
		require.Equal(t, []int32{m1}, a.Mult)
		require.Equal(t, []int32{int32(s1)}, a.Shift)
		require.Equal(t, []int32{m2, m2}, b.Mult)
		require.Equal(t, []int32{int32(s2), int32(s2)}, b.Shift)
		if m1 != m2 {
			differ++
		}
	}
	require.Positive(t, differ, "float32 product never changed a multiplier")
}
