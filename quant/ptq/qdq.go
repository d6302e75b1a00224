package ptq

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// QDQOpset is the lowest default-domain opset a QDQ export uses:
// DequantizeLinear takes per-axis scales (an axis attribute) from opset 13.
const QDQOpset = 13

// QDQ rewrites a quantised graph from Quantize into a standard ONNX QDQ
// model: a float graph in which every int8 tensor of qg is the output of a
// QuantizeLinear and is read through a DequantizeLinear, so that any ONNX
// runtime can run it and one that fuses QDQ groups (ONNX Runtime, TensorRT,
// OpenVINO) runs the same int8 arithmetic. The quantisation is qg's,
// unchanged:
//
//   - activations: QuantizeLinear/DequantizeLinear with a float32 scalar
//     scale and an int8 scalar zero point (int8 activations, as ONNX
//     Runtime's CPU QDQ fusion prefers together with symmetric int8
//     weights). Every consumer of an int8 tensor gets its own
//     DequantizeLinear, as ONNX Runtime's quantiser writes them.
//   - Conv and Gemm weights: int8 initializers read by a DequantizeLinear
//     with one scale per output channel and axis = 0 (Conv weights are
//     [O, I/g, KH, KW]; Gemm weights are [N, K] with transB = 1, so the
//     output axis is 0 as well) and zero points 0; with --per-tensor, a
//     scalar scale.
//   - biases: int32 initializers read by a DequantizeLinear with scale
//     s_in·s_w[c] per channel (axis 0) and zero point 0.
//   - fused activations (the runtime's ei_clamp_min/max attributes) are
//     left out where the output's QuantizeLinear saturates at the clamp's
//     bounds anyway (clampRedundant: the usual case, a ReLU/ReLU6 output
//     calibrated to [0, max ≤ 6]), as ONNX Runtime's own quantiser
//     writes them, so that its QDQ fusion sees Conv → QuantizeLinear;
//     otherwise they become a Relu, or a Clip with constant bounds,
//     between the op and its QuantizeLinear.
//   - float islands, the graph input's QuantizeLinear and the outputs'
//     DequantizeLinear are written as they are.
//
// opts choose uint8 for activations and weights (see QDQOptions), with
// every integer and zero point moved up by 128.
//
// The opset is max(13, qg's), or 14 when the graph has a HardSwish. Nodes
// written for an older opset are upgraded where the operator's signature
// changed (Squeeze, Unsqueeze and Split take their axes and sizes as
// inputs, Clip and Pad their bounds and pads, Softmax-family ops over the
// last axis only); an older-opset node that cannot be expressed is an
// error. Intermediate value types and shapes are not written (runtimes
// infer them). qg is not modified; the result shares its tensors.
func QDQ(qg *ir.Graph, opts QDQOptions) (*ir.Graph, error) {
	x := &qdqExporter{qg: qg, og: ir.New(qg.Name), opts: opts, taken: map[string]bool{}, scales: map[string][2]string{}}
	og := x.og
	og.Format = "onnx"
	og.Opset = max(QDQOpset, qg.Opset)
	for _, n := range qg.Nodes {
		if n.Op == "HardSwish" && (n.Domain == "" || n.Domain == "ai.onnx") {
			og.Opset = max(og.Opset, 14)
		}
	}
	for k, v := range qg.Metadata {
		switch k {
		case "producer_name", "producer_version", "ir_version":
		default:
			og.Metadata[k] = v
		}
	}
	og.Metadata["producer_name"] = "edgeinfer"
	og.Metadata["quantization_format"] = "QDQ"
	og.Metadata["qdq_types"] = opts.String()
	for name := range qg.Initializers {
		x.taken[name] = true
	}
	for name := range qg.ValueInfo {
		x.taken[name] = true
	}
	for _, in := range qg.Inputs {
		x.taken[in.Name] = true
		og.Inputs = append(og.Inputs, cloneInfo(in))
	}
	for _, o := range qg.Outputs {
		x.taken[o.Name] = true
		og.Outputs = append(og.Outputs, cloneInfo(o))
	}
	for _, n := range qg.Nodes {
		for _, o := range n.Outputs {
			x.taken[o] = true
		}
	}
	for _, n := range qg.Nodes {
		if err := x.node(n); err != nil {
			return nil, fmt.Errorf("QDQ export: %s: %w", n.Describe(), err)
		}
	}
	return og, nil
}

