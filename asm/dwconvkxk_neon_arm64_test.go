//go:build !purego

package asm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	archKernelTests["qs8_qc8w_dwconv_kxk_requant_c16__neon_mul8"] = func(t *testing.T, k Kernel) { q8DWKxKCompare(t) }
}

// dwKxKCase is a Mult-1 depthwise geometry for the K×K body.
type dwKxKCase struct {
	name                   string
	h, w, c                int
	kh, kw, sh, sw, dh, dw int
	pt, pl, pb, pr         int
	extra                  int
}

func (tc dwKxKCase) dims() (oh, ow int) {
	eh, ew := (tc.kh-1)*tc.dh+1, (tc.kw-1)*tc.dw+1
	return max(0, (tc.h+tc.pt+tc.pb-eh)/tc.sh+1), max(0, (tc.w+tc.pl+tc.pr-ew)/tc.sw+1)
}

var dwKxKTable = []dwKxKCase{
	{name: "effnet_5x5_s1", h: 9, w: 10, c: 48, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "effnet_5x5_s2_tf_same", h: 11, w: 10, c: 40, kh: 5, kw: 5, sh: 2, sw: 2, dh: 1, dw: 1, pt: 1, pl: 1, pb: 2, pr: 2},
	{name: "5x5_s2_pad2", h: 8, w: 8, c: 32, kh: 5, kw: 5, sh: 2, sw: 2, dh: 1, dw: 1, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "7x7_s1", h: 9, w: 11, c: 24, kh: 7, kw: 7, sh: 1, sw: 1, dh: 1, dw: 1, pt: 3, pl: 3, pb: 3, pr: 3, extra: 5},
	{name: "7x7_s2_c17", h: 12, w: 9, c: 17, kh: 7, kw: 7, sh: 2, sw: 2, dh: 1, dw: 1, pt: 3, pl: 3, pb: 3, pr: 3},
	{name: "9x9_c16", h: 10, w: 10, c: 16, kh: 9, kw: 9, sh: 1, sw: 1, dh: 1, dw: 1, pt: 4, pl: 4, pb: 4, pr: 4},
	{name: "3x3_c8", h: 6, w: 7, c: 8, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "3x3_c15_s2", h: 7, w: 7, c: 15, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1, extra: 2},
	{name: "3x3_c11_dil2", h: 7, w: 8, c: 11, kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "1x1", h: 4, w: 5, c: 20, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1},
	{name: "2x2_s2", h: 6, w: 6, c: 9, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1},
	{name: "3x5", h: 6, w: 9, c: 33, kh: 3, kw: 5, sh: 1, sw: 2, dh: 1, dw: 1, pt: 1, pl: 2, pb: 1, pr: 2},
	{name: "5x3_dil2", h: 10, w: 6, c: 19, kh: 5, kw: 3, sh: 2, sw: 1, dh: 2, dw: 1, pt: 4, pl: 1, pb: 3, pr: 1},
	{name: "1x7", h: 3, w: 12, c: 10, kh: 1, kw: 7, sh: 1, sw: 1, dh: 1, dw: 1, pl: 3, pr: 3},
	{name: "7x1", h: 12, w: 3, c: 13, kh: 7, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, pt: 3, pb: 3},
	{name: "one_row_5x5", h: 1, w: 9, c: 21, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "one_pixel_7x7", h: 1, w: 1, c: 12, kh: 7, kw: 7, sh: 1, sw: 1, dh: 1, dw: 1, pt: 3, pl: 3, pb: 3, pr: 3},
	{name: "narrow_5x5", h: 5, w: 2, c: 16, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "big_pad_5x5", h: 3, w: 3, c: 18, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 4, pl: 4, pb: 4, pr: 4},
	{name: "wide_c_5x5", h: 4, w: 5, c: 200, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "long_row_5x5", h: 5, w: 90, c: 16, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 2, pb: 2, pr: 2},
}

