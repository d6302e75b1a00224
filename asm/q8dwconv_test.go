package asm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

type q8DWCase struct {
	name                           string
	h, w, c, mult, kh, kw          int
	sh, sw, dh, dw, pt, pl, pb, pr int
	extra, wzero                   int
	noBias                         bool
}

func (tc *q8DWCase) conv() *QDepthwiseConv2D {
	sh, sw, dh, dw := max(1, tc.sh), max(1, tc.sw), max(1, tc.dh), max(1, tc.dw)
	oh := max(0, (tc.h+tc.pt+tc.pb-dh*(tc.kh-1)-1)/sh+1)
	ow := max(0, (tc.w+tc.pl+tc.pr-dw*(tc.kw-1)-1)/sw+1)
	return &QDepthwiseConv2D{InH: tc.h, InW: tc.w, C: tc.c, Mult: tc.mult, OutH: oh, OutW: ow, KH: tc.kh, KW: tc.kw,
		StrideH: sh, StrideW: sw, DilH: dh, DilW: dw, PadT: tc.pt, PadL: tc.pl, OutStride: tc.c*tc.mult + tc.extra}
}

var q8DWTable = []q8DWCase{
	{name: "3x3_s1_mnv2", h: 9, w: 10, c: 32, mult: 1, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "3x3_s2_same_tf", h: 9, w: 10, c: 19, mult: 1, kh: 3, kw: 3, sh: 2, sw: 2, pb: 1, pr: 1, wzero: 1},
	{name: "3x3_c_tail_gap", h: 5, w: 6, c: 7, mult: 1, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, extra: 3, wzero: 2},
	{name: "3x3_wide_c", h: 3, w: 4, c: 300, mult: 1, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "mult2", h: 6, w: 5, c: 3, mult: 2, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, wzero: 2},
	{name: "mult8_rgb", h: 5, w: 5, c: 3, mult: 8, kh: 5, kw: 5, sh: 2, sw: 2, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "5x5_dil2", h: 11, w: 12, c: 5, mult: 1, kh: 5, kw: 5, dh: 2, dw: 2, pt: 4, pl: 4, pb: 4, pr: 4},
	{name: "kernel_bigger_than_input", h: 2, w: 2, c: 4, mult: 1, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2, noBias: true},
	{name: "1x1", h: 4, w: 3, c: 9, mult: 1, kh: 1, kw: 1},
}

// q8DWRef is the direct depthwise accumulator in int64.
func q8DWRef(d *QDepthwiseConv2D, x, w []int8, zw, bias []int32) []int64 {
	cm := d.C * d.Mult
	acc := make([]int64, d.OutH*d.OutW*cm)
	for oy := 0; oy < d.OutH; oy++ {
		for ox := 0; ox < d.OutW; ox++ {
			for o := 0; o < cm; o++ {
				var s int64
				if bias != nil {
					s = int64(bias[o])
				}
				for kh := 0; kh < d.KH; kh++ {
					for kw := 0; kw < d.KW; kw++ {
						iy := oy*d.StrideH - d.PadT + kh*d.DilH
						ix := ox*d.StrideW - d.PadL + kw*d.DilW
						if iy < 0 || iy >= d.InH || ix < 0 || ix >= d.InW {
							continue
						}
						s += (int64(x[(iy*d.InW+ix)*d.C+o/d.Mult]) - int64(d.InZero)) *
							(int64(w[(o*d.KH+kh)*d.KW+kw]) - int64(q8ZeroRef(zw, o)))
					}
				}
				acc[(oy*d.OutW+ox)*cm+o] = s
			}
		}
	}
	return acc
}

func runQ8DWCase(t *testing.T, tc q8DWCase, mode Rounding, seed uint64) {
	r := q8Seeded(t, seed)
	d := tc.conv()
	d.InZero = q8Zero(r)
	cm := d.C * d.Mult
	x := q8Rand(r, d.InH*d.InW*d.C, -128, 127)
	w := q8Rand(r, cm*d.KH*d.KW, -128, 127)
	var zw []int32
	switch tc.wzero {
	case 1:
		zw = []int32{q8Zero(r)}
	case 2:
		zw = make([]int32, cm)
		for i := range zw {
			zw[i] = q8Zero(r)
		}
	}
	var bias []int32
	if !tc.noBias {
		bias = make([]int32, cm)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<14) - 1<<13)
		}
	}
	d.Requant = q8RandRequant(r, cm, math.Sqrt(float64(d.KH*d.KW))*150, mode)
	acc := q8DWRef(d, x, w, zw, bias)
	pixels := d.OutH * d.OutW
	want := make([]int8, len(acc))
	for i, a := range acc {
		want[i] = requantRef(&d.Requant, a, i%cm)
	}
	xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
	p := d.Pack(w, zw, bias)
	out := q8OutBuf(pixels, cm, d.OutStride)
	for _, ch := range q8Chunks(r, d.OutH, max(1, d.OutH/3)) {
		d.Run(xin.data(), p, out.data(), ch[0], ch[1])
	}
	requireQ8Out(t, want, out.data(), cm, pixels, d.OutStride, tc.name, func(pi, o int) string {
		return q8Name("(acc %d)", acc[pi*cm+o])
	})
	out.checkGuards(t, "output")
	xin.checkGuards(t, "input")
	require.Equal(t, x, xin.data(), "input modified")
}

func TestQ8DepthwiseTable(t *testing.T) {
	for i, tc := range q8DWTable {
		for _, mode := range q8Roundings {
			t.Run(q8Name("%s/%v", tc.name, mode), func(t *testing.T) { runQ8DWCase(t, tc, mode, uint64(2000+i)) })
		}
	}
}

func randomQ8DWCase(r *rand.Rand) q8DWCase {
	tc := q8DWCase{name: "random", kh: 1 + r.IntN(5), kw: 1 + r.IntN(5), sh: 1 + r.IntN(3), sw: 1 + r.IntN(3),
		dh: 1 + r.IntN(2), dw: 1 + r.IntN(2), mult: []int{1, 1, 1, 2, 3}[r.IntN(5)], extra: r.IntN(3) * r.IntN(3),
		wzero: r.IntN(3), noBias: r.IntN(6) == 0}
	tc.pt, tc.pl, tc.pb, tc.pr = r.IntN(tc.kh), r.IntN(tc.kw), r.IntN(tc.kh), r.IntN(tc.kw)
	tc.h = max(1, tc.dh*(tc.kh-1)+1-tc.pt-tc.pb) + r.IntN(8)
	tc.w = max(1, tc.dw*(tc.kw-1)+1-tc.pl-tc.pr) + r.IntN(8)
	tc.c = 1 + r.IntN(40)
	return tc
}

func TestQ8DepthwiseRandom(t *testing.T) {
	r := q8Seeded(t, 9)
	for i := 0; i < 150; i++ {
		tc := randomQ8DWCase(r)
		mode := q8Roundings[r.IntN(3)]
		seed := uint64(6000 + i)
		t.Run(q8Name("%d", i), func(t *testing.T) { runQ8DWCase(t, tc, mode, seed) })
	}
}
