package asm

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// convCase is one Conv2D geometry. pb/pr are the bottom/right pads that only
// shape OutH/OutW; stride is the extra OutStride beyond OutC.
type convCase struct {
	name                  string
	h, w, c, o, kh, kw    int
	sh, sw, dh, dw        int
	pt, pl, pb, pr, group int
	extra                 int
	clamp                 Clamp
	noBias                bool
	packBias              bool // always PackBiasF32 (else for odd seeds)
}

func (tc convCase) String() string {
	return fmt.Sprintf("%s/%dx%dx%d->%d_k%dx%d_s%dx%d_d%dx%d_p%d,%d,%d,%d_g%d_x%d_%s", tc.name, tc.h, tc.w, tc.c, tc.o,
		tc.kh, tc.kw, tc.sh, tc.sw, tc.dh, tc.dw, tc.pt, tc.pl, tc.pb, tc.pr, tc.group, tc.extra, clampName(tc.clamp))
}

var relu6 = Clamp{0, 6}
var relu = Clamp{0, float32(math.Inf(1))}

// convTable is the hand-picked grid; it only grows.
var convTable = []convCase{
	{name: "1x1_direct", h: 5, w: 7, c: 13, o: 9, kh: 1, kw: 1},
	{name: "1x1_direct_gap", h: 3, w: 3, c: 8, o: 5, kh: 1, kw: 1, extra: 3, clamp: relu},
	{name: "1x1_direct_g2", h: 4, w: 5, c: 6, o: 10, kh: 1, kw: 1, group: 2},
	{name: "1x1_direct_kblock", h: 3, w: 3, c: 1031, o: 5, kh: 1, kw: 1},
	{name: "1x1_direct_1px", h: 1, w: 1, c: 7, o: 3, kh: 1, kw: 1},
	{name: "1x1_stride2", h: 7, w: 8, c: 5, o: 6, kh: 1, kw: 1, sh: 2, sw: 2},
	{name: "1x1_pad", h: 3, w: 4, c: 3, o: 4, kh: 1, kw: 1, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "1x1_dil_ignored", h: 4, w: 4, c: 4, o: 4, kh: 1, kw: 1, dh: 3, dw: 2},
	{name: "3x3_rgb", h: 9, w: 11, c: 3, o: 5, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, clamp: relu6},
	{name: "3x3_tails", h: 6, w: 7, c: 17, o: 11, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "3x3_s2_same_tf", h: 9, w: 10, c: 6, o: 7, kh: 3, kw: 3, sh: 2, sw: 2, pt: 0, pl: 0, pb: 1, pr: 1},
	{name: "3x3_kblock", h: 6, w: 6, c: 60, o: 7, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, clamp: relu},
	{name: "3x3_kblock_g2", h: 5, w: 5, c: 120, o: 6, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, group: 2},
	{name: "3x3_g4", h: 6, w: 5, c: 8, o: 12, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, group: 4, extra: 5},
	{name: "3x3_s3", h: 10, w: 11, c: 4, o: 4, kh: 3, kw: 3, sh: 3, sw: 3},
	{name: "5x5_dil2", h: 12, w: 11, c: 5, o: 6, kh: 5, kw: 5, dh: 2, dw: 2, pt: 4, pl: 4, pb: 4, pr: 4},
	{name: "5x5_alexnet_g2", h: 9, w: 9, c: 8, o: 12, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2, group: 2, clamp: relu},
	{name: "7x7_s2_stem", h: 15, w: 14, c: 3, o: 8, kh: 7, kw: 7, sh: 2, sw: 2, pt: 3, pl: 3, pb: 3, pr: 3},
	{name: "1x7", h: 7, w: 9, c: 6, o: 5, kh: 1, kw: 7, pl: 3, pr: 3},
	{name: "7x1", h: 9, w: 7, c: 6, o: 5, kh: 7, kw: 1, pt: 3, pb: 3},
	{name: "11x11_s4_alexnet", h: 35, w: 35, c: 3, o: 10, kh: 11, kw: 11, sh: 4, sw: 4, pt: 2, pl: 2, pb: 2, pr: 2, clamp: relu},
	{name: "1row", h: 1, w: 17, c: 5, o: 6, kh: 1, kw: 3, pl: 1, pr: 1},
	{name: "1row_3x3_pad", h: 1, w: 9, c: 4, o: 5, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "1col", h: 9, w: 1, c: 4, o: 5, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "asym_pad", h: 7, w: 6, c: 5, o: 9, kh: 3, kw: 2, pt: 2, pl: 0, pb: 0, pr: 3, extra: 1},
	{name: "kernel_bigger_than_input", h: 2, w: 3, c: 3, o: 4, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "nobias", h: 5, w: 5, c: 4, o: 5, kh: 3, kw: 3, noBias: true, clamp: Clamp{-0.1, 0.2}},
	{name: "o1", h: 5, w: 6, c: 9, o: 1, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "o4_c1", h: 8, w: 8, c: 1, o: 4, kh: 3, kw: 3},
	// Kernel rows of 9..12 floats (arm64's 12-float im2col moves): the
	// MobileNet stem, the largest run, a 5-row kernel, the minimum step.
	{name: "3x3_rgb_s2_stem", h: 17, w: 17, c: 3, o: 16, kh: 3, kw: 3, sh: 2, sw: 2, pb: 1, pr: 1, clamp: relu6},
	{name: "3x3_rgb_s2_pad1", h: 17, w: 16, c: 3, o: 16, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1, clamp: relu6},
	{name: "3x3_c4_run12", h: 7, w: 12, c: 4, o: 9, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "5x5_c2_run10", h: 9, w: 11, c: 2, o: 5, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2},
	{name: "2x3_c5_run10_dil", h: 9, w: 8, c: 5, o: 6, kh: 3, kw: 2, dh: 2, pt: 1, pb: 1},
	// Whole 8-column tiles in several 8-row groups (arm64's packed tile
	// and its doubled bias, PackBiasF32): k < 64, k ≥ 64 with tails, two
	// k blocks (the bias only in the first), two groups, a narrow tail.
	{name: "3x3_rgb_o24", h: 16, w: 15, c: 3, o: 24, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, clamp: relu6, packBias: true},
	{name: "1x1_k70_o21", h: 16, w: 16, c: 70, o: 21, kh: 1, kw: 1, clamp: relu6, packBias: true},
	{name: "1x1_kblock_o16", h: 9, w: 9, c: 600, o: 16, kh: 1, kw: 1, clamp: relu, packBias: true},
	{name: "1x1_g2_o34", h: 11, w: 12, c: 2 * 65, o: 2 * 17, kh: 1, kw: 1, group: 2, extra: 2, packBias: true},
	// k a multiple of 16 (< 64), 64 or 128: the exact loops (peeled last
	// 4 k).
	{name: "1x1_k32_o24", h: 12, w: 12, c: 32, o: 24, kh: 1, kw: 1, clamp: relu6, packBias: true},
	{name: "1x1_k48_o16", h: 9, w: 10, c: 48, o: 16, kh: 1, kw: 1, extra: 1, packBias: true},
	{name: "1x1_k16_o8", h: 4, w: 6, c: 16, o: 8, kh: 1, kw: 1, clamp: relu, packBias: true},
	{name: "1x1_k128_o40", h: 10, w: 13, c: 128, o: 40, kh: 1, kw: 1, clamp: relu6, packBias: true},
	{name: "1x1_k64_g2_o32", h: 9, w: 9, c: 128, o: 32, kh: 1, kw: 1, group: 2, packBias: true},
	{name: "1x1_k1024_o16", h: 5, w: 5, c: 1024, o: 16, kh: 1, kw: 1, clamp: relu6, packBias: true},
	{name: "1x1_k192_o16", h: 6, w: 7, c: 192, o: 16, kh: 1, kw: 1, clamp: relu6, packBias: true},
	{name: "1x1_k256_o24", h: 7, w: 5, c: 256, o: 24, kh: 1, kw: 1, packBias: true},
}

