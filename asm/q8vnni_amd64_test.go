//go:build !purego

package asm

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// q8VnniEdge checks the VPDPBUSD tiles at the int8 edges on the
// avx512vnni path: activations −128 / 127 (uint8 0 / 255 in the tiles)
// against weights −128 / 127 (zero point 0) at depths up to q8VnniMaxK,
// where the sums reach 255·128·K < 2^31, bit for bit against the generic
// body; the same weights forced onto the avx2 VPMADDUBSW x8 tile must
// differ (its int16 pair sums saturate), so the edge is really exercised.
// Weights with w − zero point = 128 or −129, and K > q8VnniMaxK, must not
// be packed for the VNNI tiles (and still match on the others).
func q8VnniEdge(t *testing.T) {
	require.NoError(t, Select(PathVNNI))
	r := q8Seeded(t, 109)
	for _, k := range []int{1, 16, 70, 4099, q8VnniMaxK} {
		const m, n = 7, 29
		g := &QGemm{M: m, N: n, K: k, InZero: q8Zero(r)}
		b := q8Eight(r, k*n, 0, 1)
		bias := make([]int32, n)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<20) - 1<<19)
		}
		g.Requant = q8RandRequant(r, n, math.Sqrt(float64(k))*255*128/8, Rounding(k%3))
		p := g.Pack(b, false, nil, bias)
		np := q8PackArchFor(p, 1)
		require.True(t, np.vnni && np.ub && np.c4 == (q8VnniC4 && q8VnniPrefersC4(k, p.panels)), "K = %d: 8-bit weights not packed for the VNNI tiles", k)
		a := newQ8Buf(m*k, func(int) int8 { return [2]int8{-128, 127}[r.IntN(2)] })
		for range 2 {
			checkQ8GemmArchOne(t, r, g, a, k, n, p, np)
		}
		if k == 70 {
			// All activations 127 and weights −128: every VPMADDUBSW pair
			// sum saturates on the avx2 tile.
			aa := make([]int8, m*k)
			for i := range aa {
				aa[i] = 127
			}
			bb := make([]int8, k*n)
			for i := range bb {
				bb[i] = -128
			}
			gg := &QGemm{M: m, N: n, K: k}
			gg.Requant = Requant{Mult: make([]int32, n), Shift: make([]int32, n), Min: -128, Max: 127, Rounding: RoundUpward}
			for i := range gg.Requant.Mult {
				gg.Requant.Mult[i], gg.Requant.Shift[i] = 1<<30, -10
			}
			pp := gg.Pack(bb, false, nil, nil)
			want := make([]int8, m*n)
			q8GemmBlock(q8GemmDefaultMR, m, k, aa, k, pp.w, pp.bias, &gg.Requant, 0, want, n, 0, n)
			got := make([]int8, m*n)
			q8GemmArch(gg, aa, k, pp, pp.arch, got, n, 0, n)
			require.True(t, pp.arch.vnni && pp.arch.c4 == q8VnniC4)
			require.Equal(t, want, got, "K = 70, extremes on the VNNI tile")
			forced := q8PackArchX8(pp, 1, true)
			q8GemmArch(gg, aa, k, pp, forced, got, n, 0, n)
			require.NotEqual(t, want, got, "8-bit weights on the VPMADDUBSW x8 tile: no saturation seen, the edge test is blind")
		}
	}
	for _, tc := range []struct {
		name string
		k    int
		w    int8
		zw   int32
		vnni bool
	}{
		{"w − zw = 127", 40, 127, 0, true},
		{"w − zw = −128", 40, -128, 0, true},
		{"w − zw = 128", 40, 127, -1, false},
		{"w − zw = −129", 40, -128, 1, false},
		{"K past q8VnniMaxK", q8VnniMaxK + 1, 3, 0, false},
	} {
		const m, n = 3, 8
		g := &QGemm{M: m, N: n, K: tc.k}
		g.Requant = q8RandRequant(r, n, math.Sqrt(float64(tc.k))*255*128/8, RoundUpward)
		b := make([]int8, tc.k*n)
		for i := range b {
			b[i] = tc.w
		}
		zw := make([]int32, n)
		for i := range zw {
			zw[i] = tc.zw
		}
		p := g.Pack(b, false, zw, nil)
		np := q8PackArchFor(p, 1)
		require.Equal(t, tc.vnni, np.vnni, tc.name)
		a := newQ8Buf(m*tc.k, func(int) int8 { return int8(r.IntN(256) - 128) })
		checkQ8GemmArchOne(t, r, g, a, tc.k, n, p, np)
	}
}

