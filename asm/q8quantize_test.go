package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQ8QuantizeTies checks QUANTIZE's rounding of .5 ties. Scale 0.5 and
// zero point −1: x/0.5 = 2x. The first 8 elements are one NEON block
// (multiply by 1/0.5 = 2, round half to even), the rest the scalar tail
// (divide, round half away from zero):
//
//	block: 0.25→0.5→0, −0.25→−0.5→0, 1.25→2.5→2, 0.75→1.5→2, −1.25→−2.5→−2,
//	       2.5→5, 0.1→0.2→0, 63.75→127.5→128 (then −1 → 127)
//	tail:  0.25→1, −0.25→−1, 1.25→3, −1.25→−3, 100→200 (clamped)
//
// The reference kernel rounds every element like the tail.
func TestQ8QuantizeTies(t *testing.T) {
	in := []float32{0.25, -0.25, 1.25, 0.75, -1.25, 2.5, 0.1, 63.75, 0.25, -0.25, 1.25, -1.25, 100}
	out := make([]int8, len(in))
	QuantizeF32(in, out, 0.5, -1)
	require.Equal(t, []int8{-1, -1, 1, 1, -3, 4, -1, 127, 0, -2, 2, -4, 127}, out)
	QuantizeF32Ref(in, out, 0.5, -1)
	require.Equal(t, []int8{0, -2, 2, 1, -4, 4, -1, 127, 0, -2, 2, -4, 127}, out)
	// Non-finite and huge values saturate (NaN → −128).
	nan := float32(math.NaN())
	odd := []float32{nan, float32(math.Inf(1)), float32(math.Inf(-1)), 3e38, -3e38, 0, 0, 0, nan, 3e38}
	o2 := make([]int8, len(odd))
	QuantizeF32(odd, o2, 0.01, 5)
	require.Equal(t, []int8{-128, 127, -128, 127, -128, 5, 5, 5, -128, 127}, o2)
}

// TestQ8QuantizeRandom compares QuantizeF32 on the selected path with a
// float64 model (q8QuantizeCompare).
func TestQ8QuantizeRandom(t *testing.T) { q8QuantizeCompare(t, 41) }

// q8QuantizeCompare compares QuantizeF32 (on the selected path: the NEON
// and AVX2 bodies take whole blocks of 16) with a float64 model of each
// part: the block with float32 arithmetic and half-even rounding, the tail
// with float64 division and half-away rounding; NaN gives −128, infinities
// and huge values saturate.
func q8QuantizeCompare(t *testing.T, seed uint64) {
	r := q8Seeded(t, seed)
	for it := 0; it < 500; it++ {
		scale := float32(math.Exp2(r.Float64()*12 - 10))
		zero := q8Zero(r)
		n := r.IntN(70)
		if it%50 == 0 {
			n = 1000 + r.IntN(100) // many blocks
		}
		in := make([]float32, n)
		specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3e38, -3e38, 0}
		for i := range in {
			in[i] = float32((r.Float64()*300 - 150) * float64(scale))
			switch r.IntN(16) {
			case 0, 1, 2, 3:
				in[i] = float32(float64(r.IntN(300)-150)+0.5) * scale // ties
			case 4:
				in[i] = specials[r.IntN(len(specials))]
			}
		}
		out := make([]int8, n)
		QuantizeF32(in, out, scale, zero)
		rs := float32(1 / float64(scale))
		for i, x := range in {
			var q float64
			if i < n/8*8 {
				q = math.RoundToEven(float64(x * rs))
			} else {
				q = math.Round(float64(x) / float64(scale))
			}
			want := int8(-128) // NaN
			if !math.IsNaN(q) {
				want = int8(math.Min(math.Max(q+float64(zero), -128), 127))
			}
			require.Equal(t, want, out[i], "element %d of %d: %v / %v", i, n, x, scale)
		}
	}
}

// TestQ8Dequantize: scale 0.5, zero −3 gives (x + 3)/2 exactly, and every
// value equals the float32 product of float32 operands (one rounding either
// way).
func TestQ8Dequantize(t *testing.T) {
	out := make([]float32, 3)
	DequantizeS8([]int8{-3, 1, -128}, out, 0.5, -3)
	require.Equal(t, []float32{0, 2, -62.5}, out)
	r := q8Seeded(t, 42)
	all := make([]int8, 256)
	for i := range all {
		all[i] = int8(i - 128)
	}
	o := make([]float32, 256)
	for it := 0; it < 200; it++ {
		s, z := float32(r.Float64()*math.Exp2(float64(r.IntN(40)-20))), q8Zero(r)
		DequantizeS8(all, o, s, z)
		for i, x := range all {
			require.Equal(t, s*float32(int32(x)-z), o[i])
		}
	}
}

// TestQ8Requantize: 0.5 → 1 is M = 2^30, S = 0, so out = SRDHM(x, 0.5):
// 3 → 1.5 → 2, −3 → −1.5 → −1, 5 → 2.5 → 3, −5 → −2.5 → −2 (ties up in
// the doubling multiply). 0.25 → 1 is S = −1: −6 → SRDHM −3, then −1.5 → −2
// (away from zero); 6 → 2. Zero points shift both sides.
func TestQ8Requantize(t *testing.T) {
	q := NewQRequantize(0.5, 0, 1, 0)
	require.Equal(t, QRequantize{M: 1 << 30, S: 0}, *q)
	out := make([]int8, 4)
	q.Run([]int8{3, -3, 5, -5}, out)
	require.Equal(t, []int8{2, -1, 3, -2}, out)
	q = NewQRequantize(0.25, 10, 1, -100)
	require.Equal(t, int32(-1), q.S)
	// x − 10 = −6, 6, 117, −138. 117·0.25 = 29.25, but TFLite rounds twice:
	// SRDHM(117, 0.5) = 58.5 → 59, then 59/2 = 29.5 → 30, so −100 + 30 = −70.
	// −138: SRDHM = −69, −34.5 → −35, −135 → clamped to −128.
	q.Run([]int8{4, 16, 127, -128}, out)
	require.Equal(t, []int8{-102, -98, -70, -128}, out)
}

// TestQ8ConcatRescale: uint8 scale 0.5 with zero point 0 (int8 −128) into
// scale 1, zero point 0 (int8 −128): u = x + 128, round(u·0.5) half away:
// u = 1 → 1, 3 → 2, 255 → 128; equal quantisation copies.
func TestQ8ConcatRescale(t *testing.T) {
	r := NewQConcatRescale(0.5, -128, 1, -128)
	out := make([]int8, 3)
	r.Run([]int8{-127, -125, 127}, out)
	require.Equal(t, []int8{-127, -126, 0}, out)
	c := NewQConcatRescale(0.3, 7, 0.3, 7)
	c.Run([]int8{-127, -125, 127}, out)
	require.Equal(t, []int8{-127, -125, 127}, out)
}