func (tc *convCase) normalise() {
	for _, p := range []*int{&tc.sh, &tc.sw, &tc.dh, &tc.dw, &tc.group} {
		if *p == 0 {
			*p = 1
		}
	}
	if tc.clamp == (Clamp{}) {
		tc.clamp = NoClamp()
	}
}

// randomConvCase draws a geometry with odd channel counts, strides 1–3,
// dilations, asymmetric pads and groups 1/2/4.
func randomConvCase(r interface {
	IntN(int) int
}) convCase {
	for {
		group := []int{1, 1, 1, 2, 4}[r.IntN(5)]
		ks := []int{1, 1, 2, 3, 3, 5, 7}
		tc := convCase{name: "random",
			group: group, c: (1 + r.IntN(7)) * group, o: (1 + r.IntN(10)) * group,
			kh: ks[r.IntN(len(ks))], kw: ks[r.IntN(len(ks))],
			sh: 1 + r.IntN(3), sw: 1 + r.IntN(3), dh: 1 + r.IntN(2), dw: 1 + r.IntN(2),
			pt: r.IntN(4), pl: r.IntN(4), pb: r.IntN(4), pr: r.IntN(4),
			h: 1 + r.IntN(13), w: 1 + r.IntN(13), extra: r.IntN(2) * r.IntN(5),
			noBias: r.IntN(4) == 0}
		if r.IntN(3) == 0 {
			tc.dh, tc.dw = 1+r.IntN(3), 1+r.IntN(3)
		}
		switch r.IntN(4) {
		case 0:
			tc.clamp = relu
		case 1:
			tc.clamp = relu6
		}
		if r.IntN(8) == 0 { // a direct 1×1
			tc.kh, tc.kw, tc.sh, tc.sw, tc.pt, tc.pl, tc.pb, tc.pr = 1, 1, 1, 1, 0, 0, 0, 0
		}
		tc.normalise()
		if outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, false) > 0 && outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, false) > 0 {
			return tc
		}
	}
}

