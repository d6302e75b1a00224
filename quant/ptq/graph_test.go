package ptq

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func quantMethod(s string) quant.Method { return quant.Method(s) }

// builder makes small float graphs with seeded random weights.
type builder struct {
	g *ir.Graph
	r *rand.Rand
	n int
}

func newBuilder(name string, shape ...int) *builder {
	g := ir.New(name)
	g.Opset = 13
	g.Inputs = []*ir.ValueInfo{{Name: "input", DType: ir.Float32, Shape: shape}}
	return &builder{g: g, r: rand.New(rand.NewPCG(42, uint64(len(name))))}
}

func (b *builder) name(p string) string {
	b.n++
	return p + string(rune('a'+b.n%26)) + string(rune('0'+b.n/26))
}

func (b *builder) tensor(scale float64, shape ...int) string {
	t := &ir.Tensor{DType: ir.Float32, Shape: shape, F32: make([]float32, ir.NumElements(shape))}
	for i := range t.F32 {
		t.F32[i] = float32(b.r.NormFloat64() * scale)
	}
	name := b.name("w")
	b.g.Initializers[name] = t
	return name
}

func (b *builder) scalar(v float32) string {
	name := b.name("c")
	b.g.Initializers[name] = &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{v}}
	return name
}

func (b *builder) node(op string, inputs ...string) *ir.Node {
	n := &ir.Node{Name: b.name(op), Op: op, Inputs: inputs, Outputs: []string{b.name("v")}}
	b.g.Nodes = append(b.g.Nodes, n)
	return n
}

func (b *builder) conv(x string, cin, cout, k int, bias bool) *ir.Node {
	in := []string{x, b.tensor(math.Sqrt(2/float64(cin*k*k)), cout, cin, k, k)}
	if bias {
		in = append(in, b.tensor(0.1, cout))
	}
	n := b.node("Conv", in...)
	n.SetInts("kernel_shape", int64(k), int64(k))
	n.SetInts("pads", int64(k/2), int64(k/2), int64(k/2), int64(k/2))
	return n
}

func (b *builder) output(n *ir.Node) {
	b.g.Outputs = append(b.g.Outputs, &ir.ValueInfo{Name: n.Outputs[0], DType: ir.Float32})
}

func randomSamples(r *rand.Rand, count, size int) Samples {
	s := make(Samples, count)
	for i := range s {
		s[i] = make([]float32, size)
		for j := range s[i] {
			s[i][j] = float32(r.NormFloat64())
		}
	}
	return s
}

