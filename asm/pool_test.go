package asm

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

type poolCase struct {
	name                  string
	h, w, c, kh, kw       int
	sh, sw, dh, dw        int
	pt, pl, pb, pr, extra int
	ceil                  bool
}

func (tc poolCase) String() string {
	return fmt.Sprintf("%s/%dx%dx%d_k%dx%d_s%dx%d_d%dx%d_p%d,%d,%d,%d_x%d_ceil%v", tc.name, tc.h, tc.w, tc.c,
		tc.kh, tc.kw, tc.sh, tc.sw, tc.dh, tc.dw, tc.pt, tc.pl, tc.pb, tc.pr, tc.extra, tc.ceil)
}

var poolTable = []poolCase{
	{name: "2x2_s2", h: 8, w: 8, c: 5, kh: 2, kw: 2, sh: 2, sw: 2},
	{name: "2x2_s2_odd", h: 7, w: 9, c: 3, kh: 2, kw: 2, sh: 2, sw: 2},
	{name: "2x2_s2_odd_ceil", h: 7, w: 9, c: 3, kh: 2, kw: 2, sh: 2, sw: 2, ceil: true},
	{name: "3x3_s2_ceil_alexnet", h: 13, w: 13, c: 6, kh: 3, kw: 3, sh: 2, sw: 2, ceil: true},
	{name: "3x3_s2_ceil_googlenet", h: 14, w: 14, c: 4, kh: 3, kw: 3, sh: 2, sw: 2, ceil: true, extra: 2},
	{name: "3x3_s2_p1_resnet", h: 12, w: 11, c: 7, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "3x3_s1_p1", h: 6, w: 5, c: 9, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "3x3_s2_p1_ceil", h: 10, w: 10, c: 3, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1, ceil: true},
	{name: "asym_pad_ceil", h: 9, w: 8, c: 2, kh: 3, kw: 2, sh: 2, sw: 3, pt: 0, pl: 1, pb: 2, pr: 0, ceil: true},
	{name: "dil2", h: 11, w: 10, c: 4, kh: 3, kw: 3, dh: 2, dw: 2, pt: 1, pl: 2, pb: 2, pr: 1},
	{name: "dil3_ceil", h: 12, w: 13, c: 3, kh: 2, kw: 3, sh: 2, sw: 2, dh: 3, dw: 2, pt: 1, pl: 1, pb: 1, pr: 1, ceil: true},
	{name: "7x7_global_like", h: 7, w: 7, c: 8, kh: 7, kw: 7},
	{name: "1row", h: 1, w: 9, c: 5, kh: 1, kw: 3, sw: 2, pl: 1, pr: 1, ceil: true},
	{name: "1x1_s2", h: 5, w: 5, c: 3, kh: 1, kw: 1, sh: 2, sw: 2},
	{name: "big_pad", h: 3, w: 3, c: 2, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2, sh: 2, sw: 2, ceil: true},
}

func (tc *poolCase) normalise() {
	for _, p := range []*int{&tc.sh, &tc.sw, &tc.dh, &tc.dw} {
		if *p == 0 {
			*p = 1
		}
	}
}

func runPoolCase(t *testing.T, tc poolCase, avg, includePad bool, seed uint64) {
	r := seeded(t, seed)
	tc.normalise()
	oh := outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, tc.ceil)
	ow := outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, tc.ceil)
	x := randSlice(r, tc.h*tc.w*tc.c)
	p := &Pool2D{InH: tc.h, InW: tc.w, C: tc.c, OutH: oh, OutW: ow, KH: tc.kh, KW: tc.kw,
		StrideH: tc.sh, StrideW: tc.sw, DilH: tc.dh, DilW: tc.dw, PadT: tc.pt, PadL: tc.pl, PadB: tc.pb, PadR: tc.pr,
		CountIncludePad: includePad, OutStride: tc.c + tc.extra}
	ref := poolRef(nchwFromNHWC(x, tc.h, tc.w, tc.c), tc.c, tc.h, tc.w, tc.kh, tc.kw, tc.sh, tc.sw, tc.dh, tc.dw,
		tc.pt, tc.pl, tc.pb, tc.pr, oh, ow, avg, includePad)
	in := inputGuarded(x)
	out := newGuarded(outLen(oh*ow, tc.c, p.OutStride), sentinel)
	for _, ch := range chunks(r, oh, 1+r.IntN(3)) {
		if avg {
			p.AvgF32(in.data(), out.data(), ch[0], ch[1])
		} else {
			p.MaxF32(in.data(), out.data(), ch[0], ch[1])
		}
	}
	requireNHWCClose(t, ref, out.data(), tc.c, oh, ow, p.OutStride, tc.String())
	out.checkGuards(t)
	in.checkGuards(t)
	requireUnchanged(t, "in", x, in.data())
}

