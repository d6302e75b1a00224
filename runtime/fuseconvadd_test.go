package runtime_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// convAddGraph is x → Conv 3×3 (the residual, computed first) and x →
// Conv 1×1 → Add(·, residual) → Relu, with 40 channels on a 7×9 image (so
// AddClampF32 runs both its SIMD blocks and its scalar tail; on amd64's
// avx2 path the 63 pixels are one tile in two column blocks, 32 + 8
// channels, so the add also runs per pixel on a column range); exposeConv
// also makes the 1×1 conv's output a graph output, a second reader that
// keeps the Add a step of its own.
func convAddGraph(exposeConv bool, swap bool) *ir.Graph {
	r := rand.New(rand.NewPCG(11, 11))
	rf := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64()) * 0.3
		}
		return v
	}
	b := ir.NewBuilder("conv-add")
	x := b.Input("x", ir.Float32, 1, 16, 7, 9)
	res := b.Op("Conv", []string{x, b.F32("w3", rf(40*16*9), 40, 16, 3, 3), b.F32("b3", rf(40), 40)},
		ir.WithInts("pads", 1, 1, 1, 1), ir.WithInts("kernel_shape", 3, 3))
	c := b.Op("Conv", []string{x, b.F32("w1", rf(40*16), 40, 16, 1, 1), b.F32("b1", rf(40), 40)},
		ir.WithInts("kernel_shape", 1, 1))
	ins := []string{c, res}
	if swap {
		ins = []string{res, c}
	}
	b.Output(b.Op("Relu", []string{b.Op("Add", ins)}))
	if exposeConv {
		b.Output(c)
	}
	return b.G
}

// TestConvAddFusion: the Add that is a Conv's only reader runs inside the
// conv step ("Conv+Add"), with results identical to the separate Add, for
// either operand order, and without allocating.
func TestConvAddFusion(t *testing.T) {
	for _, swap := range []bool{false, true} {
		var outs [2][]float32
		for i, expose := range []bool{true, false} {
			m, err := runtime.New(convAddGraph(expose, swap), runtime.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			fused := slices.Contains(m.OpNames(), "Conv+Add")
			if fused == expose {
				t.Fatalf("swap=%v expose=%v: ops %v", swap, expose, m.OpNames())
			}
			in := m.Input(0)
			for j := range in {
				in[j] = float32(j%13-6) / 6
			}
			if err := m.Run(); err != nil {
				t.Fatal(err)
			}
			outs[i] = slices.Clone(m.Output(0))
			if n := testing.AllocsPerRun(3, func() { _ = m.Run() }); n != 0 {
				t.Errorf("expose=%v: %v allocations per run", expose, n)
			}
			m.Close()
		}
		if !slices.Equal(outs[0], outs[1]) {
			t.Fatalf("swap=%v: fused output differs from the separate Add", swap)
		}
	}
}
