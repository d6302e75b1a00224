package passes

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Unsupported is returned for an operator the runtime does not implement;
// the message names op type, node and opset.
type Unsupported struct {
	Op, Node string
	Opset    int
}

func (e *Unsupported) Error() string {
	return fmt.Sprintf("unsupported operator %s (node %q, opset %d)", e.Op, e.Node, e.Opset)
}

// inferCtx is what a shape function sees: the node, its input value
// infos (nil for absent optional inputs) and the constant inputs (nil where
// not constant).
type inferCtx struct {
	g      *ir.Graph
	n      *ir.Node
	in     []*ir.ValueInfo
	consts []*ir.Tensor
}

func (c *inferCtx) shape(i int) []int {
	if i < len(c.in) && c.in[i] != nil {
		return c.in[i].Shape
	}
	return nil
}

func (c *inferCtx) dtype(i int) ir.DType {
	if i < len(c.in) && c.in[i] != nil {
		return c.in[i].DType
	}
	return ir.Undefined
}

func (c *inferCtx) constant(i int) *ir.Tensor {
	if i < len(c.consts) {
		return c.consts[i]
	}
	return nil
}

func (c *inferCtx) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", c.n.Describe(), fmt.Sprintf(format, args...))
}

func vi(dt ir.DType, shape []int) *ir.ValueInfo { return &ir.ValueInfo{DType: dt, Shape: shape} }

type shapeFunc func(c *inferCtx) ([]*ir.ValueInfo, error)

// shapeFuncs lists every operator the runtime supports; an op not in this
// table is reported as unsupported.
var shapeFuncs map[string]shapeFunc

func init() {
	same := func(c *inferCtx) ([]*ir.ValueInfo, error) {
		return []*ir.ValueInfo{vi(c.dtype(0), c.shape(0))}, nil
	}
	shapeFuncs = map[string]shapeFunc{
		"Conv": inferConv, "MaxPool": inferPool, "AveragePool": inferPool,
		"GlobalAveragePool": inferGlobalPool, "GlobalMaxPool": inferGlobalPool,
		"BatchNormalization": same, "Relu": same, "LeakyRelu": same, "Tanh": same,
		"Sigmoid": same, "HardSigmoid": same, "HardSwish": same, "Clip": same, "Softmax": same,
		"LogSoftmax": same, "LRN": same, "Exp": same, "Sqrt": same, "Abs": same, "Neg": same,
		"Log": same, "Floor": same, "Ceil": same, "Reciprocal": same, "Elu": same,
		"Identity": same, "Erf": same,
		"Dropout": inferDropout,
		"PRelu":   inferPRelu,
		"Add":     inferBroadcast, "Sub": inferBroadcast, "Mul": inferBroadcast, "Div": inferBroadcast,
		"Pow": inferBroadcast,
		"Sum": inferBroadcast, "Mean": inferBroadcast, "Max": inferBroadcast, "Min": inferBroadcast,
		"Gemm": inferGemm, "MatMul": inferMatMul,
		"Concat": inferConcat, "Flatten": inferFlatten, "Reshape": inferReshape,
		"Transpose": inferTranspose, "Split": inferSplit, "Slice": inferSlice, "Pad": inferPad,
		"Squeeze": inferSqueeze, "Unsqueeze": inferUnsqueeze, "Shape": inferShapeOp,
		"Gather": inferGather, "Cast": inferCast, "Constant": inferConstant,
		"ConstantOfShape": inferConstantOfShape, "ReduceMean": inferReduce,
		"ReduceMax": inferReduce, "ReduceSum": inferReduce,
		"QuantizeLinear": inferQuantize, "DequantizeLinear": inferDequantize,
	}
}

// Supported reports whether the runtime implements op (default domain).
func Supported(op string) bool { _, ok := shapeFuncs[op]; return ok }

func broadcastShapes(a, b []int) ([]int, bool) {
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
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, false
		}
	}
	return out, true
}

