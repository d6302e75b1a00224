package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Metadata keys that Marshal writes as ModelProto fields rather than as
// metadata_props (the keys Parse puts them under).
const (
	metaProducer        = "producer_name"
	metaProducerVersion = "producer_version"
	metaIRVersion       = "ir_version"
)

// irVersions is the lowest ONNX IR version that may import each
// default-domain opset (onnx/helper.py's VERSION_TABLE): a file claims no
// newer IR than its opset needs, so older checkers and runtimes accept it.
var irVersions = []struct{ opset, ir int }{
	{8, 3}, {9, 4}, {10, 5}, {11, 6}, {14, 7}, {18, 8}, {20, 9}, {21, 10}, {23, 11},
}

func irVersionFor(opset int) int64 {
	for _, v := range irVersions {
		if opset <= v.opset {
			return int64(v.ir)
		}
	}
	return int64(irVersions[len(irVersions)-1].ir)
}

// Marshal serialises g as an ONNX ModelProto: the inverse of Parse for
// graphs in ONNX semantics. g.Opset is imported for the default domain
// (it must be set), and version 1 of every other domain a node uses. The
// IR version is the lowest that allows that opset. Initializers are
// written in name order with their data in raw_data (little-endian);
// graph inputs, outputs and value_info keep their element types and
// shapes (-1 is an unknown dimension, a nil shape an unknown rank).
// g.Metadata becomes metadata_props, except "producer_name" and
// "producer_version", which fill the model's fields ("edgeinfer" when
// absent), and "ir_version", which is not copied.
//
// Marshal writes what the IR holds and checks only what would make the
// file unreadable (a tensor whose data does not match its shape, an
// attribute or data type ONNX cannot express); it does not validate
// operator semantics.
func Marshal(g *ir.Graph) ([]byte, error) {
	if g.Opset <= 0 {
		return nil, errors.New("onnx: marshal: the graph has no default-domain opset (Graph.Opset)")
	}
	graph, err := encodeGraph(g, irVersionFor(g.Opset))
	if err != nil {
		return nil, fmt.Errorf("onnx: marshal: %w", err)
	}
	var b []byte
	b = appendVarintField(b, 1, uint64(irVersionFor(g.Opset)))
	producer := g.Metadata[metaProducer]
	if producer == "" {
		producer = "edgeinfer"
	}
	b = appendStringField(b, 2, producer)
	if v := g.Metadata[metaProducerVersion]; v != "" {
		b = appendStringField(b, 3, v)
	}
	b = appendBytesField(b, 7, graph)
	b = appendBytesField(b, 8, opsetIDBytes("", int64(g.Opset)))
	domains := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Domain != "" && n.Domain != "ai.onnx" {
			domains[n.Domain] = true
		}
	}
	for _, d := range sortedKeys(domains) {
		b = appendBytesField(b, 8, opsetIDBytes(d, 1))
	}
	for _, k := range sortedKeys(g.Metadata) {
		if k == metaProducer || k == metaProducerVersion || k == metaIRVersion {
			continue
		}
		var e []byte
		e = appendStringField(e, 1, k)
		e = appendStringField(e, 2, g.Metadata[k])
		b = appendBytesField(b, 14, e)
	}
	return b, nil
}

// Save writes g to path as an ONNX file (see Marshal), replacing the file
// atomically: the model goes to a temporary file in the same directory
// that is renamed over path once complete.
func Save(path string, g *ir.Graph) (err error) {
	data, err := Marshal(g)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// CreateTemp makes the file private; a model is an ordinary file.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("onnx: write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("onnx: write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func opsetIDBytes(domain string, version int64) []byte {
	var b []byte
	if domain != "" {
		b = appendStringField(b, 1, domain)
	}
	return appendVarintField(b, 2, uint64(version))
}

// encodeGraph writes a GraphProto. Before IR version 4 every initializer
// must also be declared as a graph input; Parse leaves those out again.
func encodeGraph(g *ir.Graph, irVersion int64) ([]byte, error) {
	var b []byte
	for i, n := range g.Nodes {
		nb, err := encodeNode(n)
		if err != nil {
			return nil, fmt.Errorf("node #%d: %w", i, err)
		}
		b = appendBytesField(b, 1, nb)
	}
	name := g.Name
	if name == "" {
		name = "graph"
	}
	b = appendStringField(b, 2, name)
	for _, k := range sortedKeys(g.Initializers) {
		tb, err := encodeTensor(k, g.Initializers[k])
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %w", k, err)
		}
		b = appendBytesField(b, 5, tb)
	}
	for _, list := range []struct {
		num   protowire.Number
		infos []*ir.ValueInfo
	}{{11, g.Inputs}, {12, g.Outputs}} {
		for _, vi := range list.infos {
			vb, err := encodeValueInfo(vi)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", graphMessages[list.num], vi.Name, err)
			}
			b = appendBytesField(b, list.num, vb)
		}
		if list.num == 11 && irVersion < 4 {
			for _, k := range sortedKeys(g.Initializers) {
				t := g.Initializers[k]
				vb, err := encodeValueInfo(&ir.ValueInfo{Name: k, DType: t.DType, Shape: t.Shape})
				if err != nil {
					return nil, fmt.Errorf("initializer %q: %w", k, err)
				}
				b = appendBytesField(b, 11, vb)
			}
		}
	}
	for _, k := range sortedKeys(g.ValueInfo) {
		vi := g.ValueInfo[k]
		if vi.DType == ir.Undefined && vi.Shape == nil {
			continue // nothing to say
		}
		vb, err := encodeValueInfo(vi)
		if err != nil {
			return nil, fmt.Errorf("value_info %q: %w", k, err)
		}
		b = appendBytesField(b, 13, vb)
	}
	return b, nil
}

