//go:build !purego && linux

package asm

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkWinoF32Layers times ResNet-50's stride-1 3×3 layer shapes (and
// ResNet-18's) with the Winograd path and with the direct (implicit) path,
// alternately in one process on one locked thread, and reports each
// layer's minimum thread CPU time per path and their ratio (-v logs them).
// Run with -benchtime 1x: every op is rounds alternations. WINO_TILES=n
// overrides winoF32Tiles (the tiles a range aims at).
func BenchmarkWinoF32Layers(b *testing.B) {
	if level < pathLevel(PathAVX2) {
		b.Skip("avx2 path not selected")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const rounds = 7
	saved := winoF32MinC
	defer func() { winoF32MinC = saved }()
	if v, err := strconv.Atoi(os.Getenv("WINO_TILES")); err == nil {
		st := winoF32Tiles
		defer func() { winoF32Tiles = st }()
		winoF32Tiles = v
	}
	for _, zc := range []zooConv{{56, 64, 64, 3, 1, 3, false}, {28, 128, 128, 3, 1, 3, false},
		{14, 256, 256, 3, 1, 5, false}, {7, 512, 512, 3, 1, 2, false}} {
		h := zc.h
		x := make([]float32, h*h*zc.c)
		for i := range x {
			x[i] = float32(i%7-3) / 7
		}
		w := make([]float32, zc.o*zc.c*9)
		for i := range w {
			w[i] = float32(i%13-6) / 13
		}
		out := make([]float32, h*h*zc.o)
		bias := make([]float32, zc.o)
		var runs [2]func()
		for v, minC := range []int{1 << 30, saved} {
			winoF32MinC = minC
			cv := &Conv2D{InH: h, InW: h, InC: zc.c, OutH: h, OutW: h, OutC: zc.o, KH: 3, KW: 3,
				StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, Groups: 1, OutStride: zc.o, Clamp: Clamp{0, 6}}
			packed := cv.PackF32(w)
			scratch := make([]float32, cv.ScratchF32())
			tile, pixels := cv.TilePixels(), h*h
			runs[v] = func() {
				for p0 := 0; p0 < pixels; p0 += tile {
					for col := range cv.ColumnBlocks() {
						j0, j1 := cv.ColumnRange(col)
						cv.RunF32Cols(x, packed, bias, out, scratch, p0, min(p0+tile, pixels), j0, j1)
					}
				}
			}
			b.Logf("%dx%dx%d->%d variant %d wino %v tile %d", h, h, zc.c, zc.o, v, cv.wino, tile)
		}
		best := [2]float64{1e9, 1e9}
		for i := 0; i < b.N*rounds; i++ {
			for v := range runs {
				t0 := threadCPUms()
				runs[v]()
				best[v] = min(best[v], threadCPUms()-t0)
			}
		}
		b.Logf("%dx%dx%d->%d ×%d: direct %.3f ms, winograd %.3f ms, ratio %.3f", h, h, zc.c, zc.o, zc.n, best[0], best[1], best[1]/best[0])
		b.ReportMetric(best[1]/best[0], fmt.Sprintf("ratio-%d", h))
	}
}