func inferBroadcast(c *inferCtx) ([]*ir.ValueInfo, error) {
	shape := c.shape(0)
	for i := 1; i < len(c.in); i++ {
		s, ok := broadcastShapes(shape, c.shape(i))
		if !ok {
			return nil, c.errorf("shapes %v and %v do not broadcast", shape, c.shape(i))
		}
		shape = s
	}
	return []*ir.ValueInfo{vi(c.dtype(0), shape)}, nil
}

// PReluSlopeShape returns the shape the slope broadcasts with: opset < 7
// (and PyTorch's legacy export) gives a 1-D per-channel slope for an
// N-D input, which means [C, 1, …, 1].
func PReluSlopeShape(x, slope []int) []int {
	if _, ok := broadcastShapes(x, slope); ok || len(slope) != 1 || len(x) < 3 || slope[0] != x[1] {
		return slope
	}
	s := []int{slope[0]}
	for range x[2:] {
		s = append(s, 1)
	}
	return s
}

func inferPRelu(c *inferCtx) ([]*ir.ValueInfo, error) {
	x, s := c.shape(0), PReluSlopeShape(c.shape(0), c.shape(1))
	out, ok := broadcastShapes(x, s)
	if !ok || !equalInts(out, x) {
		return nil, c.errorf("slope %v does not broadcast to input %v", c.shape(1), x)
	}
	return []*ir.ValueInfo{vi(c.dtype(0), x)}, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func inferDropout(c *inferCtx) ([]*ir.ValueInfo, error) {
	out := []*ir.ValueInfo{vi(c.dtype(0), c.shape(0))}
	if len(c.n.Outputs) > 1 {
		out = append(out, vi(ir.Bool, c.shape(0)))
	}
	return out, nil
}

// spatialAttrs reads kernel/stride/dilation/pad attributes for a node with
// spatial input dims in (1 or 2 of them), resolving auto_pad into explicit
// pads and writing them back so later stages read one form.
func spatialAttrs(c *inferCtx, in []int, kernel []int, ceil bool) (out []int, err error) {
	n := c.n
	nd := len(in)
	get := func(name string, def int64) []int {
		v := n.Ints(name)
		if v == nil {
			r := make([]int, nd)
			for i := range r {
				r[i] = int(def)
			}
			return r
		}
		r := make([]int, len(v))
		for i, x := range v {
			r[i] = int(x)
		}
		return r
	}
	strides, dil := get("strides", 1), get("dilations", 1)
	pads := get("pads", 0)
	if len(pads) == nd {
		pads = append(pads, pads...)
	}
	if len(strides) != nd || len(dil) != nd || len(pads) != 2*nd || len(kernel) != nd {
		return nil, c.errorf("attribute lengths do not match %d spatial dims", nd)
	}
	for i := 0; i < nd; i++ {
		if strides[i] <= 0 || dil[i] <= 0 || kernel[i] <= 0 || pads[i] < 0 || pads[i+nd] < 0 {
			return nil, c.errorf("invalid kernel/stride/dilation/pad")
		}
	}
	out = make([]int, nd)
	autoPad := n.String("auto_pad", "NOTSET")
	for i := 0; i < nd; i++ {
		ek := dil[i]*(kernel[i]-1) + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out[i] = (in[i] + strides[i] - 1) / strides[i]
			total := max(0, (out[i]-1)*strides[i]+ek-in[i])
			lo := total / 2
			if autoPad == "SAME_LOWER" {
				lo = total - total/2
			}
			pads[i], pads[i+nd] = lo, total-lo
		case "VALID":
			pads[i], pads[i+nd] = 0, 0
			out[i] = (in[i]-ek)/strides[i] + 1
		case "NOTSET", "":
			span := in[i] + pads[i] + pads[i+nd] - ek
			if span < 0 {
				return nil, c.errorf("kernel %d larger than padded input %d", ek, in[i]+pads[i]+pads[i+nd])
			}
			if ceil {
				out[i] = (span+strides[i]-1)/strides[i] + 1
				// The last window must start inside the input or the
				// begin padding (PyTorch and ONNX since opset 19).
				if (out[i]-1)*strides[i] >= in[i]+pads[i] {
					out[i]--
				}
			} else {
				out[i] = span/strides[i] + 1
			}
		default:
			return nil, c.errorf("unknown auto_pad %q", autoPad)
		}
		if out[i] <= 0 {
			return nil, c.errorf("output size %d is not positive", out[i])
		}
	}
	p64 := make([]int64, len(pads))
	for i, p := range pads {
		p64[i] = int64(p)
	}
	n.SetInts("pads", p64...)
	s64, d64, k64 := make([]int64, nd), make([]int64, nd), make([]int64, nd)
	for i := 0; i < nd; i++ {
		s64[i], d64[i], k64[i] = int64(strides[i]), int64(dil[i]), int64(kernel[i])
	}
	n.SetInts("strides", s64...)
	n.SetInts("dilations", d64...)
	n.SetInts("kernel_shape", k64...)
	delete(n.Attrs, "auto_pad")
	return out, nil
}

