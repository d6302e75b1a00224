package asm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Benchmarks report GFLOPS (2 flops per multiply-add). "1thread" runs every
// work item on the benchmark goroutine; "Nthreads" shares them among
// GOMAXPROCS goroutines the way the runtime's worker pool does.

func reportGFLOPS(b *testing.B, macs float64) {
	b.ReportMetric(2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
}

// forItems runs f(worker, i) for i < n on the given number of workers.
func forItems(workers, n int, f func(worker, i int)) {
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(w, i)
			}
		}(w)
	}
	wg.Wait()
}

func threadCounts() []int {
	if n := runtime.GOMAXPROCS(0); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

func threadName(n int) string {
	if n == 1 {
		return "1thread"
	}
	return fmt.Sprintf("%dthreads", n)
}

func BenchmarkConv2D(b *testing.B) {
	shapes := []struct {
		name       string
		h, c, o, k int
	}{
		{"3x3_56x56x64-64", 56, 64, 64, 3},
		{"1x1_28x28x128-256", 28, 128, 256, 1},
	}
	for _, kt := range gemmTilings(b) {
		for _, s := range shapes {
			cv := &Conv2D{InH: s.h, InW: s.h, InC: s.c, OutH: s.h, OutW: s.h, OutC: s.o, KH: s.k, KW: s.k,
				StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: s.k / 2, PadL: s.k / 2, Groups: 1, OutStride: s.o,
				Clamp: relu, mr: kt.MR}
			r := seeded(b, 1)
			x := randSlice(r, s.h*s.h*s.c)
			packed := cv.PackF32(randSlice(r, s.o*s.c*s.k*s.k))
			bias := randSlice(r, s.o)
			out := make([]float32, s.h*s.h*s.o)
			pixels, tile := s.h*s.h, cv.TilePixels()
			tiles := ceilDiv(pixels, tile)
			macs := float64(pixels * s.o * s.c * s.k * s.k)
			for _, th := range threadCounts() {
				scratch := make([][]float32, th)
				for i := range scratch {
					scratch[i] = make([]float32, cv.ScratchF32())
				}
				b.Run(kt.Name+"/"+s.name+"/"+threadName(th), func(b *testing.B) {
					for b.Loop() {
						forItems(th, tiles, func(w, i int) {
							cv.RunF32(x, packed, bias, out, scratch[w], i*tile, min(pixels, (i+1)*tile))
						})
					}
					reportGFLOPS(b, macs)
				})
			}
		}
	}
}

func BenchmarkDepthwiseConv2D(b *testing.B) {
	for _, stride := range []int{1, 2} {
		const h, c = 112, 32
		oh := (h+2-3)/stride + 1
		d := &DepthwiseConv2D{InH: h, InW: h, C: c, Mult: 1, OutH: oh, OutW: oh, KH: 3, KW: 3,
			StrideH: stride, StrideW: stride, DilH: 1, DilW: 1, PadT: 1, PadL: 1, OutStride: c, Clamp: relu6}
		r := seeded(b, 2)
		x := randSlice(r, h*h*c)
		packed := d.PackF32(randSlice(r, c*9))
		bias := randSlice(r, c)
		out := make([]float32, oh*oh*c)
		macs := float64(oh * oh * c * 9)
		rows := 4 // work items of a few rows, as the runtime's rowChunk picks
		items := ceilDiv(oh, rows)
		for _, th := range threadCounts() {
			b.Run(fmt.Sprintf("f32_dwconv_minmax__scalar/3x3_112x112x32_s%d/%s", stride, threadName(th)), func(b *testing.B) {
				for b.Loop() {
					forItems(th, items, func(_, i int) { d.RunF32(x, packed, bias, out, i*rows, min(oh, (i+1)*rows)) })
				}
				reportGFLOPS(b, macs)
			})
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	shapes := []struct{ m, n, k int }{{1, 4096, 4096}, {196, 256, 1152}}
	for _, kt := range gemmTilings(b) {
		for _, s := range shapes {
			g := &Gemm{M: s.m, N: s.n, K: s.k, Clamp: NoClamp(), mr: kt.MR}
			r := seeded(b, 3)
			a := randSlice(r, s.m*s.k)
			packed := g.PackF32(randSlice(r, s.k*s.n), false)
			bias := randSlice(r, s.n)
			c := make([]float32, s.m*s.n)
			macs := float64(s.m * s.n * s.k)
			for _, th := range threadCounts() {
				// Column chunks of 64 (a multiple of ColumnBlock) per work item.
				const cols = 64
				items := ceilDiv(s.n, cols)
				scratch := make([][]float32, th)
				for i := range scratch {
					scratch[i] = make([]float32, g.ScratchF32())
				}
				b.Run(fmt.Sprintf("%s/%dx%dx%d/%s", kt.Name, s.m, s.n, s.k, threadName(th)), func(b *testing.B) {
					for b.Loop() {
						forItems(th, items, func(w, i int) {
							g.RunF32(a, s.k, packed, bias, c, s.n, scratch[w], i*cols, min(s.n, (i+1)*cols))
						})
					}
					reportGFLOPS(b, macs)
				})
			}
		}
	}
}

func BenchmarkMaxPool2D(b *testing.B) {
	const h, c = 112, 64
	p := &Pool2D{InH: h, InW: h, C: c, OutH: 56, OutW: 56, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1,
		PadT: 1, PadL: 1, PadB: 1, PadR: 1, OutStride: c}
	r := seeded(b, 4)
	x := randSlice(r, h*h*c)
	out := make([]float32, 56*56*c)
	b.Run("f32_maxpool__scalar/3x3_s2_112x112x64", func(b *testing.B) {
		for b.Loop() {
			p.MaxF32(x, out, 0, 56)
		}
		b.ReportMetric(float64(56*56*c*9)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gcmp/s")
	})
}
