package passes_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

func randF32(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (r.Float32()*2 - 1) * scale
	}
	return v
}

func positive(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 0.5 + r.Float32()
	}
	return v
}

func opCount(g *ir.Graph, op string) int {
	n := 0
	for _, node := range g.Nodes {
		if node.Op == op {
			n++
		}
	}
	return n
}

// runBoth runs g with only the toposort pass and with all passes and
// requires the same outputs (to float rounding).
func runBoth(t *testing.T, g *ir.Graph, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	ref, err := runtime.New(g, runtime.Options{Threads: 1, StopAfterPass: 1})
	require.NoError(t, err)
	defer ref.Close()
	opt, err := runtime.New(g, runtime.Options{Threads: 2})
	require.NoError(t, err)
	defer opt.Close()
	for i := 0; i < ref.NumInputs(); i++ {
		in := randF32(r, len(ref.Input(i)), 1)
		copy(ref.Input(i), in)
		copy(opt.Input(i), in)
	}
	require.NoError(t, ref.Run())
	require.NoError(t, opt.Run())
	a, b := ref.Output(0), opt.Output(0)
	require.Equal(t, len(a), len(b))
	for i := range a {
		require.InDelta(t, a[i], b[i], 1e-4*math.Max(1, math.Abs(float64(a[i]))), "element %d", i)
	}
}

func convBNRelu(r *rand.Rand, withBias bool) *ir.Graph {
	b := ir.NewBuilder("conv-bn-relu")
	x := b.Input("x", ir.Float32, 1, 3, 9, 7)
	ins := []string{x, b.F32("w", randF32(r, 8*3*3*3, 0.5), 8, 3, 3, 3)}
	if withBias {
		ins = append(ins, b.F32("b", randF32(r, 8, 0.5), 8))
	}
	y := b.Op("Conv", ins, ir.WithInts("pads", 1, 1, 1, 1), ir.WithInts("kernel_shape", 3, 3))
	y = b.Op("BatchNormalization", []string{y, b.F32("g", positive(r, 8), 8), b.F32("be", randF32(r, 8, 1), 8),
		b.F32("m", randF32(r, 8, 1), 8), b.F32("v", positive(r, 8), 8)}, ir.WithFloat("epsilon", 1e-3))
	y = b.Op("Relu", []string{y})
	b.Output(y)
	return b.G
}

func TestFoldBatchNormAndFuseRelu(t *testing.T) {
	for _, withBias := range []bool{false, true} {
		r := rand.New(rand.NewPCG(7, 7))
		g := convBNRelu(r, withBias)
		opt := g.Clone()
		require.NoError(t, passes.Apply(opt, passes.Default, -1))
		assert.Equal(t, 0, opCount(opt, "BatchNormalization"))
		assert.Equal(t, 0, opCount(opt, "Relu"))
		require.Equal(t, 1, len(opt.Nodes))
		assert.Equal(t, float32(0), opt.Nodes[0].Float(passes.AttrClampMin, -1))
		runBoth(t, g, 1)
	}
}

func TestFuseClipAsReLU6(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	b := ir.NewBuilder("gemm-clip")
	x := b.Input("x", ir.Float32, 2, 16)
	y := b.Op("Gemm", []string{x, b.F32("w", randF32(r, 4*16, 3), 4, 16), b.F32("b", randF32(r, 4, 1), 4)}, ir.WithInt("transB", 1))
	y = b.Op("Clip", []string{y, b.F32("lo", []float32{0}), b.F32("hi", []float32{6})})
	b.Output(y)
	opt := b.G.Clone()
	require.NoError(t, passes.Apply(opt, passes.Default, -1))
	require.Len(t, opt.Nodes, 1)
	assert.Equal(t, float32(6), opt.Nodes[0].Float(passes.AttrClampMax, 0))
	runBoth(t, b.G, 2)
}

func TestFoldPadIntoAveragePool(t *testing.T) {
	b := ir.NewBuilder("pad-avgpool")
	x := b.Input("x", ir.Float32, 1, 4, 6, 6)
	y := b.Op("Pad", []string{x, b.I64("pads", []int64{0, 0, 1, 1, 0, 0, 1, 1}, 8)})
	y = b.Op("AveragePool", []string{y}, ir.WithInts("kernel_shape", 3, 3), ir.WithInts("strides", 1, 1))
	b.Output(y)
	opt := b.G.Clone()
	require.NoError(t, passes.Apply(opt, passes.Default, -1))
	require.Len(t, opt.Nodes, 1)
	assert.Equal(t, "AveragePool", opt.Nodes[0].Op)
	assert.Equal(t, int64(1), opt.Nodes[0].Int("count_include_pad", 0))
	runBoth(t, b.G, 3)
}

