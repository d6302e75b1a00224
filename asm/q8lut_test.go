package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQ8LogisticHand: input scale 1/16, zero 0; output 1/256, zero −128.
// out = round(sigmoid(x/16)·256) − 128, clamped:
//
//	x = 0:    0.5·256 = 128 → 0
//	x = 16:   sigmoid(1) = 0.7310586·256 = 187.15 → 187 → 59
//	x = −16:  0.2689414·256 = 68.85 → 69 → −59
//	x = 8:    sigmoid(0.5) = 0.6224593·256 = 159.35 → 159 → 31
//	x = 127:  sigmoid(7.9375)·256 = 255.91 → 256 → 128 → 127
//	x = −128: sigmoid(−8)·256 = 0.0859 → 0 → −128
func TestQ8LogisticHand(t *testing.T) {
	l := NewQLogisticLUT(1.0/16, 0, 1.0/256, -128)
	in := []int8{0, 16, -16, 8, 127, -128}
	out := make([]int8, len(in))
	l.Run(in, out)
	require.Equal(t, []int8{0, 59, -59, 31, 127, -128}, out)
	// A non-zero input zero point shifts the argument: x − 10.
	l = NewQLogisticLUT(1.0/16, 10, 1.0/256, -128)
	l.Run([]int8{10, 26}, out[:2])
	require.Equal(t, []int8{0, 59}, out[:2])
}

// TestQ8TanhHand: input 1/16, output 1/128 with zero 0:
// out = round(tanh(x/16)·128): 16 → 0.7615942·128 = 97.48 → 97; 8 →
// 0.4621172·128 = 59.15 → 59; 127 → 127.99997 → 128 → 127.
func TestQ8TanhHand(t *testing.T) {
	l := NewQTanhLUT(1.0/16, 0, 1.0/128, 0)
	in := []int8{0, 16, -16, 8, 127, -128}
	out := make([]int8, len(in))
	l.Run(in, out)
	require.Equal(t, []int8{0, 97, -97, 59, 127, -128}, out)
}

// TestQ8HardSwishHand follows TFLite's fixed-point algorithm by hand for
// input and output scale 1/16, zero points 0:
//
//	hires = 2^−11; output multiplier 2^−11/2^−4 = 2^−7 → Q31 2^30, exponent
//	−6 → Q15 16384. Relu-ish multiplier 2^−11/(3·2^−15) = 16/3 → 2/3·2^3 →
//	Q15 21845, exponent 3.
//
//	x = 48 (3.0): hires 6144; pre = SRDHM16(6144, 16384) = 3072 (3072.5
//	  truncated after the nudge); rel = SatShl(6144, 2) = 24576, SRDHM16 →
//	  16384, SatShl(·, 1) = 32767 (saturated); (32767 + 32768) >> 1 = 32767;
//	  SDHM16(32767, 3072) = 3071; RoundingDivideByPOT(3071, 6) = 48.
//	x = 16 (1.0): pre 1024; rel: 8192 → 5461 → 10922 → (10922 + 32768) >> 1
//	  = 21845; SDHM16(21845, 1024) = 682; 682/64 = 10.66 → 11.
//	x = −16: pre −1024; rel: −8192 → −5461 → −10922 → 10923;
//	  SDHM16(10923, −1024) = −341; −341/64 = −5.33 → −5.
//	x = −48 (−3.0): rel −32768 → 0, so 0. x = 0: 0.
func TestQ8HardSwishHand(t *testing.T) {
	p, err := NewQHardSwishParams(1.0/16, 0, 1.0/16, 0)
	require.NoError(t, err)
	require.Equal(t, QHardSwishParams{OutMultiplier16: 16384, OutExponent: -6, ReluMultiplier16: 21845, ReluExponent: 3}, p)
	l, err := NewQHardSwishLUT(1.0/16, 0, 1.0/16, 0)
	require.NoError(t, err)
	in := []int8{48, 16, -16, -48, 0}
	out := make([]int8, len(in))
	l.Run(in, out)
	require.Equal(t, []int8{48, 11, -5, 0, 0}, out)
	_, err = NewQHardSwishParams(1, 0, 1.0/1024, 0)
	require.Error(t, err, "output multiplier exponent > 0 is rejected like TFLite's Prepare")
}

