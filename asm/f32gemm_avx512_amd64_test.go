//go:build !purego

package asm

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	archKernelTests["f32_gemm_minmax_6x16__avx512f_broadcast"] = func(t *testing.T, k Kernel) {
		for seed := uint64(1); seed <= 3; seed++ {
			f32CompareToGeneric(t, k.Path, seed)
		}
		f32WideCompareToGeneric(t, k.Path)
		winoConvCompare(t, k.Path)
		f32ArchNoAlloc(t, k.Path)
		f32Avx512MatchesAvx2(t)
	}
}

// f32Avx512MatchesAvx2 checks Gemm.RunF32 on the avx512vnni path (the ZMM
// panel kernels) against the generic oracle within 1e-5 relative and bit
// for bit against the avx2 path (the same k blocks and FMA order per
// element), over random shapes: every row count mod 6, column ranges that
// start inside panels and end anywhere, k across the 256 block, bias or
// none, several clamps, strides past the row, guard bands.
func f32Avx512MatchesAvx2(t *testing.T) {
	if hwLevel < pathLevel(PathVNNI) {
		t.Skip("the avx512vnni path needs AVX512F/VL/BW and VNNI; this CPU lacks them")
	}
	r := seeded(t, 71)
	shapes := [][3]int{{6, 16, 4}, {12, 32, 256}, {13, 48, 257}, {7, 33, 600}, {1, 16, 1}, {2, 64, 3}, {3, 40, 513}, {200, 70, 70}}
	for i := 0; i < 40; i++ {
		shapes = append(shapes, [3]int{1 + r.IntN(60), 1 + r.IntN(90), r.IntN(700)})
	}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		lda, ldc := k+r.IntN(3), n+r.IntN(3)
		clamp := []Clamp{NoClamp(), relu6, {-0.5, 0.5}}[r.IntN(3)]
		name := fmt.Sprintf("m %d n %d k %d lda %d ldc %d clamp %v", m, n, k, lda, ldc, clamp)
		require.NoError(t, Select(PathVNNI))
		g := &Gemm{M: m, N: n, K: k, Clamp: clamp}
		packed := g.PackF32(randSlice(r, k*n), r.IntN(2) == 0)
		require.True(t, g.wide, name)
		a := inputGuarded(randSlice(r, max(0, (m-1)*lda+k)))
		var bias []float32
		if r.IntN(4) != 0 {
			bias = randSlice(r, n)
		}
		n0 := 0
		if n > 8 && r.IntN(3) == 0 {
			n0 = 4 * r.IntN(n/4)
		}
		outs := map[string][]float32{}
		for _, p := range []string{PathGeneric, PathAVX2, PathVNNI} {
			require.NoError(t, Select(p))
			c := newGuarded(max(0, (m-1)*ldc+n), sentinel)
			g.RunF32(a.data(), lda, packed, bias, c.data(), ldc, nil, n0, n)
			c.checkGuards(t)
			a.checkGuards(t)
			outs[p] = c.data()
		}
		want, avx2, got := outs[PathGeneric], outs[PathAVX2], outs[PathVNNI]
		for j := range got {
			require.Equal(t, math.Float32bits(avx2[j]), math.Float32bits(got[j]), "%s: element %d: avx2 %v, avx512vnni %v", name, j, avx2[j], got[j])
			if math.Float32bits(want[j]) == math.Float32bits(got[j]) {
				continue
			}
			d := math.Abs(float64(want[j]) - float64(got[j]))
			require.LessOrEqual(t, d, 1e-5*math.Max(1, math.Abs(float64(want[j]))), "%s: element %d: generic %v, avx512vnni %v", name, j, want[j], got[j])
		}
	}
}
