//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	archKernelTests["qs8_qc8w_dwconv3x3_requant_c64__avx512vnni"] = func(t *testing.T, k Kernel) {
		if hwLevel < pathLevel(PathVNNI) {
			t.Skip("the avx512vnni path needs AVX512F/VL/BW and VNNI; this CPU lacks them")
		}
		for seed := uint64(101); seed <= 104; seed++ {
			q8DWVnniCompare(t, seed)
		}
		q8DWVnniNoAlloc(t)
	}
}

// q8DWVnniCompare checks the avx512vnni int8 depthwise body bit for bit
// against the generic body (itself checked against an int64 reference by
// TestQ8Depthwise*): the AVX2 body's fixed cases plus MobileNet-like
// channel counts (every mix of 64/32/16-channel blocks and the overlapping
// 16 tail), random 3×3 geometries with 16..200 channels, strides and
// dilations 1..2, padding 0..2 per side, both fused roundings (RoundSingle
// and weights − zero point outside int8 must not take it), per-channel
// multipliers, shifts over the whole range [−31, 31] with large biases,
// −128 extremes, row chunks, guard bands.
func q8DWVnniCompare(t *testing.T, seed uint64) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.NoError(t, Select(PathVNNI))
	r := q8Seeded(t, seed)
	cases := append([]q8DWCase(nil), q8DWAvx2Cases...)
	for _, c := range []int{32, 96, 144, 192, 64, 112, 120, 200} {
		cases = append(cases, q8DWCase{name: "mnv2_like", h: 5 + r.IntN(4), w: 5 + r.IntN(9), c: c, kh: 3, kw: 3,
			sh: 1 + r.IntN(2), sw: 1 + r.IntN(2), pt: 1, pl: 1, pb: 1, pr: 1})
	}
	for i := 0; i < 50; i++ {
		tc := q8DWCase{name: "random", h: 1 + r.IntN(12), w: 1 + r.IntN(20), c: 16 + r.IntN(185), kh: 3, kw: 3,
			sh: 1 + r.IntN(2), sw: 1 + r.IntN(2), dh: 1 + r.IntN(2), dw: 1 + r.IntN(2),
			pt: r.IntN(3), pl: r.IntN(3), pb: r.IntN(3), pr: r.IntN(3), extra: r.IntN(2) * r.IntN(9),
			wzero: r.IntN(3), noBias: r.IntN(6) == 0}
		cases = append(cases, tc)
	}
	ran := 0
	for ci, tc := range cases {
		tc.mult = max(1, tc.mult)
		d := tc.conv()
		if d.OutH <= 0 || d.OutW <= 0 {
			continue
		}
		d.InZero = q8Zero(r)
		cm := d.C * d.Mult
		x := q8Rand(r, d.InH*d.InW*d.C, -128, 127)
		w := q8Rand(r, cm*d.KH*d.KW, -128, 127)
		var zw []int32
		switch tc.wzero {
		case 1:
			zw = []int32{[]int32{127, -128, q8Zero(r)}[ci%3]} // w − zw reaches −255 or 255
		case 2:
			zw = make([]int32, cm)
			for i := range zw {
				zw[i] = int32(r.IntN(3) - 1) // mostly still inside int8
			}
		}
		if ci%9 == 4 {
			for i := range x {
				x[i] = -128
			}
			for i := range w {
				w[i] = -128
			}
			zw, d.InZero = nil, 127
		}
		var bias []int32
		if !tc.noBias {
			bias = make([]int32, cm)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<20) - 1<<19)
			}
		}
		mode := []Rounding{RoundDouble, RoundUpward, RoundDouble, RoundUpward, RoundSingle}[ci%5]
		d.Requant = q8RandRequant(r, cm, math.Sqrt(9)*150*(0.2+2*r.Float64()), mode)
		if ci%7 == 3 {
			// Any valid multiplier and shift, with biases up to ±2^31: the
			// 64-bit rounding shift over its whole range.
			for o := range d.Requant.Shift {
				d.Requant.Mult[o] = int32(r.Uint32() >> 1)
				d.Requant.Shift[o] = int32(r.IntN(63) - 31)
				if bias != nil {
					bias[o] = int32(r.Uint32())
				}
			}
		}
		p := d.Pack(w, zw, bias)
		fits := true
		for _, v := range p.dw {
			fits = fits && v >= -128 && v <= 127
		}
		want8 := q8DWAvxShape(d) && fits
		require.Equal(t, want8, p.dwVNNI != nil, "%s: packed for avx512vnni", tc.name)
		vnni := want8 && mode != RoundSingle
		pixels := d.OutH * d.OutW
		xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
		want := q8OutBuf(pixels, cm, d.OutStride)
		got := q8OutBuf(pixels, cm, d.OutStride)
		for _, ch := range q8Chunks(r, d.OutH, 1+r.IntN(d.OutH)) {
			q8DWConvGeneric(d, xin.data(), p, want.data(), ch[0], ch[1])
			require.Equal(t, vnni, q8DWConvVnni(d, xin.data(), p, got.data(), ch[0], ch[1]), "%s: ran the avx512vnni body", tc.name)
			if !vnni {
				d.Run(xin.data(), p, got.data(), ch[0], ch[1])
			}
		}
		if vnni {
			ran++
		}
		require.Equal(t, want.data(), got.data(), "case %d %s %v %+v", ci, tc.name, mode, *d)
		got.checkGuards(t, "output")
		xin.checkGuards(t, "input")
		require.Equal(t, x, xin.data(), "input modified")
	}
	require.Greater(t, ran, 20, "too few cases ran the avx512vnni body")
}

