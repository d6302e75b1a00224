package tflite

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// TensorType and BuiltinOperator values from schema.fbs, spelled out here
// so the test models do not depend on the reader's tables.
const (
	tFloat32 int8 = 0
	tFloat16 int8 = 1
	tInt32   int8 = 2
	tUint8   int8 = 3
	tInt8    int8 = 9

	bAdd            int32 = 0
	bAveragePool    int32 = 1
	bConcat         int32 = 2
	bConv           int32 = 3
	bDepthwise      int32 = 4
	bDequantize     int32 = 6
	bFullyConnected int32 = 9
	bLogistic       int32 = 14
	bMaxPool        int32 = 17
	bMul            int32 = 18
	bRelu           int32 = 19
	bReluN1To1      int32 = 20
	bRelu6          int32 = 21
	bReshape        int32 = 22
	bResizeBilinear int32 = 23
	bSoftmax        int32 = 25
	bTanh           int32 = 28
	bCustom         int32 = 32
	bPad            int32 = 34
	bTranspose      int32 = 39
	bMean           int32 = 40
	bSqueeze        int32 = 43
	bPadV2          int32 = 60
	bLeakyRelu      int32 = 98
	bQuantize       int32 = 114
	bHardSwish      int32 = 117
	bGelu           int32 = 150
)

func f32(shape ...int32) tmTensor { return tmTensor{shape: shape, typ: tFloat32} }

func named(name string, t tmTensor) tmTensor { t.name = name; return t }

func withData(t tmTensor, data []byte) tmTensor { t.data = data; return t }

func quant(t tmTensor, typ int8, scale float32, zp int64) tmTensor {
	t.typ, t.scale, t.zp = typ, []float32{scale}, []int64{zp}
	return t
}

// oneOp builds a model of one operator whose non-constant inputs are the
// graph inputs and whose outputs are the graph outputs.
func oneOp(op tmOp, tensors ...tmTensor) *tmModel {
	m := &tmModel{name: "test", tensors: tensors, ops: []tmOp{op}, outputs: op.out}
	for _, i := range op.in {
		if i >= 0 && tensors[i].data == nil {
			m.inputs = append(m.inputs, i)
		}
	}
	return m
}

// reluFirst builds x → RELU → r → op, so op's first input is an internal
// activation (NCHW in the IR) rather than the NHWC graph input. Tensor 0
// is x; tensors[0] describes r and gets index 1; the op's indices refer
// to the tensors as given, shifted by one.
func reluFirst(op tmOp, tensors ...tmTensor) *tmModel {
	x := tensors[0]
	x.name, x.data = "x", nil
	all := append([]tmTensor{x}, tensors...)
	shift := func(v []int32) []int32 {
		out := make([]int32, len(v))
		for i, t := range v {
			out[i] = t
			if t >= 0 {
				out[i] = t + 1
			}
		}
		return out
	}
	op.in, op.out = shift(op.in), shift(op.out)
	m := &tmModel{name: "test", tensors: all, outputs: op.out, inputs: []int32{0}}
	m.ops = []tmOp{{code: bRelu, in: []int32{0}, out: []int32{1}}, op}
	return m
}

func parseModel(t *testing.T, m *tmModel) *ir.Graph {
	t.Helper()
	g, err := Parse(m.bytes())
	require.NoError(t, err)
	checkGraph(t, g)
	return g
}

func TestConv(t *testing.T) {
	// Input [1,6,5,2], filter [O=3,KH=3,KW=3,I=2], SAME stride 2: output
	// 3x3; height pads total 1 (0 before, 1 after), width total 2 (1, 1).
	w := seqF32(3 * 3 * 3 * 2)
	m := oneOp(tmOp{code: bConv, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(0, 2, 3)},
		named("x", f32(1, 6, 5, 2)), named("w", withData(f32(3, 3, 3, 2), w)),
		named("b", withData(f32(3), f32bytes(1, 2, 3))), named("y", f32(1, 3, 3, 3)))
	g := parseModel(t, m)

	require.Len(t, g.Inputs, 1)
	assert.Equal(t, []int{1, 6, 5, 2}, g.Inputs[0].Shape, "graph input keeps NHWC")
	assert.Equal(t, []int{1, 3, 3, 3}, g.Outputs[0].Shape, "graph output keeps NHWC")
	conv := node(t, g, "y")
	assert.Equal(t, "Conv", conv.Op)
	assert.Equal(t, []string{"Transpose", "Conv", "Transpose"}, chain(t, g, "y", 3))
	assert.Equal(t, []int64{0, 3, 1, 2}, producer(t, g, conv.Inputs[0]).Ints("perm"))
	assert.Equal(t, []int64{0, 2, 3, 1}, producer(t, g, "y").Ints("perm"))
	assert.Equal(t, []int{1, 2, 6, 5}, g.ValueInfo[conv.Inputs[0]].Shape)
	assert.Equal(t, []int{1, 3, 3, 3}, g.ValueInfo[conv.Outputs[0]].Shape)

	assert.Equal(t, []int64{3, 3}, conv.Ints("kernel_shape"))
	assert.Equal(t, []int64{2, 2}, conv.Ints("strides"))
	assert.Equal(t, []int64{1, 1}, conv.Ints("dilations"))
	assert.Equal(t, []int64{0, 1, 1, 1}, conv.Ints("pads"), "[top, left, bottom, right]")
	assert.Equal(t, int64(1), conv.Int("group", 0))
	assert.Equal(t, float32(0), conv.Float(ir.AttrClampMin, -1), "fused RELU6")
	assert.Equal(t, float32(6), conv.Float(ir.AttrClampMax, -1), "fused RELU6")

	wt := g.Initializers[conv.Inputs[1]]
	require.Equal(t, []int{3, 2, 3, 3}, wt.Shape, "[O,I,KH,KW]")
	for o := 0; o < 3; o++ {
		for i := 0; i < 2; i++ {
			for kh := 0; kh < 3; kh++ {
				for kw := 0; kw < 3; kw++ {
					file := ((o*3+kh)*3+kw)*2 + i
					assert.Equal(t, float32(file), wt.F32[((o*2+i)*3+kh)*3+kw])
				}
			}
		}
	}
	assert.Equal(t, []float32{1, 2, 3}, g.Initializers[conv.Inputs[2]].F32)
}

