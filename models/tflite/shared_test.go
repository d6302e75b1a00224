package tflite

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
)

// ioFact is what shared/models/SOURCES.md states about a model input or
// output; zero fields are not stated there and not checked.
type ioFact struct {
	name  string
	dtype ir.DType
	shape []int
	scale float32
	zp    int32
}

// modelFacts are the facts of shared/models/SOURCES.md per model.
var modelFacts = []struct {
	file       string
	in, out    ioFact         // a zero scale on a quantised type: not stated
	ops        map[string]int // BuiltinOperator histogram
	perChannel bool           // conv weights are per-channel
}{
	{
		file:       "person_detect.tflite",
		in:         ioFact{"input", ir.Int8, []int{1, 96, 96, 1}, 0.00784314, -1},
		out:        ioFact{"", ir.Int8, []int{1, 2}, 1.0 / 256, -128},
		ops:        map[string]int{"CONV_2D": 14, "DEPTHWISE_CONV_2D": 14, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "SOFTMAX": 1},
		perChannel: true,
	},
	{
		file: "mobilenet_v2_quantized_1x3x224x224.tflite",
		in:   ioFact{"input.5", ir.Int8, []int{1, 3, 224, 224}, 0.0186311, -14},
		out:  ioFact{"Xq.1", ir.Int8, []int{1, 1000}, 0.113735, -24},
		ops: map[string]int{"TRANSPOSE": 1, "PAD": 18, "CONV_2D": 35, "DEPTHWISE_CONV_2D": 17, "ADD": 10,
			"MEAN": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1},
		perChannel: true,
	},
	{
		file: "mobilenet_v2_1.0_224_quant.tflite",
		in:   ioFact{"input", ir.Uint8, []int{1, 224, 224, 3}, 0.0078125, 128},
		out:  ioFact{"MobilenetV2/Predictions/Softmax", ir.Uint8, []int{1, 1001}, 1.0 / 256, 0},
		ops: map[string]int{"CONV_2D": 36, "DEPTHWISE_CONV_2D": 17, "ADD": 10, "AVERAGE_POOL_2D": 1,
			"RESHAPE": 1, "SOFTMAX": 1},
	},
	{
		file: "tf2_mobilenet_v2_1.0_224_ptq.tflite",
		in:   ioFact{"input", ir.Uint8, []int{1, 224, 224, 3}, 0.00784314, 127},
		out:  ioFact{"Identity", ir.Uint8, []int{1, 1001}, 1.0 / 256, 0},
		ops: map[string]int{"QUANTIZE": 2, "CONV_2D": 36, "DEPTHWISE_CONV_2D": 17, "ADD": 10, "MEAN": 1,
			"RESHAPE": 1, "SOFTMAX": 1},
		perChannel: true,
	},
	{
		file: "mobilenet_v1_0.25_128_quant.tflite",
		in:   ioFact{"", ir.Uint8, []int{1, 128, 128, 3}, 0.0078125, 128},
		out:  ioFact{"", ir.Uint8, []int{1, 1001}, 0, 0},
		ops:  map[string]int{"CONV_2D": 15, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "SOFTMAX": 1},
	},
	{
		file: "pretrainedResnet_quant.tflite",
		in:   ioFact{"input_1_int8", ir.Int8, []int{1, 32, 32, 3}, 1, -128},
		out:  ioFact{"", ir.Int8, []int{1, 10}, 1.0 / 256, -128},
		ops: map[string]int{"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1,
			"SOFTMAX": 1},
		perChannel: true,
	},
	{
		file: "pretrainedResnet.tflite",
		in:   ioFact{"input_1", ir.Float32, []int{1, 32, 32, 3}, 0, 0},
		out:  ioFact{"", ir.Float32, []int{1, 10}, 0, 0},
		ops: map[string]int{"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1,
			"SOFTMAX": 1},
	},
	{
		file: "vww_96_int8.tflite",
		in:   ioFact{"", ir.Int8, []int{1, 96, 96, 3}, 1.0 / 255, -128},
		out:  ioFact{"", ir.Int8, []int{1, 2}, 1.0 / 256, -128},
		ops: map[string]int{"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
			"FULLY_CONNECTED": 1, "SOFTMAX": 1},
		perChannel: true,
	},
	{
		file: "vww_96_float.tflite",
		in:   ioFact{"", ir.Float32, []int{1, 96, 96, 3}, 0, 0},
		out:  ioFact{"", ir.Float32, []int{1, 2}, 0, 0},
		ops: map[string]int{"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
			"FULLY_CONNECTED": 1, "SOFTMAX": 1},
	},
}

