//go:build !purego

package asm

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// winoTransformsCompare checks winoF32InAvx2 / winoF32OutAvx2 (through
// winoF32In / winoF32Out, which add the Go tails) against winoF32InRef /
// winoF32OutRef bit for bit, over random channel counts (tails 0..7),
// tile counts, strides, clamps, bias or none and every store mask, with
// guard bands around V and the output.
func winoTransformsCompare(t *testing.T) {
	r := seeded(t, 41)
	for it := 0; it < 60; it++ {
		C := 1 + r.IntN(70)
		tiles := 1 + r.IntN(9)
		rs := (2*tiles+2)*C + r.IntN(3)*C
		src := inputGuarded(randSlice(r, 3*rs+(2*tiles+2)*C))
		vps := tiles*C + r.IntN(5)
		want := newGuarded(16*vps, sentinel)
		got := newGuarded(16*vps, sentinel)
		winoF32InRef(0, C, src.data(), rs, C, tiles, want.data(), vps)
		winoF32In(C, src.data(), rs, tiles, got.data(), vps)
		name := fmt.Sprintf("in C %d tiles %d rs %d vps %d", C, tiles, rs, vps)
		requireSameBits(t, name, want.buf, got.buf)
		src.checkGuards(t)

		N := C
		mps := tiles*N + r.IntN(5)
		m := inputGuarded(randSlice(r, 16*mps))
		os := N + r.IntN(3)
		orow := 2*tiles*os + r.IntN(3)
		rows, cols := 1+r.IntN(2), 1+r.IntN(2)
		var bias []float32
		if r.IntN(2) == 0 {
			bias = randSlice(r, N)
		}
		cl := []Clamp{NoClamp(), relu6, {Min: 0, Max: float32(math.Inf(1))}}[r.IntN(3)]
		wantO := newGuarded(2*orow, sentinel)
		gotO := newGuarded(2*orow, sentinel)
		winoF32OutRef(0, N, m.data(), mps, N, tiles, wantO.data(), os, orow, bias, cl, rows, cols)
		b := bias
		if b == nil {
			b = make([]float32, N)
		}
		winoF32Out(N, m.data(), mps, tiles, gotO.data(), os, orow, b, cl, rows, cols)
		name = fmt.Sprintf("out N %d tiles %d rows %d cols %d os %d orow %d", N, tiles, rows, cols, os, orow)
		requireSameBits(t, name, wantO.buf, gotO.buf)
		m.checkGuards(t)
	}
}

// winoCase is a Conv2D 3×3 stride-1 geometry of the Winograd tests.
type winoCase struct{ h, w, c, o, pt, pl, pb, pr int }

// winoCases: ResNet shapes scaled down, odd sizes (an odd last row and
// column per tile), paddings 0..2 per side, 1-pixel and 1-row images,
// channel tails, and the smallest channel counts.
var winoCases = []winoCase{
	{14, 14, 64, 64, 1, 1, 1, 1}, {13, 11, 33, 37, 1, 1, 1, 1}, {9, 10, 8, 8, 0, 0, 0, 0},
	{7, 9, 40, 17, 2, 0, 1, 2}, {1, 1, 16, 24, 1, 1, 1, 1}, {1, 9, 12, 9, 1, 1, 1, 1},
	{3, 3, 9, 11, 0, 0, 0, 0}, {12, 12, 200, 96, 1, 1, 1, 1}, {17, 5, 48, 56, 2, 2, 2, 2},
	{6, 30, 25, 19, 1, 0, 0, 1}, {10, 10, 300, 72, 1, 1, 1, 1}, {6, 7, 3, 5, 1, 1, 1, 1},
}

// winoConvCompare runs each case's Winograd Conv2D (winoF32MinC lowered to
// 1) over the runtime's aligned TilePixels ranges and over random ranges
// (unaligned ones run the direct path), against the float64 reference with
// the usual 1e-5-of-max tolerance, with guard bands, then checks that the
// packed weights, bias and input were not changed.
func winoConvCompare(t *testing.T, path string) {
	r := seeded(t, 43)
	saved := winoF32MinC
	t.Cleanup(func() { winoF32MinC = saved })
	winoF32MinC = 1
	require.NoError(t, Select(path))
	cases := append([]winoCase(nil), winoCases...)
	for i := 0; i < 12; i++ {
		cases = append(cases, winoCase{1 + r.IntN(20), 1 + r.IntN(20), 8 + r.IntN(90), 8 + r.IntN(90),
			r.IntN(3), r.IntN(3), r.IntN(3), r.IntN(3)})
	}
	for _, tc := range cases {
		oh, ow := tc.h+tc.pt+tc.pb-2, tc.w+tc.pl+tc.pr-2
		if oh < 1 || ow < 1 {
			continue
		}
		for _, random := range []bool{false, true} {
			cv := &Conv2D{InH: tc.h, InW: tc.w, InC: tc.c, OutH: oh, OutW: ow, OutC: tc.o, KH: 3, KW: 3,
				StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: tc.pt, PadL: tc.pl, Groups: 1,
				OutStride: tc.o + r.IntN(3), Clamp: []Clamp{NoClamp(), relu6}[r.IntN(2)]}
			x := randSlice(r, tc.h*tc.w*tc.c)
			wt := randSlice(r, tc.o*tc.c*9)
			var bias []float32
			if r.IntN(3) != 0 {
				bias = randSlice(r, tc.o)
			}
			packed := cv.PackF32(wt)
			name := fmt.Sprintf("%+v random %v", tc, random)
			require.Equal(t, oh*ow > 64 || tc.o < 32, cv.wino, name)
			if !cv.wino {
				continue
			}
			packedCopy := append([]float32(nil), packed...)
			ref := convRef(nchwFromNHWC(x, tc.h, tc.w, tc.c), tc.c, tc.h, tc.w, wt, tc.o, 3, 3, bias,
				1, 1, 1, 1, tc.pt, tc.pl, oh, ow, 1, float64(cv.Clamp.Min), float64(cv.Clamp.Max))
			in := inputGuarded(x)
			var biasIn []float32
			if bias != nil {
				biasIn = inputGuarded(bias).data()
			}
			out := newGuarded(outLen(oh*ow, tc.o, cv.OutStride), sentinel)
			scratch := newGuarded(cv.ScratchF32(), 0)
			tile := cv.TilePixels()
			require.Zero(t, tile%(2*ow) != 0 && tile != oh*ow, name)
			var ranges [][2]int
			if random {
				ranges = chunks(r, oh*ow, tile)
			} else {
				for p0 := 0; p0 < oh*ow; p0 += tile {
					ranges = append(ranges, [2]int{p0, min(p0+tile, oh*ow)})
				}
			}
			for _, ch := range ranges {
				cv.RunF32(in.data(), packed, biasIn, out.data(), scratch.data(), ch[0], ch[1])
			}
			requireNHWCClose(t, ref, out.data(), tc.o, oh, ow, cv.OutStride, name)
			out.checkGuards(t)
			scratch.checkGuards(t)
			in.checkGuards(t)
			requireUnchanged(t, "in", x, in.data())
			requireUnchanged(t, "packed", packedCopy, packed)
			if bias != nil {
				requireUnchanged(t, "bias", bias, biasIn)
			}
		}
	}
}