func TestConvPaddingValidAndDilation(t *testing.T) {
	opts := append(convOpts(1, 1, 0), tmField{4, int32(2)}, tmField{5, int32(2)})
	m := oneOp(tmOp{code: bConv, in: []int32{0, 1, -1}, out: []int32{2}, optType: 1, opts: opts},
		named("x", f32(1, 7, 7, 1)), named("w", withData(f32(1, 3, 3, 1), seqF32(9))), named("y", f32(1, 3, 3, 1)))
	g := parseModel(t, m)
	conv := node(t, g, "y")
	assert.Len(t, conv.Inputs, 2, "absent bias")
	assert.Equal(t, []int64{0, 0, 0, 0}, conv.Ints("pads"))
	assert.Equal(t, []int64{2, 2}, conv.Ints("dilations"))
	assert.False(t, conv.Has(ir.AttrClampMin), "no fused activation")
	// A 1x1xI filter needs no permutation: the weight aliases the file.
	assert.Equal(t, seqF32(9), f32bytes(g.Initializers["w"].F32...))
}

func TestDepthwiseConvPerChannel(t *testing.T) {
	// C=2, M=2: filter [1,3,3,4] per-channel on dim 3; the bias carries the
	// filter's quantized_dimension 3 as person_detect's do.
	wData := make([]int8, 3*3*4)
	for i := range wData {
		wData[i] = int8(i - 18)
	}
	w := tmTensor{name: "w", shape: []int32{1, 3, 3, 4}, typ: tInt8, data: i8bytes(wData...),
		scale: []float32{0.1, 0.2, 0.3, 0.4}, zp: []int64{0, 0, 0, 0}, qdim: 3}
	b := tmTensor{name: "b", shape: []int32{4}, typ: tInt32, data: i32bytes(1, 2, 3, 4),
		scale: []float32{0.05, 0.1, 0.15, 0.2}, zp: []int64{0, 0, 0, 0}, qdim: 3}
	m := oneOp(tmOp{code: bDepthwise, in: []int32{0, 1, 2}, out: []int32{3}, optType: 2, opts: dwOpts(0, 1, 2, 1)},
		quant(named("x", f32(1, 4, 4, 2)), tInt8, 0.5, -3), w, b, quant(named("y", f32(1, 4, 4, 4)), tInt8, 0.25, 7))
	g := parseModel(t, m)
	conv := node(t, g, "y")
	assert.Equal(t, int64(2), conv.Int("group", 0), "group = input channels")
	assert.Equal(t, []int64{1, 1, 1, 1}, conv.Ints("pads"))
	assert.Equal(t, float32(0), conv.Float(ir.AttrClampMin, -1), "fused RELU")
	assert.True(t, math.IsInf(float64(conv.Float(ir.AttrClampMax, 0)), 1), "fused RELU")

	wt := g.Initializers[conv.Inputs[1]]
	require.Equal(t, []int{4, 1, 3, 3}, wt.Shape, "[C·M,1,KH,KW]")
	for c := 0; c < 4; c++ {
		for k := 0; k < 9; k++ {
			assert.Equal(t, wData[k*4+c], wt.I8[c*9+k])
		}
	}
	require.NotNil(t, wt.Quant)
	assert.Equal(t, []float32{0.1, 0.2, 0.3, 0.4}, wt.Quant.Scale)
	assert.Equal(t, 0, wt.Quant.Axis)
	bt := g.Initializers[conv.Inputs[2]]
	assert.Equal(t, ir.Int32, bt.DType)
	require.NotNil(t, bt.Quant)
	assert.Equal(t, 0, bt.Quant.Axis, "bias quantized_dimension 3 taken as axis 0")

	in := g.ValueInfo[conv.Inputs[0]]
	assert.Equal(t, &ir.Quant{Scale: []float32{0.5}, ZeroPoint: []int32{-3}}, in.Quant)
	assert.Equal(t, &ir.Quant{Scale: []float32{0.25}, ZeroPoint: []int32{7}}, g.ValueInfo[conv.Outputs[0]].Quant)
	assert.Equal(t, &ir.Quant{Scale: []float32{0.25}, ZeroPoint: []int32{7}}, g.Outputs[0].Quant)
}

