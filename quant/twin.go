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
