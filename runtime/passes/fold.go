package passes

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// InferAndFold walks the sorted graph once, computing every value's dtype
// and shape into g.ValueInfo (normalising auto_pad into explicit pads on the
// way) and replacing each node whose inputs are all constant — the shape
// arithmetic PyTorch exports around flatten and channel shuffle — with its
// value as an initializer. Graph inputs must have static shapes.
func InferAndFold(g *ir.Graph) error {
	info := map[string]*ir.ValueInfo{}
	for _, in := range g.Inputs {
		for _, d := range in.Shape {
			if d < 0 {
				return fmt.Errorf("graph input %q has a dynamic shape %v; give it a static shape", in.Name, in.Shape)
			}
		}
		info[in.Name] = in
	}
	for name, t := range g.Initializers {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("initializer %q: %w", name, err)
		}
		info[name] = &ir.ValueInfo{Name: name, DType: t.DType, Shape: t.Shape, Quant: t.Quant}
	}
	dead := map[*ir.Node]bool{}
	for _, n := range g.Nodes {
		if n.Domain != "" && n.Domain != "ai.onnx" {
			return &Unsupported{Op: n.Domain + "." + n.Op, Node: n.Name, Opset: g.Opset}
		}
		f, ok := shapeFuncs[n.Op]
		if !ok {
			return &Unsupported{Op: n.Op, Node: n.Name, Opset: g.Opset}
		}
		c := &inferCtx{g: g, n: n, in: make([]*ir.ValueInfo, len(n.Inputs)), consts: make([]*ir.Tensor, len(n.Inputs))}
		allConst := true
		for i, in := range n.Inputs {
			if in == "" {
				continue
			}
			v, ok := info[in]
			if !ok {
				return fmt.Errorf("%s: input %q is undefined (run Toposort first)", n.Describe(), in)
			}
			c.in[i] = v
			if t, ok := g.Initializers[in]; ok {
				c.consts[i] = t
			} else {
				allConst = false
			}
		}
		outs, err := f(c)
		if err != nil {
			return err
		}
		if len(outs) < len(n.Outputs) && n.Op != "Dropout" {
			return fmt.Errorf("%s: has %d outputs, expected %d", n.Describe(), len(n.Outputs), len(outs))
		}
		for i, o := range n.Outputs {
			if o == "" || i >= len(outs) {
				continue
			}
			elems := 1
			for _, d := range outs[i].Shape {
				if d < 0 {
					return fmt.Errorf("%s: output %q has negative dim %v", n.Describe(), o, outs[i].Shape)
				}
				// Checked per factor so the product cannot overflow.
				if d > 0 && elems > MaxValueElements/d {
					return fmt.Errorf("%s: output %q of shape %v has more than %d elements", n.Describe(), o, outs[i].Shape, MaxValueElements)
				}
				elems *= d
			}
			outs[i].Name = o
			// Readers of quantised formats annotate values with their
			// element type and quantisation; inference keeps those.
			if hint, ok := g.ValueInfo[o]; ok && hint.DType != ir.Undefined {
				outs[i].DType, outs[i].Quant = hint.DType, hint.Quant
			}
			info[o] = outs[i]
		}
		if allConst || n.Op == "Shape" {
			vals, err := evalConst(c)
			if err != nil {
				return err
			}
			if vals != nil {
				for i, o := range n.Outputs {
					if o != "" && i < len(vals) {
						g.Initializers[o] = vals[i]
					}
				}
				dead[n] = true
			}
		}
	}
	removeNodes(g, dead)
	for name, v := range info {
		if _, isConst := g.Initializers[name]; !isConst {
			g.ValueInfo[name] = v
		}
	}
	for _, o := range g.Outputs {
		if v, ok := info[o.Name]; ok {
			o.DType, o.Shape = v.DType, v.Shape
		}
	}
	return Prune(g)
}

// MaxValueElements bounds the element count of any value whose shape
// inference computes (4 GiB of float32), the same limit the readers put on
// declared shapes: a small file must not make the runtime plan an arena it
// cannot allocate (a Pad of 2^20 on a 4×4 input, say).
const MaxValueElements = 1 << 30

// maxFoldElements bounds what constant folding materialises: shape
// arithmetic is tiny; folding a huge ConstantOfShape would only bloat memory.
const maxFoldElements = 1 << 22

