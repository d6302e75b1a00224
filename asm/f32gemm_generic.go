package asm

const (
	// f32GemmNR is the column width of a packed B panel and of every
	// generic register tile.
	f32GemmNR = 4
	// f32GemmWideNR is the column width of the wide packed B panels that
	// PackF32 writes when the selected path reads them (amd64 avx2).
	f32GemmWideNR = 16
	// f32GemmKC bounds the k extent of one pass: an MR×kc sliver of A
	// (≤ 8 KB) stays in a 32 KB L1 while the column block's panels stream
	// past it.
	f32GemmKC = 512
	// f32GemmBBlock bounds the floats of B (kc × column block, 128 KB) that
	// one pass over a row group streams from L2.
	f32GemmBBlock = 32 << 10
	// f32GemmMC bounds the rows of one Gemm block, so its MC×KC floats of A
	// (128 KB) stay in L2 across the column blocks.
	f32GemmMC = 64
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// packF32GemmB packs B ([k][n] row-major, or [n][k] when trans) into ⌈n/pw⌉
// k-major panels of pw columns, zero-padded: pw = 4 (f32GemmNR) is the
// layout every body reads; pw = 16 (f32GemmWideNR) is the amd64 AVX2 one,
// where a 16-column tile's B row is one 64-byte line.
func packF32GemmB(b []float32, k, n, pw int, trans bool) []float32 {
	panels := ceilDiv(n, pw)
	p := make([]float32, panels*k*pw)
	for q := 0; q < panels; q++ {
		dst := p[q*k*pw : (q+1)*k*pw]
		nv := min(pw, n-q*pw)
		// k outermost: pw short sequential streams in either layout.
		for kk := 0; kk < k; kk++ {
			for j := 0; j < nv; j++ {
				col := q*pw + j
				if trans {
					dst[kk*pw+j] = b[col*k+kk]
				} else {
					dst[kk*pw+j] = b[kk*n+col]
				}
			}
		}
	}
	return p
}

// f32GemmBlock computes, for i < m and j < n,
//
//	c[i*ldc+j] = clamp(bias[j] + Σ_{kk<k} a[i*lda+kk] · B[kk][j])
//
// where B is the packed panels b of pw columns (pw = 4: panel q = columns
// 4q..4q+3, k*4 floats; pw = 16: the amd64 wide panels, see
// packF32GemmB), whose column 0 is column coff of the first panel (coff is
// a multiple of 4, and 0 when pw = 4), and bias may be nil. A is read in
// place, never packed.
//
// Loops, outermost first: k blocks of at most f32GemmKC (only when several
// row groups reuse them; partial sums live in c between blocks); column
// blocks whose kc×nc slice of B fits f32GemmBBlock (L2); row groups of mr
// rows, whose A sliver stays in L1; the block's 4-column panels, read as one
// sequential stream from L2. This is GotoBLAS with the two inner loops
// swapped: in Goto's order the unpacked A rows become mr short strided
// streams from L2, which measured slower on conv tiles.
//
// Rows go through the mr-row micro-kernel, the last m%mr rows through a
// smaller one; columns past n are zero in the packed panels and are computed
// but never stored.
func f32GemmBlock(mr, m, n, k int, a []float32, lda int, b []float32, pw, coff int, bias, c []float32, ldc int, clamp Clamp) {
	if m <= 0 || n <= 0 {
		return
	}
	mr = min(max(mr, 1), 4) // the generated micro-kernels cover 1..4 rows
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				v := float32(0)
				if bias != nil {
					v = bias[j]
				}
				row[j] = clamp.apply(v)
			}
		}
		return
	}
	kc := k
	if (m > mr || pw != f32GemmNR) && k > f32GemmKC {
		// Blocking only pays when several row groups reuse B; balance the
		// blocks and keep them a multiple of the unroll. Wide panels are
		// always blocked: a 4-column slice of one is gathered into wbuf.
		kc = roundUp(ceilDiv(k, ceilDiv(k, f32GemmKC)), 4)
	}
	var acc [4 * f32GemmNR]float32
	var wbuf [f32GemmKC * f32GemmNR]float32
	for k0 := 0; k0 < k; k0 += kc {
		kb := min(kc, k-k0)
		first, last := k0 == 0, k0+kb == k
		nc := max(f32GemmNR, f32GemmBBlock/kb/f32GemmNR*f32GemmNR)
		for jb := 0; jb < n; jb += nc {
			for i0 := 0; i0 < m; i0 += mr {
				r := min(mr, m-i0)
				for j0 := jb; j0 < min(n, jb+nc); j0 += f32GemmNR {
					nv := min(f32GemmNR, n-j0)
					var panel []float32
					if pw == f32GemmNR {
						q := j0 / f32GemmNR
						panel = b[(q*k+k0)*f32GemmNR : (q*k+k0+kb)*f32GemmNR]
					} else {
						// Columns j0..j0+3 of a wide panel, k stride pw.
						jc := j0 + coff
						src := b[((jc/pw)*k+k0)*pw+jc%pw:]
						panel = wbuf[:kb*f32GemmNR]
						for kk := range kb {
							copy(panel[kk*f32GemmNR:kk*f32GemmNR+f32GemmNR], src[kk*pw:kk*pw+f32GemmNR])
						}
					}
					t := acc[:r*f32GemmNR]
					if first {
						for i := 0; i < r; i++ {
							ti := t[i*f32GemmNR : i*f32GemmNR+f32GemmNR]
							if bias != nil {
								copy(ti, bias[j0:j0+nv])
							} else {
								clear(ti)
							}
						}
					} else {
						for i := 0; i < r; i++ {
							copy(t[i*f32GemmNR:i*f32GemmNR+nv], c[(i0+i)*ldc+j0:(i0+i)*ldc+j0+nv])
						}
					}
					ap := a[i0*lda+k0:]
					switch r {
					case 4:
						f32Gemm4x4Scalar(kb, ap, lda, panel, t)
					case 3:
						f32Gemm3x4Scalar(kb, ap, lda, panel, t)
					case 2:
						f32Gemm2x4Scalar(kb, ap, lda, panel, t)
					default:
						f32Gemm1x4Scalar(kb, ap, lda, panel, t)
					}
					for i := 0; i < r; i++ {
						dst := c[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+nv]
						src := t[i*f32GemmNR : i*f32GemmNR+nv]
						src = src[:len(dst)]
						if last {
							for j, v := range src {
								dst[j] = clamp.apply(v)
							}
						} else {
							copy(dst, src)
						}
					}
				}
			}
		}
	}
}

// gemmF32Generic is the portable body of Gemm.RunF32.
func gemmF32Generic(g *Gemm, a []float32, lda int, packed, bias, c []float32, ldc int, n0, n1 int) {
	if n1 <= n0 || g.M <= 0 {
		return
	}
	mr := g.tileMR()
	if bias != nil {
		bias = bias[n0:n1]
	}
	pw := g.panelWidth()
	b := packed[(n0/pw)*g.K*pw:]
	coff := n0 % pw
	mc := roundUp(ceilDiv(g.M, ceilDiv(g.M, f32GemmMC)), mr)
	for i0 := 0; i0 < g.M; i0 += mc {
		m := min(mc, g.M-i0)
		f32GemmBlock(mr, m, n1-n0, g.K, a[i0*lda:], lda, b, pw, coff, bias, c[i0*ldc+n0:], ldc, g.Clamp)
	}
}