func TestBiasQuantImplied(t *testing.T) {
	w := tmTensor{name: "w", shape: []int32{2, 1, 1, 1}, typ: tInt8, data: i8bytes(1, 2),
		scale: []float32{0.5, 0.25}, zp: []int64{0, 0}}
	b := tmTensor{name: "b", shape: []int32{2}, typ: tInt32, data: i32bytes(10, 20)}
	m := oneOp(tmOp{code: bConv, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(1, 1, 0)},
		quant(named("x", f32(1, 2, 2, 1)), tInt8, 0.1, 0), w, b, quant(named("y", f32(1, 2, 2, 2)), tInt8, 1, 0))
	g := parseModel(t, m)
	q := g.Initializers["b"].Quant
	require.NotNil(t, q)
	assert.InDeltaSlice(t, []float32{0.05, 0.025}, q.Scale, 1e-9, "s_in·s_w")
	assert.Equal(t, []int32{0, 0}, q.ZeroPoint)
}

func TestFullyConnected(t *testing.T) {
	t.Run("4-D input", func(t *testing.T) {
		m := reluFirst(tmOp{code: bFullyConnected, in: []int32{0, 1, 2}, out: []int32{3}, optType: 8,
			opts: []tmField{{0, uint8(3)}}},
			named("r", f32(1, 2, 2, 3)), named("w", withData(f32(5, 12), seqF32(60))),
			named("b", withData(f32(5), seqF32(5))), named("y", f32(1, 5)))
		g := parseModel(t, m)
		gemm := node(t, g, "y")
		assert.Equal(t, "Gemm", gemm.Op)
		assert.Equal(t, int64(1), gemm.Int("transB", 0))
		assert.Equal(t, float32(6), gemm.Float(ir.AttrClampMax, 0))
		assert.Equal(t, []string{"Relu", "Transpose", "Reshape", "Gemm"}, chain(t, g, "y", 4))
		assert.Equal(t, []int64{0, 2, 3, 1}, producer(t, g, producer(t, g, gemm.Inputs[0]).Inputs[0]).Ints("perm"),
			"flattened in NHWC order")
		assert.Equal(t, []int64{-1, 12}, g.Initializers[producer(t, g, gemm.Inputs[0]).Inputs[1]].I64)
		assert.Equal(t, []int{5, 12}, g.Initializers[gemm.Inputs[1]].Shape)
		assert.Equal(t, []int{1, 5}, g.ValueInfo["y"].Shape)
	})
	t.Run("2-D input", func(t *testing.T) {
		m := oneOp(tmOp{code: bFullyConnected, in: []int32{0, 1, -1}, out: []int32{2}},
			named("x", f32(3, 4)), named("w", withData(f32(2, 4), seqF32(8))), named("y", f32(3, 2)))
		g := parseModel(t, m)
		gemm := node(t, g, "y")
		assert.Equal(t, []string{"x", "w"}, gemm.Inputs, "no flatten, no bias")
	})
	t.Run("keep_num_dims", func(t *testing.T) {
		m := oneOp(tmOp{code: bFullyConnected, in: []int32{0, 1, -1}, out: []int32{2}, optType: 8,
			opts: []tmField{{2, true}}},
			named("x", f32(2, 3, 4)), named("w", withData(f32(5, 4), seqF32(20))), named("y", f32(2, 3, 5)))
		g := parseModel(t, m)
		assert.Equal(t, []string{"Reshape", "Gemm", "Reshape"}, chain(t, g, "y", 3))
		assert.Equal(t, []int{6, 5}, g.ValueInfo[node(t, g, "y").Outputs[0]].Shape)
		assert.Equal(t, []int{2, 3, 5}, g.ValueInfo["y"].Shape)
	})
}

func TestPool(t *testing.T) {
	avg := oneOp(tmOp{code: bAveragePool, in: []int32{0}, out: []int32{1}, optType: 5, opts: poolOpts(1, 2, 2, 0)},
		named("x", f32(1, 4, 4, 3)), named("y", f32(1, 2, 2, 3)))
	g := parseModel(t, avg)
	n := node(t, g, "y")
	assert.Equal(t, "AveragePool", n.Op)
	assert.Equal(t, []int64{2, 2}, n.Ints("kernel_shape"))
	assert.Equal(t, []int64{2, 2}, n.Ints("strides"))
	assert.Equal(t, []int64{0, 0, 0, 0}, n.Ints("pads"))
	assert.Equal(t, int64(0), n.Int("count_include_pad", 1))

	maxp := oneOp(tmOp{code: bMaxPool, in: []int32{0}, out: []int32{1}, optType: 5, opts: poolOpts(0, 2, 3, 1)},
		named("x", f32(1, 5, 5, 1)), named("y", f32(1, 3, 3, 1)))
	g = parseModel(t, maxp)
	n = node(t, g, "y")
	assert.Equal(t, "MaxPool", n.Op)
	assert.Equal(t, []int64{1, 1, 1, 1}, n.Ints("pads"))
	assert.Equal(t, float32(0), n.Float(ir.AttrClampMin, -1))
}

