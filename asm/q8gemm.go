package asm

import "fmt"

// QPacked holds constant int8 weights in the layout of the kernel whose Pack
// method made it, with everything the kernel folds at pack time: the bias
// with the input zero point folded in, and the weight zero points. It is
// opaque, immutable and safe to share between goroutines. A QPacked is tied
// to the InZero and geometry of the kernel that packed it.
type QPacked struct {
	// w is a GEMM B matrix of (weight − weight zero point) values, ⌈N/8⌉
	// panels of 8 columns, K-major, two columns per int64 lane pair:
	// w[p·K + k][q] = (B[k][8p+2q] − zw) + (B[k][8p+2q+1] − zw)·2^32.
	w []q8Quad
	// dw is a depthwise filter of (weight − zero point) values, tap-major:
	// dw[t·C·Mult + o].
	dw []int32
	// bias[o] = bias[o] − InZero·Σ_k (w[k][o] − zw[o]) for GEMM-based
	// kernels; the plain bias for depthwise.
	bias []int32
	// dwFold is the depthwise bias with InZero folded in for pixels whose
	// whole window is inside the input: bias[o] − InZero·Σ_t dw[t][o].
	dwFold []int32
	// k is the GEMM depth per group and panels the panel count per group.
	k, panels int
	// implicit marks a convolution whose geometry the amd64 implicit
	// (im2col-free) tiles can take: the avx512vnni path packs it for the
	// implicit ZMM c4 tile (or, with q8VnniC4Implicit off, in the x8
	// layout of the implicit x8 tile), and the others (QGemm, 1×1 and the
	// other convolutions, on im2col or direct A rows) in its c4 layout.
	implicit bool
	// arch is w repacked for the selected path's arm64 GEMM tiles
	// (q8PackArch), or nil when the generic body runs.
	arch *q8ArchPacked
	// dwArch is the depthwise filter for the selected path's 3×3 body
	// (q8DWPackArch): the weights − zero point as int8, tap-major [9][C],
	// then C bytes of InZero (the padding row); nil when the generic body
	// runs.
	dwArch []int8
	// dwDot is the depthwise filter for the SDOT 3×3 body (q8DWDotPack,
	// written when Pack runs on the dotprod path): per kernel column j and
	// channel c, 4 bytes [w(0,j), w(1,j), w(2,j), 0] at 4·(j·C + c), then C
	// bytes of InZero; nil otherwise.
	dwDot []int8
	// dwVNNI is the avx512vnni 3×3 depthwise body's per-block tables and
	// padding row (q8DWZPack, amd64), nil otherwise; dwVNNIKey is the
	// Requant they were built from.
	dwVNNI    []byte
	dwVNNIKey requantKey
}

// Bytes is the memory the packed weights occupy.
func (p *QPacked) Bytes() int {
	return 32*len(p.w) + 4*(len(p.dw)+len(p.bias)+len(p.dwFold)) + len(p.dwArch) + len(p.dwDot) + p.arch.bytes()
}

// q8Quad is one k step of a packed panel: 8 columns as 4 lane pairs.
type q8Quad [4]int64

// q8NR is the column count of a packed panel; q8KC bounds the depth summed in
// one 64-bit lane pair (see q8Kernel2x8).
const (
	q8NR = 8
	q8KC = 1 << 16
)

// q8GemmDefaultMR is the row count of the default int8 register tile. A lane
// pair makes one 64-bit multiply do two multiply-adds, and the integer
// multiplier's throughput bounds every tile height: on Zen 3 (shared, noisy
// machine) 1×8 and 2×8 measure within noise of each other, and 4×8, whose
// 16 sums spill on amd64, is 10–30% slower. 2×8 halves the weight loads of
// 1×8.
const q8GemmDefaultMR = 2

// QGemm is an int8 matrix multiply with TFLite's FULLY_CONNECTED arithmetic:
//
//	for m < M, n < N:
//		acc := bias[n] + Σ_{k<K} (A[m][k] − InZero) · (B[k][n] − wZero[n])
//		C[m][n] = Requant.Apply(acc, n)
//
// with int32 accumulation (wrapping, like TFLite). B is constant and packed
// once by Pack; A and C are row-major int8 with the row strides given to
// Run. Requant needs N channels (per-tensor repeats one value); TFLite 2.9
// FULLY_CONNECTED computes it with NewRequantLegacy and, in its optimised
// kernel (ruy), rounds with RoundSingle.
type QGemm struct {
	M, N, K int
	InZero  int32
	Requant Requant

	// mr overrides the generic register tile's row count (tests); 0
	// selects q8GemmDefaultMR. The arm64 tiles ignore it.
	mr int
	// rqOK is the key of the Requant Pack validated (zero if it was not
	// valid then); Run skips the per-channel validation while Requant
	// keeps those slices and scalars.
	rqOK requantKey
}

