package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

type q8GemmCase struct {
	m, n, k       int
	lda, ldc      int // extra row stride beyond k and n
	transB, noBia bool
	wzero         int
}

// q8GemmRef is the direct accumulator bias[n] + Σ_k (a − zx)(b − zw[n]) in
// int64; b is [K][N], or [N][K] with trans.
func q8GemmRef(tc q8GemmCase, a []int8, lda int, b []int8, zx int32, zw, bias []int32) []int64 {
	acc := make([]int64, tc.m*tc.n)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s int64
			if bias != nil {
				s = int64(bias[j])
			}
			for k := 0; k < tc.k; k++ {
				bv := b[k*tc.n+j]
				if tc.transB {
					bv = b[j*tc.k+k]
				}
				s += (int64(a[i*lda+k]) - int64(zx)) * (int64(bv) - int64(q8ZeroRef(zw, j)))
			}
			acc[i*tc.n+j] = s
		}
	}
	return acc
}

func runQ8GemmCase(t *testing.T, tc q8GemmCase, mr int, mode Rounding, seed uint64) {
	r := q8Seeded(t, seed)
	lda, ldc := tc.k+tc.lda, tc.n+tc.ldc
	g := &QGemm{M: tc.m, N: tc.n, K: tc.k, InZero: q8Zero(r), mr: mr}
	a := q8Rand(r, max(0, (tc.m-1)*lda+tc.k), -128, 127)
	b := q8Rand(r, tc.k*tc.n, -128, 127)
	var zw []int32
	switch tc.wzero {
	case 1:
		zw = []int32{q8Zero(r)}
	case 2:
		zw = make([]int32, tc.n)
		for i := range zw {
			zw[i] = q8Zero(r)
		}
	}
	var bias []int32
	if !tc.noBia {
		bias = make([]int32, tc.n)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<18) - 1<<17)
		}
	}
	g.Requant = q8RandRequant(r, tc.n, math.Sqrt(float64(tc.k))*150, mode)
	acc := q8GemmRef(tc, a, lda, b, g.InZero, zw, bias)
	want := make([]int8, len(acc))
	for i, v := range acc {
		want[i] = requantRef(&g.Requant, v, i%tc.n)
	}
	ain := newQ8Buf(len(a), func(i int) int8 { return a[i] })
	p := g.Pack(b, tc.transB, zw, bias)
	out := q8OutBuf(tc.m, tc.n, ldc)
	// Column ranges start at multiples of ColumnBlock.
	cb := g.ColumnBlock()
	for _, ch := range q8Chunks(r, q8CeilDiv(tc.n, cb), 3) {
		g.Run(ain.data(), lda, p, out.data(), ldc, nil, ch[0]*cb, min(tc.n, ch[1]*cb))
	}
	requireQ8Out(t, want, out.data(), tc.n, tc.m, ldc, "gemm", func(i, j int) string {
		return q8Name("(acc %d)", acc[i*tc.n+j])
	})
	out.checkGuards(t, "output")
	ain.checkGuards(t, "A")
	require.Equal(t, a, ain.data(), "A modified")
}

func TestQ8GemmTable(t *testing.T) {
	cases := []q8GemmCase{
		{m: 1, n: 1000, k: 1024, transB: true}, // MobileNet classifier
		{m: 1, n: 9, k: 3},
		{m: 2, n: 8, k: 17, wzero: 1},
		{m: 3, n: 13, k: 64, lda: 5, ldc: 2, transB: true, wzero: 2},
		{m: 5, n: 16, k: 1, noBia: true},
		{m: 7, n: 31, k: 100, wzero: 1, transB: true},
		{m: 4, n: 7, k: 255, lda: 1, ldc: 9},
	}
	for i, tc := range cases {
		for _, mr := range []int{1, 2, 4} {
			for _, mode := range q8Roundings {
				t.Run(q8Name("%dx%dx%d/t%v/mr%d/%v", tc.m, tc.n, tc.k, tc.transB, mr, mode), func(t *testing.T) {
					runQ8GemmCase(t, tc, mr, mode, uint64(3000+i))
				})
			}
		}
	}
}

func TestQ8GemmRandom(t *testing.T) {
	r := q8Seeded(t, 10)
	for i := 0; i < 200; i++ {
		tc := q8GemmCase{m: 1 + r.IntN(9), n: 1 + r.IntN(40), k: 1 + r.IntN(300), lda: r.IntN(3), ldc: r.IntN(3),
			transB: r.IntN(2) == 0, noBia: r.IntN(5) == 0, wzero: r.IntN(3)}
		mr, mode, seed := 1+r.IntN(4), q8Roundings[r.IntN(3)], uint64(7000+i)
		t.Run(q8Name("%d", i), func(t *testing.T) { runQ8GemmCase(t, tc, mr, mode, seed) })
	}
}

