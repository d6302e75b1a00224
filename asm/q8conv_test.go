package asm

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// q8ConvCase is one QConv2D geometry plus its quantisation choices.
type q8ConvCase struct {
	name                  string
	h, w, c, o, kh, kw    int
	sh, sw, dh, dw        int
	pt, pl, pb, pr, group int
	extra                 int  // OutStride − OutC
	wzero                 int  // 0: none, 1: per-tensor, 2: per-channel
	noBias                bool // nil bias
}

func (tc *q8ConvCase) conv() *QConv2D {
	sh, sw, dh, dw, g := max(1, tc.sh), max(1, tc.sw), max(1, tc.dh), max(1, tc.dw), max(1, tc.group)
	oh := max(0, (tc.h+tc.pt+tc.pb-dh*(tc.kh-1)-1)/sh+1)
	ow := max(0, (tc.w+tc.pl+tc.pr-dw*(tc.kw-1)-1)/sw+1)
	return &QConv2D{InH: tc.h, InW: tc.w, InC: tc.c, OutH: oh, OutW: ow, OutC: tc.o, KH: tc.kh, KW: tc.kw,
		StrideH: sh, StrideW: sw, DilH: dh, DilW: dw, PadT: tc.pt, PadL: tc.pl, Groups: g, OutStride: tc.o + tc.extra}
}

// q8ConvTable is the hand-picked grid; it only grows.
var q8ConvTable = []q8ConvCase{
	{name: "1x1_direct", h: 5, w: 7, c: 13, o: 9, kh: 1, kw: 1},
	{name: "1x1_direct_gap_wzero", h: 3, w: 3, c: 8, o: 5, kh: 1, kw: 1, extra: 3, wzero: 1},
	{name: "1x1_direct_g2", h: 4, w: 5, c: 6, o: 10, kh: 1, kw: 1, group: 2},
	{name: "1x1_direct_deep", h: 3, w: 3, c: 1031, o: 17, kh: 1, kw: 1, wzero: 2},
	{name: "1x1_1px", h: 1, w: 1, c: 7, o: 3, kh: 1, kw: 1},
	{name: "1x1_stride2", h: 7, w: 8, c: 5, o: 6, kh: 1, kw: 1, sh: 2, sw: 2},
	{name: "1x1_pad", h: 3, w: 4, c: 3, o: 4, kh: 1, kw: 1, pt: 1, pl: 1, pb: 1, pr: 1, wzero: 1},
	{name: "3x3_rgb", h: 9, w: 11, c: 3, o: 5, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "3x3_tails", h: 6, w: 7, c: 17, o: 11, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, wzero: 2},
	{name: "3x3_s2_same_tf", h: 9, w: 10, c: 6, o: 7, kh: 3, kw: 3, sh: 2, sw: 2, pb: 1, pr: 1},
	{name: "3x3_g4_gap", h: 6, w: 5, c: 8, o: 12, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, group: 4, extra: 5, wzero: 1},
	{name: "3x3_s3", h: 10, w: 11, c: 4, o: 4, kh: 3, kw: 3, sh: 3, sw: 3},
	{name: "5x5_dil2", h: 12, w: 11, c: 5, o: 6, kh: 5, kw: 5, dh: 2, dw: 2, pt: 4, pl: 4, pb: 4, pr: 4},
	{name: "7x7_s2_stem", h: 15, w: 14, c: 3, o: 8, kh: 7, kw: 7, sh: 2, sw: 2, pt: 3, pl: 3, pb: 3, pr: 3},
	{name: "1x7", h: 7, w: 9, c: 6, o: 5, kh: 1, kw: 7, pl: 3, pr: 3},
	{name: "asym_pad", h: 7, w: 6, c: 5, o: 9, kh: 3, kw: 2, pt: 2, pr: 3, extra: 1},
	{name: "kernel_bigger_than_input", h: 2, w: 3, c: 3, o: 4, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "nobias", h: 5, w: 5, c: 4, o: 5, kh: 3, kw: 3, noBias: true, wzero: 2},
	{name: "wide_out", h: 4, w: 4, c: 9, o: 67, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "3x3_run30", h: 7, w: 8, c: 10, o: 6, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}, // KW·InC = 30: copyWindows8to32's 4 moves
	{name: "4x4_run32", h: 6, w: 9, c: 8, o: 5, kh: 4, kw: 4, sh: 2, sw: 1, pt: 1, pl: 2, pb: 2, pr: 1},
}

