package onnx

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// pb builds protobuf messages by hand, field by field, so that tests can
// write both what ONNX exporters write and what they never should.
type pb []byte

func (m pb) tag(num int, typ protowire.Type) pb {
	return protowire.AppendTag(m, protowire.Number(num), typ)
}

func (m pb) varint(num int, v int64) pb {
	return protowire.AppendVarint(m.tag(num, protowire.VarintType), uint64(v))
}

func (m pb) fixed32(num int, v float32) pb {
	return protowire.AppendFixed32(m.tag(num, protowire.Fixed32Type), math.Float32bits(v))
}

func (m pb) fixed64(num int, v float64) pb {
	return protowire.AppendFixed64(m.tag(num, protowire.Fixed64Type), math.Float64bits(v))
}

func (m pb) bytes(num int, b []byte) pb {
	return protowire.AppendBytes(m.tag(num, protowire.BytesType), b)
}

func (m pb) str(num int, s string) pb { return m.bytes(num, []byte(s)) }

func (m pb) packed(num int, vs ...int64) pb {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return m.bytes(num, b)
}

func (m pb) packedFloats(num int, vs ...float32) pb {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed32(b, math.Float32bits(v))
	}
	return m.bytes(num, b)
}

// tensorPB starts a TensorProto with a name, data type and dims.
func tensorPB(name string, dt int64, dims ...int64) pb {
	m := pb(nil).str(8, name).varint(2, dt)
	if len(dims) > 0 {
		m = m.packed(1, dims...)
	}
	return m
}

func kvPB(k, v string) pb { return pb(nil).str(1, k).str(2, v) }

// valueInfoPB builds a tensor ValueInfoProto; a string dim is symbolic, an
// int64 dim is fixed and nil is a dimension with neither.
func valueInfoPB(name string, elem int64, dims ...any) pb {
	shape := pb{}
	for _, d := range dims {
		switch d := d.(type) {
		case string:
			shape = shape.bytes(1, pb(nil).str(2, d))
		case int:
			shape = shape.bytes(1, pb(nil).varint(1, int64(d)))
		default:
			shape = shape.bytes(1, nil)
		}
	}
	tt := pb(nil).varint(1, elem).bytes(2, shape)
	return pb(nil).str(1, name).bytes(2, pb(nil).bytes(1, tt))
}

func modelPB(graph pb) pb {
	return pb(nil).varint(1, 8).str(2, "handmade").str(3, "0.1").
		bytes(8, pb(nil).str(1, "").varint(2, 13)).
		bytes(8, pb(nil).str(1, "com.microsoft").varint(2, 1)).
		bytes(14, kvPB("labels", "labels.txt")).
		bytes(7, graph)
}

// graphWith wraps initializers (and optionally more graph fields) into a
// minimal valid graph with one Identity node.
func graphWith(fields ...pb) pb {
	g := pb(nil).str(2, "g").
		bytes(1, pb(nil).str(1, "x").str(2, "y").str(4, "Identity")).
		bytes(11, valueInfoPB("x", dtFloat, 1)).
		bytes(12, valueInfoPB("y", dtFloat, 1))
	for _, f := range fields {
		g = append(g, f...)
	}
	return g
}

func initializer(t pb) pb { return pb(nil).bytes(5, t) }