// winoRefusals: geometries the Winograd path must leave to the direct one,
// and ranges convWinoF32 must refuse (not whole row pairs, scratch too
// small).
func winoRefusals(t *testing.T, path string) {
	require.NoError(t, Select(path))
	base := Conv2D{InH: 16, InW: 16, InC: 64, OutH: 16, OutW: 16, OutC: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, PadT: 1, PadL: 1, Groups: 1, OutStride: 64, Clamp: NoClamp()}
	w := make([]float32, 64*64*25)
	for _, tc := range []struct {
		name string
		edit func(c *Conv2D)
		want bool
	}{
		{"base", func(*Conv2D) {}, true},
		{"stride 2", func(c *Conv2D) { c.StrideH, c.StrideW, c.OutH, c.OutW = 2, 2, 8, 8 }, false},
		{"stride h 2", func(c *Conv2D) { c.StrideH, c.OutH = 2, 8 }, false},
		{"dilation", func(c *Conv2D) { c.DilH, c.DilW, c.PadT, c.PadL = 2, 2, 2, 2 }, false},
		{"groups", func(c *Conv2D) { c.Groups = 2 }, false},
		{"5×5", func(c *Conv2D) { c.KH, c.KW, c.PadT, c.PadL = 5, 5, 2, 2 }, false},
		{"3×1", func(c *Conv2D) { c.KW, c.PadL = 1, 0 }, false},
		{"few channels", func(c *Conv2D) { c.InC = winoF32MinC - 1 }, false},
		{"small image", func(c *Conv2D) { c.InH, c.InW, c.OutH, c.OutW = 8, 8, 8, 8 }, false},
	} {
		cv := base
		tc.edit(&cv)
		cv.PackF32(w[:cv.OutC*(cv.InC/cv.groups())*cv.KH*cv.KW])
		require.Equal(t, tc.want, cv.wino, tc.name)
	}
	cv := base
	packed := cv.PackF32(w[:64*64*9])
	in, out := make([]float32, 16*16*64), make([]float32, 16*16*64)
	scratch := make([]float32, cv.ScratchF32())
	for _, rg := range [][2]int{{0, 31}, {16, 48}, {1, 32}, {32, 33}, {0, 0}} {
		require.False(t, convWinoF32(&cv, in, packed, nil, out, scratch, rg[0], rg[1]), "%v", rg)
	}
	require.True(t, convWinoF32(&cv, in, packed, nil, out, scratch, 0, 32))
	require.True(t, convWinoF32(&cv, in, packed, nil, out, scratch, 224, 256))
	tile := cv.TilePixels()
	require.Less(t, tile, 256)
	require.True(t, convWinoF32(&cv, in, packed, nil, out, scratch, 256-tile, 256))
	require.False(t, convWinoF32(&cv, in, packed, nil, out, scratch[:cv.winoScratch()-1], 0, tile))
}

// winoNoAlloc: a Winograd RunF32 does not allocate.
func winoNoAlloc(t *testing.T, path string) {
	require.NoError(t, Select(path))
	cv := Conv2D{InH: 14, InW: 14, InC: 64, OutH: 14, OutW: 14, OutC: 40, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, PadT: 1, PadL: 1, Groups: 1, OutStride: 40, Clamp: relu6}
	packed := cv.PackF32(make([]float32, 40*64*9))
	require.True(t, cv.wino)
	in, out := make([]float32, 14*14*64), make([]float32, 14*14*40)
	scratch := make([]float32, cv.ScratchF32())
	tile := cv.TilePixels()
	require.Zero(t, testing.AllocsPerRun(10, func() {
		for p0 := 0; p0 < 14*14; p0 += tile {
			cv.RunF32(in, packed, nil, out, scratch, p0, min(p0+tile, 14*14))
		}
	}))
}

// requireSameBits requires got to equal want bit for bit (guards included).
func requireSameBits(t *testing.T, what string, want, got []float32) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			require.FailNowf(t, "not bit-exact", "%s: element %d: reference %v, AVX2 %v", what, i, want[i], got[i])
		}
	}
}
