package asm

// Portable int8 kernels with TensorFlow Lite 2.9's integer arithmetic.
//
// Every int8 kernel (files q8*.go) reproduces the bits of TFLite 2.9's
// builtin kernel for the same operation, so a quantised model gives the same
// outputs here as under the TFLite interpreter. Activations are int8; a
// legacy uint8 model is shifted by −128 at the graph boundary (x_i8 = x_u8 −
// 128, zero points − 128), which leaves every difference x − z unchanged.
// Where TFLite's uint8 kernel rounds a raw (not zero-point-relative) value
// differently from its int8 kernel, the kernel has a FromU8 switch.
//
// TFLite 2.9 has a reference and an optimised body per operation, and the
// builtin op resolver runs the optimised one. Where the two differ, these
// kernels follow the optimised one and say so in their doc comment. The
// optimised bodies are written with NEON intrinsics and also run on x86
// (TFLite maps them to SSE through NEON_2_SSE whenever __SSE4_1__ is
// defined, which includes the AVX pip builds), so their "vector blocks"
// (usually 16 elements) and scalar tails are part of the semantics. Integer
// GEMMs (CONV_2D, FULLY_CONNECTED) go through ruy, whose rescale rounds once
// instead of twice: see Rounding.

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/quant"
)

// Rounding selects how a Requant rounds acc·m·2^(shift−31) to an integer.
type Rounding uint8

const (
	// RoundDouble is TFLite's MultiplyByQuantizedMultiplier (gemmlowp's
	// "double rounding", quant.MultiplyByQuantizedMultiplier):
	//
	//	l, r := max(s, 0), max(-s, 0)
	//	v = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x<<l, m), r)
	//
	// It is what TFLite 2.9's reference kernels do everywhere, and what its
	// optimised DEPTHWISE_CONV_2D (outside the aarch64 3×3 kernel), ADD,
	// MUL, QUANTIZE and MEAN tails do. It is the zero value.
	RoundDouble Rounding = iota
	// RoundSingle is ruy's rescale (ruy/apply_multiplier.cc, since 2021):
	// one rounding of the exact product, ties toward +∞:
	//
	//	v = (int64(x)·m + 2^(30−s)) >> (31−s)
	//
	// TFLite 2.9's optimised CONV_2D (int8 per-channel, via im2col and
	// cpu_backend_gemm) and FULLY_CONNECTED (int8) run on ruy on every
	// platform, and uint8 CONV_2D / FULLY_CONNECTED do on arm64 (x86 builds
	// without TFLITE_WITH_RUY use gemmlowp there, which is RoundDouble).
	RoundSingle
	// RoundUpward is the doubling high multiply followed by a rounding right
	// shift with ties toward +∞ (NEON's VRSHL without gemmlowp's fix-up):
	//
	//	v = (SaturatingRoundingDoublingHighMul(x<<l, m) + 2^(r−1)) >> r
	//
	// TFLite's DepthwiseConvOutputRounding::kUpward (its aarch64 3×3 int8
	// depthwise kernel) and MultiplyByQuantizedMultiplier4Rows (the NEON
	// blocks of MEAN with keep_dims) round this way.
	RoundUpward
)

