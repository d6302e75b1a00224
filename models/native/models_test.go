package native

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// floatModel is a small float graph with attributes of every kind,
// float32, int64, int32 and bool tensors (scalar, empty, NaN and −0 data),
// value infos with unknown dimensions and rank, metadata, labels and
// preprocessing.
func floatModel() *Model {
	b := ir.NewBuilder("float_net")
	g := b.G
	g.Opset = 13
	g.Metadata["producer_name"] = "pytorch"
	g.Metadata["doc"] = "line1\nline2 ✓"
	x := b.Input("image", ir.Float32, 1, 3, 8, 8)
	w := make([]float32, 4*3*3*3)
	for i := range w {
		w[i] = float32(i)*0.01 - 0.5
	}
	w[0] = float32(math.NaN())
	w[1] = float32(math.Copysign(0, -1))
	w[2] = float32(math.Inf(1))
	wn := b.F32("conv.w", w, 4, 3, 3, 3)
	bn := b.F32("conv.b", []float32{0.1, -0.2, 0.3, -0.4}, 4)
	y := b.Op("Conv", []string{x, wn, bn},
		ir.WithInts("pads", 1, 1, 1, 1), ir.WithInts("strides", 1, 1),
		ir.WithInt("group", 1), ir.WithString("auto_pad", "NOTSET"))
	y = b.Op("LeakyRelu", []string{y}, ir.WithFloat("alpha", 0.01))
	shapeT := &ir.Tensor{DType: ir.Int64, Shape: []int{2}, I64: []int64{1, -1}}
	shape := b.Op("Constant", nil, func(n *ir.Node) {
		n.Attrs = map[string]*ir.Attr{"value": {Kind: ir.AttrTensor, T: shapeT}}
	})
	y = b.Op("Reshape", []string{y, shape})
	y = b.Op("Custom", []string{y, ""}, func(n *ir.Node) {
		n.Domain = "com.edgeinfer"
		n.Attrs = map[string]*ir.Attr{
			"names":   {Kind: ir.AttrStrings, Strings: []string{"a", "", "ü"}},
			"weights": {Kind: ir.AttrFloats, Floats: []float32{1.5, -2, float32(math.Inf(-1))}},
			"empty":   {Kind: ir.AttrInts, Ints: []int64{}},
			"none":    {Kind: ir.AttrInts},
			"big":     {Kind: ir.AttrInt, I: math.MinInt64},
			"scalar": {Kind: ir.AttrTensor, T: &ir.Tensor{
				DType: ir.Float32, Shape: []int{}, F32: []float32{3.25}}},
		}
	})
	b.Output(y)
	g.Initializers["scalar_i32"] = &ir.Tensor{DType: ir.Int32, Shape: []int{}, I32: []int32{-7}}
	g.Initializers["empty"] = &ir.Tensor{DType: ir.Float32, Shape: []int{0, 3}, F32: []float32{}}
	g.Initializers["mask"] = &ir.Tensor{DType: ir.Bool, Shape: []int{3}, U8: []uint8{1, 0, 1}}
	g.ValueInfo["Conv_1:0"] = &ir.ValueInfo{Name: "Conv_1:0", DType: ir.Float32, Shape: []int{1, 4, -1, 8}}
	g.ValueInfo["unknown_rank"] = &ir.ValueInfo{Name: "unknown_rank", DType: ir.Undefined}
	g.ValueInfo["scalar"] = &ir.ValueInfo{Name: "scalar", DType: ir.Int64, Shape: []int{}}
	return &Model{
		Graph: g,
		Preprocess: &Preprocess{
			Input: "image", Width: 8, Height: 8, Channels: 3, Layout: LayoutNCHW,
			Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225},
			Scale: 255, ResizeShorter: 10,
		},
		Labels: []string{"tench", "", "goldfish", "great white shark, 白鲨"},
		Meta:   map[string]string{"producer": "quantize test", "note": ""},
	}
}