// q8DWVnniNoAlloc checks that QDepthwiseConv2D.Run on the avx512vnni path
// runs its body without allocating, with more runs than one batch holds.
func q8DWVnniNoAlloc(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.NoError(t, Select(PathVNNI))
	r := rand.New(rand.NewPCG(7, 8))
	d := (&q8DWCase{h: 28, w: 28, c: 144, mult: 1, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
	d.InZero = -3
	d.Requant = q8RandRequant(r, 144, 450, RoundDouble)
	p := d.Pack(q8Rand(r, 144*9, -127, 127), nil, make([]int32, 144))
	require.NotNil(t, p.dwVNNI, "QDepthwiseConv2D.Pack on avx512vnni did not build the VNNI table")
	x := q8Rand(r, 28*28*144, -128, 127)
	out := make([]int8, 28*28*144)
	require.True(t, q8DWConvVnni(d, x, p, out, 0, d.OutH))
	require.Zero(t, testing.AllocsPerRun(10, func() { d.Run(x, p, out, 0, d.OutH) }))
}

// BenchmarkQ8DWConvPaths times QDepthwiseConv2D.Run (one thread, whole
// layer, RoundDouble) on MobileNet v2's depthwise shapes under the avx2 and
// avx512vnni paths, alternating the paths per shape.
func BenchmarkQ8DWConvPaths(b *testing.B) {
	shapes := []struct{ h, c, s int }{{112, 32, 1}, {112, 96, 2}, {56, 144, 1}, {56, 144, 2}, {28, 192, 1}, {14, 384, 1}, {14, 576, 1}, {7, 960, 1}}
	saved := Selected()
	b.Cleanup(func() { _ = Select(saved) })
	for _, sh := range shapes {
		oh := (sh.h + sh.s - 1) / sh.s
		for _, path := range []string{PathAVX2, PathVNNI} {
			if Select(path) != nil {
				continue
			}
			d := &QDepthwiseConv2D{InH: sh.h, InW: sh.h, C: sh.c, Mult: 1, OutH: oh, OutW: oh, KH: 3, KW: 3,
				StrideH: sh.s, StrideW: sh.s, PadT: 1 - (sh.s - 1), PadL: 1 - (sh.s - 1), OutStride: sh.c, InZero: 5}
			r := q8Seeded(b, 2)
			d.Requant = q8RandRequant(r, sh.c, 40, RoundDouble)
			x := q8Rand(r, sh.h*sh.h*sh.c, -128, 127)
			p := d.Pack(q8Rand(r, sh.c*9, -127, 127), nil, make([]int32, sh.c))
			out := make([]int8, oh*oh*sh.c)
			b.Run(fmt.Sprintf("%dx%dx%d_s%d/%s", sh.h, sh.h, sh.c, sh.s, path), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					d.Run(x, p, out, 0, oh)
				}
				b.ReportMetric(float64(oh*oh*sh.c*9)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}
