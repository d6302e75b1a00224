//go:build purego || !(arm64 || amd64)

package asm

// Without the arm64 bodies Gemm and Conv2D always run the generic body.

func f32GemmArch(g *Gemm, a []float32, lda int, packed, bias, c []float32, ldc int, n0, n1 int) bool {
	return false
}

func convF32Arch(c *Conv2D, in, packed, bias, out, scratch []float32, p0, p1 int) bool {
	return false
}

// f32PackWide reports whether PackF32 writes 16-column panels: never without
// the AVX2 body.
func f32PackWide() bool { return false }

// convScratchF32Arch: Conv2D.RunF32 needs no scratch here beyond the
// im2col tile.
func convScratchF32Arch() int { return 0 }
