package quant

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Int8 limits: activations use the full range, weights the symmetric
// (narrow) range [−127, 127] as in TFLite's int8 specification.
// ReducedWeightQMax is the 7-bit weight range [−63, 63] ("reduce range"):
// with it no pair of u8 activation × s8 weight products can overflow the
// int16 sums of x86's VPMADDUBSW (2·255·63 = 32130 < 32767), which ONNX
// Runtime's int8 kernels use on x86-64 CPUs without VNNI.
const (
	QMin              = -128
	QMax              = 127
	WeightQMax        = 127
	ReducedWeightQMax = 63
)

// ActivationParams returns TFLite's asymmetric int8 parameters for the real
// range [lo, hi]: the range is first extended to include 0 (so real 0 —
// padding, ReLU's floor — is exact), scale = (hi−lo)/255, and the zero
// point is the integer in [−128, 127] nearest to where real 0 falls, taken
// from whichever end gives the smaller rounding error (TFLite's
// ChooseQuantizationParams). An empty range [0, 0] gets scale 1/255.
func ActivationParams(lo, hi float32) (scale float32, zero int32) {
	rmin, rmax := min(float64(lo), 0), max(float64(hi), 0)
	if math.IsNaN(rmin) || math.IsNaN(rmax) || math.IsInf(rmin, 0) || math.IsInf(rmax, 0) {
		rmin, rmax = 0, 0
	}
	if rmax == rmin {
		rmax = rmin + 1
	}
	const qmin, qmax = float64(QMin), float64(QMax)
	s := (rmax - rmin) / (qmax - qmin)
	fromMin, fromMax := qmin-rmin/s, qmax-rmax/s
	zp := fromMax
	if math.Abs(qmin)+math.Abs(rmin/s) < math.Abs(qmax)+math.Abs(rmax/s) {
		zp = fromMin
	}
	switch {
	case zp < qmin:
		zero = QMin
	case zp > qmax:
		zero = QMax
	default:
		zero = int32(math.Round(zp))
	}
	return float32(s), zero
}

// ActivationQuant returns ActivationParams as an ir.Quant.
func ActivationQuant(lo, hi float32) *ir.Quant {
	s, z := ActivationParams(lo, hi)
	return &ir.Quant{Scale: []float32{s}, ZeroPoint: []int32{z}}
}

// FixedQuant returns the output parameters TFLite fixes for int8 SOFTMAX
// and LOGISTIC: scale 1/256, zero point −128, so [0, 1) is covered exactly.
func FixedQuant() *ir.Quant {
	return &ir.Quant{Scale: []float32{1.0 / 256}, ZeroPoint: []int32{-128}}
}

// biasLimit bounds |quantised bias|: an int32 with headroom for the
// accumulated products the kernel adds to it.
const biasLimit = 1 << 30

// QuantizeWeights quantises the weights w of a Conv ([O, I/g, KH, KW]) or
// of a Gemm with transB=1 ([N, K]) — output channels along axis 0 — to
// symmetric int8: scale[c] = max|w[c]|/127, zero point 0, values rounded
// half away from zero. perTensor uses one scale for the whole tensor
// instead of one per output channel.
//
// It is QuantizeWeightsRange with qmax = WeightQMax.
//
// b is the layer's float bias (nil when absent) and inScale the scale of
// the layer's input activation. The bias becomes int32 with
// scale inScale·scale[c] and zero point 0: bq[c] = round(b[c] /
// (inScale·scale[c])). A channel whose weights are all zero takes the
// smallest scale of the other channels (its bias stays precise), and a
// scale is raised where the bias would not fit in ±2^30.
func QuantizeWeights(w, b *ir.Tensor, inScale float32, perTensor bool) (wq, bq *ir.Tensor, err error) {
	return QuantizeWeightsRange(w, b, inScale, perTensor, WeightQMax)
}