func TestMean(t *testing.T) {
	axes := func(v ...int32) tmTensor {
		return named("axes", withData(tmTensor{shape: []int32{int32(len(v))}, typ: tInt32}, i32bytes(v...)))
	}
	keep := func(k bool) []tmField { return []tmField{{0, k}} }
	for _, tc := range []struct {
		name     string
		axes     []int32
		keep     bool
		out      []int32
		irAxes   []int64
		irOut    []int
		reorders []int64 // perm of the Transpose after ReduceMean, nil for none
	}{
		{"spatial", []int32{1, 2}, false, []int32{1, 8}, []int64{2, 3}, []int{1, 8}, nil},
		{"spatial keepdims", []int32{1, 2}, true, []int32{1, 1, 1, 8}, []int64{2, 3}, []int{1, 8, 1, 1}, nil},
		{"negative axes", []int32{-3, -2}, false, []int32{1, 8}, []int64{2, 3}, []int{1, 8}, nil},
		{"height only", []int32{1}, false, []int32{1, 4, 8}, []int64{2}, []int{1, 4, 8}, []int64{0, 2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := reluFirst(tmOp{code: bMean, in: []int32{0, 1}, out: []int32{2}, optType: 27, opts: keep(tc.keep)},
				named("r", f32(1, 4, 4, 8)), axes(tc.axes...), named("y", f32(tc.out...)))
			g := parseModel(t, m)
			n := node(t, g, "y")
			assert.Equal(t, "ReduceMean", n.Op)
			assert.Equal(t, tc.irAxes, n.Ints("axes"))
			assert.Equal(t, map[bool]int64{true: 1}[tc.keep], n.Int("keepdims", 1))
			out := g.Outputs[0].Name
			if len(tc.out) == 4 {
				out = producer(t, g, out).Inputs[0]
			}
			assert.Equal(t, tc.irOut, g.ValueInfo[out].Shape)
			p := producer(t, g, out)
			if tc.reorders == nil {
				assert.Equal(t, n, p)
			} else {
				assert.Equal(t, "Transpose", p.Op)
				assert.Equal(t, tc.reorders, p.Ints("perm"))
			}
		})
	}
}

func TestConcat(t *testing.T) {
	for _, axis := range []int32{3, -1} {
		m := &tmModel{tensors: []tmTensor{named("a", f32(1, 2, 2, 3)), named("b", f32(1, 2, 2, 5)), named("y", f32(1, 2, 2, 8))},
			inputs: []int32{0, 1}, outputs: []int32{2},
			ops: []tmOp{{code: bConcat, in: []int32{0, 1}, out: []int32{2}, optType: 10, opts: []tmField{{0, axis}, {1, uint8(3)}}}}}
		g := parseModel(t, m)
		n := node(t, g, "y")
		assert.Equal(t, int64(1), n.Int("axis", -1), "NHWC axis %d is NCHW axis 1", axis)
		assert.Equal(t, float32(6), n.Float(ir.AttrClampMax, 0))
		assert.Equal(t, []int{1, 8, 2, 2}, g.ValueInfo[n.Outputs[0]].Shape)
	}
}

func TestPad(t *testing.T) {
	paddings := named("p", withData(tmTensor{shape: []int32{4, 2}, typ: tInt32}, i32bytes(0, 0, 1, 2, 3, 4, 0, 0)))
	t.Run("quantised", func(t *testing.T) {
		m := oneOp(tmOp{code: bPad, in: []int32{0, 1}, out: []int32{2}},
			quant(named("x", f32(1, 3, 3, 2)), tInt8, 0.5, 5), paddings, quant(named("y", f32(1, 6, 10, 2)), tInt8, 0.5, 5))
		g := parseModel(t, m)
		n := node(t, g, "y")
		assert.Equal(t, "Pad", n.Op)
		assert.Equal(t, []int64{0, 0, 1, 3, 0, 0, 2, 4}, g.Initializers[n.Inputs[1]].I64, "NCHW begins then ends")
		require.Len(t, n.Inputs, 3)
		v := g.Initializers[n.Inputs[2]]
		assert.Equal(t, []int8{5}, v.I8, "pads with the zero point (real 0)")
		assert.Empty(t, v.Shape)
	})
	t.Run("float padv2", func(t *testing.T) {
		m := oneOp(tmOp{code: bPadV2, in: []int32{0, 1, 2}, out: []int32{3}},
			named("x", f32(1, 3, 3, 2)), paddings, named("v", withData(f32(1), f32bytes(1.5))), named("y", f32(1, 6, 10, 2)))
		g := parseModel(t, m)
		n := node(t, g, "y")
		require.Len(t, n.Inputs, 3)
		assert.Equal(t, []float32{1.5}, g.Initializers[n.Inputs[2]].F32)
	})
	t.Run("float pad", func(t *testing.T) {
		m := oneOp(tmOp{code: bPad, in: []int32{0, 1}, out: []int32{2}},
			named("x", f32(1, 3, 3, 2)), paddings, named("y", f32(1, 6, 10, 2)))
		g := parseModel(t, m)
		assert.Len(t, node(t, g, "y").Inputs, 2, "zero padding needs no value")
	})
}

