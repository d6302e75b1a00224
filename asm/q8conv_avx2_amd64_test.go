//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// q8Avx2ImplicitCompare checks q8ConvImplicit bit for bit against the
// generic body on random geometries it must take: kernel rows of KW·InC
// bytes in whole 16-byte blocks (InC 8…64), 1…3 kernel rows (≥ 2 taps),
// strides 1…3,
// vertical dilation, every padding 0…2 (so both the in-place and the
// padded-copy base), images down to one pixel and one row, 1…80 output
// channels (8-column tails, two 64-column blocks), gaps between pixels,
// RoundUpward and RoundDouble, 7-bit weights at their edges, pixel chunks
// of any length (short last row tiles) with guard bands on input, output
// and scratch. It also checks the cases it must leave to im2col.
//
// eight (the VNNI tiles only) uses 8-bit weights (weight − zero point
// anywhere in [−128, 127], only −128 / 127 with zero point 0 in the edge
// cases) instead of 7-bit ones. On the avx512vnni path, c4 packs them for
// the c4 tiles (q8VnniC4Implicit), whose implicit ZMM tile must take every
// Upward1 layer (the others go through im2col and must match too), and
// !c4 for the implicit x8 tile.
func q8Avx2ImplicitCompare(t *testing.T, seed uint64, eight, c4 bool) {
	defer func(on bool) { q8VnniC4Implicit = on }(q8VnniC4Implicit)
	q8VnniC4Implicit = c4
	r := q8Seeded(t, seed)
	ran, ranC4 := 0, 0
	for ci := 0; ci < 80; ci++ {
		kw := 1 + r.IntN(3)
		cin := []int{16, 32, 48, 64}[r.IntN(4)]
		if kw == 2 && r.IntN(2) == 0 {
			cin = 8
		}
		tc := q8ConvCase{name: "implicit", kh: 1 + r.IntN(3), kw: kw, sh: 1 + r.IntN(3), sw: 1 + r.IntN(3),
			dh: 1 + r.IntN(2), c: cin, o: 1 + r.IntN(80), extra: r.IntN(2) * r.IntN(9)}
		if tc.kh == 1 && tc.kw == 1 {
			tc.kh = 2 // one tap: im2col (checked below)
		}
		tc.pt, tc.pl, tc.pb, tc.pr = r.IntN(3), r.IntN(3), r.IntN(3), r.IntN(3)
		tc.h = max(1, tc.dh*(tc.kh-1)+1-tc.pt-tc.pb) + r.IntN(8)
		tc.w = max(1, tc.kw-tc.pl-tc.pr) + r.IntN(8)
		c := tc.conv()
		if c.OutH < 1 || c.OutW < 1 || c.KH*c.KW*c.InC <= q8Avx2KR { // K ≤ 16: c16 tiles
			continue
		}
		c.InZero = q8Zero(r)
		c.Workers = 1 + r.IntN(2)
		k := c.KH * c.KW * c.InC
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		z := int32(r.IntN(129) - 64)
		edge := 0
		if ci%4 == 3 {
			edge = 1
			for i := range x {
				x[i] = [2]int8{-128, 127}[r.IntN(2)]
			}
		}
		w := q8Seven(r, c.OutC*k, z, edge)
		if eight {
			if edge == 1 {
				z = 0
			}
			w = q8Eight(r, c.OutC*k, z, edge)
		}
		bias := make([]int32, c.OutC)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<16) - 1<<15)
		}
		mode := []Rounding{RoundUpward, RoundDouble}[ci%2]
		c.Requant = q8RandRequant(r, c.OutC, math.Sqrt(float64(k))*80, mode)
		q8NoUpward1(r, &c.Requant, ci/2)
		p := c.Pack(w, []int32{z}, bias)
		require.True(t, (p.arch.x8 || c4 && p.arch.c4) && p.arch.ub, "case %d: 7-bit weights with K = %d packed x8 ub (or c4 with c4)", ci, k)
		implicit := !p.arch.c4 || q8ImplicitC4(p.arch.tables(&c.Requant, c.OutC))
		if p.arch.c4 && implicit {
			ranC4++
		}
		require.Equal(t, q8VnniLevel(), p.arch.vnni, "case %d: vnni", ci)
		msg := fmt.Sprintf("case %d %+v", ci, *c)
		ran++

		pixels := c.OutH * c.OutW
		xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
		want := q8OutBuf(pixels, c.OutC, c.OutStride)
		got := q8OutBuf(pixels, c.OutC, c.OutStride)
		s1 := make([]byte, c.ScratchBytes())
		// Room for the padded rows of any chunk (q8ConvImplicit falls back
		// to im2col without it; the runtime's scratch is the model's
		// largest layer's).
		s2 := newQ8Buf(max(c.ScratchBytes(), (c.InH+c.PadT+4*c.KH)*(c.OutW*c.StrideW+c.KW)*c.InC), func(int) int8 { return 0 })
		for _, ch := range q8Chunks(r, pixels, c.TilePixels()) {
			q8ConvGeneric(c, xin.data(), p, want.data(), bytesAsInt8(s1), ch[0], ch[1])
			require.Equal(t, implicit, q8ConvImplicit(c, xin.data(), p, p.arch, got.data(), s2.data(), ch[0], ch[1]), "%s: pixels [%d, %d) taken", msg, ch[0], ch[1])
			if !implicit {
				q8ConvArch(c, xin.data(), p, p.arch, got.data(), s2.data(), ch[0], ch[1])
			}
		}
		require.Equal(t, want.data(), got.data(), msg)
		got.checkGuards(t, "output")
		xin.checkGuards(t, "input")
		s2.checkGuards(t, "scratch")
		require.Equal(t, x, xin.data(), "input modified")

		// Left to im2col: RoundSingle, too little scratch for the padded
		// rows, kernel rows not in 16-byte blocks.
		c.Requant.Rounding = RoundSingle
		require.False(t, q8ConvImplicit(c, x, p, p.arch, make([]int8, len(got.data())), s2.data(), 0, pixels), msg)
		c.Requant.Rounding = mode
		one := *c
		one.KH, one.KW, one.OutH, one.OutW = 1, 1, (c.InH-1)/c.StrideH+1, (c.InW-1)/c.StrideW+1
		one.PadT, one.PadL, one.StrideH = 0, 0, 2
		op := one.Pack(q8Seven(r, one.OutC*one.InC, z, 0), []int32{z}, nil)
		if op.arch.ub {
			require.False(t, q8ConvImplicit(&one, x, op, op.arch, make([]int8, one.OutH*one.OutW*one.OutStride), s2.data(), 0, 1), msg)
		}
		if c.PadT+c.PadL > 0 {
			require.False(t, q8ConvImplicit(c, x, p, p.arch, make([]int8, len(got.data())), nil, 0, 1), msg)
		}
	}
	require.Greater(t, ran, 40, "cases run")
	if c4 {
		require.Greater(t, ranC4, 15, "cases run on the implicit ZMM c4 tile")
	}
	odd := (&q8ConvCase{h: 6, w: 5, c: 20, o: 9, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv() // KW·InC = 60
	odd.Requant = q8RandRequant(r, odd.OutC, 300, RoundUpward)
	po := odd.Pack(q8Seven(r, odd.OutC*9*odd.InC, 0, 0), nil, nil)
	np := po.arch
	if np.c4 { // the avx512vnni path packs it c4, which never runs implicit: check the x8 layout
		np = q8PackArchX8(po, 1, true)
		np.vnni = true
	}
	require.True(t, np.x8 && np.ub)
	require.False(t, q8ConvImplicit(odd, make([]int8, 6*5*20), po, np, make([]int8, 30*9), make([]int8, 1<<16), 0, 30))
}

// TestQ8Avx2Implicit runs q8Avx2ImplicitCompare on its own (it also runs
// in TestKernelBodies).
func TestQ8Avx2Implicit(t *testing.T) {
	if hwLevel < pathLevel(PathAVX2) || level < pathLevel(PathAVX2) {
		t.Skip("avx2 path not selected")
	}
	q8Avx2ImplicitCompare(t, 1, false, false)
	if q8VnniLevel() {
		q8Avx2ImplicitCompare(t, 2, true, false)
		q8Avx2ImplicitCompare(t, 2, true, true)
	}
}

// q8Eight returns n int8 weights w with w − zw in [−128, 127] where w is
// int8 (other draws are repeated): random (edge 0), or only the extremes
// w − zw = −128 and 127 (edge 1; one of them fits for any zw in
// [−128, 128]).
func q8Eight(r *rand.Rand, n int, zw int32, edge int) []int8 {
	w := make([]int8, n)
	for i := range w {
		for {
			d := int32(r.IntN(256) - 128)
			if edge == 1 {
				d = [2]int32{-128, 127}[r.IntN(2)]
			}
			if v := zw + d; v >= -128 && v <= 127 {
				w[i] = int8(v)
				break
			}
		}
	}
	return w
}