// quantModel is a QDQ-style quantised graph: uint8 activations, int8
// weights with per-channel scales, an int32 bias whose per-channel scale
// is input·weight scale, and quantised value infos.
func quantModel() *Model {
	b := ir.NewBuilder("quant_net")
	g := b.G
	g.Opset = 17
	actQ := &ir.Quant{Scale: []float32{0.0235}, ZeroPoint: []int32{128}}
	x := b.Input("x", ir.Uint8, 1, 4, 6, 6)
	g.Inputs[0].Quant = actQ
	const cout = 8
	w := make([]int8, cout*4*3*3)
	for i := range w {
		w[i] = int8(i*37 - 128)
	}
	wScale := make([]float32, cout)
	biasScale := make([]float32, cout)
	bias := make([]int32, cout)
	for c := range wScale {
		wScale[c] = 0.001 * float32(c+1)
		biasScale[c] = actQ.Scale[0] * wScale[c]
		bias[c] = int32(c*100000 - 400000)
	}
	wn := b.Const("w", &ir.Tensor{DType: ir.Int8, Shape: []int{cout, 4, 3, 3}, I8: w,
		Quant: &ir.Quant{Scale: wScale, ZeroPoint: make([]int32, cout), Axis: 0}})
	bn := b.Const("bias", &ir.Tensor{DType: ir.Int32, Shape: []int{cout}, I32: bias,
		Quant: &ir.Quant{Scale: biasScale, Axis: 0}})
	xs := b.F32("x_scale", actQ.Scale, 1)
	xz := b.Const("x_zp", &ir.Tensor{DType: ir.Uint8, Shape: []int{}, U8: []uint8{128}})
	ys := b.F32("y_scale", []float32{0.05})
	yz := b.Const("y_zp", &ir.Tensor{DType: ir.Uint8, Shape: []int{}, U8: []uint8{3}})
	ws := b.F32("w_scale", wScale, cout)
	wz := b.Const("w_zp", &ir.Tensor{DType: ir.Int8, Shape: []int{cout}, I8: make([]int8, cout)})
	y := b.Op("QLinearConv", []string{x, xs, xz, wn, ws, wz, ys, yz, bn},
		ir.WithInts("kernel_shape", 3, 3), ir.WithInts("pads", 1, 1, 1, 1))
	g.Nodes[0].SetFloat(ir.AttrClampMin, 0)
	g.Nodes[0].SetFloat(ir.AttrClampMax, 6)
	y = b.Op("DequantizeLinear", []string{y, ys, yz}, ir.WithInt("axis", 1))
	b.Output(y)
	g.ValueInfo[g.Nodes[0].Outputs[0]] = &ir.ValueInfo{Name: g.Nodes[0].Outputs[0], DType: ir.Uint8,
		Shape: []int{1, cout, 6, 6}, Quant: &ir.Quant{Scale: []float32{0.05}, ZeroPoint: []int32{3}, Axis: 1}}
	// An int64 tensor that is not a multiple of 64 bytes, so the next
	// blob needs padding.
	g.Initializers["i64"] = &ir.Tensor{DType: ir.Int64, Shape: []int{3}, I64: []int64{math.MinInt64, 0, math.MaxInt64}}
	g.Initializers["lut"] = &ir.Tensor{DType: ir.Uint8, Shape: []int{2, 2}, U8: []uint8{0, 1, 254, 255}}
	g.Initializers["odd"] = &ir.Tensor{DType: ir.Int8, Shape: []int{5}, I8: []int8{-128, -1, 0, 1, 127}}
	return &Model{
		Graph: g,
		Meta: map[string]string{
			"quantization":        "int8 per-channel weights, uint8 per-tensor activations",
			"calibration.images":  "512",
			"calibration.method":  "minmax",
			"calibration.top1_fp": "71.88",
		},
	}
}

// bareModel has no nodes, tensors, labels, preprocessing or metadata.
func bareModel() *Model { return &Model{Graph: ir.New("")} }

func testModels() map[string]*Model {
	return map[string]*Model{"float": floatModel(), "quant": quantModel(), "bare": bareModel()}
}

// requireModelsEqual compares everything a file stores. Graph.Format and
// Graph.Source are the reader's, not the file's.
func requireModelsEqual(t testing.TB, want, got *Model) {
	t.Helper()
	requireGraphsEqual(t, want.Graph, got.Graph)
	assert.Equal(t, want.Preprocess, got.Preprocess, "preprocess")
	if len(want.Labels) == 0 {
		assert.Empty(t, got.Labels, "labels")
	} else {
		assert.Equal(t, want.Labels, got.Labels, "labels")
	}
	require.NotNil(t, got.Meta, "meta")
	if len(want.Meta) == 0 {
		assert.Empty(t, got.Meta, "meta")
	} else {
		assert.Equal(t, want.Meta, got.Meta, "meta")
	}
}