// QuantizeWeightsRange is QuantizeWeights with the weights in [−qmax,
// qmax] (1 ≤ qmax ≤ 127): scale[c] = max|w[c]|/qmax. ReducedWeightQMax
// gives ONNX Runtime's 7-bit "reduce range" weights.
func QuantizeWeightsRange(w, b *ir.Tensor, inScale float32, perTensor bool, qmax int) (wq, bq *ir.Tensor, err error) {
	if qmax < 1 || qmax > WeightQMax {
		return nil, nil, fmt.Errorf("weight range ±%d: want 1 … %d", qmax, WeightQMax)
	}
	if w == nil || w.DType != ir.Float32 || len(w.Shape) < 2 || len(w.F32) != ir.NumElements(w.Shape) {
		return nil, nil, fmt.Errorf("weights must be a float32 tensor of rank ≥ 2")
	}
	if !(inScale > 0) || math.IsInf(float64(inScale), 0) {
		return nil, nil, fmt.Errorf("input scale %v must be positive and finite", inScale)
	}
	oc := w.Shape[0]
	if oc == 0 {
		return nil, nil, fmt.Errorf("weights of shape %v have no output channels", w.Shape)
	}
	per := len(w.F32) / oc
	var bias []float32
	if b != nil {
		if b.DType != ir.Float32 || len(b.F32) != oc {
			return nil, nil, fmt.Errorf("bias of shape %v does not match %d output channels", b.Shape, oc)
		}
		bias = b.F32
	}
	nsc := oc
	if perTensor {
		nsc = 1
	}
	scale := make([]float64, nsc)
	for c := 0; c < oc; c++ {
		m := 0.0
		for _, v := range w.F32[c*per : (c+1)*per] {
			if a := math.Abs(float64(v)); a > m && !math.IsInf(a, 0) {
				m = a
			}
		}
		k := min(c, nsc-1)
		scale[k] = max(scale[k], m/float64(qmax))
	}
	smallest := math.Inf(1)
	for _, s := range scale {
		if s > 0 {
			smallest = min(smallest, s)
		}
	}
	if math.IsInf(smallest, 1) {
		smallest = 1.0 / float64(qmax)
	}
	for k, s := range scale {
		if s == 0 {
			scale[k] = smallest
		}
	}
	for c, v := range bias {
		k := min(c, nsc-1)
		// The margin survives the rounding of the scale to float32.
		if need := math.Abs(float64(v)) / (float64(inScale) * biasLimit) * (1 + 1e-6); need > scale[k] {
			scale[k] = need
		}
	}
	// Scales are stored as float32; quantise with the stored value so that
	// dequantisation reproduces exactly what the kernel computes.
	scale32 := make([]float32, nsc)
	for k, s := range scale {
		scale32[k] = float32(s)
		if scale32[k] == 0 {
			scale32[k] = math.SmallestNonzeroFloat32
		}
	}
	wq = &ir.Tensor{DType: ir.Int8, Shape: append([]int(nil), w.Shape...), I8: make([]int8, len(w.F32)),
		Quant: &ir.Quant{Scale: scale32, ZeroPoint: make([]int32, nsc), Axis: 0}}
	for c := 0; c < oc; c++ {
		s := float64(scale32[min(c, nsc-1)])
		for i := c * per; i < (c+1)*per; i++ {
			q := math.Round(float64(w.F32[i]) / s)
			wq.I8[i] = int8(min(max(q, -float64(qmax)), float64(qmax)))
		}
	}
	if bias != nil {
		bs := make([]float32, nsc)
		for k := range bs {
			bs[k] = inScale * scale32[k]
		}
		bq = &ir.Tensor{DType: ir.Int32, Shape: []int{oc}, I32: make([]int32, oc),
			Quant: &ir.Quant{Scale: bs, ZeroPoint: make([]int32, nsc), Axis: 0}}
		for c, v := range bias {
			q := math.Round(float64(v) / (float64(inScale) * float64(scale32[min(c, nsc-1)])))
			bq.I32[c] = int32(min(max(q, math.MinInt32), math.MaxInt32))
		}
	}
	return wq, bq, nil
}

// MaxSQNR caps the signal-to-quantisation-noise ratios reported, so that
// an exact result (no noise) prints and encodes as a number.
const MaxSQNR = 200

// SQNRdB returns 10·log10(signal/noise) from sums of squares, clamped to
// [−MaxSQNR, MaxSQNR] (MaxSQNR when the noise is 0).
func SQNRdB(signal, noise float64) float64 {
	switch {
	case noise <= 0:
		return MaxSQNR
	case signal <= 0:
		return -MaxSQNR
	}
	return min(max(10*math.Log10(signal/noise), -MaxSQNR), MaxSQNR)
}

// SQNR returns the signal-to-quantisation-noise ratio of x against the
// reference ref in dB: 10·log10(Σref² / Σ(ref−x)²).
func SQNR(ref, x []float32) float64 {
	var s, n float64
	for i, r := range ref {
		d := float64(r) - float64(x[i])
		s += float64(r) * float64(r)
		n += d * d
	}
	return SQNRdB(s, n)
}
