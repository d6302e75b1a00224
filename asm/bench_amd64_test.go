//go:build !purego && linux

package asm

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// threadCPUms is the calling thread's CPU time in milliseconds
// (CLOCK_THREAD_CPUTIME_ID: nanosecond resolution, unlike getrusage's ticks).
func threadCPUms() float64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 3 /* CLOCK_THREAD_CPUTIME_ID */, uintptr(unsafe.Pointer(&ts)), 0)
	return float64(ts.Sec)*1e3 + float64(ts.Nsec)/1e6
}

// zooConv is one convolution of a zoo model: input h×w×c, o output channels,
// k×k kernel, stride s, padding k/2, repeated n times in the model;
// dw marks a depthwise convolution (o == c).
type zooConv struct {
	h, c, o, k, s, n int
	dw               bool
}

// zooConvs lists the convolutions of ResNet-50 and MobileNet v2 (224×224,
// torchvision), which hold > 97 % of their MACs, so a change to the float
// GEMM, im2col or depthwise bodies can be measured per model in CPU time
// without the noise of a shared machine's wall clock.
var zooConvs = map[string][]zooConv{
	"resnet50": {
		{224, 3, 64, 7, 2, 1, false},
		{56, 64, 64, 1, 1, 1, false}, {56, 256, 64, 1, 1, 2, false}, {56, 64, 64, 3, 1, 3, false},
		{56, 64, 256, 1, 1, 4, false},
		{56, 256, 128, 1, 1, 1, false}, {56, 128, 128, 3, 2, 1, false}, {56, 256, 512, 1, 2, 1, false},
		{28, 512, 128, 1, 1, 3, false}, {28, 128, 128, 3, 1, 3, false}, {28, 128, 512, 1, 1, 4, false},
		{28, 512, 256, 1, 1, 1, false}, {28, 256, 256, 3, 2, 1, false}, {28, 512, 1024, 1, 2, 1, false},
		{14, 1024, 256, 1, 1, 5, false}, {14, 256, 256, 3, 1, 5, false}, {14, 256, 1024, 1, 1, 6, false},
		{14, 1024, 512, 1, 1, 1, false}, {14, 512, 512, 3, 2, 1, false}, {14, 1024, 2048, 1, 2, 1, false},
		{7, 2048, 512, 1, 1, 2, false}, {7, 512, 512, 3, 1, 2, false}, {7, 512, 2048, 1, 1, 3, false},
	},
	"mobilenet_v2": mobilenetV2Convs(),
}

func mobilenetV2Convs() []zooConv {
	cs := []zooConv{{224, 3, 32, 3, 2, 1, false}}
	h, c := 112, 32
	for _, b := range [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		t, o, n, s := b[0], b[1], b[2], b[3]
		for i := 0; i < n; i++ {
			hid := c * t
			if t != 1 {
				cs = append(cs, zooConv{h, c, hid, 1, 1, 1, false})
			}
			cs = append(cs, zooConv{h, hid, hid, 3, s, 1, true})
			h = (h-1)/s + 1
			cs = append(cs, zooConv{h, hid, o, 1, 1, 1, false})
			c, s = o, 1
		}
	}
	return append(cs, zooConv{7, 320, 1280, 1, 1, 1, false})
}

// BenchmarkZooConvCPU runs every convolution of a model once per op, on one
// locked OS thread, and reports the thread's CPU time per op (cpu-ms/op) and
// the MACs per CPU nanosecond. -v also logs the CPU time per layer shape.
func BenchmarkZooConvCPU(b *testing.B) {
	for _, model := range []string{"resnet50", "mobilenet_v2"} {
		b.Run(model, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var ls []*zooLayer
			var total float64
			for _, zc := range zooConvs[model] {
				oh := (zc.h+2*(zc.k/2)-zc.k)/zc.s + 1
				x := make([]float32, zc.h*zc.h*zc.c)
				for i := range x {
					x[i] = float32(i%7-3) / 7
				}
				out := make([]float32, oh*oh*zc.o)
				l := &zooLayer{zc: zc, macs: float64(oh * oh * zc.o * zc.k * zc.k)}
				if zc.dw {
					d := &DepthwiseConv2D{InH: zc.h, InW: zc.h, C: zc.c, Mult: 1, OutH: oh, OutW: oh, KH: zc.k, KW: zc.k,
						StrideH: zc.s, StrideW: zc.s, DilH: 1, DilW: 1, PadT: zc.k / 2, PadL: zc.k / 2, OutStride: zc.o, Clamp: Clamp{0, 6}}
					packed := d.PackF32(make([]float32, zc.c*zc.k*zc.k))
					bias := make([]float32, zc.c)
					l.run = func() { d.RunF32(x, packed, bias, out, 0, oh) }
				} else {
					l.macs *= float64(zc.c)
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
					l.run = func() {
						for p0 := 0; p0 < pixels; p0 += tile {
							for col := range cv.ColumnBlocks() {
								j0, j1 := cv.ColumnRange(col)
								cv.RunF32Cols(x, packed, bias, out, scratch, p0, min(p0+tile, pixels), j0, j1)
							}
						}
					}
				}
				l.macs *= float64(zc.n)
				total += l.macs
				ls = append(ls, l)
			}
			zooLayerCPU(b, ls, total)
		})
	}
}

// BenchmarkF32Avx2Tile6x16 runs the 6×16 AVX2 tile on L1-resident data
// (kc = 256: 6 KB of A, 16 KB of B) and reports MACs per CPU nanosecond:
// the ceiling every GEMM-bound layer is measured against.
func BenchmarkF32Avx2Tile6x16(b *testing.B) {
	if level < pathLevel(PathAVX2) {
		b.Skip("avx2 path not selected")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const kc = 256
	a := make([]float32, 6*kc)
	w := make([]float32, kc*16)
	c := make([]float32, 6*16)
	for i := range a {
		a[i] = float32(i%5) / 5
	}
	for i := range w {
		w[i] = float32(i%7) / 7
	}
	b.ResetTimer()
	t0 := threadCPUms()
	for i := 0; i < b.N; i++ {
		f32GemmAvx26x16(kc, &a[0], kc, &w[0], &c[0], 0, &c[0], 16, -1e30, 1e30)
	}
	ms := threadCPUms() - t0
	b.ReportMetric(float64(b.N)*6*16*kc/(ms*1e6), "MACs/cpu-ns")
}

// zooLayer is one conv layer shape of a zoo model in the per-layer CPU
// benchmarks: run computes it once, macs counts all zc.n occurrences.
type zooLayer struct {
	zc   zooConv
	run  func()
	macs float64
	cpu  float64
}

// zooLayerCPU warms every layer up, then times b.N passes over the model's
// layers (each run zc.n times) on thread CPU time, reports cpu-ms/op and
// MACs/cpu-ns for total MACs, and logs each layer's share with -v.
func zooLayerCPU(b *testing.B, ls []*zooLayer, total float64) {
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
}
