package ptq

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

// layoutOps move or select elements without arithmetic: in int8 their
// output keeps the input's parameters, and they run in whichever domain
// their input is in.
var layoutOps = map[string]bool{
	"Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true, "Transpose": true,
	"Split": true, "Slice": true, "Identity": true, "Dropout": true, "Gather": true,
}

// sameQuantOps must have output parameters equal to their input's (TFLite
// requires it for pooling; the runtime checks it).
var sameQuantOps = map[string]bool{"MaxPool": true, "AveragePool": true, "Pad": true}

// emitter builds the quantised graph from the prepared float graph.
type emitter struct {
	fg, qg  *ir.Graph
	opts    *Options
	ranges  map[string][2]float32
	int8Ops func(string) bool
	rep     *Report

	quant    map[string]*ir.Quant // float value → parameters of its int8 version
	i8       map[string]string    // float value → name of its int8 version in qg
	f32      map[string]string    // float value → name of its float version in qg
	prodInt8 map[string]bool      // float value computed by an int8 op
	alias    map[string]string    // int8 layout-op output → the value it copies
	outputs  map[string]bool      // graph outputs
	taken    map[string]bool      // names used in fg or qg
}

// emit writes the quantised graph for fg with the given value ranges.
func emit(fg *ir.Graph, ranges map[string][2]float32, opts *Options) (*ir.Graph, *Report, error) {
	qg := ir.New(fg.Name)
	qg.Source, qg.Format, qg.Opset = fg.Source, fg.Format, fg.Opset
	for k, v := range fg.Metadata {
		qg.Metadata[k] = v
	}
	e := &emitter{
		fg: fg, qg: qg, opts: opts, ranges: ranges, int8Ops: opts.int8Ops(), rep: &Report{},
		quant: map[string]*ir.Quant{}, i8: map[string]string{}, f32: map[string]string{},
		prodInt8: map[string]bool{}, alias: map[string]string{}, outputs: map[string]bool{}, taken: map[string]bool{},
	}
	for name := range fg.Initializers {
		e.taken[name] = true
	}
	for name := range fg.ValueInfo {
		e.taken[name] = true
	}
	for _, in := range fg.Inputs {
		e.taken[in.Name] = true
		e.f32[in.Name] = in.Name
		vi := *in
		vi.Shape = append([]int(nil), in.Shape...)
		qg.Inputs = append(qg.Inputs, &vi)
	}
	for _, n := range fg.Nodes {
		for _, o := range n.Outputs {
			e.taken[o] = true
		}
	}
	for _, o := range fg.Outputs {
		e.outputs[o.Name] = true
	}
	for _, n := range fg.Nodes {
		int8, reason := e.classify(n)
		var err error
		if int8 {
			err = e.emitInt8(n)
		} else {
			err = e.emitFloat(n, reason)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", n.Describe(), err)
		}
	}
	for _, o := range fg.Outputs {
		name := o.Name
		if _, isConst := fg.Initializers[name]; isConst {
			e.constant(name)
		} else if _, err := e.floatOf(name); err != nil {
			return nil, nil, fmt.Errorf("output %q: %w", name, err)
		}
		vi := *o
		vi.Shape = append([]int(nil), o.Shape...)
		vi.DType, vi.Quant = ir.Float32, nil
		qg.Outputs = append(qg.Outputs, &vi)
	}
	// The runtime re-runs the passes; check here that the graph is well
	// formed so an error names the quantiser, not the runtime.
	check := qg.Clone()
	if err := passes.Toposort(check); err != nil {
		return nil, nil, fmt.Errorf("quantised graph: %w", err)
	}
	if err := passes.InferAndFold(check); err != nil {
		return nil, nil, fmt.Errorf("quantised graph: %w", err)
	}
	return qg, e.rep, nil
}

// fresh reserves and returns name or name with a numeric suffix.
func (e *emitter) fresh(name string) string {
	s := name
	for i := 1; e.taken[s]; i++ {
		s = fmt.Sprintf("%s_%d", name, i)
	}
	e.taken[s] = true
	return s
}