// requireGraphsEqual compares graphs structurally (nil and empty lists
// differ) and tensors byte for byte.
func requireGraphsEqual(t testing.TB, want, got *ir.Graph) {
	t.Helper()
	require.Equal(t, "native", got.Format)
	assert.Equal(t, want.Name, got.Name, "name")
	assert.Equal(t, want.Opset, got.Opset, "opset")
	assert.Equal(t, want.Metadata, got.Metadata, "metadata")
	assert.Equal(t, infosBits(want.Inputs), infosBits(got.Inputs), "inputs")
	assert.Equal(t, infosBits(want.Outputs), infosBits(got.Outputs), "outputs")
	require.Equal(t, sortedKeys(want.ValueInfo), sortedKeys(got.ValueInfo), "value info names")
	for k, vi := range want.ValueInfo {
		assert.Equal(t, infoBits(vi), infoBits(got.ValueInfo[k]), "value info %q", k)
	}
	require.Len(t, got.Nodes, len(want.Nodes), "nodes")
	for i, wn := range want.Nodes {
		gn := got.Nodes[i]
		what := fmt.Sprintf("node #%d %s", i, wn.Describe())
		assert.Equal(t, wn.Name, gn.Name, what)
		assert.Equal(t, wn.Op, gn.Op, what)
		assert.Equal(t, wn.Domain, gn.Domain, what)
		assert.Equal(t, wn.Inputs, gn.Inputs, what)
		assert.Equal(t, wn.Outputs, gn.Outputs, what)
		require.Equal(t, wn.Attrs == nil, gn.Attrs == nil, "%s: nil attribute map", what)
		require.Equal(t, sortedKeys(wn.Attrs), sortedKeys(gn.Attrs), what)
		for name, wa := range wn.Attrs {
			ga := gn.Attrs[name]
			if wa.Kind == ir.AttrTensor {
				require.Equal(t, ir.AttrTensor, ga.Kind, "%s attribute %q", what, name)
				requireTensorsEqual(t, wa.T, ga.T, fmt.Sprintf("%s attribute %q", what, name))
				continue
			}
			assert.Equal(t, attrBits(wa), attrBits(ga), "%s attribute %q", what, name)
		}
	}
	require.Equal(t, sortedKeys(want.Initializers), sortedKeys(got.Initializers), "initializer names")
	for name, wt := range want.Initializers {
		requireTensorsEqual(t, wt, got.Initializers[name], fmt.Sprintf("initializer %q", name))
	}
}

// quantBits, infoBits and attrBits make values comparable with floats as
// bits, so that NaN compares equal to NaN.
func quantBits(q *ir.Quant) any {
	if q == nil {
		return nil
	}
	var s []uint32
	for _, f := range q.Scale {
		s = append(s, math.Float32bits(f))
	}
	return []any{s, q.Scale == nil, q.ZeroPoint, q.Axis}
}

func infoBits(vi *ir.ValueInfo) any {
	if vi == nil {
		return nil
	}
	return []any{vi.Name, vi.DType, vi.Shape, quantBits(vi.Quant)}
}

func infosBits(vis []*ir.ValueInfo) any {
	if vis == nil {
		return nil
	}
	out := []any{}
	for _, vi := range vis {
		out = append(out, infoBits(vi))
	}
	return out
}

func attrBits(a *ir.Attr) any {
	c := *a
	fb := math.Float32bits(c.F)
	c.F = 0
	var fl []uint32
	for _, f := range c.Floats {
		fl = append(fl, math.Float32bits(f))
	}
	c.Floats = nil
	return []any{c, fb, fl, a.Floats == nil}
}

func requireTensorsEqual(t testing.TB, want, got *ir.Tensor, what string) {
	t.Helper()
	require.NotNil(t, got, what)
	require.Equal(t, want.DType, got.DType, what)
	require.Equal(t, want.Shape, got.Shape, what)
	require.Equal(t, quantBits(want.Quant), quantBits(got.Quant), what)
	require.NoError(t, got.Validate(), what)
	require.True(t, bytes.Equal(convertBytes2(want), convertBytes2(got)), "%s: data differs", what)
	// Exactly the slice for the type is set.
	v := reflect.ValueOf(*got)
	set := 0
	for _, f := range []string{"F32", "I64", "I32", "I8", "U8"} {
		if !v.FieldByName(f).IsNil() {
			set++
		}
	}
	require.Equal(t, 1, set, "%s: data slices set", what)
}

// convertBytes2 is tensorBytes for every type, computed without unsafe.
func convertBytes2(t *ir.Tensor) []byte {
	switch t.DType {
	case ir.Int8:
		out := make([]byte, len(t.I8))
		for i, v := range t.I8 {
			out[i] = byte(v)
		}
		return out
	case ir.Uint8, ir.Bool:
		return append([]byte{}, t.U8...)
	}
	return convertBytes(t)
}
