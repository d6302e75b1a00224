package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

func TestActivationParams(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float32
		scale  float64
		zero   int32
	}{
		{0, 6, 6.0 / 255, -128},                 // ReLU6
		{0, 0, 1.0 / 255, -128},                 // nothing observed
		{1, 2, 2.0 / 255, -128},                 // extended to include 0
		{-3, 0, 3.0 / 255, 127},                 // all negative
		{-1, 1, 2.0 / 255, -1},                  // −0.5 rounds away from zero
		{-2.5, 7.5, 10.0 / 255, -64},            // 0 at 63.75 steps above the minimum
		{-0.81020, 2.02266, 2.83286 / 255, -55}, // Fashion-MNIST input
	} {
		s, z := ActivationParams(tc.lo, tc.hi)
		assert.InDelta(t, tc.scale, s, 1e-6*tc.scale, "[%v, %v]", tc.lo, tc.hi)
		assert.Equal(t, tc.zero, z, "[%v, %v]", tc.lo, tc.hi)
		// Both ends map into [−128, 127] (within rounding).
		for _, v := range []float32{min(tc.lo, 0), max(tc.hi, 0)} {
			q := math.Round(float64(v)/float64(s)) + float64(z)
			assert.GreaterOrEqual(t, q, -128.5)
			assert.LessOrEqual(t, q, 127.5)
		}
	}
}

func TestQuantizeWeightsPerChannel(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	// 4 output channels with a 17× spread of ranges, one all-zero channel.
	w := &ir.Tensor{DType: ir.Float32, Shape: []int{4, 2, 3, 3}, F32: make([]float32, 72)}
	spread := []float64{4.8, 0.28, 0, 1}
	for c := 0; c < 4; c++ {
		for i := 0; i < 18; i++ {
			w.F32[c*18+i] = float32((r.Float64()*2 - 1) * spread[c])
		}
		if spread[c] != 0 {
			w.F32[c*18] = float32(spread[c]) // pin the channel's max
		}
	}
	b := &ir.Tensor{DType: ir.Float32, Shape: []int{4}, F32: []float32{0.5, -0.25, 0.125, 3}}
	const sIn = 0.02
	wq, bq, err := QuantizeWeights(w, b, sIn, false)
	require.NoError(t, err)
	require.Equal(t, ir.Int8, wq.DType)
	require.Equal(t, 0, wq.Quant.Axis)
	require.Len(t, wq.Quant.Scale, 4)
	for c, m := range spread {
		want := m / 127
		if m == 0 {
			want = 0.28 / 127 // the smallest other scale
		}
		assert.InDelta(t, want, wq.Quant.Scale[c], want*1e-6, "channel %d", c)
		assert.Equal(t, int32(0), wq.Quant.ZeroPoint[c])
	}
	deq, err := Dequantize(wq)
	require.NoError(t, err)
	for i, v := range w.F32 {
		s := wq.Quant.Scale[i/18]
		assert.LessOrEqual(t, math.Abs(float64(deq.F32[i]-v)), float64(s)/2*1.0001, "weight %d", i)
	}
	assert.Equal(t, int8(127), wq.I8[0])
	assert.Greater(t, SQNR(w.F32, deq.F32), 35.0)

	require.Equal(t, ir.Int32, bq.DType)
	for c, v := range b.F32 {
		bs := sIn * wq.Quant.Scale[c]
		assert.InDelta(t, bs, bq.Quant.Scale[c], 1e-12)
		assert.Equal(t, int32(math.Round(float64(v)/float64(bs))), bq.I32[c], "bias %d", c)
	}
	deqB, err := Dequantize(bq)
	require.NoError(t, err)
	for c, v := range b.F32 {
		assert.InDelta(t, v, deqB.F32[c], float64(bq.Quant.Scale[c])/2+1e-9)
	}

	// Per tensor: one scale, the largest channel's; the small channel
	// loses most of its resolution.
	wt, _, err := QuantizeWeights(w, nil, sIn, true)
	require.NoError(t, err)
	require.Len(t, wt.Quant.Scale, 1)
	assert.InDelta(t, 4.8/127, wt.Quant.Scale[0], 1e-6)
	dt, err := Dequantize(wt)
	require.NoError(t, err)
	small := func(d *ir.Tensor) float64 { return SQNR(w.F32[18:36], d.F32[18:36]) }
	assert.Greater(t, small(deq)-small(dt), 20.0, "per-channel must beat per-tensor on the small channel")
}