func TestReshape(t *testing.T) {
	shapeT := named("s", withData(tmTensor{shape: []int32{2}, typ: tInt32}, i32bytes(1, -1)))
	for _, tc := range []struct {
		name string
		m    *tmModel
		spec []int64
	}{
		{"new_shape option", reluFirst(tmOp{code: bReshape, in: []int32{0}, out: []int32{1}, optType: 17,
			opts: []tmField{{0, []int32{1, 8}}}}, named("r", f32(1, 1, 1, 8)), named("y", f32(1, 8))), []int64{1, 8}},
		{"shape operand", reluFirst(tmOp{code: bReshape, in: []int32{0, 1}, out: []int32{2}},
			named("r", f32(1, 1, 1, 8)), shapeT, named("y", f32(1, 8))), []int64{1, -1}},
		{"output shape", reluFirst(tmOp{code: bReshape, in: []int32{0}, out: []int32{1}},
			named("r", f32(1, 1, 1, 8)), named("y", f32(1, 8))), []int64{1, 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := parseModel(t, tc.m)
			n := node(t, g, "y")
			assert.Equal(t, "Reshape", n.Op)
			assert.Equal(t, tc.spec, g.Initializers[n.Inputs[1]].I64)
			assert.Equal(t, []string{"Relu", "Transpose", "Reshape"}, chain(t, g, "y", 3))
			assert.Equal(t, []int64{0, 2, 3, 1}, producer(t, g, n.Inputs[0]).Ints("perm"))
		})
	}
	t.Run("to 4-D", func(t *testing.T) {
		m := oneOp(tmOp{code: bReshape, in: []int32{0}, out: []int32{1}, optType: 17, opts: []tmField{{0, []int32{1, 2, 3, 4}}}},
			named("x", f32(2, 12)), named("y", f32(1, 2, 3, 4)))
		g := parseModel(t, m)
		// Reshape in NHWC, Transpose to NCHW (the IR value), Transpose back
		// to the NHWC graph output.
		assert.Equal(t, []string{"Reshape", "Transpose", "Transpose"}, chain(t, g, "y", 3))
		assert.Equal(t, []int{1, 4, 2, 3}, g.ValueInfo[producer(t, g, "y").Inputs[0]].Shape)
	})
	t.Run("graph input read in place", func(t *testing.T) {
		m := oneOp(tmOp{code: bReshape, in: []int32{0}, out: []int32{1}}, named("x", f32(1, 2, 2, 2)), named("y", f32(1, 8)))
		g := parseModel(t, m)
		assert.Equal(t, "x", node(t, g, "y").Inputs[0], "the NHWC input feeds the Reshape directly")
	})
}

func TestSqueeze(t *testing.T) {
	m := reluFirst(tmOp{code: bSqueeze, in: []int32{0}, out: []int32{1}, optType: 30, opts: []tmField{{0, []int32{1, -2}}}},
		named("r", f32(1, 1, 1, 8)), named("y", f32(1, 8)))
	g := parseModel(t, m)
	n := node(t, g, "y")
	assert.Equal(t, "Squeeze", n.Op)
	assert.Equal(t, []int64{1, 2}, g.Initializers[n.Inputs[1]].I64)
	assert.Equal(t, "Transpose", producer(t, g, n.Inputs[0]).Op)
}

func TestTranspose(t *testing.T) {
	perm := named("perm", withData(tmTensor{shape: []int32{4}, typ: tInt32}, i32bytes(0, 3, 1, 2)))
	m := reluFirst(tmOp{code: bTranspose, in: []int32{0, 1}, out: []int32{2}},
		named("r", f32(1, 2, 3, 4)), perm, named("y", f32(1, 4, 2, 3)))
	g := parseModel(t, m)
	n := node(t, g, "y")
	assert.Equal(t, "Transpose", n.Op)
	// r is [1,4,2,3] in the IR; y's IR value is NCHW of [1,4,2,3]:
	// [1,3,4,2]. One Transpose does file perm and layout changes at once.
	assert.Equal(t, []int{1, 4, 2, 3}, g.ValueInfo[n.Inputs[0]].Shape)
	assert.Equal(t, []int{1, 3, 4, 2}, g.ValueInfo[n.Outputs[0]].Shape)
	assert.Equal(t, []int64{0, 3, 1, 2}, n.Ints("perm"))
}

