package runtime_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/npy"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// BigFixturesEnv names a folder of full-size fixtures made with
// ../shared/fixtures/gen_fixtures.py (same layout as ../shared/fixtures);
// they are too big for the shared folder.
const BigFixturesEnv = "EDGEINFER_BIG_FIXTURES"

// fixtureDirs lists the case folders under the shared fixtures and, when
// set, the big-fixture folder.
func fixtureDirs(t *testing.T) []string {
	root := shared.Path(t, "fixtures")
	var dirs []string
	for _, base := range []string{root, os.Getenv(BigFixturesEnv)} {
		if base == "" {
			continue
		}
		ents, err := os.ReadDir(base)
		require.NoError(t, err)
		for _, e := range ents {
			if _, err := os.Stat(filepath.Join(base, e.Name(), "model.onnx")); err == nil {
				dirs = append(dirs, filepath.Join(base, e.Name()))
			}
		}
	}
	return dirs
}

// tolerance is the fixtures' documented bound: max|y − ref| ≤ 1e-4·max(1, max|ref|).
func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

func topK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
	return idx[:min(k, len(idx))]
}

// sameTop5 compares top-5 orders, accepting a swap only between entries
// whose reference values are closer than tol (a tie at float precision).
func sameTop5(got, ref []float32, tol float64) error {
	g, r := topK(got, 5), topK(ref, 5)
	for i := range r {
		if g[i] != r[i] && math.Abs(float64(ref[g[i]])-float64(ref[r[i]])) > tol {
			return fmt.Errorf("top-5 %v, reference %v", g, r)
		}
	}
	return nil
}

func TestFixtures(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			if testing.Short() && fileSize(filepath.Join(dir, "model.onnx")) > 20<<20 {
				t.Skip("large model skipped in -short mode")
			}
			g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
			require.NoError(t, err)
			m, err := runtime.New(g, runtime.Options{Threads: 2})
			require.NoError(t, err)
			defer m.Close()
			for i := 0; i < 2; i++ {
				in, err := npy.Read(filepath.Join(dir, fmt.Sprintf("input_%d.npy", i)))
				require.NoError(t, err)
				ref, err := npy.Read(filepath.Join(dir, fmt.Sprintf("output_%d.npy", i)))
				require.NoError(t, err)
				require.Equal(t, in.Shape, m.InputInfo(0).Shape)
				copy(m.Input(0), in.F32)
				require.NoError(t, m.Run())
				got := m.Output(0)
				require.Equal(t, ref.Shape, m.OutputInfo(0).Shape)
				tol := 1e-4 * math.Max(1, maxAbs(ref.F32))
				worst := 0.0
				for j := range got {
					worst = math.Max(worst, math.Abs(float64(got[j])-float64(ref.F32[j])))
				}
				t.Logf("input_%d: max|ours−torch| = %.3g (bound %.3g), arena %d KiB", i, worst, tol, m.Stats().ArenaBytes>>10)
				require.LessOrEqual(t, worst, tol, "input_%d", i)
				require.NoError(t, sameTop5(got, ref.F32, tol), "input_%d", i)
			}
		})
	}
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// TestThreadsIdentical checks that results are bit-identical for every
// thread count (the work decomposition never depends on it).
func TestThreadsIdentical(t *testing.T) {
	dir := shared.Path(t, "fixtures/googlenet")
	g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	require.NoError(t, err)
	in, err := npy.Read(filepath.Join(dir, "input_1.npy"))
	require.NoError(t, err)
	var first []float32
	for _, threads := range []int{1, 2, 3, 4} {
		m, err := runtime.New(g, runtime.Options{Threads: threads})
		require.NoError(t, err)
		copy(m.Input(0), in.F32)
		require.NoError(t, m.Run())
		out := append([]float32(nil), m.Output(0)...)
		m.Close()
		if first == nil {
			first = out
			continue
		}
		require.Equal(t, first, out, "threads=%d", threads)
	}
}

// TestZeroAllocs checks that inference allocates nothing after the first run.
func TestZeroAllocs(t *testing.T) {
	for _, c := range []string{"mobilenet_v2", "inception_v4_small", "shufflenet_v2_x0_5", "alexnet_lrn"} {
		t.Run(c, func(t *testing.T) {
			dir := shared.Path(t, "fixtures/"+c)
			g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
			require.NoError(t, err)
			for _, threads := range []int{1, 2} {
				m, err := runtime.New(g, runtime.Options{Threads: threads})
				require.NoError(t, err)
				require.NoError(t, m.Run())
				allocs := testing.AllocsPerRun(3, func() { _ = m.Run() })
				m.Close()
				require.Zero(t, allocs, "threads=%d", threads)
			}
		})
	}
}

var _ = ir.Float32
