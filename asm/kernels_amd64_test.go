//go:build !purego

package asm

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// archKernelTests maps every registered amd64 body to its test against the
// generic oracle.
var archKernelTests = map[string]func(t *testing.T, k Kernel){
	"f32_gemm_minmax_6x16__fma3_broadcast": func(t *testing.T, k Kernel) {
		for seed := uint64(1); seed <= 6; seed++ {
			f32CompareToGeneric(t, k.Path, seed)
		}
		f32ArchNoAlloc(t, k.Path)
	},
	"f32_dwconv3x3_minmax_c8__fma3": func(t *testing.T, k Kernel) {
		for seed := uint64(1); seed <= 3; seed++ {
			dwCompareToGeneric(t, k.Path, seed)
		}
	},
}

// dwCompareToGeneric checks DepthwiseConv2D.RunF32 on the given path against
// the generic path within 1e-5 relative: random 3×3 geometries with 8..48
// channels (and a few that the path must hand back to the generic body),
// strides and dilations 1..2, asymmetric padding, OutStride > C, no bias,
// row chunks, guard bands, and no allocations.
func dwCompareToGeneric(t *testing.T, path string, seed uint64) {
	r := seeded(t, seed)
	for i := 0; i < 60; i++ {
		tc := dwCase{name: "avx2", h: 1 + r.IntN(20), w: 1 + r.IntN(30), c: 8 * (1 + r.IntN(6)), kh: 3, kw: 3,
			sh: 1 + r.IntN(2), sw: 1 + r.IntN(2), dh: 1 + r.IntN(2), dw: 1 + r.IntN(2),
			pt: r.IntN(3), pl: r.IntN(3), pb: r.IntN(3), pr: r.IntN(3), extra: r.IntN(2) * r.IntN(4), noBias: r.IntN(4) == 0}
		switch i % 10 {
		case 0:
			tc.c = 1 + r.IntN(20) // not a multiple of 8: generic
		case 1:
			tc.mult = 2
		}
		if r.IntN(2) == 0 {
			tc.clamp = relu6
		}
		tc.normalise()
		oh := outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, false)
		ow := outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, false)
		if oh <= 0 || ow <= 0 {
			continue
		}
		cm := tc.c * tc.mult
		d := &DepthwiseConv2D{InH: tc.h, InW: tc.w, C: tc.c, Mult: tc.mult, OutH: oh, OutW: ow,
			KH: 3, KW: 3, StrideH: tc.sh, StrideW: tc.sw, DilH: tc.dh, DilW: tc.dw, PadT: tc.pt, PadL: tc.pl,
			OutStride: cm + tc.extra, Clamp: tc.clamp}
		x := inputGuarded(randSlice(r, tc.h*tc.w*tc.c))
		packed := d.PackF32(randSlice(r, cm*9))
		var bias []float32
		if !tc.noBias {
			bias = inputGuarded(randSlice(r, cm)).data()
		}
		rows := chunks(r, oh, 1+r.IntN(3))
		outs := [2]*guarded{}
		for pi, p := range []string{PathGeneric, path} {
			require.NoError(t, Select(p))
			out := newGuarded(outLen(oh*ow, cm, d.OutStride), sentinel)
			for _, ch := range rows {
				d.RunF32(x.data(), packed, bias, out.data(), ch[0], ch[1])
			}
			out.checkGuards(t)
			x.checkGuards(t)
			outs[pi] = out
		}
		want, got := outs[0].data(), outs[1].data()
		for j := range want {
			if math.Float32bits(want[j]) == math.Float32bits(got[j]) {
				continue
			}
			diff := math.Abs(float64(want[j]) - float64(got[j]))
			require.LessOrEqual(t, diff, 1e-5*math.Max(1, math.Abs(float64(want[j]))), "%s: element %d: generic %v, %s %v", tc, j, want[j], path, got[j])
		}
		o := outs[1].data()
		require.Zero(t, testing.AllocsPerRun(5, func() { d.RunF32(x.data(), packed, bias, o, 0, oh) }), "%s", tc)
	}
}

// f32ArchNoAlloc checks that Gemm.RunF32 and Conv2D.RunF32 on the given path
// do not allocate, with column tails that go through the stack tile
// (TestRunDoesNotAllocate pins the generic tilings).
func f32ArchNoAlloc(t *testing.T, path string) {
	require.NoError(t, Select(path))
	r := seeded(t, 12)
	g := &Gemm{M: 9, N: 21, K: 600, Clamp: relu6}
	a, packed, bias := randSlice(r, 9*600), g.PackF32(randSlice(r, 600*21), true), randSlice(r, 21)
	c := make([]float32, 9*21)
	require.Zero(t, testing.AllocsPerRun(10, func() { g.RunF32(a, 600, packed, bias, c, 21, nil, 4, 21) }), "Gemm on %s", path)
	cv := &Conv2D{InH: 9, InW: 9, InC: 20, OutH: 9, OutW: 9, OutC: 27, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1,
		PadT: 1, PadL: 1, Groups: 1, OutStride: 29, Clamp: relu6}
	x := randSlice(r, cv.InH*cv.InW*cv.InC)
	cp := cv.PackF32(randSlice(r, cv.OutC*cv.InC*cv.KH*cv.KW))
	out := make([]float32, cv.OutH*cv.OutW*cv.OutStride)
	scratch := make([]float32, cv.ScratchF32())
	cb, tile := randSlice(r, cv.OutC), cv.TilePixels()
	require.Zero(t, testing.AllocsPerRun(10, func() { cv.RunF32(x, cp, cb, out, scratch, 0, tile) }), "Conv2D on %s", path)
}

// TestAVX2GeneratedUpToDate regenerates the amd64 assembly with
// gen_avx2.go and compares it with the committed file.
func TestAVX2GeneratedUpToDate(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil || runtime.GOARCH != runtimeHostArch() {
		t.Skip("go tool not available (cross-compiled test binary)")
	}
	dir := t.TempDir()
	out, err := exec.Command(goTool, "run", "gen_avx2.go", "-dir", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, name := range []string{"f32gemm_avx2_amd64.s", "f32dwconv_avx2_amd64.s"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./asm/", name)
	}
}
