package onnx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// sharedPath is where the shared test data should be: $EDGEINFER_SHARED,
// or the checkout's sibling "shared" directory.
func sharedPath() string {
	if dir := os.Getenv("EDGEINFER_SHARED"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "..", "shared")
}

// sharedDir returns sharedPath, skipping the test when the data (models,
// fixtures, conformance cases) is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := sharedPath()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data not found at %s (set EDGEINFER_SHARED): %v", dir, err)
	}
	return dir
}

func globShared(t *testing.T, patterns ...string) []string {
	t.Helper()
	dir := sharedDir(t)
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join(dir, p))
		require.NoError(t, err)
		require.NotEmpty(t, m, "no files match %s in %s", p, dir)
		files = append(files, m...)
	}
	return files
}

// checkGraph asserts the invariants every graph from the reader must keep.
func checkGraph(t *testing.T, g *ir.Graph) {
	t.Helper()
	assert.Equal(t, "onnx", g.Format)
	assert.Positive(t, g.Opset)
	assert.NotEmpty(t, g.Nodes)
	assert.NotEmpty(t, g.Outputs)
	for name, tensor := range g.Initializers {
		assert.NoError(t, tensor.Validate(), "initializer %q", name)
	}
	for _, in := range g.Inputs {
		assert.NotContains(t, g.Initializers, in.Name, "input %q is an initializer", in.Name)
		assert.NotEqual(t, ir.Undefined, in.DType, "input %q", in.Name)
	}
	for _, n := range g.Nodes {
		assert.NotEmpty(t, n.Op, "node %q", n.Name)
		assert.NotEmpty(t, n.Outputs, "%s", n.Describe())
		for name, a := range n.Attrs {
			if a.Kind == ir.AttrTensor {
				assert.NoError(t, a.T.Validate(), "%s attribute %q", n.Describe(), name)
			}
		}
	}
}

func TestLoadSharedModels(t *testing.T) {
	files := globShared(t,
		"onnx-conformance/node/*/model.onnx",
		"onnx-conformance/pytorch-converted/*/model.onnx",
		"fixtures/*/model.onnx",
		"models/onnx/mnist-8.onnx",
		"models/trained/*.onnx",
	)
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, sharedDir(t)), func(t *testing.T) {
			g, err := Load(f)
			require.NoError(t, err)
			assert.Equal(t, f, g.Source)
			checkGraph(t, g)
		})
	}
}

func opSet(g *ir.Graph) []string {
	var ops []string
	for _, c := range g.OpHistogram() {
		ops = append(ops, c.Op)
	}
	return ops
}

func shapeOf(shape []int) []int {
	if shape == nil {
		return nil
	}
	return append([]int{}, shape...)
}

