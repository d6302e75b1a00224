//go:build !purego && linux

package asm

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// x86q8Configs are the settings TestQ8ZooConvAB compares, interleaved per
// layer (each packs its own copy of the layer and weights): the avx2
// tiles (q8Vnni off: what EDGEINFER_KERNELS=avx2 runs) against the
// VPDPBUSD tiles of the avx512vnni path, with the x8 tiles only (vnni-x8:
// q8VnniC4 off) and with the c4 tiles on 1×1 layers (vnni), all with the
// default Winograd choice, and the VNNI tiles with the Winograd path off
// (vnni-direct: the 3×3 stride-1 layers on the direct, mostly implicit,
// tiles). On a CPU
// without VNNI the first two run the same tiles. Add a config (e.g. a
// package variable switching between two kernels or tile rules, like
// q8Avx2X8 or q8Avx2MinTileOne) to compare something else.
var x86q8Configs = []struct {
	name string
	set  func()
}{
	{"avx2", func() { q8Vnni, q8VnniC4, q8Avx2Wino = false, true, true }},
	{"vnni-x8", func() { q8Vnni, q8VnniC4, q8Avx2Wino = true, false, true }},
	{"vnni", func() { q8Vnni, q8VnniC4, q8Avx2Wino = true, true, true }},
	{"vnni-direct", func() { q8Vnni, q8VnniC4, q8Avx2Wino = true, true, false }},
}

// TestQ8ZooConvAB times the int8 convolutions of a zoo model
// (EDGEINFER_Q8AB=resnet50 or mobilenet_v2, + "-7bit" for weights in
// [−63, 63]; skipped otherwise) under each
// of x86q8Configs on one locked thread, alternating configs within each
// layer and keeping the least of 7 CPU times: on a shared machine this
// resolves a few per cent where separate benchmark runs differ by ±15 %.
// With EDGEINFER_Q8AB_FLUSH set, 96 MB (or its value in MB) are written
// before every timed run (cold caches, as for a layer whose weights the
// model last read an inference ago). EDGEINFER_Q8AB_REPS sets the runs per
// config (least of 7 by default), EDGEINFER_Q8AB_3X3 times only the 3×3
// layers.
//
//	EDGEINFER_Q8AB=resnet50 go test -count=1 -run TestQ8ZooConvAB -v ./asm/
func TestQ8ZooConvAB(t *testing.T) {
	model, wmax := os.Getenv("EDGEINFER_Q8AB"), 127
	if model == "" {
		t.Skip("EDGEINFER_Q8AB not set")
	}
	if m, ok := strings.CutSuffix(model, "-7bit"); ok {
		model, wmax = m, 63 // quantize --reduce-range weights: the c32 tiles
	}
	defer func(b, m, b1, m1 int, x8, im, wi, one, f3, vn, c4 bool) {
		q8TileBudgetAvx2, q8Avx2MinTile, q8TileBudgetAvx2One, q8Avx2MinTileOne, q8Avx2X8, q8Avx2Implicit, q8Avx2Wino, q8Avx2Upward1, q8WinoF3, q8Vnni, q8VnniC4 = b, m, b1, m1, x8, im, wi, one, f3, vn, c4
	}(q8TileBudgetAvx2, q8Avx2MinTile, q8TileBudgetAvx2One, q8Avx2MinTileOne, q8Avx2X8, q8Avx2Implicit, q8Avx2Wino, q8Avx2Upward1, q8WinoF3, q8Vnni, q8VnniC4)
	var flush []byte
	if f := os.Getenv("EDGEINFER_Q8AB_FLUSH"); f != "" {
		mb, err := strconv.Atoi(f)
		if err != nil {
			mb = 96
		}
		flush = make([]byte, mb<<20)
	}
	reps, k3 := 7, os.Getenv("EDGEINFER_Q8AB_3X3") != ""
	if n, err := strconv.Atoi(os.Getenv("EDGEINFER_Q8AB_REPS")); err == nil && n > 0 {
		reps = n
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := q8Seeded(t, 1)
	tot := make([]float64, len(x86q8Configs))
	for _, zc := range zooConvs[model] {
		if zc.dw || (k3 && zc.k != 3) {
			continue
		}
		oh := (zc.h+2*(zc.k/2)-zc.k)/zc.s + 1
		cv := &QConv2D{InH: zc.h, InW: zc.h, InC: zc.c, OutH: oh, OutW: oh, OutC: zc.o, KH: zc.k, KW: zc.k,
			StrideH: zc.s, StrideW: zc.s, DilH: 1, DilW: 1, PadT: zc.k / 2, PadL: zc.k / 2, Groups: 1, OutStride: zc.o,
			InZero: -3}
		cv.Requant = q8RandRequant(r, zc.o, 400, RoundUpward)
		x := q8Rand(r, zc.h*zc.h*zc.c, -128, 127)
		w := q8Rand(r, zc.o*zc.c*zc.k*zc.k, -wmax, wmax)
		// Each config packs its own copy: Pack records per-layer choices
		// (e.g. the Winograd tile size) in the QConv2D.
		ps, cvs := make([]*QPacked, len(x86q8Configs)), make([]*QConv2D, len(x86q8Configs))
		for ci, cf := range x86q8Configs {
			cf.set()
			c := *cv
			ps[ci], cvs[ci] = c.Pack(w, nil, make([]int32, zc.o)), &c
		}
		out := make([]int8, oh*oh*zc.o)
		scratch := make([]byte, 4<<20)
		pixels := oh * oh
		best := make([]float64, len(x86q8Configs))
		for rep := 0; rep < reps; rep++ {
			for ci, cf := range x86q8Configs {
				cf.set()
				cv := cvs[ci]
				tile := cv.TilePixels()
				for i := 0; i < len(flush); i += 64 {
					flush[i]++ // evict the layer's weights and activations
				}
				t0 := threadCPUms()
				for p0 := 0; p0 < pixels; p0 += tile {
					cv.Run(x, ps[ci], out, scratch, p0, min(p0+tile, pixels))
				}
				d := threadCPUms() - t0
				if rep == 0 || d < best[ci] {
					best[ci] = d
				}
			}
		}
		line := fmt.Sprintf("%dx%d c%d o%d k%d s%d ×%d", zc.h, zc.h, zc.c, zc.o, zc.k, zc.s, zc.n)
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