// irOps is the IR op each BuiltinOperator of the shared models becomes.
var irOps = map[string]string{
	"CONV_2D": "Conv", "DEPTHWISE_CONV_2D": "Conv", "AVERAGE_POOL_2D": "AveragePool", "RESHAPE": "Reshape",
	"SOFTMAX": "Softmax", "ADD": "Add", "PAD": "Pad", "MEAN": "ReduceMean", "FULLY_CONNECTED": "Gemm",
	"QUANTIZE": "QuantizeLinear", "TRANSPOSE": "Transpose",
}

// fileOpHistogram counts the operators of the file's main subgraph by
// BuiltinOperator name.
func fileOpHistogram(t *testing.T, data []byte) map[string]int {
	t.Helper()
	m, err := decodeModel(data)
	require.NoError(t, err)
	h := map[string]int{}
	for _, op := range m.main.operators {
		h[builtinName(m.opcodes[op.opcode].builtin)]++
	}
	return h
}

func checkIO(t *testing.T, what string, got *ir.ValueInfo, want ioFact) {
	t.Helper()
	if want.name != "" {
		assert.Equal(t, want.name, got.Name, "%s name", what)
	}
	assert.Equal(t, want.dtype, got.DType, "%s dtype", what)
	assert.Equal(t, want.shape, got.Shape, "%s shape", what)
	if want.dtype == ir.Float32 {
		assert.Nil(t, got.Quant, "%s is not quantised", what)
		return
	}
	if want.scale == 0 {
		return // not stated
	}
	if assert.NotNil(t, got.Quant, "%s quant", what) {
		assert.InEpsilonSlice(t, []float32{want.scale}, got.Quant.Scale, 1e-5, "%s scale", what)
		assert.Equal(t, []int32{want.zp}, got.Quant.ZeroPoint, "%s zero point", what)
	}
}

func TestSharedModels(t *testing.T) {
	dir := shared.Path(t, "models/tflite")
	files, err := filepath.Glob(filepath.Join(dir, "*.tflite"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	known := map[string]bool{}
	for _, f := range modelFacts {
		known[f.file] = true
	}
	for _, f := range files {
		// Every model in the folder parses, described here or not.
		t.Run("load/"+filepath.Base(f), func(t *testing.T) {
			g, err := Load(f)
			require.NoError(t, err)
			checkGraph(t, g)
			assert.Equal(t, f, g.Source)
			assert.True(t, known[filepath.Base(f)], "no facts for %s in this test", f)
		})
	}
	for _, tc := range modelFacts {
		t.Run("facts/"+tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.ops, fileOpHistogram(t, data))
			g, err := Parse(data)
			require.NoError(t, err)
			checkGraph(t, g)
			require.Len(t, g.Inputs, 1)
			require.Len(t, g.Outputs, 1)
			checkIO(t, "input", g.Inputs[0], tc.in)
			checkIO(t, "output", g.Outputs[0], tc.out)
			assert.Equal(t, "3", g.Metadata["tflite_version"])

			hist := opHistogram(g)
			want := map[string]int{}
			for op, n := range tc.ops {
				want[irOps[op]] += n
			}
			for op, n := range want {
				if op == "Transpose" {
					assert.GreaterOrEqual(t, hist[op], n, "Transpose")
					continue
				}
				assert.Equal(t, n, hist[op], "IR %s nodes", op)
			}
			checkConvs(t, g, tc.perChannel)
		})
	}
}

