//go:build !purego

package asm

//go:generate go run gen_q8c4z.go

// The ZMM c4 tiles (gen_q8c4z.go): the YMM c4 tiles' arguments, packed
// weights and Upward1 parameter table, for a whole 64-column block
// (npanels ≤ 4) per call.

//go:noescape
func q8GemmVnniZ1x64c4Upward1(kb int, a *int8, lda int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, ldc, last int, zo, lo, hi int32)

//go:noescape
func q8GemmVnniZ2x64c4Upward1(kb int, a *int8, lda int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, ldc, last int, zo, lo, hi int32)

//go:noescape
func q8GemmVnniZ3x64c4Upward1(kb int, a *int8, lda int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, ldc, last int, zo, lo, hi int32)

//go:noescape
func q8GemmVnniZ4x64c4Upward1(kb int, a *int8, lda int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, ldc, last int, zo, lo, hi int32)

// q8VnniC4Z runs the Upward1 c4 tiles on ZMM registers (tests and
// benchmarks turn it off to run the YMM ones).
var q8VnniC4Z = true

// q8VnniZTileC4 is q8VnniFusedTileC4's Upward1 case on the ZMM tiles.
func q8VnniZTileC4(rows, kb int, a *int8, lda int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, ldc, last int, zo, lo, hi int32) {
	switch rows {
	case 1:
		q8GemmVnniZ1x64c4Upward1(kb, a, lda, w, pstride, npanels, ntiles, prm, c, ldc, last, zo, lo, hi)
	case 2:
		q8GemmVnniZ2x64c4Upward1(kb, a, lda, w, pstride, npanels, ntiles, prm, c, ldc, last, zo, lo, hi)
	case 3:
		q8GemmVnniZ3x64c4Upward1(kb, a, lda, w, pstride, npanels, ntiles, prm, c, ldc, last, zo, lo, hi)
	default:
		q8GemmVnniZ4x64c4Upward1(kb, a, lda, w, pstride, npanels, ntiles, prm, c, ldc, last, zo, lo, hi)
	}
}

//go:noescape
func q8GemmVnniZ4x64c4IUpward1(kbs, nseg, segskip int, base *int8, rows *int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, last int, zo, lo, hi int32)

// q8VnniC4Implicit packs the K×K convolutions the implicit tiles take for
// the c4 tiles, which run them on q8GemmVnniZ4x64c4IUpward1 (Upward1) or
// through im2col (other roundings), instead of the implicit x8 tile
// (tests and benchmarks turn it off). TestQ8ZooConvAB, ResNet-50, ms,
// implicit x8 / implicit ZMM c4: 3×3 on 14×14 (×5) 2.620 / 2.526, stride
// 2 on 56×56 0.548 / 0.521 and on 28×28 0.529 / 0.506; on 7×7 outputs
// (where im2col + the ZMM tile had already replaced the x8 tile) the same
// as through im2col.
var q8VnniC4Implicit = true

// q8ImplicitC4 reports whether q8ConvImplicit can run a c4-packed
// convolution on q8GemmVnniZ4x64c4IUpward1: the ZMM tiles are on and every
// 64-column block has Upward1 parameters in Pack's tables (otherwise the
// convolution goes through im2col and q8GemmBlockArch, whose YMM c4 tiles
// take the other roundings).
func q8ImplicitC4(tabs []q8Avx2Table) bool {
	if !q8VnniC4Z || tabs == nil {
		return false
	}
	for i := range tabs {
		if !tabs[i].one {
			return false
		}
	}
	return true
}