// runFloat runs g on x and returns output 0.
func runFloat(t *testing.T, g *ir.Graph, x []float32) []float32 {
	t.Helper()
	m, err := runtime.New(g, runtime.Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()
	copy(m.Input(0), x)
	require.NoError(t, m.Run())
	return append([]float32(nil), m.Output(0)...)
}

func ops(g *ir.Graph) map[string]int {
	m := map[string]int{}
	for _, n := range g.Nodes {
		m[n.Op]++
	}
	return m
}

// TestPrepareRewrites checks each float rewrite on a tiny graph: the op
// disappears into the layer and the graph computes the same outputs.
func TestPrepareRewrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(b *builder)
		gone  []string // ops that must be folded away
		want  map[string]int
	}{
		{"conv-add-relu", func(b *builder) { // mnist-8's Conv → Add(bias) → Relu
			c := b.conv("input", 3, 8, 3, false)
			a := b.node("Add", c.Outputs[0], b.tensor(0.5, 8, 1, 1))
			b.output(b.node("Relu", a.Outputs[0]))
		}, []string{"Add", "Relu"}, map[string]int{"Conv": 1}},
		{"matmul-add", func(b *builder) { // mnist-8's classifier
			f := b.node("Flatten", "input")
			m := b.node("MatMul", f.Outputs[0], b.tensor(0.1, 48, 10))
			b.output(b.node("Add", m.Outputs[0], b.tensor(0.5, 1, 10)))
		}, []string{"MatMul", "Add"}, map[string]int{"Gemm": 1}},
		{"conv-mul-scalar", func(b *builder) { // Inception-ResNet's residual scale
			c := b.conv("input", 3, 8, 1, true)
			m := b.node("Mul", c.Outputs[0], b.scalar(0.17))
			d := b.conv("input", 3, 8, 1, true)
			b.output(b.node("Add", m.Outputs[0], d.Outputs[0]))
		}, []string{"Mul"}, map[string]int{"Conv": 2, "Add": 1}},
		{"hardswish", func(b *builder) {
			c := b.conv("input", 3, 8, 3, true)
			h := b.node("HardSigmoid", c.Outputs[0])
			h.SetFloat("alpha", 1.0/6)
			h.SetFloat("beta", 0.5)
			b.output(b.node("Mul", c.Outputs[0], h.Outputs[0]))
		}, []string{"HardSigmoid", "Mul"}, map[string]int{"HardSwish": 1}},
		{"se-gate", func(b *builder) { // squeeze-excitation: Conv → HardSigmoid
			c := b.conv("input", 3, 8, 1, true)
			h := b.node("HardSigmoid", c.Outputs[0])
			h.SetFloat("alpha", 1.0/6)
			h.SetFloat("beta", 0.5)
			b.output(h)
		}, []string{"HardSigmoid"}, map[string]int{"Conv": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder(tc.name, 1, 3, 4, 4)
			tc.build(b)
			fg, err := Prepare(b.g)
			require.NoError(t, err)
			got := ops(fg)
			for _, op := range tc.gone {
				assert.Zero(t, got[op], "%s left in %v", op, got)
			}
			for op, c := range tc.want {
				assert.Equal(t, c, got[op], "%s in %v", op, got)
			}
			x := randomSamples(b.r, 1, 48)[0]
			want, have := runFloat(t, b.g, x), runFloat(t, fg, x)
			require.Len(t, have, len(want))
			for i := range want {
				assert.InDelta(t, want[i], have[i], 1e-5*max(1, math.Abs(float64(want[i]))), "output %d", i)
			}
		})
	}
}

// allInt8 is the op set of the runtime's int8 engine, for tests that
// check the graph transform without running it.
func allInt8(op string) bool {
	switch op {
	case "Conv", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Add", "Mul",
		"Relu", "Clip", "Sigmoid", "HardSwish", "Softmax", "Concat", "Pad",
		"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Split", "Slice", "Identity", "Dropout", "Gather":
		return true
	}
	return false
}

// convNet is Conv+ReLU6 → MaxPool → Conv → LRN → Conv+Relu, with a
// residual Add, Concat, GlobalAveragePool → Flatten → Gemm(transB=0) → Softmax.
func convNet() *builder {
	b := newBuilder("convnet", 1, 3, 8, 8)
	c1 := b.conv("input", 3, 8, 3, true)
	c1.SetFloat(ir.AttrClampMin, 0)
	c1.SetFloat(ir.AttrClampMax, 6)
	p := b.node("MaxPool", c1.Outputs[0])
	p.SetInts("kernel_shape", 2, 2)
	p.SetInts("strides", 2, 2)
	c2 := b.conv(p.Outputs[0], 8, 8, 3, true)
	lrn := b.node("LRN", c2.Outputs[0])
	lrn.SetInt("size", 3)
	c3 := b.conv(lrn.Outputs[0], 8, 8, 1, true)
	c3.SetFloat(ir.AttrClampMin, 0)
	c3.SetFloat(ir.AttrClampMax, float32(math.Inf(1)))
	add := b.node("Add", c3.Outputs[0], p.Outputs[0])
	cat := b.node("Concat", add.Outputs[0], c2.Outputs[0])
	cat.SetInt("axis", 1)
	gap := b.node("GlobalAveragePool", cat.Outputs[0])
	fl := b.node("Flatten", gap.Outputs[0])
	fc := b.node("Gemm", fl.Outputs[0], b.tensor(0.3, 16, 5), b.tensor(0.1, 5))
	b.output(b.node("Softmax", fc.Outputs[0]))
	return b
}

func quantizeConvNet(t *testing.T, opts Options) (*ir.Graph, *ir.Graph, *Report) {
	t.Helper()
	b := convNet()
	opts.Int8Ops = allInt8
	opts.SkipEval = true
	qg, rep, err := Quantize(b.g, randomSamples(b.r, 16, 3*64), opts)
	require.NoError(t, err)
	fg, err := Prepare(b.g)
	require.NoError(t, err)
	return fg, qg, rep
}

