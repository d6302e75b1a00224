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
	archKernelTests["qs8_qc8w_dwconv3x3_requant_c16__neon_mul8"] = func(t *testing.T, k Kernel) { q8DWNeonCompare(t) }
	archKernelTests["f32_dwconv3x3_minmax_c8__neonfma"] = func(t *testing.T, k Kernel) { f32DWNeonCompare(t) }
}

// dwNeonCase is a 3×3 Mult-1 depthwise geometry.
type dwNeonCase struct {
	name                          string
	h, w, c, s, d, pt, pl, pb, pr int
	extra                         int
}

func (tc dwNeonCase) dims() (oh, ow int) {
	k := 2*tc.d + 1
	return max(0, (tc.h+tc.pt+tc.pb-k)/tc.s+1), max(0, (tc.w+tc.pl+tc.pr-k)/tc.s+1)
}

var dwNeonTable = []dwNeonCase{
	{name: "mnv1_s1", h: 9, w: 10, c: 32, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "mnv1_s2_tf_same", h: 9, w: 10, c: 64, s: 2, d: 1, pb: 1, pr: 1},
	{name: "s2_pad1", h: 8, w: 8, c: 48, s: 2, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "tail_c19", h: 5, w: 6, c: 19, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1, extra: 3},
	{name: "tail_c9", h: 5, w: 6, c: 9, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1, extra: 1},
	{name: "c16_exact", h: 4, w: 4, c: 16, s: 1, d: 1},
	{name: "one_row", h: 1, w: 7, c: 33, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "one_row_s2", h: 1, w: 9, c: 17, s: 2, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "one_pixel", h: 1, w: 1, c: 24, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "dil2_pad2", h: 7, w: 8, c: 20, s: 1, d: 2, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "big_pad", h: 3, w: 3, c: 18, s: 1, d: 1, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "wide_c", h: 3, w: 4, c: 300, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "long_row", h: 3, w: 80, c: 16, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "s2_dil2", h: 9, w: 11, c: 16, s: 2, d: 2, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "odd_run_c33", h: 4, w: 7, c: 33, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "two_px_c17", h: 3, w: 4, c: 17, s: 1, d: 1},
	{name: "one_col", h: 5, w: 1, c: 16, s: 1, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "s1_dil2_c48", h: 6, w: 9, c: 48, s: 1, d: 2, pt: 2, pl: 2, pb: 2, pr: 2, extra: 5},
}

func randomDWNeonCase(r *rand.Rand, minC int) dwNeonCase {
	tc := dwNeonCase{name: "random", s: 1 + r.IntN(2), d: 1 + r.IntN(4)/3, extra: r.IntN(3) * r.IntN(3)}
	k := 2*tc.d + 1
	tc.pt, tc.pl, tc.pb, tc.pr = r.IntN(k), r.IntN(k), r.IntN(k), r.IntN(k)
	tc.h = max(1, k-tc.pt-tc.pb) + r.IntN(6)
	tc.w = max(1, k-tc.pl-tc.pr) + r.IntN(12)
	if r.IntN(6) == 0 {
		tc.h = 1
		tc.pt, tc.pb = max(tc.pt, tc.d), max(tc.pb, tc.d)
	}
	tc.c = minC + r.IntN(60)
	return tc
}

