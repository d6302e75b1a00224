package zoo

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// The checks in this file look at a built graph from the outside, with
// ONNX's rules, and share no code with the builder: shapes are inferred
// again from the nodes and initializers, parameters are recounted from the
// initializers, MACs from the inferred shapes.

// graphFacts is what checkGraph derives from a graph.
type graphFacts struct {
	shapes map[string][]int
	params int64 // float initializers minus BN running stats and scalar constants
	macs   int64 // Conv and Gemm multiply-accumulates
	ops    map[string]int
}

// checkGraph verifies that g is well-formed — every node input is the
// graph input, an initializer or the output of an earlier node, every value
// is defined once, the output is produced — and infers every shape.
func checkGraph(g *ir.Graph) (*graphFacts, error) {
	f := &graphFacts{shapes: map[string][]int{}, ops: map[string]int{}}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "input" {
		return nil, fmt.Errorf("want one graph input \"input\", have %v", g.Inputs)
	}
	if len(g.Outputs) != 1 || g.Outputs[0].Name != "output" {
		return nil, fmt.Errorf("want one graph output \"output\", have %v", g.Outputs)
	}
	f.shapes["input"] = g.Inputs[0].Shape
	for name, t := range g.Initializers {
		if _, dup := f.shapes[name]; dup {
			return nil, fmt.Errorf("initializer %q shadows the input", name)
		}
		f.shapes[name] = t.Shape
	}
	nonParams := map[string]bool{} // BN mean/var, Clip bounds, scalar factors
	for _, nd := range g.Nodes {
		f.ops[nd.Op]++
		for _, in := range nd.Inputs {
			if in == "" {
				continue
			}
			if _, ok := f.shapes[in]; !ok {
				return nil, fmt.Errorf("%s: input %q is not defined before it", nd.Describe(), in)
			}
		}
		switch nd.Op {
		case "BatchNormalization":
			nonParams[nd.Inputs[3]] = true
			nonParams[nd.Inputs[4]] = true
		case "Clip":
			nonParams[nd.Inputs[1]] = true
			nonParams[nd.Inputs[2]] = true
		case "Mul":
			for _, in := range nd.Inputs {
				if t, ok := g.Initializers[in]; ok && ir.NumElements(t.Shape) == 1 {
					nonParams[in] = true
				}
			}
		}
		out, macs, err := inferNode(nd, f.shapes, g.Initializers)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nd.Describe(), err)
		}
		if len(nd.Outputs) != 1 {
			return nil, fmt.Errorf("%s: %d outputs", nd.Describe(), len(nd.Outputs))
		}
		if _, dup := f.shapes[nd.Outputs[0]]; dup {
			return nil, fmt.Errorf("%s: output %q defined twice", nd.Describe(), nd.Outputs[0])
		}
		f.shapes[nd.Outputs[0]] = out
		f.macs += macs
	}
	if _, ok := f.shapes["output"]; !ok {
		return nil, fmt.Errorf("no node produces \"output\"")
	}
	for name, t := range g.Initializers {
		if t.DType == ir.Float32 && !nonParams[name] {
			f.params += int64(ir.NumElements(t.Shape))
		}
	}
	return f, nil
}

