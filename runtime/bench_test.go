package runtime_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// BenchmarkZoo measures float inference latency of zoo models (He-init
// weights, no files needed) at 1 and 2 threads; ms/inference and
// allocations per inference are reported.
func BenchmarkZoo(b *testing.B) {
	for _, spec := range []string{"mobilenet_v2", "resnet50", "mobilenet_v1", "resnet18"} {
		g, err := zoo.Build(spec)
		if err != nil {
			b.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", spec, threads), func(b *testing.B) {
				m, err := runtime.New(g, runtime.Options{Threads: threads})
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
}
