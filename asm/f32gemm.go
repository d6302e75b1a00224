package asm

import "fmt"

// Gemm is a float32 matrix multiply with bias and clamp, used for fully
// connected layers and MatMul:
//
//	for m < M, n < N:
//		C[m][n] = Clamp(bias[n] + Σ_{k<K} A[m][k] · B[k][n])
//
// B is constant and packed once by PackF32; A and C are row-major with the
// row strides given to RunF32.
type Gemm struct {
	M, N, K int
	Clamp   Clamp

	// mr overrides the register tile's row count (tests); 0 selects
	// f32GemmDefaultMR.
	mr int
	// wide records that PackF32 wrote 16-column panels (the avx2 path).
	wide bool
}

// PackF32 packs B into the layout RunF32 reads and returns the new slice:
// b is row-major [K][N] when transB is false and [N][K] (ONNX Gemm with
// transB=1, a PyTorch Linear weight) when it is true. Call it once at
// prepare time. It panics if len(b) < K·N.
//
// The packed layout is ⌈N/W⌉ panels of W columns, each K-major:
// packed[(q·K + k)·W + j] = B[k][W·q+j], zero beyond column N. W is 4 on
// every path but amd64's avx2, where it is 16 (a tile's B row is one cache
// line); the choice is made here, from the path selected at packing time,
// and recorded in g, so RunF32 must be called on the Gemm that packed (or a
// copy made after packing). Every path reads either layout.
func (g *Gemm) PackF32(b []float32, transB bool) []float32 {
	if g.M < 0 || g.N < 0 || g.K < 0 || len(b) < g.K*g.N {
		panic(fmt.Sprintf("asm: Gemm %dx%dx%d: PackF32 got %d weights, need %d", g.M, g.N, g.K, len(b), g.K*g.N))
	}
	g.wide = f32PackWide()
	return packF32GemmB(b, g.K, g.N, g.panelWidth(), transB)
}

// panelWidth is the column width W of the packed panels.
func (g *Gemm) panelWidth() int {
	if g.wide {
		return f32GemmWideNR
	}
	return f32GemmNR
}

// ScratchF32 is the number of scratch elements RunF32 needs. The generic body
// reads A in place and needs none; SIMD bodies may.
func (g *Gemm) ScratchF32() int { return 0 }

// ColumnBlock is the column granularity of RunF32: a column range must start
// at a multiple of it (it may end at N). Ranges that start inside a wide
// panel work but split its tiles.
func (g *Gemm) ColumnBlock() int { return f32GemmNR }

// RunF32 computes columns [n0, n1) of every row of C. A row m starts at
// a[m·lda], C row m at c[m·ldc]; bias (len N) may be nil; packed is from
// PackF32; scratch holds at least ScratchF32() elements. n0 must be a
// multiple of ColumnBlock(). RunF32 does not allocate and may run
// concurrently on disjoint column ranges.
func (g *Gemm) RunF32(a []float32, lda int, packed, bias, c []float32, ldc int, scratch []float32, n0, n1 int) {
	if n0%f32GemmNR != 0 || n0 < 0 || n1 > g.N {
		panic(fmt.Sprintf("asm: Gemm.RunF32 columns [%d, %d) of %d: start must be a multiple of %d", n0, n1, g.N, f32GemmNR))
	}
	if f32GemmArch(g, a, lda, packed, bias, c, ldc, n0, n1) {
		return
	}
	gemmF32Generic(g, a, lda, packed, bias, c, ldc, n0, n1)
}

func (g *Gemm) tileMR() int {
	if g.mr != 0 {
		return g.mr
	}
	return f32GemmDefaultMR
}