// QDQOptions choose the integer types a QDQ export writes. Either way the
// quantisation is the same: a uint8 integer and zero point are the int8
// ones plus 128, which stand for the same real values.
type QDQOptions struct {
	// UnsignedActivations writes activations as uint8. ONNX Runtime on
	// x86-64 fuses QDQ groups into its int8 kernels fully only with uint8
	// activations: it converts int8 activations to uint8 where a
	// QuantizeLinear has one reader and leaves the groups around tensors
	// with several readers (ResNet's residual branches) in float.
	UnsignedActivations bool
	// UnsignedWeights writes Conv and Gemm weights as uint8 with zero
	// point 128 on every channel. ONNX Runtime then runs its u8u8 kernels,
	// which widen both operands to 16 bits and are exact, where its u8s8
	// kernels on CPUs without VNNI multiply with VPMADDUBSW, whose int16
	// pair sums saturate for full-range int8 weights (and the results then
	// differ from the model's). u8s8 is ORT's fastest form on x86-64.
	UnsignedWeights bool
}

// ParseQDQTypes reads the command line's name for QDQOptions: "s8s8",
// "u8s8" or "u8u8" (activations, then weights).
func ParseQDQTypes(s string) (QDQOptions, error) {
	switch s {
	case "s8s8":
		return QDQOptions{}, nil
	case "u8s8":
		return QDQOptions{UnsignedActivations: true}, nil
	case "u8u8":
		return QDQOptions{UnsignedActivations: true, UnsignedWeights: true}, nil
	}
	return QDQOptions{}, fmt.Errorf("unknown QDQ types %q (want s8s8, u8s8 or u8u8)", s)
}

// String returns the options' name as ParseQDQTypes reads it.
func (o QDQOptions) String() string {
	t := func(unsigned bool) string {
		if unsigned {
			return "u8"
		}
		return "s8"
	}
	return t(o.UnsignedActivations) + t(o.UnsignedWeights)
}

func cloneInfo(vi *ir.ValueInfo) *ir.ValueInfo {
	c := *vi
	c.Shape = slices.Clone(vi.Shape) // nil (unknown rank) stays nil, [] (scalar) stays []
	c.Quant = nil
	return &c
}

type qdqExporter struct {
	qg, og *ir.Graph
	opts   QDQOptions
	taken  map[string]bool
	// scales holds the scale and zero-point initializers written for an
	// int8 value, shared by all its QuantizeLinear/DequantizeLinear nodes.
	scales map[string][2]string
}

func (x *qdqExporter) fresh(name string) string {
	s := name
	for i := 1; x.taken[s]; i++ {
		s = fmt.Sprintf("%s_%d", name, i)
	}
	x.taken[s] = true
	return s
}

func (x *qdqExporter) addInit(base string, t *ir.Tensor) string {
	name := x.fresh(base)
	x.og.Initializers[name] = t
	return name
}

func (x *qdqExporter) add(n *ir.Node) { x.og.Nodes = append(x.og.Nodes, n) }

// int8Value returns the quantisation of activation v when qg holds it as
// an int8 tensor.
func (x *qdqExporter) int8Value(v string) *ir.Quant {
	if _, isConst := x.qg.Initializers[v]; isConst {
		return nil
	}
	vi := x.qg.ValueInfo[v]
	if vi == nil || vi.DType != ir.Int8 {
		return nil
	}
	return vi.Quant
}

