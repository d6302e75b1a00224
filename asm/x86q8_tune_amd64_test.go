//go:build !purego && linux

package asm

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// x86q8Configs are the settings TestX86Q8AB compares, interleaved per layer.
var x86q8Configs = []struct {
	name string
	set  func()
}{
	{"old", func() { q8Avx2UseOld = true }},
	{"new", func() { q8Avx2UseOld = false }},
}

func init() {
	zooConvs["k64"] = []zooConv{{56, 64, 256, 1, 1, 40, false}}
}

func TestX86Q8AB(t *testing.T) {
	if os.Getenv("X86Q8_AB") == "" {
		t.Skip("X86Q8_AB not set")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := q8Seeded(t, 1)
	tot := make([]float64, len(x86q8Configs))
	for _, zc := range zooConvs[os.Getenv("X86Q8_AB")] {
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