// q8VnniNoAlloc checks that QConv2D.Run (1×1 direct, implicit 3×3, im2col
// with groups) and QGemm.Run with 8-bit weights run the VNNI tiles on the
// avx512vnni path without allocating.
func q8VnniNoAlloc(t *testing.T) {
	require.NoError(t, Select(PathVNNI))
	r := q8Seeded(t, 110)
	for _, tc := range []q8ConvCase{
		{h: 8, w: 8, c: 48, o: 12, kh: 1, kw: 1},
		{h: 8, w: 8, c: 16, o: 20, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
		{h: 8, w: 8, c: 16, o: 12, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, group: 2, extra: 1},
	} {
		c := tc.conv()
		c.Requant = q8RandRequant(r, c.OutC, 100, RoundUpward)
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		p := c.Pack(q8Rand(r, c.OutC*c.InC/c.Groups*c.KH*c.KW, -128, 127), nil, make([]int32, c.OutC))
		require.True(t, p.arch != nil && p.arch.vnni, "QConv2D.Pack on avx512vnni did not pack 8-bit weights for the VNNI tiles")
		out := make([]int8, c.OutH*c.OutW*c.OutStride)
		scratch := make([]byte, c.ScratchBytes())
		n := min(c.TilePixels(), c.OutH*c.OutW)
		require.Zero(t, testing.AllocsPerRun(10, func() { c.Run(x, p, out, scratch, 0, n) }), "QConv2D %+v", tc)
	}
	g := &QGemm{M: 5, N: 21, K: 70}
	g.Requant = q8RandRequant(r, 21, 100, RoundDouble)
	a, p := q8Rand(r, 5*70, -128, 127), g.Pack(q8Rand(r, 70*21, -128, 127), true, nil, nil)
	require.True(t, p.arch != nil && p.arch.vnni, "QGemm.Pack on avx512vnni did not pack 8-bit weights for the VNNI tiles")
	cOut := make([]int8, 5*21)
	require.Zero(t, testing.AllocsPerRun(10, func() { g.Run(a, 70, p, cOut, 21, nil, 8, 21) }), "QGemm")
}

// TestQ8Vnni runs the VNNI tiles' edge and implicit checks on their own
// (TestKernelBodies runs them with the rest), skipping on CPUs without
// AVX-512 VNNI.
func TestQ8Vnni(t *testing.T) {
	if hwLevel < pathLevel(PathVNNI) {
		t.Skip("CPU (or build) without AVX512F/VL/BW + VNNI: the avx512vnni path and its VPDPBUSD tiles cannot run here")
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.NoError(t, Select(PathVNNI))
	q8VnniEdge(t)
	for _, eight := range []bool{false, true} {
		for _, c4 := range []bool{false, true} {
			t.Run(fmt.Sprintf("implicit/eight=%v/c4=%v", eight, c4), func(t *testing.T) { q8Avx2ImplicitCompare(t, 3, eight, c4) })
		}
	}
}

// q8VnniC4ZShapes runs the ZMM c4 tiles (RoundUpward with Upward1
// parameters, so q8VnniFusedTileC4 takes them for 2–4 panels) over every
// row count of their last tile (M mod 4), 1–4 panels with full and partial
// last panels,
// several tiles per call and K with and without a partial 4-k block,
// against the generic body; the YMM c4 tiles must agree on the same cases.
func q8VnniC4ZShapes(t *testing.T) {
	r := q8Seeded(t, 111)
	for _, z := range []bool{true, false} {
		q8VnniC4Z = z
		for _, m := range []int{1, 2, 3, 4, 5, 7, 13, 30} {
			for _, n := range []int{1, 15, 16, 17, 40, 64, 65, 130} {
				for _, k := range []int{3, 4, 37, 64, 300} {
					g := &QGemm{M: m, N: n, K: k, InZero: q8Zero(r)}
					g.Requant = q8RandRequant(r, n, math.Sqrt(float64(k))*255*128/8, RoundUpward)
					bias := make([]int32, n)
					for i := range bias {
						bias[i] = int32(r.IntN(1<<16) - 1<<15)
					}
					p := g.Pack(q8Rand(r, k*n, -128, 127), false, nil, bias)
					np := q8PackArchC4(p, 1)
					var prm [6*q8Avx2NC + 4]int32
					nj := min(n, q8Avx2NC)
					rq := g.Requant.Expand(n)
					require.True(t, q8Avx2Params1(&prm, &rq, p.bias[:nj], np.corr[:nj], 0, q8CeilDiv(nj, 16)*16, np.reach()),
						"%dx%dx%d: no Upward1 parameters, the ZMM tile would not run", m, n, k)
					a := newQ8Buf(m*k, func(int) int8 { return int8(r.IntN(256) - 128) })
					want := newQ8Buf(m*n, q8Gap)
					got := newQ8Buf(m*n, q8Gap)
					q8GemmBlock(q8GemmDefaultMR, m, k, a.data(), k, p.w, p.bias, &g.Requant, 0, want.data(), n, 0, n)
					q8GemmArch(g, a.data(), k, p, np, got.data(), n, 0, n)
					require.Equal(t, want.data(), got.data(), "QGemm %dx%dx%d, ZMM c4 %v", m, n, k, z)
					got.checkGuards(t, "C")
					checkQ8GemmArchOne(t, r, g, a, k, n, p, np)
				}
			}
		}
	}
	q8VnniC4Z = true
}
