//go:build !purego

package asm

var q8Avx2UseOld bool

//go:noescape
func q8GemmAvx23x4c16UpwardOld(kb int, a *int8, lda int, w *int16, pstride, npanels, ntiles int, prm *int32, c *int8, ldc, last int, zo, lo, hi int32)