// runConvCase checks one geometry with one GEMM tiling against convRef.
func runConvCase(t *testing.T, tc convCase, mr int, seed uint64) {
	r := seeded(t, seed)
	tc.normalise()
	oh := outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, false)
	ow := outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, false)
	cg := tc.c / tc.group
	x := randSlice(r, tc.h*tc.w*tc.c)
	wt := randSlice(r, tc.o*cg*tc.kh*tc.kw)
	var bias []float32
	if !tc.noBias {
		bias = randSlice(r, tc.o)
	}
	cv := &Conv2D{InH: tc.h, InW: tc.w, InC: tc.c, OutH: oh, OutW: ow, OutC: tc.o,
		KH: tc.kh, KW: tc.kw, StrideH: tc.sh, StrideW: tc.sw, DilH: tc.dh, DilW: tc.dw, PadT: tc.pt, PadL: tc.pl,
		Groups: tc.group, OutStride: tc.o + tc.extra, Clamp: tc.clamp, mr: mr}
	packed := cv.PackF32(wt)
	packedCopy := append([]float32(nil), packed...)
	ref := convRef(nchwFromNHWC(x, tc.h, tc.w, tc.c), tc.c, tc.h, tc.w, wt, tc.o, tc.kh, tc.kw, bias,
		tc.sh, tc.sw, tc.dh, tc.dw, tc.pt, tc.pl, oh, ow, tc.group, float64(tc.clamp.Min), float64(tc.clamp.Max))

	in := inputGuarded(x)
	if seed%2 == 1 || tc.packBias {
		// Half the cases give RunF32 the packed form (arm64: the 8×8
		// tiles start from the doubled bias); the reference reads bias.
		bias = cv.PackBiasF32(bias)
	}
	var biasIn []float32
	if bias != nil {
		biasIn = inputGuarded(bias).data()
	}
	out := newGuarded(outLen(oh*ow, tc.o, cv.OutStride), sentinel)
	scratch := newGuarded(cv.ScratchF32(), 0)
	tile := cv.TilePixels()
	require.GreaterOrEqual(t, tile, 1)
	for _, ch := range chunks(r, oh*ow, tile) {
		cv.RunF32(in.data(), packed, biasIn, out.data(), scratch.data(), ch[0], ch[1])
	}
	requireNHWCClose(t, ref, out.data(), tc.o, oh, ow, cv.OutStride, tc.String())
	out.checkGuards(t)
	scratch.checkGuards(t)
	in.checkGuards(t)
	requireUnchanged(t, "in", x, in.data())
	requireUnchanged(t, "packed", packedCopy, packed)
	if bias != nil {
		requireUnchanged(t, "bias", bias, biasIn)
	}
}

func TestConv2DTable(t *testing.T) {
	for _, k := range gemmTilings(t) {
		for i, tc := range convTable {
			t.Run(k.Name+"/"+tc.String(), func(t *testing.T) { runConvCase(t, tc, k.MR, uint64(i)+1) })
		}
	}
}