func (e *emitter) isConst(name string) bool {
	_, ok := e.fg.Initializers[name]
	return ok
}

// constant copies initializer name of the float graph into qg.
func (e *emitter) constant(name string) string {
	e.qg.Initializers[name] = e.fg.Initializers[name]
	return name
}

func (e *emitter) addInit(base string, t *ir.Tensor) string {
	name := e.fresh(base)
	e.qg.Initializers[name] = t
	return name
}

func (e *emitter) shape(v string) []int {
	if vi := e.fg.ValueInfo[v]; vi != nil {
		return vi.Shape
	}
	for _, in := range e.fg.Inputs {
		if in.Name == v {
			return in.Shape
		}
	}
	return nil
}

func (e *emitter) setInt8Info(name, value string, q *ir.Quant) {
	e.qg.ValueInfo[name] = &ir.ValueInfo{Name: name, DType: ir.Int8, Shape: append([]int(nil), e.shape(value)...), Quant: cloneQuant(q)}
}

func cloneQuant(q *ir.Quant) *ir.Quant {
	return &ir.Quant{Scale: append([]float32(nil), q.Scale...), ZeroPoint: append([]int32(nil), q.ZeroPoint...), Axis: q.Axis}
}

// rangeOf returns the calibrated range of a float value.
func (e *emitter) rangeOf(v string) ([2]float32, error) {
	r, ok := e.ranges[v]
	if !ok {
		return r, fmt.Errorf("no calibration range for value %q", v)
	}
	return r, nil
}

// qdq adds a QuantizeLinear or DequantizeLinear from in to out with q's
// scale and zero point as scalar initializers (as the TFLite reader does).
func (e *emitter) qdq(op, in, out string, q *ir.Quant) {
	s := e.addInit(out+"/scale", &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{q.Scale[0]}})
	z := e.addInit(out+"/zero_point", &ir.Tensor{DType: ir.Int8, Shape: []int{}, I8: []int8{int8(q.ZeroPoint[0])}})
	e.qg.Nodes = append(e.qg.Nodes, &ir.Node{Name: out, Op: op, Inputs: []string{in, s, z}, Outputs: []string{out}})
	e.rep.Converts++
}

// int8Of returns the int8 version of float value v, quantising its float
// version (a graph input or a float island's output) on first use.
func (e *emitter) int8Of(v string) (string, error) {
	if name, ok := e.i8[v]; ok {
		return name, nil
	}
	src, err := e.floatOf(v)
	if err != nil {
		return "", err
	}
	r, err := e.rangeOf(v)
	if err != nil {
		return "", err
	}
	q := quant.ActivationQuant(r[0], r[1])
	name := e.fresh(v + "/int8")
	e.qdq("QuantizeLinear", src, name, q)
	e.setInt8Info(name, v, q)
	e.i8[v], e.quant[v] = name, q
	e.addLayer(name, "QuantizeLinear", v, q, r, nil)
	return name, nil
}

// floatOf returns the float version of value v, dequantising its int8
// version on first use (under v's own name when v is a graph output).
func (e *emitter) floatOf(v string) (string, error) {
	if name, ok := e.f32[v]; ok {
		return name, nil
	}
	src, ok := e.i8[v]
	if !ok {
		return "", fmt.Errorf("value %q is not defined", v)
	}
	name := v
	if !e.outputs[v] {
		name = e.fresh(v + "/float")
	}
	e.qdq("DequantizeLinear", src, name, e.quant[v])
	e.qg.ValueInfo[name] = &ir.ValueInfo{Name: name, DType: ir.Float32, Shape: append([]int(nil), e.shape(v)...)}
	e.f32[v] = name
	return name, nil
}

// int8Name is the name of the int8 output computing float value v: v
// itself, unless v is a graph output (which must stay float).
func (e *emitter) int8Name(v string) string {
	if e.outputs[v] {
		return e.fresh(v + "/int8")
	}
	return v
}