func TestPool2DTable(t *testing.T) {
	for i, tc := range poolTable {
		t.Run("max/"+tc.String(), func(t *testing.T) { runPoolCase(t, tc, false, false, uint64(i)) })
		t.Run("avg/"+tc.String(), func(t *testing.T) { runPoolCase(t, tc, true, false, uint64(i)) })
		t.Run("avg_incpad/"+tc.String(), func(t *testing.T) { runPoolCase(t, tc, true, true, uint64(i)) })
	}
}

func TestPool2DRandom(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 40
	}
	for i := 0; i < n; i++ {
		seed := uint64(20000 + i)
		r := seeded(t, seed)
		var tc poolCase
		for {
			tc = poolCase{name: "random", h: 1 + r.IntN(12), w: 1 + r.IntN(12), c: 1 + r.IntN(9),
				kh: 1 + r.IntN(5), kw: 1 + r.IntN(5), sh: 1 + r.IntN(3), sw: 1 + r.IntN(3),
				dh: 1 + r.IntN(2), dw: 1 + r.IntN(2), extra: r.IntN(2) * r.IntN(3), ceil: r.IntN(2) == 0}
			// ONNX requires pads smaller than the kernel.
			tc.pt, tc.pl, tc.pb, tc.pr = r.IntN(tc.kh), r.IntN(tc.kw), r.IntN(tc.kh), r.IntN(tc.kw)
			tc.normalise()
			if outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, tc.ceil) > 0 && outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, tc.ceil) > 0 {
				break
			}
		}
		t.Run(fmt.Sprintf("%d/max/%s", seed, tc), func(t *testing.T) { runPoolCase(t, tc, false, false, seed) })
		t.Run(fmt.Sprintf("%d/avg/%s", seed, tc), func(t *testing.T) { runPoolCase(t, tc, true, false, seed) })
		t.Run(fmt.Sprintf("%d/avg_incpad/%s", seed, tc), func(t *testing.T) { runPoolCase(t, tc, true, true, seed) })
	}
}

// TestPool2DCountIncludePadCeil pins the divisor rule on a hand-derived case:
// a 3×3 input of ones, 2×2 windows, stride 2, pad 1 on the left/top only,
// ceil mode. The windows are rows/cols {-1,0} and {1,2}; window (1,1) covers
// rows 1–2, cols 1–2, all valid.
func TestPool2DCountIncludePadCeil(t *testing.T) {
	ones := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	p := &Pool2D{InH: 3, InW: 3, C: 1, OutH: 2, OutW: 2, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1,
		PadT: 1, PadL: 1, CountIncludePad: true, OutStride: 1}
	out := make([]float32, 4)
	p.AvgF32(ones, out, 0, 2)
	// (0,0): 1 valid of 4 padded positions; (0,1), (1,0): 2 valid of 4; (1,1): 4 of 4.
	require.Equal(t, []float32{0.25, 0.5, 0.5, 1}, out)
	p.CountIncludePad = false
	p.AvgF32(ones, out, 0, 2)
	require.Equal(t, []float32{1, 1, 1, 1}, out)
	// With no bottom/right pads, positions past the input that ceil mode
	// adds are not counted even with CountIncludePad: a 3×3 input, 2×2 window,
	// stride 2, no pads, ceil → windows {0,1} and {2,3}; window (1,1) has one
	// valid position and one padded-extent position.
	p = &Pool2D{InH: 3, InW: 3, C: 1, OutH: 2, OutW: 2, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1,
		CountIncludePad: true, OutStride: 1}
	p.AvgF32(ones, out, 0, 2)
	require.Equal(t, []float32{1, 1, 1, 1}, out)
}

func TestGlobalPool(t *testing.T) {
	r := seeded(t, 77)
	for _, tc := range []struct{ hw, c int }{{1, 1}, {49, 13}, {3, 64}, {196, 130}, {0, 5}} {
		x := randSlice(r, tc.hw*tc.c)
		in := inputGuarded(x)
		avg := newGuarded(tc.c, sentinel)
		mx := newGuarded(tc.c, sentinel)
		for c0 := 0; c0 < tc.c; {
			c1 := min(tc.c, c0+1+r.IntN(40))
			GlobalAvgPoolF32(in.data(), tc.hw, tc.c, avg.data(), c0, c1)
			GlobalMaxPoolF32(in.data(), tc.hw, tc.c, mx.data(), c0, c1)
			c0 = c1
		}
		for ch := 0; ch < tc.c; ch++ {
			s, m := 0.0, math.Inf(-1)
			for p := 0; p < tc.hw; p++ {
				v := float64(x[p*tc.c+ch])
				s += v
				m = math.Max(m, v)
			}
			if tc.hw > 0 {
				s /= float64(tc.hw)
			}
			require.InDelta(t, s, float64(avg.data()[ch]), 1e-5, "avg %+v ch %d", tc, ch)
			require.Equal(t, float32(m), mx.data()[ch], "max %+v ch %d", tc, ch)
		}
		avg.checkGuards(t)
		mx.checkGuards(t)
		requireUnchanged(t, "in", x, in.data())
	}
}
