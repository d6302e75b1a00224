//go:build !purego

package asm

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// implicitCases are convolutions the implicit AVX2 kernels take (one
// group, runs of ≥ f32ImplicitMinRun k, not direct): padded and in-place
// windows, 3-channel first layers (runs of a kernel row's KW·C),
// strides, dilation, KH ≠ KW, asymmetric implied padding, one-row images,
// C > f32Avx2KC (taps split across k blocks), column tails of 1..15, and
// small images (≤ 64 pixels: one tile in column blocks).
var implicitCases = []Conv2D{
	{InH: 14, InW: 13, InC: 70, OutH: 14, OutW: 13, OutC: 45, KH: 3, KW: 3, PadT: 1, PadL: 1},
	{InH: 5, InW: 5, InC: 16, OutH: 5, OutW: 5, OutC: 45, KH: 3, KW: 3, PadT: 1, PadL: 1},
	{InH: 1, InW: 17, InC: 20, OutH: 1, OutW: 17, OutC: 33, KH: 3, KW: 3, PadT: 1, PadL: 1},
	{InH: 1, InW: 40, InC: 24, OutH: 1, OutW: 40, OutC: 16, KH: 1, KW: 3, PadL: 1},
	{InH: 15, InW: 15, InC: 24, OutH: 8, OutW: 8, OutC: 40, KH: 1, KW: 1, StrideH: 2, StrideW: 2},
	{InH: 16, InW: 15, InC: 36, OutH: 8, OutW: 8, OutC: 77, KH: 1, KW: 1, StrideH: 2, StrideW: 2},
	{InH: 11, InW: 9, InC: 16, OutH: 6, OutW: 5, OutC: 19, KH: 5, KW: 5, StrideH: 2, StrideW: 2, PadT: 2, PadL: 2},
	{InH: 9, InW: 9, InC: 32, OutH: 9, OutW: 9, OutC: 24, KH: 3, KW: 3, DilH: 2, DilW: 2, PadT: 2, PadL: 2},
	{InH: 8, InW: 8, InC: 17, OutH: 4, OutW: 4, OutC: 30, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadL: 1},
	{InH: 6, InW: 20, InC: 17, OutH: 6, OutW: 20, OutC: 64, KH: 1, KW: 3, PadL: 1},
	{InH: 7, InW: 7, InC: 260, OutH: 7, OutW: 7, OutC: 50, KH: 3, KW: 3, PadT: 1, PadL: 1},
	{InH: 7, InW: 7, InC: 64, OutH: 7, OutW: 7, OutC: 600, KH: 3, KW: 3, PadT: 1, PadL: 1},
	{InH: 4, InW: 4, InC: 16, OutH: 6, OutW: 6, OutC: 16, KH: 1, KW: 1, PadT: 1, PadL: 1},
	{InH: 30, InW: 30, InC: 16, OutH: 30, OutW: 30, OutC: 8, KH: 3, KW: 3, PadT: 1, PadL: 1},
	{InH: 23, InW: 21, InC: 3, OutH: 12, OutW: 11, OutC: 64, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadT: 3, PadL: 3},
	{InH: 17, InW: 17, InC: 3, OutH: 9, OutW: 9, OutC: 32, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1},
	{InH: 9, InW: 9, InC: 8, OutH: 9, OutW: 9, OutC: 21, KH: 3, KW: 3, DilW: 2, PadT: 1, PadL: 2},
}

func implicitCase(i int) *Conv2D {
	cv := implicitCases[i]
	cv.StrideH, cv.StrideW = max(1, cv.StrideH), max(1, cv.StrideW)
	cv.DilH, cv.DilW, cv.Groups = max(1, cv.DilH), max(1, cv.DilW), 1
	return &cv
}