func producerOf(g *ir.Graph, v string) *ir.Node {
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == v {
				return n
			}
		}
	}
	return nil
}

func nodeByName(g *ir.Graph, name string) *ir.Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func quantOf(t *testing.T, g *ir.Graph, v string) *ir.Quant {
	t.Helper()
	vi := g.ValueInfo[v]
	require.NotNil(t, vi, "value info of %q", v)
	require.Equal(t, ir.Int8, vi.DType, "dtype of %q", v)
	require.NotNil(t, vi.Quant, "quant of %q", v)
	require.Len(t, vi.Quant.Scale, 1)
	return vi.Quant
}

// TestQuantizeConventions checks the quantised graph against the TFLite
// reader's conventions, node by node.
func TestQuantizeConventions(t *testing.T) {
	fg, qg, rep := quantizeConvNet(t, Options{Threads: 2})
	convs := []*ir.Node{}
	for _, n := range fg.Nodes {
		if n.Op == "Conv" {
			convs = append(convs, n)
		}
	}
	require.Len(t, convs, 3)

	// Input: float graph input → QuantizeLinear with scalar float scale
	// and int8 zero point initializers.
	require.Equal(t, "input", qg.Inputs[0].Name)
	assert.Equal(t, ir.Float32, qg.Inputs[0].DType)
	c1 := nodeByName(qg, convs[0].Name)
	require.NotNil(t, c1)
	qin := producerOf(qg, c1.Inputs[0])
	require.Equal(t, "QuantizeLinear", qin.Op)
	assert.Equal(t, "input", qin.Inputs[0])
	sc, zp := qg.Initializers[qin.Inputs[1]], qg.Initializers[qin.Inputs[2]]
	assert.Equal(t, ir.Float32, sc.DType)
	assert.Empty(t, sc.Shape)
	assert.Equal(t, ir.Int8, zp.DType)
	inQ := quantOf(t, qg, c1.Inputs[0])
	assert.Equal(t, sc.F32[0], inQ.Scale[0])
	assert.Equal(t, int32(zp.I8[0]), inQ.ZeroPoint[0])

	// Conv: int8 per-channel weights (axis 0, zero points 0), int32 bias
	// with scale s_in·s_w[c], clamp kept, output [0,6] ∩ observed.
	w := qg.Initializers[c1.Inputs[1]]
	require.Equal(t, ir.Int8, w.DType)
	require.Len(t, w.Quant.Scale, 8)
	assert.Equal(t, 0, w.Quant.Axis)
	for _, z := range w.Quant.ZeroPoint {
		assert.Zero(t, z)
	}
	for _, v := range w.I8 {
		assert.GreaterOrEqual(t, v, int8(-127))
	}
	bias := qg.Initializers[c1.Inputs[2]]
	require.Equal(t, ir.Int32, bias.DType)
	for c := range bias.Quant.Scale {
		assert.InDelta(t, inQ.Scale[0]*w.Quant.Scale[c], bias.Quant.Scale[c], 1e-12)
	}
	assert.Equal(t, float32(6), c1.Float(ir.AttrClampMax, 0))
	outQ := quantOf(t, qg, c1.Outputs[0])
	assert.Equal(t, int32(-128), outQ.ZeroPoint[0], "a ReLU6 output starts at 0")
	assert.LessOrEqual(t, outQ.Scale[0], float32(6.0/255*1.0001))

	// MaxPool keeps its input's parameters.
	var pool *ir.Node
	for _, n := range qg.Nodes {
		if n.Op == "MaxPool" {
			pool = n
		}
	}
	assert.Equal(t, quantOf(t, qg, pool.Inputs[0]), quantOf(t, qg, pool.Outputs[0]))

	// LRN is a float island: DequantizeLinear → LRN → QuantizeLinear.
	require.Len(t, rep.Islands, 1)
	assert.Equal(t, "LRN", rep.Islands[0].Op)
	lrn := nodeByName(qg, rep.Islands[0].Node)
	assert.Equal(t, "DequantizeLinear", producerOf(qg, lrn.Inputs[0]).Op)
	for _, n := range qg.Nodes {
		for _, in := range n.Inputs {
			if in == lrn.Outputs[0] {
				assert.Equal(t, "QuantizeLinear", n.Op, "%s reads the island's float output", n.Describe())
			}
		}
	}

	// Gemm: transB=0 weights [K,N] become [N,K] with transB=1.
	var gemm *ir.Node
	for _, n := range qg.Nodes {
		if n.Op == "Gemm" {
			gemm = n
		}
	}
	assert.Equal(t, int64(1), gemm.Int("transB", 0))
	assert.Equal(t, []int{5, 16}, qg.Initializers[gemm.Inputs[1]].Shape)
	assert.Len(t, qg.Initializers[gemm.Inputs[1]].Quant.Scale, 5)

	// Softmax: fixed 1/256, −128; the graph output is a DequantizeLinear
	// writing the float output's own name.
	out := qg.Outputs[0]
	assert.Equal(t, fg.Outputs[0].Name, out.Name)
	assert.Equal(t, ir.Float32, out.DType)
	dq := producerOf(qg, out.Name)
	require.Equal(t, "DequantizeLinear", dq.Op)
	sm := producerOf(qg, dq.Inputs[0])
	require.Equal(t, "Softmax", sm.Op)
	q := quantOf(t, qg, sm.Outputs[0])
	assert.Equal(t, float32(1.0/256), q.Scale[0])
	assert.Equal(t, int32(-128), q.ZeroPoint[0])

	// Report: one row per int8 value computed, weight SQNRs for the
	// layers with weights, no evaluation.
	assert.False(t, rep.Evaluated)
	assert.Equal(t, 16, rep.Samples)
	var withW int
	for _, l := range rep.Layers {
		if l.WeightSQNR != nil {
			withW++
			assert.Greater(t, *l.WeightSQNR, 30.0, l.Name)
		}
		assert.Nil(t, l.SQNR)
	}
	assert.Equal(t, 4, withW)
}

