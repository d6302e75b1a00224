//go:build !purego && linux

package asm

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkQ8ZooConvCPU is BenchmarkZooConvCPU for the int8 convolutions
// (QConv2D, RoundUpward, the runtime's TilePixels chunks; the depthwise
// layers of MobileNet v2 are left out): CPU time per op on one locked OS
// thread, MACs per CPU nanosecond, and with -v the CPU time per layer shape.
func BenchmarkQ8ZooConvCPU(b *testing.B) {
	for _, model := range []string{"resnet50", "mobilenet_v2"} {
		b.Run(model, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			type layer struct {
				zc   zooConv
				run  func()
				macs float64
				cpu  float64
			}
			var ls []*layer
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
				p := cv.Pack(q8Rand(r, zc.o*zc.c*zc.k*zc.k, -127, 127), nil, make([]int32, zc.o))
				out := make([]int8, oh*oh*zc.o)
				scratch := make([]byte, cv.ScratchBytes())
				tile, pixels := cv.TilePixels(), oh*oh
				l := &layer{zc: zc, macs: float64(oh*oh*zc.o*zc.k*zc.k*zc.c) * float64(zc.n)}
				l.run = func() {
					for p0 := 0; p0 < pixels; p0 += tile {
						cv.Run(x, p, out, scratch, p0, min(p0+tile, pixels))
					}
				}
				total += l.macs
				ls = append(ls, l)
			}
			for _, l := range ls {
				l.run() // warm up
			}
			b.ResetTimer()
			var cpu float64
			for i := 0; i < b.N; i++ {
				for _, l := range ls {
					t0 := threadCPUms()
					for j := 0; j < l.zc.n; j++ {
						l.run()
					}
					d := threadCPUms() - t0
					l.cpu += d
					cpu += d
				}
			}
			b.ReportMetric(cpu/float64(b.N), "cpu-ms/op")
			b.ReportMetric(total/(cpu*1e6/float64(b.N)), "MACs/cpu-ns")
			if b.N < 2 {
				return
			}
			for _, l := range ls {
				ms := l.cpu / float64(b.N)
				b.Logf("%-32s %8.2f cpu-ms %6.2f MACs/ns", fmt.Sprintf("%+v", l.zc), ms, l.macs/(ms*1e6))
			}
		})
	}
}