// checkConvs checks every Conv's weight: layout against the input's
// channels and group, and per-channel quantisation on axis 0 when the
// model is per-channel.
func checkConvs(t *testing.T, g *ir.Graph, perChannel bool) {
	t.Helper()
	for _, n := range nodesOf(g, "Conv") {
		x := g.ValueInfo[n.Inputs[0]]
		w := g.Initializers[n.Inputs[1]]
		require.NotNil(t, w, "%s weight is an initializer", n.Describe())
		group := int(n.Int("group", 1))
		assert.Equal(t, x.Shape[1], w.Shape[1]*group, "%s: C_in = I·group", n.Describe())
		assert.Equal(t, w.Shape[2:], []int{int(n.Ints("kernel_shape")[0]), int(n.Ints("kernel_shape")[1])})
		switch {
		case w.DType == ir.Float32:
			assert.Nil(t, w.Quant)
		case perChannel:
			if assert.True(t, w.Quant.PerChannel(), "%s weight is per-channel", n.Describe()) {
				assert.Equal(t, 0, w.Quant.Axis)
				assert.Len(t, w.Quant.Scale, w.Shape[0])
			}
		default:
			assert.False(t, w.Quant.PerChannel(), "%s weight is per-tensor", n.Describe())
		}
		if len(n.Inputs) > 2 && w.DType != ir.Float32 {
			b := g.Initializers[n.Inputs[2]]
			assert.Equal(t, ir.Int32, b.DType)
			if assert.NotNil(t, b.Quant) {
				assert.Len(t, b.Quant.Scale, len(w.Quant.Scale))
			}
		}
	}
}

// TestWeightsAlias checks that weights already in the IR's layout alias
// the file bytes and transposed ones do not.
func TestWeightsAlias(t *testing.T) {
	path := filepath.Join(shared.Path(t, "models/tflite"), "vww_96_float.tflite")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	g, err := Parse(data)
	require.NoError(t, err)
	inData := func(f []float32) bool {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(f)))
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
		return p >= lo && p < lo+uintptr(len(data))
	}
	var aliased, copied int
	for _, n := range nodesOf(g, "Conv") {
		w := g.Initializers[n.Inputs[1]]
		ks := n.Ints("kernel_shape")
		moves := ks[0]*ks[1] > 1 && w.Shape[1] > 1 || n.Int("group", 1) > 1 && ks[0]*ks[1] > 1
		aligned := uintptr(unsafe.Pointer(unsafe.SliceData(data)))%4 == 0
		if moves || !aligned {
			assert.False(t, inData(w.F32), "%s: permuted weight is a copy", n.Describe())
			copied++
		} else {
			assert.True(t, inData(w.F32), "%s: 1x1 weight aliases the file", n.Describe())
			aliased++
		}
		if len(n.Inputs) > 2 && aligned {
			assert.True(t, inData(g.Initializers[n.Inputs[2]].F32), "%s: bias aliases the file", n.Describe())
		}
	}
	assert.Positive(t, aliased)
	assert.Positive(t, copied)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.tflite")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	text := filepath.Join(dir, "text.tflite")
	require.NoError(t, os.WriteFile(text, []byte("this is not a flatbuffer at all"), 0o644))
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.tflite"), "no such file"},
		{empty, "too short"},
		{text, `not a TFLite model`},
		{dir, "is a directory"},
	} {
		_, err := Load(tc.path)
		if assert.Error(t, err, tc.path) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

func TestLoadSynthetic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relu.tflite")
	m := oneOp(tmOp{code: bRelu, in: []int32{0}, out: []int32{1}}, named("x", f32(1, 4)), named("y", f32(1, 4)))
	m.name = ""
	require.NoError(t, os.WriteFile(path, m.bytes(), 0o644))
	g, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "relu", g.Name, "file name when the subgraph has none")
	assert.Equal(t, path, g.Source)
}