// TestFoldShapeArithmetic folds the Shape/Gather/Div/Unsqueeze/Concat
// chain PyTorch exports for a channel shuffle into constant Reshape shapes.
func TestFoldShapeArithmetic(t *testing.T) {
	b := ir.NewBuilder("shuffle")
	x := b.Input("x", ir.Float32, 1, 8, 3, 3)
	shape := b.Op("Shape", []string{x})
	c := b.Op("Gather", []string{shape, b.I64("one", []int64{1})}, ir.WithInt("axis", 0))
	cg := b.Op("Div", []string{c, b.I64("two", []int64{2})})
	n := b.Op("Unsqueeze", []string{b.Op("Gather", []string{shape, b.I64("zero", []int64{0})})}, ir.WithInts("axes", 0))
	cgU := b.Op("Unsqueeze", []string{cg}, ir.WithInts("axes", 0))
	rest := b.Op("Slice", []string{shape, b.I64("s", []int64{2}, 1), b.I64("e", []int64{4}, 1)})
	target := b.Op("Concat", []string{n, b.I64("g", []int64{2}, 1), cgU, rest}, ir.WithInt("axis", 0))
	y := b.Op("Reshape", []string{x, target})
	y = b.Op("Transpose", []string{y}, ir.WithInts("perm", 0, 2, 1, 3, 4))
	y = b.Op("Reshape", []string{y, b.I64("back", []int64{1, -1, 3, 3}, 4)})
	b.Output(y)
	opt := b.G.Clone()
	require.NoError(t, passes.Apply(opt, passes.Default, -1))
	for _, n := range opt.Nodes {
		assert.Contains(t, []string{"Reshape", "Transpose"}, n.Op)
	}
	assert.Equal(t, []int{1, 8, 3, 3}, opt.Outputs[0].Shape)
	// The channel shuffle must move channel 1 to position 2.
	m, err := runtime.New(b.G, runtime.Options{})
	require.NoError(t, err)
	defer m.Close()
	in := m.Input(0)
	for i := range in {
		in[i] = float32(i / 9) // value = channel index
	}
	require.NoError(t, m.Run())
	got := []float32{}
	for c := 0; c < 8; c++ {
		got = append(got, m.Output(0)[c*9])
	}
	assert.Equal(t, []float32{0, 4, 1, 5, 2, 6, 3, 7}, got)
}

func TestToposortErrors(t *testing.T) {
	cycle := ir.New("cycle")
	cycle.Inputs = []*ir.ValueInfo{{Name: "x", DType: ir.Float32, Shape: []int{1}}}
	cycle.Nodes = []*ir.Node{
		{Name: "a", Op: "Relu", Inputs: []string{"b_out"}, Outputs: []string{"a_out"}},
		{Name: "b", Op: "Relu", Inputs: []string{"a_out"}, Outputs: []string{"b_out"}},
	}
	cycle.Outputs = []*ir.ValueInfo{{Name: "a_out"}}
	require.ErrorContains(t, passes.Toposort(cycle), "cycle")

	dangling := ir.New("dangling")
	dangling.Nodes = []*ir.Node{{Name: "a", Op: "Relu", Inputs: []string{"nowhere"}, Outputs: []string{"y"}}}
	dangling.Outputs = []*ir.ValueInfo{{Name: "y"}}
	require.ErrorContains(t, passes.Toposort(dangling), "nowhere")

	dup := ir.New("dup")
	dup.Inputs = []*ir.ValueInfo{{Name: "x", DType: ir.Float32, Shape: []int{1}}}
	dup.Nodes = []*ir.Node{
		{Name: "a", Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}},
		{Name: "b", Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}},
	}
	dup.Outputs = []*ir.ValueInfo{{Name: "y"}}
	require.ErrorContains(t, passes.Toposort(dup), "twice")
}

