// Package quant holds the arithmetic of int8 quantisation: TFLite's
// fixed-point requantisation (multiplier and shift), scale/zero-point
// choice, observers for calibration and error reports.
//
// The fixed-point functions reproduce TensorFlow Lite's reference
// arithmetic (gemmlowp's SaturatingRoundingDoublingHighMul and
// RoundingDivideByPOT, "double rounding"), so integer kernels built on them
// give the same bits as TFLite's builtin kernels.
package quant

import "math"

// SaturatingRoundingDoublingHighMul returns the high 32 bits of 2·a·b,
// rounded to nearest with ties rounding up (gemmlowp's nudge), saturating
// the single overflow case a = b = MinInt32.
func SaturatingRoundingDoublingHighMul(a, b int32) int32 {
	if a == b && a == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	// Go's integer division truncates toward zero, like C++'s.
	return int32((ab + nudge) / (1 << 31))
}

// RoundingDivideByPOT returns x / 2^exponent rounded to nearest, ties
// away from zero (0 ≤ exponent ≤ 31).
func RoundingDivideByPOT(x int32, exponent int) int32 {
	mask := int32((int64(1) << exponent) - 1)
	remainder := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> exponent
	if remainder > threshold {
		r++
	}
	return r
}

// MultiplyByQuantizedMultiplier returns round(x · m · 2^(shift−31)) with
// TFLite's double rounding: a left shift for shift > 0, then the rounding
// doubling high multiply, then a rounding right shift for shift < 0.
func MultiplyByQuantizedMultiplier(x, m int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x*(1<<left), m), right)
}

// QuantizeMultiplier splits a positive real multiplier into a Q31
// fixed-point multiplier in [2^30, 2^31) and a power-of-two shift so that
// real ≈ m · 2^(shift−31), exactly as TFLite's QuantizeMultiplier.
func QuantizeMultiplier(real float64) (m int32, shift int) {
	if real == 0 {
		return 0, 0
	}
	q, exp := math.Frexp(real)
	fixed := int64(roundAway(q * (1 << 31)))
	if fixed == 1<<31 {
		fixed /= 2
		exp++
	}
	if exp < -31 {
		return 0, 0
	}
	return int32(fixed), exp
}

// roundAway rounds half away from zero (C's round, TfLiteRound).
func roundAway(x float64) float64 { return math.Round(x) }

// Requantize maps an int32 accumulator to the output's quantised domain:
// zero + MultiplyByQuantizedMultiplier(acc, m, shift), clamped to [lo, hi].
func Requantize(acc, m int32, shift int, zero, lo, hi int32) int32 {
	v := MultiplyByQuantizedMultiplier(acc, m, shift) + zero
	return min(max(v, lo), hi)
}

// ActivationRange returns the quantised clamp [lo, hi] of a fused
// activation with real bounds [fmin, fmax] on an output with the given
// scale and zero point, intersected with [qmin, qmax] (TFLite's
// CalculateActivationRangeQuantized).
func ActivationRange(fmin, fmax float32, scale float32, zero int32, qmin, qmax int32) (int32, int32) {
	lo, hi := qmin, qmax
	q := func(f float32) int32 {
		return zero + int32(roundAway(float64(f/scale)))
	}
	if !math.IsInf(float64(fmin), -1) {
		lo = max(lo, q(fmin))
	}
	if !math.IsInf(float64(fmax), 1) {
		hi = min(hi, q(fmax))
	}
	return lo, hi
}