// inferNode returns the output shape of nd under ONNX semantics and its
// MACs (Conv, Gemm).
func inferNode(nd *ir.Node, shapes map[string][]int, inits map[string]*ir.Tensor) ([]int, int64, error) {
	in := func(i int) []int { return shapes[nd.Input(i)] }
	x := in(0)
	switch nd.Op {
	case "Relu", "Tanh", "Sigmoid", "HardSigmoid", "LRN":
		return x, 0, nil
	case "Clip":
		if len(in(1)) != 0 || len(in(2)) != 0 {
			return nil, 0, fmt.Errorf("bounds must be scalars")
		}
		return x, 0, nil
	case "BatchNormalization":
		if len(x) != 4 {
			return nil, 0, fmt.Errorf("input %v", x)
		}
		for i := 1; i <= 4; i++ {
			if s := in(i); len(s) != 1 || s[0] != x[1] {
				return nil, 0, fmt.Errorf("input %d has shape %v for %d channels", i, s, x[1])
			}
		}
		return x, 0, nil
	case "Add", "Mul":
		return broadcast(x, in(1))
	case "Conv":
		w := in(1)
		k := nd.Ints("kernel_shape")
		s, p, d := nd.Ints("strides"), nd.Ints("pads"), nd.Ints("dilations")
		g := int(nd.Int("group", 1))
		if len(x) != 4 || len(w) != 4 || len(k) != 2 || len(s) != 2 || len(p) != 4 || len(d) != 2 {
			return nil, 0, fmt.Errorf("x %v w %v kernel %v strides %v pads %v dilations %v", x, w, k, s, p, d)
		}
		if w[1]*g != x[1] || w[0]%g != 0 || int(k[0]) != w[2] || int(k[1]) != w[3] {
			return nil, 0, fmt.Errorf("weight %v does not fit input %v with %d groups and kernel %v", w, x, g, k)
		}
		if b := nd.Input(2); b != "" && (len(shapes[b]) != 1 || shapes[b][0] != w[0]) {
			return nil, 0, fmt.Errorf("bias %v for %d outputs", shapes[b], w[0])
		}
		oh := (x[2]+int(p[0]+p[2])-int(d[0])*(w[2]-1)-1)/int(s[0]) + 1
		ow := (x[3]+int(p[1]+p[3])-int(d[1])*(w[3]-1)-1)/int(s[1]) + 1
		if oh < 1 || ow < 1 {
			return nil, 0, fmt.Errorf("empty output")
		}
		out := []int{1, w[0], oh, ow}
		return out, int64(ir.NumElements(out)) * int64(w[1]*w[2]*w[3]), nil
	case "MaxPool", "AveragePool":
		k, s, p := nd.Ints("kernel_shape"), nd.Ints("strides"), nd.Ints("pads")
		if len(x) != 4 || len(k) != 2 || len(s) != 2 || len(p) != 4 {
			return nil, 0, fmt.Errorf("x %v kernel %v strides %v pads %v", x, k, s, p)
		}
		ceil := nd.Int("ceil_mode", 0) == 1
		out := []int{1, x[1], 0, 0}
		for a := 0; a < 2; a++ {
			// ONNX: floor or ceil of (in + pads − k)/s, plus one; in ceil
			// mode a window starting in the end padding is dropped.
			span := x[2+a] + int(p[a]+p[a+2]) - int(k[a])
			if span < 0 {
				return nil, 0, fmt.Errorf("window larger than padded input")
			}
			o := span/int(s[a]) + 1
			if ceil && span%int(s[a]) != 0 {
				o++
				if (o-1)*int(s[a]) >= x[2+a]+int(p[a]) {
					o--
				}
			}
			out[2+a] = o
		}
		return out, 0, nil
	case "GlobalAveragePool":
		return []int{1, x[1], 1, 1}, 0, nil
	case "Concat":
		if nd.Int("axis", -99) != 1 {
			return nil, 0, fmt.Errorf("axis %d", nd.Int("axis", -99))
		}
		out := append([]int(nil), x...)
		for i := 1; i < len(nd.Inputs); i++ {
			y := in(i)
			if len(y) != 4 || y[2] != x[2] || y[3] != x[3] {
				return nil, 0, fmt.Errorf("input %v does not fit %v", y, x)
			}
			out[1] += y[1]
		}
		return out, 0, nil
	case "Flatten":
		if nd.Int("axis", 1) != 1 {
			return nil, 0, fmt.Errorf("axis %d", nd.Int("axis", 1))
		}
		return []int{x[0], ir.NumElements(x[1:])}, 0, nil
	case "Gemm":
		w, b := in(1), in(2)
		if nd.Int("transB", 0) != 1 || nd.Int("transA", 0) != 0 {
			return nil, 0, fmt.Errorf("want transA=0 transB=1")
		}
		if len(x) != 2 || len(w) != 2 || w[1] != x[1] || len(b) != 1 || b[0] != w[0] {
			return nil, 0, fmt.Errorf("x %v weight %v bias %v", x, w, b)
		}
		return []int{x[0], w[0]}, int64(x[0]) * int64(w[0]) * int64(w[1]), nil
	case "Reshape":
		t := inits[nd.Input(1)]
		if t == nil || t.DType != ir.Int64 {
			return nil, 0, fmt.Errorf("shape is not an int64 initializer")
		}
		out := make([]int, len(t.I64))
		for i, v := range t.I64 {
			out[i] = int(v)
		}
		if ir.NumElements(out) != ir.NumElements(x) {
			return nil, 0, fmt.Errorf("reshape %v to %v", x, out)
		}
		return out, 0, nil
	case "Transpose":
		perm := nd.Ints("perm")
		if len(perm) != len(x) {
			return nil, 0, fmt.Errorf("perm %v for %v", perm, x)
		}
		out := make([]int, len(x))
		for i, a := range perm {
			out[i] = x[a]
		}
		return out, 0, nil
	case "Slice":
		get := func(i int) []int64 {
			if t := inits[nd.Input(i)]; t != nil && t.DType == ir.Int64 {
				return t.I64
			}
			return nil
		}
		starts, ends, axes := get(1), get(2), get(3)
		if len(starts) != 1 || len(ends) != 1 || len(axes) != 1 {
			return nil, 0, fmt.Errorf("starts %v ends %v axes %v", starts, ends, axes)
		}
		a := int(axes[0])
		lo, hi := int(starts[0]), min(int(ends[0]), x[a])
		if lo < 0 || lo >= hi {
			return nil, 0, fmt.Errorf("slice [%d, %d) of %d", lo, hi, x[a])
		}
		out := append([]int(nil), x...)
		out[a] = hi - lo
		return out, 0, nil
	}
	return nil, 0, fmt.Errorf("op %s not expected in a zoo graph", nd.Op)
}

// broadcast is numpy broadcasting of two shapes.
func broadcast(a, b []int) ([]int, int64, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, 0, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, 0, nil
}
