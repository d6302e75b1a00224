package runtime_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// TestRaceModels runs small float and int8 models on three threads,
// two prepared models at once from different goroutines, and compares
// with one thread: small enough for `go test -race` on the worker pool
// and the kernels' per-worker scratch.
func TestRaceModels(t *testing.T) {
	g, err := zoo.Build("mobilenet_v2?alpha=0.35&res=32")
	require.NoError(t, err)
	n := ir.NumElements(g.Inputs[0].Shape)
	calib := ptq.Samples{make([]float32, n), make([]float32, n)}
	for i := range calib[0] {
		calib[0][i] = float32(i%13)/6 - 1
		calib[1][i] = float32(i%7)/3 - 1
	}
	qg, _, err := ptq.Quantize(g, calib, ptq.Options{SkipEval: true})
	require.NoError(t, err)
	for name, graph := range map[string]*ir.Graph{"float": g, "int8": qg} {
		t.Run(name, func(t *testing.T) {
			run := func(threads int, in []float32) []float32 {
				m, err := runtime.New(graph, runtime.Options{Threads: threads})
				require.NoError(t, err)
				defer m.Close()
				var out []float32
				for range 3 {
					copy(m.Input(0), in)
					require.NoError(t, m.Run())
					out = append(out[:0], m.Output(0)...)
				}
				return out
			}
			want := [2][]float32{run(1, calib[0]), run(1, calib[1])}
			var got [2][]float32
			var wg sync.WaitGroup
			for k := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[k] = run(3, calib[k])
				}()
			}
			wg.Wait()
			require.Equal(t, want, got)
		})
	}
}
