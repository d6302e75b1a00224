package asm

import "testing"

// BenchmarkF32GemmPaths runs a MobileNet-sized 1×1 convolution (14×14×256 →
// 256, as Gemm) on every supported kernel path; MACs/op is reported so
// `make icount` can turn instruction counts into MACs per instruction.
func BenchmarkF32GemmPaths(b *testing.B) {
	saved := Selected()
	defer Select(saved)
	const m, n, k = 196, 256, 256
	for _, path := range Supported() {
		b.Run(path, func(b *testing.B) {
			if err := Select(path); err != nil {
				b.Fatal(err)
			}
			g := &Gemm{M: m, N: n, K: k, Clamp: Clamp{0, 6}}
			a := make([]float32, m*k)
			for i := range a {
				a[i] = float32(i%17) / 17
			}
			w := make([]float32, k*n)
			for i := range w {
				w[i] = float32(i%13-6) / 13
			}
			packed := g.PackF32(w, false)
			c := make([]float32, m*n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g.RunF32(a, k, packed, nil, c, n, nil, 0, n)
			}
			b.ReportMetric(float64(m*n*k), "MACs/op")
		})
	}
}
