package onnx

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// writerGraph is a small graph using every element type, attribute kind
// and value-info form the writer handles.
func writerGraph() *ir.Graph {
	g := ir.New("writer")
	g.Opset = 13
	g.Metadata["producer_name"] = "edgeinfer test"
	g.Metadata["producer_version"] = "0.0"
	g.Metadata["note"] = "metadata ü"
	g.Inputs = []*ir.ValueInfo{{Name: "x", DType: ir.Float32, Shape: []int{-1, 3, 4, 4}}}
	g.Outputs = []*ir.ValueInfo{{Name: "y", DType: ir.Int8, Shape: []int{}}, {Name: "z", DType: ir.Float32}}
	g.ValueInfo["h"] = &ir.ValueInfo{Name: "h", DType: ir.Float32, Shape: []int{1, 3, 4, 4}}
	g.Initializers = map[string]*ir.Tensor{
		"f32":   {DType: ir.Float32, Shape: []int{2, 2}, F32: []float32{1.5, -0, float32(math.Inf(1)), 3e-38}},
		"i8":    {DType: ir.Int8, Shape: []int{3}, I8: []int8{-128, 0, 127}},
		"u8":    {DType: ir.Uint8, Shape: []int{2}, U8: []uint8{0, 255}},
		"i32":   {DType: ir.Int32, Shape: []int{2}, I32: []int32{math.MinInt32, 7}},
		"i64":   {DType: ir.Int64, Shape: []int{2}, I64: []int64{math.MinInt64, math.MaxInt64}},
		"bool":  {DType: ir.Bool, Shape: []int{2}, U8: []uint8{1, 0}},
		"scal":  {DType: ir.Float32, Shape: []int{}, F32: []float32{0.25}},
		"empty": {DType: ir.Int64, Shape: []int{0}, I64: []int64{}},
	}
	g.Nodes = []*ir.Node{
		{Name: "n0", Op: "Custom", Domain: "com.example", Inputs: []string{"x", "", "f32"}, Outputs: []string{"h"}, Attrs: map[string]*ir.Attr{
			"f":       {Kind: ir.AttrFloat, F: -2.5},
			"i":       {Kind: ir.AttrInt, I: -3},
			"s":       {Kind: ir.AttrString, S: "SAME_UPPER"},
			"ints":    {Kind: ir.AttrInts, Ints: []int64{1, -1, 1 << 40}},
			"nints":   {Kind: ir.AttrInts, Ints: []int64{}},
			"floats":  {Kind: ir.AttrFloats, Floats: []float32{0.5, 1e-9}},
			"strings": {Kind: ir.AttrStrings, Strings: []string{"a", ""}},
			"t":       {Kind: ir.AttrTensor, T: &ir.Tensor{DType: ir.Int32, Shape: []int{1}, I32: []int32{-5}}},
		}},
		{Op: "QuantizeLinear", Inputs: []string{"h", "scal", "i8"}, Outputs: []string{"y"}},
		{Name: "n2", Op: "Identity", Inputs: []string{"h"}, Outputs: []string{"z"}},
	}
	return g
}

// TestMarshalRoundTrip writes a graph and reads it back with the reader,
// which is tested against files written by ONNX's own serializer.
func TestMarshalRoundTrip(t *testing.T) {
	g := writerGraph()
	data, err := Marshal(g)
	require.NoError(t, err)
	back, err := Parse(data, "")
	require.NoError(t, err)
	assert.Equal(t, "7", back.Metadata["ir_version"], "opset 13 needs IR version 7")
	assert.Equal(t, "edgeinfer test", back.Metadata["producer_name"])
	assert.Equal(t, "0.0", back.Metadata["producer_version"])
	assert.Equal(t, "metadata ü", back.Metadata["note"])
	assert.Equal(t, 13, back.Opset)
	assert.Equal(t, g.Name, back.Name)
	assert.Equal(t, g.Inputs, back.Inputs)
	assert.Equal(t, g.Outputs[0], back.Outputs[0])
	assert.Equal(t, ir.Float32, back.Outputs[1].DType)
	assert.Nil(t, back.Outputs[1].Shape, "unknown rank stays unknown")
	assert.Equal(t, g.ValueInfo, back.ValueInfo)
	require.Len(t, back.Initializers, len(g.Initializers))
	for name, want := range g.Initializers {
		got := back.Initializers[name]
		require.NotNil(t, got, name)
		if want.DType == ir.Float32 {
			// Compare bits: −0 and ±Inf must survive.
			require.Len(t, got.F32, len(want.F32), name)
			for i := range want.F32 {
				assert.Equal(t, math.Float32bits(want.F32[i]), math.Float32bits(got.F32[i]), "%s[%d]", name, i)
			}
			assert.Equal(t, want.Shape, got.Shape, name)
			continue
		}
		assert.Equal(t, want, got, name)
	}
	assert.Equal(t, g.Nodes, back.Nodes)
}

