//go:build !purego

package asm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQ8TilePixelsArch pins the avx2 chunk rule on ResNet-50's shapes: a
// pool gets ≥ 8 chunks of ≥ 32 pixels where the image has them, one worker
// one chunk per image of ≤ 256 pixels; chunks are balanced (multiples of
// 3 where that stays under the cap).
func TestQ8TilePixelsArch(t *testing.T) {
	for _, tc := range []struct {
		pixels, kg, workers, want int
	}{
		{49, 4608, 2, 27},   // 7×7 3×3: two chunks for two threads
		{49, 4608, 1, 49},   // one worker: the weights once
		{49, 4608, 0, 49},   // Workers unset: one worker
		{196, 2304, 2, 30},  // 14×14 3×3: 7 chunks
		{196, 2304, 1, 196}, // one chunk although A (441 KB) outgrows L2
		{196, 256, 1, 196},
		{3136, 576, 2, 243}, // 56×56 3×3: 256-pixel cap, balanced to 13 chunks
		{3136, 576, 1, 243},
		{3136, 64, 4, 243},
		{12544, 147, 1, 256},  // the stem: the 256-pixel cap
		{300, 1 << 20, 1, 16}, // huge K: the 16-pixel floor
		{5, 64, 2, 5},
		{1, 64, 1, 1},
	} {
		t.Run(fmt.Sprintf("%dpx/K=%d/w%d", tc.pixels, tc.kg, tc.workers), func(t *testing.T) {
			require.Equal(t, tc.want, q8TilePixelsArch(tc.pixels, tc.kg, tc.workers))
		})
	}
}
