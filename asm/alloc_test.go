package asm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunDoesNotAllocate checks testing.AllocsPerRun == 0 for every Run.
func TestRunDoesNotAllocate(t *testing.T) {
	r := seeded(t, 11)
	// MR 0 runs the selected path's bodies (NEON, AVX2) rather than a pinned
	// generic tiling.
	tilings := append(gemmTilings(t), Kernel{Name: "selected path " + Selected()})
	for _, kt := range tilings {
		for _, cv := range []*Conv2D{
			{InH: 8, InW: 8, InC: 16, OutH: 8, OutW: 8, OutC: 12, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, OutStride: 12},
			{InH: 8, InW: 8, InC: 16, OutH: 8, OutW: 8, OutC: 12, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, Groups: 2, OutStride: 13, Clamp: relu6},
			{InH: 9, InW: 9, InC: 60, OutH: 5, OutW: 5, OutC: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 1, PadL: 1, Groups: 1, OutStride: 5},
		} {
			cv.mr = kt.MR
			x := randSlice(r, cv.InH*cv.InW*cv.InC)
			packed := cv.PackF32(randSlice(r, cv.OutC*cv.InC/cv.Groups*cv.KH*cv.KW))
			bias := randSlice(r, cv.OutC)
			out := make([]float32, cv.OutH*cv.OutW*cv.OutStride)
			scratch := make([]float32, cv.ScratchF32())
			tile := cv.TilePixels()
			allocs := testing.AllocsPerRun(10, func() {
				cv.RunF32(x, packed, bias, out, scratch, 0, min(tile, cv.OutH*cv.OutW))
			})
			require.Zero(t, allocs, "Conv2D %s %+v", kt.Name, *cv)
		}
		g := &Gemm{M: 9, N: 21, K: 600, Clamp: relu, mr: kt.MR}
		a, packed, bias := randSlice(r, 9*600), g.PackF32(randSlice(r, 600*21), true), randSlice(r, 21)
		c, scratch := make([]float32, 9*21), make([]float32, g.ScratchF32())
		require.Zero(t, testing.AllocsPerRun(10, func() { g.RunF32(a, 600, packed, bias, c, 21, scratch, 4, 21) }), "Gemm %s", kt.Name)
	}
	d := &DepthwiseConv2D{InH: 9, InW: 9, C: 8, Mult: 1, OutH: 9, OutW: 9, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		DilH: 1, DilW: 1, PadT: 1, PadL: 1, OutStride: 8, Clamp: relu6}
	x, dp, bias := randSlice(r, 9*9*8), d.PackF32(randSlice(r, 8*9)), randSlice(r, 8)
	out := make([]float32, 9*9*8)
	require.Zero(t, testing.AllocsPerRun(10, func() { d.RunF32(x, dp, bias, out, 0, 9) }), "DepthwiseConv2D")
	d.Mult, d.C, d.OutStride = 2, 4, 8
	dp = d.PackF32(randSlice(r, 8*9))
	require.Zero(t, testing.AllocsPerRun(10, func() { d.RunF32(x, dp, bias, out, 0, 9) }), "DepthwiseConv2D mult 2")
	p := &Pool2D{InH: 9, InW: 9, C: 8, OutH: 5, OutW: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1,
		PadT: 1, PadL: 1, PadB: 1, PadR: 1, OutStride: 8}
	require.Zero(t, testing.AllocsPerRun(10, func() { p.MaxF32(x, out, 0, 5) }), "MaxF32")
	require.Zero(t, testing.AllocsPerRun(10, func() { p.AvgF32(x, out, 0, 5) }), "AvgF32")
	require.Zero(t, testing.AllocsPerRun(10, func() { GlobalAvgPoolF32(x, 81, 8, out, 0, 8) }), "GlobalAvgPoolF32")
	require.Zero(t, testing.AllocsPerRun(10, func() { GlobalMaxPoolF32(x, 81, 8, out, 2, 7) }), "GlobalMaxPoolF32")
}

// TestKernelTable checks that every registered kernel belongs to a family
// the tests exercise, that names are unique, and that exactly one GEMM
// tiling is the default.
func TestKernelTable(t *testing.T) {
	tested := map[string]bool{"gemm": true, "dwconv": true, "maxpool": true, "avgpool": true, "gavgpool": true, "gmaxpool": true, "qgemm": true, "qdwconv": true, "qadd": true, "qmaxpool": true, "qgavgpool": true, "quantize": true}
	seen := map[string]bool{}
	defaults := 0
	for _, k := range Kernels() {
		require.True(t, tested[k.Op], "%s: family %q has no tests (add its tests, then list it in tested here)", k.Name, k.Op)
		require.False(t, seen[k.Name], "duplicate %s", k.Name)
		seen[k.Name] = true
		if k.Op == "gemm" && k.ISA == "scalar" { // SIMD bodies: TestKernelBodies
			require.LessOrEqual(t, k.MR, len(f32GemmUKernels), "%s: no %d-row micro-kernel", k.Name, k.MR)
			require.Equal(t, f32GemmNR, k.NR)
			if k.Default {
				defaults++
			}
		}
	}
	require.Equal(t, 1, defaults)
}
