//go:build !purego

package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// archKernelTests maps every registered arm64 body to its test against the
// generic oracle.
var archKernelTests = map[string]func(t *testing.T, k Kernel){
	"f32_gemm_minmax_8x8__neonfma": func(t *testing.T, k Kernel) {
		for seed := uint64(1); seed <= 3; seed++ {
			f32CompareToGeneric(t, k.Path, seed)
		}
	},
	"qs8_qc8w_gemm_requant_8x8__neon_mlal_lane": func(t *testing.T, k Kernel) { q8ArchCompare(t, false) },
	"qs8_qc8w_gemm_requant_8x8c4__neondot":      func(t *testing.T, k Kernel) { q8ArchCompare(t, true) },
}

// q8ArchCompare checks the arm64 int8 GEMM tiles bit for bit against the
// generic body, through QConv2D (table and random geometries, every
// rounding) and QGemm (long and odd K), with guard bands. With dot, weights
// are drawn so that most cases pack for SDOT; the rest (a weight zero point
// or −128 weights) must fall back to the SMLAL layout.
func q8ArchCompare(t *testing.T, dot bool) {
	r := q8Seeded(t, 77)
	cases := append([]q8ConvCase(nil), q8ConvTable...)
	for i := 0; i < 60; i++ {
		cases = append(cases, randomQ8ConvCase(r))
	}
	sawDot := false
	for ci, tc := range cases {
		c := tc.conv()
		c.InZero = q8Zero(r)
		cg := c.InC / c.Groups
		lo := -128
		if dot && ci%4 != 3 {
			lo, tc.wzero = -127, 0
		}
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		w := q8Rand(r, c.OutC*cg*c.KH*c.KW, lo, 127)
		var zw []int32
		if tc.wzero > 0 {
			zw = []int32{q8Zero(r)}
		}
		var bias []int32
		if !tc.noBias {
			bias = make([]int32, c.OutC)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<16) - 1<<15)
			}
		}
		mode := Rounding(ci % 3)
		c.Requant = q8RandRequant(r, c.OutC, math.Sqrt(float64(c.KH*c.KW*cg))*150, mode)
		p := c.Pack(w, zw, bias)
		np := q8PackArchFor(p, c.Groups, dot)
		sawDot = sawDot || np.dot
		pixels := c.OutH * c.OutW
		xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
		want := q8OutBuf(pixels, c.OutC, c.OutStride)
		got := q8OutBuf(pixels, c.OutC, c.OutStride)
		s1 := make([]byte, c.ScratchBytes())
		s2 := newQ8Buf(c.ScratchBytes(), func(int) int8 { return 0 })
		for _, ch := range q8Chunks(r, pixels, c.TilePixels()) {
			q8ConvGeneric(c, xin.data(), p, want.data(), bytesAsInt8(s1), ch[0], ch[1])
			q8ConvArch(c, xin.data(), p, np, got.data(), s2.data(), ch[0], ch[1])
		}
		require.Equal(t, want.data(), got.data(), "case %d %s %+v dot=%v", ci, tc.name, *c, np.dot)
		got.checkGuards(t, "output")
		xin.checkGuards(t, "input")
		s2.checkGuards(t, "scratch")
		require.Equal(t, x, xin.data(), "input modified")
	}
	if dot {
		require.True(t, sawDot, "no case packed for SDOT")
	}
	// QGemm with depths around the unrolls and a long one.
	for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 25, 31, 33, 40, 48, 56, 64, 1000, 4099} {
		for _, mn := range [][2]int{{1, 1}, {8, 8}, {9, 17}, {3, 5}, {16, 24}, {23, 13}} {
			m, n := mn[0], mn[1]
			lda, ldc := k+r.IntN(3), n+r.IntN(3)
			g := &QGemm{M: m, N: n, K: k, InZero: q8Zero(r)}
			lo := -128
			if dot {
				lo = -127
			}
			b := q8Rand(r, k*n, lo, 127)
			bias := make([]int32, n)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<20) - 1<<19)
			}
			g.Requant = q8RandRequant(r, n, math.Sqrt(float64(k+1))*150, Rounding(k%3))
			p := g.Pack(b, k%2 == 0, nil, bias)
			np := q8PackArchFor(p, 1, dot)
			require.Equal(t, dot, np.dot)
			a := newQ8Buf(max(0, (m-1)*lda+k), func(int) int8 { return int8(r.IntN(256) - 128) })
			want := newQ8Buf(max(0, (m-1)*ldc+n), q8Gap)
			got := newQ8Buf(max(0, (m-1)*ldc+n), q8Gap)
			q8GemmBlock(q8GemmDefaultMR, m, k, a.data(), lda, p.w, p.bias, &g.Requant, 0, want.data(), ldc, 0, n)
			q8GemmArch(g, a.data(), lda, p, np, got.data(), ldc, 0, n)
			require.Equal(t, want.data(), got.data(), "QGemm %dx%dx%d dot=%v", m, n, k, dot)
			got.checkGuards(t, "C")
			a.checkGuards(t, "A")
			if np.packAKP() > 0 {
				got = newQ8Buf(max(0, (m-1)*ldc+n), q8Gap)
				q8GemmPackedA(t, g, a.data(), lda, np, got.data(), ldc)
				require.Equal(t, want.data(), got.data(), "QGemm %dx%dx%d on packed A", m, n, k)
				got.checkGuards(t, "C")
				a.checkGuards(t, "A")
			}
		}
	}
}

// q8GemmPackedA is q8GemmArch with a packed-A buffer (guarded), so that
// the whole 8-row groups run on q8GemmDotP8x8c4.
func q8GemmPackedA(t *testing.T, g *QGemm, a []int8, lda int, np *q8ArchPacked, c []int8, ldc int) {
	t.Helper()
	pa := newQ8Buf(g.M/q8NeonMR*q8NeonMR*np.packAKP(), func(int) int8 { return 0x5a })
	q8GemmBlockArch(np, 0, g.M, a, lda, &g.Requant, 0, c, ldc, 0, g.N, pa.data())
	pa.checkGuards(t, "packed A")
}

// TestF32NeonColumnBlocks runs the float NEON GEMM on shapes whose B does
// not fit one column block (f32NeonBBlock), so that the packed A groups are
// reused across column blocks (≤ f32NeonAPGroups groups) or repacked, with
// and without a narrow last tile and k blocks, against the generic body.
func TestF32NeonColumnBlocks(t *testing.T) {
	if level < pathLevel(PathNEON) {
		t.Skip("no NEON")
	}
	saved := Selected()
	defer Select(saved)
	r := seeded(t, 91)
	for _, s := range [][3]int{{32, 512, 512}, {24, 300, 600}, {17, 264, 1030}, {40, 520, 520}, {8, 1024, 1024}, {33, 136, 1500}} {
		m, n, k := s[0], s[1], s[2]
		g := &Gemm{M: m, N: n, K: k, Clamp: relu6}
		a := inputGuarded(randSlice(r, m*k))
		packed := g.PackF32(randSlice(r, k*n), false)
		bias := randSlice(r, n)
		var outs [2][]float32
		for pi, p := range []string{PathGeneric, PathNEON} {
			require.NoError(t, Select(p))
			c := newGuarded(m*n, sentinel)
			g.RunF32(a.data(), k, packed, bias, c.data(), n, nil, 0, n)
			c.checkGuards(t)
			outs[pi] = c.data()
		}
		for i, w := range outs[0] {
			require.InDelta(t, w, outs[1][i], 1e-5*math.Max(1, math.Abs(float64(w))), "%v: element %d", s, i)
		}
	}
}