// q8DWNeonCompare checks the NEON int8 body bit for bit against the generic
// one through QDepthwiseConv2D.Run: the table and random geometries, both
// roundings it implements (RoundSingle and weights of −128 must fall back),
// shifts of both signs, zero-point extremes, row chunks, guard bands.
func q8DWNeonCompare(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	r := q8Seeded(t, 505)
	cases := append([]dwNeonCase(nil), dwNeonTable...)
	for i := 0; i < 120; i++ {
		cases = append(cases, randomDWNeonCase(r, 1))
	}
	ran := map[string]int{}
	for ci, tc := range cases {
		oh, ow := tc.dims()
		d := &QDepthwiseConv2D{InH: tc.h, InW: tc.w, C: tc.c, Mult: 1, OutH: oh, OutW: ow, KH: 3, KW: 3,
			StrideH: tc.s, StrideW: tc.s, DilH: tc.d, DilW: tc.d, PadT: tc.pt, PadL: tc.pl, OutStride: tc.c + tc.extra}
		d.InZero = q8Zero(r)
		mode := []Rounding{RoundDouble, RoundUpward, RoundDouble, RoundUpward, RoundSingle}[ci%5]
		d.Requant = q8RandRequant(r, tc.c, 3*150, mode)
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
		x := q8Rand(r, d.InH*d.InW*d.C, -128, 127)
		w := q8Rand(r, d.C*9, lo, hi)
		if lo == -128 {
			w[r.IntN(len(w))] = -128
		}
		bias := make([]int32, d.C)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<16) - 1<<15)
		}
		p := d.Pack(w, zw, bias)
		neon := tc.c >= 8 && lo > -128 && mode != RoundSingle
		require.Equal(t, tc.c >= 8 && lo > -128, p.dwArch != nil, "case %d: int8 weights packed", ci)
		pixels := oh * ow
		xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
		want := q8OutBuf(pixels, d.C, d.OutStride)
		got := q8OutBuf(pixels, d.C, d.OutStride)
		q8DWConvGeneric(d, xin.data(), p, want.data(), 0, oh)
		require.NoError(t, Select(PathNEON))
		for _, ch := range q8Chunks(r, oh, max(1, oh/3)) {
			did := q8DWConvArch(d, xin.data(), p, got.data(), ch[0], ch[1])
			require.Equal(t, neon, did, "case %d: NEON body used", ci)
			if !did {
				d.Run(xin.data(), p, got.data(), ch[0], ch[1])
			}
		}
		if neon {
			ran[fmt.Sprintf("%v/%s", mode, variant)]++
			if variant == "right" && (tc.s == tc.d || tc.s == 2*tc.d) && ow >= 4 {
				ran[fmt.Sprintf("%v/pair%d", mode, tc.s/tc.d)]++ // an interior run of ≥ 2 pixels
			}
			if variant == "right" && d.Requant.Min == -128 && d.Requant.Max == 127 {
				ran[fmt.Sprintf("%v/noclamp", mode)]++
			}
		}
		require.Equal(t, want.data(), got.data(), "case %d %s %+v", ci, tc.name, *d)
		got.checkGuards(t, "output")
		xin.checkGuards(t, "input")
		require.Equal(t, x, xin.data(), "input modified")
	}
	for _, v := range []string{"double/right", "double/left", "upward/right", "upward/left", "double/pair1", "upward/pair1", "double/pair2", "upward/pair2",
		"double/noclamp", "upward/noclamp"} {
		require.NotZero(t, ran[v], "variant %s never ran: %v", v, ran)
	}
}

// TestQ8DWNeonRequantExtremes drives the NEON epilogue with accumulators
// across the whole int32 range (a bias of any value), every shift from −31
// to 31 and multipliers up to 2^31 − 1, bit for bit against the generic
// epilogue: the 3×3 body, and every fifth iteration the K×K one (5×5,
// 16-channel blocks, or 8-channel ones for C < 16). On the dotprod path
// the 3×3 iterations whose shifts are all negative run the SDOT body.
func TestQ8DWNeonRequantExtremes(t *testing.T) {
	for _, path := range []string{PathNEON, PathDotProd} {
		t.Run(path, func(t *testing.T) { q8DWRequantExtremes(t, path) })
	}
}