// TestQuantizeDeterministic: the quantised graph does not depend on the
// number of calibration workers.
func TestQuantizeDeterministic(t *testing.T) {
	for _, method := range []string{"minmax", "percentile", "mse", "entropy"} {
		_, a, _ := quantizeConvNet(t, Options{Threads: 1, Method: quantMethod(method)})
		_, b, _ := quantizeConvNet(t, Options{Threads: 3, Method: quantMethod(method)})
		require.Equal(t, len(a.Initializers), len(b.Initializers))
		for name, ta := range a.Initializers {
			assert.Equal(t, ta, b.Initializers[name], "%s: initializer %q", method, name)
		}
		for name, va := range a.ValueInfo {
			assert.Equal(t, va.Quant, b.ValueInfo[name].Quant, "%s: value %q", method, name)
		}
	}
}

// TestQuantizePerTensor: one weight scale per tensor.
func TestQuantizePerTensor(t *testing.T) {
	_, qg, rep := quantizeConvNet(t, Options{PerTensor: true})
	assert.True(t, rep.PerTensor)
	for _, n := range qg.Nodes {
		if n.Op == "Conv" || n.Op == "Gemm" {
			assert.Len(t, qg.Initializers[n.Inputs[1]].Quant.Scale, 1, n.Describe())
		}
	}
	assert.Equal(t, "per-tensor", qg.Metadata["quantization_weights"])
}

