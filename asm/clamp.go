package asm

import "math"

// Clamp is the fused activation of a kernel epilogue:
//
//	out = min(max(x, Min), Max)
//
// Use math.Inf for "none": NoClamp() = {-Inf, +Inf}, ReLU = {0, +Inf},
// ReLU6 = {0, 6}. A NaN x stays NaN.
type Clamp struct{ Min, Max float32 }

// NoClamp returns the identity Clamp {-Inf, +Inf}.
func NoClamp() Clamp {
	return Clamp{Min: float32(math.Inf(-1)), Max: float32(math.Inf(1))}
}

// apply clamps v. The min/max builtins are branch-free (FMAX/FMIN on arm64,
// MINSS sequences on amd64): an if-based clamp mispredicts on about half of
// the elements of a ReLU6 epilogue and ran 2× slower in the depthwise loop.
func (c Clamp) apply(v float32) float32 {
	return min(max(v, c.Min), c.Max)
}

// isNone reports whether c never changes a value.
func (c Clamp) isNone() bool {
	return math.IsInf(float64(c.Min), -1) && math.IsInf(float64(c.Max), 1)
}

// clampSlice applies c to every element of s.
func clampSlice(s []float32, c Clamp) {
	if c.isNone() {
		return
	}
	lo, hi := c.Min, c.Max
	for i, v := range s {
		s[i] = min(max(v, lo), hi)
	}
}
