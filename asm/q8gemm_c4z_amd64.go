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
func q8Im2colRunsZ(dst, src *int8, run, rows, step, npix, pstep int)

// q8Im2colZ lets im2col copy whole windows with q8Im2colRunsZ (tests and
// benchmarks turn it off to run the per-pixel Go copy).
var q8Im2colZ = true

// im2colRunsArch copies the windows of npix pixels (pstep bytes apart in
// src), each rows runs of run bytes step apart, to dst back to back, and
// reports whether it did: on the avx512vnni path, for runs of at most 64
// bytes (ResNet's 7×7 stem: 7 runs of 21 bytes per pixel, a third of its
// time in the per-pixel Go copy before).
func im2colRunsArch(dst, src []int8, run, rows, step, npix, pstep int) bool {
	if !q8Im2colZ || level < pathLevel(PathVNNI) || run < 1 || run > 64 || rows < 1 || npix < 1 {
		return false
	}
	_ = dst[npix*rows*run-1]
	_ = src[(npix-1)*pstep+(rows-1)*step+run-1]
	q8Im2colRunsZ(&dst[0], &src[0], run, rows, step, npix, pstep)
	return true
}