// String returns the rounding's name.
func (r Rounding) String() string {
	switch r {
	case RoundDouble:
		return "double"
	case RoundSingle:
		return "single"
	case RoundUpward:
		return "upward"
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// Requant maps an int32 accumulator of output channel c to int8:
//
//	out = clamp(OutZero + scale(acc, Mult[c], Shift[c]), Min, Max)
//
// where scale is quant.MultiplyByQuantizedMultiplier for the zero Rounding
// (see Rounding for the others). Mult and Shift hold one entry per output
// channel; a per-tensor quantisation repeats one value. Min and Max are the
// fused activation's clamp (quant.ActivationRange), within [-128, 127].
type Requant struct {
	Mult              []int32
	Shift             []int32
	OutZero, Min, Max int32
	Rounding          Rounding
}

// NewRequant computes a per-channel Requant the way TFLite's
// PopulateConvolutionQuantizationParams does for int8 CONV_2D and
// DEPTHWISE_CONV_2D: for each channel c (wScale may hold one value, repeated)
//
//	Mult[c], Shift[c] = quant.QuantizeMultiplier(float64(inScale)·float64(wScale[c])/float64(outScale))
//
// with len(wScale) channels, or one channel if wScale has one entry; use
// Expand to repeat a per-tensor Requant over n channels.
func NewRequant(inScale float32, wScale []float32, outScale float32, outZero, min, max int32) Requant {
	r := Requant{OutZero: outZero, Min: min, Max: max}
	r.Mult = make([]int32, len(wScale))
	r.Shift = make([]int32, len(wScale))
	for c, ws := range wScale {
		m, s := quant.QuantizeMultiplier(float64(inScale) * float64(ws) / float64(outScale))
		r.Mult[c], r.Shift[c] = m, int32(s)
	}
	return r
}

// NewRequantLegacy computes a per-tensor Requant the way TFLite's
// GetQuantizedConvolutionMultipler does, used by FULLY_CONNECTED (int8 and
// uint8) and by uint8 CONV_2D and DEPTHWISE_CONV_2D: the scale product is
// rounded to float32 before the division,
//
//	Mult, Shift = quant.QuantizeMultiplier(float64(inScale·wScale) / float64(outScale))
//
// repeated over n channels.
func NewRequantLegacy(inScale, wScale, outScale float32, outZero, min, max int32, n int) Requant {
	m, s := quant.QuantizeMultiplier(float64(inScale*wScale) / float64(outScale))
	r := Requant{OutZero: outZero, Min: min, Max: max}
	r.Mult, r.Shift = make([]int32, n), make([]int32, n)
	for c := range r.Mult {
		r.Mult[c], r.Shift[c] = m, int32(s)
	}
	return r
}

// Expand returns r with its first Mult/Shift entry repeated over n channels
// when it holds exactly one, and r unchanged otherwise.
func (r Requant) Expand(n int) Requant {
	if len(r.Mult) != 1 || len(r.Shift) != 1 || n == 1 {
		return r
	}
	m, s := r.Mult[0], r.Shift[0]
	r.Mult, r.Shift = make([]int32, n), make([]int32, n)
	for c := range r.Mult {
		r.Mult[c], r.Shift[c] = m, s
	}
	return r
}

// Apply requantises one accumulator of channel c (see Requant).
func (r *Requant) Apply(acc int32, c int) int8 {
	v := r.OutZero + rescale(r.Rounding, acc, r.Mult[c], r.Shift[c])
	return int8(min(max(v, r.Min), r.Max))
}

func (r *Requant) check(what string, n int) {
	if err := r.validate(n); err != "" {
		panic(fmt.Sprintf("asm: %s: %s", what, err))
	}
}

// validate returns why r cannot requantise n channels, or "".
func (r *Requant) validate(n int) string {
	if len(r.Mult) < n || len(r.Shift) < n {
		return fmt.Sprintf("Requant has %d multipliers and %d shifts, need %d (use Requant.Expand for per-tensor)", len(r.Mult), len(r.Shift), n)
	}
	if r.Min > r.Max || r.Min < -128 || r.Max > 127 || r.OutZero < -128 || r.OutZero > 127 {
		return fmt.Sprintf("Requant clamp [%d, %d] or zero point %d outside int8", r.Min, r.Max, r.OutZero)
	}
	// Branch-free scan: m < 0 sets the sign of any, s ∉ [−31, 31] makes
	// uint32(s+31) > 62.
	mult, shift := r.Mult[:n], r.Shift[:n]
	var any int32
	var top uint32
	for c, m := range mult {
		any |= m
		top = max(top, uint32(shift[c]+31))
	}
	if any >= 0 && top <= 62 {
		return ""
	}
	for c := 0; c < n; c++ {
		if r.Shift[c] > 31 || r.Shift[c] < -31 || r.Mult[c] < 0 {
			return fmt.Sprintf("Requant multiplier %d, shift %d of channel %d out of range (want m ≥ 0, −31 ≤ shift ≤ 31)", r.Mult[c], r.Shift[c], c)
		}
	}
	return ""
}

// requantKey identifies a Requant that passed validate for n channels:
// its Mult and Shift slices (not their contents) and its scalars.
type requantKey struct {
	mult, shift *int32
	n           int
	zo, lo, hi  int32
}

// key returns r's requantKey for n channels; the zero key (never valid)
// when n is 0.
func (r *Requant) key(n int) requantKey {
	if n == 0 || len(r.Mult) < n || len(r.Shift) < n {
		return requantKey{}
	}
	return requantKey{&r.Mult[0], &r.Shift[0], n, r.OutZero, r.Min, r.Max}
}

// checkedKey validates r for n channels now (at prepare time) and returns
// its key, or the zero key if it is not valid yet.
func (r *Requant) checkedKey(n int) requantKey {
	if r.validate(n) != "" {
		return requantKey{}
	}
	return r.key(n)
}

// checkKeyed is check, skipped when r still has the slices and scalars that
// passed validate when ok was taken (checkedKey). Contents changed in place
// after that are not validated again.
func (r *Requant) checkKeyed(what string, n int, ok requantKey) {
	if ok.mult != nil && ok == r.key(n) {
		return
	}
	r.check(what, n)
}

// rescale is the multiplier step of Requant for the given rounding.
func rescale(mode Rounding, x, m, s int32) int32 {
	switch mode {
	case RoundSingle:
		// ruy computes in 64 bits; total ≤ 62 for TFLite's shifts (≥ −31).
		total := uint(31 - s)
		return int32((int64(x)*int64(m) + int64(1)<<(total-1)) >> total)
	case RoundUpward:
		if s > 0 {
			return srdhm(x<<uint(s), m)
		}
		v := srdhm(x, m)
		if s == 0 {
			return v
		}
		r := uint(-s)
		return int32((int64(v) + int64(1)<<(r-1)) >> r)
	default:
		return rdouble(x, m, s)
	}
}

// rdouble is rescale(RoundDouble, x, m, s), small enough to inline.
func rdouble(x, m, s int32) int32 {
	if s > 0 {
		return srdhm(x<<uint(s), m)
	}
	return rdivPOT(srdhm(x, m), uint(-s))
}

// srdhm is gemmlowp's SaturatingRoundingDoublingHighMul: the high half of
// 2·a·b rounded to nearest, ties toward +∞ (for a negative product its
// nudge 1 − 2^30 followed by truncation toward zero is the same as adding
// 2^30 and flooring), saturating MinInt32².
func srdhm(a, b int32) int32 {
	if a == math.MinInt32 && b == math.MinInt32 {
		return math.MaxInt32
	}
	return int32((int64(a)*int64(b) + 1<<30) >> 31)
}

// rdivPOT is gemmlowp's RoundingDivideByPOT: x / 2^e rounded to nearest,
// ties away from zero.
func rdivPOT(x int32, e uint) int32 {
	mask := int32(1)<<e - 1
	return rdivPOTMask(x, e, mask, mask>>1)
}

// srdhmPos is srdhm for a non-negative multiplier (every multiplier
// quant.QuantizeMultiplier returns), which cannot saturate.
func srdhmPos(x int32, m int64) int32 { return int32((int64(x)*m + 1<<30) >> 31) }

// rdivPOTMask is rdivPOT with its mask (2^e − 1) and half mask (mask >> 1)
// precomputed by the caller.
//
// The remainder exceeds the threshold half + [x < 0] exactly when their
// difference is negative; taking its sign bit instead of branching avoids a
// misprediction per element on random data.
func rdivPOTMask(x int32, e uint, mask, half int32) int32 {
	thr := half - x>>31
	return x>>e + int32(uint32(thr-x&mask)>>31)
}

// floorShift is a NEON VSHL by −e: an arithmetic (flooring) right shift.
func floorShift(x int32, e uint) int32 { return x >> e }

// sat8 saturates to int8 (VQMOVN).
func sat8(v int32) int32 { return min(max(v, -128), 127) }

// sat16 saturates to int16 (VQMOVN from 32 to 16 bits).
func sat16(v int32) int32 { return min(max(v, math.MinInt16), math.MaxInt16) }