// TestQ8GemmLongK runs a depth beyond the lane-pair chunk end to end, with
// products large enough that the int32 accumulator wraps (as TFLite's
// does). TestQ8TileAccLongK checks the chunking bit for bit.
func TestQ8GemmLongK(t *testing.T) {
	const k = 3*q8KC/2 + 7
	for _, mr := range []int{1, 2, 4} {
		g := &QGemm{M: 5, N: 11, K: k, InZero: 0, mr: mr}
		a := make([]int8, 5*k)
		b := make([]int8, k*11)
		for i := range a {
			a[i] = -128
		}
		for i := range b {
			b[i] = 127
			if i%3 == 0 {
				b[i] = -128
			}
		}
		zw := []int32{-128}
		// Sum sizes reach 2^31 scale: pick a multiplier that maps them into
		// int8 and compare through the reference.
		g.Requant = NewRequant(1, []float32{1}, float32(1<<30), 0, -128, 127).Expand(11)
		tc := q8GemmCase{m: 5, n: 11, k: k}
		acc := q8GemmRef(tc, a, k, b, 0, zw, nil)
		p := g.Pack(b, false, zw, nil)
		out := make([]int8, 5*11)
		g.Run(a, k, p, out, 11, nil, 0, 11)
		for i, v := range acc {
			// TFLite's int32 accumulator wraps; so does the reference here.
			require.Equal(t, requantRef(&g.Requant, int64(int32(v)), i%11), out[i], "mr %d element %d acc %d", mr, i, v)
		}
	}
}

// TestQ8TileAccLongK checks the raw accumulators of every tile height over
// depths that cross the lane-pair chunk, with the largest products of both
// signs: a lane pair summed over more than 2^16 such steps would carry into
// its high half.
func TestQ8TileAccLongK(t *testing.T) {
	r := q8Seeded(t, 11)
	for _, k := range []int{q8KC - 1, q8KC, q8KC + 1, 2*q8KC + 5} {
		for _, rows := range []int{1, 2, 4} {
			a := make([]int8, rows*k)
			for i := range a {
				a[i] = -128
				if r.IntN(16) == 0 {
					a[i] = int8(r.IntN(256) - 128)
				}
			}
			w := make([]int32, k*8) // w[k][j] − zw: +255 in even, −255 in odd columns
			for i := range w {
				w[i] = 255 - 510*int32(i%2)
				if r.IntN(16) == 0 {
					w[i] = int32(r.IntN(511) - 255)
				}
			}
			panel := make([]q8Quad, k)
			for kk := 0; kk < k; kk++ {
				for q := 0; q < 4; q++ {
					panel[kk][q] = int64(w[kk*8+2*q]) + int64(w[kk*8+2*q+1])<<32
				}
			}
			var acc [4 * q8NR]int32
			q8TileAcc(rows, k, a, k, panel, &acc)
			for rr := 0; rr < rows; rr++ {
				for j := 0; j < 8; j++ {
					var s int64
					for kk := 0; kk < k; kk++ {
						s += int64(a[rr*k+kk]) * int64(w[kk*8+j])
					}
					require.Equal(t, int32(s), acc[rr*8+j], "k %d rows %d row %d col %d", k, rows, rr, j)
				}
			}
		}
	}
}

// TestQ8GemmRequantAfterPack: Pack keeps the key of the Requant it
// validated, but Run still validates a Requant assigned after Pack (new
// slices) and panics on an invalid one.
func TestQ8GemmRequantAfterPack(t *testing.T) {
	r := seeded(t, 91)
	const m, n, k = 3, 11, 20
	g := &QGemm{M: m, N: n, K: k, InZero: 3}
	g.Requant = q8RandRequant(r, n, 40, RoundDouble)
	p := g.Pack(q8Rand(r, k*n, -127, 127), false, nil, nil)
	a, c := q8Rand(r, m*k, -128, 127), make([]int8, m*n)
	require.Zero(t, testing.AllocsPerRun(5, func() { g.Run(a, k, p, c, n, nil, 0, n) }))
	bad := q8RandRequant(r, n, 40, RoundDouble)
	bad.Shift = append([]int32(nil), bad.Shift...)
	bad.Shift[n-1] = 40 // out of range: Run must refuse it
	g.Requant = bad
	require.Panics(t, func() { g.Run(a, k, p, c, n, nil, 0, n) })
}
