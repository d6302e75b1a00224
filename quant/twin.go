package quant

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// FloatTwin returns the float twin of a quantised graph: every quantised
// constant is dequantised (real = scale·(q − zero point), per channel where
// the tensor is), activations are float with no quantisation, and
// QuantizeLinear/DequantizeLinear nodes inside the graph become identities.
// Quantised graph inputs stay quantised (so the twin takes exactly the same
// input bytes) and are dequantised by the first node. It is the model the
// quantised one approximates: for debugging, and for calibrating our own
// quantiser on real weights.
func FloatTwin(g *ir.Graph) (*ir.Graph, error) {
	t := g.Clone()
	if err := dequantizePadValues(t); err != nil {
		return nil, err
	}
	for name, c := range t.Initializers {
		if c.Quant == nil || c.DType == ir.Float32 {
			continue
		}
		f, err := Dequantize(c)
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %w", name, err)
		}
		t.Initializers[name] = f
	}
	for _, n := range t.Nodes {
		if n.Op == "QuantizeLinear" || n.Op == "DequantizeLinear" {
			n.Op = "Identity"
			n.Inputs = n.Inputs[:1]
			n.Attrs = nil
		}
	}
	for _, v := range t.ValueInfo {
		if v.Quant != nil || v.DType == ir.Int8 || v.DType == ir.Uint8 {
			v.DType, v.Quant = ir.Float32, nil
		}
	}
	for _, o := range t.Outputs {
		o.DType, o.Quant = ir.Float32, nil
	}
	var nodes []*ir.Node
	for _, in := range t.Inputs {
		if in.Quant == nil || (in.DType != ir.Int8 && in.DType != ir.Uint8) {
			continue
		}
		if len(in.Quant.Scale) != 1 {
			return nil, fmt.Errorf("input %q is quantised per channel", in.Name)
		}
		// The input keeps its name and bytes; a DequantizeLinear feeds the
		// float graph, whose readers are renamed to its output.
		real := in.Name + "/real"
		for _, n := range t.Nodes {
			for i, x := range n.Inputs {
				if x == in.Name {
					n.Inputs[i] = real
				}
			}
		}
		zp := &ir.Tensor{DType: in.DType, Shape: []int{}}
		z := int32(0)
		if len(in.Quant.ZeroPoint) > 0 {
			z = in.Quant.ZeroPoint[0]
		}
		if in.DType == ir.Uint8 {
			zp.U8 = []uint8{uint8(z)}
		} else {
			zp.I8 = []int8{int8(z)}
		}
		sName, zName := in.Name+"/scale", in.Name+"/zero_point"
		t.Initializers[sName] = &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{in.Quant.Scale[0]}}
		t.Initializers[zName] = zp
		nodes = append(nodes, &ir.Node{Name: real, Op: "DequantizeLinear", Inputs: []string{in.Name, sName, zName}, Outputs: []string{real}})
		t.ValueInfo[real] = &ir.ValueInfo{Name: real, DType: ir.Float32, Shape: in.Shape}
	}
	t.Nodes = append(nodes, t.Nodes...)
	t.Metadata["float_twin_of"] = g.Source
	return t, nil
}

// Dequantize converts a quantised tensor to float32 (per-channel along
// Quant.Axis when it has several scales).
func Dequantize(c *ir.Tensor) (*ir.Tensor, error) {
	q := c.Quant
	if q == nil || len(q.Scale) == 0 {
		return nil, fmt.Errorf("no quantisation parameters")
	}
	vals := c.Ints()
	out := &ir.Tensor{DType: ir.Float32, Shape: c.Shape, F32: make([]float32, len(vals))}
	inner, ch := 1, 1
	if len(q.Scale) > 1 {
		if q.Axis < 0 || q.Axis >= len(c.Shape) || c.Shape[q.Axis] != len(q.Scale) {
			return nil, fmt.Errorf("%d scales for axis %d of shape %v", len(q.Scale), q.Axis, c.Shape)
		}
		inner = ir.NumElements(c.Shape[q.Axis+1:])
		ch = len(q.Scale)
	}
	for i, v := range vals {
		k := (i / inner) % ch
		z := int64(0)
		if len(q.ZeroPoint) > 0 {
			z = int64(q.ZeroPoint[min(k, len(q.ZeroPoint)-1)])
		}
		out.F32[i] = q.Scale[k] * float32(v-z)
	}
	return out, nil
}