// TestCopyWindows8to32 checks the im2col window copy against copy() for
// every run length it takes, one and several windows, with the bytes
// around the destination untouched.
func TestCopyWindows8to32(t *testing.T) {
	r := q8Seeded(t, 7)
	for run := 8; run <= 32; run++ {
		for _, rows := range []int{1, 2, 7} {
			for _, npix := range []int{1, 3} {
				step := run + r.IntN(9)
				pstep := 1 + r.IntN(2*run)
				src := q8Rand(r, (npix-1)*pstep+(rows-1)*step+run, -128, 127)
				dst := q8Rand(r, npix*rows*run+16, -128, 127)
				want := append([]int8(nil), dst...)
				for p := 0; p < npix; p++ {
					for i := 0; i < rows; i++ {
						at := 8 + (p*rows+i)*run
						copy(want[at:at+run], src[p*pstep+i*step:p*pstep+i*step+run])
					}
				}
				copyWindows8to32(dst[8:8+npix*rows*run], src, run, rows, step, npix, pstep)
				require.Equal(t, want, dst, "run %d rows %d step %d, %d windows %d apart", run, rows, step, npix, pstep)
			}
		}
	}
	require.Panics(t, func() { copyWindows8to32(make([]int8, 64), make([]int8, 64), 33, 1, 33, 1, 0) })
	require.Panics(t, func() { copyWindows8to32(make([]int8, 64), make([]int8, 64), 7, 1, 7, 1, 0) })
	require.Panics(t, func() { copyWindows8to32(make([]int8, 64), make([]int8, 64), 8, 1, 8, 0, 8) })
}

// runQ8ConvCase checks one case for one tiling and rounding: random data,
// the kernel over shuffled tiles against q8ConvRef and TFLite's
// requantisation, the int64 accumulator against the float64 convolution of
// the dequantised tensors, guards, gaps and read-only inputs.
func runQ8ConvCase(t *testing.T, tc q8ConvCase, mr int, mode Rounding, seed uint64) {
	r := q8Seeded(t, seed)
	c := tc.conv()
	c.mr = mr
	c.InZero = q8Zero(r)
	cg := c.InC / c.Groups
	x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
	w := q8Rand(r, c.OutC*cg*c.KH*c.KW, -128, 127)
	var zw []int32
	switch tc.wzero {
	case 1:
		zw = []int32{q8Zero(r)}
	case 2:
		zw = make([]int32, c.OutC)
		for i := range zw {
			zw[i] = q8Zero(r)
		}
	}
	var bias []int32
	if !tc.noBias {
		bias = make([]int32, c.OutC)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<16) - 1<<15)
		}
	}
	k := c.KH * c.KW * cg
	c.Requant = q8RandRequant(r, c.OutC, math.Sqrt(float64(k))*150, mode)

	acc := q8ConvRef(c, x, w, zw, bias)
	// The accumulator is the real convolution of the dequantised tensors
	// (padding as real 0) on the scale inScale·wScale, bias included.
	wScale := make([]float64, c.OutC)
	for i := range wScale {
		wScale[i] = 0.5 + float64(i%7)*0.25
	}
	real := q8ConvRealRef(c, x, w, zw, 0.03, wScale)
	for i, a := range acc {
		o := i % c.OutC
		var b float64
		if bias != nil {
			b = float64(bias[o])
		}
		require.InDelta(t, real[i], 0.03*wScale[o]*float64(a-int64(b)), 1e-9*(1+math.Abs(real[i])), "accumulator %d", i)
	}
	pixels := c.OutH * c.OutW
	want := make([]int8, pixels*c.OutC)
	for i, a := range acc {
		want[i] = requantRef(&c.Requant, a, i%c.OutC)
	}

	xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
	p := c.Pack(w, zw, bias)
	out := q8OutBuf(pixels, c.OutC, c.OutStride)
	scratch := make([]byte, c.ScratchBytes())
	for _, ch := range q8Chunks(r, pixels, c.TilePixels()) {
		c.Run(xin.data(), p, out.data(), scratch, ch[0], ch[1])
	}
	requireQ8Out(t, want, out.data(), c.OutC, pixels, c.OutStride, tc.name, func(pi, o int) string {
		return q8Name("(acc %d, mult %d shift %d, zo %d, clamp [%d,%d])", acc[pi*c.OutC+o], c.Requant.Mult[o], c.Requant.Shift[o], c.Requant.OutZero, c.Requant.Min, c.Requant.Max)
	})
	out.checkGuards(t, "output")
	xin.checkGuards(t, "input")
	require.Equal(t, x, xin.data(), "input modified")
}

func TestQ8ConvTable(t *testing.T) {
	for i, tc := range q8ConvTable {
		for _, mr := range []int{1, 2, 4} {
			for _, mode := range q8Roundings {
				t.Run(q8Name("%s/mr%d/%v", tc.name, mr, mode), func(t *testing.T) {
					runQ8ConvCase(t, tc, mr, mode, uint64(1000+i))
				})
			}
		}
	}
}