func le16s(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

// handModel is a small model exercising every storage form the reader
// supports. dir receives the external data file.
func handModel(t testing.TB, dir string) pb {
	ext := make([]byte, 8, 20)
	for _, v := range []float32{1.5, -2.5, 3.25} {
		ext = binary.LittleEndian.AppendUint32(ext, math.Float32bits(v))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "weights.bin"), ext, 0o644))

	conv := pb(nil).str(1, "x").str(1, "w").str(1, "").str(2, "y").
		str(3, "conv").str(4, "Conv").str(7, "ai.onnx").
		bytes(5, pb(nil).str(1, "group").varint(20, attrInt).varint(3, 1)).
		bytes(5, pb(nil).str(1, "alpha").varint(20, attrFloat).fixed32(2, 0.5)).
		bytes(5, pb(nil).str(1, "auto_pad").varint(20, attrString).str(4, "NOTSET")).
		bytes(5, pb(nil).str(1, "pads").varint(20, attrInts).packed(8, 0, 1, -1, 2)).
		bytes(5, pb(nil).str(1, "strides").varint(20, attrInts).varint(8, 2).varint(8, 3)).
		bytes(5, pb(nil).str(1, "scales").varint(20, attrFloats).packedFloats(7, 1.5, 2)).
		bytes(5, pb(nil).str(1, "names").varint(20, attrStrings).str(9, "a").str(9, "b")).
		bytes(5, pb(nil).str(1, "empty").varint(20, attrInts)).
		bytes(5, pb(nil).str(1, "value").varint(20, attrTensor).bytes(5, tensorPB("v", dtInt64, 1).packed(7, 3))).
		bytes(5, pb(nil).str(1, "body").varint(20, attrGraph).bytes(6, graphWith())).
		bytes(5, pb(nil).str(1, "untyped").varint(3, 7))
	custom := pb(nil).str(1, "y").str(2, "z").str(4, "FusedX").str(7, "com.microsoft")

	g := pb(nil).str(2, "tiny").
		bytes(1, conv).
		bytes(1, custom).
		bytes(11, valueInfoPB("x", dtFloat, "N", 3, nil, 4)).
		bytes(11, valueInfoPB("w", dtFloat16, 2, 2)).
		bytes(11, pb(nil).str(1, "seq").bytes(2, pb(nil).bytes(4, nil))).
		bytes(12, valueInfoPB("z", dtFloat, "N", 1)).
		bytes(13, valueInfoPB("y", dtFloat)).
		bytes(13, pb(nil).str(1, "noshape").bytes(2, pb(nil).bytes(1, pb(nil).varint(1, dtInt64))))
	for _, init := range []pb{
		// 1, -2, 0.5, 65504 (largest half), smallest subnormal, -inf
		tensorPB("w", dtFloat16, 2, 3).bytes(9, le16s(0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0xfc00)),
		tensorPB("q", dtInt8, 4).packed(5, -128, -1, 0, 127),
		tensorPB("u8", dtUint8, 2).varint(5, 0).varint(5, 255),
		tensorPB("ext", dtFloat, 3).varint(14, 1).
			bytes(13, kvPB("location", "weights.bin")).
			bytes(13, kvPB("offset", "8")).
			bytes(13, kvPB("length", "12")),
		tensorPB("shape", dtInt64, 2).varint(7, 1).varint(7, -1),
		tensorPB("d", dtDouble).fixed64(10, 0.1),
		tensorPB("b", dtBool, 3).bytes(9, []byte{0, 2, 1}),
		tensorPB("i16", dtInt16, 2).bytes(9, le16s(0xfffe, 7)),
		tensorPB("u16", dtUint16, 1).packed(5, 65535),
		tensorPB("u32", dtUint32, 1).packed(11, 4000000000),
		tensorPB("bf", dtBfloat16, 1).packed(5, 0x3f80),
		tensorPB("i32", dtInt32, 2).bytes(9, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0xffffffff), 5)),
		tensorPB("f", dtFloat, 2).fixed32(4, 1).fixed32(4, -1),
		tensorPB("empty", dtFloat, 0),
	} {
		g = append(g, initializer(init)...)
	}
	return modelPB(g)
}

