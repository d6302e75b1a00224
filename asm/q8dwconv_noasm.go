//go:build purego || !(arm64 || amd64)

package asm

// q8DWPackArch adds nothing: only the generic depthwise body exists in this
// build.
func q8DWPackArch(d *QDepthwiseConv2D, p *QPacked) {}

// q8DWConvArch reports false: only the generic depthwise body exists in this
// build.
func q8DWConvArch(d *QDepthwiseConv2D, in []int8, p *QPacked, out []int8, r0, r1 int) bool {
	return false
}
