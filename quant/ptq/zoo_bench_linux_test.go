package ptq_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/asm"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// BenchmarkZooInt8 quantises zoo graphs (He-init weights) with synthetic
// calibration (4 uniform [0, 1) images, min/max observers) and times the
// float model, the int8 model and the int8 model with 7-bit weights
// (int8-rr, Options.ReduceRange, which the avx2 path runs on its
// VPMADDUBSW tiles) at one thread on the selected kernel path
// (EDGEINFER_KERNELS). Besides wall time it reports process CPU time per
// inference (getrusage), which is what to compare on a shared machine.
//
//	go test -run XXX -bench ZooInt8 -benchtime 5x ./quant/ptq/
func BenchmarkZooInt8(b *testing.B) {
	for _, spec := range []string{"resnet50", "mobilenet_v2"} {
		g, err := zoo.Build(spec)
		if err != nil {
			b.Fatal(err)
		}
		m, err := runtime.New(g, runtime.Options{Threads: 1})
		if err != nil {
			b.Fatal(err)
		}
		n := len(m.Input(0))
		m.Close()
		r := rand.New(rand.NewPCG(1, 2))
		calib := make(ptq.Samples, 4)
		for i := range calib {
			calib[i] = make([]float32, n)
			for j := range calib[i] {
				calib[i][j] = r.Float32()
			}
		}
		qg, _, err := ptq.Quantize(g, calib, ptq.Options{SkipEval: true, Threads: 1})
		if err != nil {
			b.Fatal(err)
		}
		rg, _, err := ptq.Quantize(g, calib, ptq.Options{SkipEval: true, Threads: 1, ReduceRange: true})
		if err != nil {
			b.Fatal(err)
		}
		for _, v := range []struct {
			name string
			g    *ir.Graph
		}{{"float", g}, {"int8", qg}, {"int8-rr", rg}} {
			b.Run(fmt.Sprintf("%s/%s/%s/threads=1", spec, v.name, asm.Selected()), func(b *testing.B) {
				m, err := runtime.New(v.g, runtime.Options{Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				copy(m.Input(0), calib[0])
				if err := m.Run(); err != nil { // warm-up
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				c0, t0 := processCPU(), time.Now()
				for i := 0; i < b.N; i++ {
					if err := m.Run(); err != nil {
						b.Fatal(err)
					}
				}
				el, cpu := time.Since(t0), processCPU()-c0
				b.ReportMetric(float64(el.Microseconds())/1000/float64(b.N), "ms/inference")
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/inference")
			})
		}
	}
}

// processCPU is the user + system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
