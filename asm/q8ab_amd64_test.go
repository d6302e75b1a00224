//go:build !purego && linux

package asm

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// x86q8Configs are the settings TestQ8ZooConvAB compares, interleaved per
// layer (each packs its own copy of the layer and weights), each setting
// its kernel path and switches (q8ABSet): on the default path the x8
// tiles' two-rounding RoundUpward epilogue against their Upward1 form
// (q8Avx2Upward1; the Winograd and c4 layers ignore it) and F(2×2, 3×3)
// only on the Winograd layers (wino2: q8WinoF3 off); the avx2 path (what
// EDGEINFER_KERNELS=avx2 runs); and on the avx512vnni path the VPDPBUSD
// x8 tiles only (vnni-x8: q8VnniC4 off), the default (avx512vnni: c4 tiles
// on 1×1 layers) and the VNNI tiles with the Winograd path off
// (vnni-direct: the 3×3 stride-1 layers on the direct, mostly implicit,
// tiles). Where the CPU lacks VNNI the avx512vnni configs run on avx2.
// Add a config (e.g. a package variable switching between two kernels or
// tile rules, like q8Avx2X8 or q8Avx2MinTileOne) to compare something
// else.
var x86q8Configs = []struct {
	name string
	set  func()
}{
	{"two-round", func() { q8ABSet("", true, false, true, true) }},
	{"upward1", func() { q8ABSet("", true, true, true, true) }},
	{"wino2", func() { q8ABSet("", true, true, false, true) }},
	{"avx2", func() { q8ABSet(PathAVX2, true, true, true, true) }},
	{"vnni-x8", func() { q8ABSet(PathVNNI, true, true, true, false) }},
	{"avx512vnni", func() { q8ABSet(PathVNNI, true, true, true, true) }},
	{"vnni-direct", func() { q8ABSet(PathVNNI, false, true, true, true) }},
	{"vnni-ymm", func() { q8ABSet(PathVNNI, true, true, true, true); q8VnniC4Z = false }},
	{"vnni-x8-implicit", func() { q8ABSet(PathVNNI, true, true, true, true); q8VnniC4Implicit = false }},
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
// layers, EDGEINFER_Q8AB_CONFIGS=a,b only the configs named.
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
	defer func(z, ci bool) { q8VnniC4Z, q8VnniC4Implicit = z, ci }(q8VnniC4Z, q8VnniC4Implicit)
	defer func(path string) { _ = Select(path) }(Selected())
	configs := x86q8Configs
	if only := os.Getenv("EDGEINFER_Q8AB_CONFIGS"); only != "" {
		configs = nil
		for _, cf := range x86q8Configs {
			if slices.Contains(strings.Split(only, ","), cf.name) {
				configs = append(configs, cf)
			}
		}
	}
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
	tot := make([]float64, len(configs))
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
		ps, cvs := make([]*QPacked, len(configs)), make([]*QConv2D, len(configs))
		for ci, cf := range configs {
			cf.set()
			c := *cv
			ps[ci], cvs[ci] = c.Pack(w, nil, make([]int32, zc.o)), &c
		}
		out := make([]int8, oh*oh*zc.o)
		scratch := make([]byte, 4<<20)
		pixels := oh * oh
		best := make([]float64, len(configs))
		for rep := 0; rep < reps; rep++ {
			for ci, cf := range configs {
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
			line += fmt.Sprintf(" %s %.3f", configs[ci].name, best[ci]*float64(zc.n))
		}
		t.Log(line)
	}
	line := "total"
	for ci := range tot {
		line += fmt.Sprintf(" %s %.2f", configs[ci].name, tot[ci])
	}
	t.Log(line)
}

// q8ABSet selects a kernel path ("" for the CPU's best; a path the CPU
// lacks leaves the best) and the int8 switches a TestQ8ZooConvAB config
// compares: the Winograd path, the x8 tiles' Upward1 form, F(3×3, 3×3)
// Winograd, and the VNNI c4 tiles.
func q8ABSet(path string, wino, upward1, f3, c4 bool) {
	if Select(path) != nil {
		_ = Select("")
	}
	q8Avx2Implicit, q8Avx2Wino, q8Avx2Upward1, q8WinoF3 = true, wino, upward1, f3
	q8Vnni, q8VnniC4, q8VnniC4Z, q8VnniC4Implicit = true, c4, true, true
}
