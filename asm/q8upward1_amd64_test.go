//go:build !purego

package asm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// q8NoUpward1 gives, in every fourth case i of RoundUpward, one random
// channel of rq a shift of 0 or +1 (r = 0, or a left shift), which
// q8Avx2Params1 refuses: that channel's 64-column block runs the
// two-rounding form while the others run Upward1.
func q8NoUpward1(r *rand.Rand, rq *Requant, i int) {
	if rq.Rounding != RoundUpward || i%4 != 1 || len(rq.Shift) == 0 {
		return
	}
	rq.Shift[r.IntN(len(rq.Shift))] = int32(r.IntN(2))
}

// q8Upward1Lane is what the Upward1 tiles (x86.Upward1) compute in column
// j's lane from the tile's sum x and the table of q8Avx2Params1: the 64-bit
// product plus the column's constant (mod 2^64, VPMULDQ + VPADDQ), shifted
// right logically by its 64-bit count (VPSRLVQ), the low dword of an even
// column or the high one of an odd column (VPBLENDD), plus zo − 2^(31−r)
// (VPADDD, mod 2^32).
func q8Upward1Lane(prm *[6*q8Avx2NC + 4]int32, j int, x int32) int32 {
	const nc = q8Avx2NC
	e := j - j%2 + (j%2)*nc
	c := uint64(uint32(prm[nc+e])) | uint64(uint32(prm[nc+e+1]))<<32
	cnt := uint64(uint32(prm[3*nc+e])) | uint64(uint32(prm[3*nc+e+1]))<<32
	q := uint64(int64(x)*int64(prm[j])) + c
	q >>= cnt
	if j%2 == 1 {
		q >>= 32
	}
	return int32(uint32(q) + uint32(prm[5*nc+j]))
}

// TestQ8Upward1Identity checks the single rounding of the Upward1 form
// against the oracle (rescale, RoundUpward) through the lane arithmetic
// and the parameter table: every right shift r = 1…31, edge and random
// multipliers (0, 1, 2^30 ± 1, 2^31 − 1) and sums (±2^31 edges, ties of
// the two roundings), with the bias folded (reach + |bias| < 2^31) or
// without one (x anywhere in int32), on even and odd columns.
func TestQ8Upward1Identity(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	defer func(one bool) { q8Avx2Upward1 = one }(q8Avx2Upward1)
	q8Avx2Upward1 = true
	mults := []int32{0, 1, 2, 3, 1 << 30, 1<<30 - 1, 1<<30 + 1, math.MaxInt32, math.MaxInt32 - 1}
	xs := []int32{0, 1, -1, 2, -2, math.MaxInt32, math.MinInt32, math.MinInt32 + 1, math.MaxInt32 - 1, 1 << 30, -1 << 30}
	const n = 16
	var prm [6*q8Avx2NC + 4]int32
	checked := 0
	for rr := int32(1); rr <= 31; rr++ {
		for it := 0; it < 20; it++ {
			rq := Requant{Mult: make([]int32, n), Shift: make([]int32, n), OutZero: int32(r.IntN(256) - 128), Rounding: RoundUpward}
			for c := range rq.Mult {
				rq.Mult[c], rq.Shift[c] = int32(r.Uint32()>>1), -rr
				if r.IntN(2) == 0 {
					rq.Mult[c] = mults[r.IntN(len(mults))]
				}
			}
			// it even: no bias, reach 0, any int32 sum; odd: a bias and
			// sums inside the bound.
			reach := int64(0)
			bias := make([]int32, n)
			if it%2 == 1 {
				reach = r.Int64N(1 << 30)
				for c := range bias {
					bias[c] = int32(r.Int64N(2*(1<<31-reach)-1) - (1<<31 - reach - 1))
				}
			}
			require.True(t, q8Avx2Params1(&prm, &rq, bias, nil, 0, n, reach))
			for j := 0; j < n; j++ {
				for k := 0; k < 64; k++ {
					var x int32
					switch {
					case reach == 0 && k < len(xs):
						x = xs[k]
					case reach == 0 && k < 48:
						// x·m near a tie of either rounding.
						half := int64(1) << (30 + rr)
						if m := int64(rq.Mult[j]); m != 0 {
							x = int32(max(min((half*int64(k%5+1)-int64(k%3-1))/m, math.MaxInt32), math.MinInt32))
						}
					case reach == 0:
						x = int32(r.Uint32())
					default:
						x = int32(r.Int64N(2*reach+1) - reach)
						if k < 4 {
							x = int32([4]int64{reach, -reach, 0, 1}[k])
						}
					}
					want := rq.OutZero + rescale(RoundUpward, x+bias[j], rq.Mult[j], rq.Shift[j])
					require.Equal(t, want, q8Upward1Lane(&prm, j, x), "x %d bias %d m %d r %d column %d", x, bias[j], rq.Mult[j], rr, j)
					checked++
				}
			}
		}
	}
	require.Greater(t, checked, 600000)
}

