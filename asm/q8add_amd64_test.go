//go:build !purego

package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	archKernelTests["qs8_vcvt_f32_x16__avx2"] = func(t *testing.T, k Kernel) {
		saved := level
		defer func() { level = saved }()
		level = pathLevel(k.Path)
		q8QuantizeCompare(t, 43)
	}
	archKernelTests["qs8_vadd_requant_x16__avx2"] = func(t *testing.T, k Kernel) {
		saved, fast, lin := level, q8AddUseFast, q8AddUseLin
		defer func() { level, q8AddUseFast, q8AddUseLin = saved, fast, lin }()
		level = pathLevel(k.Path)
		q8AddUseLin = false
		for _, q8AddUseFast = range []bool{true, false} {
			q8AddCompare(t)
		}
		q8AddUseLin, q8AddUseFast = true, true
		q8AddCompare(t)
		q8AddAvx2FastCompare(t)
		q8AddLinCompare(t)
	}
	archKernelTests["qs8_vadd_linear_x32__avx512"] = func(t *testing.T, k Kernel) {
		saved, lin := level, q8AddUseLin
		defer func() { level, q8AddUseLin = saved, lin }()
		level, q8AddUseLin = pathLevel(k.Path), true
		q8AddLinCompare(t)
		q8AddLinWideTails(t)
	}
}

// q8AddLinWideTails runs the ZMM linear body on lengths that end in its
// 16-element block and in a Go tail, against the generic body.
func q8AddLinWideTails(t *testing.T) {
	// A clamp inside int8's range, so both ends of the clamp matter.
	a := NewQAdd(0.13264428, -12, 0.08471465, -128, 0.09877179, -128, -100, 50)
	require.NotNil(t, a.lin)
	require.True(t, a.lin.Wide, "the ZMM body misses pairs the avx2 one gets right")
	r := q8Seeded(t, 80)
	for _, n := range []int{16, 17, 31, 32, 48, 63, 1000, 1<<12 + 16} {
		x, y := q8Rand(r, n, -128, 127), q8Rand(r, n, -128, 127)
		want, got := make([]int8, n), make([]int8, n)
		q8AddGeneric(a, x, y, want)
		a.Run(x, y, got)
		require.Equal(t, want, got, "n=%d", n)
	}
}

// q8AddAvx2FastCompare checks q8AddAvx2x16F on every (x, y) byte pair for
// random scales it must take (L = 20 + S from 0 to 22 for both inputs,
// multipliers up to just below 2^31), and the parameters it must refuse.
func q8AddAvx2FastCompare(t *testing.T) {
	r := q8Seeded(t, 78)
	x, y := make([]int8, 1<<16), make([]int8, 1<<16)
	for i := range x {
		x[i], y[i] = int8(i), int8(i>>8)
	}
	want, got := make([]int8, len(x)), make([]int8, len(x))
	taken := 0
	for it := 0; it < 60; it++ {
		s1 := float32(math.Exp2(r.Float64()*12 - 9))
		s2 := float32(float64(s1) * math.Exp2(r.Float64()*44-22))
		so := float32(float64(max32(s1, s2)) * math.Exp2(r.Float64()*6-2))
		lo, hi := q8Clamp(r)
		a := NewQAdd(s1, q8Zero(r), s2, q8Zero(r), so, q8Zero(r), lo, hi)
		var f q8AddFast
		ok := q8AddFastParams(a, &f)
		l1, l2 := 20+a.S1, 20+a.S2
		require.Equal(t, l1 >= 0 && l1 <= 22 && l2 >= 0 && l2 <= 22, ok, "L %d %d", l1, l2)
		if !ok {
			continue
		}
		taken++
		q8AddGeneric(a, x, y, want)
		a.Run(x, y, got)
		require.Equal(t, want, got, q8AddString(a))
	}
	require.Greater(t, taken, 20, "cases on q8AddAvx2x16F")
	// Refused: a multiplier whose high half rounds up to 2^15.
	a := NewQAdd(0.5, 0, 0.5, 0, 1, 0, -128, 127)
	a.M1 = math.MaxInt32 - 100
	require.False(t, q8AddFastParams(a, &q8AddFast{}))
}

// q8AddLinCompare checks the linear ADD body on every (x, y) byte pair for
// random calibrated-looking scales and zero points: where NewQAdd took it,
// Run must equal the generic body on all 65 536 pairs (with a tail), and
// it must be taken for most layers (else the check or the body is broken
// and the speed silently lost); a changed output parameter after NewQAdd
// must not run it.
func q8AddLinCompare(t *testing.T) {
	r := q8Seeded(t, 79)
	n := 1<<16 + 5
	x, y := make([]int8, n), make([]int8, n)
	for i := range x {
		x[i], y[i] = int8(i>>8), int8(i)
	}
	want, got := make([]int8, n), make([]int8, n)
	taken, cases := 0, 60
	for it := 0; it < cases; it++ {
		s1 := float32(math.Exp(r.Float64()*3 - 4))
		s2 := float32(math.Exp(r.Float64()*3 - 4))
		so := float32(float64(s1+s2) * (0.5 + r.Float64()))
		lo, hi := q8Clamp(r)
		a := NewQAdd(s1, q8Zero(r), s2, q8Zero(r), so, q8Zero(r), lo, hi)
		if a.lin == nil {
			continue
		}
		taken++
		if level >= pathLevel(PathVNNI) {
			require.True(t, a.lin.Wide, "%s: the ZMM body misses pairs the avx2 one gets right", q8AddString(a))
		}
		q8AddGeneric(a, x, y, want)
		a.Run(x, y, got)
		require.Equal(t, want, got, "%s, lin %+v", q8AddString(a), *a.lin)
		a.ZOut++ // stale: the lin form must not run
		q8AddGeneric(a, x, y, want)
		a.Run(x, y, got)
		require.Equal(t, want, got, "%s after a ZOut change", q8AddString(a))
	}
	t.Logf("linear ADD body taken for %d of %d layers", taken, cases)
	require.Greater(t, taken, cases/2, "linear ADD body taken for %d of %d layers", taken, cases)

	// Real layers whose first form misses pairs by a float32 step at a .5
	// tie (s1/so, s2/so with C nudged alone): the A / B nudges must find an
	// exact form.
	for _, c := range []struct {
		name       string
		s1, s2, so float32
		z1, z2, zo int32
	}{
		{"resnet50 layer1.2", 0.13264428, 0.08471465, 0.09877179, -12, -128, -128},
		{"mobilenet_v2 features.6", 0.077492766, 0.052391857, 0.09354112, 5, -2, 7},
	} {
		a := NewQAdd(c.s1, c.z1, c.s2, c.z2, c.so, c.zo, -128, 127)
		require.NotNil(t, a.lin, c.name)
		q8AddGeneric(a, x, y, want)
		a.Run(x, y, got)
		require.Equal(t, want, got, c.name)
	}
}