func TestParseHandBuilt(t *testing.T) {
	dir := t.TempDir()
	g, err := Parse(handModel(t, dir), dir)
	require.NoError(t, err)

	assert.Equal(t, "tiny", g.Name)
	assert.Equal(t, "onnx", g.Format)
	assert.Equal(t, "", g.Source)
	assert.Equal(t, 13, g.Opset)
	assert.Equal(t, map[string]string{
		"labels": "labels.txt", "producer_name": "handmade", "producer_version": "0.1", "ir_version": "8",
	}, g.Metadata)

	// w is both an input and an initializer: a constant, not an input.
	require.Len(t, g.Inputs, 2)
	assert.Equal(t, &ir.ValueInfo{Name: "x", DType: ir.Float32, Shape: []int{-1, 3, -1, 4}}, g.Inputs[0])
	assert.Equal(t, &ir.ValueInfo{Name: "seq"}, g.Inputs[1])
	assert.Equal(t, []*ir.ValueInfo{{Name: "z", DType: ir.Float32, Shape: []int{-1, 1}}}, g.Outputs)
	assert.Equal(t, map[string]*ir.ValueInfo{
		"y":       {Name: "y", DType: ir.Float32, Shape: []int{}},
		"noshape": {Name: "noshape", DType: ir.Int64},
	}, g.ValueInfo)

	inf := float32(math.Inf(-1))
	want := map[string]*ir.Tensor{
		"w":     {DType: ir.Float32, Shape: []int{2, 3}, F32: []float32{1, -2, 0.5, 65504, 1.0 / (1 << 24), inf}},
		"q":     {DType: ir.Int8, Shape: []int{4}, I8: []int8{-128, -1, 0, 127}},
		"u8":    {DType: ir.Uint8, Shape: []int{2}, U8: []uint8{0, 255}},
		"ext":   {DType: ir.Float32, Shape: []int{3}, F32: []float32{1.5, -2.5, 3.25}},
		"shape": {DType: ir.Int64, Shape: []int{2}, I64: []int64{1, -1}},
		"d":     {DType: ir.Float32, Shape: []int{}, F32: []float32{0.1}},
		"b":     {DType: ir.Bool, Shape: []int{3}, U8: []uint8{0, 1, 1}},
		"i16":   {DType: ir.Int32, Shape: []int{2}, I32: []int32{-2, 7}},
		"u16":   {DType: ir.Int32, Shape: []int{1}, I32: []int32{65535}},
		"u32":   {DType: ir.Int64, Shape: []int{1}, I64: []int64{4000000000}},
		"bf":    {DType: ir.Float32, Shape: []int{1}, F32: []float32{1}},
		"i32":   {DType: ir.Int32, Shape: []int{2}, I32: []int32{-1, 5}},
		"f":     {DType: ir.Float32, Shape: []int{2}, F32: []float32{1, -1}},
		"empty": {DType: ir.Float32, Shape: []int{0}, F32: []float32{}},
	}
	assert.Equal(t, want, g.Initializers)

	require.Len(t, g.Nodes, 2)
	conv := g.Nodes[0]
	assert.Equal(t, "conv", conv.Name)
	assert.Equal(t, "Conv", conv.Op)
	assert.Equal(t, "", conv.Domain, `"ai.onnx" is the default domain`)
	assert.Equal(t, []string{"x", "w", ""}, conv.Inputs)
	assert.Equal(t, []string{"y"}, conv.Outputs)
	assert.Equal(t, map[string]*ir.Attr{
		"group":    {Kind: ir.AttrInt, I: 1},
		"alpha":    {Kind: ir.AttrFloat, F: 0.5},
		"auto_pad": {Kind: ir.AttrString, S: "NOTSET"},
		"pads":     {Kind: ir.AttrInts, Ints: []int64{0, 1, -1, 2}},
		"strides":  {Kind: ir.AttrInts, Ints: []int64{2, 3}},
		"scales":   {Kind: ir.AttrFloats, Floats: []float32{1.5, 2}},
		"names":    {Kind: ir.AttrStrings, Strings: []string{"a", "b"}},
		"empty":    {Kind: ir.AttrInts, Ints: []int64{}},
		"value":    {Kind: ir.AttrTensor, T: &ir.Tensor{DType: ir.Int64, Shape: []int{1}, I64: []int64{3}}},
		"untyped":  {Kind: ir.AttrInt, I: 7},
	}, conv.Attrs, "graph attribute skipped, untyped attribute inferred")
	assert.Equal(t, &ir.Node{Op: "FusedX", Domain: "com.microsoft", Inputs: []string{"y"}, Outputs: []string{"z"}}, g.Nodes[1])
}

func TestLoadNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.onnx")
	bad := modelPB(graphWith(initializer(tensorPB("w", dtFloat, 2).bytes(9, []byte{1, 2, 3, 4}))))
	require.NoError(t, os.WriteFile(path, bad, 0o644))
	_, err := Load(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "onnx "+path+": ")
	assert.Contains(t, err.Error(), `initializer "w"`)
	assert.Contains(t, err.Error(), "raw_data has 4 bytes, want 8")

	g, err := Load(filepath.Join(dir, "missing.onnx"))
	assert.Nil(t, g)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret.bin")
	require.NoError(t, os.WriteFile(secret, make([]byte, 16), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.bin"), make([]byte, 16), 0o644))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "link.bin")))

	extPB := func(loc string, kv ...pb) pb {
		m := tensorPB("e", dtFloat, 4).varint(14, 1).bytes(13, kvPB("location", loc))
		for _, f := range kv {
			m = m.bytes(13, f)
		}
		return m
	}
	node := func(n pb) pb { return modelPB(graphWith(pb(nil).bytes(1, n))) }
	init := func(tp pb) pb { return modelPB(graphWith(initializer(tp))) }

	tests := []struct {
		name        string
		data        pb
		dir         string
		want        string
		unsupported bool
	}{
		{name: "empty file", data: nil, want: "model has no graph"},
		{name: "truncated varint", data: pb{0x08, 0x80}, want: "unexpected EOF"},
		{name: "length beyond input", data: append(pb(nil).tag(7, protowire.BytesType).bytesLen(1000), "abc"...), want: "field 7: unexpected EOF"},
		{name: "graph as varint", data: pb(nil).varint(7, 1), want: "unexpected wire type"},
		{name: "field number zero", data: pb{0x00, 0x01}, want: "invalid field number"},
		{name: "raw size", data: init(tensorPB("w", dtFloat, 3).bytes(9, make([]byte, 8))), want: `initializer "w": raw_data has 8 bytes, want 12`},
		{name: "negative dim", data: init(tensorPB("w", dtFloat, 2, -1).bytes(9, nil)), want: `initializer "w": negative dimension`},
		{name: "dims overflow", data: init(tensorPB("w", dtFloat, 1<<40, 1<<40).bytes(9, nil)), want: "too many elements"},
		{name: "bytes overflow", data: init(tensorPB("w", dtInt64, 1<<61).bytes(9, nil)), want: "too many elements"},
		{name: "huge dims little data", data: init(tensorPB("w", dtFloat, 1<<28).fixed32(4, 1)), want: "float_data has 1 elements, want 268435456"},
		{name: "int32_data count", data: init(tensorPB("w", dtInt8, 3).packed(5, 1, 2)), want: "int32_data has 2 elements, want 3"},
		{name: "no data", data: init(tensorPB("w", dtInt64, 2)), want: "int64_data has 0 elements, want 2"},
		{name: "packed floats length", data: init(tensorPB("w", dtFloat, 1).bytes(4, []byte{1, 2, 3})), want: "float_data (4): packed length"},
		{name: "bad packed varint", data: init(tensorPB("w", dtInt64, 1).bytes(7, []byte{0x80})), want: "int64_data (7)"},
		{name: "uint64 too large", data: init(tensorPB("w", dtUint64, 1).packed(11, -1)), want: "does not fit int64"},
		{name: "string tensor", data: init(tensorPB("s", dtString, 1).str(6, "hi")), want: `initializer "s": STRING tensor`, unsupported: true},
		{name: "complex tensor", data: init(tensorPB("c", dtComplex64, 1).packedFloats(4, 1, 2)), want: "COMPLEX64 tensor", unsupported: true},
		{name: "unknown dtype", data: init(tensorPB("c", 99, 1)), want: "data type 99 tensor", unsupported: true},
		{name: "segmented", data: init(tensorPB("w", dtFloat, 1).bytes(3, nil).fixed32(4, 1)), want: "segmented", unsupported: true},
		{name: "sparse initializer", data: modelPB(graphWith(pb(nil).bytes(15, nil))), want: "sparse_initializer", unsupported: true},
		{name: "unnamed initializer", data: init(tensorPB("", dtFloat, 1).fixed32(4, 1)), want: "initializer #0 has no name"},
		{name: "duplicate initializer", data: modelPB(graphWith(initializer(tensorPB("w", dtFloat).fixed32(4, 1)), initializer(tensorPB("w", dtFloat).fixed32(4, 1)))), want: `initializer "w": duplicate`},
		{name: "unknown location", data: init(tensorPB("w", dtFloat, 1).varint(14, 7)), want: "data_location 7"},
		{name: "external without dir", data: init(extPB("data.bin")), want: "no model directory"},
		{name: "external dotdot", data: init(extPB("../data.bin")), dir: dir, want: "escapes the model directory"},
		{name: "external absolute", data: init(extPB(secret)), dir: dir, want: "escapes the model directory"},
		{name: "external symlink out", data: init(extPB("link.bin")), dir: dir, want: "path escapes from parent"},
		{name: "external missing", data: init(extPB("nope.bin")), dir: dir, want: "no such file"},
		{name: "external no location", data: init(tensorPB("e", dtFloat, 4).varint(14, 1)), dir: dir, want: "no location"},
		{name: "external offset beyond", data: init(extPB("data.bin", kvPB("offset", "17"))), dir: dir, want: "beyond its size"},
		{name: "external length beyond", data: init(extPB("data.bin", kvPB("offset", "8"), kvPB("length", "16"))), dir: dir, want: "beyond its size"},
		{name: "external length wrong", data: init(extPB("data.bin", kvPB("offset", "8"))), dir: dir, want: "length 8, want 16"},
		{name: "external bad offset", data: init(extPB("data.bin", kvPB("offset", "-1"))), dir: dir, want: "not a non-negative integer"},
		{name: "external and raw", data: init(extPB("data.bin").bytes(9, make([]byte, 16))), dir: dir, want: "also has raw_data"},
		{name: "node name as varint", data: node(pb(nil).str(4, "Relu").varint(3, 5)), want: `Relu node (output "")`},
		{name: "attribute without type", data: node(pb(nil).str(4, "Relu").str(3, "r").bytes(5, pb(nil).str(1, "a"))), want: `Relu node "r": attribute "a": attribute has no type`},
		{name: "attribute without name", data: node(pb(nil).str(4, "Relu").bytes(5, pb(nil).varint(20, attrInt).varint(3, 1))), want: "attribute #0 has no name"},
		{name: "duplicate attribute", data: node(pb(nil).str(4, "Relu").bytes(5, pb(nil).str(1, "a").varint(3, 1)).bytes(5, pb(nil).str(1, "a").varint(3, 1))), want: `attribute "a": duplicate`},
		{name: "unknown attribute type", data: node(pb(nil).str(4, "Relu").bytes(5, pb(nil).str(1, "a").varint(20, 99))), want: "unknown attribute type 99"},
		{name: "tensor attribute missing", data: node(pb(nil).str(4, "Constant").bytes(5, pb(nil).str(1, "value").varint(20, attrTensor))), want: "has no tensor"},
		{name: "bad tensor attribute", data: node(pb(nil).str(4, "Constant").bytes(5, pb(nil).str(1, "value").varint(20, attrTensor).bytes(5, tensorPB("c", dtFloat, 2)))), want: `attribute "value": tensor "c": float_data has 0 elements`},
		{name: "float attribute as varint", data: node(pb(nil).str(4, "Elu").bytes(5, pb(nil).str(1, "alpha").varint(20, attrFloat).varint(2, 1))), want: "field f (2): unexpected wire type"},
		{name: "negative input dim", data: modelPB(graphWith(pb(nil).bytes(11, valueInfoPB("in", dtFloat, -3)))), want: `input "in": dimension -3 out of range`},
		{name: "bad output", data: modelPB(graphWith(pb(nil).bytes(12, pb(nil).str(1, "out").varint(2, 1)))), want: `output "out": field type (2): unexpected wire type`},
		{name: "negative opset", data: pb(nil).bytes(8, pb(nil).varint(2, -1)), want: "negative version"},
		{name: "opset too large", data: pb(nil).bytes(8, pb(nil).varint(2, 1<<40)).bytes(7, graphWith()), want: "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Parse(tc.data, tc.dir)
			require.Error(t, err)
			assert.Nil(t, g)
			assert.Contains(t, err.Error(), tc.want)
			assert.Regexp(t, "^onnx: ", err.Error())
			assert.Equal(t, tc.unsupported, errors.Is(err, ErrUnsupported), "errors.Is(err, ErrUnsupported)")
		})
	}
}