// TestQ8Upward1Refusals checks which blocks q8Avx2Params1 takes: a right
// shift of 1…31 and reach + |bias| < 2^31 in every column, RoundUpward,
// q8Avx2Upward1 set.
func TestQ8Upward1Refusals(t *testing.T) {
	defer func(one bool) { q8Avx2Upward1 = one }(q8Avx2Upward1)
	var prm [6*q8Avx2NC + 4]int32
	const reach = 1 << 20
	for _, tc := range []struct {
		name  string
		shift int32
		bias  int32
		mode  Rounding
		off   bool
		ok    bool
	}{
		{"r=1", -1, 0, RoundUpward, false, true},
		{"r=31", -31, 0, RoundUpward, false, true},
		{"r=0", 0, 0, RoundUpward, false, false},
		{"left shift", 2, 0, RoundUpward, false, false},
		{"bias at bound", -5, 1<<31 - reach - 1, RoundUpward, false, true},
		{"bias past bound", -5, 1<<31 - reach, RoundUpward, false, false},
		{"negative bias past bound", -5, -(1<<31 - reach), RoundUpward, false, false},
		{"double", -5, 0, RoundDouble, false, false},
		{"switched off", -5, 0, RoundUpward, true, false},
	} {
		q8Avx2Upward1 = !tc.off
		rq := Requant{Mult: []int32{1 << 30, 1 << 30, 1 << 30}, Shift: []int32{-3, tc.shift, -3}, Rounding: tc.mode}
		bias := []int32{0, tc.bias, 0}
		require.Equal(t, tc.ok, q8Avx2Params1(&prm, &rq, bias, nil, 0, 8, reach), tc.name)
	}
}

// q8Avx2Upward1Edge runs the x8 tiles (7-bit and int16 weights) on QGemms
// at the edges of the Upward1 form bit for bit against the generic body:
// r = 1, 2, 30, 31, multipliers 2^30 ± 1 and 2^31 − 1, biases that put the
// sums near ±2^31 within the bound (extreme activations and weights), and
// a column whose bias passes the bound (its block falls back to the
// two-rounding form while the next one runs Upward1). vnni runs the ub
// cases on the VNNI tiles, with 8-bit weights (−128 / 127 at the edges)
// in half of them.
func q8Avx2Upward1Edge(t *testing.T, seed uint64, vnni bool) {
	r := q8Seeded(t, seed)
	for ci, tc := range []struct {
		k, n  int
		ub    bool
		edges bool // biases at the bound
		fall  bool // one column of the first block past it
	}{
		{40, 24, true, false, false},
		{40, 24, true, true, false},
		{64, 72, true, true, true},
		{200, 20, true, true, false},
		{40, 24, false, true, false},
		{64, 70, false, true, true},
	} {
		const m = 7
		g := &QGemm{M: m, N: tc.n, K: tc.k}
		zw := make([]int32, tc.n)
		b := make([]int8, tc.k*tc.n)
		eight := vnni && ci%2 == 1
		for i := range b {
			if tc.ub && eight {
				b[i] = q8Eight(r, 1, 0, ci%4/2)[0]
			} else if tc.ub {
				b[i] = q8Seven(r, 1, 0, ci%2)[0]
			} else {
				b[i] = [3]int8{-128, 127, int8(r.IntN(256) - 128)}[r.IntN(3)]
			}
		}
		if !tc.ub {
			for i := range zw {
				zw[i] = [2]int32{-128, 127}[i%2] // w − zw in [−255, 255]
			}
		}
		a := newQ8Buf(m*tc.k, func(int) int8 { return [3]int8{-128, 127, int8(r.IntN(256) - 128)}[r.IntN(3)] })
		rq := Requant{Mult: make([]int32, tc.n), Shift: make([]int32, tc.n), OutZero: int32(r.IntN(256) - 128),
			Min: -128, Max: 127, Rounding: RoundUpward}
		if ci%2 == 1 {
			rq.Min, rq.Max = -100, 90
		}
		// The tiles' depth is K padded to their k block.
		reach := int64(q8CeilDiv(tc.k, 8)*8) * 255 * 255
		switch {
		case tc.ub && vnni:
			reach = int64(q8CeilDiv(tc.k, 16)*16) * 255 * 128
		case tc.ub:
			reach = int64(q8CeilDiv(tc.k, 16)*16) * 255 * 64
		}
		bias := make([]int32, tc.n)
		for c := range bias {
			rq.Mult[c] = [5]int32{1 << 30, 1<<30 + 1, 1<<30 - 1, math.MaxInt32, int32(r.Uint32() >> 1)}[c%5]
			rq.Shift[c] = -[5]int32{1, 2, 30, 31, int32(1 + r.IntN(31))}[(c/5)%5]
			bias[c] = int32(r.IntN(1<<16) - 1<<15)
			if tc.edges {
				// The pack adds −InZero·Σw to the bias (0 here).
				bias[c] = int32((1<<31 - reach - 1) * int64(1-2*(c%2)))
				if c%3 == 2 {
					bias[c] = int32(r.Int64N(2*(1<<31-reach)-1) - (1<<31 - reach - 1))
				}
			}
		}
		if tc.fall {
			bias[5] = int32(1<<31 - reach)
		}
		g.Requant = rq
		p := g.Pack(b, false, zw, bias)
		np := q8PackArchX8(p, 1, tc.ub)
		np.vnni = vnni && tc.ub
		require.Equal(t, reach, np.reach(), "case %d", ci)
		var prm [6*q8Avx2NC + 4]int32
		nj := min(tc.n, q8Avx2NC)
		var corr []int32
		if tc.ub {
			corr = np.corr[:nj]
		}
		require.Equal(t, !tc.fall, q8Avx2Params1(&prm, &g.Requant, p.bias[:nj], corr, 0, q8CeilDiv(nj, 8)*8, np.reach()), "case %d: block 0 form", ci)
		for range 3 {
			checkQ8GemmArchOne(t, r, g, a, tc.k, tc.n, p, np)
		}
	}
}