// randomDWKxKCase draws K in {1, 2, 3, 5, 7} per axis, strides and
// dilations 1–2, paddings up to the window, C in [minC, minC + 40).
func randomDWKxKCase(r *rand.Rand, minC int) dwKxKCase {
	ks := []int{1, 2, 3, 5, 7}
	tc := dwKxKCase{name: "random", kh: ks[r.IntN(len(ks))], kw: ks[r.IntN(len(ks))],
		sh: 1 + r.IntN(2), sw: 1 + r.IntN(2), dh: 1 + r.IntN(4)/3, dw: 1 + r.IntN(4)/3, extra: r.IntN(3) * r.IntN(3)}
	if r.IntN(3) == 0 {
		tc.kw = tc.kh // square, like every TFLite model's
	}
	eh, ew := (tc.kh-1)*tc.dh+1, (tc.kw-1)*tc.dw+1
	tc.pt, tc.pb, tc.pl, tc.pr = r.IntN(eh), r.IntN(eh), r.IntN(ew), r.IntN(ew)
	tc.h = max(1, eh-tc.pt-tc.pb) + r.IntN(6)
	tc.w = max(1, ew-tc.pl-tc.pr) + r.IntN(12)
	if r.IntN(6) == 0 {
		tc.h = 1
		tc.pt, tc.pb = max(tc.pt, (eh-1)/2), max(tc.pb, eh/2)
	}
	tc.c = minC + r.IntN(40)
	return tc
}

// q8DWKxKCompare checks the NEON K×K int8 body bit for bit against the
// generic one through QDepthwiseConv2D.Run: the table and random
// geometries, both roundings it implements (RoundSingle and weights of −128
// must fall back) in both block widths, shifts of both signs, weight and
// zero-point extremes, row chunks in random order, guard bands.
func q8DWKxKCompare(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	r := q8Seeded(t, 5577)
	cases := append([]dwKxKCase(nil), dwKxKTable...)
	for i := 0; i < 200; i++ {
		cases = append(cases, randomDWKxKCase(r, 1+r.IntN(2)*7))
	}
	ran := map[string]int{}
	for ci, tc := range cases {
		oh, ow := tc.dims()
		d := &QDepthwiseConv2D{InH: tc.h, InW: tc.w, C: tc.c, Mult: 1, OutH: oh, OutW: ow, KH: tc.kh, KW: tc.kw,
			StrideH: tc.sh, StrideW: tc.sw, DilH: tc.dh, DilW: tc.dw, PadT: tc.pt, PadL: tc.pl, OutStride: tc.c + tc.extra}
		d.InZero = q8Zero(r)
		mode := []Rounding{RoundDouble, RoundUpward, RoundDouble, RoundUpward, RoundSingle}[ci%5]
		d.Requant = q8RandRequant(r, tc.c, float64(tc.kh*tc.kw)*150/3, mode)
		variant := "right"
		if ci%3 == 1 {
			// Some channels with a left shift or none.
			variant = "left"
			for c := range d.Requant.Shift {
				if r.IntN(3) == 0 {
					d.Requant.Shift[c] = int32(r.IntN(4))
					d.Requant.Mult[c] = int32(1<<30 + r.IntN(1<<30))
				}
			}
		}
		lo, hi := -127, 127
		var zw []int32
		switch ci % 7 {
		case 3:
			lo = -128 // forces the generic body
		case 4:
			zw = []int32{int32(r.IntN(40) - 20)}
			lo, hi = -127+40, 127-40
		}
		taps := tc.kh * tc.kw
		x := q8Rand(r, d.InH*d.InW*d.C, -128, 127)
		w := q8Rand(r, d.C*taps, lo, hi)
		switch {
		case lo == -128:
			w[r.IntN(len(w))] = -128
		case ci%5 == 2 && zw == nil:
			// Weight and input extremes: the int16 pair sums at their limits.
			for i := range w {
				w[i] = []int8{-127, 127}[r.IntN(2)]
			}
			for i := range x {
				x[i] = []int8{-128, 127}[r.IntN(2)]
			}
		}
		bias := make([]int32, d.C)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<16) - 1<<15)
		}
		p := d.Pack(w, zw, bias)
		shape := tc.c >= 8 && !(tc.kh == 3 && tc.kw == 3 && tc.c >= 16)
		neon := shape && lo > -128 && mode != RoundSingle
		pixels := oh * ow
		xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
		want := q8OutBuf(pixels, d.C, d.OutStride)
		got := q8OutBuf(pixels, d.C, d.OutStride)
		q8DWConvGeneric(d, xin.data(), p, want.data(), 0, oh)
		require.NoError(t, Select(PathNEON))
		if shape {
			require.Equal(t, lo > -128, p.dwArch != nil, "case %d: int8 weights packed", ci)
			for _, ch := range q8Chunks(r, oh, max(1, oh/3)) {
				did := q8DWKxKConvArch(d, xin.data(), p, got.data(), ch[0], ch[1])
				require.Equal(t, neon, did, "case %d: NEON K×K body used", ci)
				if !did {
					d.Run(xin.data(), p, got.data(), ch[0], ch[1])
				}
			}
		} else {
			for _, ch := range q8Chunks(r, oh, max(1, oh/3)) {
				d.Run(xin.data(), p, got.data(), ch[0], ch[1])
			}
		}
		if neon {
			bw, _ := q8DWKxKBlock(tc.c)
			ran[fmt.Sprintf("c%d/%v/%s", bw, mode, variant)]++
		}
		require.Equal(t, want.data(), got.data(), "case %d %s %+v", ci, tc.name, *d)
		got.checkGuards(t, "output")
		xin.checkGuards(t, "input")
		require.Equal(t, x, xin.data(), "input modified")
	}
	for _, bw := range []int{16, 8} {
		for _, v := range []string{"double/right", "double/left", "upward/right", "upward/left"} {
			k := fmt.Sprintf("c%d/%s", bw, v)
			require.NotZero(t, ran[k], "variant %s never ran: %v", k, ran)
		}
	}
}

