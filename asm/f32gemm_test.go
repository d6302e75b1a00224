package asm

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// f32GemmUKernels are the generated micro-kernels by row count (index MR-1).
var f32GemmUKernels = []func(kc int, a []float32, lda int, b, acc []float32){
	f32Gemm1x4Scalar, f32Gemm2x4Scalar, f32Gemm3x4Scalar, f32Gemm4x4Scalar,
}

// TestF32GemmUKernels checks each micro-kernel against a direct sum over the
// k grid below, at and above the 4-step unroll, with strided A rows, guard
// bands on A, B and acc, and an initial acc.
func TestF32GemmUKernels(t *testing.T) {
	r := seeded(t, 3)
	for mi, uk := range f32GemmUKernels {
		mr := mi + 1
		for _, kc := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 64, 255, 513} {
			t.Run(fmt.Sprintf("%dx4/k%d", mr, kc), func(t *testing.T) {
				lda := kc + r.IntN(3)
				a := inputGuarded(randSlice(r, max(0, (mr-1)*lda+kc)))
				b := inputGuarded(randSlice(r, 4*kc))
				acc0 := randSlice(r, mr*4)
				acc := newGuarded(mr*4, 0)
				copy(acc.data(), acc0)
				aCopy, bCopy := append([]float32(nil), a.data()...), append([]float32(nil), b.data()...)
				uk(kc, a.data(), lda, b.data(), acc.data())
				for i := 0; i < mr; i++ {
					for j := 0; j < 4; j++ {
						want := float64(acc0[i*4+j])
						for k := 0; k < kc; k++ {
							want += float64(aCopy[i*lda+k]) * float64(bCopy[k*4+j])
						}
						require.InDelta(t, want, float64(acc.data()[i*4+j]), 1e-5*max(1, math.Sqrt(float64(kc))), "row %d col %d", i, j)
					}
				}
				acc.checkGuards(t)
				requireUnchanged(t, "a", aCopy, a.data())
				requireUnchanged(t, "b", bCopy, b.data())
			})
		}
	}
}

// gemmRef is C = clamp(A·B + bias) in float64 with B given as [K][N].
func gemmRef(a []float32, lda int, b []float32, bias []float32, m, n, k int, c Clamp) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			if bias != nil {
				s = float64(bias[j])
			}
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*lda+kk]) * float64(b[kk*n+j])
			}
			out[i*n+j] = math.Min(math.Max(s, float64(c.Min)), float64(c.Max))
		}
	}
	return out
}

type gemmCase struct {
	m, n, k      int
	transB, bias bool
	lpad, cpad   int
	clamp        Clamp
}

func runGemmCase(t *testing.T, tc gemmCase, mr int, seed uint64) {
	r := seeded(t, seed)
	if tc.clamp == (Clamp{}) {
		tc.clamp = NoClamp()
	}
	lda, ldc := tc.k+tc.lpad, tc.n+tc.cpad
	a := randSlice(r, max(0, (tc.m-1)*lda+tc.k))
	bKN := randSlice(r, tc.k*tc.n)
	b := bKN
	if tc.transB {
		b = make([]float32, len(bKN))
		for kk := 0; kk < tc.k; kk++ {
			for j := 0; j < tc.n; j++ {
				b[j*tc.k+kk] = bKN[kk*tc.n+j]
			}
		}
	}
	var bias []float32
	if tc.bias {
		bias = randSlice(r, tc.n)
	}
	g := &Gemm{M: tc.m, N: tc.n, K: tc.k, Clamp: tc.clamp, mr: mr}
	packed := g.PackF32(b, tc.transB)
	packedCopy := append([]float32(nil), packed...)
	ref := gemmRef(a, lda, bKN, bias, tc.m, tc.n, tc.k, tc.clamp)
	in := inputGuarded(a)
	var biasIn []float32
	if bias != nil {
		biasIn = inputGuarded(bias).data()
	}
	c := newGuarded(max(0, (tc.m-1)*ldc+tc.n), sentinel)
	scratch := newGuarded(g.ScratchF32(), 0)
	// Column ranges: random cuts at multiples of ColumnBlock.
	cb := g.ColumnBlock()
	for n0 := 0; n0 < tc.n; {
		n1 := min(tc.n, n0+cb*(1+r.IntN(3)))
		g.RunF32(in.data(), lda, packed, biasIn, c.data(), ldc, scratch.data(), n0, n1)
		n0 = n1
	}
	tol := tolerance(ref)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(c.data()); j++ {
			got := c.data()[i*ldc+j]
			if j >= tc.n {
				require.Equal(t, math.Float32bits(sentinel), math.Float32bits(got), "gap C[%d][%d] written", i, j)
				continue
			}
			require.InDelta(t, ref[i*tc.n+j], float64(got), tol, "C[%d][%d] %+v", i, j, tc)
		}
	}
	c.checkGuards(t)
	scratch.checkGuards(t)
	requireUnchanged(t, "a", a, in.data())
	requireUnchanged(t, "packed", packedCopy, packed)
	if bias != nil {
		requireUnchanged(t, "bias", bias, biasIn)
	}
}

