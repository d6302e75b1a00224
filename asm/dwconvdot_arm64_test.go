//go:build !purego

package asm

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func init() {
	archKernelTests["qs8_qc8w_dwconv3x3_requant_c16__neondot"] = func(t *testing.T, k Kernel) { q8DWDotCompare(t) }
}

// q8DWDotCompare checks the SDOT int8 3×3 body bit for bit against the
// generic one through QDepthwiseConv2D.Run on the dotprod path: the NEON
// body's table, runs of every length modulo 3 for stride 1 and 2 (the
// body's three-pixel loop and its tails, with and without the border
// pixels these runs take), the pair-0 geometries (every
// pixel loads its three columns), and random geometries; both roundings,
// clamps and the int8 clamp (NoClamp variants), zero-point extremes,
// weights of −128 (which only the SDOT body takes), row chunks, guard
// bands. Left shifts and RoundSingle must leave the layer to the NEON or
// generic body.
func q8DWDotCompare(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.NoError(t, Select(PathDotProd))
	r := q8Seeded(t, 919)
	cases := append([]dwNeonCase(nil), dwNeonTable...)
	for w := 3; w <= 11; w++ {
		cases = append(cases,
			dwNeonCase{name: fmt.Sprintf("s1_w%d", w), h: 3, w: w, c: 16 + 3*w, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
			dwNeonCase{name: fmt.Sprintf("s2_w%d", 2*w), h: 4, w: 2 * w, c: 48 - w, s: 2, d: 1, pb: 1, pr: 1, extra: w % 3},
			dwNeonCase{name: fmt.Sprintf("s2_pad1_w%d", 2*w+1), h: 3, w: 2*w + 1, c: 16, s: 2, d: 1, pt: 1, pl: 1, pb: 1, pr: 1})
	}
	for i := 0; i < 150; i++ {
		cases = append(cases, randomDWNeonCase(r, 16))
	}
	ran := map[string]int{}
	for ci, tc := range cases {
		oh, ow := tc.dims()
		d := &QDepthwiseConv2D{InH: tc.h, InW: tc.w, C: tc.c, Mult: 1, OutH: oh, OutW: ow, KH: 3, KW: 3,
			StrideH: tc.s, StrideW: tc.s, DilH: tc.d, DilW: tc.d, PadT: tc.pt, PadL: tc.pl, OutStride: tc.c + tc.extra}
		d.InZero = q8Zero(r)
		mode := []Rounding{RoundDouble, RoundUpward, RoundDouble, RoundUpward, RoundDouble, RoundUpward, RoundSingle}[ci%7]
		d.Requant = q8RandRequant(r, tc.c, 3*150, mode)
		if ci%5 == 2 {
			d.Requant.Min, d.Requant.Max = -128, 127
		}
		left := ci%11 == 4
		if left {
			// One channel with a left shift: the NEON body's variants.
			ch := r.IntN(tc.c)
			d.Requant.Shift[ch] = int32(r.IntN(3))
			d.Requant.Mult[ch] = int32(1<<30 + r.IntN(1<<30))
		}
		lo := int32(-127)
		if ci%3 == 1 {
			lo = -128
		}
		x := q8Rand(r, d.InH*d.InW*d.C, -128, 127)
		w := q8Rand(r, d.C*9, int(lo), 127)
		if lo == -128 {
			for i := 0; i < 1+len(w)/20; i++ {
				w[r.IntN(len(w))] = -128
			}
		}
		bias := make([]int32, d.C)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<16) - 1<<15)
		}
		p := d.Pack(w, nil, bias)
		shape := tc.c >= 16
		require.Equal(t, shape, p.dwDot != nil, "case %d: SDOT weights packed", ci)
		dot := shape && mode != RoundSingle && !left
		if shape && mode != RoundSingle {
			require.Equal(t, dot, q8DWUsesDot(p, d.C, q8DWVariant(d)), "case %d: SDOT body chosen", ci)
		}
		pixels := oh * ow
		xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
		want := q8OutBuf(pixels, d.C, d.OutStride)
		got := q8OutBuf(pixels, d.C, d.OutStride)
		q8DWConvGeneric(d, xin.data(), p, want.data(), 0, oh)
		for _, ch := range q8Chunks(r, oh, max(1, oh/3)) {
			did := q8DWConvArch(d, xin.data(), p, got.data(), ch[0], ch[1])
			if dot {
				require.True(t, did, "case %d: SDOT body used", ci)
			}
			if !did {
				d.Run(xin.data(), p, got.data(), ch[0], ch[1])
			}
		}
		require.Equal(t, want.data(), got.data(), "case %d %s %+v", ci, tc.name, *d)
		got.checkGuards(t, "output")
		xin.checkGuards(t, "input")
		require.Equal(t, x, xin.data(), "input modified")
		if !dot {
			continue
		}
		ran[fmt.Sprint(mode)]++
		if d.Requant.Min == -128 && d.Requant.Max == 127 {
			ran["noclamp"]++
		}
		if lo == -128 {
			ran["w-128"]++
		}
		// The interior run's length modulo 3 in the rolling modes.
		pair := 0
		if tc.s == tc.d {
			pair = 1
		} else if tc.s == 2*tc.d {
			pair = 2
		}
		a := min(ow, ceilDiv(tc.pl, tc.s))
		e := a
		if last := tc.w - 1 - 2*tc.d + tc.pl; last >= 0 {
			e = max(a, min(ow, last/tc.s+1))
		}
		if pair > 0 && e-a > 0 {
			ran[fmt.Sprintf("pair%d/run%d", pair, (e-a)%3)]++
		}
		if pair == 0 && e-a > 1 {
			ran["pair0"]++
		}
		// Border pixels the rolling runs take: left (only kernel column 0
		// in the padding) and right (only column 2).
		if pair > 0 && e > a && a == 1 && tc.pl <= tc.d {
			ran[fmt.Sprintf("pair%d/left", pair)]++
		}
		if pair > 0 && e > a && e == ow-1 && e*tc.s-tc.pl+tc.d < tc.w {
			ran[fmt.Sprintf("pair%d/right", pair)]++
		}
	}
	for _, v := range []string{"double", "upward", "noclamp", "w-128", "pair0", "pair1/left", "pair1/right", "pair2/left", "pair2/right",
		"pair1/run0", "pair1/run1", "pair1/run2", "pair2/run0", "pair2/run1", "pair2/run2"} {
		require.NotZero(t, ran[v], "%s never ran on the SDOT body: %v", v, ran)
	}
}

// TestQ8DWDotArgs pins the dwNeonArgs offsets the SDOT body reads beyond
// the NEON bodies' fields, and checks Kernels lists the SDOT body as
// active exactly on the dotprod path.
func TestQ8DWDotArgs(t *testing.T) {
	var a dwNeonArgs
	require.Equal(t, uintptr(92), unsafe.Offsetof(a.pair))
	require.Equal(t, uintptr(104), unsafe.Offsetof(a.dot))
	require.Equal(t, uintptr(112), unsafe.Offsetof(a.pad))
	require.Equal(t, int16(-0x7f80), q8Splat2(-128)) // 0x8080
	require.Equal(t, int16(0x7f7f), q8Splat2(127))
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	for _, path := range Supported() {
		require.NoError(t, Select(path))
		for _, k := range Kernels() {
			if k.Name == "qs8_qc8w_dwconv3x3_requant_c16__neondot" {
				require.Equal(t, path == PathDotProd, k.Active, "path %s", path)
			}
		}
	}
}
