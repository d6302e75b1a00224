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
