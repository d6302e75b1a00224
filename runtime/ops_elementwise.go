package runtime

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/asm"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

func init() {
	for op := range unaryOps {
		lowerers[op] = lowerUnary
	}
	lowerers["Clip"] = lowerUnary
	lowerers["LeakyRelu"] = lowerUnary
	lowerers["HardSigmoid"] = lowerUnary
	lowerers["Elu"] = lowerUnary
	lowerers["Identity"] = lowerIdentity
	lowerers["Dropout"] = lowerIdentity
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Sum", "Mean", "Max", "Min"} {
		lowerers[op] = lowerBinary
	}
}

// elementChunk is the number of elements one work item of an elementwise
// step covers.
const elementChunk = 1 << 14

var unaryOps = map[string]func(float32) float32{
	"Relu":       func(x float32) float32 { return max(x, 0) },
	"Tanh":       func(x float32) float32 { return float32(math.Tanh(float64(x))) },
	"Sigmoid":    sigmoid,
	"HardSwish":  func(x float32) float32 { return x * min(max(x/6+0.5, 0), 1) },
	"Exp":        func(x float32) float32 { return float32(math.Exp(float64(x))) },
	"Sqrt":       func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
	"Abs":        func(x float32) float32 { return float32(math.Abs(float64(x))) },
	"Neg":        func(x float32) float32 { return -x },
	"Log":        func(x float32) float32 { return float32(math.Log(float64(x))) },
	"Floor":      func(x float32) float32 { return float32(math.Floor(float64(x))) },
	"Ceil":       func(x float32) float32 { return float32(math.Ceil(float64(x))) },
	"Reciprocal": func(x float32) float32 { return 1 / x },
	"Erf":        func(x float32) float32 { return float32(math.Erf(float64(x))) },
}

func sigmoid(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return float32(e / (1 + e))
}

// unaryFunc returns the scalar function of a unary node with its
// attributes bound.
func unaryFunc(l *lowering, n *ir.Node) (func(float32) float32, error) {
	switch n.Op {
	case "LeakyRelu":
		a := n.Float("alpha", 0.01)
		return func(x float32) float32 {
			if x < 0 {
				return a * x
			}
			return x
		}, nil
	case "Elu":
		a := float64(n.Float("alpha", 1))
		return func(x float32) float32 {
			if x < 0 {
				return float32(a * (math.Exp(float64(x)) - 1))
			}
			return x
		}, nil
	case "HardSigmoid":
		a, b := n.Float("alpha", 0.2), n.Float("beta", 0.5)
		return func(x float32) float32 { return min(max(a*x+b, 0), 1) }, nil
	case "Clip":
		lo, hi, ok := passes.ClipBounds(l.g, n)
		if !ok {
			return nil, &passes.Unsupported{Op: "Clip(runtime bounds)", Node: n.Name, Opset: l.g.Opset}
		}
		return func(x float32) float32 { return min(max(x, lo), hi) }, nil
	}
	f, ok := unaryOps[n.Op]
	if !ok {
		return nil, &passes.Unsupported{Op: n.Op, Node: n.Name, Opset: l.g.Opset}
	}
	return f, nil
}

func lowerUnary(l *lowering, n *ir.Node) error {
	x := l.in(0)
	if x.dtype != ir.Float32 {
		return fmt.Errorf("%s input is unsupported by the float engine", x.dtype)
	}
	if !x.contiguous() {
		x = l.copyValue(x, x.layout)
	}
	f, err := unaryFunc(l, n)
	if err != nil {
		return err
	}
	out := l.out(0, x.layout)
	total := x.numel()
	chunks := (total + elementChunk - 1) / elementChunk
	l.addStep(&step{op: n.Op, inputs: []*value{x}, outputs: []*value{out}, run: l.parallel(chunks, func(_, i int) {
		a, b := i*elementChunk, min((i+1)*elementChunk, total)
		src, dst := x.f32[a:b], out.f32[a:b]
		for j, v := range src {
			dst[j] = f(v)
		}
	})})
	return nil
}

// lowerIdentity makes Identity (and an unfolded Dropout) share its input's
// storage; Dropout's mask output, when read, is all ones.
func lowerIdentity(l *lowering, n *ir.Node) error {
	x := l.in(0)
	out := &value{name: n.Outputs[0], dtype: x.dtype, shape: x.shape, layout: x.layout, strides: x.strides, alias: x, konst: x.konst}
	if x.konst != nil {
		out.alias = nil
	}
	l.m.values = append(l.m.values, out)
	l.vals[out.name] = out
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		ones := &ir.Tensor{DType: ir.Bool, Shape: x.shape, U8: make([]uint8, x.numel())}
		for i := range ones.U8 {
			ones.U8[i] = 1
		}
		mask := l.newValue(n.Outputs[1], ir.Bool, x.shape, plain)
		mask.konst = ones
		l.vals[mask.name] = mask
	}
	return nil
}