func TestElementwise(t *testing.T) {
	for _, tc := range []struct {
		code int32
		op   string
	}{{bLogistic, "Sigmoid"}, {bHardSwish, "HardSwish"}, {bRelu, "Relu"}, {bTanh, "Tanh"}} {
		g := parseModel(t, oneOp(tmOp{code: tc.code, in: []int32{0}, out: []int32{1}}, named("x", f32(1, 4)), named("y", f32(1, 4))))
		assert.Equal(t, tc.op, node(t, g, "y").Op)
	}
	g := parseModel(t, oneOp(tmOp{code: bRelu6, in: []int32{0}, out: []int32{1}}, named("x", f32(1, 4)), named("y", f32(1, 4))))
	n := node(t, g, "y")
	assert.Equal(t, "Clip", n.Op)
	require.Len(t, n.Inputs, 3)
	assert.Equal(t, []float32{0}, g.Initializers[n.Inputs[1]].F32)
	assert.Equal(t, []float32{6}, g.Initializers[n.Inputs[2]].F32)
	assert.Empty(t, g.Initializers[n.Inputs[1]].Shape, "scalar bound")

	g = parseModel(t, oneOp(tmOp{code: bReluN1To1, in: []int32{0}, out: []int32{1}}, named("x", f32(1, 4)), named("y", f32(1, 4))))
	n = node(t, g, "y")
	assert.Equal(t, "Clip", n.Op)
	assert.Equal(t, []float32{-1}, g.Initializers[n.Inputs[1]].F32)
	assert.Equal(t, []float32{1}, g.Initializers[n.Inputs[2]].F32)

	g = parseModel(t, oneOp(tmOp{code: bLeakyRelu, in: []int32{0}, out: []int32{1}, optType: 75, opts: []tmField{{0, float32(0.25)}}},
		named("x", f32(1, 4)), named("y", f32(1, 4))))
	n = node(t, g, "y")
	assert.Equal(t, "LeakyRelu", n.Op)
	assert.Equal(t, float32(0.25), n.Float("alpha", 0))

	g = parseModel(t, oneOp(tmOp{code: bMul, in: []int32{0, 1}, out: []int32{2}, optType: 21, opts: []tmField{{0, uint8(2)}}},
		named("a", f32(1, 4)), named("b", f32(1, 4)), named("y", f32(1, 4))))
	n = node(t, g, "y")
	assert.Equal(t, "Mul", n.Op)
	assert.Equal(t, []string{"a", "b"}, n.Inputs)
	assert.Equal(t, float32(-1), n.Float(ir.AttrClampMin, 0), "fused RELU_N1_TO_1")
	assert.Equal(t, float32(1), n.Float(ir.AttrClampMax, 0), "fused RELU_N1_TO_1")

	g = parseModel(t, oneOp(tmOp{code: bSoftmax, in: []int32{0}, out: []int32{1}, optType: 9, opts: []tmField{{0, float32(1)}}},
		named("x", f32(1, 2, 2, 5)), named("y", f32(1, 2, 2, 5))))
	assert.Equal(t, int64(1), node(t, g, "y").Int("axis", 0), "softmax over NHWC channels is NCHW axis 1")
	g = parseModel(t, oneOp(tmOp{code: bSoftmax, in: []int32{0}, out: []int32{1}, optType: 9, opts: []tmField{{0, float32(1)}}},
		named("x", f32(1, 5)), named("y", f32(1, 5))))
	assert.Equal(t, int64(-1), node(t, g, "y").Int("axis", 0))
}

func TestAddBroadcast(t *testing.T) {
	t.Run("constant", func(t *testing.T) {
		m := oneOp(tmOp{code: bAdd, in: []int32{0, 1}, out: []int32{2}, optType: 11, opts: []tmField{{0, uint8(1)}}},
			named("x", f32(1, 2, 2, 3)), named("c", withData(f32(3), f32bytes(1, 2, 3))), named("y", f32(1, 2, 2, 3)))
		g := parseModel(t, m)
		n := node(t, g, "y")
		assert.Equal(t, "Add", n.Op)
		assert.Equal(t, float32(0), n.Float(ir.AttrClampMin, -1))
		c := g.Initializers[n.Inputs[1]]
		assert.Equal(t, []int{1, 3, 1, 1}, c.Shape, "per-channel constant broadcasts over NCHW channels")
		assert.Equal(t, []float32{1, 2, 3}, c.F32)
	})
	t.Run("activation", func(t *testing.T) {
		m := &tmModel{tensors: []tmTensor{named("x", f32(1, 2, 2, 3)), named("c", f32(2, 3)), named("y", f32(1, 2, 2, 3))},
			inputs: []int32{0, 1}, outputs: []int32{2}, ops: []tmOp{{code: bAdd, in: []int32{0, 1}, out: []int32{2}}}}
		g := parseModel(t, m)
		n := node(t, g, "y")
		assert.Equal(t, []string{"Reshape", "Transpose"}, chain(t, g, n.Inputs[1], 2))
		assert.Equal(t, []int{1, 3, 1, 2}, g.ValueInfo[n.Inputs[1]].Shape)
	})
}

