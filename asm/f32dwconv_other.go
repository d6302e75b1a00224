//go:build purego || !amd64

package asm

// dwconvF32Amd64 reports false: only amd64 has an assembly depthwise body
// wired into DepthwiseConv2D.RunF32.
func dwconvF32Amd64(d *DepthwiseConv2D, in, packed, bias, out []float32, r0, r1 int) bool {
	return false
}