func inferConv(c *inferCtx) ([]*ir.ValueInfo, error) {
	x, w := c.shape(0), c.shape(1)
	if len(x) < 3 || len(x) > 4 || len(w) != len(x) {
		return nil, c.errorf("input %v and weight %v must be 3-D or 4-D alike", x, w)
	}
	group := int(c.n.Int("group", 1))
	if group <= 0 || x[1]%group != 0 || w[0]%group != 0 || w[1]*group != x[1] {
		return nil, c.errorf("channels %d, weight %v and group %d disagree", x[1], w, group)
	}
	kernel := w[2:]
	if ks := c.n.Ints("kernel_shape"); ks != nil {
		for i, k := range ks {
			if i >= len(kernel) || int(k) != kernel[i] {
				return nil, c.errorf("kernel_shape %v disagrees with weight %v", ks, w)
			}
		}
	}
	if b := c.shape(2); c.n.Input(2) != "" && (len(b) != 1 || b[0] != w[0]) {
		return nil, c.errorf("bias shape %v, want [%d]", b, w[0])
	}
	sp, err := spatialAttrs(c, x[2:], kernel, false)
	if err != nil {
		return nil, err
	}
	return []*ir.ValueInfo{vi(ir.Float32, append([]int{x[0], w[0]}, sp...))}, nil
}

func inferPool(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	if len(x) < 3 || len(x) > 4 {
		return nil, c.errorf("input %v must be 3-D or 4-D", x)
	}
	ks := c.n.Ints("kernel_shape")
	if len(ks) != len(x)-2 {
		return nil, c.errorf("kernel_shape %v does not match input %v", ks, x)
	}
	kernel := make([]int, len(ks))
	for i, k := range ks {
		kernel[i] = int(k)
	}
	if c.n.Int("storage_order", 0) != 0 {
		return nil, &Unsupported{Op: c.n.Op + "(storage_order=1)", Node: c.n.Name, Opset: c.g.Opset}
	}
	if len(c.n.Outputs) > 1 && c.n.Outputs[1] != "" {
		return nil, &Unsupported{Op: c.n.Op + "(Indices output)", Node: c.n.Name, Opset: c.g.Opset}
	}
	sp, err := spatialAttrs(c, x[2:], kernel, c.n.Int("ceil_mode", 0) != 0)
	if err != nil {
		return nil, err
	}
	return []*ir.ValueInfo{vi(c.dtype(0), append([]int{x[0], x[1]}, sp...))}, nil
}

