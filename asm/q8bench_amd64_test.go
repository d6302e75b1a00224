//go:build !purego

package asm

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

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

// BenchmarkQ8TileL1 times the fused 3-row tiles alone (RoundUpward, the x8
// ones also in the Upward1 form) on
// L1-resident data: 8 row tiles × 16 columns per call (4 panels of the
// 4-column c16 / c32 tiles, 2 of the 8-column x8 ones), the same A rows and
// weights every call. It reports MACs per CPU ns and CPU ns per 12 outputs
// (a 3×4 tile's worth); between two depths the slope is the k loop's cost
// and the intercept the reduction, requantisation and loop overhead. The
// vnni forms (VPDPBUSD) run only on CPUs with AVX-512 VNNI.
//
//	go test -run XXX -bench Q8TileL1 ./asm/
func BenchmarkQ8TileL1(b *testing.B) {
	if hwLevel < pathLevel(PathAVX2) {
		b.Skip("no AVX2")
	}
	const ntiles, cols = 8, 16 // ≤ 12 KB of A, ≤ 8 KB of weights
	rq := NewRequant(0.02, []float32{0.01}, 0.05, -5, -128, 127).Expand(cols)
	rq.Rounding = RoundUpward
	var prm, prm1 [6*q8Avx2NC + 4]int32
	q8Avx2Params(&prm, &rq, make([]int32, cols), nil, 0, cols)
	if !q8Avx2Params1(&prm1, &rq, make([]int32, cols), nil, 0, cols, 0) {
		b.Fatal("no Upward1 parameters")
	}
	c := make([]int8, q8Avx2MR*ntiles*cols)
	for _, tc := range []struct {
		name string
		kr   int
		f    func(kb int, a *int8, k int, w *int16, w8 *int8)
	}{
		{"c16", q8Avx2KR, func(kb int, a *int8, k int, w *int16, _ *int8) {
			q8GemmAvx23x4c16Upward(kb, a, k, w, k*4, 4, ntiles, &prm[0], &c[0], cols, 4, 0, -128, 127)
		}},
		{"x8c8", q8Avx2KR / 2, func(kb int, a *int8, k int, w *int16, _ *int8) {
			q8GemmAvx23x8c8Upward(kb, a, k, w, k*8, 2, ntiles, &prm[0], &c[0], cols, 8, 0, -128, 127)
		}},
		{"x8c8-upward1", q8Avx2KR / 2, func(kb int, a *int8, k int, w *int16, _ *int8) {
			q8GemmAvx23x8c8Upward1(kb, a, k, w, k*8, 2, ntiles, &prm1[0], &c[0], cols, 8, 0, -128, 127)
		}},
		{"c32", q8Avx2KRUB, func(kb int, a *int8, k int, _ *int16, w8 *int8) {
			q8GemmAvx23x4c32Upward(kb, a, k, w8, k*4, 4, ntiles, &prm[0], &c[0], cols, 4, 0, -128, 127)
		}},
		{"x8c16ub", q8Avx2KR, func(kb int, a *int8, k int, _ *int16, w8 *int8) {
			q8GemmAvx23x8c16ubUpward(kb, a, k, w8, k*8, 2, ntiles, &prm[0], &c[0], cols, 8, 0, -128, 127)
		}},
		{"x8c16ub-upward1", q8Avx2KR, func(kb int, a *int8, k int, _ *int16, w8 *int8) {
			q8GemmAvx23x8c16ubUpward1(kb, a, k, w8, k*8, 2, ntiles, &prm1[0], &c[0], cols, 8, 0, -128, 127)
		}},
		{"vnni", q8Avx2KR, func(kb int, a *int8, k int, _ *int16, w8 *int8) {
			q8GemmVnni3x8c16ubUpward(kb, a, k, w8, k*8, 2, ntiles, &prm[0], &c[0], cols, 8, 0, -128, 127)
		}},
		{"vnni-upward1", q8Avx2KR, func(kb int, a *int8, k int, _ *int16, w8 *int8) {
			q8GemmVnni3x8c16ubUpward1(kb, a, k, w8, k*8, 2, ntiles, &prm1[0], &c[0], cols, 8, 0, -128, 127)
		}},
		// The c4 tile: 6 row tiles of 4 rows, one 16-column panel.
		{"vnni-c4", 4, func(kb int, a *int8, k int, _ *int16, w8 *int8) {
			q8GemmVnni4x16c4Upward(kb, a, k, w8, k*16, 1, ntiles*3/4, &prm[0], &c[0], cols, 16, 0, -128, 127)
		}},
		{"vnni-c4-upward1", 4, func(kb int, a *int8, k int, _ *int16, w8 *int8) {
			q8GemmVnni4x16c4Upward1(kb, a, k, w8, k*16, 1, ntiles*3/4, &prm1[0], &c[0], cols, 16, 0, -128, 127)
		}},
	} {
		if strings.HasPrefix(tc.name, "vnni") && hwLevel < pathLevel(PathVNNI) {
			continue // no AVX-512 VNNI
		}
		for _, k := range []int{32, 64, 128, 512} {
			a := make([]int8, q8Avx2MR*ntiles*k)
			for i := range a {
				a[i] = int8(i%239 - 119)
			}
			w, w8 := make([]int16, cols*k), make([]int8, cols*k)
			for i := range w {
				w[i], w8[i] = int16(i%127-63), int8(i%127-63)
			}
			macs := float64(q8Avx2MR * ntiles * cols * k)
			b.Run(fmt.Sprintf("%s/K=%d", tc.name, k), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0, ok := q8ThreadCPU()
				for b.Loop() {
					tc.f(k/tc.kr, &a[0], k, &w[0], &w8[0])
				}
				t1, _ := q8ThreadCPU()
				if ok && t1 > t0 {
					ns := float64((t1 - t0).Nanoseconds()) / float64(b.N)
					b.ReportMetric(macs/ns, "MACs/cpu-ns")
					b.ReportMetric(ns/(ntiles*cols/4), "cpu-ns/12-outputs")
				}
			})
		}
	}
}