// Pack packs B and folds the bias. b is row-major [K][N] when transB is false
// and [N][K] (a TFLite FULLY_CONNECTED or ONNX Gemm transB=1 weight) when it
// is true. wZero is nil (all zero), one value or N values; bias is nil or N
// values. Call it once at prepare time, after setting InZero. It panics if
// a slice is too short. On the neon and dotprod paths Pack also repacks B for
// the arm64 tiles of the selected path (see Select), which Run then uses.
// Pack validates Requant when it is set; while Requant keeps those slices
// and scalars Run does not validate it again, so change its contents by
// assigning new slices, not in place.
func (g *QGemm) Pack(b []int8, transB bool, wZero []int32, bias []int32) *QPacked {
	if g.M < 0 || g.N < 0 || g.K < 0 || len(b) < g.K*g.N {
		panic(fmt.Sprintf("asm: QGemm %dx%dx%d: Pack got %d weights, need %d", g.M, g.N, g.K, len(b), g.K*g.N))
	}
	checkQ8Zero("QGemm", wZero, bias, g.N)
	k, n := g.K, g.N
	at := func(kk, nn int) int8 { return b[kk*n+nn] }
	if transB {
		at = func(kk, nn int) int8 { return b[nn*k+kk] }
	}
	p := &QPacked{k: k, panels: q8CeilDiv(n, q8NR)}
	p.w = make([]q8Quad, p.panels*k)
	p.bias = make([]int32, n)
	packQ8Panels(p.w, p.bias, k, n, g.InZero, wZero, bias, 0, at)
	p.arch = q8PackArch(p, 1)
	g.rqOK = g.Requant.checkedKey(g.N)
	return p
}

// ScratchBytes is the scratch Run needs: none for the generic body, which
// reads A in place.
func (g *QGemm) ScratchBytes() int { return 0 }

// ColumnBlock is the column granularity of Run: a column range must start at
// a multiple of it (it may end at N).
func (g *QGemm) ColumnBlock() int { return q8NR }

// Run computes columns [n0, n1) of every row of C. Row m of A starts at
// a[m·lda] and row m of C at c[m·ldc]; p is from Pack and scratch holds at
// least ScratchBytes() bytes. n0 must be a multiple of ColumnBlock(). Run
// does not allocate and may run concurrently on disjoint column ranges.
func (g *QGemm) Run(a []int8, lda int, p *QPacked, c []int8, ldc int, scratch []byte, n0, n1 int) {
	if n0%q8NR != 0 || n0 < 0 || n1 > g.N {
		panic(fmt.Sprintf("asm: QGemm.Run columns [%d, %d) of %d: start must be a multiple of %d", n0, n1, g.N, q8NR))
	}
	if p == nil || p.k != g.K || len(p.bias) < g.N {
		panic("asm: QGemm.Run: packed weights are not from this QGemm")
	}
	g.Requant.checkKeyed("QGemm", g.N, g.rqOK)
	if n1 <= n0 || g.M == 0 {
		return
	}
	if p.arch != nil {
		q8GemmArch(g, a, lda, p, p.arch, c, ldc, n0, n1)
		return
	}
	mr := g.mr
	if mr == 0 {
		mr = q8GemmDefaultMR
	}
	q8GemmBlock(mr, g.M, g.K, a, lda, p.w, p.bias, &g.Requant, 0, c, ldc, n0, n1)
}

// packQ8Panels packs columns [0, n) of a K×n matrix, read through at, into
// pair-packed panels (see QPacked.w) at w, and writes the folded bias of
// those columns to fold: bias[o] − zx·Σ_k (at(k, o) − zw[o]). wZero and bias
// are indexed from ch0.
func packQ8Panels(w []q8Quad, fold []int32, k, n int, zx int32, wZero, bias []int32, ch0 int, at func(kk, nn int) int8) {
	for o := 0; o < n; o++ {
		zw := q8ZeroAt(wZero, ch0+o)
		var sum int32
		panel := w[(o/q8NR)*k:]
		q, hi := (o%q8NR)/2, o%2 == 1
		for kk := 0; kk < k; kk++ {
			v := int32(at(kk, o)) - zw
			sum += v
			if hi {
				panel[kk][q] += int64(v) << 32
			} else {
				panel[kk][q] += int64(v)
			}
		}
		var b int32
		if bias != nil {
			b = bias[ch0+o]
		}
		fold[o] = b - zx*sum
	}
}

// checkQ8Zero validates the per-channel zero points and bias of a Pack call.
func checkQ8Zero(what string, wZero, bias []int32, n int) {
	if len(wZero) > 1 && len(wZero) < n {
		panic(fmt.Sprintf("asm: %s.Pack: %d weight zero points for %d channels", what, len(wZero), n))
	}
	for _, z := range wZero {
		if z < -128 || z > 127 {
			panic(fmt.Sprintf("asm: %s.Pack: weight zero point %d outside int8", what, z))
		}
	}
	if bias != nil && len(bias) < n {
		panic(fmt.Sprintf("asm: %s.Pack: %d biases for %d channels", what, len(bias), n))
	}
}

// q8ZeroAt is the weight zero point of channel c: 0 for nil, the single
// value of a per-tensor list, else wZero[c].
func q8ZeroAt(wZero []int32, c int) int32 {
	switch len(wZero) {
	case 0:
		return 0
	case 1:
		return wZero[0]
	}
	return wZero[c]
}

func q8CeilDiv(a, b int) int { return (a + b - 1) / b }