// activationParams returns the scalar scale and zero-point initializers of
// int8 value v.
func (x *qdqExporter) activationParams(v string, q *ir.Quant) ([2]string, error) {
	if p, ok := x.scales[v]; ok {
		return p, nil
	}
	if q == nil || len(q.Scale) != 1 || len(q.ZeroPoint) != 1 {
		return [2]string{}, fmt.Errorf("int8 value %q has no per-tensor scale and zero point", v)
	}
	p := [2]string{
		x.addInit(v+"/scale", &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{q.Scale[0]}}),
		x.addInit(v+"/zero_point", x.int8Type(&ir.Tensor{DType: ir.Int8, Shape: []int{}, I8: []int8{int8(q.ZeroPoint[0])}}, x.opts.UnsignedActivations)),
	}
	x.scales[v] = p
	return p, nil
}

// dequantize returns a float version of int8 value v for one consumer.
func (x *qdqExporter) dequantize(v string, q *ir.Quant) (string, error) {
	p, err := x.activationParams(v, q)
	if err != nil {
		return "", err
	}
	out := x.fresh(v + "/dq")
	x.add(&ir.Node{Name: out, Op: "DequantizeLinear", Inputs: []string{v, p[0], p[1]}, Outputs: []string{out}})
	return out, nil
}

// constantDQ writes a quantised initializer (weights, bias) as its raw
// integers read by a DequantizeLinear, per axis when it has several
// scales.
func (x *qdqExporter) constantDQ(name string, t *ir.Tensor) (string, error) {
	q := t.Quant
	if len(q.Scale) == 0 || (len(q.ZeroPoint) != 0 && len(q.ZeroPoint) != len(q.Scale)) {
		return "", fmt.Errorf("initializer %q: malformed quantisation parameters", name)
	}
	raw := *t
	raw.Quant = nil
	x.og.Initializers[name] = x.int8Type(&raw, x.opts.UnsignedWeights)
	shape := []int{len(q.Scale)}
	if len(q.Scale) == 1 {
		shape = []int{}
	}
	scale := &ir.Tensor{DType: ir.Float32, Shape: shape, F32: append([]float32(nil), q.Scale...)}
	zp := &ir.Tensor{DType: t.DType, Shape: shape}
	switch t.DType {
	case ir.Int8:
		zp.I8 = make([]int8, len(q.Scale))
		for i := range zp.I8 {
			if len(q.ZeroPoint) > 0 {
				zp.I8[i] = int8(q.ZeroPoint[i])
			}
		}
	case ir.Int32:
		zp.I32 = make([]int32, len(q.Scale))
		if len(q.ZeroPoint) > 0 {
			copy(zp.I32, q.ZeroPoint)
		}
	default:
		return "", fmt.Errorf("initializer %q: quantised %s constants are not supported", name, t.DType)
	}
	out := x.fresh(name + "/dq")
	n := &ir.Node{Name: out, Op: "DequantizeLinear",
		Inputs:  []string{name, x.addInit(name+"/scale", scale), x.addInit(name+"/zero_point", x.int8Type(zp, x.opts.UnsignedWeights))},
		Outputs: []string{out}}
	if len(q.Scale) > 1 {
		if len(t.Shape) == 0 || q.Axis < 0 || q.Axis >= len(t.Shape) || t.Shape[q.Axis] != len(q.Scale) {
			return "", fmt.Errorf("initializer %q of shape %v: %d scales along axis %d", name, t.Shape, len(q.Scale), q.Axis)
		}
		n.SetInt("axis", int64(q.Axis))
	}
	x.add(n)
	return out, nil
}