// TestQ8ActivationLUTRandom checks every table entry against the real
// function: logistic and tanh within half an output step (plus float
// noise), hard-swish within two steps (TFLite's fixed point is biased).
func TestQ8ActivationLUTRandom(t *testing.T) {
	r := q8Seeded(t, 51)
	for it := 0; it < 100; it++ {
		si, zi := float32(0.005+0.2*r.Float64()), q8Zero(r)
		lg := NewQLogisticLUT(si, zi, 1.0/256, -128)
		th := NewQTanhLUT(si, zi, 1.0/128, 0)
		so, zo := float32(float64(si)*(0.5+r.Float64())), q8Zero(r)
		hs, err := NewQHardSwishLUT(si, zi, so, zo)
		require.NoError(t, err)
		for v := -128; v <= 127; v++ {
			x := float64(si) * float64(int32(v)-zi)
			sig := math.Min(math.Max(1/(1+math.Exp(-x))*256-128, -128), 127)
			require.InDelta(t, sig, float64(lg[uint8(int8(v))]), 0.5+1e-4, "logistic(%v)", x)
			tnh := math.Min(math.Max(math.Tanh(x)*128, -128), 127)
			require.InDelta(t, tnh, float64(th[uint8(int8(v))]), 0.5+1e-4, "tanh(%v)", x)
			h := math.Min(math.Max(x*math.Min(6, math.Max(0, x+3))/6/float64(so)+float64(zo), -128), 127)
			require.InDelta(t, h, float64(hs[uint8(int8(v))]), 2, "hardswish(%v)", x)
		}
	}
}

// TestQ8SoftmaxHand: input scale ln 2 and beta 1 make the table powers of
// two, e_j = 2^−(max − x_j); output 1/256 with zero −128:
//
//	{0, −1}: e = {1, 0.5}, sum 1.5, inv = 256/1.5 = 170.67:
//	         170.67 → 171 → 43; 85.33 → 85 → −43
//	{5}:     256 → 128 → 127 (clamped)
//	{3, 3}:  128 → 0
//	{0, 0, 0, 0}: 64 → −64
func TestQ8SoftmaxHand(t *testing.T) {
	s := NewQSoftmax(1, float32(math.Ln2), 0, 1.0/256, -128)
	run := func(in []int8) []int8 {
		out := make([]int8, len(in))
		s.Run(in, out, 1, len(in))
		return out
	}
	require.Equal(t, []int8{43, -43}, run([]int8{0, -1}))
	require.Equal(t, []int8{127}, run([]int8{5}))
	require.Equal(t, []int8{0, 0}, run([]int8{3, 3}))
	require.Equal(t, []int8{-64, -64, -64, -64}, run([]int8{0, 0, 0, 0}))
	// Two rows at once.
	out := make([]int8, 4)
	s.Run([]int8{0, -1, 3, 3}, out, 2, 2)
	require.Equal(t, []int8{43, -43, 0, 0}, out)
	// FromU8: int32(p + 0.5) on uint8, so 256.5 → 256 → 255 → 127 and
	// 128.5 → 128 → 0.
	s.FromU8 = true
	require.Equal(t, []int8{127}, run([]int8{5}))
	require.Equal(t, []int8{0, 0}, run([]int8{3, 3}))
}

// TestQ8SoftmaxRandom checks rows against float64 softmax within an output
// step.
func TestQ8SoftmaxRandom(t *testing.T) {
	r := q8Seeded(t, 52)
	for it := 0; it < 200; it++ {
		si, beta := float32(0.01+0.3*r.Float64()), float32(0.5+r.Float64())
		s := NewQSoftmax(beta, si, q8Zero(r), 1.0/256, -128)
		rows, n := 1+r.IntN(4), 1+r.IntN(1100)
		in := newQ8Buf(rows*n, func(int) int8 { return int8(r.IntN(256) - 128) })
		out := newQ8Buf(rows*n, q8Gap)
		s.Run(in.data(), out.data(), rows, n)
		for row := 0; row < rows; row++ {
			x := in.data()[row*n : row*n+n]
			mx := -128.0
			for _, v := range x {
				mx = math.Max(mx, float64(v))
			}
			sum := 0.0
			for _, v := range x {
				sum += math.Exp(float64(beta) * float64(si) * (float64(v) - mx))
			}
			for j, v := range x {
				p := math.Exp(float64(beta)*float64(si)*(float64(v)-mx)) / sum
				want := math.Min(p*256-128, 127)
				require.InDelta(t, want, float64(out.data()[row*n+j]), 0.5+1e-3, "row %d elem %d", row, j)
			}
		}
		out.checkGuards(t, "softmax")
		in.checkGuards(t, "softmax input")
	}
}
