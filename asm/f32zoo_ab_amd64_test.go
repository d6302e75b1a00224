//go:build !purego

package asm

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// TestF32ZooAB times the float convolutions of a zoo model (every layer
// shape, its repeat count) on each kernel path named in EDGEINFER_F32AB_PATHS
// (default "avx2 avx512vnni"), interleaved per layer in one process on the
// same packed weights, in thread CPU time over 9 rounds, and logs per-layer
// medians and the model's median total with its range:
//
//	EDGEINFER_F32AB=resnet50 go test -count=1 -run TestF32ZooAB -v ./asm/
func TestF32ZooAB(t *testing.T) {
	model := os.Getenv("EDGEINFER_F32AB")
	if model == "" {
		t.Skip("set EDGEINFER_F32AB=resnet50 or mobilenet_v2 to run")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cfgs := strings.Fields(os.Getenv("EDGEINFER_F32AB_PATHS"))
	if len(cfgs) == 0 {
		cfgs = []string{PathAVX2, PathVNNI}
	}
	for _, c := range cfgs {
		if pathLevel(c) < 0 || pathLevel(c) > hwLevel {
			t.Skipf("path %s is not supported here", c)
		}
	}
	rounds := 9
	type lay struct {
		zc  zooConv
		run func()
		t   [][]float64
	}
	var ls []*lay
	for _, zc := range zooConvs[model] {
		if zc.dw {
			continue
		}
		oh := (zc.h+2*(zc.k/2)-zc.k)/zc.s + 1
		x := make([]float32, zc.h*zc.h*zc.c)
		for i := range x {
			x[i] = float32(i%7-3) / 7
		}
		out := make([]float32, oh*oh*zc.o)
		cv := &Conv2D{InH: zc.h, InW: zc.h, InC: zc.c, OutH: oh, OutW: oh, OutC: zc.o, KH: zc.k, KW: zc.k,
			StrideH: zc.s, StrideW: zc.s, DilH: 1, DilW: 1, PadT: zc.k / 2, PadL: zc.k / 2, Groups: 1, OutStride: zc.o, Clamp: Clamp{0, 6}}
		w := make([]float32, zc.o*zc.c*zc.k*zc.k)
		for i := range w {
			w[i] = float32(i%13-6) / 13
		}
		packed := cv.PackF32(w)
		bias := make([]float32, zc.o)
		scratch := make([]float32, cv.ScratchF32())
		tile, pixels := cv.TilePixels(), oh*oh
		l := &lay{zc: zc, t: make([][]float64, len(cfgs))}
		l.run = func() {
			for p0 := 0; p0 < pixels; p0 += tile {
				for col := range cv.ColumnBlocks() {
					j0, j1 := cv.ColumnRange(col)
					cv.RunF32Cols(x, packed, bias, out, scratch, p0, min(p0+tile, pixels), j0, j1)
				}
			}
		}
		ls = append(ls, l)
	}
	saved := level
	defer func() { level = saved }()
	tot := make([][]float64, len(cfgs))
	for r := 0; r < rounds; r++ {
		sums := make([]float64, len(cfgs))
		for _, l := range ls {
			for ci, c := range cfgs {
				level = pathLevel(c)
				l.run()
				t0 := threadCPUms()
				for j := 0; j < l.zc.n; j++ {
					l.run()
				}
				d := threadCPUms() - t0
				l.t[ci] = append(l.t[ci], d)
				sums[ci] += d
			}
		}
		for ci := range cfgs {
			tot[ci] = append(tot[ci], sums[ci])
		}
	}
	med := func(v []float64) float64 { w := append([]float64(nil), v...); sort.Float64s(w); return w[len(w)/2] }
	for _, l := range ls {
		s := fmt.Sprintf("%-40s", fmt.Sprintf("%+v", l.zc))
		for ci := range cfgs {
			s += fmt.Sprintf(" %7.3f", med(l.t[ci]))
		}
		t.Log(s)
	}
	s := fmt.Sprintf("%-40s", "total (median of rounds)")
	for ci := range cfgs {
		w := append([]float64(nil), tot[ci]...)
		sort.Float64s(w)
		s += fmt.Sprintf(" %7.2f [%.2f-%.2f]", med(tot[ci]), w[0], w[len(w)-1])
	}
	t.Log(cfgs)
	t.Log(s)
}