func (e *emitter) addLayer(name, op, value string, q *ir.Quant, r [2]float32, inputs []string) *Layer {
	l := &Layer{Name: name, Op: op, Value: value, Scale: q.Scale[0], ZeroPoint: q.ZeroPoint[0], Range: r, inputs: inputs, int8: e.i8[value]}
	e.rep.Layers = append(e.rep.Layers, l)
	return l
}

// activations returns the non-constant inputs of n.
func (e *emitter) activations(n *ir.Node) []string {
	var out []string
	for _, in := range n.Inputs {
		if in != "" && !e.isConst(in) {
			out = append(out, in)
		}
	}
	return out
}

// classify decides whether n runs in int8 and, when it does not, why (an
// empty reason means it simply follows float data: a layout op).
func (e *emitter) classify(n *ir.Node) (bool, string) {
	if layoutOps[n.Op] {
		return e.int8Ops(n.Op) && n.Input(0) != "" && e.prodInt8[n.Input(0)], ""
	}
	for _, o := range n.Outputs {
		if vi := e.fg.ValueInfo[o]; o != "" && (vi == nil || vi.DType != ir.Float32) {
			return false, ""
		}
	}
	if !e.int8Ops(n.Op) {
		return false, "the runtime has no int8 kernel for " + n.Op
	}
	acts := e.activations(n)
	if len(acts) == 0 || e.isConst(n.Input(0)) {
		return false, "constant data input"
	}
	rank := len(e.shape(n.Input(0)))
	switch n.Op {
	case "Conv":
		w := e.fg.Initializers[n.Input(1)]
		if w == nil || w.DType != ir.Float32 || len(w.Shape) != 4 || rank != 4 {
			return false, "int8 Conv needs a 4-D input and constant float weights"
		}
		if b := n.Input(2); b != "" {
			if t := e.fg.Initializers[b]; t == nil || t.DType != ir.Float32 || t.Len() != w.Shape[0] {
				return false, "int8 Conv needs a constant bias"
			}
		}
	case "Gemm", "MatMul":
		w := e.fg.Initializers[n.Input(1)]
		if w == nil || w.DType != ir.Float32 || len(w.Shape) != 2 || rank != 2 || n.Int("transA", 0) != 0 {
			return false, "int8 " + n.Op + " needs a 2-D input, no transA and constant 2-D float weights"
		}
		if c := n.Input(2); c != "" {
			nOut := w.Shape[1]
			if n.Op == "Gemm" && n.Int("transB", 0) != 0 {
				nOut = w.Shape[0]
			}
			if t := e.fg.Initializers[c]; t == nil || t.DType != ir.Float32 || (t.Len() != nOut && t.Len() != 1) {
				return false, "int8 Gemm needs a constant bias of one value per output"
			}
		}
	case "MaxPool", "AveragePool", "GlobalAveragePool":
		if rank != 4 || (len(n.Outputs) > 1 && n.Outputs[1] != "") {
			return false, "int8 pooling needs a 4-D input and no indices output"
		}
		if countsPadding(n) && (!e.int8Ops("Pad") || n.Int("ceil_mode", 0) != 0) {
			return false, "int8 AveragePool does not count padding (TFLite's arithmetic)"
		}
	case "ReduceMean":
		var axes *ir.Tensor
		if n.Input(1) != "" {
			axes = e.fg.Initializers[n.Input(1)]
		}
		red, err := passes.ReduceAxes(n, rank, axes)
		if rank != 4 || err != nil || red[0] || red[1] || !red[2] || !red[3] {
			return false, "int8 ReduceMean averages over H and W of a 4-D input only"
		}
	case "Add", "Mul":
		if len(n.Inputs) != 2 || len(acts) != 2 || !equalShape(e.shape(n.Inputs[0]), e.shape(n.Inputs[1])) {
			return false, "int8 " + n.Op + " needs two activations of the same shape (no constants, no broadcasting)"
		}
	case "Concat":
		if len(acts) != len(n.Inputs) {
			return false, "int8 Concat of a constant"
		}
	case "Clip":
		if _, _, ok := e.clipBounds(n); !ok {
			return false, "int8 Clip needs constant bounds"
		}
	case "Softmax":
		def := int64(-1)
		if e.fg.Opset > 0 && e.fg.Opset < 13 {
			def = 1
		}
		if ax := n.Int("axis", def); ax != -1 && int(ax) != rank-1 {
			return false, "int8 Softmax runs over the last axis only"
		}
	case "Pad":
		_, value, mode, err := passes.PadOperands(n, rank, func(i int) *ir.Tensor { return e.fg.Initializers[n.Input(i)] })
		if err != nil || mode != "constant" || value != 0 {
			return false, "int8 Pad fills with zero (the zero point) only"
		}
	case "Relu", "Sigmoid", "HardSwish":
	default:
		return false, "the quantiser has no int8 rule for " + n.Op
	}
	return true, ""
}