// TestQuantizeReduceRange: 7-bit weights, every Conv/Gemm weight in
// [−63, 63] with each channel's largest |w| at 63 (scale = max|w|/63), the
// activations' parameters unchanged (they come from calibration alone),
// and the choice recorded in the metadata and the report.
func TestQuantizeReduceRange(t *testing.T) {
	for _, tc := range []struct {
		name      string
		perTensor bool
	}{{"per-channel", false}, {"per-tensor", true}} {
		t.Run(tc.name, func(t *testing.T) {
			fg, full, _ := quantizeConvNet(t, Options{PerTensor: tc.perTensor})
			_, qg, rep := quantizeConvNet(t, Options{PerTensor: tc.perTensor, ReduceRange: true})
			assert.True(t, rep.ReduceRange)
			assert.Equal(t, "true", qg.Metadata["quantization_reduce_range"])
			assert.Equal(t, "[-63, 63]", qg.Metadata["quantization_weight_range"])
			assert.NotContains(t, full.Metadata, "quantization_reduce_range")
			var table strings.Builder
			require.NoError(t, rep.WriteTable(&table))
			assert.Contains(t, table.String(), "7-bit (reduce range) weights")
			linear := 0
			for _, n := range qg.Nodes {
				if n.Op != "Conv" && n.Op != "Gemm" {
					continue
				}
				linear++
				wq := qg.Initializers[n.Inputs[1]]
				fn := nodeByName(fg, n.Name)
				require.NotNil(t, fn, n.Name)
				w := fg.Initializers[fn.Inputs[1]]
				require.NotNil(t, w, fn.Inputs[1])
				per := len(wq.I8) / len(wq.Quant.Scale)
				for k, s := range wq.Quant.Scale {
					// max|w| over the scale's weights; a Gemm's weights
					// may be stored transposed, so compare by group only
					// where the layout is the same.
					hi, m := 0, 0.0
					for _, q := range wq.I8[k*per : (k+1)*per] {
						hi = max(hi, int(q), -int(q))
					}
					if len(w.F32) == len(wq.I8) && (n.Op == "Conv" || tc.perTensor) {
						for _, v := range w.F32[k*per : (k+1)*per] {
							m = max(m, math.Abs(float64(v)))
						}
						assert.InDelta(t, m/63, s, m/63*1e-6, "%s scale %d", n.Name, k)
					}
					assert.Equal(t, 63, hi, "%s scale %d", n.Name, k)
				}
			}
			assert.Positive(t, linear)
			for name, v := range qg.ValueInfo {
				if v.DType == ir.Int8 && full.ValueInfo[name] != nil {
					assert.Equal(t, full.ValueInfo[name].Quant, v.Quant, "activation %q", name)
				}
			}
		})
	}
}

// TestQuantizeNoInt8 keeps everything float when the runtime has no int8
// kernels: every compute op is an island and the graph still runs.
func TestQuantizeNoInt8(t *testing.T) {
	b := convNet()
	qg, rep, err := Quantize(b.g, randomSamples(b.r, 4, 3*64), Options{Int8Ops: func(string) bool { return false }, SkipEval: true})
	require.NoError(t, err)
	assert.Zero(t, rep.Int8Nodes)
	assert.Zero(t, rep.Converts)
	assert.NotEmpty(t, rep.Islands)
	x := randomSamples(b.r, 1, 3*64)[0]
	want, got := runFloat(t, b.g, x), runFloat(t, qg, x)
	for i := range want {
		assert.InDelta(t, want[i], got[i], 1e-5)
	}
}

// TestQuantizeRanges: fixed ranges replace calibration.
func TestQuantizeRanges(t *testing.T) {
	b := newBuilder("ranges", 1, 3, 4, 4)
	c := b.conv("input", 3, 4, 3, true)
	b.output(c)
	_, _, err := Quantize(b.g, nil, Options{Int8Ops: allInt8, SkipEval: true, Ranges: map[string][2]float32{"input": {-1, 1}}})
	require.ErrorContains(t, err, "no calibration range")
	qg, _, err := Quantize(b.g, nil, Options{Int8Ops: allInt8, SkipEval: true,
		Ranges: map[string][2]float32{"input": {-1, 1}, c.Outputs[0]: {-2, 6}}})
	require.NoError(t, err)
	conv := nodeByName(qg, c.Name)
	q := quantOf(t, qg, conv.Outputs[0])
	assert.InDelta(t, 8.0/255, q.Scale[0], 1e-7)
	assert.Equal(t, int32(-64), q.ZeroPoint[0])
}

// TestQuantizeAveragePoolCountingPads: ONNX AveragePool with
// count_include_pad becomes an explicit int8 Pad and an AveragePool
// without padding.
func TestQuantizeAveragePoolCountingPads(t *testing.T) {
	b := newBuilder("avgpool", 1, 3, 6, 6)
	p := b.node("AveragePool", "input")
	p.SetInts("kernel_shape", 3, 3)
	p.SetInts("pads", 1, 1, 1, 1)
	p.SetInt("count_include_pad", 1)
	b.output(p)
	qg, _, err := Quantize(b.g, randomSamples(b.r, 4, 108), Options{Int8Ops: allInt8, SkipEval: true})
	require.NoError(t, err)
	ap := nodeByName(qg, p.Name)
	require.NotNil(t, ap)
	assert.Equal(t, int64(0), ap.Int("count_include_pad", 1))
	assert.Equal(t, []int64{0, 0, 0, 0}, ap.Ints("pads"))
	pad := producerOf(qg, ap.Inputs[0])
	require.Equal(t, "Pad", pad.Op)
	assert.Equal(t, []int64{0, 0, 1, 1, 0, 0, 1, 1}, qg.Initializers[pad.Inputs[1]].I64)
	assert.Equal(t, []int{1, 3, 8, 8}, qg.ValueInfo[pad.Outputs[0]].Shape)
}

