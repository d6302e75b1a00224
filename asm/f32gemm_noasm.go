//go:build purego || !(arm64 || amd64)

package asm

// Without the arm64 bodies Gemm and Conv2D always run the generic body.

func f32GemmArch(g *Gemm, a []float32, lda int, packed, bias, c []float32, ldc int, n0, n1 int) bool {
	return false
}

func convF32Arch(c *Conv2D, in, packed, bias, out, scratch []float32, p0, p1 int) bool {
	return false
}
