//go:build !purego

package asm

import (
	"fmt"
	"testing"
)

// TestDepthwiseConv2DAvx2Shapes runs random 3×3, Mult 1 depthwise shapes
// with C % 8 == 0 (the shapes dwconvF32Arch takes), including channel
// counts past f32DwZeroC with and without a bias, against the reference:
// interior runs of 1..14 pixels (every group size of the assembly), border
// pixels on the indirect kernel, strides, dilations and paddings.
func TestDepthwiseConv2DAvx2Shapes(t *testing.T) {
	n := 120
	if testing.Short() {
		n = 30
	}
	for i := 0; i < n; i++ {
		seed := uint64(7100 + i)
		r := seeded(t, seed)
		var tc dwCase
		for {
			c := 8 * (1 + r.IntN(8))
			h, w := 1+r.IntN(16), 1+r.IntN(16)
			if i%10 == 0 {
				c = f32DwZeroC + 8*(1+r.IntN(4))
				h, w = 1+r.IntN(5), 1+r.IntN(9)
			}
			tc = dwCase{name: "avx2", h: h, w: w, c: c, mult: 1, kh: 3, kw: 3,
				sh: 1 + r.IntN(2), sw: 1 + r.IntN(2), dh: 1 + r.IntN(2), dw: 1 + r.IntN(2),
				pt: r.IntN(3), pl: r.IntN(3), pb: r.IntN(3), pr: r.IntN(3),
				extra: r.IntN(2) * 8, noBias: r.IntN(3) == 0}
			if r.IntN(2) == 0 {
				tc.clamp = relu6
			}
			tc.normalise()
			if outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, false) > 0 && outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, false) > 0 {
				break
			}
		}
		t.Run(fmt.Sprintf("%d/%s", seed, tc), func(t *testing.T) { runDWCase(t, tc, seed) })
	}
}