// TestEvalSamples: the evaluation runs on the requested subset, spread over
// the calibration set, and the quantised graph does not depend on it.
func TestEvalSamples(t *testing.T) {
	b := convNet()
	samples := randomSamples(b.r, 16, 3*64)
	var seen []int
	calib := CalibratorFunc(samples.Len(), func(i int, in [][]float32) error {
		seen = append(seen, i)
		return samples.Sample(i, in)
	})
	all, repAll, err := Quantize(b.g, calib, Options{Int8Ops: allInt8, Threads: 1})
	require.NoError(t, err)
	assert.Equal(t, 16, repAll.EvalSamples)
	// The reference: the same model evaluated on samples 0, 4, 8, 12 only.
	ranges, err := CalibrateRanges(b.g, samples, Options{}, quant.MethodMinMax)
	require.NoError(t, err)
	_, want, err := Quantize(b.g, Samples{samples[0], samples[4], samples[8], samples[12]}, Options{Int8Ops: allInt8, Threads: 1, Ranges: ranges[0]})
	require.NoError(t, err)
	defer func(n int) { maxCachedSamples = n }(maxCachedSamples)
	for _, tc := range []struct {
		name  string
		cache int
		reads []int // after the 16 calibration reads
	}{
		{"cached", maxCachedSamples, []int{}},
		{"no room to cache", 4 * 3 * 64 * 3, []int{0, 4, 8, 12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			maxCachedSamples = tc.cache
			seen = nil
			sub, rep, err := Quantize(b.g, calib, Options{Int8Ops: allInt8, Threads: 1, EvalSamples: 4})
			require.NoError(t, err)
			require.True(t, rep.Evaluated)
			assert.Equal(t, 4, rep.EvalSamples)
			assert.Equal(t, 16, rep.Samples)
			// 16 calibration reads; the evaluation's samples 0, 4, 8, 12
			// come from the cache, or are read again.
			require.Len(t, seen, 16+len(tc.reads))
			assert.Equal(t, tc.reads, seen[16:])
			for name, ta := range all.Initializers {
				assert.Equal(t, ta, sub.Initializers[name], "initializer %q", name)
			}
			require.Len(t, rep.Layers, len(want.Layers))
			for j, l := range rep.Layers {
				assert.Equal(t, *want.Layers[j].SQNR, *l.SQNR, "layer %s", l.Name)
			}
			require.Len(t, rep.Outputs, len(want.Outputs))
			assert.Equal(t, want.Outputs[0].SQNR, rep.Outputs[0].SQNR)
			assert.Equal(t, want.Outputs[0].Cosine, rep.Outputs[0].Cosine)
		})
	}
}

// TestWeightSQNR: the report's weight SQNR equals quant.SQNR of the
// weights against quant.Dequantize of their int8 version, exactly.
func TestWeightSQNR(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	w := &ir.Tensor{DType: ir.Float32, Shape: []int{6, 3, 3, 3}, F32: make([]float32, 6*27)}
	for i := range w.F32 {
		w.F32[i] = float32(r.NormFloat64() * float64(1+i/27))
	}
	for _, tc := range []struct {
		name      string
		perTensor bool
		qmax      int
	}{{"per-channel", false, quant.WeightQMax}, {"per-tensor", true, quant.WeightQMax}, {"reduce-range", false, quant.ReducedWeightQMax}} {
		t.Run(tc.name, func(t *testing.T) {
			wq, _, err := quant.QuantizeWeightsRange(w, nil, 0.01, tc.perTensor, tc.qmax)
			require.NoError(t, err)
			deq, err := quant.Dequantize(wq)
			require.NoError(t, err)
			assert.Equal(t, quant.SQNR(w.F32, deq.F32), weightSQNR(w.F32, wq))
		})
	}
}
