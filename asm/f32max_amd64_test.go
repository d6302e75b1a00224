//go:build !purego

package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMaxIntoF32AVX2 checks maxIntoF32 on the avx2 path against Go's max
// bit for bit, over lengths with and without a scalar tail and values with
// signed zeros, infinities and NaNs (distinct payloads, in either operand).
func TestMaxIntoF32AVX2(t *testing.T) {
	if hwLevel < pathLevel(PathAVX2) {
		t.Skip("avx2 not supported")
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.NoError(t, Select(PathAVX2))
	r := seeded(t, 41)
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002), 1, -1, 1e-40}
	for _, n := range []int{1, 7, 8, 9, 16, 64, 67, 200} {
		o, x := randSlice(r, n), randSlice(r, n)
		for i := range o {
			if r.IntN(3) == 0 {
				o[i] = special[r.IntN(len(special))]
			}
			if r.IntN(3) == 0 {
				x[i] = special[r.IntN(len(special))]
			}
		}
		want := make([]float32, n)
		for i := range want {
			want[i] = max(o[i], x[i])
		}
		got := inputGuarded(o)
		xs := inputGuarded(x)
		maxIntoF32(got.data(), xs.data())
		got.checkGuards(t)
		xs.checkGuards(t)
		for i, w := range want {
			require.Equal(t, math.Float32bits(w), math.Float32bits(got.data()[i]), "n %d element %d: max(%v, %v)", n, i, o[i], x[i])
		}
		require.Equal(t, n&^7, maxIntoF32Arch(make([]float32, n), make([]float32, n)), "n %d", n)
	}
}