// IsQuantized reports whether g holds quantised tensors: a quantised graph
// input or a quantised constant (a .tflite int8/uint8 model, an int8 .eim).
func IsQuantized(g *ir.Graph) bool {
	for _, in := range g.Inputs {
		if in.Quant != nil && (in.DType == ir.Int8 || in.DType == ir.Uint8) {
			return true
		}
	}
	for _, c := range g.Initializers {
		if c.Quant != nil && c.DType != ir.Float32 {
			return true
		}
	}
	return false
}

// FloatModel is the float twin of a quantised graph (FloatTwin) with float
// inputs: a quantised graph input becomes a float32 input that takes the
// real value its bytes stand for, scale·(q − zero point). It is the float
// model a quantiser starts from (quantising it again gives a model that
// can be compared with the original int8 one). The returned map gives, for
// each input that was quantised, its original parameters and type.
func FloatModel(g *ir.Graph) (*ir.Graph, map[string]InputQuant, error) {
	twin, err := FloatTwin(g)
	if err != nil {
		return nil, nil, err
	}
	was := map[string]InputQuant{}
	drop := map[string]bool{}
	for _, in := range twin.Inputs {
		if in.Quant == nil || (in.DType != ir.Int8 && in.DType != ir.Uint8) {
			continue
		}
		was[in.Name] = InputQuant{DType: in.DType, Quant: &ir.Quant{Scale: append([]float32(nil), in.Quant.Scale...),
			ZeroPoint: append([]int32(nil), in.Quant.ZeroPoint...), Axis: in.Quant.Axis}}
		real := in.Name + "/real"
		drop[real] = true
		// Readers of the dequantised value read the float input itself.
		for _, n := range twin.Nodes {
			for i, x := range n.Inputs {
				if x == real {
					n.Inputs[i] = in.Name
				}
			}
		}
		delete(twin.Initializers, in.Name+"/scale")
		delete(twin.Initializers, in.Name+"/zero_point")
		delete(twin.ValueInfo, real)
		in.DType, in.Quant = ir.Float32, nil
		if vi := twin.ValueInfo[in.Name]; vi != nil {
			vi.DType, vi.Quant = ir.Float32, nil
		}
	}
	nodes := twin.Nodes[:0]
	for _, n := range twin.Nodes {
		if len(n.Outputs) == 1 && drop[n.Outputs[0]] {
			continue
		}
		nodes = append(nodes, n)
	}
	twin.Nodes = nodes
	return twin, was, nil
}

// InputQuant is how a quantised graph input was stored.
type InputQuant struct {
	DType ir.DType
	Quant *ir.Quant
}

// dequantizePadValues gives every Pad of a quantised value a float pad
// value: TFLite's int8 PAD pads with the raw integer held in an unquantised
// int8 constant (the input's zero point, i.e. real 0), which in the twin
// is the real value scale·(v − zero point) of the padded input.
func dequantizePadValues(t *ir.Graph) error {
	quantOf := func(name string) *ir.Quant {
		if v := t.ValueInfo[name]; v != nil && v.Quant != nil {
			return v.Quant
		}
		for _, in := range t.Inputs {
			if in.Name == name {
				return in.Quant
			}
		}
		return nil
	}
	for _, n := range t.Nodes {
		if n.Op != "Pad" || n.Input(2) == "" {
			continue
		}
		c := t.Initializers[n.Input(2)]
		if c == nil || c.Quant != nil || (c.DType != ir.Int8 && c.DType != ir.Uint8) {
			continue
		}
		q := quantOf(n.Input(0))
		if q == nil || len(q.Scale) != 1 {
			return fmt.Errorf("Pad %q: an integer pad value for an input without one quantisation scale", n.Name)
		}
		zp := int64(0)
		if len(q.ZeroPoint) > 0 {
			zp = int64(q.ZeroPoint[0])
		}
		vals := c.Ints()
		f := &ir.Tensor{DType: ir.Float32, Shape: append([]int(nil), c.Shape...), F32: make([]float32, len(vals))}
		for i, v := range vals {
			f.F32[i] = q.Scale[0] * float32(v-zp)
		}
		name := n.Input(2) + "/real"
		t.Initializers[name] = f
		if v := t.ValueInfo[n.Input(2)]; v != nil {
			t.ValueInfo[name] = &ir.ValueInfo{Name: name, DType: ir.Float32, Shape: f.Shape}
		}
		n.Inputs[2] = name
	}
	return nil
}
