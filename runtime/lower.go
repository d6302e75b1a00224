package runtime

import (
	"fmt"
	"unsafe"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

func addrOf(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

// lowerFunc turns one node into steps.
type lowerFunc func(l *lowering, n *ir.Node) error

// lowerers is filled by the ops_*.go files; qlowerers holds the int8
// versions, chosen when a node's first input is quantised.
var (
	lowerers  = map[string]lowerFunc{}
	qlowerers = map[string]lowerFunc{}
)

// lowering is the state of turning an optimised graph into steps.
type lowering struct {
	m            *Model
	g            *ir.Graph
	vals         map[string]*value
	convert      map[convKey]*value // cached layout conversions
	scratch      int                // per-worker scratch floats
	scratchBytes int                // per-worker scratch bytes (int8 kernels)
	inPlace      int
	// legacyU8 marks a legacy uint8 model (TFLite\'s uint8 kernels round
	// a few results differently from the int8 ones).
	legacyU8 bool
	// views maps a concat input name to its in-place placement.
	views map[string]concatView
	node  *ir.Node
	// lastConv is the latest float Conv step an Add may join (fuseConvAdd);
	// readers counts each value's readers (node inputs and graph outputs).
	lastConv *convFusion
	readers  map[string]int
}

type convKey struct {
	v  *value
	to layout
}

type concatView struct {
	concat string
	offset int // channel offset
}

func newLowering(m *Model, g *ir.Graph) *lowering {
	return &lowering{m: m, g: g, vals: map[string]*value{}, convert: map[convKey]*value{}, views: map[string]concatView{}}
}

func (l *lowering) lower() error {
	for _, in := range l.g.Inputs {
		v := l.newValue(in.Name, in.DType, in.Shape, plain)
		v.graphIn = true
		l.vals[in.Name] = v
		l.m.inputs = append(l.m.inputs, v)
	}
	l.planConcatViews()
	for _, t := range l.g.Initializers {
		if t.DType == ir.Uint8 && t.Quant != nil {
			l.legacyU8 = true
		}
	}
	// Inside the graph every quantised activation is int8: a legacy
	// uint8 value is the same value shifted by −128 (asS8 converts the
	// graph inputs, lower converts uint8 graph outputs back).
	inputs := map[string]bool{}
	for _, in := range l.g.Inputs {
		inputs[in.Name] = true
	}
	for name, vi := range l.g.ValueInfo {
		if vi.DType == ir.Uint8 && vi.Quant != nil && !inputs[name] {
			l.g.ValueInfo[name] = &ir.ValueInfo{Name: name, DType: ir.Int8, Shape: vi.Shape, Quant: shiftQuant(vi.Quant, -128)}
		}
	}
	l.readers = map[string]int{}
	for _, n := range l.g.Nodes {
		for _, in := range n.Inputs {
			l.readers[in]++
		}
	}
	for _, o := range l.g.Outputs {
		l.readers[o.Name]++
	}
	for _, n := range l.g.Nodes {
		l.node = n
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			if _, err := l.value(in); err != nil {
				return fmt.Errorf("%s: %w", n.Describe(), err)
			}
		}
		if l.fuseConvAdd(n) {
			continue
		}
		f, ok := lowerers[n.Op]
		if q, isQ := qlowerers[n.Op]; isQ && n.Input(0) != "" {
			if v := l.in(0); (v.dtype == ir.Int8 || v.dtype == ir.Uint8) && v.quant != nil {
				f, ok = q, true
			}
		}
		if !ok {
			return &passes.Unsupported{Op: n.Op, Node: n.Name, Opset: l.g.Opset}
		}
		if err := f(l, n); err != nil {
			return fmt.Errorf("%s: %w", n.Describe(), err)
		}
	}
	for _, o := range l.g.Outputs {
		v, err := l.value(o.Name)
		if err != nil {
			return err
		}
		if v.konst == nil {
			v = l.toLayout(v, plain)
			if !v.contiguous() || v.graphIn {
				v = l.copyValue(v, plain)
			}
			if o.DType == ir.Uint8 && v.dtype == ir.Int8 {
				v = l.toUint8(v)
			}
		}
		v.graphOut = true
		l.m.outputs = append(l.m.outputs, v)
	}
	return nil
}

func (l *lowering) newValue(name string, dt ir.DType, shape []int, lay layout) *value {
	if len(shape) < 3 {
		lay = plain
	}
	v := &value{name: name, dtype: dt, shape: shape, layout: lay}
	if info := l.g.ValueInfo[name]; info != nil {
		v.quant = info.Quant
	}
	if lay == channelsLast {
		v.strides = channelsLastStrides(shape, shape[1])
	} else {
		v.strides = plainStrides(shape)
	}
	l.m.values = append(l.m.values, v)
	return v
}

// value returns the lowered value for a graph name, materialising
// constants on first use.
func (l *lowering) value(name string) (*value, error) {
	if v, ok := l.vals[name]; ok {
		return v, nil
	}
	if t, ok := l.g.Initializers[name]; ok {
		v := l.newValue(name, t.DType, t.Shape, plain)
		v.konst, v.quant = t, t.Quant
		l.vals[name] = v
		return v, nil
	}
	return nil, fmt.Errorf("value %q is not defined", name)
}

// in returns the value of input i of the current node.
func (l *lowering) in(i int) *value {
	v, _ := l.value(l.node.Input(i))
	return v
}

// out creates the value for output i of the current node.
func (l *lowering) out(i int, lay layout) *value {
	name := l.node.Outputs[i]
	info := l.g.ValueInfo[name]
	v := l.newValue(name, info.DType, info.Shape, lay)
	if cv, ok := l.views[name]; ok && lay == channelsLast {
		parent := l.vals[cv.concat]
		if parent == nil {
			pinfo := l.g.ValueInfo[cv.concat]
			parent = l.newValue(cv.concat, pinfo.DType, pinfo.Shape, channelsLast)
			l.vals[cv.concat] = parent
		}
		v.parent = parent
		v.chanOff = cv.offset
		v.strides = channelsLastStrides(v.shape, parent.shape[1])
		l.inPlace++
	}
	l.vals[name] = v
	return v
}

// outAlias creates output i sharing the storage of src (reshape family).
func (l *lowering) outAlias(i int, src *value) *value {
	name := l.node.Outputs[i]
	info := l.g.ValueInfo[name]
	v := &value{name: name, dtype: info.DType, shape: info.Shape, layout: plain, strides: plainStrides(info.Shape), alias: src, quant: src.quant}
	if src.konst != nil {
		c := *src.konst
		c.Shape = info.Shape
		v.konst, v.alias = &c, nil
	}
	l.m.values = append(l.m.values, v)
	l.vals[name] = v
	return v
}

func (l *lowering) addStep(s *step) {
	if s.name == "" && l.node != nil {
		s.name = l.node.Name
	}
	l.m.steps = append(l.m.steps, s)
}

func (l *lowering) needScratch(n int) { l.scratch = max(l.scratch, n) }

// layoutFor is the layout a spatial kernel wants for a value of this rank.
func layoutFor(rank int) layout {
	if rank >= 3 {
		return channelsLast
	}
	return plain
}

// toLayout returns v in layout to, inserting one (cached) conversion step
// when the bytes differ. A conversion of a tensor whose channel count or
// spatial size is 1 is free: both layouts have the same byte order.
func (l *lowering) toLayout(v *value, to layout) *value {
	if v.layout == to || len(v.shape) < 3 {
		return v
	}
	if c, ok := l.convert[convKey{v, to}]; ok {
		return c
	}
	var c *value
	spatial := ir.NumElements(v.shape[2:])
	if v.contiguous() && (v.shape[1] == 1 || spatial == 1) {
		c = &value{name: v.name + "/" + layoutName(to), dtype: v.dtype, shape: v.shape, layout: to, alias: v, quant: v.quant}
		if v.konst != nil {
			c.konst, c.alias = v.konst, nil
		}
		if to == channelsLast {
			c.strides = channelsLastStrides(v.shape, v.shape[1])
		} else {
			c.strides = plainStrides(v.shape)
		}
		l.m.values = append(l.m.values, c)
	} else {
		c = l.copyValue(v, to)
	}
	l.convert[convKey{v, to}] = c
	return c
}

func layoutName(l layout) string {
	if l == channelsLast {
		return "nhwc"
	}
	return "nchw"
}

// copyValue copies v into a new value of layout to.
func (l *lowering) copyValue(v *value, to layout) *value {
	c := l.newValue(v.name+"/"+layoutName(to), v.dtype, v.shape, to)
	c.quant = v.quant
	if v.konst != nil && v.dtype == ir.Float32 {
		// Constants convert at prepare time.
		t := &ir.Tensor{DType: ir.Float32, Shape: v.shape, F32: make([]float32, v.numel())}
		stridedCopy(t.F32, c.strides, v.konst.F32, v.strides, v.shape)
		c.konst = t
		return c
	}
	l.addStep(&step{op: "Transpose", name: c.name, inputs: []*value{v}, outputs: []*value{c}, run: copier(c, v)})
	return c
}

// copier returns a step body copying src to dst by logical index.
func copier(dst, src *value) func() {
	p := newCopyPlan(src.shape, dst.strides, src.strides)
	if dst.dtype == ir.Float32 {
		return func() { p.f32(dst.f32, src.f32) }
	}
	es := dst.dtype.Size()
	return func() { p.bytes(dst.raw, src.raw, es) }
}

// planConcatViews picks the concat inputs their producers can write in
// place: channel concats of 4-D tensors whose inputs come straight from a
// strided-output kernel (conv, pool) and are read by nothing else.
func (l *lowering) planConcatViews() {
	prod := map[string]*ir.Node{}
	uses := map[string]int{}
	for _, n := range l.g.Nodes {
		for _, o := range n.Outputs {
			prod[o] = n
		}
		for _, in := range n.Inputs {
			uses[in]++
		}
	}
	outs := map[string]bool{}
	for _, o := range l.g.Outputs {
		outs[o.Name] = true
	}
	for _, n := range l.g.Nodes {
		if n.Op != "Concat" {
			continue
		}
		out := l.g.ValueInfo[n.Outputs[0]]
		if out == nil || len(out.Shape) != 4 || out.DType != ir.Float32 || outs[n.Outputs[0]] {
			continue
		}
		if ax := n.Int("axis", 0); ax != 1 && ax != -3 {
			continue
		}
		off := 0
		seen := map[string]bool{}
		for _, in := range n.Inputs {
			info := l.g.ValueInfo[in]
			if info == nil {
				break
			}
			p := prod[in]
			if p != nil && stridedOutputOps[p.Op] && uses[in] == 1 && !outs[in] && !seen[in] && info.Shape[0] == 1 {
				l.views[in] = concatView{concat: n.Outputs[0], offset: off}
			}
			seen[in] = true
			off += info.Shape[1]
		}
	}
}

// stridedOutputOps are the ops whose kernels write channels-last output
// with an arbitrary pixel stride.
var stridedOutputOps = map[string]bool{"Conv": true, "MaxPool": true, "AveragePool": true}

// parallel returns a step body running body(worker, i) for i in [0, n)
// on the pool. body is built once here, at prepare time, so running the
// step allocates nothing.
func (l *lowering) parallel(n int, body func(worker, i int)) func() {
	p := l.m.pool
	return func() { p.parallelFor(n, body) }
}

// toUint8 converts an int8 value back to the uint8 a legacy model's graph
// output declares.
func (l *lowering) toUint8(v *value) *value {
	c := l.newValue(v.name+"/u8", ir.Uint8, v.shape, plain)
	c.quant = shiftQuant(v.quant, 128)
	l.addStep(&step{op: "Cast(s8→u8)", inputs: []*value{v}, outputs: []*value{c}, run: func() {
		copy(c.raw, v.raw)
		flipSign(c.raw)
	}})
	return c
}

// flipSign maps uint8 ↔ int8 by toggling the top bit (x ± 128).
func flipSign(b []byte) {
	for i := range b {
		b[i] ^= 0x80
	}
}

func shiftQuant(q *ir.Quant, d int32) *ir.Quant {
	if q == nil {
		return nil
	}
	n := &ir.Quant{Scale: q.Scale, Axis: q.Axis, ZeroPoint: make([]int32, len(q.ZeroPoint))}
	for i, z := range q.ZeroPoint {
		n.ZeroPoint[i] = z + d
	}
	if len(n.ZeroPoint) == 0 {
		n.ZeroPoint = []int32{d}
	}
	return n
}

// layoutOps move or select elements without arithmetic, so they run on
// any element type, int8 included.
var layoutOps = map[string]bool{
	"Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true, "Transpose": true,
	"Split": true, "Slice": true, "Identity": true, "Dropout": true, "Gather": true,
}

// SupportsInt8 reports whether the runtime executes op on int8 tensors
// (the quantiser keeps every other op in a float island).
func SupportsInt8(op string) bool {
	_, ok := qlowerers[op]
	return ok || layoutOps[op] || op == "QuantizeLinear" || op == "DequantizeLinear"
}
