package asm

import (
	"fmt"
	"testing"
)

// dwBenchLayers are MobileNet v1 1.0/224 depthwise layers (3×3, pad 1).
var dwBenchLayers = []struct{ h, c, s int }{
	{112, 32, 1}, {112, 64, 2}, {56, 128, 1}, {56, 128, 2}, {14, 512, 1}, {7, 1024, 1},
}

// dwBenchKxKLayers are int8 depthwise layers for the K×K body: 5×5 ones
// of EfficientNet-B0/lite and the 3×3 8-channel first one of MobileNet v1
// 0.25/128 (input h×h×c, stride s, k×k).
var dwBenchKxKLayers = []struct{ k, h, c, s int }{
	{5, 28, 240, 1}, {5, 28, 240, 2}, {5, 14, 480, 1}, {5, 14, 480, 2}, {5, 7, 1152, 1}, {3, 64, 8, 1},
}

// BenchmarkDWConvPaths runs whole depthwise layers, float and int8, on the
// generic and the neon path (int8 also on the dotprod path: the SDOT body),
// single-threaded in work items of 4 rows (as
// the runtime splits them): the benchmark behind the icount table in
// docs/kernels.md. One iteration is one layer; its MACs are reported.
func BenchmarkDWConvPaths(b *testing.B) {
	saved := Selected()
	defer Select(saved)
	for _, l := range dwBenchLayers {
		oh := (l.h+2-3)/l.s + 1
		macs := float64(oh * oh * l.c * 9)
		name := fmt.Sprintf("%dx%dx%d_s%d", l.h, l.h, l.c, l.s)
		r := q8Seeded(b, 4)
		f := &DepthwiseConv2D{InH: l.h, InW: l.h, C: l.c, Mult: 1, OutH: oh, OutW: oh, KH: 3, KW: 3,
			StrideH: l.s, StrideW: l.s, DilH: 1, DilW: 1, PadT: 1, PadL: 1, OutStride: l.c, Clamp: relu6}
		fx, fp, fb := randSlice(r, l.h*l.h*l.c), f.PackF32(randSlice(r, 9*l.c)), randSlice(r, l.c)
		fo := make([]float32, oh*oh*l.c)
		q := &QDepthwiseConv2D{InH: l.h, InW: l.h, C: l.c, Mult: 1, OutH: oh, OutW: oh, KH: 3, KW: 3,
			StrideH: l.s, StrideW: l.s, DilH: 1, DilW: 1, PadT: 1, PadL: 1, OutStride: l.c, InZero: -128}
		q.Requant = q8RandRequant(r, l.c, 3*150, RoundDouble)
		q.Requant.Min = 0
		bias := make([]int32, l.c)
		for i := range bias {
			bias[i] = int32(r.IntN(2000) - 1000)
		}
		// Packed on the best path, with the layouts of every body.
		_ = Select("auto")
		qx, qp := q8Rand(r, l.h*l.h*l.c, -128, 127), q.Pack(q8Rand(r, 9*l.c, -127, 127), nil, bias)
		qo := make([]int8, oh*oh*l.c)
		const rows = 4
		for _, path := range []string{PathGeneric, PathNEON, PathDotProd} {
			b.Run(fmt.Sprintf("f32/%s/%s", name, path), func(b *testing.B) {
				if path == PathDotProd {
					b.Skip("no float dotprod body")
				}
				if Select(path) != nil {
					b.Skip(path + " not supported")
				}
				for b.Loop() {
					for r0 := 0; r0 < oh; r0 += rows {
						f.RunF32(fx, fp, fb, fo, r0, min(oh, r0+rows))
					}
				}
				b.ReportMetric(macs, "MACs/op")
			})
			b.Run(fmt.Sprintf("qs8/%s/%s", name, path), func(b *testing.B) {
				if Select(path) != nil {
					b.Skip(path + " not supported")
				}
				for b.Loop() {
					for r0 := 0; r0 < oh; r0 += rows {
						q.Run(qx, qp, qo, r0, min(oh, r0+rows))
					}
				}
				b.ReportMetric(macs, "MACs/op")
			})
		}
	}
	// int8 layers of the general K×K body (q8dwconvkxk_neon_arm64.go) on
	// the neon path, TF SAME padding.
	for _, l := range dwBenchKxKLayers {
		k := l.k
		pad := (k - 1) / 2
		if l.s == 2 {
			pad = (k - 2) / 2 // TF SAME on an even input: one less before than after
		}
		oh := (l.h-1)/l.s + 1
		macs := float64(oh * oh * l.c * k * k)
		name := fmt.Sprintf("%dx%d_%dx%dx%d_s%d", k, k, l.h, l.h, l.c, l.s)
		r := q8Seeded(b, 5)
		q := &QDepthwiseConv2D{InH: l.h, InW: l.h, C: l.c, Mult: 1, OutH: oh, OutW: oh, KH: k, KW: k,
			StrideH: l.s, StrideW: l.s, DilH: 1, DilW: 1, PadT: pad, PadL: pad, OutStride: l.c, InZero: -128}
		q.Requant = q8RandRequant(r, l.c, float64(k*k*50), RoundDouble)
		q.Requant.Min, q.Requant.Max = q.Requant.OutZero, 127 // ReLU
		bias := make([]int32, l.c)
		for i := range bias {
			bias[i] = int32(r.IntN(2000) - 1000)
		}
		qx, qp := q8Rand(r, l.h*l.h*l.c, -128, 127), q.Pack(q8Rand(r, k*k*l.c, -127, 127), nil, bias)
		qo := make([]int8, oh*oh*l.c)
		const rows = 4
		for _, path := range []string{PathGeneric, PathNEON} {
			b.Run(fmt.Sprintf("qs8/%s/%s", name, path), func(b *testing.B) {
				if Select(path) != nil {
					b.Skip(path + " not supported")
				}
				for b.Loop() {
					for r0 := 0; r0 < oh; r0 += rows {
						q.Run(qx, qp, qo, r0, min(oh, r0+rows))
					}
				}
				b.ReportMetric(macs, "MACs/op")
			})
		}
	}
}