// binaryKernel computes dst[i] = a[i·sa] ∘ b[i·sb] for i < n.
type binaryKernel func(dst, a, b []float32, n, sa, sb int)

var binaryKernels = map[string]binaryKernel{
	"Add": func(dst, a, b []float32, n, sa, sb int) {
		if sa == 1 && sb == 1 {
			a, b := a[:n], b[:n]
			for i := range dst[:n] {
				dst[i] = a[i] + b[i]
			}
			return
		}
		for i := range dst[:n] {
			dst[i] = a[i*sa] + b[i*sb]
		}
	},
	"Sub": func(dst, a, b []float32, n, sa, sb int) {
		for i := range dst[:n] {
			dst[i] = a[i*sa] - b[i*sb]
		}
	},
	"Mul": func(dst, a, b []float32, n, sa, sb int) {
		if sa == 1 && sb == 1 {
			a, b := a[:n], b[:n]
			for i := range dst[:n] {
				dst[i] = a[i] * b[i]
			}
			return
		}
		for i := range dst[:n] {
			dst[i] = a[i*sa] * b[i*sb]
		}
	},
	"Div": func(dst, a, b []float32, n, sa, sb int) {
		for i := range dst[:n] {
			dst[i] = a[i*sa] / b[i*sb]
		}
	},
	"Pow": func(dst, a, b []float32, n, sa, sb int) {
		for i := range dst[:n] {
			dst[i] = float32(math.Pow(float64(a[i*sa]), float64(b[i*sb])))
		}
	},
	"PRelu": func(dst, a, b []float32, n, sa, sb int) {
		for i := range dst[:n] {
			if x := a[i*sa]; x < 0 {
				dst[i] = x * b[i*sb]
			} else {
				dst[i] = x
			}
		}
	},
	"Max": func(dst, a, b []float32, n, sa, sb int) {
		for i := range dst[:n] {
			dst[i] = max(a[i*sa], b[i*sb])
		}
	},
	"Min": func(dst, a, b []float32, n, sa, sb int) {
		for i := range dst[:n] {
			dst[i] = min(a[i*sa], b[i*sb])
		}
	},
}

// broadcastPlan walks an output and two broadcast operands in the output's
// physical order, with dims merged where all three are contiguous.
type broadcastPlan struct {
	shape      []int
	so, sa, sb []int
}

// broadcastStrides returns v's logical strides right-aligned to rank,
// zero along broadcast dims.
func broadcastStrides(v *value, outShape []int) []int {
	r := len(outShape)
	s := make([]int, r)
	for i := range v.shape {
		d := r - len(v.shape) + i
		if v.shape[i] != 1 {
			s[d] = v.strides[i]
		}
	}
	return s
}

func newBroadcastPlan(out, a, b *value) *broadcastPlan {
	perm := physicalPerm(out.layout, len(out.shape))
	sa, sb := broadcastStrides(a, out.shape), broadcastStrides(b, out.shape)
	p := &broadcastPlan{}
	for _, d := range perm {
		n := out.shape[d]
		if n == 1 {
			continue
		}
		if k := len(p.shape); k > 0 && p.so[k-1] == out.strides[d]*n && p.sa[k-1] == sa[d]*n && p.sb[k-1] == sb[d]*n {
			p.shape[k-1] *= n
			p.so[k-1], p.sa[k-1], p.sb[k-1] = out.strides[d], sa[d], sb[d]
			continue
		}
		p.shape = append(p.shape, n)
		p.so = append(p.so, out.strides[d])
		p.sa = append(p.sa, sa[d])
		p.sb = append(p.sb, sb[d])
	}
	if len(p.shape) == 0 {
		p.shape, p.so, p.sa, p.sb = []int{1}, []int{1}, []int{0}, []int{0}
	}
	return p
}

// rows is the number of work items: the outer dim, or chunks of a flat one.
func (p *broadcastPlan) items() int {
	if len(p.shape) == 1 {
		return (p.shape[0] + elementChunk - 1) / elementChunk
	}
	return p.shape[0]
}

func (p *broadcastPlan) run(k binaryKernel, out, a, b []float32, item int) {
	if len(p.shape) == 1 {
		lo := item * elementChunk
		n := min(elementChunk, p.shape[0]-lo)
		k(out[lo*p.so[0]:], a[lo*p.sa[0]:], b[lo*p.sb[0]:], n, p.sa[0], p.sb[0])
		return
	}
	p.rec(k, out, a, b, 1, item*p.so[0], item*p.sa[0], item*p.sb[0])
}

func (p *broadcastPlan) rec(k binaryKernel, out, a, b []float32, d, oo, ao, bo int) {
	if d == len(p.shape)-1 {
		k(out[oo:], a[ao:], b[bo:], p.shape[d], p.sa[d], p.sb[d])
		return
	}
	for i := 0; i < p.shape[d]; i++ {
		p.rec(k, out, a, b, d+1, oo+i*p.so[d], ao+i*p.sa[d], bo+i*p.sb[d])
	}
}