// countsPadding reports whether n is an AveragePool that counts padded
// positions (count_include_pad=1 with non-zero pads): TFLite's average
// divides by the valid taps only, so the int8 graph pads explicitly.
func countsPadding(n *ir.Node) bool {
	if n.Op != "AveragePool" || n.Int("count_include_pad", 0) == 0 {
		return false
	}
	for _, p := range n.Ints("pads") {
		if p != 0 {
			return true
		}
	}
	return false
}

// clipBounds returns a Clip's constant bounds (attributes before opset 11,
// inputs after).
func (e *emitter) clipBounds(n *ir.Node) (lo, hi float32, ok bool) {
	lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	if n.Input(1) == "" && n.Input(2) == "" {
		return n.Float("min", lo), n.Float("max", hi), true
	}
	for i, dst := range []*float32{&lo, &hi} {
		name := n.Input(i + 1)
		if name == "" {
			continue
		}
		t := e.fg.Initializers[name]
		if t == nil || t.Len() != 1 || t.DType != ir.Float32 {
			return 0, 0, false
		}
		*dst = t.F32[0]
	}
	return lo, hi, true
}

// clampAttrs returns n's fused activation bounds (±Inf when absent).
func clampAttrs(n *ir.Node) (float32, float32) {
	return n.Float(ir.AttrClampMin, float32(math.Inf(-1))), n.Float(ir.AttrClampMax, float32(math.Inf(1)))
}

// intersect clips a range to [lo, hi], collapsing it when it lies
// outside.
func intersect(r [2]float32, lo, hi float32) [2]float32 {
	a, b := max(r[0], lo), min(r[1], hi)
	if a > b {
		a, b = min(max(r[0], lo), hi), min(max(r[0], lo), hi)
	}
	return [2]float32{a, b}
}

// outputQuant chooses the parameters of an int8 op's output v.
func (e *emitter) outputQuant(n *ir.Node, v string) (*ir.Quant, [2]float32, error) {
	if layoutOps[n.Op] || sameQuantOps[n.Op] {
		in := n.Input(0)
		q := e.quant[in]
		return q, [2]float32{q.Scale[0] * float32(quant.QMin-q.ZeroPoint[0]), q.Scale[0] * float32(quant.QMax-q.ZeroPoint[0])}, nil
	}
	if n.Op == "Softmax" || n.Op == "Sigmoid" {
		return quant.FixedQuant(), [2]float32{0, 1}, nil
	}
	r, err := e.rangeOf(v)
	if err != nil {
		return nil, r, err
	}
	lo, hi := clampAttrs(n)
	r = intersect(r, lo, hi)
	switch n.Op {
	case "Relu":
		r = intersect(r, 0, float32(math.Inf(1)))
	case "Clip":
		lo, hi, _ := e.clipBounds(n)
		r = intersect(r, lo, hi)
	}
	return quant.ActivationQuant(r[0], r[1]), r, nil
}

func copyAttrs(n *ir.Node) map[string]*ir.Attr {
	a := make(map[string]*ir.Attr, len(n.Attrs))
	for k, v := range n.Attrs {
		a[k] = v
	}
	return a
}