func TestGemm(t *testing.T) {
	cases := []gemmCase{
		{m: 1, n: 1, k: 1},
		{m: 1, n: 13, k: 0, bias: true, clamp: relu},
		{m: 3, n: 5, k: 0},
		{m: 1, n: 4096 / 16, k: 4096 / 8, bias: true},
		{m: 1, n: 10, k: 1031, transB: true, bias: true},
		{m: 7, n: 9, k: 11, lpad: 3, cpad: 2, bias: true, clamp: relu6},
		{m: 17, n: 33, k: 600, transB: true, bias: true, lpad: 1},
		{m: 70, n: 12, k: 1030, bias: true, cpad: 5},
		{m: 196, n: 20, k: 96, clamp: Clamp{-0.5, 0.5}},
	}
	for _, kt := range gemmTilings(t) {
		for i, tc := range cases {
			t.Run(fmt.Sprintf("%s/%+v", kt.Name, tc), func(t *testing.T) { runGemmCase(t, tc, kt.MR, uint64(i)) })
		}
		for m := 1; m <= 2*kt.MR+1; m++ {
			for n := 1; n <= 9; n++ {
				for _, k := range []int{1, 3, 4, 5, 8, 9} {
					tc := gemmCase{m: m, n: n, k: k, bias: (m+n)%2 == 0, transB: k%2 == 1, lpad: m % 2, cpad: n % 3}
					t.Run(fmt.Sprintf("%s/edge/%+v", kt.Name, tc), func(t *testing.T) { runGemmCase(t, tc, kt.MR, uint64(m*100+n*10+k)) })
				}
			}
		}
		for i := 0; i < 100; i++ {
			r := seeded(t, uint64(5000+i))
			tc := gemmCase{m: 1 + r.IntN(40), n: 1 + r.IntN(40), k: r.IntN(80), transB: r.IntN(2) == 0, bias: r.IntN(2) == 0,
				lpad: r.IntN(3), cpad: r.IntN(3)}
			if r.IntN(5) == 0 {
				tc.k = 500 + r.IntN(600)
			}
			if r.IntN(3) == 0 {
				tc.clamp = relu6
			}
			t.Run(fmt.Sprintf("%s/random/%+v", kt.Name, tc), func(t *testing.T) { runGemmCase(t, tc, kt.MR, uint64(5000+i)) })
		}
	}
}

// TestGeneratedUpToDate regenerates the micro-kernels and diffs them with
// the committed file.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	cmd := exec.Command(gobin, "run", "gen_f32gemm.go", "-o", "-")
	// A cross-compiled test run (GOARCH=arm64 … -exec qemu) must still
	// build the generator for the host it runs the go tool on.
	cmd.Env = append(os.Environ(), "GOARCH=", "GOOS=", "GOARM=")
	got, err := cmd.Output()
	require.NoError(t, err)
	want, err := os.ReadFile("f32gemm_ukernels_generic.go")
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "f32gemm_ukernels_generic.go is stale: run go generate ./asm/")
}
