//go:build !purego

package asm

import (
	"bytes"
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
	const name = "f32gemm_avx2_amd64.s"
	want, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	got, err := os.ReadFile(name)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./asm/", name)
}