func TestUnsupportedOpNamed(t *testing.T) {
	b := ir.NewBuilder("unsupported")
	x := b.Input("x", ir.Float32, 1, 4)
	b.Output(b.Op("FancyOp", []string{x}))
	b.G.Opset = 17
	_, err := runtime.New(b.G, runtime.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unsupported")
	assert.Contains(t, err.Error(), "FancyOp")
	assert.Contains(t, err.Error(), "opset 17")
}

func TestRemoveIdentityKeepsOutputs(t *testing.T) {
	b := ir.NewBuilder("identity")
	x := b.Input("x", ir.Float32, 1, 4)
	y := b.Op("Identity", []string{b.Op("Relu", []string{x})})
	y = b.Op("Dropout", []string{y})
	b.Output(b.Op("Sigmoid", []string{y}))
	opt := b.G.Clone()
	require.NoError(t, passes.Apply(opt, passes.Default, -1))
	assert.Equal(t, 0, opCount(opt, "Identity")+opCount(opt, "Dropout"))
	runBoth(t, b.G, 4)
}

// TestHugeInferredShapeRefused: a 4×4 input padded by 2^20 on each side
// (a few hundred bytes of file) would need a 16 TiB arena; shape inference
// refuses it by name instead of the runtime dying out of memory.
func TestHugeInferredShapeRefused(t *testing.T) {
	b := ir.NewBuilder("pad-bomb")
	x := b.Input("x", ir.Float32, 1, 1, 4, 4)
	b.Output(b.Op("Pad", []string{x, b.I64("pads", []int64{0, 0, 1 << 20, 1 << 20, 0, 0, 1 << 20, 1 << 20}, 8)}))
	_, err := runtime.New(b.G, runtime.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Pad")
	assert.Contains(t, err.Error(), "more than 1073741824 elements")
}

// TestArenaLimit: a model whose activations fit the per-value bound but not
// the arena limit is refused before the arena is allocated.
func TestArenaLimit(t *testing.T) {
	b := ir.NewBuilder("pad-big")
	x := b.Input("x", ir.Float32, 1, 1, 4, 4)
	b.Output(b.Op("Pad", []string{x, b.I64("pads", []int64{0, 0, 1 << 10, 1 << 10, 0, 0, 1 << 10, 1 << 10}, 8)}))
	_, err := runtime.New(b.G.Clone(), runtime.Options{MaxArenaBytes: 1 << 20})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "over the 1 MiB limit")
	m, err := runtime.New(b.G, runtime.Options{})
	require.NoError(t, err)
	m.Close()
}

// residualAddAct is x → Conv → Add(·, shortcut) → act: ResNet's residual
// sum followed by its ReLU, with the Add's operands both computed at run
// time. The shortcut is x itself (NCHW, so the Add reads it strided), or
// with projection a 1×1 Conv of x (both operands channels-last).
func residualAddAct(r *rand.Rand, projection bool, act func(b *ir.Builder, y string) string) *ir.Graph {
	b := ir.NewBuilder("residual-add-act")
	x := b.Input("x", ir.Float32, 1, 4, 6, 5)
	y := b.Op("Conv", []string{x, b.F32("w", randF32(r, 4*4*3*3, 0.5), 4, 4, 3, 3)},
		ir.WithInts("pads", 1, 1, 1, 1), ir.WithInts("kernel_shape", 3, 3))
	short := x
	if projection {
		short = b.Op("Conv", []string{x, b.F32("p", randF32(r, 4*4, 0.5), 4, 4, 1, 1)}, ir.WithInts("kernel_shape", 1, 1))
	}
	y = b.Op("Add", []string{y, short})
	b.Output(act(b, y))
	return b.G
}

func TestFuseReluIntoAdd(t *testing.T) {
	for name, act := range map[string]func(b *ir.Builder, y string) string{
		"relu": func(b *ir.Builder, y string) string { return b.Op("Relu", []string{y}) },
		"relu6": func(b *ir.Builder, y string) string {
			return b.Op("Clip", []string{y, b.F32("lo", []float32{0}), b.F32("hi", []float32{6})})
		},
		"clip_attrs_v6": func(b *ir.Builder, y string) string {
			return b.Op("Clip", []string{y}, ir.WithFloat("min", -0.5), ir.WithFloat("max", 0.75))
		},
	} {
		for _, projection := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/projection=%v", name, projection), func(t *testing.T) {
				g := residualAddAct(rand.New(rand.NewPCG(4, 4)), projection, act)
				opt := g.Clone()
				require.NoError(t, passes.Apply(opt, passes.Default, -1))
				assert.Equal(t, 0, opCount(opt, "Relu")+opCount(opt, "Clip"))
				require.Equal(t, 1, opCount(opt, "Add"))
				for _, n := range opt.Nodes {
					if n.Op == "Add" {
						assert.True(t, n.Has(passes.AttrClampMin), "Add carries the clamp")
						assert.Equal(t, g.Outputs[0].Name, n.Outputs[0], "Add writes the activation's output")
					}
				}
				runBoth(t, g, 5)
			})
		}
	}
}

