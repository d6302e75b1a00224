//go:build !purego

package asm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// q8DWAvx2Cases are the fixed geometries of q8DWAvx2Compare: MobileNet v2
// layers (shrunk in H and W), channel tails around the 16-channel block,
// dilation, asymmetric and one-sided padding, a window larger than the
// input, OutStride > C.
var q8DWAvx2Cases = []q8DWCase{
	{name: "mnv2_s1", h: 14, w: 14, c: 96, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "mnv2_s2_same_tf", h: 15, w: 16, c: 144, kh: 3, kw: 3, sh: 2, sw: 2, pb: 1, pr: 1},
	{name: "c16_exact", h: 5, w: 7, c: 16, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "c17_tail", h: 6, w: 5, c: 17, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, extra: 5, wzero: 2},
	{name: "c31_tail", h: 4, w: 9, c: 31, kh: 3, kw: 3, sh: 2, sw: 1, pt: 2, pl: 0, pb: 0, pr: 2},
	{name: "c40_dil2", h: 9, w: 8, c: 40, kh: 3, kw: 3, dh: 2, dw: 2, pt: 2, pl: 2, pb: 2, pr: 2, wzero: 1},
	{name: "window_bigger_than_input", h: 1, w: 2, c: 24, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, noBias: true},
	{name: "valid_no_pad", h: 5, w: 40, c: 48, kh: 3, kw: 3, extra: 16},
	{name: "c8_generic", h: 5, w: 5, c: 8, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "mult2_generic", h: 5, w: 5, c: 16, mult: 2, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "5x5_generic", h: 7, w: 7, c: 16, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2},
}

// q8DWAvx2Compare checks the AVX2 int8 depthwise body bit for bit against
// the generic body (which TestQ8Depthwise* check against an int64
// reference): the fixed cases and random 3×3 geometries with 16..80
// channels, strides and dilations 1..2, padding 0..2 on each side, every
// rounding (RoundSingle and the shapes the body does not take must fall
// back), zero-point extremes, weight zero points that take weight − zero
// point to ±255, all −128 inputs and weights, row chunks, and guard bands
// around the input and the output (including the OutStride gap).
func q8DWAvx2Compare(t *testing.T, seed uint64) {
	require.NoError(t, Select(PathAVX2))
	r := q8Seeded(t, seed)
	cases := append([]q8DWCase(nil), q8DWAvx2Cases...)
	for i := 0; i < 50; i++ {
		tc := q8DWCase{name: "random", h: 1 + r.IntN(12), w: 1 + r.IntN(20), c: 16 + r.IntN(65), kh: 3, kw: 3,
			sh: 1 + r.IntN(2), sw: 1 + r.IntN(2), dh: 1 + r.IntN(2), dw: 1 + r.IntN(2),
			pt: r.IntN(3), pl: r.IntN(3), pb: r.IntN(3), pr: r.IntN(3), extra: r.IntN(2) * r.IntN(9),
			wzero: r.IntN(3), noBias: r.IntN(6) == 0}
		cases = append(cases, tc)
	}
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
				zw[i] = q8Zero(r)
			}
		}
		if ci%9 == 4 {
			for i := range x {
				x[i] = -128
			}
			for i := range w {
				w[i] = -128
			}
			zw, d.InZero = []int32{127}, 127
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
		if ci%11 == 7 {
			// Left shifts (multipliers ≥ 1) and the extreme right shift.
			for o := range d.Requant.Shift {
				d.Requant.Shift[o] = []int32{1, 3, -31, 0}[o%4]
			}
		}
		p := d.Pack(w, zw, bias)
		arch := q8DWAvxShape(d) && mode != RoundSingle
		require.Equal(t, q8DWAvxShape(d), p.dwArch != nil, "%s: packed for AVX2", tc.name)
		pixels := d.OutH * d.OutW
		xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
		want := q8OutBuf(pixels, cm, d.OutStride)
		got := q8OutBuf(pixels, cm, d.OutStride)
		for _, ch := range q8Chunks(r, d.OutH, 1+r.IntN(d.OutH)) {
			q8DWConvGeneric(d, xin.data(), p, want.data(), ch[0], ch[1])
			require.Equal(t, arch, q8DWConvArch(d, xin.data(), p, got.data(), ch[0], ch[1]), "%s: ran the AVX2 body", tc.name)
			if !arch {
				d.Run(xin.data(), p, got.data(), ch[0], ch[1])
			}
		}
		require.Equal(t, want.data(), got.data(), "case %d %s %v %+v", ci, tc.name, mode, *d)
		got.checkGuards(t, "output")
		xin.checkGuards(t, "input")
		require.Equal(t, x, xin.data(), "input modified")
	}
}

// q8DWAvx2NoAlloc checks that QDepthwiseConv2D.Run on the avx2 path runs
// the AVX2 body without allocating, on a MobileNet-sized layer with more
// runs than one batch holds.
func q8DWAvx2NoAlloc(t *testing.T) {
	require.NoError(t, Select(PathAVX2))
	r := rand.New(rand.NewPCG(5, 6))
	d := (&q8DWCase{h: 28, w: 28, c: 40, mult: 1, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
	d.InZero = -3
	d.Requant = q8RandRequant(r, 40, 450, RoundDouble)
	p := d.Pack(q8Rand(r, 40*9, -127, 127), nil, make([]int32, 40))
	require.NotNil(t, p.dwArch, "QDepthwiseConv2D.Pack on avx2 did not pack for the AVX2 body")
	x := q8Rand(r, 28*28*40, -128, 127)
	out := make([]int8, 28*28*40)
	require.Zero(t, testing.AllocsPerRun(10, func() { d.Run(x, p, out, 0, d.OutH) }))
}