// node writes one node of qg.
func (x *qdqExporter) node(n *ir.Node) error {
	if (n.Op == "QuantizeLinear" || n.Op == "DequantizeLinear") && (n.Domain == "" || n.Domain == "ai.onnx") {
		// The graph input's quantisation, the outputs' dequantisation and
		// the float islands' borders are QDQ nodes already.
		out := cloneNode(n)
		for i, in := range n.Inputs[1:] {
			if in == "" {
				continue
			}
			t := x.qg.Initializers[in]
			if t == nil || t.Len() != 1 {
				return fmt.Errorf("operand %q is not a constant scalar", in)
			}
			if u := x.int8Type(t, x.opts.UnsignedActivations); u != t {
				// A uint8 copy: the int8 original may have other readers.
				out.Inputs[i+1] = x.addInit(in+"/u8", u)
				continue
			}
			x.og.Initializers[in] = t
		}
		x.add(out)
		return nil
	}
	out := cloneNode(n)
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	for k, a := range n.Attrs {
		switch {
		case k == ir.AttrClampMin:
			lo = a.F
			delete(out.Attrs, k)
		case k == ir.AttrClampMax:
			hi = a.F
			delete(out.Attrs, k)
		case strings.HasPrefix(k, "ei_"):
			return fmt.Errorf("attribute %q has no ONNX equivalent", k)
		}
	}
	for i, in := range n.Inputs {
		if in == "" {
			continue
		}
		if t, isConst := x.qg.Initializers[in]; isConst {
			if t.Quant != nil && (t.DType == ir.Int8 || t.DType == ir.Int32) {
				dq, err := x.constantDQ(in, t)
				if err != nil {
					return err
				}
				out.Inputs[i] = dq
			} else {
				x.og.Initializers[in] = t
			}
			continue
		}
		if q := x.int8Value(in); q != nil {
			dq, err := x.dequantize(in, q)
			if err != nil {
				return err
			}
			out.Inputs[i] = dq
		}
	}
	type requant struct {
		float, int8 string
		q           *ir.Quant
	}
	var quantize []requant
	for i, o := range n.Outputs {
		if o == "" {
			continue
		}
		if q := x.int8Value(o); q != nil {
			f := x.fresh(o + "/f32")
			out.Outputs[i] = f
			quantize = append(quantize, requant{f, o, q})
		}
	}
	if (lo > float32(math.Inf(-1)) || hi < float32(math.Inf(1))) && len(n.Outputs) != 1 {
		return fmt.Errorf("a fused activation on a node with %d outputs", len(n.Outputs))
	}
	if err := x.upgrade(out); err != nil {
		return err
	}
	x.add(out)
	if len(quantize) == 1 && quantize[0].float == out.Outputs[0] && clampRedundant(lo, hi, quantize[0].q) {
		// The QuantizeLinear saturates where the clamp would: leave the
		// activation out, as ONNX Runtime's quantiser does, since ORT
		// does not fuse a Conv → Relu → QuantizeLinear group (nor an Add
		// one) into its int8 kernels.
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	if lo > float32(math.Inf(-1)) || hi < float32(math.Inf(1)) {
		pre := out.Outputs[0]
		act := x.fresh(n.Outputs[0] + "/act")
		out.Outputs[0] = x.fresh(n.Outputs[0] + "/preact")
		a := &ir.Node{Name: act, Outputs: []string{pre}}
		if lo == 0 && hi == float32(math.Inf(1)) {
			a.Op, a.Inputs = "Relu", []string{out.Outputs[0]}
		} else {
			a.Op, a.Inputs = "Clip", []string{out.Outputs[0], "", ""}
			if lo > float32(math.Inf(-1)) {
				a.Inputs[1] = x.addInit(act+"/min", &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{lo}})
			}
			if hi < float32(math.Inf(1)) {
				a.Inputs[2] = x.addInit(act+"/max", &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{hi}})
			}
		}
		x.add(a)
	}
	for _, r := range quantize {
		p, err := x.activationParams(r.int8, r.q)
		if err != nil {
			return err
		}
		x.add(&ir.Node{Name: x.fresh(r.int8 + "/q"), Op: "QuantizeLinear", Inputs: []string{r.float, p[0], p[1]}, Outputs: []string{r.int8}})
	}
	return nil
}

// int8Type returns t as the export writes it: t itself, or when unsigned
// and t is int8, a uint8 copy holding t+128.
func (x *qdqExporter) int8Type(t *ir.Tensor, unsigned bool) *ir.Tensor {
	if !unsigned || t.DType != ir.Int8 {
		return t
	}
	u := &ir.Tensor{DType: ir.Uint8, Shape: t.Shape, U8: make([]uint8, len(t.I8))}
	for i, v := range t.I8 {
		u.U8[i] = uint8(int(v) + 128)
	}
	return u
}