func q8DWRequantExtremes(t *testing.T, path string) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	if Select(path) != nil {
		t.Skip("path " + path + " not supported")
	}
	r := q8Seeded(t, 77)
	dots := 0
	for it := 0; it < 80; it++ {
		c, k := 16+r.IntN(40), 3
		if it%5 == 4 {
			c, k = 8+r.IntN(30), 5
		}
		d := &QDepthwiseConv2D{InH: 3, InW: 3, C: c, Mult: 1, OutH: 3, OutW: 3, KH: k, KW: k, PadT: k / 2, PadL: k / 2, OutStride: c}
		d.InZero = q8Zero(r)
		lo, hi := q8Clamp(r)
		rq := Requant{OutZero: q8Zero(r), Min: lo, Max: hi, Rounding: []Rounding{RoundDouble, RoundUpward}[it%2]}
		rq.Mult, rq.Shift = make([]int32, c), make([]int32, c)
		for i := range rq.Mult {
			rq.Mult[i] = int32(r.Uint32() >> 1)
			if r.IntN(4) == 0 {
				rq.Mult[i] = math.MaxInt32 - int32(r.IntN(3))
			}
			rq.Shift[i] = int32(r.IntN(63) - 31)
			if it%4 >= 2 {
				rq.Shift[i] = -1 - int32(r.IntN(31))
			}
			if r.IntN(3) == 0 {
				// Small right shifts make rounding ties common.
				rq.Shift[i] = -1 - int32(r.IntN(3))
			}
		}
		d.Requant = rq
		bias := make([]int32, c)
		for i := range bias {
			bias[i] = int32(r.Uint32())
			switch r.IntN(4) {
			case 0:
				bias[i] = []int32{math.MinInt32, math.MaxInt32, -1 << 30, 1 << 30, 0}[r.IntN(5)]
			case 1, 2:
				// An accumulator whose requantised value lands near the
				// int8 range, where rounding differences are visible.
				m, sh := float64(max(1, rq.Mult[i])), float64(rq.Shift[i])
				v := float64(r.IntN(600)-300) * math.Exp2(31-sh) / m
				bias[i] = int32(max(math.MinInt32, min(math.MaxInt32, v)))
			}
		}
		wl := []int{127, 1}[r.IntN(2)] // small weights keep the bias visible
		p := d.Pack(q8Rand(r, k*k*c, -wl, wl), nil, bias)
		if k == 3 && q8DWUsesDot(p, c, q8DWVariant(d)) {
			dots++
		}
		x := q8Rand(r, 9*c, -128, 127)
		want, got := make([]int8, 9*c), make([]int8, 9*c)
		q8DWConvGeneric(d, x, p, want, 0, 3)
		require.True(t, q8DWConvArch(d, x, p, got, 0, 3))
		require.Equal(t, want, got, "iteration %d %+v", it, rq)
	}
	require.Equal(t, path == PathDotProd, dots > 0, "SDOT body iterations: %d", dots)
}

