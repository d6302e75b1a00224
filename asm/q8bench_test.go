package asm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Int8 benchmarks report GOPS (2 operations per multiply-add) and ms/op.
// "1thread" runs every work item on the benchmark goroutine; "Nthreads"
// shares them among GOMAXPROCS goroutines the way the runtime's pool does.
// Single-threaded runs also report cpu-GOPS, measured on the thread's CPU
// time, which stays meaningful when other jobs share the machine.

func reportQ8GOPS(b *testing.B, macs float64) {
	b.ReportMetric(2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
}

// q8Loop runs f b.N times; with one thread it pins the goroutine to its OS
// thread and reports cpu-GOPS as well.
func q8Loop(b *testing.B, threads int, macs float64, f func()) {
	if threads == 1 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	t0, ok := q8ThreadCPU()
	for b.Loop() {
		f()
	}
	t1, _ := q8ThreadCPU()
	reportQ8GOPS(b, macs)
	if threads == 1 && ok && t1 > t0 {
		b.ReportMetric(2*macs*float64(b.N)/(t1-t0).Seconds()/1e9, "cpu-GOPS")
	}
}

// q8ForItems runs f(worker, i) for i < n on the given number of workers.
func q8ForItems(workers, n int, f func(worker, i int)) {
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

func q8Threads() []int {
	if n := runtime.GOMAXPROCS(0); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

func q8ThreadName(n int) string {
	if n == 1 {
		return "1thread"
	}
	return fmt.Sprintf("%dthreads", n)
}

// q8BenchTilings are the register tiles benchmarked: the default first.
var q8BenchTilings = []int{q8GemmDefaultMR, 1, 4}

func BenchmarkQ8Conv2D(b *testing.B) {
	shapes := []struct {
		name       string
		h, c, o, k int
	}{
		{"1x1_56x56x64-64", 56, 64, 64, 1},
		{"3x3_28x28x128-128", 28, 128, 128, 3},
	}
	for _, mr := range q8BenchTilings {
		for _, s := range shapes {
			c := &QConv2D{InH: s.h, InW: s.h, InC: s.c, OutH: s.h, OutW: s.h, OutC: s.o, KH: s.k, KW: s.k,
				StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: s.k / 2, PadL: s.k / 2, Groups: 1, OutStride: s.o,
				InZero: -3, mr: mr}
			r := q8Seeded(b, 1)
			c.Requant = q8RandRequant(r, s.o, 400, RoundDouble)
			x := q8Rand(r, s.h*s.h*s.c, -128, 127)
			p := c.Pack(q8Rand(r, s.o*s.c*s.k*s.k, -128, 127), nil, make([]int32, s.o))
			out := make([]int8, s.h*s.h*s.o)
			pixels, tile := s.h*s.h, c.TilePixels()
			tiles := q8CeilDiv(pixels, tile)
			macs := float64(pixels * s.o * s.c * s.k * s.k)
			for _, th := range q8Threads() {
				scratch := make([][]byte, th)
				for i := range scratch {
					scratch[i] = make([]byte, c.ScratchBytes())
				}
				b.Run(fmt.Sprintf("qs8_qc8w_gemm_requant_%dx8__scalar/%s/%s", mr, s.name, q8ThreadName(th)), func(b *testing.B) {
					q8Loop(b, th, macs, func() {
						q8ForItems(th, tiles, func(w, i int) {
							c.Run(x, p, out, scratch[w], i*tile, min(pixels, (i+1)*tile))
						})
					})
				})
			}
		}
	}
}

func BenchmarkQ8DepthwiseConv2D(b *testing.B) {
	const h, c = 112, 32
	d := &QDepthwiseConv2D{InH: h, InW: h, C: c, Mult: 1, OutH: h, OutW: h, KH: 3, KW: 3,
		StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, OutStride: c, InZero: 5}
	r := q8Seeded(b, 2)
	d.Requant = q8RandRequant(r, c, 40, RoundDouble)
	x := q8Rand(r, h*h*c, -128, 127)
	p := d.Pack(q8Rand(r, c*9, -128, 127), nil, make([]int32, c))
	out := make([]int8, h*h*c)
	macs := float64(h * h * c * 9)
	const rows = 4
	items := q8CeilDiv(h, rows)
	for _, th := range q8Threads() {
		b.Run(fmt.Sprintf("qs8_dwconv_requant__scalar/3x3_112x112x32_s1/%s", q8ThreadName(th)), func(b *testing.B) {
			q8Loop(b, th, macs, func() {
				q8ForItems(th, items, func(_, i int) { d.Run(x, p, out, i*rows, min(h, (i+1)*rows)) })
			})
		})
	}
}

func BenchmarkQ8Gemm(b *testing.B) {
	shapes := []struct{ m, n, k int }{{1, 1000, 1024}, {196, 256, 1152}}
	for _, mr := range q8BenchTilings {
		for _, s := range shapes {
			g := &QGemm{M: s.m, N: s.n, K: s.k, InZero: -128, mr: mr}
			r := q8Seeded(b, 3)
			g.Requant = q8RandRequant(r, s.n, 400, RoundDouble)
			a := q8Rand(r, s.m*s.k, -128, 127)
			p := g.Pack(q8Rand(r, s.k*s.n, -128, 127), true, nil, make([]int32, s.n))
			c := make([]int8, s.m*s.n)
			macs := float64(s.m * s.n * s.k)
			const cols = 64
			items := q8CeilDiv(s.n, cols)
			for _, th := range q8Threads() {
				b.Run(fmt.Sprintf("qs8_qc8w_gemm_requant_%dx8__scalar/%dx%dx%d/%s", mr, s.m, s.n, s.k, q8ThreadName(th)), func(b *testing.B) {
					q8Loop(b, th, macs, func() {
						q8ForItems(th, items, func(_, i int) {
							g.Run(a, s.k, p, c, s.n, nil, i*cols, min(s.n, (i+1)*cols))
						})
					})
				})
			}
		}
	}
}

func BenchmarkQ8Elementwise(b *testing.B) {
	const n = 56 * 56 * 24
	r := q8Seeded(b, 4)
	x, y, out := q8Rand(r, n, -128, 127), q8Rand(r, n, -128, 127), make([]int8, n)
	add := NewQAdd(0.05, 3, 0.07, -9, 0.1, -2, -128, 127)
	mul := NewQMul(0.05, 3, 0.07, -9, 0.01, -2, -128, 127)
	lut := NewQLogisticLUT(0.05, 0, 1.0/256, -128)
	for _, bm := range []struct {
		name string
		f    func()
	}{
		{"qs8_vadd__scalar", func() { add.Run(x, y, out) }},
		{"qs8_vmul__scalar", func() { mul.Run(x, y, out) }},
		{"qs8_lut__scalar", func() { lut.Run(x, out) }},
	} {
		b.Run(bm.name+"/56x56x24", func(b *testing.B) {
			for b.Loop() {
				bm.f()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