func TestQuantizeDequantize(t *testing.T) {
	g := parseModel(t, oneOp(tmOp{code: bQuantize, in: []int32{0}, out: []int32{1}},
		named("x", f32(1, 4)), quant(named("y", f32(1, 4)), tInt8, 0.5, 3)))
	n := node(t, g, "y")
	assert.Equal(t, "QuantizeLinear", n.Op)
	assert.Equal(t, []float32{0.5}, g.Initializers[n.Inputs[1]].F32)
	assert.Equal(t, []int8{3}, g.Initializers[n.Inputs[2]].I8)

	// uint8 → int8 requantisation, as in tf2_mobilenet_v2_1.0_224_ptq.
	g = parseModel(t, oneOp(tmOp{code: bQuantize, in: []int32{0}, out: []int32{1}},
		quant(named("x", f32(1, 4)), tUint8, 0.25, 128), quant(named("y", f32(1, 4)), tInt8, 0.5, 0)))
	assert.Equal(t, []string{"DequantizeLinear", "QuantizeLinear"}, chain(t, g, "y", 2))
	dq := producer(t, g, node(t, g, "y").Inputs[0])
	assert.Equal(t, []uint8{128}, g.Initializers[dq.Inputs[2]].U8)
	assert.Equal(t, ir.Float32, g.ValueInfo[dq.Outputs[0]].DType)

	g = parseModel(t, oneOp(tmOp{code: bDequantize, in: []int32{0}, out: []int32{1}},
		quant(named("x", f32(1, 4)), tInt8, 0.5, -2), named("y", f32(1, 4))))
	n = node(t, g, "y")
	assert.Equal(t, "DequantizeLinear", n.Op)
	assert.Equal(t, []int8{-2}, g.Initializers[n.Inputs[2]].I8)
}

// TestDequantizedFilter feeds a depthwise conv a filter computed by
// DEQUANTIZE (as weight-only quantised models do): the per-channel axis of
// the constant follows the layout and the filter value is transposed into
// the grouped Conv weight layout by a node.
func TestDequantizedFilter(t *testing.T) {
	wq := tmTensor{name: "wq", shape: []int32{1, 3, 3, 4}, typ: tInt8, data: make([]byte, 36),
		scale: []float32{1, 2, 3, 4}, zp: []int64{0, 0, 0, 0}, qdim: 3}
	m := &tmModel{tensors: []tmTensor{named("x", f32(1, 4, 4, 2)), wq, named("w", f32(1, 3, 3, 4)), named("y", f32(1, 4, 4, 4))},
		inputs: []int32{0}, outputs: []int32{3}, ops: []tmOp{
			{code: bDequantize, in: []int32{1}, out: []int32{2}},
			{code: bDepthwise, in: []int32{0, 2, -1}, out: []int32{3}, optType: 2, opts: dwOpts(0, 1, 2, 0)},
		}}
	g := parseModel(t, m)
	dq := node(t, g, "w")
	assert.Equal(t, "DequantizeLinear", dq.Op)
	assert.Equal(t, []int{1, 4, 3, 3}, g.Initializers["wq"].Shape, "the constant in activation layout")
	assert.Equal(t, 1, g.Initializers["wq"].Quant.Axis, "quantized_dimension 3 is NCHW axis 1")
	assert.Equal(t, int64(1), dq.Int("axis", -1))
	assert.Equal(t, []float32{1, 2, 3, 4}, g.Initializers[dq.Inputs[1]].F32)
	conv := node(t, g, "y")
	filter := producer(t, g, conv.Inputs[1])
	assert.Equal(t, "Transpose", filter.Op)
	assert.Equal(t, []int64{1, 0, 2, 3}, filter.Ints("perm"))
	assert.Equal(t, []int{4, 1, 3, 3}, g.ValueInfo[conv.Inputs[1]].Shape)
}

func TestMetadata(t *testing.T) {
	m := oneOp(tmOp{code: bRelu, in: []int32{0}, out: []int32{1}}, named("x", f32(1, 4)), named("y", f32(1, 4)))
	m.metadata = map[string][]byte{"min_runtime_version": []byte("1.5.0\x00\x00\x00"), "blob": {0, 1, 2, 0xff}}
	g := parseModel(t, m)
	assert.Equal(t, "3", g.Metadata["tflite_version"])
	assert.Equal(t, "edgeinfer test model", g.Metadata["description"])
	assert.Equal(t, "blob,min_runtime_version", g.Metadata["tflite_metadata"])
	assert.Equal(t, "1.5.0", g.Metadata["tflite_metadata.min_runtime_version"])
	assert.NotContains(t, g.Metadata, "tflite_metadata.blob")
	assert.Equal(t, "test", g.Name)
}

