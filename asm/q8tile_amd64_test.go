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
// 3 where that stays under the cap; on the avx512vnni path multiples of 12,
// whole tiles of its 4-row c4 and 3-row x8 tiles: vnni).
func TestQ8TilePixelsArch(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	for _, tc := range []struct {
		pixels, kg, workers, want, vnni int
	}{
		{49, 4608, 2, 25, 25}, // 7×7 3×3: one chunk per worker
		{49, 4608, 4, 13, 13},
		{49, 4608, 1, 49, 49},    // one worker: the weights once
		{49, 4608, 0, 49, 49},    // Workers unset: one worker
		{196, 2304, 2, 98, 98},   // 14×14 3×3: one chunk per worker
		{784, 1152, 2, 99, 104},  // 28×28: above 256 pixels per worker, 8 balanced chunks
		{196, 2304, 1, 196, 196}, // one chunk although A (441 KB) outgrows L2
		{196, 256, 1, 196, 196},
		{3136, 576, 2, 243, 252}, // 56×56 3×3: 256-pixel cap, balanced to 13 chunks
		{3136, 576, 1, 243, 252},
		{3136, 64, 4, 243, 252},
		{12544, 147, 1, 256, 256}, // the stem: the 256-pixel cap
		{300, 1 << 20, 1, 16, 16}, // huge K: the 16-pixel floor
		{5, 64, 2, 3, 3},
		{1, 64, 1, 1, 1},
	} {
		t.Run(fmt.Sprintf("%dpx/K=%d/w%d", tc.pixels, tc.kg, tc.workers), func(t *testing.T) {
			require.NoError(t, Select(PathAVX2))
			require.Equal(t, tc.want, q8TilePixelsArch(tc.pixels, tc.kg, tc.workers))
			if hwLevel >= pathLevel(PathVNNI) {
				require.NoError(t, Select(PathVNNI))
				require.Equal(t, tc.vnni, q8TilePixelsArch(tc.pixels, tc.kg, tc.workers))
			}
		})
	}
}