// bytesLen appends a length prefix without the bytes it promises.
func (m pb) bytesLen(n uint64) pb { return protowire.AppendVarint(m, n) }

// TestCorruptNeverPanics feeds every truncation and many single-byte
// corruptions of valid models to the parser: each must return (an error or
// a valid graph), never panic.
func TestCorruptNeverPanics(t *testing.T) {
	dir := t.TempDir()
	seeds := [][]byte{handModel(t, dir)}
	for _, name := range []string{"test_conv_with_strides_padding", "test_constantofshape_float_ones"} {
		// Optional extra seeds: this test must also run without shared data.
		if data, err := os.ReadFile(filepath.Join(sharedPath(), "onnx-conformance", "node", name, "model.onnx")); err == nil {
			seeds = append(seeds, data)
		}
	}
	for _, seed := range seeds {
		for i := range seed {
			checkParse(t, seed[:i], dir)
			for _, v := range []byte{0x00, 0x7f, 0x80, 0xff} {
				c := append([]byte(nil), seed...)
				c[i] = v
				checkParse(t, c, dir)
			}
		}
	}
}

// checkParse parses data and, when it succeeds, checks that every tensor
// the reader produced is consistent with its shape.
func checkParse(t testing.TB, data []byte, dir string) {
	g, err := Parse(data, dir)
	if err != nil {
		return
	}
	for name, tensor := range g.Initializers {
		if err := tensor.Validate(); err != nil {
			t.Fatalf("initializer %q of a parsed model is invalid: %v", name, err)
		}
	}
	for _, n := range g.Nodes {
		for name, a := range n.Attrs {
			if a.Kind == ir.AttrTensor && a.T.Validate() != nil {
				t.Fatalf("%s attribute %q is invalid: %v", n.Describe(), name, a.T.Validate())
			}
		}
	}
}

