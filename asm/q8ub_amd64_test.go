//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// q8Seven returns n int8 weights w with w − zw in [−64, 63] (zw in
// [−64, 64]): random (edge 0), or only the extremes −64 and 63 (edge 1).
func q8Seven(r *rand.Rand, n int, zw int32, edge int) []int8 {
	w := make([]int8, n)
	for i := range w {
		d := int32(r.IntN(128) - 64)
		if edge == 1 {
			d = [2]int32{-64, 63}[r.IntN(2)]
		}
		w[i] = int8(zw + d)
	}
	return w
}

// q8Avx2UBCompare checks the c32 VPMADDUBSW tiles (7-bit weights) bit for
// bit against the generic body, like q8Avx2Compare: QConv2D over the table
// and random geometries (im2col and direct 1×1 with K tails, K < 32,
// groups, pixel chunks, every rounding, extreme input and weight zero
// points) and QGemm over depths around the 32-k block (per-column weight
// zero points, A buffers that end at the last row so that the K tail runs
// in Go), with activations −128 / 127 against weights −64 / 63 in a
// fifth of the cases (VPMADDUBSW pair sums of ±2·255·64), and checks that
// every one of them with K > 16 was packed for the c32 tiles (K ≤ 16 for
// the c16 ones).
func q8Avx2UBCompare(t *testing.T, seed uint64) {
	r := q8Seeded(t, seed)
	cases := append([]q8ConvCase(nil), q8ConvTable...)
	// 1×1 direct (A rows read in place) with K < 32 and K tails, grouped,
	// and a 3×3 with K = 18.
	cases = append(cases,
		q8ConvCase{name: "1x1_k20", h: 5, w: 7, c: 20, o: 9, kh: 1, kw: 1},
		q8ConvCase{name: "1x1_k31", h: 3, w: 5, c: 31, o: 13, kh: 1, kw: 1, extra: 2},
		q8ConvCase{name: "1x1_k45_g2", h: 4, w: 3, c: 90, o: 10, kh: 1, kw: 1, group: 2},
		q8ConvCase{name: "1x1_k70", h: 7, w: 7, c: 70, o: 70, kh: 1, kw: 1},
		q8ConvCase{name: "3x3_k18", h: 6, w: 5, c: 2, o: 7, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1})
	for i := 0; i < 60; i++ {
		cases = append(cases, randomQ8ConvCase(r))
	}
	for ci, tc := range cases {
		c := tc.conv()
		c.InZero = q8Zero(r)
		cg := c.InC / c.Groups
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		z := int32(r.IntN(129) - 64)
		switch ci % 5 {
		case 1:
			z = 64 // weights 0..127
		case 2:
			z = -64 // weights −128..−1
		}
		edge := 0
		if ci%5 == 3 {
			edge = 1
			for i := range x {
				x[i] = [2]int8{-128, 127}[r.IntN(2)]
			}
			c.InZero = [2]int32{-128, 127}[r.IntN(2)]
		}
		w := q8Seven(r, c.OutC*cg*c.KH*c.KW, z, edge)
		var bias []int32
		if !tc.noBias {
			bias = make([]int32, c.OutC)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<16) - 1<<15)
			}
		}
		mode := Rounding(ci % 3)
		c.Requant = q8RandRequant(r, c.OutC, math.Sqrt(float64(c.KH*c.KW*cg))*80, mode)
		q8NoUpward1(r, &c.Requant, ci)
		p := c.Pack(w, []int32{z}, bias)
		np := q8PackArchFor(p, c.Groups)
		require.Equal(t, q8WantUB(p.k), np.ub, "case %d: K = %d, 7-bit weights packed c32 = %v", ci, p.k, np.ub)
		require.Equal(t, q8VnniLevel() && p.k > 0, np.vnni, "case %d: K = %d, vnni", ci, p.k)
		checkQ8ConvArch(t, r, c, x, p, np, fmt.Sprintf("case %d %s %+v", ci, tc.name, *c))
	}
	for ki, k := range []int{1, 7, 16, 17, 20, 31, 32, 33, 63, 64, 65, 95, 100, 1000, 4099} {
		for _, mn := range [][2]int{{1, 1}, {3, 4}, {2, 8}, {4, 5}, {9, 17}, {7, 70}, {16, 131}} {
			m, n := mn[0], mn[1]
			lda, ldc := k+r.IntN(3), n+r.IntN(3)
			g := &QGemm{M: m, N: n, K: k, InZero: q8Zero(r)}
			transB := k%2 == 0
			zw := make([]int32, n)
			for i := range zw {
				zw[i] = int32(r.IntN(129) - 64)
			}
			edge := ki % 2
			b := make([]int8, k*n)
			for i := range b {
				col := i % n
				if transB {
					col = i / k
				}
				b[i] = q8Seven(r, 1, zw[col], edge)[0]
			}
			bias := make([]int32, n)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<20) - 1<<19)
			}
			g.Requant = q8RandRequant(r, n, math.Sqrt(float64(k+1))*80, Rounding((k+m)%3))
			q8NoUpward1(r, &g.Requant, k+m)
			p := g.Pack(b, transB, zw, bias)
			np := q8PackArchFor(p, 1)
			require.Equal(t, q8WantUB(k), np.ub, "QGemm %dx%dx%d: 7-bit weights packed c32 = %v", m, n, k, np.ub)
			require.Equal(t, q8VnniLevel(), np.vnni, "QGemm %dx%dx%d: vnni", m, n, k)
			a := newQ8Buf(max(0, (m-1)*lda+k), func(int) int8 {
				if edge == 1 {
					return [2]int8{-128, 127}[r.IntN(2)]
				}
				return int8(r.IntN(256) - 128)
			})
			checkQ8GemmArch(t, r, g, a, lda, ldc, p, np)
		}
	}
}