func inferGlobalPool(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	if len(x) < 3 {
		return nil, c.errorf("input %v must have spatial dims", x)
	}
	out := []int{x[0], x[1]}
	for range x[2:] {
		out = append(out, 1)
	}
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

func inferGemm(c *inferCtx) ([]*ir.ValueInfo, error) {
	a, b := c.shape(0), c.shape(1)
	if len(a) != 2 || len(b) != 2 {
		return nil, c.errorf("Gemm needs 2-D inputs, got %v and %v", a, b)
	}
	m, k := a[0], a[1]
	if c.n.Int("transA", 0) != 0 {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if c.n.Int("transB", 0) != 0 {
		kb, n = n, kb
	}
	if k != kb {
		return nil, c.errorf("inner dimensions %d and %d differ", k, kb)
	}
	if c.n.Input(2) != "" {
		if _, ok := broadcastShapes([]int{m, n}, c.shape(2)); !ok {
			return nil, c.errorf("C of shape %v does not broadcast to [%d %d]", c.shape(2), m, n)
		}
	}
	return []*ir.ValueInfo{vi(ir.Float32, []int{m, n})}, nil
}

func inferMatMul(c *inferCtx) ([]*ir.ValueInfo, error) {
	a, b := c.shape(0), c.shape(1)
	if len(a) == 0 || len(b) == 0 {
		return nil, c.errorf("MatMul of a scalar")
	}
	a1, b1 := a, b
	if len(a) == 1 {
		a1 = []int{1, a[0]}
	}
	if len(b) == 1 {
		b1 = []int{b[0], 1}
	}
	if a1[len(a1)-1] != b1[len(b1)-2] {
		return nil, c.errorf("inner dimensions of %v and %v differ", a, b)
	}
	batch, ok := broadcastShapes(a1[:len(a1)-2], b1[:len(b1)-2])
	if !ok {
		return nil, c.errorf("batch dims of %v and %v do not broadcast", a, b)
	}
	out := append(batch, a1[len(a1)-2], b1[len(b1)-1])
	if len(a) == 1 {
		out = append(out[:len(out)-2], out[len(out)-1])
	}
	if len(b) == 1 {
		out = out[:len(out)-1]
	}
	return []*ir.ValueInfo{vi(ir.Float32, out)}, nil
}

func normAxis(axis, rank int) (int, bool) {
	if axis < 0 {
		axis += rank
	}
	return axis, axis >= 0 && axis < rank
}

func inferConcat(c *inferCtx) ([]*ir.ValueInfo, error) {
	first := c.shape(0)
	axis, ok := normAxis(int(c.n.Int("axis", 0)), len(first))
	if !ok {
		return nil, c.errorf("axis %d out of range for rank %d", c.n.Int("axis", 0), len(first))
	}
	out := append([]int(nil), first...)
	for i := 1; i < len(c.in); i++ {
		s := c.shape(i)
		if len(s) != len(first) {
			return nil, c.errorf("input %d has rank %d, want %d", i, len(s), len(first))
		}
		for d := range s {
			if d == axis {
				out[d] += s[d]
			} else if s[d] != first[d] {
				return nil, c.errorf("input %d shape %v does not match %v off axis %d", i, s, first, axis)
			}
		}
	}
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

func inferFlatten(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	axis := int(c.n.Int("axis", 1))
	if axis < 0 {
		axis += len(x)
	}
	if axis < 0 || axis > len(x) {
		return nil, c.errorf("axis %d out of range for rank %d", c.n.Int("axis", 1), len(x))
	}
	return []*ir.ValueInfo{vi(c.dtype(0), []int{ir.NumElements(x[:axis]), ir.NumElements(x[axis:])})}, nil
}

// targetShape resolves Reshape's shape operand (0 = copy, -1 = infer).
func targetShape(c *inferCtx, x []int, spec []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(spec))
	infer := -1
	known := 1
	for i, s := range spec {
		switch {
		case s == 0 && !allowZero:
			if i >= len(x) {
				return nil, c.errorf("shape %v copies dim %d of a rank-%d input", spec, i, len(x))
			}
			out[i] = x[i]
		case s == -1:
			if infer >= 0 {
				return nil, c.errorf("shape %v has two -1 dims", spec)
			}
			infer = i
			continue
		case s < -1:
			return nil, c.errorf("invalid dim %d in shape %v", s, spec)
		default:
			out[i] = int(s)
		}
		known *= out[i]
	}
	total := ir.NumElements(x)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, c.errorf("cannot reshape %v to %v", x, spec)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, c.errorf("cannot reshape %v (%d elements) to %v", x, total, spec)
	}
	return out, nil
}

func inferReshape(c *inferCtx) ([]*ir.ValueInfo, error) {
	var spec []int64
	if t := c.constant(1); t != nil {
		spec = t.Ints()
	} else if s := c.n.Ints("shape"); s != nil && c.n.Input(1) == "" {
		spec = s // opset 1-4
	} else {
		return nil, c.errorf("shape operand is not constant (dynamic shapes are unsupported)")
	}
	out, err := targetShape(c, c.shape(0), spec, c.n.Int("allowzero", 0) != 0)
	if err != nil {
		return nil, err
	}
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

// Perm returns a Transpose node's permutation for rank r (default reversed).
func Perm(n *ir.Node, r int) ([]int, error) {
	p := n.Ints("perm")
	perm := make([]int, r)
	if p == nil {
		for i := range perm {
			perm[i] = r - 1 - i
		}
		return perm, nil
	}
	if len(p) != r {
		return nil, fmt.Errorf("%s: perm %v for rank %d", n.Describe(), p, r)
	}
	seen := make([]bool, r)
	for i, v := range p {
		if v < 0 || int(v) >= r || seen[v] {
			return nil, fmt.Errorf("%s: invalid perm %v", n.Describe(), p)
		}
		seen[v] = true
		perm[i] = int(v)
	}
	return perm, nil
}

func inferTranspose(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	perm, err := Perm(c.n, len(x))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(x))
	for i, p := range perm {
		out[i] = x[p]
	}
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

// SplitSizes returns the sizes of a Split node's outputs along axis.
func SplitSizes(n *ir.Node, dim int, splitInput *ir.Tensor) ([]int, error) {
	var split []int64
	if splitInput != nil {
		split = splitInput.Ints()
	} else if s := n.Ints("split"); s != nil {
		split = s
	}
	nout := len(n.Outputs)
	if split == nil {
		if no := n.Int("num_outputs", 0); no > 0 {
			nout = int(no)
		}
		if nout <= 0 {
			return nil, fmt.Errorf("%s: no outputs", n.Describe())
		}
		chunk := (dim + nout - 1) / nout
		sizes := make([]int, nout)
		rest := dim
		for i := range sizes {
			sizes[i] = min(chunk, rest)
			rest -= sizes[i]
		}
		return sizes, nil
	}
	sizes := make([]int, len(split))
	total := 0
	for i, s := range split {
		if s < 0 {
			return nil, fmt.Errorf("%s: negative split %v", n.Describe(), split)
		}
		sizes[i] = int(s)
		total += int(s)
	}
	if total != dim || len(sizes) != len(n.Outputs) {
		return nil, fmt.Errorf("%s: split %v does not cover dim %d in %d outputs", n.Describe(), split, dim, len(n.Outputs))
	}
	return sizes, nil
}

func inferSplit(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	axis, ok := normAxis(int(c.n.Int("axis", 0)), len(x))
	if !ok {
		return nil, c.errorf("axis out of range")
	}
	if c.n.Input(1) != "" && c.constant(1) == nil {
		return nil, c.errorf("split sizes are not constant")
	}
	sizes, err := SplitSizes(c.n, x[axis], c.constant(1))
	if err != nil {
		return nil, err
	}
	outs := make([]*ir.ValueInfo, len(sizes))
	for i, s := range sizes {
		sh := append([]int(nil), x...)
		sh[axis] = s
		outs[i] = vi(c.dtype(0), sh)
	}
	return outs, nil
}

// SliceSpec is a resolved Slice: per dimension start, step and count.
type SliceSpec struct{ Start, Step, Count []int }

// ResolveSlice clamps Slice's starts/ends/axes/steps against shape x.
func ResolveSlice(x []int, starts, ends, axes, steps []int64) (SliceSpec, error) {
	r := len(x)
	s := SliceSpec{Start: make([]int, r), Step: make([]int, r), Count: make([]int, r)}
	for i := range x {
		s.Start[i], s.Step[i], s.Count[i] = 0, 1, x[i]
	}
	if len(ends) != len(starts) {
		return s, fmt.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if len(axes) != len(starts) || (steps != nil && len(steps) != len(starts)) {
		return s, fmt.Errorf("axes/steps lengths do not match starts")
	}
	for i, a64 := range axes {
		a, ok := normAxis(int(a64), r)
		if !ok {
			return s, fmt.Errorf("axis %d out of range", a64)
		}
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return s, fmt.Errorf("step 0")
		}
		dim := int64(x[a])
		st, en := starts[i], ends[i]
		if st < 0 {
			st += dim
		}
		if en < 0 {
			en += dim
		}
		if step > 0 {
			st = min(max(st, 0), dim)
			en = min(max(en, 0), dim)
		} else {
			st = min(max(st, 0), dim-1)
			en = min(max(en, -1), dim-1)
		}
		cnt := int64(0)
		if step > 0 && en > st {
			cnt = (en - st + step - 1) / step
		} else if step < 0 && st > en {
			cnt = (st - en + (-step) - 1) / (-step)
		}
		s.Start[a], s.Step[a], s.Count[a] = int(st), int(step), int(cnt)
	}
	return s, nil
}

// SliceOperands returns starts, ends, axes, steps from inputs (opset ≥ 10)
// or attributes (opset < 10).
func SliceOperands(n *ir.Node, consts func(i int) *ir.Tensor) (starts, ends, axes, steps []int64, err error) {
	if n.Input(1) == "" {
		return n.Ints("starts"), n.Ints("ends"), n.Ints("axes"), nil, nil
	}
	get := func(i int) ([]int64, error) {
		if n.Input(i) == "" {
			return nil, nil
		}
		t := consts(i)
		if t == nil {
			return nil, fmt.Errorf("%s: input %d is not constant", n.Describe(), i)
		}
		return t.Ints(), nil
	}
	if starts, err = get(1); err != nil {
		return
	}
	if ends, err = get(2); err != nil {
		return
	}
	if axes, err = get(3); err != nil {
		return
	}
	steps, err = get(4)
	return
}

func inferSlice(c *inferCtx) ([]*ir.ValueInfo, error) {
	starts, ends, axes, steps, err := SliceOperands(c.n, c.constant)
	if err != nil {
		return nil, err
	}
	spec, err := ResolveSlice(c.shape(0), starts, ends, axes, steps)
	if err != nil {
		return nil, c.errorf("%v", err)
	}
	return []*ir.ValueInfo{vi(c.dtype(0), spec.Count)}, nil
}

// PadOperands returns Pad's pads ([begin..., end...] over all dims), the
// constant value and the mode, from inputs (opset ≥ 11) or attributes.
func PadOperands(n *ir.Node, rank int, consts func(i int) *ir.Tensor) (pads []int, value float32, mode string, err error) {
	mode = n.String("mode", "constant")
	var p []int64
	if n.Input(1) != "" {
		t := consts(1)
		if t == nil {
			return nil, 0, "", fmt.Errorf("%s: pads are not constant", n.Describe())
		}
		p = t.Ints()
		if n.Input(2) != "" {
			v := consts(2)
			if v == nil || v.Len() != 1 {
				return nil, 0, "", fmt.Errorf("%s: constant_value is not a constant scalar", n.Describe())
			}
			value = v.Floats()[0]
		}
		if n.Input(3) != "" {
			at := consts(3)
			if at == nil {
				return nil, 0, "", fmt.Errorf("%s: axes are not constant", n.Describe())
			}
			axes := at.Ints()
			if len(p) != 2*len(axes) {
				return nil, 0, "", fmt.Errorf("%s: %d pads for %d axes", n.Describe(), len(p), len(axes))
			}
			full := make([]int64, 2*rank)
			for i, a := range axes {
				ax, ok := normAxis(int(a), rank)
				if !ok {
					return nil, 0, "", fmt.Errorf("%s: axis %d out of range", n.Describe(), a)
				}
				full[ax], full[ax+rank] = p[i], p[i+len(axes)]
			}
			p = full
		}
	} else {
		p = n.Ints("pads")
		value = n.Float("value", 0)
	}
	if len(p) != 2*rank {
		return nil, 0, "", fmt.Errorf("%s: %d pads for rank %d", n.Describe(), len(p), rank)
	}
	pads = make([]int, len(p))
	for i, v := range p {
		pads[i] = int(v)
	}
	switch mode {
	case "constant", "reflect", "edge":
	default:
		return nil, 0, "", &Unsupported{Op: "Pad(mode=" + mode + ")", Node: n.Name}
	}
	return pads, value, mode, nil
}

func inferPad(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	pads, _, mode, err := PadOperands(c.n, len(x), c.constant)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(x))
	for i := range x {
		out[i] = x[i] + pads[i] + pads[i+len(x)]
		if out[i] < 0 {
			return nil, c.errorf("pads %v make dim %d negative", pads, i)
		}
		if mode == "reflect" && (pads[i] >= x[i] || pads[i+len(x)] >= x[i]) && (pads[i] > 0 || pads[i+len(x)] > 0) {
			return nil, c.errorf("reflect pad %v too large for dim %d", pads, x[i])
		}
	}
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

func axesOperand(c *inferCtx, idx int) ([]int64, error) {
	if c.n.Input(idx) != "" {
		t := c.constant(idx)
		if t == nil {
			return nil, c.errorf("axes are not constant")
		}
		return t.Ints(), nil
	}
	return c.n.Ints("axes"), nil
}

func inferSqueeze(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	axes, err := axesOperand(c, 1)
	if err != nil {
		return nil, err
	}
	drop := make([]bool, len(x))
	if axes == nil {
		for i, d := range x {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, ok := normAxis(int(a), len(x))
		if !ok || x[ax] != 1 {
			return nil, c.errorf("cannot squeeze axis %d of %v", a, x)
		}
		drop[ax] = true
	}
	var out []int
	for i, d := range x {
		if !drop[i] {
			out = append(out, d)
		}
	}
	if out == nil {
		out = []int{}
	}
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

func inferUnsqueeze(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	axes, err := axesOperand(c, 1)
	if err != nil {
		return nil, err
	}
	r := len(x) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		ax, ok := normAxis(int(a), r)
		if !ok || ins[ax] {
			return nil, c.errorf("invalid axes %v for rank %d", axes, len(x))
		}
		ins[ax] = true
	}
	out := make([]int, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, x[j])
			j++
		}
	}
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

func inferShapeOp(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	st, en := shapeRange(c.n, len(x))
	return []*ir.ValueInfo{vi(ir.Int64, []int{en - st})}, nil
}

func shapeRange(n *ir.Node, r int) (int, int) {
	clamp := func(v int64) int {
		if v < 0 {
			v += int64(r)
		}
		return int(min(max(v, 0), int64(r)))
	}
	st := clamp(n.Int("start", 0))
	en := clamp(n.Int("end", int64(r)))
	return st, max(st, en)
}

func inferGather(c *inferCtx) ([]*ir.ValueInfo, error) {
	x, idx := c.shape(0), c.shape(1)
	axis, ok := normAxis(int(c.n.Int("axis", 0)), len(x))
	if !ok {
		return nil, c.errorf("axis out of range")
	}
	out := append(append(append([]int{}, x[:axis]...), idx...), x[axis+1:]...)
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

var onnxCast = map[int64]ir.DType{1: ir.Float32, 2: ir.Uint8, 3: ir.Int8, 6: ir.Int32, 7: ir.Int64, 9: ir.Bool, 11: ir.Float32, 10: ir.Float32}

func inferCast(c *inferCtx) ([]*ir.ValueInfo, error) {
	to, ok := onnxCast[c.n.Int("to", 0)]
	if !ok {
		return nil, &Unsupported{Op: fmt.Sprintf("Cast(to=%d)", c.n.Int("to", 0)), Node: c.n.Name, Opset: c.g.Opset}
	}
	return []*ir.ValueInfo{vi(to, c.shape(0))}, nil
}

func inferConstant(c *inferCtx) ([]*ir.ValueInfo, error) {
	t, err := constantValue(c.n)
	if err != nil {
		return nil, err
	}
	return []*ir.ValueInfo{vi(t.DType, t.Shape)}, nil
}

func inferConstantOfShape(c *inferCtx) ([]*ir.ValueInfo, error) {
	t := c.constant(0)
	if t == nil {
		return nil, c.errorf("shape is not constant")
	}
	shape := make([]int, 0, t.Len())
	for _, d := range t.Ints() {
		if d < 0 || d > 1<<31 {
			return nil, c.errorf("invalid dim %d", d)
		}
		shape = append(shape, int(d))
	}
	dt := ir.Float32
	if a, ok := c.n.Attrs["value"]; ok && a.T != nil {
		dt = a.T.DType
	}
	return []*ir.ValueInfo{vi(dt, shape)}, nil
}

// ReduceAxes returns the reduced axes of a Reduce* node (all when empty
// and noop_with_empty_axes is 0).
func ReduceAxes(n *ir.Node, rank int, axesInput *ir.Tensor) ([]bool, error) {
	var axes []int64
	if axesInput != nil {
		axes = axesInput.Ints()
	} else {
		axes = n.Ints("axes")
	}
	red := make([]bool, rank)
	if len(axes) == 0 {
		if n.Int("noop_with_empty_axes", 0) == 0 {
			for i := range red {
				red[i] = true
			}
		}
		return red, nil
	}
	for _, a := range axes {
		ax, ok := normAxis(int(a), rank)
		if !ok {
			return nil, fmt.Errorf("%s: axis %d out of range", n.Describe(), a)
		}
		red[ax] = true
	}
	return red, nil
}

func inferReduce(c *inferCtx) ([]*ir.ValueInfo, error) {
	x := c.shape(0)
	if c.n.Input(1) != "" && c.constant(1) == nil {
		return nil, c.errorf("axes are not constant")
	}
	red, err := ReduceAxes(c.n, len(x), c.constant(1))
	if err != nil {
		return nil, err
	}
	keep := c.n.Int("keepdims", 1) != 0
	out := []int{}
	for i, d := range x {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return []*ir.ValueInfo{vi(c.dtype(0), out)}, nil
}

// constOperands lists, per op, the input positions the runtime needs as
// constants at prepare time (weights, and operands that determine shapes).
var constOperands = map[string][]int{
	"Conv": {1, 2}, "BatchNormalization": {1, 2, 3, 4}, "Clip": {1, 2}, "Pad": {1, 2, 3},
	"Reshape": {1}, "Slice": {1, 2, 3, 4}, "Split": {1}, "Squeeze": {1}, "Unsqueeze": {1},
	"ReduceMean": {1}, "ReduceSum": {1}, "ReduceMax": {1}, "ConstantOfShape": {0},
}

// RequiresConstant reports whether input i of op must be a constant when
// the model is prepared. A caller holding such an operand as a graph input
// freezes it first (ir.Graph.Freeze).
func RequiresConstant(op string, i int) bool {
	for _, j := range constOperands[op] {
		if i == j {
			return true
		}
	}
	return false
}

// inferQuantize: QuantizeLinear's output type is its zero point's type
// (uint8 when absent), unless a reader annotated the value.
func inferQuantize(c *inferCtx) ([]*ir.ValueInfo, error) {
	dt := ir.Uint8
	if z := c.constant(2); z != nil {
		dt = z.DType
	}
	return []*ir.ValueInfo{vi(dt, c.shape(0))}, nil
}

func inferDequantize(c *inferCtx) ([]*ir.ValueInfo, error) {
	return []*ir.ValueInfo{vi(ir.Float32, c.shape(0))}, nil
}
