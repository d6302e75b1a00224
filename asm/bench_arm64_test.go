//go:build !purego

package asm

import "testing"

// BenchmarkQ8GemmTiles runs the int8 GEMM of a MobileNet-sized 1×1
// convolution (196 pixels × 256 → 256 channels) through the generic body
// and the arm64 tiles (mlal and c16 always, dot when the CPU has SDOT).
func BenchmarkQ8GemmTiles(b *testing.B) {
	const m, n, k = 196, 256, 256
	g := &QGemm{M: m, N: n, K: k, InZero: 3}
	w := make([]int8, k*n)
	for i := range w {
		w[i] = int8(i%251 - 125)
	}
	bias := make([]int32, n)
	g.Requant = NewRequant(0.02, []float32{0.01}, 0.05, -5, -128, 127).Expand(n)
	p := g.Pack(w, false, nil, bias)
	a := make([]int8, m*k)
	for i := range a {
		a[i] = int8(i%239 - 119)
	}
	c := make([]int8, m*n)
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				f()
			}
			b.ReportMetric(float64(m*n*k), "MACs/op")
		})
	}
	run("generic", func() { q8GemmBlock(q8GemmDefaultMR, m, k, a, k, p.w, p.bias, &g.Requant, 0, c, n, 0, n) })
	mlal := q8PackArchKind(p, 1, q8KindMlal)
	run("mlal", func() { q8GemmArch(g, a, k, p, mlal, c, n, 0, n) })
	c16 := q8PackArchKind(p, 1, q8KindC16)
	run("c16", func() { q8GemmArch(g, a, k, p, c16, c, n, 0, n) })
	if hwLevel >= pathLevel(PathDotProd) {
		dot := q8PackArchFor(p, 1, true)
		run("dot", func() { q8GemmArch(g, a, k, p, dot, c, n, 0, n) })
	}
}