// q8VnniLevel reports whether q8PackArchFor packs for the VNNI tiles now.
func q8VnniLevel() bool { return q8Vnni && q8Avx2X8 && q8Avx2UB && level >= pathLevel(PathVNNI) }

// q8WantUB reports whether 7-bit weights of depth k (≤ q8VnniMaxK) are
// packed for VPMADDUBSW or VPDPBUSD tiles: K > 16 on avx2 (K ≤ 16 takes
// the c16 tiles), any K ≥ 1 on the VNNI tiles.
func q8WantUB(k int) bool {
	return k > q8Avx2KR || q8VnniLevel() && k > 0
}

// q8Avx2UBEdge checks the 7-bit bound at the saturation edge: activations
// 127 (uint8 255 in the tiles) against weights −64 give VPMADDUBSW pair sums
// of −32640 and must match the generic body; weights −65 must not be packed
// for the c32 tiles, which would saturate their pair sums (−33150) to
// −32768 and differ (checked by forcing the c32 packing, so that this test
// fails if the bound is loosened), nor 64 (outside [−64, 63]); the c16
// tiles get both right.
func q8Avx2UBEdge(t *testing.T) {
	const m, n, k = 4, 8, 70
	g := &QGemm{M: m, N: n, K: k}
	// The bias cancels the exact sums and the outputs are the rest / 128
	// (mult 2^30, shift −6), so 32 saturated pairs (382 off each) show.
	g.Requant = Requant{Mult: make([]int32, n), Shift: make([]int32, n), Min: -128, Max: 127, Rounding: RoundUpward}
	for i := range g.Requant.Mult {
		g.Requant.Mult[i], g.Requant.Shift[i] = 1<<30, -6
	}
	a := make([]int8, m*k)
	for i := range a {
		a[i] = 127
	}
	for _, tc := range []struct {
		w    int8
		fits bool
	}{{-64, true}, {63, true}, {-65, false}, {64, false}} {
		b := make([]int8, k*n)
		for i := range b {
			b[i] = tc.w
		}
		bias := make([]int32, n)
		for i := range bias {
			bias[i] = -127 * int32(tc.w) * k
		}
		p := g.Pack(b, false, nil, bias)
		want := make([]int8, m*n)
		q8GemmBlock(q8GemmDefaultMR, m, k, a, k, p.w, p.bias, &g.Requant, 0, want, n, 0, n)
		np := q8PackArchFor(p, 1)
		require.Equal(t, tc.fits, np.ub, "weights %d", tc.w)
		got := make([]int8, m*n)
		q8GemmArch(g, a, k, p, np, got, n, 0, n)
		require.Equal(t, want, got, "weights %d", tc.w)
		if tc.w == -65 {
			for _, forced := range []*q8ArchPacked{q8PackArchAs(p, 1, true), q8PackArchX8(p, 1, true)} {
				q8GemmArch(g, a, k, p, forced, got, n, 0, n)
				require.NotEqual(t, want, got, "weights −65 on the VPMADDUBSW tiles (x8 %v): no saturation seen, the edge test is blind", forced.x8)
			}
		}
	}
}

// q8Avx2UBNoAlloc checks that QConv2D.Run and QGemm.Run with 7-bit weights
// run the c32 tiles without allocating.
func q8Avx2UBNoAlloc(t *testing.T) {
	require.NoError(t, Select(PathAVX2))
	r := q8Seeded(t, 62)
	for _, tc := range []q8ConvCase{
		{h: 8, w: 8, c: 48, o: 12, kh: 1, kw: 1},
		{h: 8, w: 8, c: 16, o: 12, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, group: 2, extra: 1},
	} {
		c := tc.conv()
		c.Requant = q8RandRequant(r, c.OutC, 100, RoundSingle)
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		p := c.Pack(q8Seven(r, c.OutC*c.InC/c.Groups*c.KH*c.KW, 3, 0), []int32{3}, make([]int32, c.OutC))
		require.True(t, p.arch != nil && p.arch.ub, "QConv2D.Pack on avx2 did not pack 7-bit weights for the c32 tiles")
		out := make([]int8, c.OutH*c.OutW*c.OutStride)
		scratch := make([]byte, c.ScratchBytes())
		n := min(c.TilePixels(), c.OutH*c.OutW)
		require.Zero(t, testing.AllocsPerRun(10, func() { c.Run(x, p, out, scratch, 0, n) }), "QConv2D %+v", tc)
	}
	g := &QGemm{M: 5, N: 21, K: 70}
	g.Requant = q8RandRequant(r, 21, 100, RoundDouble)
	a, p := q8Rand(r, 5*70, -128, 127), g.Pack(q8Rand(r, 70*21, -64, 63), true, nil, nil)
	require.True(t, p.arch != nil && p.arch.ub, "QGemm.Pack on avx2 did not pack 7-bit weights for the c32 tiles")
	cOut := make([]int8, 5*21)
	require.Zero(t, testing.AllocsPerRun(10, func() { g.Run(a, 70, p, cOut, 21, nil, 8, 21) }), "QGemm")
}