func TestMarshalErrors(t *testing.T) {
	g := writerGraph()
	g.Opset = 0
	_, err := Marshal(g)
	assert.ErrorContains(t, err, "opset")

	g = writerGraph()
	g.Initializers["bad"] = &ir.Tensor{DType: ir.Float32, Shape: []int{3}, F32: []float32{1}}
	_, err = Marshal(g)
	assert.ErrorContains(t, err, `initializer "bad"`)

	g = writerGraph()
	g.Nodes[0].Attrs["t"] = &ir.Attr{Kind: ir.AttrTensor}
	_, err = Marshal(g)
	assert.ErrorContains(t, err, `attribute "t"`)
}

func TestIRVersionFor(t *testing.T) {
	for _, c := range []struct{ opset, ir int }{{7, 3}, {8, 3}, {9, 4}, {11, 6}, {12, 7}, {13, 7}, {14, 7}, {15, 8}, {17, 8}, {19, 9}, {21, 10}, {40, 11}} {
		assert.Equal(t, int64(c.ir), irVersionFor(c.opset), "opset %d", c.opset)
	}
}

// sameGraph asserts that b holds everything the reader read into a.
func sameGraph(t *testing.T, a, b *ir.Graph) {
	t.Helper()
	assert.Equal(t, a.Opset, b.Opset)
	assert.Equal(t, a.Inputs, b.Inputs)
	assert.Equal(t, a.Outputs, b.Outputs)
	assert.Equal(t, a.Nodes, b.Nodes)
	require.Equal(t, len(a.Initializers), len(b.Initializers))
	for name, want := range a.Initializers {
		got := b.Initializers[name]
		require.NotNil(t, got, name)
		if want.DType == ir.Float32 {
			require.Equal(t, want.Shape, got.Shape, name)
			for i := range want.F32 {
				if math.Float32bits(want.F32[i]) != math.Float32bits(got.F32[i]) {
					t.Fatalf("initializer %s[%d]: %v, want %v", name, i, got.F32[i], want.F32[i])
				}
			}
			continue
		}
		assert.Equal(t, want, got, name)
	}
	for name, vi := range a.ValueInfo {
		if vi.DType == ir.Undefined && vi.Shape == nil {
			continue
		}
		assert.Equal(t, vi, b.ValueInfo[name], name)
	}
}

// TestMarshalSharedModels re-writes every shared ONNX model (PyTorch and
// CNTK exports) and requires the reader to see the same graph in the copy.
func TestMarshalSharedModels(t *testing.T) {
	files := globShared(t, "models/onnx/*.onnx", "models/trained/*.onnx", "fixtures/*/model.onnx")
	for _, f := range files {
		name, _ := filepath.Rel(sharedDir(t), f)
		t.Run(name, func(t *testing.T) {
			g, err := Load(f)
			require.NoError(t, err)
			data, err := Marshal(g)
			require.NoError(t, err)
			back, err := Parse(data, "")
			require.NoError(t, err)
			sameGraph(t, g, back)
		})
	}
}

// checkWithONNX runs onnx.checker.check_model (full check, with shape
// inference) from Python's onnx package on the model file, skipping when
// it is not installed.
func checkWithONNX(t *testing.T, path string) {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skipf("%s not found: cannot run onnx.checker", py)
	}
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("Python's onnx package is missing (apt-get install python3-onnx): %v", err)
	}
	out, err := exec.Command(py, "-c", "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path).CombinedOutput()
	require.NoError(t, err, "onnx.checker on %s:\n%s", path, out)
}

// TestMarshalPassesONNXChecker has ONNX's own checker validate re-written
// shared models: proto structure, IR/opset pairing and operator schemas.
func TestMarshalPassesONNXChecker(t *testing.T) {
	files := globShared(t, "models/onnx/mnist-8.onnx", "models/trained/*.onnx")
	dir := t.TempDir()
	for _, f := range files {
		g, err := Load(f)
		require.NoError(t, err)
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(f), ".onnx")+"_copy.onnx")
		require.NoError(t, Save(out, g))
		checkWithONNX(t, out)
	}
}