// f32ImplicitCompareToGeneric checks Conv2D.RunF32Cols on the given path (the
// implicit kernels; each tile's last m%6 rows on the r-row tiles of an
// im2col of those rows) against the generic path over the whole output,
// both reading the same wide panels, within 1e-5 relative, with guard
// bands; then the stack-tile tail (scratch only as large as the padded
// rows), the generic path's RunF32Cols, and no allocation.
func f32ImplicitCompareToGeneric(t *testing.T, path string) {
	noWino(t)
	r := seeded(t, 31)
	for i := range implicitCases {
		for _, withBias := range []bool{true, false} {
			cv := implicitCase(i)
			cv.OutStride, cv.Clamp = cv.OutC+r.IntN(3), relu6
			if r.IntN(2) == 0 {
				cv.Clamp = NoClamp()
			}
			name := fmt.Sprintf("%+v bias %v", *cv, withBias)
			require.NoError(t, Select(path))
			x := inputGuarded(randSlice(r, cv.InH*cv.InW*cv.InC))
			packed := cv.PackF32(randSlice(r, cv.OutC*cv.InC*cv.KH*cv.KW))
			require.True(t, cv.wide, name)
			var bias []float32
			if withBias {
				bias = randSlice(r, cv.OutC)
			}
			tile, pixels := cv.TilePixels(), cv.OutH*cv.OutW
			require.Equal(t, cv.OutH*cv.OutW <= 64 && cv.OutC >= 32, cv.ColumnBlocks() > 1, name)
			run := func(path string, cols bool) *guarded {
				require.NoError(t, Select(path))
				out := newGuarded(pixels*cv.OutStride, sentinel)
				scratch := newGuarded(cv.ScratchF32(), 0)
				for p0 := 0; p0 < pixels; p0 += tile {
					p1 := min(p0+tile, pixels)
					if !cols {
						cv.RunF32(x.data(), packed, bias, out.data(), scratch.data(), p0, p1)
						continue
					}
					for col := range cv.ColumnBlocks() {
						j0, j1 := cv.ColumnRange(col)
						cv.RunF32Cols(x.data(), packed, bias, out.data(), scratch.data(), p0, p1, j0, j1)
					}
				}
				out.checkGuards(t)
				scratch.checkGuards(t)
				x.checkGuards(t)
				return out
			}
			want := run(PathGeneric, false).data()
			requireClose(t, want, run(PathGeneric, true).data(), name+" generic RunF32Cols")
			got := run(path, true).data()
			requireClose(t, want, got, name+" "+path)

			// The same k blocks and FMA order as the im2col GEMM: bit-exact.
			im2col := make([]float32, pixels*cv.OutStride)
			a := make([]float32, tile*cv.KH*cv.KW*cv.InC)
			for p0 := 0; p0 < pixels; p0 += tile {
				p1 := min(p0+tile, pixels)
				cv.im2col(x.data(), a, 0, p0, p1)
				f32GemmBlockAVX2(p1-p0, cv.OutC, cv.KH*cv.KW*cv.InC, a, cv.KH*cv.KW*cv.InC, packed, 0, bias,
					im2col[p0*cv.OutStride:], cv.OutStride, cv.Clamp)
			}
			for j, v := range im2col {
				if j%cv.OutStride < cv.OutC {
					require.Equal(t, math.Float32bits(v), math.Float32bits(got[j]), "%s: element %d: im2col %v, implicit %v", name, j, v, got[j])
				}
			}

			// The stack-tile tail: scratch holds the padded rows only.
			require.NoError(t, Select(path))
			out := newGuarded(pixels*cv.OutStride, sentinel)
			for p0 := 0; p0 < pixels; p0 += tile {
				p1 := min(p0+tile, pixels)
				oy0, oy1 := p0/cv.OutW, (p1-1)/cv.OutW
				rows := (oy1-oy0)*cv.StrideH + (cv.KH-1)*cv.DilH + 1
				wp := (cv.OutW-1)*cv.StrideW + (cv.KW-1)*cv.DilW + 1
				scratch := newGuarded(rows*wp*cv.InC, 0)
				require.True(t, convImplicitAVX2(cv, x.data(), packed, bias, out.data(), scratch.data(), p0, p1), name)
				scratch.checkGuards(t)
			}
			out.checkGuards(t)
			requireClose(t, want, out.data(), name+" stack tile")

			o, s := out.data(), make([]float32, cv.ScratchF32())
			j0, j1 := cv.ColumnRange(cv.ColumnBlocks() - 1)
			require.Zero(t, testing.AllocsPerRun(5, func() {
				cv.RunF32Cols(x.data(), packed, bias, o, s, 0, min(tile, pixels), j0, j1)
			}), name)
		}
	}
	// Runs shorter than f32ImplicitMinRun (3 channels, dilated taps) stay on
	// im2col.
	cv := &Conv2D{InH: 9, InW: 9, InC: 3, OutH: 5, OutW: 5, OutC: 16, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 2,
		PadT: 1, PadL: 1, Groups: 1, OutStride: 16}
	require.NoError(t, Select(path))
	packed := cv.PackF32(make([]float32, 16*3*9))
	require.False(t, convImplicitAVX2(cv, make([]float32, 9*9*3), packed, nil, make([]float32, 25*16), make([]float32, cv.ScratchF32()), 0, 25))
}

// requireClose requires got to equal want within 1e-5 relative (NaN and
// sentinels bit for bit).
func requireClose(t *testing.T, want, got []float32, name string) {
	t.Helper()
	require.Len(t, got, len(want), name)
	for j := range want {
		if math.Float32bits(want[j]) == math.Float32bits(got[j]) {
			continue
		}
		d := math.Abs(float64(want[j]) - float64(got[j]))
		require.LessOrEqual(t, d, 1e-5*math.Max(1, math.Abs(float64(want[j]))), "%s: element %d: want %v, got %v", name, j, want[j], got[j])
	}
}