// randomQ8ConvCase draws a geometry with odd sizes, tails, strides,
// dilations, paddings and groups.
func randomQ8ConvCase(r *rand.Rand) q8ConvCase {
	tc := q8ConvCase{name: "random", kh: 1 + r.IntN(5), kw: 1 + r.IntN(5), sh: 1 + r.IntN(3), sw: 1 + r.IntN(3),
		dh: 1 + r.IntN(2), dw: 1 + r.IntN(2), group: []int{1, 1, 1, 2, 3}[r.IntN(5)], extra: r.IntN(3) * r.IntN(4),
		wzero: r.IntN(3), noBias: r.IntN(6) == 0}
	if r.IntN(3) == 0 {
		tc.kh, tc.kw, tc.sh, tc.sw, tc.dh, tc.dw = 1, 1, 1, 1, 1, 1
	}
	tc.pt, tc.pl, tc.pb, tc.pr = r.IntN(tc.kh), r.IntN(tc.kw), r.IntN(tc.kh), r.IntN(tc.kw)
	tc.h = max(1, tc.dh*(tc.kh-1)+1-tc.pt-tc.pb) + r.IntN(9)
	tc.w = max(1, tc.dw*(tc.kw-1)+1-tc.pl-tc.pr) + r.IntN(9)
	tc.c = tc.group * (1 + r.IntN(23))
	tc.o = tc.group * (1 + r.IntN(21))
	return tc
}

func TestQ8ConvRandom(t *testing.T) {
	r := q8Seeded(t, 7)
	for i := 0; i < 150; i++ {
		tc := randomQ8ConvCase(r)
		mr := []int{1, 2, 4}[i%3]
		mode := q8Roundings[r.IntN(3)]
		seed := uint64(5000 + i)
		t.Run(q8Name("%d", i), func(t *testing.T) { runQ8ConvCase(t, tc, mr, mode, seed) })
	}
}

// TestQ8ConvConcurrent runs disjoint tiles on goroutines with separate
// scratch (run with -race).
func TestQ8ConvConcurrent(t *testing.T) {
	r := q8Seeded(t, 8)
	c := (&q8ConvCase{h: 17, w: 15, c: 24, o: 19, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
	c.InZero = -7
	c.Requant = q8RandRequant(r, c.OutC, 200, RoundDouble)
	x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
	p := c.Pack(q8Rand(r, c.OutC*c.InC*9, -128, 127), nil, nil)
	pixels, tile := c.OutH*c.OutW, c.TilePixels()
	want := make([]int8, pixels*c.OutStride)
	scratch := make([]byte, c.ScratchBytes())
	for p0 := 0; p0 < pixels; p0 += tile {
		c.Run(x, p, want, scratch, p0, min(pixels, p0+tile))
	}
	got := make([]int8, len(want))
	var wg sync.WaitGroup
	for p0 := 0; p0 < pixels; p0 += tile {
		wg.Add(1)
		go func(p0 int) {
			defer wg.Done()
			c.Run(x, p, got, make([]byte, c.ScratchBytes()), p0, min(pixels, p0+tile))
		}(p0)
	}
	wg.Wait()
	require.Equal(t, want, got)
}

// TestQ8ConvPaddingIsRealZero pins the padding semantics with a hand
// example: a 1×1 input x = 10 with zero point 10 (real 0) under a 3×3 kernel
// of ones with zero padding 1 gives acc = bias only; with x = 12 it gives
// bias + 2 (one valid tap), never 9·(pad − zx) terms.
func TestQ8ConvPaddingIsRealZero(t *testing.T) {
	c := &QConv2D{InH: 1, InW: 1, InC: 1, OutH: 1, OutW: 1, OutC: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, PadT: 1, PadL: 1, Groups: 1, OutStride: 1, InZero: 10}
	c.Requant = Requant{Mult: []int32{1 << 30}, Shift: []int32{1}, OutZero: 0, Min: -128, Max: 127} // ×1
	w := []int8{1, 1, 1, 1, 1, 1, 1, 1, 1}
	p := c.Pack(w, nil, []int32{5})
	out := []int8{0}
	c.Run([]int8{10}, p, out, make([]byte, c.ScratchBytes()), 0, 1)
	require.Equal(t, int8(5), out[0])
	c.Run([]int8{12}, p, out, make([]byte, c.ScratchBytes()), 0, 1)
	require.Equal(t, int8(7), out[0])
	// Weight zero point 3: every weight is real −2, so x = 12 gives 5 − 4.
	p = c.Pack([]int8{1, 1, 1, 1, 1, 1, 1, 1, 1}, []int32{3}, []int32{5})
	c.Run([]int8{12}, p, out, make([]byte, c.ScratchBytes()), 0, 1)
	require.Equal(t, int8(1), out[0])
}

func TestQ8ConvTilePixels(t *testing.T) {
	for _, tc := range q8ConvTable {
		c := tc.conv()
		tp := c.TilePixels()
		require.GreaterOrEqual(t, tp, 1, tc.name)
		require.LessOrEqual(t, tp, max(1, c.OutH*c.OutW), tc.name)
	}
}