func encodeNode(n *ir.Node) ([]byte, error) {
	if n.Op == "" {
		return nil, errors.New("node has no op type")
	}
	var b []byte
	for _, in := range n.Inputs {
		b = appendStringField(b, 1, in)
	}
	for _, out := range n.Outputs {
		b = appendStringField(b, 2, out)
	}
	if n.Name != "" {
		b = appendStringField(b, 3, n.Name)
	}
	b = appendStringField(b, 4, n.Op)
	for _, k := range sortedKeys(n.Attrs) {
		ab, err := encodeAttr(k, n.Attrs[k])
		if err != nil {
			return nil, fmt.Errorf("%s: attribute %q: %w", n.Describe(), k, err)
		}
		b = appendBytesField(b, 5, ab)
	}
	if n.Domain != "" {
		b = appendStringField(b, 7, n.Domain)
	}
	return b, nil
}

func encodeAttr(name string, a *ir.Attr) ([]byte, error) {
	var b []byte
	b = appendStringField(b, 1, name)
	var typ uint64
	switch a.Kind {
	case ir.AttrFloat:
		typ = attrFloat
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case ir.AttrInt:
		typ = attrInt
		b = appendVarintField(b, 3, uint64(a.I))
	case ir.AttrString:
		typ = attrString
		b = appendStringField(b, 4, a.S)
	case ir.AttrTensor:
		typ = attrTensor
		if a.T == nil {
			return nil, errors.New("TENSOR attribute has no tensor")
		}
		tb, err := encodeTensor("", a.T)
		if err != nil {
			return nil, err
		}
		b = appendBytesField(b, 5, tb)
	case ir.AttrFloats:
		typ = attrFloats
		if len(a.Floats) > 0 {
			p := make([]byte, 0, 4*len(a.Floats))
			for _, f := range a.Floats {
				p = binary.LittleEndian.AppendUint32(p, math.Float32bits(f))
			}
			b = appendBytesField(b, 7, p)
		}
	case ir.AttrInts:
		typ = attrInts
		if len(a.Ints) > 0 {
			var p []byte
			for _, v := range a.Ints {
				p = protowire.AppendVarint(p, uint64(v))
			}
			b = appendBytesField(b, 8, p)
		}
	case ir.AttrStrings:
		typ = attrStrings
		for _, s := range a.Strings {
			b = appendStringField(b, 9, s)
		}
	default:
		return nil, fmt.Errorf("unknown attribute kind %d", a.Kind)
	}
	return appendVarintField(b, 20, typ), nil
}

// onnxDataType maps an IR element type to ONNX's TensorProto.DataType.
func onnxDataType(dt ir.DType) (int64, error) {
	switch dt {
	case ir.Float32:
		return dtFloat, nil
	case ir.Int8:
		return dtInt8, nil
	case ir.Uint8:
		return dtUint8, nil
	case ir.Int32:
		return dtInt32, nil
	case ir.Int64:
		return dtInt64, nil
	case ir.Bool:
		return dtBool, nil
	}
	return 0, fmt.Errorf("%s has no ONNX data type", dt)
}

// encodeTensor writes a TensorProto with raw_data. Quantisation
// parameters (Tensor.Quant) are not part of a TensorProto: a QDQ model
// carries them as DequantizeLinear operands.
func encodeTensor(name string, t *ir.Tensor) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	dt, err := onnxDataType(t.DType)
	if err != nil {
		return nil, err
	}
	var b []byte
	if len(t.Shape) > 0 {
		var p []byte
		for _, d := range t.Shape {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendBytesField(b, 1, p)
	}
	b = appendVarintField(b, 2, uint64(dt))
	if name != "" {
		b = appendStringField(b, 8, name)
	}
	raw := make([]byte, 0, t.Len()*t.DType.Size())
	switch t.DType {
	case ir.Float32:
		for _, v := range t.F32 {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	case ir.Int8:
		for _, v := range t.I8 {
			raw = append(raw, byte(v))
		}
	case ir.Uint8, ir.Bool:
		raw = append(raw, t.U8...)
	case ir.Int32:
		for _, v := range t.I32 {
			raw = binary.LittleEndian.AppendUint32(raw, uint32(v))
		}
	case ir.Int64:
		for _, v := range t.I64 {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	}
	return appendBytesField(b, 9, raw), nil
}

func encodeValueInfo(vi *ir.ValueInfo) ([]byte, error) {
	if vi.Name == "" {
		return nil, errors.New("value has no name")
	}
	var b []byte
	b = appendStringField(b, 1, vi.Name)
	var tt []byte
	if vi.DType != ir.Undefined {
		dt, err := onnxDataType(vi.DType)
		if err != nil {
			return nil, err
		}
		tt = appendVarintField(tt, 1, uint64(dt))
	}
	if vi.Shape != nil {
		shape := []byte{}
		for _, d := range vi.Shape {
			var dim []byte
			if d >= 0 {
				dim = appendVarintField(dim, 1, uint64(d))
			}
			shape = appendBytesField(shape, 1, dim)
		}
		tt = appendBytesField(tt, 2, shape)
	}
	var typ []byte
	typ = appendBytesField(typ, 1, tt)
	return appendBytesField(b, 2, typ), nil
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}
