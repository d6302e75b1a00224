//go:build !purego

package asm

import "testing"

// BenchmarkQ8GemmTiles runs the int8 GEMM of a MobileNet-sized 1×1
// convolution (196 pixels × 256 → 256 channels) and a ResNet-50 3×3 one
// (196 × 1152 → 128, K = 3·3·128) through the generic body and the AVX2
// tiles, requantisation included (RoundUpward, the runtime's CONV_2D /
// FULLY_CONNECTED rounding, fused into the AVX2 tiles; RoundSingle through
// the Go epilogue); MACs/op and cpu-GOPS (thread CPU time) are reported.
// avx2-7bit runs weights in [−63, 63] (quantize --reduce-range) on the c32
// VPMADDUBSW tiles and avx2-7bit-c16 the same weights on the c16 tiles.
func BenchmarkQ8GemmTiles(b *testing.B) {
	for _, s := range []struct {
		name    string
		m, n, k int
	}{{"196x256x256", 196, 256, 256}, {"196x128x1152", 196, 128, 1152}} {
		for _, mode := range []Rounding{RoundUpward, RoundSingle} {
			m, n, k := s.m, s.n, s.k
			g := &QGemm{M: m, N: n, K: k, InZero: 3}
			w := make([]int8, k*n)
			for i := range w {
				w[i] = int8(i%251 - 125)
			}
			bias := make([]int32, n)
			g.Requant = NewRequant(0.02, []float32{0.01}, 0.05, -5, -128, 127).Expand(n)
			g.Requant.Rounding = mode
			p := g.Pack(w, false, nil, bias)
			a := make([]int8, m*k)
			for i := range a {
				a[i] = int8(i%239 - 119)
			}
			c := make([]int8, m*n)
			run := func(name string, f func()) {
				b.Run(name+"/"+mode.String()+"/"+s.name, func(b *testing.B) {
					q8Loop(b, 1, float64(m*n*k), f)
					b.ReportMetric(float64(m*n*k), "MACs/op")
				})
			}
			run("generic", func() { q8GemmBlock(q8GemmDefaultMR, m, k, a, k, p.w, p.bias, &g.Requant, 0, c, n, 0, n) })
			if hwLevel >= pathLevel(PathAVX2) {
				np := q8PackArchFor(p, 1)
				run("avx2", func() { q8GemmArch(g, a, k, p, np, c, n, 0, n) })
				w7 := make([]int8, k*n)
				for i := range w7 {
					w7[i] = int8(i%127 - 63)
				}
				p7 := g.Pack(w7, false, nil, bias)
				ub, c16 := q8PackArchFor(p7, 1), q8PackArchAs(p7, 1, false)
				if !ub.ub {
					b.Fatal("7-bit weights not packed for the c32 tiles")
				}
				run("avx2-7bit", func() { q8GemmArch(g, a, k, p7, ub, c, n, 0, n) })
				run("avx2-7bit-c16", func() { q8GemmArch(g, a, k, p7, c16, c, n, 0, n) })
			}
		}
	}
}
