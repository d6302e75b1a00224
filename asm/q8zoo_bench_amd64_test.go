//go:build !purego && linux

package asm

import (
	"runtime"
	"testing"
)

// BenchmarkQ8ZooConvCPU is BenchmarkZooConvCPU for the int8 convolutions
// (QConv2D, RoundUpward, the runtime's TilePixels chunks; the depthwise
// layers of MobileNet v2 are left out): CPU time per op on one locked OS
// thread, MACs per CPU nanosecond, and with -v the CPU time per layer shape.
// The -7bit forms run weights in [−63, 63] (quantize --reduce-range) on
// the c32 VPMADDUBSW tiles, -7bit-c16 the same weights on the c16 tiles.
func BenchmarkQ8ZooConvCPU(b *testing.B) {
	for _, name := range []string{"resnet50", "mobilenet_v2", "resnet50-7bit", "resnet50-7bit-c16"} {
		model, wmax, ub := name, 127, true
		switch name {
		case "resnet50-7bit":
			model, wmax = "resnet50", 63
		case "resnet50-7bit-c16":
			model, wmax, ub = "resnet50", 63, false
		}
		b.Run(name, func(b *testing.B) {
			saved := q8Avx2UB
			q8Avx2UB = ub
			defer func() { q8Avx2UB = saved }()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var ls []*zooLayer
			var total float64
			r := q8Seeded(b, 1)
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
				p := cv.Pack(q8Rand(r, zc.o*zc.c*zc.k*zc.k, -wmax, wmax), nil, make([]int32, zc.o))
				out := make([]int8, oh*oh*zc.o)
				scratch := make([]byte, cv.ScratchBytes())
				tile, pixels := cv.TilePixels(), oh*oh
				l := &zooLayer{zc: zc, macs: float64(oh*oh*zc.o*zc.k*zc.k*zc.c) * float64(zc.n)}
				l.run = func() {
					for p0 := 0; p0 < pixels; p0 += tile {
						cv.Run(x, p, out, scratch, p0, min(p0+tile, pixels))
					}
				}
				total += l.macs
				ls = append(ls, l)
			}
			zooLayerCPU(b, ls, total)
		})
	}
}