func TestUnsupported(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *tmModel
		want []string
	}{
		{"operator", oneOp(tmOp{code: bResizeBilinear, in: []int32{0}, out: []int32{1}}, named("x", f32(1, 2, 2, 1)), named("y", f32(1, 4, 4, 1))),
			[]string{"subgraph 0", "operator 0", "unsupported operator RESIZE_BILINEAR"}},
		{"extended code", oneOp(tmOp{code: bGelu, in: []int32{0}, out: []int32{1}}, named("x", f32(1, 4)), named("y", f32(1, 4))),
			[]string{"unsupported operator GELU"}},
		{"custom", oneOp(tmOp{code: bCustom, custom: "MyOp", in: []int32{0}, out: []int32{1}}, named("x", f32(1, 4)), named("y", f32(1, 4))),
			[]string{"unsupported operator CUSTOM(MyOp)"}},
		{"softmax beta", oneOp(tmOp{code: bSoftmax, in: []int32{0}, out: []int32{1}, optType: 9, opts: []tmField{{0, float32(2)}}},
			named("x", f32(1, 4)), named("y", f32(1, 4))), []string{"unsupported operator SOFTMAX (beta 2)"}},
		{"tensor type", oneOp(tmOp{code: bRelu, in: []int32{0}, out: []int32{1}}, tmTensor{name: "half", shape: []int32{1, 4}, typ: tFloat16}, named("y", f32(1, 4))),
			[]string{`tensor 0 ("half")`, "FLOAT16", "unsupported"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.m.bytes())
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrUnsupported), "errors.Is(%v, ErrUnsupported)", err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *tmModel
		want string
	}{
		{"conv output shape", oneOp(tmOp{code: bConv, in: []int32{0, 1}, out: []int32{2}, optType: 1, opts: convOpts(0, 1, 0)},
			named("x", f32(1, 4, 4, 1)), named("w", withData(f32(1, 3, 3, 1), seqF32(9))), named("y", f32(1, 3, 3, 1))),
			"output shape [1 3 3 1], want spatial size 4x4"},
		{"zero stride", oneOp(tmOp{code: bConv, in: []int32{0, 1}, out: []int32{2}, optType: 1, opts: convOpts(0, 0, 0)},
			named("x", f32(1, 4, 4, 1)), named("w", withData(f32(1, 3, 3, 1), seqF32(9))), named("y", f32(1, 4, 4, 1))),
			"stride 0"},
		{"buffer size", oneOp(tmOp{code: bAdd, in: []int32{0, 1}, out: []int32{2}},
			named("x", f32(1, 4)), named("c", withData(f32(1, 4), seqF32(3))), named("y", f32(1, 4))),
			`tensor 1 ("c"): buffer 1 holds 12 bytes, want 16`},
		{"undefined input", &tmModel{tensors: []tmTensor{named("x", f32(1, 4)), named("y", f32(1, 4))}, outputs: []int32{1},
			ops: []tmOp{{code: bRelu, in: []int32{0}, out: []int32{1}}}},
			`input 0: tensor 0 ("x"): not a constant, a graph input or an operator output`},
		{"bad tensor index", &tmModel{tensors: []tmTensor{named("x", f32(1, 4)), named("y", f32(1, 4))}, inputs: []int32{0}, outputs: []int32{1},
			ops: []tmOp{{code: bRelu, in: []int32{0}, out: []int32{7}}}},
			"operator 0 (RELU): output 0: tensor index 7 out of range"},
		{"bad graph output", &tmModel{tensors: []tmTensor{named("x", f32(1, 4))}, inputs: []int32{0}, outputs: []int32{-1}},
			"outputs: tensor index -1 out of range"},
		{"written twice", &tmModel{tensors: []tmTensor{named("x", f32(1, 4)), named("y", f32(1, 4))}, inputs: []int32{0}, outputs: []int32{1},
			ops: []tmOp{{code: bRelu, in: []int32{0}, out: []int32{1}}, {code: bRelu, in: []int32{0}, out: []int32{1}}}},
			"written by operators 0 and 1"},
		{"per-channel mismatch", oneOp(tmOp{code: bRelu, in: []int32{0}, out: []int32{1}},
			tmTensor{name: "x", shape: []int32{1, 4}, typ: tInt8, scale: []float32{1, 2, 3}, zp: []int64{0, 0, 0}, qdim: 1}, named("y", f32(1, 4))),
			"3 per-channel scales do not match dimension 1"},
		{"zero point range", oneOp(tmOp{code: bRelu, in: []int32{0}, out: []int32{1}},
			quant(named("x", f32(1, 4)), tInt8, 1, 300), named("y", f32(1, 4))),
			"zero point 300 out of range for int8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.m.bytes())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.False(t, errors.Is(err, ErrUnsupported), "%v", err)
		})
	}
}

func TestBuiltinNames(t *testing.T) {
	for code, name := range map[int32]string{
		0: "ADD", 3: "CONV_2D", 40: "MEAN", 114: "QUANTIZE", 117: "HARD_SWISH",
		127: "PLACEHOLDER_FOR_GREATER_OP_CODES", 150: "GELU", 161: "RIGHT_SHIFT",
		162: "STABLEHLO_LOGISTIC", 204: "STABLEHLO_RNG_BIT_GENERATOR", 205: "REDUCE_WINDOW",
		225: "TEMP_STREAMING_CONV_2D", 300: "BuiltinOperator(300)",
	} {
		assert.Equal(t, name, builtinName(code), "code %d", code)
	}
}
