// Package ir is the graph intermediate representation shared by the model
// readers (ONNX, TFLite, the zoo builders), the runtime and the quantizer.
//
// Operator semantics are ONNX's (default domain, the newest opset the
// readers accept): tensors are logically NCHW for images, node attributes
// carry ONNX names and types, and optional inputs that are absent are the
// empty string. Readers of other formats translate into these semantics
// (the TFLite reader, for instance, wraps its NHWC tensors in Transpose
// nodes that the runtime's layout pass removes again). Keeping one set of
// semantics means one shape-inference and one lowering path in the runtime.
package ir

import (
	"fmt"
	"sort"
)

// DType is the element type of a tensor.
type DType uint8

// Element types. Readers convert float16/float64 constants to Float32 and
// int16/uint16/uint32 to Int32 or Int64 where a CNN can need them.
const (
	Undefined DType = iota
	Float32
	Int8
	Uint8
	Int32
	Int64
	Bool
)

var dtypeNames = [...]string{"undefined", "float32", "int8", "uint8", "int32", "int64", "bool"}

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the size of one element in bytes.
func (d DType) Size() int {
	switch d {
	case Float32, Int32:
		return 4
	case Int64:
		return 8
	case Int8, Uint8, Bool:
		return 1
	}
	return 0
}

// Quant holds affine quantisation parameters: real = Scale·(q − ZeroPoint).
// Per-tensor quantisation has one Scale; per-channel quantisation has one
// Scale (and ZeroPoint) per index of dimension Axis.
type Quant struct {
	Scale     []float32
	ZeroPoint []int32
	Axis      int
}

// PerChannel reports whether q has more than one scale.
func (q *Quant) PerChannel() bool { return q != nil && len(q.Scale) > 1 }

// Tensor is a constant: an initializer, a Constant node's value or a folded
// result. Exactly one of the data slices matching DType is set (Bool uses
// U8). Data is in row-major order of Shape; a scalar has an empty Shape and
// one element.
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	I64   []int64
	I32   []int32
	I8    []int8
	U8    []uint8
	Quant *Quant
}

// NumElements is the product of the shape (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements held in the data slice for t.DType.
func (t *Tensor) Len() int {
	switch t.DType {
	case Float32:
		return len(t.F32)
	case Int64:
		return len(t.I64)
	case Int32:
		return len(t.I32)
	case Int8:
		return len(t.I8)
	case Uint8, Bool:
		return len(t.U8)
	}
	return 0
}

// Validate checks that the data slice matches DType and Shape.
func (t *Tensor) Validate() error {
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", t.Shape)
		}
	}
	if n := NumElements(t.Shape); t.Len() != n {
		return fmt.Errorf("%s tensor of shape %v has %d elements, want %d", t.DType, t.Shape, t.Len(), n)
	}
	return nil
}

// Ints returns integer tensor data (int64, int32, int8, uint8, bool) as
// int64s, and float data truncated; shape ops use it for their operands.
func (t *Tensor) Ints() []int64 {
	out := make([]int64, t.Len())
	switch t.DType {
	case Int64:
		copy(out, t.I64)
	case Int32:
		for i, v := range t.I32 {
			out[i] = int64(v)
		}
	case Int8:
		for i, v := range t.I8 {
			out[i] = int64(v)
		}
	case Uint8, Bool:
		for i, v := range t.U8 {
			out[i] = int64(v)
		}
	case Float32:
		for i, v := range t.F32 {
			out[i] = int64(v)
		}
	}
	return out
}

// Floats returns the data converted to float32 (quantised data is not
// dequantised; use Dequantize for that).
func (t *Tensor) Floats() []float32 {
	if t.DType == Float32 {
		return t.F32
	}
	ints := t.Ints()
	out := make([]float32, len(ints))
	for i, v := range ints {
		out[i] = float32(v)
	}
	return out
}

// AttrKind says which field of an Attr is set.
type AttrKind uint8