// evalConst evaluates n on constant inputs, or returns nil when n is not
// one of the foldable ops.
func evalConst(c *inferCtx) ([]*ir.Tensor, error) {
	n := c.n
	in := c.consts
	shapeOf := func(i int) []int { return c.shape(i) }
	switch n.Op {
	case "Constant":
		t, err := constantValue(n)
		return []*ir.Tensor{t}, err
	case "Shape":
		x := shapeOf(0)
		st, en := shapeRange(n, len(x))
		t := &ir.Tensor{DType: ir.Int64, Shape: []int{en - st}, I64: make([]int64, en-st)}
		for i := st; i < en; i++ {
			t.I64[i-st] = int64(x[i])
		}
		return []*ir.Tensor{t}, nil
	case "ConstantOfShape":
		vi, err := inferConstantOfShape(c)
		if err != nil {
			return nil, err
		}
		cnt := ir.NumElements(vi[0].Shape)
		if cnt > maxFoldElements {
			return nil, nil
		}
		val := &ir.Tensor{DType: ir.Float32, Shape: []int{1}, F32: []float32{0}}
		if a, ok := n.Attrs["value"]; ok && a.T != nil {
			val = a.T
		}
		idx := make([]int, cnt)
		return []*ir.Tensor{take(val, idx, vi[0].Shape)}, nil
	case "Identity", "Dropout", "Reshape", "Flatten", "Squeeze", "Unsqueeze":
		infos, err := shapeFuncs[n.Op](c)
		if err != nil {
			return nil, err
		}
		t := *in[0]
		t.Shape = infos[0].Shape
		res := []*ir.Tensor{&t}
		if n.Op == "Dropout" && len(n.Outputs) > 1 {
			mask := &ir.Tensor{DType: ir.Bool, Shape: t.Shape, U8: make([]uint8, ir.NumElements(t.Shape))}
			for i := range mask.U8 {
				mask.U8[i] = 1
			}
			res = append(res, mask)
		}
		return res, nil
	case "Cast":
		infos, err := inferCast(c)
		if err != nil {
			return nil, err
		}
		return []*ir.Tensor{castTensor(in[0], infos[0].DType)}, nil
	case "Gather":
		x, idx := in[0], in[1].Ints()
		axis, _ := normAxis(int(n.Int("axis", 0)), len(x.Shape))
		outer := ir.NumElements(x.Shape[:axis])
		dim := x.Shape[axis]
		inner := ir.NumElements(x.Shape[axis+1:])
		if outer*len(idx)*inner > maxFoldElements {
			return nil, nil
		}
		pos := make([]int, 0, outer*len(idx)*inner)
		for o := 0; o < outer; o++ {
			for _, j := range idx {
				if j < 0 {
					j += int64(dim)
				}
				if j < 0 || j >= int64(dim) {
					return nil, c.errorf("index %d out of range for dim %d", j, dim)
				}
				for k := 0; k < inner; k++ {
					pos = append(pos, (o*dim+int(j))*inner+k)
				}
			}
		}
		infos, _ := inferGather(c)
		return []*ir.Tensor{take(x, pos, infos[0].Shape)}, nil
	case "Concat":
		infos, err := inferConcat(c)
		if err != nil {
			return nil, err
		}
		shape := infos[0].Shape
		axis, _ := normAxis(int(n.Int("axis", 0)), len(shape))
		outer := ir.NumElements(shape[:axis])
		inner := ir.NumElements(shape[axis+1:])
		res := &ir.Tensor{DType: in[0].DType, Shape: shape}
		for o := 0; o < outer; o++ {
			for _, t := range in {
				if t.DType != res.DType {
					return nil, c.errorf("inputs differ in dtype")
				}
				chunk := t.Shape[axis] * inner
				appendRange(res, t, o*chunk, (o+1)*chunk)
			}
		}
		return []*ir.Tensor{res}, nil
	case "Slice":
		starts, ends, axes, steps, err := SliceOperands(n, c.constant)
		if err != nil {
			return nil, err
		}
		x := in[0]
		spec, err := ResolveSlice(x.Shape, starts, ends, axes, steps)
		if err != nil {
			return nil, c.errorf("%v", err)
		}
		pos := make([]int, 0, ir.NumElements(spec.Count))
		forEachIndex(spec.Count, func(ix []int) {
			off := 0
			for d := range ix {
				off = off*x.Shape[d] + spec.Start[d] + ix[d]*spec.Step[d]
			}
			pos = append(pos, off)
		})
		return []*ir.Tensor{take(x, pos, spec.Count)}, nil
	case "Transpose":
		x := in[0]
		perm, err := Perm(n, len(x.Shape))
		if err != nil {
			return nil, err
		}
		outShape := make([]int, len(perm))
		for i, p := range perm {
			outShape[i] = x.Shape[p]
		}
		strides := make([]int, len(x.Shape))
		s := 1
		for d := len(x.Shape) - 1; d >= 0; d-- {
			strides[d] = s
			s *= x.Shape[d]
		}
		pos := make([]int, 0, x.Len())
		forEachIndex(outShape, func(ix []int) {
			off := 0
			for d, v := range ix {
				off += v * strides[perm[d]]
			}
			pos = append(pos, off)
		})
		return []*ir.Tensor{take(x, pos, outShape)}, nil
	case "Add", "Sub", "Mul", "Div":
		infos, err := inferBroadcast(c)
		if err != nil {
			return nil, err
		}
		return []*ir.Tensor{binaryConst(n.Op, in[0], in[1], infos[0].Shape)}, nil
	case "Sqrt", "Neg", "Abs", "Floor", "Ceil", "Reciprocal", "Relu":
		if in[0].DType != ir.Float32 {
			return nil, nil
		}
		x := in[0]
		r := &ir.Tensor{DType: ir.Float32, Shape: x.Shape, F32: make([]float32, len(x.F32))}
		for i, v := range x.F32 {
			r.F32[i] = unaryF32(n.Op, v)
		}
		return []*ir.Tensor{r}, nil
	}
	return nil, nil
}

