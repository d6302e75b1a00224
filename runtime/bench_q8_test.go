package runtime_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// BenchmarkZooInt8 measures int8 inference of zoo models quantised by
// quant/ptq (TFLite's int8 scheme: per-channel symmetric weights) on two
// synthetic calibration inputs, at 1 thread. The weights are He-init, so
// the numbers are about cost, not accuracy. ms/inference and GMAC/s are
// reported; make icount counts its instructions under qemu.
func BenchmarkZooInt8(b *testing.B) {
	for _, spec := range []string{"mobilenet_v1", "mobilenet_v2", "resnet18", "resnet50"} {
		b.Run(fmt.Sprintf("%s/threads=1", spec), func(b *testing.B) {
			// Quantised inside the sub-benchmark, so a -bench pattern that
			// skips it skips the calibration too; the set-up is the same
			// for every b.N, so make icount's difference cancels it.
			g, err := zoo.Build(spec)
			if err != nil {
				b.Fatal(err)
			}
			calib := ptq.CalibratorFunc(2, func(s int, in [][]float32) error {
				for i := range in[0] {
					in[0][i] = float32((i*(7+s))%255) / 255
				}
				return nil
			})
			qg, _, err := ptq.Quantize(g, calib, ptq.Options{Threads: 1, SkipEval: true})
			if err != nil {
				b.Fatal(err)
			}
			m, err := runtime.New(qg, runtime.Options{Threads: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			in := m.Input(0)
			for i := range in {
				in[i] = float32(i%255) / 255
			}
			if err := m.Run(); err != nil { // warm-up
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			t0 := time.Now()
			for i := 0; i < b.N; i++ {
				if err := m.Run(); err != nil {
					b.Fatal(err)
				}
			}
			el := time.Since(t0)
			b.ReportMetric(float64(el.Microseconds())/1000/float64(b.N), "ms/inference")
			b.ReportMetric(float64(m.Stats().MACs)*float64(b.N)/el.Seconds()/1e9, "GMAC/s")
		})
	}
}