func TestAddActivationNotFused(t *testing.T) {
	relu := func(b *ir.Builder, y string) string { return b.Op("Relu", []string{y}) }
	// An Add of a constant is left for bias folding.
	r := rand.New(rand.NewPCG(6, 6))
	b := ir.NewBuilder("add-const-relu")
	x := b.Input("x", ir.Float32, 1, 4, 3, 3)
	y := b.Op("Add", []string{x, b.F32("c", randF32(r, 4*3*3, 1), 1, 4, 3, 3)})
	b.Output(relu(b, y))
	opt := b.G.Clone()
	require.NoError(t, passes.Apply(opt, passes.Default, -1))
	assert.Equal(t, 1, opCount(opt, "Relu"))
	runBoth(t, b.G, 6)
	// The Add's sum is also read elsewhere (here: a graph output).
	g := residualAddAct(r, true, relu)
	for _, n := range g.Nodes {
		if n.Op == "Add" {
			g.Outputs = append(g.Outputs, &ir.ValueInfo{Name: n.Outputs[0], DType: ir.Float32})
		}
	}
	opt = g.Clone()
	require.NoError(t, passes.Apply(opt, passes.Default, -1))
	assert.Equal(t, 1, opCount(opt, "Relu"))
	runBoth(t, g, 7)
}

// TestFuseReluIntoQuantizedAdd: an int8 Add → Relu with the same output
// quantisation fuses into the Add's requantisation with identical bits; a
// Relu that requantises (other scale) stays.
func TestFuseReluIntoQuantizedAdd(t *testing.T) {
	for _, sameQuant := range []bool{true, false} {
		b := ir.NewBuilder("q-add-relu")
		shape := []int{1, 8, 5, 7}
		x, y := b.Input("x", ir.Float32, shape...), b.Input("y", ir.Float32, shape...)
		q := func(v string, scale float32, zero int8) string {
			s := b.F32("s", []float32{scale})
			z := b.Const("z", &ir.Tensor{DType: ir.Int8, Shape: []int{}, I8: []int8{zero}})
			return b.Op("QuantizeLinear", []string{v, s, z})
		}
		set := func(v string, scale float32, zero int32) {
			b.G.ValueInfo[v] = &ir.ValueInfo{Name: v, DType: ir.Int8, Shape: shape, Quant: &ir.Quant{Scale: []float32{scale}, ZeroPoint: []int32{zero}}}
		}
		a := b.Op("Add", []string{q(x, 0.011, 3), q(y, 0.007, -20)})
		set(a, 0.015, -9)
		r := b.Op("Relu", []string{a})
		if sameQuant {
			set(r, 0.015, -9)
		} else {
			set(r, 0.008, -128)
		}
		b.Output(b.Op("DequantizeLinear", []string{r, b.F32("s", []float32{b.G.ValueInfo[r].Quant.Scale[0]}),
			b.Const("z", &ir.Tensor{DType: ir.Int8, Shape: []int{}, I8: []int8{int8(b.G.ValueInfo[r].Quant.ZeroPoint[0])}})}))
		g := b.G
		opt := g.Clone()
		require.NoError(t, passes.Apply(opt, passes.Default, -1))
		if sameQuant {
			assert.Equal(t, 0, opCount(opt, "Relu"))
		} else {
			assert.Equal(t, 1, opCount(opt, "Relu"))
		}
		ref, err := runtime.New(g, runtime.Options{Threads: 1, StopAfterPass: 1})
		require.NoError(t, err)
		fused, err := runtime.New(g, runtime.Options{Threads: 2})
		require.NoError(t, err)
		rr := rand.New(rand.NewPCG(8, 8))
		for i := 0; i < 2; i++ {
			in := randF32(rr, len(ref.Input(i)), 2)
			copy(ref.Input(i), in)
			copy(fused.Input(i), in)
		}
		require.NoError(t, ref.Run())
		require.NoError(t, fused.Run())
		require.Equal(t, ref.Output(0), fused.Output(0))
		neg := 0
		for _, v := range ref.Output(0) {
			if v == 0 {
				neg++
			}
		}
		require.Greater(t, neg, 10, "the ReLU clamps something")
		ref.Close()
		fused.Close()
	}
}