// emitInt8 writes n as an int8 op.
func (e *emitter) emitInt8(n *ir.Node) error {
	q := &ir.Node{Name: n.Name, Op: n.Op, Domain: n.Domain, Attrs: copyAttrs(n)}
	var inputs []string // float names of the int8 inputs
	var layer *Layer
	var wSQNR *float64
	if n.Op == "Conv" || n.Op == "Gemm" || n.Op == "MatMul" {
		x, err := e.int8Of(n.Input(0))
		if err != nil {
			return err
		}
		w, b := linearWeights(e.fg, n)
		wq, bq, err := quant.QuantizeWeightsRange(w, b, e.quant[n.Input(0)].Scale[0], e.opts.PerTensor, e.opts.weightQMax())
		if err != nil {
			return fmt.Errorf("weights %q: %w", n.Input(1), err)
		}
		s := weightSQNR(w.F32, wq)
		wSQNR = &s
		q.Inputs = []string{x, e.addInit(n.Input(1)+"/int8", wq)}
		if bq != nil {
			base := n.Input(2)
			if base == "" {
				base = n.Outputs[0] + "/bias"
			}
			q.Inputs = append(q.Inputs, e.addInit(base+"/int32", bq))
		}
		if n.Op != "Conv" {
			q.Op = "Gemm"
			delete(q.Attrs, "alpha")
			delete(q.Attrs, "beta")
			delete(q.Attrs, "transA")
			q.SetInt("transB", 1)
		}
		inputs = []string{n.Input(0)}
	} else {
		q.Inputs = make([]string, len(n.Inputs))
		for i, in := range n.Inputs {
			switch {
			case in == "":
			case e.isConst(in):
				q.Inputs[i] = e.constant(in)
			default:
				name, err := e.int8Of(in)
				if err != nil {
					return err
				}
				q.Inputs[i] = name
				inputs = append(inputs, in)
			}
		}
		if countsPadding(n) {
			// Pad with the zero point (real 0), then average full windows.
			pads := n.Ints("pads")
			h := len(pads) / 2
			spec := &ir.Tensor{DType: ir.Int64, Shape: []int{8}, I64: []int64{0, 0, pads[0], pads[1], 0, 0, pads[h], pads[h+1]}}
			padded := e.fresh(n.Outputs[0] + "/padded")
			e.qg.Nodes = append(e.qg.Nodes, &ir.Node{Name: padded, Op: "Pad", Inputs: []string{q.Inputs[0], e.addInit(padded+"/pads", spec)}, Outputs: []string{padded}})
			in := e.shape(n.Input(0))
			e.qg.ValueInfo[padded] = &ir.ValueInfo{Name: padded, DType: ir.Int8, Quant: cloneQuant(e.quant[n.Input(0)]),
				Shape: []int{in[0], in[1], in[2] + int(pads[0]+pads[h]), in[3] + int(pads[1]+pads[h+1])}}
			q.Inputs[0] = padded
			q.SetInts("pads", make([]int64, len(pads))...)
			q.SetInt("count_include_pad", 0)
		} else if n.Op == "AveragePool" {
			q.SetInt("count_include_pad", 0) // no pads: the same average
		}
		if n.Op == "Pad" && len(q.Inputs) > 2 && q.Inputs[2] != "" {
			// A float constant_value of 0 (checked by classify) is the
			// zero point; the int8 Pad would read the float as an int.
			q.Inputs[2] = ""
		}
	}
	for _, o := range n.Outputs {
		if o == "" {
			q.Outputs = append(q.Outputs, "")
			continue
		}
		oq, r, err := e.outputQuant(n, o)
		if err != nil {
			return err
		}
		name := e.int8Name(o)
		q.Outputs = append(q.Outputs, name)
		e.setInt8Info(name, o, oq)
		e.i8[o], e.quant[o], e.prodInt8[o] = name, cloneQuant(oq), true
		if layoutOps[n.Op] {
			e.alias[o] = n.Input(0)
			continue
		}
		layer = e.addLayer(n.Name, n.Op, o, oq, r, e.resolve(inputs))
		layer.WeightSQNR = wSQNR
	}
	if !layoutOps[n.Op] {
		e.rep.Int8Nodes++
	}
	e.qg.Nodes = append(e.qg.Nodes, q)
	return nil
}

