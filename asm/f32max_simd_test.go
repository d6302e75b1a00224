//go:build (amd64 || arm64) && !purego

package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMaxIntoF32SIMD checks maxIntoF32 on the SIMD path of this
// architecture (maxIntoPath, maxIntoBlock elements at a time) against Go's
// max bit for bit, over lengths with and without a scalar tail and values
// with signed zeros, infinities and NaNs (distinct payloads, in either or
// both operands).
func TestMaxIntoF32SIMD(t *testing.T) {
	if hwLevel < pathLevel(maxIntoPath) {
		t.Skipf("%s not supported", maxIntoPath)
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.NoError(t, Select(maxIntoPath))
	checkMaxIntoF32(t)
}

func init() {
	// The registered max pool body: the fold itself, then whole max pools
	// (the table's geometries with wider channel vectors, a multiple of 8
	// for amd64's whole-window body and not, so that the SIMD loops and
	// their tails run) and global max pools against the independent
	// references of pool_test.go.
	archKernelTests[maxIntoKernel] = func(t *testing.T, k Kernel) {
		saved := level
		defer func() { level = saved }()
		level = pathLevel(k.Path)
		checkMaxIntoF32(t)
		for i, tc := range poolTable {
			for _, c := range []int{8 * tc.c, 8*tc.c + 5} {
				tc.c = c
				t.Run(tc.String(), func(t *testing.T) { runPoolCase(t, tc, false, false, uint64(i)) })
			}
		}
		TestGlobalPool(t)
	}
}

func checkMaxIntoF32(t *testing.T) {
	r := seeded(t, 41)
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002), 1, -1, 1e-40}
	for _, n := range []int{1, 3, 4, 5, 7, 8, 9, 16, 17, 20, 64, 67, 200} {
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
		require.Equal(t, n&^(maxIntoBlock-1), maxIntoF32Arch(make([]float32, n), make([]float32, n)), "n %d", n)
	}
}