func unaryF32(op string, v float32) float32 {
	switch op {
	case "Sqrt":
		return float32(math.Sqrt(float64(v)))
	case "Neg":
		return -v
	case "Abs":
		return float32(math.Abs(float64(v)))
	case "Floor":
		return float32(math.Floor(float64(v)))
	case "Ceil":
		return float32(math.Ceil(float64(v)))
	case "Reciprocal":
		return 1 / v
	case "Relu":
		return max(v, 0)
	}
	return v
}

// forEachIndex calls f with every multi-index of shape in row-major order.
func forEachIndex(shape []int, f func(ix []int)) {
	if ir.NumElements(shape) == 0 {
		return
	}
	ix := make([]int, len(shape))
	for {
		f(ix)
		d := len(shape) - 1
		for ; d >= 0; d-- {
			ix[d]++
			if ix[d] < shape[d] {
				break
			}
			ix[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// take builds a tensor of shape from the elements of t at positions pos.
func take(t *ir.Tensor, pos []int, shape []int) *ir.Tensor {
	r := &ir.Tensor{DType: t.DType, Shape: append([]int{}, shape...)}
	switch t.DType {
	case ir.Float32:
		r.F32 = make([]float32, len(pos))
		for i, p := range pos {
			r.F32[i] = t.F32[p]
		}
	case ir.Int64:
		r.I64 = make([]int64, len(pos))
		for i, p := range pos {
			r.I64[i] = t.I64[p]
		}
	case ir.Int32:
		r.I32 = make([]int32, len(pos))
		for i, p := range pos {
			r.I32[i] = t.I32[p]
		}
	case ir.Int8:
		r.I8 = make([]int8, len(pos))
		for i, p := range pos {
			r.I8[i] = t.I8[p]
		}
	case ir.Uint8, ir.Bool:
		r.U8 = make([]uint8, len(pos))
		for i, p := range pos {
			r.U8[i] = t.U8[p]
		}
	}
	return r
}

func appendRange(dst, src *ir.Tensor, a, b int) {
	switch src.DType {
	case ir.Float32:
		dst.F32 = append(dst.F32, src.F32[a:b]...)
	case ir.Int64:
		dst.I64 = append(dst.I64, src.I64[a:b]...)
	case ir.Int32:
		dst.I32 = append(dst.I32, src.I32[a:b]...)
	case ir.Int8:
		dst.I8 = append(dst.I8, src.I8[a:b]...)
	case ir.Uint8, ir.Bool:
		dst.U8 = append(dst.U8, src.U8[a:b]...)
	}
}

func castTensor(t *ir.Tensor, to ir.DType) *ir.Tensor {
	if t.DType == to {
		return t
	}
	r := &ir.Tensor{DType: to, Shape: t.Shape}
	if to == ir.Float32 {
		r.F32 = t.Floats()
		return r
	}
	var ints []int64
	if t.DType == ir.Float32 {
		ints = make([]int64, len(t.F32))
		for i, v := range t.F32 {
			ints[i] = int64(v) // truncation toward zero, as C casts
		}
	} else {
		ints = t.Ints()
	}
	switch to {
	case ir.Int64:
		r.I64 = ints
	case ir.Int32:
		r.I32 = make([]int32, len(ints))
		for i, v := range ints {
			r.I32[i] = int32(v)
		}
	case ir.Int8:
		r.I8 = make([]int8, len(ints))
		for i, v := range ints {
			r.I8[i] = int8(v)
		}
	case ir.Uint8:
		r.U8 = make([]uint8, len(ints))
		for i, v := range ints {
			r.U8[i] = uint8(v)
		}
	case ir.Bool:
		r.U8 = make([]uint8, len(ints))
		for i, v := range ints {
			if v != 0 {
				r.U8[i] = 1
			}
		}
	}
	return r
}

// broadcastIndex maps an output multi-index to the flat index of an
// operand of shape s (right-aligned, size-1 dims broadcast).
func broadcastIndex(ix []int, s []int) int {
	off := 0
	base := len(ix) - len(s)
	for d, n := range s {
		v := 0
		if n != 1 {
			v = ix[base+d]
		}
		off = off*n + v
	}
	return off
}

func binaryConst(op string, a, b *ir.Tensor, shape []int) *ir.Tensor {
	r := &ir.Tensor{Shape: shape}
	cnt := ir.NumElements(shape)
	if a.DType == ir.Float32 || b.DType == ir.Float32 {
		af, bf := a.Floats(), b.Floats()
		r.DType, r.F32 = ir.Float32, make([]float32, 0, cnt)
		forEachIndex(shape, func(ix []int) {
			x, y := af[broadcastIndex(ix, a.Shape)], bf[broadcastIndex(ix, b.Shape)]
			var v float32
			switch op {
			case "Add":
				v = x + y
			case "Sub":
				v = x - y
			case "Mul":
				v = x * y
			case "Div":
				v = x / y
			}
			r.F32 = append(r.F32, v)
		})
		return r
	}
	ai, bi := a.Ints(), b.Ints()
	vals := make([]int64, 0, cnt)
	forEachIndex(shape, func(ix []int) {
		x, y := ai[broadcastIndex(ix, a.Shape)], bi[broadcastIndex(ix, b.Shape)]
		var v int64
		switch op {
		case "Add":
			v = x + y
		case "Sub":
			v = x - y
		case "Mul":
			v = x * y
		case "Div":
			if y != 0 {
				v = x / y
			}
		}
		vals = append(vals, v)
	})
	return castTensor(&ir.Tensor{DType: ir.Int64, Shape: shape, I64: vals}, a.DType)
}

// constantValue reads a Constant node's value attribute in any of its forms.
func constantValue(n *ir.Node) (*ir.Tensor, error) {
	if a, ok := n.Attrs["value"]; ok && a.T != nil {
		return a.T, nil
	}
	if a, ok := n.Attrs["value_float"]; ok {
		return &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{a.F}}, nil
	}
	if a, ok := n.Attrs["value_floats"]; ok {
		return &ir.Tensor{DType: ir.Float32, Shape: []int{len(a.Floats)}, F32: a.Floats}, nil
	}
	if a, ok := n.Attrs["value_int"]; ok {
		return &ir.Tensor{DType: ir.Int64, Shape: []int{}, I64: []int64{a.I}}, nil
	}
	if a, ok := n.Attrs["value_ints"]; ok {
		return &ir.Tensor{DType: ir.Int64, Shape: []int{len(a.Ints)}, I64: a.Ints}, nil
	}
	return nil, fmt.Errorf("%s: no supported value attribute", n.Describe())
}
