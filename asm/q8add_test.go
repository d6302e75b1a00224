package asm

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// q8AddGeneric runs a.Run on the generic path (the Go body, the oracle).
func q8AddGeneric(a *QAdd, x, y, out []int8) {
	saved := level
	level = 0
	defer func() { level = saved }()
	a.Run(x, y, out)
}

// q8AddCompare checks QAdd.Run on the selected path bit for bit against
// the Go body: random lengths 0..320 (whole blocks and tails), random
// scales (including an input 2^21.. times finer than the other, so 20 + S
// < 0), zero points and clamps, random and extreme (−128 / 127) inputs,
// hand-set parameters at the edges of the range, guard bands around every
// buffer and unchanged inputs.
func q8AddCompare(t *testing.T) {
	r := q8Seeded(t, 77)
	for it := 0; it < 400; it++ {
		s1 := float32(math.Exp2(r.Float64()*12 - 9))
		s2 := float32(math.Exp2(r.Float64()*12 - 9))
		switch r.IntN(6) {
		case 0:
			s2 = s1
		case 1:
			s2 = float32(float64(s1) * math.Exp2(-21-12*r.Float64()))
		case 2:
			s1 = float32(float64(s2) * math.Exp2(-21-12*r.Float64()))
		}
		so := float32(float64(max32(s1, s2)) * math.Exp2(r.Float64()*6-2))
		lo, hi := q8Clamp(r)
		a := NewQAdd(s1, q8Zero(r), s2, q8Zero(r), so, q8Zero(r), lo, hi)
		switch it % 8 {
		case 1:
			a.SOut = 0
		case 2:
			a.SOut = -31
		case 3:
			a.MOut = math.MaxInt32
		}
		// (Z1, Z2, M1, M2, S1 and S2 are tabulated by NewQAdd and must not
		// change afterwards; the output parameters are read by Run.)
		n := r.IntN(321)
		if it < 40 {
			n = 16*(it%8) + it/8 // every block count 0..7 with small tails
		}
		gen := func(int) int8 { return int8(r.IntN(256) - 128) }
		switch it % 5 {
		case 3:
			gen = func(int) int8 { return int8(-128 + 255*r.IntN(2)) }
		case 4:
			v := int8(-128 + 255*r.IntN(2))
			gen = func(int) int8 { return v }
		}
		x, y := newQ8Buf(n, gen), newQ8Buf(n, gen)
		x0, y0 := append([]int8(nil), x.buf...), append([]int8(nil), y.buf...)
		want, got := newQ8Buf(n, q8Gap), newQ8Buf(n, q8Gap)
		q8AddGeneric(a, x.data(), y.data(), want.data())
		a.Run(x.data(), y.data(), got.data())
		require.Equal(t, want.data(), got.data(), "n %d, %s", n, q8AddString(a))
		got.checkGuards(t, "QAdd.Run")
		require.Equal(t, x0, x.buf, "x changed")
		require.Equal(t, y0, y.buf, "y changed")

		// In place, as a residual add into its input.
		a.Run(x.data(), y.data(), x.data())
		require.Equal(t, want.data(), x.data(), "in place, n %d", n)
	}
}

func q8AddString(a *QAdd) string {
	return fmt.Sprintf("Z %d %d %d, M %d %d %d, S %d %d %d, clamp [%d, %d]",
		a.Z1, a.Z2, a.ZOut, a.M1, a.M2, a.MOut, a.S1, a.S2, a.SOut, a.Min, a.Max)
}

func TestQ8AddSIMD(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	for _, p := range Supported() {
		require.NoError(t, Select(p))
		t.Run(p, q8AddCompare)
	}
}

func TestQ8AddRunAllocs(t *testing.T) {
	a := NewQAdd(0.05, 3, 0.07, -9, 0.1, -2, -128, 127)
	x, y, out := make([]int8, 100), make([]int8, 100), make([]int8, 100)
	require.Zero(t, testing.AllocsPerRun(20, func() { a.Run(x, y, out) }))
}

// BenchmarkQ8Add runs QAdd.Run on a MobileNet v2 / ResNet-50 sized tensor
// on every supported path; cpu-ns/op and cpu-Gelem/s count the benchmark
// thread's CPU time, which other load on a shared machine does not distort.
func BenchmarkQ8Add(b *testing.B) {
	saved := Selected()
	b.Cleanup(func() { Select(saved) })
	for _, sz := range []struct {
		name string
		n    int
	}{{"56x56x24", 56 * 56 * 24}, {"28x28x512", 28 * 28 * 512}} {
		r := q8Seeded(b, 4)
		x, y, out := q8Rand(r, sz.n, -128, 127), q8Rand(r, sz.n, -128, 127), make([]int8, sz.n)
		a := NewQAdd(0.05, 3, 0.07, -9, 0.1, -2, -128, 127)
		for _, p := range Supported() {
			b.Run(p+"/"+sz.name, func(b *testing.B) {
				if err := Select(p); err != nil {
					b.Fatal(err)
				}
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0, ok := q8ThreadCPU()
				for b.Loop() {
					a.Run(x, y, out)
				}
				t1, _ := q8ThreadCPU()
				b.ReportMetric(float64(sz.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
				if ok && t1 > t0 {
					b.ReportMetric(float64(sz.n)*float64(b.N)/(t1-t0).Seconds()/1e9, "cpu-Gelem/s")
					b.ReportMetric(float64((t1-t0).Nanoseconds())/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}
