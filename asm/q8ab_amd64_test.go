//go:build !purego && linux

package asm

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// x86q8Configs are the settings TestQ8ZooConvAB compares, interleaved per
// layer: the im2col tile rule of q8TilePixelsArch against the generic
// TilePixels budget. Add a config (e.g. a package variable switching
// between two kernels) to compare something else.
var x86q8Configs = []struct {
	name string
	set  func()
}{
	{"64K/8", func() { q8TileBudgetAvx2, q8Avx2MinTile = 64<<10, 8 }},
	{"256K/32", func() { q8TileBudgetAvx2, q8Avx2MinTile = 256<<10, 32 }},
}

// TestQ8ZooConvAB times the int8 convolutions of a zoo model
// (EDGEINFER_Q8AB=resnet50 or mobilenet_v2; skipped otherwise) under each
// of x86q8Configs on one locked thread, alternating configs within each
// layer and keeping the least of 7 CPU times: on a shared machine this
// resolves a few per cent where separate benchmark runs differ by ±15 %.
//
//	EDGEINFER_Q8AB=resnet50 go test -count=1 -run TestQ8ZooConvAB -v ./asm/
func TestQ8ZooConvAB(t *testing.T) {
	model := os.Getenv("EDGEINFER_Q8AB")
	if model == "" {
		t.Skip("EDGEINFER_Q8AB not set")
	}
	defer func(b, m int) { q8TileBudgetAvx2, q8Avx2MinTile = b, m }(q8TileBudgetAvx2, q8Avx2MinTile)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := q8Seeded(t, 1)
	tot := make([]float64, len(x86q8Configs))
	for _, zc := range zooConvs[model] {
		if zc.dw {
			continue
		}
		oh := (zc.h+2*(zc.k/2)-zc.k)/zc.s + 1
		cv := &QConv2D{InH: zc.h, InW: zc.h, InC: zc.c, OutH: oh, OutW: oh, OutC: zc.o, KH: zc.k, KW: zc.k,
			StrideH: zc.s, StrideW: zc.s, DilH: 1, DilW: 1, PadT: zc.k / 2, PadL: zc.k / 2, Groups: 1, OutStride: zc.o,
			InZero: -3}
		cv.Requant = q8RandRequant(r, zc.o, 400, RoundUpward)
		x := q8Rand(r, zc.h*zc.h*zc.c, -128, 127)
		p := cv.Pack(q8Rand(r, zc.o*zc.c*zc.k*zc.k, -127, 127), nil, make([]int32, zc.o))
		out := make([]int8, oh*oh*zc.o)
		scratch := make([]byte, 4<<20)
		pixels := oh * oh
		best := make([]float64, len(x86q8Configs))
		for rep := 0; rep < 7; rep++ {
			for ci, cf := range x86q8Configs {
				cf.set()
				tile := cv.TilePixels()
				t0 := threadCPUms()
				for p0 := 0; p0 < pixels; p0 += tile {
					cv.Run(x, p, out, scratch, p0, min(p0+tile, pixels))
				}
				d := threadCPUms() - t0
				if rep == 0 || d < best[ci] {
					best[ci] = d
				}
			}
		}
		line := fmt.Sprintf("%-40v", zc)
		for ci := range best {
			tot[ci] += best[ci] * float64(zc.n)
			line += fmt.Sprintf(" %s %.3f", x86q8Configs[ci].name, best[ci]*float64(zc.n))
		}
		t.Log(line)
	}
	line := "total"
	for ci := range tot {
		line += fmt.Sprintf(" %s %.2f", x86q8Configs[ci].name, tot[ci])
	}
	t.Log(line)
}
