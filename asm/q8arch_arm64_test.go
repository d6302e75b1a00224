//go:build !purego

package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	archKernelTests["qs8_qc8w_gemm_requant_2x8c16__neon_mlal"] = func(t *testing.T, k Kernel) { q8C16Compare(t) }
}

// q8C16Compare checks the c16 tile bit for bit against the generic body
// through QConv2D (table and random geometries with k ≥ 16, every rounding)
// and QGemm (depths around the 16 and 64 unrolls), with guard bands.
// Weights − zero point stay in [−127, 127] so that the c16 layout is used.
func q8C16Compare(t *testing.T) {
	r := q8Seeded(t, 91)
	cases := append([]q8ConvCase(nil), q8ConvTable...)
	for i := 0; i < 80; i++ {
		cases = append(cases, randomQ8ConvCase(r))
	}
	saw := 0
	for ci, tc := range cases {
		c := tc.conv()
		c.InZero = q8Zero(r)
		cg := c.InC / c.Groups
		if c.KH*c.KW*cg < 16 {
			continue
		}
		var zw []int32
		lo, hi := -127, 127
		if tc.wzero > 0 {
			z := int32(r.IntN(41) - 20)
			zw = []int32{z}
			lo, hi = max(-128, int(z)-127), min(127, int(z)+127)
		}
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		w := q8Rand(r, c.OutC*cg*c.KH*c.KW, lo, hi)
		var bias []int32
		if !tc.noBias {
			bias = make([]int32, c.OutC)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<16) - 1<<15)
			}
		}
		c.Requant = q8RandRequant(r, c.OutC, math.Sqrt(float64(c.KH*c.KW*cg))*150, Rounding(ci%3))
		p := c.Pack(w, zw, bias)
		np := q8PackArchFor(p, c.Groups, false)
		require.Equal(t, q8KindC16, np.kind, "case %d %s", ci, tc.name)
		saw++
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
		require.Equal(t, want.data(), got.data(), "case %d %s %+v", ci, tc.name, *c)
		got.checkGuards(t, "output")
		xin.checkGuards(t, "input")
		s2.checkGuards(t, "scratch")
	}
	require.Greater(t, saw, 30, "too few c16 cases")
	for _, k := range []int{16, 17, 31, 32, 33, 47, 63, 64, 65, 79, 80, 81, 127, 128, 129, 1000, 4099} {
		for _, mn := range [][2]int{{1, 1}, {2, 8}, {3, 17}, {5, 5}, {16, 24}} {
			m, n := mn[0], mn[1]
			lda, ldc := k+r.IntN(3), n+r.IntN(3)
			g := &QGemm{M: m, N: n, K: k, InZero: q8Zero(r)}
			b := q8Rand(r, k*n, -127, 127)
			bias := make([]int32, n)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<20) - 1<<19)
			}
			g.Requant = q8RandRequant(r, n, math.Sqrt(float64(k+1))*150, Rounding(k%3))
			p := g.Pack(b, k%2 == 0, nil, bias)
			np := q8PackArchFor(p, 1, false)
			require.Equal(t, q8KindC16, np.kind)
			a := newQ8Buf(max(0, (m-1)*lda+k), func(int) int8 { return int8(r.IntN(256) - 128) })
			want := newQ8Buf(max(0, (m-1)*ldc+n), q8Gap)
			got := newQ8Buf(max(0, (m-1)*ldc+n), q8Gap)
			q8GemmBlock(q8GemmDefaultMR, m, k, a.data(), lda, p.w, p.bias, &g.Requant, 0, want.data(), ldc, 0, n)
			q8GemmArch(g, a.data(), lda, p, np, got.data(), ldc, 0, n)
			require.Equal(t, want.data(), got.data(), "QGemm %dx%dx%d", m, n, k)
			got.checkGuards(t, "C")
			a.checkGuards(t, "A")
		}
	}
}

// TestQ8TileRequantExtremes drives the fused requantisation of every arm64
// tile over the whole int32 accumulator range (the bias is the accumulator:
// A is zero), every multiplier and shift TFLite allows, every rounding and
// extreme zero points and clamps, against q8Epilogue.
func TestQ8TileRequantExtremes(t *testing.T) {
	r := q8Seeded(t, 93)
	kinds := []q8ArchKind{q8KindMlal, q8KindC16}
	if hwLevel >= pathLevel(PathDotProd) {
		kinds = append(kinds, q8KindDot)
	}
	const m, n = 9, 13
	for _, kind := range kinds {
		for it := 0; it < 60; it++ {
			k := 16
			if kind != q8KindC16 && it%2 == 0 {
				k = 0
			}
			g := &QGemm{M: m, N: n, K: k}
			bias := make([]int32, n)
			for i := range bias {
				switch r.IntN(6) {
				case 0:
					bias[i] = math.MinInt32 + int32(r.IntN(3))
				case 1:
					bias[i] = math.MaxInt32 - int32(r.IntN(3))
				case 2:
					bias[i] = int32(r.IntN(1<<12) - 1<<11)
				default:
					bias[i] = int32(r.Uint32())
				}
			}
			rq := Requant{Mult: make([]int32, n), Shift: make([]int32, n), Rounding: Rounding(it % 3)}
			for i := range rq.Mult {
				switch r.IntN(4) {
				case 0:
					rq.Mult[i] = []int32{0, 1, 1 << 30, math.MaxInt32}[r.IntN(4)]
				default:
					rq.Mult[i] = int32(r.Uint32() >> 1)
				}
				rq.Shift[i] = int32(r.IntN(63) - 31)
				if it%6 == 2 {
					// RoundUpward with every shift ≤ 0: the tiles'
					// no-left-shift variant.
					rq.Shift[i] = -int32(r.IntN(32))
				}
			}
			rq.OutZero = q8Zero(r)
			rq.Min, rq.Max = q8Clamp(r)
			g.Requant = rq
			p := g.Pack(make([]int8, k*n), false, nil, bias)
			np := q8PackArchKind(p, 1, kind)
			a := make([]int8, m*k)
			want := newQ8Buf(m*n, q8Gap)
			got := newQ8Buf(m*n, q8Gap)
			q8GemmBlock(q8GemmDefaultMR, m, k, a, k, p.w, p.bias, &g.Requant, 0, want.data(), n, 0, n)
			q8GemmArch(g, a, k, p, np, got.data(), n, 0, n)
			require.Equal(t, want.data(), got.data(), "kind %d iteration %d rounding %v bias %v requant %+v", kind, it, rq.Rounding, bias, rq)
			got.checkGuards(t, "C")
			if np.packAKP() > 0 {
				got = newQ8Buf(m*n, q8Gap)
				q8GemmPackedA(t, g, a, k, np, got.data(), n)
				require.Equal(t, want.data(), got.data(), "packed A: iteration %d rounding %v bias %v requant %+v", it, rq.Rounding, bias, rq)
				got.checkGuards(t, "C")
			}
		}
	}
}
