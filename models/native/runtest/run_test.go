package runtest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/native"
	"github.com/edgeinfer/edgeinfer/models/npy"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// roundTrip writes m as an .eim file and loads it back; the mapping is
// closed when the test ends.
func roundTrip(t *testing.T, m *native.Model) *native.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.eim")
	require.NoError(t, native.Write(path, m))
	st, err := os.Stat(path)
	require.NoError(t, err)
	t.Logf("%s: %d bytes", filepath.Base(path), st.Size())
	got, c, err := native.Load(path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return got
}

// TestRunsLikeONNX runs fixtures from their .eim files (weights mapped
// read-only, so a runtime pass writing to a weight would crash) and from
// the ONNX files: outputs must be bit-identical.
func TestRunsLikeONNX(t *testing.T) {
	for _, name := range []string{"lenet5", "mobilenet_v2"} {
		t.Run(name, func(t *testing.T) {
			dir := shared.Path(t, "fixtures/"+name)
			g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
			require.NoError(t, err)
			loaded := roundTrip(t, &native.Model{Graph: g})

			want := run(t, g, dir)
			got := run(t, loaded.Graph, dir)
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, bits(want[i]), bits(got[i]), "input_%d: outputs differ", i)
			}
		})
	}
}

// run prepares g and returns its outputs on the fixture's two inputs.
func run(t *testing.T, g *ir.Graph, dir string) [][]float32 {
	t.Helper()
	m, err := runtime.New(g, runtime.Options{Threads: 2})
	require.NoError(t, err)
	defer m.Close()
	var outs [][]float32
	for i := 0; i < 2; i++ {
		in, err := npy.Read(filepath.Join(dir, fmt.Sprintf("input_%d.npy", i)))
		require.NoError(t, err)
		ref, err := npy.Read(filepath.Join(dir, fmt.Sprintf("output_%d.npy", i)))
		require.NoError(t, err)
		copy(m.Input(0), in.F32)
		require.NoError(t, m.Run())
		out := append([]float32(nil), m.Output(0)...)
		// Sanity: the run matches PyTorch within the fixtures' bound.
		require.Len(t, out, len(ref.F32))
		for j := range out {
			require.InDelta(t, ref.F32[j], out[j], 1e-3, "input_%d output %d", i, j)
		}
		outs = append(outs, out)
	}
	return outs
}

func bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, f := range v {
		out[i] = math.Float32bits(f)
	}
	return out
}