// Attribute kinds, as in ONNX's AttributeProto.
const (
	AttrInt AttrKind = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
	AttrStrings
	AttrTensor
)

// Attr is one node attribute.
type Attr struct {
	Kind    AttrKind
	I       int64
	F       float32
	S       string
	Ints    []int64
	Floats  []float32
	Strings []string
	T       *Tensor
}

// Node is one operator application.
type Node struct {
	Name    string
	Op      string // ONNX op type, e.g. "Conv"
	Domain  string // "" for the default ONNX domain
	Inputs  []string
	Outputs []string
	Attrs   map[string]*Attr
}

// ValueInfo describes a graph input, output or intermediate value.
// A dimension of -1 is unknown.
type ValueInfo struct {
	Name  string
	DType DType
	Shape []int
	Quant *Quant
}

// Graph is a model: nodes in any order (the runtime sorts them), constants
// and the declared inputs and outputs.
type Graph struct {
	Name   string
	Source string // file the graph was read from, for error messages
	Format string // "onnx", "tflite", "zoo", "native"
	Opset  int    // default-domain opset (ONNX); 0 when not applicable

	Inputs       []*ValueInfo // graph inputs that are not initializers
	Outputs      []*ValueInfo
	Initializers map[string]*Tensor
	Nodes        []*Node
	ValueInfo    map[string]*ValueInfo // optional shape/type hints for other values

	// Metadata holds reader-specific key/value pairs (producer, labels
	// file name, preprocessing hints).
	Metadata map[string]string
}

// New returns an empty graph with its maps allocated.
func New(name string) *Graph {
	return &Graph{
		Name:         name,
		Initializers: map[string]*Tensor{},
		ValueInfo:    map[string]*ValueInfo{},
		Metadata:     map[string]string{},
	}
}

// Int returns the integer attribute name, or def when absent.
func (n *Node) Int(name string, def int64) int64 {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrInt {
		return a.I
	}
	return def
}

// Float returns the float attribute name, or def when absent.
func (n *Node) Float(name string, def float32) float32 {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrFloat {
		return a.F
	}
	return def
}

// String returns the string attribute name, or def when absent.
func (n *Node) String(name, def string) string {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrString {
		return a.S
	}
	return def
}

// Ints returns the integer-list attribute name, or nil when absent.
func (n *Node) Ints(name string) []int64 {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrInts {
		return a.Ints
	}
	return nil
}

// Floats returns the float-list attribute name, or nil when absent.
func (n *Node) Floats(name string) []float32 {
	if a, ok := n.Attrs[name]; ok && a.Kind == AttrFloats {
		return a.Floats
	}
	return nil
}

// Has reports whether attribute name is present.
func (n *Node) Has(name string) bool { _, ok := n.Attrs[name]; return ok }