// BenchmarkQ8TileC4Z compares the YMM and ZMM c4 tiles (Upward1) on a
// whole 64-column block of 24 rows in L1, the call q8GemmBlockArch makes
// for a 1×1 convolution's chunk.
func BenchmarkQ8TileC4Z(b *testing.B) {
	if hwLevel < pathLevel(PathVNNI) {
		b.Skip("no AVX-512 VNNI")
	}
	const rows, cols = 24, 64
	rq := NewRequant(0.02, []float32{0.01}, 0.05, -5, -128, 127).Expand(cols)
	rq.Rounding = RoundUpward
	var prm [6*q8Avx2NC + 4]int32
	if !q8Avx2Params1(&prm, &rq, make([]int32, cols), nil, 0, cols, 0) {
		b.Fatal("no Upward1 parameters")
	}
	c := make([]int8, rows*cols)
	for _, k := range []int{64, 128, 256, 512, 2304} {
		a := make([]int8, rows*k)
		for i := range a {
			a[i] = int8(i%239 - 119)
		}
		w8 := make([]int8, cols*k)
		for i := range w8 {
			w8[i] = int8(i%127 - 63)
		}
		kb, ps := k/4, k*16
		for _, tc := range []struct {
			name string
			f    func()
		}{
			{"ymm", func() {
				q8GemmVnni4x16c4Upward1(kb, &a[0], k, &w8[0], ps, 4, rows/4, &prm[0], &c[0], cols, 16, 0, -128, 127)
			}},
			{"zmm", func() {
				q8GemmVnniZ4x64c4Upward1(kb, &a[0], k, &w8[0], ps, 4, rows/4, &prm[0], &c[0], cols, 16, 0, -128, 127)
			}},
		} {
			b.Run(fmt.Sprintf("%s/K=%d", tc.name, k), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0, ok := q8ThreadCPU()
				for b.Loop() {
					tc.f()
				}
				t1, _ := q8ThreadCPU()
				if ok && t1 > t0 {
					ns := float64((t1 - t0).Nanoseconds()) / float64(b.N)
					b.ReportMetric(float64(rows*cols*k)/ns, "MACs/cpu-ns")
				}
			})
		}
	}
}