// f32DWNeonCompare checks the NEON float body against the generic one
// within 1e-5 relative through DepthwiseConv2D.RunF32, with guard bands.
func f32DWNeonCompare(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	r := seeded(t, 606)
	cases := append([]dwNeonCase(nil), dwNeonTable...)
	// Stride-2 runs of 4k+0..3 pixels (groups of 4, 2 and one) and
	// stride 2 with dilation 2 (the pair path), several channel blocks.
	cases = append(cases,
		dwNeonCase{name: "s2_long_row", h: 5, w: 40, c: 24, s: 2, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
		dwNeonCase{name: "s2_tf_same_w21", h: 6, w: 21, c: 13, s: 2, d: 1, pb: 1, pr: 1, extra: 2},
		dwNeonCase{name: "s2_w19_c8", h: 4, w: 19, c: 8, s: 2, d: 1, pt: 1, pl: 1, pb: 1, pr: 1},
		dwNeonCase{name: "s2_w17_c41", h: 3, w: 17, c: 41, s: 2, d: 1, pl: 1},
		dwNeonCase{name: "s2_d2", h: 9, w: 22, c: 16, s: 2, d: 2, pt: 2, pl: 2, pb: 2, pr: 2})
	for i := 0; i < 80; i++ {
		cases = append(cases, randomDWNeonCase(r, 1))
	}
	for ci, tc := range cases {
		oh, ow := tc.dims()
		d := &DepthwiseConv2D{InH: tc.h, InW: tc.w, C: tc.c, Mult: 1, OutH: oh, OutW: ow, KH: 3, KW: 3,
			StrideH: tc.s, StrideW: tc.s, DilH: tc.d, DilW: tc.d, PadT: tc.pt, PadL: tc.pl, OutStride: tc.c + tc.extra,
			Clamp: []Clamp{NoClamp(), {0, float32(math.Inf(1))}, {-0.5, 0.5}}[ci%3]}
		x := inputGuarded(randSlice(r, d.InH*d.InW*d.C))
		packed := d.PackF32(randSlice(r, 9*d.C))
		var bias []float32
		if ci%4 != 2 {
			bias = randSlice(r, d.C)
		}
		n := max(0, (oh*ow-1)*d.OutStride+d.C)
		want, got := newGuarded(n, sentinel), newGuarded(n, sentinel)
		dwconvF32Generic(d, x.data(), packed, bias, want.data(), 0, oh)
		require.NoError(t, Select(PathNEON))
		for _, ch := range chunks(r, oh, max(1, oh/3)) {
			require.Equal(t, tc.c >= 8, dwconvF32Arch(d, x.data(), packed, bias, got.data(), ch[0], ch[1]), "case %d", ci)
			if tc.c < 8 {
				d.RunF32(x.data(), packed, bias, got.data(), ch[0], ch[1])
			}
		}
		got.checkGuards(t)
		x.checkGuards(t)
		for i, wv := range want.data() {
			g := got.data()[i]
			if math.Float32bits(wv) == math.Float32bits(g) {
				continue
			}
			require.LessOrEqual(t, math.Abs(float64(wv)-float64(g)), 1e-5*math.Max(1, math.Abs(float64(wv))),
				"case %d %s element %d: generic %v, neon %v", ci, tc.name, i, wv, g)
		}
	}
}

// TestDWNeonNoAlloc checks that Run and RunF32 on the NEON bodies do not
// allocate.
func TestDWNeonNoAlloc(t *testing.T) {
	if Select(PathNEON) != nil {
		t.Skip("no NEON")
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	r := q8Seeded(t, 3)
	d := &QDepthwiseConv2D{InH: 9, InW: 9, C: 40, Mult: 1, OutH: 9, OutW: 9, KH: 3, KW: 3, PadT: 1, PadL: 1, OutStride: 40}
	d.Requant = q8RandRequant(r, 40, 450, RoundDouble)
	p := d.Pack(q8Rand(r, 9*40, -127, 127), nil, nil)
	x, out := q8Rand(r, 9*9*40, -128, 127), make([]int8, 9*9*40)
	require.True(t, q8DWConvArch(d, x, p, out, 0, 9))
	require.Zero(t, testing.AllocsPerRun(10, func() { d.Run(x, p, out, 0, 9) }), "QDepthwiseConv2D")
	f := &DepthwiseConv2D{InH: 9, InW: 9, C: 40, Mult: 1, OutH: 9, OutW: 9, KH: 3, KW: 3, PadT: 1, PadL: 1, OutStride: 40, Clamp: relu6}
	fx, fp, fb, fo := randSlice(rand.New(rand.NewPCG(1, 2)), 9*9*40), f.PackF32(make([]float32, 9*40)), make([]float32, 40), make([]float32, 9*9*40)
	require.True(t, dwconvF32Arch(f, fx, fp, fb, fo, 0, 9))
	require.Zero(t, testing.AllocsPerRun(10, func() { f.RunF32(fx, fp, fb, fo, 0, 9) }), "DepthwiseConv2D")
}

// TestQ8DWNeonRequantReplaced checks that a Requant assigned after Pack
// (new slices, now with left shifts) selects its own requantisation
// variant rather than the one Pack recorded.
func TestQ8DWNeonRequantReplaced(t *testing.T) {
	if Select(PathNEON) != nil {
		t.Skip("no NEON")
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	r := q8Seeded(t, 9)
	c := 20
	d := &QDepthwiseConv2D{InH: 5, InW: 6, C: c, Mult: 1, OutH: 5, OutW: 6, KH: 3, KW: 3, PadT: 1, PadL: 1, OutStride: c}
	d.Requant = q8RandRequant(r, c, 450, RoundDouble)
	p := d.Pack(q8Rand(r, 9*c, -127, 127), nil, nil)
	require.Equal(t, 2, q8DWVariant(d), "every shift < 0")
	rq := q8RandRequant(r, c, 450, RoundDouble)
	for i := range rq.Shift {
		if i%2 == 0 {
			rq.Shift[i] = int32(r.IntN(3))
		}
	}
	d.Requant = rq
	require.Equal(t, 0, q8DWVariant(d), "left shifts after the new Requant")
	x := q8Rand(r, 30*c, -128, 127)
	want, got := make([]int8, 30*c), make([]int8, 30*c)
	q8DWConvGeneric(d, x, p, want, 0, 5)
	d.Run(x, p, got, 0, 5)
	require.Equal(t, want, got)
}
