//go:build purego || !(arm64 || amd64)

package asm

// dwconvF32Arch reports false: only the generic depthwise body exists in
// this build.
func dwconvF32Arch(d *DepthwiseConv2D, in, packed, bias, out []float32, r0, r1 int) bool {
	return false
}