// TestFixtureMeta compares each fixture graph with the facts its generator
// recorded from PyTorch and the onnx package in meta.json.
func TestFixtureMeta(t *testing.T) {
	for _, metaPath := range globShared(t, "fixtures/*/meta.json") {
		dir := filepath.Dir(metaPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(metaPath)
			require.NoError(t, err)
			var meta struct {
				InputName    string   `json:"input_name"`
				OutputName   string   `json:"output_name"`
				InputShape   []int    `json:"input_shape"`
				OutputShape  []int    `json:"output_shape"`
				Params       int64    `json:"params"`
				BNLayers     int      `json:"batchnorm_layers"`
				Ops          []string `json:"onnx_ops"`
				Nodes        int      `json:"onnx_nodes"`
				Initializers int      `json:"onnx_initializers"`
				Opset        int      `json:"onnx_opset"`
			}
			require.NoError(t, json.Unmarshal(raw, &meta))

			g, err := Load(filepath.Join(dir, "model.onnx"))
			require.NoError(t, err)
			sort.Strings(meta.Ops)
			assert.Equal(t, meta.Ops, opSet(g))
			assert.Len(t, g.Nodes, meta.Nodes)
			assert.Equal(t, meta.Opset, g.Opset)
			if meta.Initializers > 0 {
				assert.Len(t, g.Initializers, meta.Initializers)
			}
			// Torch's parameter count leaves out BatchNorm running
			// statistics, which are initializers in the graph.
			if meta.BNLayers == 0 && !contains(meta.Ops, "BatchNormalization") {
				assert.Equal(t, meta.Params, g.ParamCount())
			}
			require.Len(t, g.Inputs, 1)
			assert.Equal(t, meta.InputName, g.Inputs[0].Name)
			assert.Equal(t, ir.Float32, g.Inputs[0].DType)
			assert.Equal(t, meta.InputShape, shapeOf(g.Inputs[0].Shape))
			require.Len(t, g.Outputs, 1)
			assert.Equal(t, meta.OutputName, g.Outputs[0].Name)
			assert.Equal(t, meta.OutputShape, shapeOf(g.Outputs[0].Shape))
			assert.Equal(t, "pytorch", g.Metadata["producer_name"])
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func histogram(g *ir.Graph) map[string]int {
	m := map[string]int{}
	for _, c := range g.OpHistogram() {
		m[c.Op] = c.Count
	}
	return m
}

// TestKnownModels checks models whose content is documented elsewhere: the
// trained models' README and the ONNX model zoo's MNIST (CNTK export,
// opset 8, initializers also listed as graph inputs as IR version 3
// required).
func TestKnownModels(t *testing.T) {
	sharedDir(t)
	tests := []struct {
		file    string
		opset   int
		input   string
		inShape []int
		output  string
		ops     map[string]int
		params  int64 // 0: not checked (BatchNorm statistics count in the graph)
	}{
		{
			file: "models/trained/lenet5_fmnist.onnx", opset: 13,
			input: "input", inShape: []int{1, 1, 28, 28}, output: "output",
			ops:    map[string]int{"Conv": 2, "Flatten": 1, "Gemm": 3, "MaxPool": 2, "Relu": 4},
			params: 61706,
		},
		{
			file: "models/trained/resnet8_fmnist.onnx", opset: 13,
			input: "input", inShape: []int{1, 1, 28, 28}, output: "output",
			ops: map[string]int{"Add": 3, "BatchNormalization": 9, "Conv": 9, "Flatten": 1,
				"Gemm": 1, "GlobalAveragePool": 1, "Identity": 2, "Relu": 7},
		},
		{
			file: "models/trained/mobilenet_fmnist.onnx", opset: 13,
			input: "input", inShape: []int{1, 1, 28, 28}, output: "output",
			ops: map[string]int{"BatchNormalization": 13, "Clip": 13, "Constant": 26, "Conv": 13,
				"Flatten": 1, "Gemm": 1, "GlobalAveragePool": 1},
		},
		{
			file: "models/onnx/mnist-8.onnx", opset: 8,
			input: "Input3", inShape: []int{1, 1, 28, 28}, output: "Plus214_Output_0",
			ops: map[string]int{"Add": 3, "Conv": 2, "MatMul": 1, "MaxPool": 2, "Relu": 2, "Reshape": 2},
			// conv 8×1×5×5 + 8, conv 16×8×5×5 + 16, fc 256×10 + 10.
			params: 200 + 8 + 3200 + 16 + 2560 + 10,
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			g, err := Load(filepath.Join(sharedDir(t), tc.file))
			require.NoError(t, err)
			assert.Equal(t, tc.opset, g.Opset)
			assert.Equal(t, tc.ops, histogram(g))
			require.Len(t, g.Inputs, 1)
			assert.Equal(t, tc.input, g.Inputs[0].Name)
			assert.Equal(t, tc.inShape, g.Inputs[0].Shape)
			require.Len(t, g.Outputs, 1)
			assert.Equal(t, tc.output, g.Outputs[0].Name)
			assert.Equal(t, []int{1, 10}, g.Outputs[0].Shape)
			if tc.params != 0 {
				assert.Equal(t, tc.params, g.ParamCount())
			}
		})
	}
}

// TestConformanceNodes checks node details against the ONNX backend test
// definitions (onnx/backend/test/case/node/*.py).
func TestConformanceNodes(t *testing.T) {
	sharedDir(t)
	tests := []struct {
		name   string
		op     string
		inputs []string
		check  func(t *testing.T, n *ir.Node)
	}{
		{"test_conv_with_strides_padding", "Conv", []string{"x", "W"}, func(t *testing.T, n *ir.Node) {
			assert.Equal(t, []int64{3, 3}, n.Ints("kernel_shape"))
			assert.Equal(t, []int64{1, 1, 1, 1}, n.Ints("pads"))
			assert.Equal(t, []int64{2, 2}, n.Ints("strides"))
		}},
		{"test_gemm_all_attributes", "Gemm", []string{"a", "b", "c"}, func(t *testing.T, n *ir.Node) {
			assert.Equal(t, float32(0.25), n.Float("alpha", 0))
			assert.Equal(t, float32(0.35), n.Float("beta", 0))
			assert.Equal(t, int64(1), n.Int("transA", 0))
			assert.Equal(t, int64(1), n.Int("transB", 0))
		}},
		{"test_batchnorm_epsilon", "BatchNormalization", []string{"x", "s", "bias", "mean", "var"}, func(t *testing.T, n *ir.Node) {
			assert.Equal(t, float32(1e-2), n.Float("epsilon", 0))
		}},
		// An absent optional input stays an empty name.
		{"test_clip_default_max", "Clip", []string{"x", "", "max"}, nil},
		{"test_constant_pad", "Pad", []string{"x", "pads", "value"}, func(t *testing.T, n *ir.Node) {
			assert.Equal(t, "constant", n.String("mode", ""))
		}},
		{"test_depthtospace_crd_mode_example", "DepthToSpace", []string{"x"}, func(t *testing.T, n *ir.Node) {
			assert.Equal(t, int64(2), n.Int("blocksize", 0))
			assert.Equal(t, "CRD", n.String("mode", ""))
		}},
		{"test_constantofshape_float_ones", "ConstantOfShape", []string{"x"}, func(t *testing.T, n *ir.Node) {
			a := n.Attrs["value"]
			require.NotNil(t, a)
			require.Equal(t, ir.AttrTensor, a.Kind)
			assert.Equal(t, &ir.Tensor{DType: ir.Float32, Shape: []int{1}, F32: []float32{1}}, a.T)
		}},
		{"test_constantofshape_int_zeros", "ConstantOfShape", []string{"x"}, func(t *testing.T, n *ir.Node) {
			a := n.Attrs["value"]
			require.NotNil(t, a)
			require.Equal(t, ir.AttrTensor, a.Kind)
			assert.Equal(t, &ir.Tensor{DType: ir.Int32, Shape: []int{1}, I32: []int32{0}}, a.T)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Load(filepath.Join(sharedDir(t), "onnx-conformance", "node", tc.name, "model.onnx"))
			require.NoError(t, err)
			require.Len(t, g.Nodes, 1)
			n := g.Nodes[0]
			assert.Equal(t, tc.op, n.Op)
			assert.Equal(t, "", n.Domain)
			assert.Equal(t, tc.inputs, n.Inputs)
			assert.Equal(t, "backend-test", g.Metadata["producer_name"])
			if tc.check != nil {
				tc.check(t, n)
			}
		})
	}
}

// TestConformanceTestData loads each case's test_data_set_0 tensors and
// checks them against the model's declared inputs and outputs (in graph
// order, as the ONNX test runner feeds them).
func TestConformanceTestData(t *testing.T) {
	dir := sharedDir(t)
	models := globShared(t,
		"onnx-conformance/node/*/model.onnx",
		"onnx-conformance/pytorch-converted/*/model.onnx",
	)
	type tcase struct{ model, data string }
	var cases []tcase
	for _, m := range models {
		cases = append(cases, tcase{m, filepath.Join(filepath.Dir(m), "test_data_set_0")})
	}
	mnist := filepath.Join(dir, "models/onnx/mnist-8.onnx")
	for i := range 3 {
		cases = append(cases, tcase{mnist, filepath.Join(dir, "models/onnx/mnist-8_test_data", "test_data_set_"+strconv.Itoa(i))})
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.data, dir), func(t *testing.T) {
			g, err := Load(tc.model)
			require.NoError(t, err)
			for kind, values := range map[string][]*ir.ValueInfo{"input": g.Inputs, "output": g.Outputs} {
				files, err := filepath.Glob(filepath.Join(tc.data, kind+"_*.pb"))
				require.NoError(t, err)
				require.Len(t, files, len(values), "%s files", kind)
				for k, vi := range values {
					name, tensor, err := ReadTensorProtoFile(filepath.Join(tc.data, kind+"_"+strconv.Itoa(k)+".pb"))
					require.NoError(t, err)
					require.NoError(t, tensor.Validate())
					if name != "" {
						assert.Equal(t, vi.Name, name, "%s %d", kind, k)
					}
					assert.Equal(t, vi.DType, tensor.DType, "%s %q", kind, vi.Name)
					if vi.Shape != nil {
						require.Len(t, tensor.Shape, len(vi.Shape), "%s %q rank", kind, vi.Name)
						for i, d := range vi.Shape {
							if d >= 0 {
								assert.Equal(t, d, tensor.Shape[i], "%s %q dim %d", kind, vi.Name, i)
							}
						}
					}
				}
			}
		})
	}
}