// resolve maps values copied by int8 layout ops to their sources.
func (e *emitter) resolve(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		for e.alias[v] != "" {
			v = e.alias[v]
		}
		out[i] = v
	}
	return out
}

// emitFloat writes n unchanged, reading float versions of its inputs.
func (e *emitter) emitFloat(n *ir.Node, reason string) error {
	f := &ir.Node{Name: n.Name, Op: n.Op, Domain: n.Domain, Attrs: copyAttrs(n), Inputs: make([]string, len(n.Inputs)),
		Outputs: append([]string(nil), n.Outputs...)}
	for i, in := range n.Inputs {
		switch {
		case in == "":
		case e.isConst(in):
			f.Inputs[i] = e.constant(in)
		default:
			name, err := e.floatOf(in)
			if err != nil {
				return err
			}
			f.Inputs[i] = name
		}
	}
	for _, o := range n.Outputs {
		if o == "" {
			continue
		}
		e.f32[o] = o
		if vi := e.fg.ValueInfo[o]; vi != nil {
			c := *vi
			c.Shape = append([]int(nil), vi.Shape...)
			e.qg.ValueInfo[o] = &c
		}
	}
	if reason != "" {
		e.rep.Islands = append(e.rep.Islands, Island{Node: n.Name, Op: n.Op, Reason: reason})
	}
	if !layoutOps[n.Op] {
		e.rep.FloatNodes++
	}
	e.qg.Nodes = append(e.qg.Nodes, f)
	return nil
}

// linearWeights returns a Conv's weights and bias, or a Gemm's or
// MatMul's as a Gemm with transB=1 and α = β = 1 would have them: weights
// [N, K] and bias [N] (nil when absent).
func linearWeights(g *ir.Graph, n *ir.Node) (w, b *ir.Tensor) {
	wt := g.Initializers[n.Input(1)]
	var bt *ir.Tensor
	if n.Input(2) != "" {
		bt = g.Initializers[n.Input(2)]
	}
	if n.Op == "Conv" {
		return wt, bt
	}
	alpha, beta := float32(1), float32(1)
	if n.Op == "Gemm" {
		alpha, beta = n.Float("alpha", 1), n.Float("beta", 1)
	}
	transposed := kn(n)
	nOut, k := wt.Shape[0], wt.Shape[1]
	if transposed {
		nOut, k = k, nOut
	}
	w = &ir.Tensor{DType: ir.Float32, Shape: []int{nOut, k}, F32: make([]float32, nOut*k)}
	for o := 0; o < nOut; o++ {
		for i := 0; i < k; i++ {
			v := wt.F32[o*k+i]
			if transposed {
				v = wt.F32[i*nOut+o]
			}
			w.F32[o*k+i] = alpha * v
		}
	}
	if bt != nil {
		b = &ir.Tensor{DType: ir.Float32, Shape: []int{nOut}, F32: make([]float32, nOut)}
		for o := range b.F32 {
			v := bt.F32[0]
			if bt.Len() == nOut {
				v = bt.F32[o]
			}
			b.F32[o] = beta * v
		}
	}
	return w, b
}

// weightSQNR is quant.SQNR(w, quant.Dequantize(wq)) for weights from
// quant.QuantizeWeightsRange (zero points 0, one scale per tensor or per
// channel along axis 0), without the dequantised copy.
func weightSQNR(w []float32, wq *ir.Tensor) float64 {
	scales := wq.Quant.Scale
	per := len(wq.I8) / len(scales)
	var sig, noise float64
	for k, sc := range scales {
		ref := w[k*per : (k+1)*per]
		for i, q := range wq.I8[k*per : (k+1)*per] {
			r := float64(ref[i])
			d := r - float64(sc*float32(q))
			sig += r * r
			noise += d * d
		}
	}
	return quant.SQNRdB(sig, noise)
}