func TestParseTensorProto(t *testing.T) {
	name, tensor, err := ParseTensorProto(tensorPB("x", dtFloat16, 1, 2).packed(5, 0x3c00, 0xbc00))
	require.NoError(t, err)
	assert.Equal(t, "x", name)
	assert.Equal(t, &ir.Tensor{DType: ir.Float32, Shape: []int{1, 2}, F32: []float32{1, -1}}, tensor)

	_, _, err = ParseTensorProto(tensorPB("x", dtFloat, 2).fixed32(4, 1))
	assert.EqualError(t, err, `onnx: tensor "x": float_data has 1 elements, want 2 for FLOAT[2]`)

	_, _, err = ParseTensorProto(pb{0x42, 0x05})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "onnx: tensor: ")

	dir := t.TempDir()
	path := filepath.Join(dir, "input_0.pb")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t.bin"), le16s(0x4000), 0o644))
	require.NoError(t, os.WriteFile(path, tensorPB("y", dtFloat16, 1).varint(14, 1).bytes(13, kvPB("location", "t.bin")), 0o644))
	name, tensor, err = ReadTensorProtoFile(path)
	require.NoError(t, err)
	assert.Equal(t, "y", name)
	assert.Equal(t, []float32{2}, tensor.F32)

	require.NoError(t, os.WriteFile(path, tensorPB("y", dtFloat, -1), 0o644))
	_, _, err = ReadTensorProtoFile(path)
	assert.ErrorContains(t, err, "onnx "+path+`: tensor "y": negative dimension`)
}

func TestHalfToFloat32(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},
		{0x0400, 1.0 / (1 << 14)},       // smallest normal
		{0x03ff, 1023.0 / (1 << 24)},    // largest subnormal
		{0x8001, -1.0 / (1 << 24)},      // smallest negative subnormal
		{0x7c00, float32(math.Inf(1))},  // +inf
		{0xfc00, float32(math.Inf(-1))}, // -inf
		{0x8000, float32(math.Copysign(0, -1))},
	}
	for _, tc := range tests {
		got := halfToFloat32(tc.h)
		assert.Equal(t, math.Float32bits(tc.want), math.Float32bits(got), "half %#04x: got %v want %v", tc.h, got, tc.want)
	}
	assert.True(t, math.IsNaN(float64(halfToFloat32(0x7e00))))
}