// TestConv2DTableSelected runs the table on the selected path's own
// tiling (NEON or AVX2 driver, im2col and kernels), not a pinned scalar one.
func TestConv2DTableSelected(t *testing.T) {
	for i, tc := range convTable {
		t.Run(Selected()+"/"+tc.String(), func(t *testing.T) { runConvCase(t, tc, 0, uint64(i)+1) })
	}
}

func TestConv2DRandom(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 40
	}
	for _, k := range gemmTilings(t) {
		for i := 0; i < n; i++ {
			seed := uint64(1000 + i)
			tc := randomConvCase(seeded(t, seed))
			t.Run(fmt.Sprintf("%s/%d/%s", k.Name, seed, tc), func(t *testing.T) { runConvCase(t, tc, k.MR, seed) })
		}
	}
}

// TestConv2DTileEdges sweeps pixel counts and channel counts across the
// register tile (MR rows, 4 columns) and the k unroll.
func TestConv2DTileEdges(t *testing.T) {
	for _, k := range gemmTilings(t) {
		for w := 1; w <= 2*k.MR+1; w++ {
			for o := 1; o <= 9; o++ {
				for _, c := range []int{1, 3, 4, 5} {
					tc := convCase{name: "edge", h: 1, w: w, c: c, o: o, kh: 1, kw: 1}
					t.Run(k.Name+"/"+tc.String(), func(t *testing.T) { runConvCase(t, tc, k.MR, uint64(w*100+o*10+c)) })
					tc = convCase{name: "edge3x3", h: 2, w: w, c: c, o: o, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}
					t.Run(k.Name+"/"+tc.String(), func(t *testing.T) { runConvCase(t, tc, k.MR, uint64(w*100+o*10+c)) })
				}
			}
		}
	}
}

// TestConv2DConcurrent runs the tiles of one conv on separate goroutines with
// separate scratch and expects the sequential result bit for bit.
func TestConv2DConcurrent(t *testing.T) {
	r := seeded(t, 7)
	cv := &Conv2D{InH: 20, InW: 19, InC: 24, OutH: 10, OutW: 10, OutC: 20, KH: 3, KW: 3, StrideH: 2, StrideW: 2,
		DilH: 1, DilW: 1, PadT: 1, PadL: 1, Groups: 2, OutStride: 21, Clamp: relu6}
	x, wt, bias := randSlice(r, 20*19*24), randSlice(r, 20*12*9), randSlice(r, 20)
	packed := cv.PackF32(wt)
	n := cv.OutH * cv.OutW
	tile := min(cv.TilePixels(), 7)
	seq := make([]float32, n*cv.OutStride)
	scratch := make([]float32, cv.ScratchF32())
	for p := 0; p < n; p += tile {
		cv.RunF32(x, packed, bias, seq, scratch, p, min(p+tile, n))
	}
	par := make([]float32, n*cv.OutStride)
	var wg sync.WaitGroup
	for p := 0; p < n; p += tile {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			cv.RunF32(x, packed, bias, par, make([]float32, cv.ScratchF32()), p, min(p+tile, n))
		}(p)
	}
	wg.Wait()
	require.Equal(t, seq, par)
}

func TestConv2DTilePixels(t *testing.T) {
	for _, tc := range []struct{ h, w, c, k, o int }{{56, 56, 64, 3, 64}, {7, 7, 512, 3, 512}, {224, 224, 3, 7, 64}, {1, 1, 4096, 1, 10}, {28, 28, 128, 1, 256}} {
		cv := &Conv2D{InH: tc.h, InW: tc.w, InC: tc.c, OutH: tc.h, OutW: tc.w, OutC: tc.o, KH: tc.k, KW: tc.k,
			StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: tc.k / 2, PadL: tc.k / 2, Groups: 1, OutStride: tc.o}
		tile := cv.TilePixels()
		require.GreaterOrEqual(t, tile, 1)
		require.LessOrEqual(t, tile, tc.h*tc.w)
		if tc.h*tc.w >= 64 {
			require.GreaterOrEqual(t, (tc.h*tc.w+tile-1)/tile, 8, "small images still split for the pool")
		}
		t.Logf("%+v: tile %d pixels, scratch %d floats", tc, tile, cv.ScratchF32())
	}
}