// clampRedundant reports whether quantising with q (per tensor, int8)
// already does what clamping to [lo, hi] first would: with Q(x) =
// saturate(round(x/scale) + zero point) as ONNX defines it, Q(lo) is −128
// and Q(hi) is 127, so Q(clamp(x, lo, hi)) = Q(x) for every x.
func clampRedundant(lo, hi float32, q *ir.Quant) bool {
	if q == nil || len(q.Scale) != 1 || len(q.ZeroPoint) != 1 || q.Scale[0] <= 0 {
		return false
	}
	quant := func(x float32) float64 {
		return math.RoundToEven(float64(x/q.Scale[0])) + float64(q.ZeroPoint[0])
	}
	return (math.IsInf(float64(lo), -1) || quant(lo) <= math.MinInt8) &&
		(math.IsInf(float64(hi), 1) || quant(hi) >= math.MaxInt8)
}

func cloneNode(n *ir.Node) *ir.Node {
	c := &ir.Node{Name: n.Name, Op: n.Op, Domain: n.Domain,
		Inputs: append([]string(nil), n.Inputs...), Outputs: append([]string(nil), n.Outputs...)}
	if len(n.Attrs) > 0 {
		c.Attrs = make(map[string]*ir.Attr, len(n.Attrs))
		for k, a := range n.Attrs {
			c.Attrs[k] = a
		}
	}
	return c
}

// upgrade rewrites a node of an older opset into the signature the
// export's opset (≥ 13) gives the operator: attributes that became inputs
// become constant inputs.
func (x *qdqExporter) upgrade(n *ir.Node) error {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return nil
	}
	moveInts := func(attr string, at int) {
		v := n.Ints(attr)
		if v == nil {
			return
		}
		delete(n.Attrs, attr)
		for len(n.Inputs) < at {
			n.Inputs = append(n.Inputs, "")
		}
		name := x.addInit(n.Name+"/"+attr, &ir.Tensor{DType: ir.Int64, Shape: []int{len(v)}, I64: append([]int64(nil), v...)})
		n.Inputs = append(n.Inputs[:at], append([]string{name}, n.Inputs[at:]...)...)
	}
	switch n.Op {
	case "Squeeze", "Unsqueeze":
		moveInts("axes", 1)
	case "Split":
		moveInts("split", 1)
	case "Pad":
		if pads := n.Ints("pads"); pads != nil {
			value := n.Float("value", 0)
			delete(n.Attrs, "value")
			moveInts("pads", 1)
			if value != 0 {
				n.Inputs = append(n.Inputs[:2], x.addInit(n.Name+"/value", &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{value}}))
			}
		}
	case "Clip":
		if n.Has("min") || n.Has("max") {
			ins := []string{n.Input(0), "", ""}
			for i, k := range []string{"min", "max"} {
				if n.Has(k) {
					ins[i+1] = x.addInit(n.Name+"/"+k, &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{n.Float(k, 0)}})
					delete(n.Attrs, k)
				}
			}
			n.Inputs = ins
		}
	case "Softmax", "LogSoftmax", "Hardmax":
		if x.qg.Opset >= 13 {
			return nil
		}
		// Before opset 13 these flattened the input to 2-D at axis
		// (default 1); from 13 they work along one axis (default −1).
		// The two agree when axis is the last one.
		rank := -1
		if vi := x.qg.ValueInfo[n.Input(0)]; vi != nil && vi.Shape != nil {
			rank = len(vi.Shape)
		}
		for _, in := range x.qg.Inputs {
			if in.Name == n.Input(0) {
				rank = len(in.Shape)
			}
		}
		axis := n.Int("axis", 1)
		if rank < 0 || (axis != -1 && int(axis) != rank-1) {
			return fmt.Errorf("opset %d %s over axis %d of a rank-%d input has no opset-13 equivalent", x.qg.Opset, n.Op, axis, rank)
		}
		n.SetInt("axis", -1)
	}
	return nil
}