// lowerBinary lowers two-operand and variadic elementwise ops with
// numpy broadcasting. The output takes the layout of the first full-size
// runtime operand, and every operand is read through its own strides, so a
// channels-last tensor plus a [1, C, 1, 1] constant needs no conversion.
func lowerBinary(l *lowering, n *ir.Node) error {
	info := l.g.ValueInfo[n.Outputs[0]]
	ins := make([]*value, 0, len(n.Inputs))
	lay := plain
	chosen := false
	for i := range n.Inputs {
		v := l.in(i)
		if v.dtype != ir.Float32 {
			return fmt.Errorf("%s operands are unsupported by the float engine", v.dtype)
		}
		ins = append(ins, v)
		if !chosen && v.konst == nil && equalShape(v.shape, info.Shape) {
			lay, chosen = v.layout, true
		}
	}
	out := l.out(0, lay)
	op := n.Op
	switch op {
	case "Sum", "Mean":
		op = "Add"
	}
	k := binaryKernels[op]
	// A fused activation of a two-operand op is applied in the same loop
	// (ResNet's Add → Relu); Mean and variadic sums clamp the final sum in
	// a step of their own.
	clamped := n.Has(passes.AttrClampMin) && len(ins) == 2 && n.Op != "Mean"
	if clamped {
		k = clampedKernel(op, k, clampAttr(n))
	}
	if len(ins) == 1 {
		// A one-input Sum/Mean/Max/Min is a copy.
		l.addStep(&step{op: n.Op, inputs: ins, outputs: []*value{out}, run: copier(out, ins[0])})
		return nil
	}
	if n.Op == "PRelu" {
		// A legacy per-channel slope [C] broadcasts as [C, 1, …, 1].
		if shape := passes.PReluSlopeShape(ins[0].shape, ins[1].shape); !equalShape(shape, ins[1].shape) {
			s := *ins[1]
			s.shape, s.strides, s.alias = shape, plainStrides(shape), ins[1]
			if s.konst != nil {
				s.alias = nil
			}
			ins[1] = &s
			l.m.values = append(l.m.values, &s)
		}
	}
	acc := ins[0]
	for i := 1; i < len(ins); i++ {
		p := newBroadcastPlan(out, acc, ins[i])
		a, b := acc, ins[i]
		name := n.Op
		if clamped {
			name += "+Clip"
		}
		l.addStep(&step{op: name, inputs: []*value{a, b}, outputs: []*value{out}, run: l.parallel(p.items(), func(_, item int) {
			p.run(k, out.f32, a.f32, b.f32, item)
		})})
		acc = out
	}
	if n.Op == "Mean" {
		scale := l.newValue(out.name+"/scale", ir.Float32, []int{}, plain)
		scale.konst = &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{1 / float32(len(ins))}}
		p := newBroadcastPlan(out, out, scale)
		mul := binaryKernels["Mul"]
		l.addStep(&step{op: n.Op, inputs: []*value{out, scale}, outputs: []*value{out}, run: l.parallel(p.items(), func(_, item int) {
			p.run(mul, out.f32, out.f32, scale.f32, item)
		})})
	}
	if !clamped {
		l.applyClamp(n, out)
	}
	return nil
}

// clampedKernel is k followed by the clamp of a fused activation, with
// the same min(max(x, lo), hi) as applyClamp (a NaN stays NaN); Add
// clamps in its own loop.
func clampedKernel(op string, k binaryKernel, c asm.Clamp) binaryKernel {
	lo, hi := c.Min, c.Max
	if op == "Add" {
		return func(dst, a, b []float32, n, sa, sb int) {
			if sa == 1 && sb == 1 {
				a, b := a[:n], b[:n]
				for i := range dst[:n] {
					dst[i] = min(max(a[i]+b[i], lo), hi)
				}
				return
			}
			for i := range dst[:n] {
				dst[i] = min(max(a[i*sa]+b[i*sb], lo), hi)
			}
		}
	}
	return func(dst, a, b []float32, n, sa, sb int) {
		k(dst, a, b, n, sa, sb)
		for i, x := range dst[:n] {
			dst[i] = min(max(x, lo), hi)
		}
	}
}

func equalShape(a, b []int) bool {
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

// applyClamp adds a clamp step for a fused activation (ei_clamp_min/max)
// on an op whose kernel has no epilogue for it (TFLite fuses activations
// into ADD, MUL, pooling and concatenation).
func (l *lowering) applyClamp(n *ir.Node, out *value) {
	if !n.Has(passes.AttrClampMin) || out.dtype != ir.Float32 {
		return
	}
	c := clampAttr(n)
	lo, hi := c.Min, c.Max
	total := out.span()
	chunks := (total + elementChunk - 1) / elementChunk
	l.addStep(&step{op: "Clip", inputs: []*value{out}, outputs: []*value{out}, run: l.parallel(chunks, func(_, i int) {
		v := out.f32[i*elementChunk : min((i+1)*elementChunk, total)]
		for j, x := range v {
			v[j] = min(max(x, lo), hi)
		}
	})})
}