// TestQ8DWKxKDispatch checks which body QDepthwiseConv2D.Run picks on the
// neon path: 3×3 with C ≥ 16 stays on the 3×3 body, every other Mult-1
// geometry with C ≥ 8 runs the K×K body, C < 8 and Mult > 1 the generic one,
// and a QPacked from a narrower input (a shorter InZero row) is refused.
func TestQ8DWKxKDispatch(t *testing.T) {
	if Select(PathNEON) != nil {
		t.Skip("no NEON")
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	r := q8Seeded(t, 11)
	for _, tc := range []struct {
		k, c, mult int
		kxk        bool
	}{{3, 16, 1, false}, {3, 15, 1, true}, {5, 16, 1, true}, {5, 8, 1, true}, {5, 7, 1, false}, {5, 16, 2, false}, {1, 8, 1, true}} {
		cm := tc.c * tc.mult
		d := &QDepthwiseConv2D{InH: 6, InW: 6, C: tc.c, Mult: tc.mult, OutH: 6, OutW: 6, KH: tc.k, KW: tc.k,
			PadT: tc.k / 2, PadL: tc.k / 2, OutStride: cm}
		d.Requant = q8RandRequant(r, cm, 450, RoundDouble)
		p := d.Pack(q8Rand(r, tc.k*tc.k*cm, -127, 127), nil, nil)
		x, out := q8Rand(r, 36*tc.c, -128, 127), make([]int8, 36*cm)
		require.Equal(t, tc.kxk, q8DWKxKConvArch(d, x, p, out, 0, 6), "%+v", tc)
		if tc.kxk {
			wider := *d
			wider.InW, wider.OutW = 7, 7
			require.False(t, q8DWKxKConvArch(&wider, q8Rand(r, 42*tc.c, -128, 127), p, make([]int8, 42*cm), 0, 6),
				"%+v: InZero row too short for InW 7", tc)
		}
	}
}

// TestDWKxKNoAlloc checks that Run on the K×K body does not allocate.
func TestDWKxKNoAlloc(t *testing.T) {
	if Select(PathNEON) != nil {
		t.Skip("no NEON")
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	r := q8Seeded(t, 4)
	for _, c := range []int{40, 12} {
		d := &QDepthwiseConv2D{InH: 9, InW: 9, C: c, Mult: 1, OutH: 9, OutW: 9, KH: 5, KW: 5, PadT: 2, PadL: 2, OutStride: c}
		d.Requant = q8RandRequant(r, c, 1250, RoundDouble)
		p := d.Pack(q8Rand(r, 25*c, -127, 127), nil, nil)
		x, out := q8Rand(r, 81*c, -128, 127), make([]int8, 81*c)
		require.True(t, q8DWKxKConvArch(d, x, p, out, 0, 9))
		require.Zero(t, testing.AllocsPerRun(10, func() { d.Run(x, p, out, 0, 9) }), "C %d", c)
	}
}

// TestQ8DWKxKActive checks that Kernels lists the K×K body as active
// exactly when the 3×3 body is: the neon path runs both.
func TestQ8DWKxKActive(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	for _, path := range Supported() {
		require.NoError(t, Select(path))
		active := map[string]bool{}
		for _, k := range Kernels() {
			active[k.Name] = k.Active
		}
		neon := pathLevel(path) >= pathLevel(PathNEON)
		require.Equal(t, neon, active["qs8_qc8w_dwconv3x3_requant_c16__neon_mul8"], "path %s", path)
		require.Equal(t, neon, active["qs8_qc8w_dwconv_kxk_requant_c16__neon_mul8"], "path %s", path)
		require.Equal(t, !neon, active["qs8_qc8w_dwconv_requant__scalar"], "path %s", path)
	}
}