func TestQuantizeWeightsBiasOverflow(t *testing.T) {
	w := &ir.Tensor{DType: ir.Float32, Shape: []int{1, 2}, F32: []float32{1e-6, -1e-6}}
	b := &ir.Tensor{DType: ir.Float32, Shape: []int{1}, F32: []float32{100}}
	wq, bq, err := QuantizeWeights(w, b, 1e-3, false)
	require.NoError(t, err)
	assert.LessOrEqual(t, math.Abs(float64(bq.I32[0])), float64(1<<30))
	deq, err := Dequantize(bq)
	require.NoError(t, err)
	assert.InDelta(t, 100, deq.F32[0], 1e-3)
	assert.Greater(t, float64(wq.Quant.Scale[0]), 1e-6/127)
}

func TestQuantizeWeightsErrors(t *testing.T) {
	w := &ir.Tensor{DType: ir.Float32, Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}}
	_, _, err := QuantizeWeights(w, nil, 0, false)
	assert.Error(t, err)
	_, _, err = QuantizeWeights(w, &ir.Tensor{DType: ir.Float32, Shape: []int{3}, F32: []float32{1, 2, 3}}, 1, false)
	assert.Error(t, err)
	_, _, err = QuantizeWeights(&ir.Tensor{DType: ir.Int8, Shape: []int{2, 2}, I8: make([]int8, 4)}, nil, 1, false)
	assert.Error(t, err)
}

// TestQuantizeWeightsRange checks the weight range against the definition:
// scale[c] = max|w[c]|/qmax, every integer within ±qmax with the channel's
// maximum at qmax exactly, each weight within half a step of its real
// value, and the int16 pair sums of x86's VPMADDUBSW (u8 activation × s8
// weight, two products) in range for the 7-bit weights.
func TestQuantizeWeightsRange(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	w := &ir.Tensor{DType: ir.Float32, Shape: []int{3, 40}, F32: make([]float32, 120)}
	peaks := []float64{0.9, 0.031, 12}
	for c, m := range peaks {
		for i := 0; i < 40; i++ {
			w.F32[c*40+i] = float32((r.Float64()*2 - 1) * m)
		}
		w.F32[c*40+7] = float32(-m) // the channel's max|w|, negative
	}
	b := &ir.Tensor{DType: ir.Float32, Shape: []int{3}, F32: []float32{0.1, -0.2, 0.3}}
	for _, tc := range []struct {
		name      string
		qmax      int
		perTensor bool
		minSQNR   float64
	}{
		{"8-bit", WeightQMax, false, 40},
		{"7-bit", ReducedWeightQMax, false, 34},
		{"7-bit per tensor", ReducedWeightQMax, true, 0},
		{"2 levels", 1, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wq, bq, err := QuantizeWeightsRange(w, b, 0.05, tc.perTensor, tc.qmax)
			require.NoError(t, err)
			for c := range peaks {
				k, m := c, peaks[c]
				if tc.perTensor {
					k, m = 0, 12
				}
				s := float64(wq.Quant.Scale[k])
				assert.InDelta(t, m/float64(tc.qmax), s, s*1e-6, "channel %d", c)
				if !tc.perTensor || c == 2 {
					assert.Equal(t, int8(-tc.qmax), wq.I8[c*40+7], "channel %d's max", c)
				}
				for i := c * 40; i < (c+1)*40; i++ {
					q := int(wq.I8[i])
					assert.LessOrEqual(t, max(q, -q), tc.qmax, "weight %d", i)
					assert.LessOrEqual(t, math.Abs(float64(q)*s-float64(w.F32[i])), s/2*1.0001, "weight %d", i)
				}
				assert.InDelta(t, 0.05*s, float64(bq.Quant.Scale[k]), 0.05*s*1e-6)
			}
			if tc.qmax <= ReducedWeightQMax {
				for i := 0; i+1 < len(wq.I8); i++ {
					pair := 255*int(wq.I8[i]) + 255*int(wq.I8[i+1])
					assert.LessOrEqual(t, max(pair, -pair), math.MaxInt16)
				}
			}
			deq, err := Dequantize(wq)
			require.NoError(t, err)
			assert.Greater(t, SQNR(w.F32, deq.F32), tc.minSQNR)
		})
	}
	for _, q := range []int{0, -1, 128} {
		_, _, err := QuantizeWeightsRange(w, nil, 1, false, q)
		assert.Error(t, err, "qmax %d", q)
	}
	// QuantizeWeights is the 8-bit range.
	a, _, err := QuantizeWeights(w, nil, 1, false)
	require.NoError(t, err)
	c, _, err := QuantizeWeightsRange(w, nil, 1, false, WeightQMax)
	require.NoError(t, err)
	assert.Equal(t, a, c)
}

func TestSQNR(t *testing.T) {
	assert.Equal(t, float64(MaxSQNR), SQNR([]float32{1, 2}, []float32{1, 2}))
	assert.InDelta(t, 20, SQNR([]float32{10}, []float32{9}), 1e-9)
	assert.Equal(t, float64(-MaxSQNR), SQNR([]float32{0}, []float32{1}))
}
