package asm

import (
	"math"

	"github.com/edgeinfer/edgeinfer/quant"
)

// QRequantize is TFLite 2.9's int8 → int8 QUANTIZE (Requantize): with
// M, S = quant.QuantizeMultiplier(float64(inScale)/float64(outScale)),
//
//	out = clamp(outZero + quant.MultiplyByQuantizedMultiplier(x − inZero, M, S), −128, 127)
//
// TFLite's NEON body rounds exactly like its scalar one, so there is no
// block structure.
type QRequantize struct {
	InZero, OutZero int32
	M, S            int32
}

// NewQRequantize prepares an int8 → int8 requantisation as TFLite's
// quantize.cc Prepare does.
func NewQRequantize(inScale float32, inZero int32, outScale float32, outZero int32) *QRequantize {
	m, s := quant.QuantizeMultiplier(float64(inScale) / float64(outScale))
	return &QRequantize{InZero: inZero, OutZero: outZero, M: m, S: int32(s)}
}

// Run requantises in into out (len(out) elements). It does not allocate.
func (r *QRequantize) Run(in, out []int8) {
	in = in[:len(out)]
	for i, x := range in {
		v := r.OutZero + rescale(RoundDouble, int32(x)-r.InZero, r.M, r.S)
		out[i] = int8(sat8(v))
	}
}

// QConcatRescale is the rescale TFLite 2.9 applies to a uint8 CONCATENATION
// input whose quantisation differs from the output's
// (ConcatenationWithScaling; int8 concatenation requires equal
// quantisation). It works in float32 on the uint8 values, so for a legacy
// model shifted to int8 (zero points − 128) it computes
//
//	u := float32(x + 128)
//	scale := inScale · (1 / outScale)
//	bias := float32(−(inZero+128)) · scale
//	out = clamp(int32(round(u·scale + bias)) + outZero + 128, 0, 255) − 128
//
// with the product rounded to float32 before the addition (no fused
// multiply-add, as on x86) and round halving away from zero. Inputs with
// the output's quantisation are copied.
type QConcatRescale struct {
	InZero, OutZero int32
	Scale, Bias     float32
	Copy            bool
}

// NewQConcatRescale prepares the rescale of one concatenation input; zero
// points are in the int8 domain.
func NewQConcatRescale(inScale float32, inZero int32, outScale float32, outZero int32) *QConcatRescale {
	r := &QConcatRescale{InZero: inZero, OutZero: outZero, Copy: inScale == outScale && inZero == outZero}
	r.Scale = inScale * (1 / outScale)
	r.Bias = float32(-(inZero + 128)) * r.Scale
	return r
}

// Run rescales in into out (len(out) elements). It does not allocate.
func (r *QConcatRescale) Run(in, out []int8) {
	in = in[:len(out)]
	if r.Copy {
		copy(out, in)
		return
	}
	for i, x := range in {
		f := float32(float32(int32(x)+128)*r.Scale) + r.Bias
		v := int32(math.Round(float64(f))) + r.OutZero + 128
		out[i] = int8(min(max(v, 0), 255) - 128)
	}
}

// QuantizeF32 is TFLite 2.9's float32 → int8 QUANTIZE as its optimised
// kernel (optimized_ops::AffineQuantize) computes it. Whole blocks of 8
// elements from the start multiply by the float32 reciprocal of the scale
// and round half to even (NEON VCVTN, SSE CVTPS2DQ); the tail divides in
// float64 and rounds half away from zero:
//
//	for i < len(out)/8*8:  q = RoundToEven(in[i] · float32(1/float64(scale)))
//	for the rest:          q = Round(float64(in[i]) / float64(scale))
//	out[i] = clamp(q + zero, −128, 127)
//
// Values beyond int32 saturate; NaN maps to −128 (x86's result; arm64
// TFLite maps it to zero + 0). It does not allocate.
func QuantizeF32(in []float32, out []int8, scale float32, zero int32) {
	in = in[:len(out)]
	rs := float32(1 / float64(scale))
	nb := len(out) / 8 * 8
	// Clamping the rounded value to the range whose sum with zero fits int8
	// equals clamping after the int32 saturation; !(q >= lo) also sends NaN
	// to −128. (Three compares instead of quantizeRounded's six and an
	// int64 detour: this loop quantises every float input.)
	lo, hi := float64(-128-zero), float64(127-zero)
	done := q8QuantizeArch(in, out, nb, rs, zero)
	for i, x := range in[done:nb] {
		i += done
		q := math.RoundToEven(float64(x * rs))
		if !(q >= lo) {
			q = lo
		}
		if q > hi {
			q = hi
		}
		out[i] = int8(int32(q) + zero)
	}
	for i := nb; i < len(out); i++ {
		out[i] = quantizeRounded(math.Round(float64(in[i])/float64(scale)), zero)
	}
}

// QuantizeF32Ref is TFLite 2.9's reference AffineQuantize (the kReference
// kernel, and TFLite Micro): a float32 division rounded half away from
// zero, out[i] = clamp(Round(in[i] / scale) + zero, −128, 127).
func QuantizeF32Ref(in []float32, out []int8, scale float32, zero int32) {
	in = in[:len(out)]
	for i, x := range in {
		out[i] = quantizeRounded(math.Round(float64(x/scale)), zero)
	}
}

// quantizeRounded adds the zero point to an integral value and clamps.
func quantizeRounded(q float64, zero int32) int8 {
	if q != q {
		return -128
	}
	q = min(max(q, math.MinInt32), math.MaxInt32)
	return int8(sat8(int32(min(max(int64(q)+int64(zero), -128), 127))))
}

// DequantizeS8 is TFLite's int8 DEQUANTIZE:
//
//	out[i] = float32(float64(scale) · float64(in[i] − zero))
//
// the exact product rounded once to float32, which is what both TFLite's
// float64 reference and its float32 NEON body produce. It does not allocate.
func DequantizeS8(in []int8, out []float32, scale float32, zero int32) {
	in = in[:len(out)]
	s := float64(scale)
	for i, x := range in {
		out[i] = float32(s * float64(int32(x)-zero))
	}
}