// Input returns input i, or "" when the node has fewer inputs.
func (n *Node) Input(i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// SetInt sets an integer attribute (used by builders and passes).
func (n *Node) SetInt(name string, v int64) { n.setAttr(name, &Attr{Kind: AttrInt, I: v}) }

// SetFloat sets a float attribute.
func (n *Node) SetFloat(name string, v float32) { n.setAttr(name, &Attr{Kind: AttrFloat, F: v}) }

// SetString sets a string attribute.
func (n *Node) SetString(name, v string) { n.setAttr(name, &Attr{Kind: AttrString, S: v}) }

// SetInts sets an integer-list attribute.
func (n *Node) SetInts(name string, v ...int64) { n.setAttr(name, &Attr{Kind: AttrInts, Ints: v}) }

// SetFloats sets a float-list attribute.
func (n *Node) SetFloats(name string, v ...float32) {
	n.setAttr(name, &Attr{Kind: AttrFloats, Floats: v})
}

func (n *Node) setAttr(name string, a *Attr) {
	if n.Attrs == nil {
		n.Attrs = map[string]*Attr{}
	}
	n.Attrs[name] = a
}

// Describe names a node for error messages: op type and name.
func (n *Node) Describe() string {
	if n.Name == "" {
		return fmt.Sprintf("%s node (output %q)", n.Op, n.Input0Out())
	}
	return fmt.Sprintf("%s node %q", n.Op, n.Name)
}

// Input0Out returns the first output name, or "".
func (n *Node) Input0Out() string {
	if len(n.Outputs) > 0 {
		return n.Outputs[0]
	}
	return ""
}

// OpHistogram counts nodes per op type, sorted by op name.
func (g *Graph) OpHistogram() []OpCount {
	m := map[string]int{}
	for _, n := range g.Nodes {
		m[n.Op]++
	}
	out := make([]OpCount, 0, len(m))
	for op, c := range m {
		out = append(out, OpCount{op, c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// OpCount is one row of an op histogram.
type OpCount struct {
	Op    string
	Count int
}

// ParamCount is the number of elements in all float and quantised
// initializers (what papers call parameters), excluding integer shape
// constants.
func (g *Graph) ParamCount() int64 {
	var n int64
	for _, t := range g.Initializers {
		if t.DType == Float32 || t.DType == Int8 || t.DType == Uint8 || (t.DType == Int32 && t.Quant != nil) {
			n += int64(NumElements(t.Shape))
		}
	}
	return n
}

// Clone copies the graph structure (nodes, attributes maps, value infos,
// input/output lists) so passes can rewrite it; tensors are shared, and
// passes never modify a tensor in place.
func (g *Graph) Clone() *Graph {
	c := *g
	c.Inputs = cloneInfos(g.Inputs)
	c.Outputs = cloneInfos(g.Outputs)
	c.Initializers = make(map[string]*Tensor, len(g.Initializers))
	for k, v := range g.Initializers {
		c.Initializers[k] = v
	}
	c.ValueInfo = make(map[string]*ValueInfo, len(g.ValueInfo))
	for k, v := range g.ValueInfo {
		vv := *v
		c.ValueInfo[k] = &vv
	}
	c.Metadata = make(map[string]string, len(g.Metadata))
	for k, v := range g.Metadata {
		c.Metadata[k] = v
	}
	c.Nodes = make([]*Node, len(g.Nodes))
	for i, n := range g.Nodes {
		nn := *n
		nn.Inputs = append([]string(nil), n.Inputs...)
		nn.Outputs = append([]string(nil), n.Outputs...)
		nn.Attrs = make(map[string]*Attr, len(n.Attrs))
		for k, a := range n.Attrs {
			nn.Attrs[k] = a
		}
		c.Nodes[i] = &nn
	}
	return &c
}

func cloneInfos(in []*ValueInfo) []*ValueInfo {
	out := make([]*ValueInfo, len(in))
	for i, v := range in {
		vv := *v
		vv.Shape = append([]int(nil), v.Shape...)
		out[i] = &vv
	}
	return out
}

// Attributes the runtime's fusion passes (and readers of formats with fused
// activations, such as TFLite) put on Conv, Gemm and MatMul nodes: the
// fused activation as a clamp of the real-valued output. An ONNX exporter
// never writes them.
const (
	AttrClampMin = "ei_clamp_min"
	AttrClampMax = "ei_clamp_max"
)

// Freeze turns graph input name into a constant with value t: static
// runtimes need operands that fix shapes (or weights given as inputs) at
// prepare time.
func (g *Graph) Freeze(name string, t *Tensor) error {
	for i, in := range g.Inputs {
		if in.Name != name {
			continue
		}
		if err := t.Validate(); err != nil {
			return fmt.Errorf("freeze input %q: %w", name, err)
		}
		g.Inputs = append(g.Inputs[:i:i], g.Inputs[i+1:]...)
		g.Initializers[name] = t
		return nil
	}
	return fmt.Errorf("freeze: %q is not a graph input", name)
}
