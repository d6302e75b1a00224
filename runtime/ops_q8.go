package runtime

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/asm"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

// The int8 engine. Every quantised activation is int8 inside the runtime:
// uint8 tensors (legacy TFLite models) are shifted by −128 at the graph
// boundary, which leaves (q − zero point) and so every result unchanged.
// Kernels follow TFLite's integer arithmetic (see asm's Q kernels), so a
// quantised .tflite model gives TFLite's own bits.

func init() {
	qlowerers["Conv"] = lowerQConv
	qlowerers["Gemm"] = lowerQGemm
	qlowerers["MatMul"] = lowerQGemm
	qlowerers["MaxPool"] = lowerQPool
	qlowerers["AveragePool"] = lowerQPool
	qlowerers["GlobalAveragePool"] = lowerQMean
	qlowerers["ReduceMean"] = lowerQMean
	qlowerers["Add"] = lowerQBinary
	qlowerers["Mul"] = lowerQBinary
	qlowerers["Relu"] = lowerQActivation
	qlowerers["Clip"] = lowerQActivation
	qlowerers["Sigmoid"] = lowerQActivation
	qlowerers["HardSwish"] = lowerQActivation
	qlowerers["Softmax"] = lowerQSoftmax
	qlowerers["Concat"] = lowerQConcat
	qlowerers["Pad"] = lowerQPad
	lowerers["QuantizeLinear"] = lowerQuantize
	lowerers["DequantizeLinear"] = lowerDequantize
}

func isQuantized(v *value) bool {
	return v != nil && (v.dtype == ir.Int8 || v.dtype == ir.Uint8)
}

// qparams returns a per-tensor value's scale and zero point.
func qparams(v *value) (float32, int32, error) {
	if v.quant == nil || len(v.quant.Scale) == 0 {
		return 0, 0, fmt.Errorf("quantised value %q has no quantisation parameters", v.name)
	}
	if len(v.quant.Scale) > 1 {
		return 0, 0, fmt.Errorf("activation %q is quantised per channel (unsupported)", v.name)
	}
	z := int32(0)
	if len(v.quant.ZeroPoint) > 0 {
		z = v.quant.ZeroPoint[0]
	}
	return v.quant.Scale[0], z, nil
}

// asS8 returns v as int8: uint8 data is shifted by −128 (a runtime step,
// or at prepare time for constants), with its zero point shifted alike.
func (l *lowering) asS8(v *value) *value {
	if v.dtype != ir.Uint8 {
		return v
	}
	if c, ok := l.convert[convKey{v, layout(255)}]; ok {
		return c
	}
	q := shiftQuant(v.quant, -128)
	c := &value{name: v.name + "/s8", dtype: ir.Int8, shape: v.shape, layout: v.layout, strides: v.strides, quant: q}
	l.m.values = append(l.m.values, c)
	if v.konst != nil {
		t := &ir.Tensor{DType: ir.Int8, Shape: v.konst.Shape, I8: make([]int8, len(v.konst.U8)), Quant: q}
		for i, b := range v.konst.U8 {
			t.I8[i] = int8(b ^ 0x80)
		}
		c.konst = t
	} else {
		c.strides = plainStrides(v.shape)
		if v.layout == channelsLast {
			c.strides = channelsLastStrides(v.shape, v.shape[1])
		}
		p := newCopyPlan(v.shape, c.strides, v.strides)
		l.addStep(&step{op: "Cast(u8→s8)", inputs: []*value{v}, outputs: []*value{c}, run: func() {
			p.bytes(c.raw, v.raw, 1)
			flipSign(c.raw)
		}})
	}
	l.convert[convKey{v, layout(255)}] = c
	return c
}

// qout creates output i as int8 (a uint8 output of the graph is converted
// back at the end).
func (l *lowering) qout(i int, lay layout) (*value, float32, int32, error) {
	name := l.node.Outputs[i]
	info := l.g.ValueInfo[name]
	v := l.newValue(name, ir.Int8, info.Shape, lay)
	v.quant = info.Quant
	if info.DType == ir.Uint8 {
		v.quant = shiftQuant(info.Quant, -128)
	}
	l.vals[name] = v
	s, z, err := qparams(v)
	return v, s, z, err
}

// s8Weights returns constant weights as int8 with per-channel scales and
// zero points (uint8 weights are shifted and keep a non-zero zero point).
func s8Weights(t *ir.Tensor, channels int) (w []int8, zero []int32, scale []float32, err error) {
	if t.Quant == nil || len(t.Quant.Scale) == 0 {
		return nil, nil, nil, fmt.Errorf("quantised weights without quantisation parameters")
	}
	if len(t.Quant.Scale) != 1 && len(t.Quant.Scale) != channels {
		return nil, nil, nil, fmt.Errorf("%d weight scales for %d output channels", len(t.Quant.Scale), channels)
	}
	if len(t.Quant.Scale) > 1 && t.Quant.Axis != 0 {
		return nil, nil, nil, fmt.Errorf("per-channel weights quantised along axis %d (want 0)", t.Quant.Axis)
	}
	scale = make([]float32, channels)
	zero = make([]int32, channels)
	for c := range scale {
		k := min(c, len(t.Quant.Scale)-1)
		scale[c] = t.Quant.Scale[k]
		if len(t.Quant.ZeroPoint) > 0 {
			zero[c] = t.Quant.ZeroPoint[min(c, len(t.Quant.ZeroPoint)-1)]
		}
	}
	switch t.DType {
	case ir.Int8:
		w = t.I8
	case ir.Uint8:
		w = make([]int8, len(t.U8))
		for i, b := range t.U8 {
			w[i] = int8(b ^ 0x80)
		}
		for c := range zero {
			zero[c] -= 128
		}
	default:
		return nil, nil, nil, fmt.Errorf("%s weights in a quantised op", t.DType)
	}
	allZero := true
	for _, z := range zero {
		allZero = allZero && z == 0
	}
	if allZero {
		zero = nil
	}
	return w, zero, scale, nil
}

// s32Bias returns an int32 bias (nil when absent).
func (l *lowering) s32Bias(i int) ([]int32, error) {
	b := l.in(i)
	if b == nil {
		return nil, nil
	}
	if b.konst == nil || b.dtype != ir.Int32 {
		return nil, fmt.Errorf("quantised bias %q must be an int32 constant", b.name)
	}
	return b.konst.I32, nil
}

// requantFor picks TFLite 2.9's multiplier computation and rounding as
// its x86-64 builtin kernels (our bit-exact reference) do. int8 CONV_2D and
// FULLY_CONNECTED run on ruy, whose rescale in that build rounds the final
// right shift with ties upward (asm.RoundUpward — found by comparing each
// layer's output with TFLite's, see TestTFLiteLayers), for uint8 and int8
// alike; depthwise convs use TFLite's double rounding. FULLY_CONNECTED and every
// uint8 op compute the multiplier from the float32 product of the scales
// (GetQuantizedConvolutionMultipler), int8 convs per channel in double.
func requantFor(u8, fc, gemm bool, sx float32, ws []float32, so float32, zo, lo, hi int32) asm.Requant {
	var rq asm.Requant
	if u8 || fc {
		rq = asm.NewRequantLegacy(sx, ws[0], so, zo, lo, hi, len(ws))
		if len(ws) > 1 && !u8 {
			rq = asm.NewRequant(sx, ws, so, zo, lo, hi)
		}
	} else {
		rq = asm.NewRequant(sx, ws, so, zo, lo, hi)
	}
	if gemm {
		rq.Rounding = asm.RoundUpward
	}
	return rq
}

// actRange converts the node's fused clamp to the output's quantised range.
func actRange(n *ir.Node, scale float32, zero int32) (int32, int32) {
	c := clampAttr(n)
	return quant.ActivationRange(c.Min, c.Max, scale, zero, -128, 127)
}

func lowerQConv(l *lowering, n *ir.Node) error {
	x := l.asS8(l.contiguousChannelsLast(l.in(0)))
	sx, zx, err := qparams(x)
	if err != nil {
		return err
	}
	wv := l.in(1)
	if wv.konst == nil {
		return fmt.Errorf("weight %q must be constant", wv.name)
	}
	oc, group := wv.shape[0], int(n.Int("group", 1))
	w, wz, ws, err := s8Weights(wv.konst, oc)
	if err != nil {
		return fmt.Errorf("weight %q: %w", wv.name, err)
	}
	bias, err := l.s32Bias(2)
	if err != nil {
		return err
	}
	out, so, zo, err := l.qout(0, channelsLast)
	if err != nil {
		return err
	}
	g, err := spatialGeom(n, x, out)
	if err != nil {
		return err
	}
	lo, hi := actRange(n, so, zo)
	depthwise := group == g.c && group > 1 && wv.shape[1] == 1
	rq := requantFor(l.legacyU8, false, !depthwise, sx, ws, so, zo, lo, hi)
	pixStride := out.strides[len(out.strides)-1]
	s := &step{op: "QConv", inputs: []*value{x}, outputs: []*value{out},
		macs: int64(g.n) * int64(g.oh*g.ow) * int64(oc) * int64(g.c/group) * int64(g.kh*g.kw)}
	if depthwise {
		dw := &asm.QDepthwiseConv2D{InH: g.h, InW: g.w, C: g.c, Mult: oc / g.c, OutH: g.oh, OutW: g.ow,
			KH: g.kh, KW: g.kw, StrideH: g.sh, StrideW: g.sw, DilH: g.dh, DilW: g.dw, PadT: g.pt, PadL: g.pl,
			OutStride: pixStride, InZero: zx, Requant: rq}
		packed := dw.Pack(w, wz, bias)
		s.op = "QDepthwiseConv"
		rows := rowChunk(g.ow*oc*g.kh*g.kw, g.oh)
		chunks := (g.oh + rows - 1) / rows
		s.run = l.parallel(g.n*chunks, func(_, i int) {
			b, r0 := i/chunks, (i%chunks)*rows
			dw.Run(x.s8[b*g.inBatch:], packed, out.s8[b*g.outBatch:], r0, min(r0+rows, g.oh))
		})
	} else {
		cv := &asm.QConv2D{InH: g.h, InW: g.w, InC: g.c, OutH: g.oh, OutW: g.ow, OutC: oc,
			KH: g.kh, KW: g.kw, StrideH: g.sh, StrideW: g.sw, DilH: g.dh, DilW: g.dw, PadT: g.pt, PadL: g.pl,
			Groups: group, OutStride: pixStride, InZero: zx, Requant: rq, Workers: l.m.pool.threads}
		packed := cv.Pack(w, wz, bias)
		l.needScratchBytes(cv.ScratchBytes())
		tile := cv.TilePixels()
		pixels := g.oh * g.ow
		tiles := (pixels + tile - 1) / tile
		m := l.m
		s.run = l.parallel(g.n*tiles, func(worker, i int) {
			b, p0 := i/tiles, (i%tiles)*tile
			cv.Run(x.s8[b*g.inBatch:], packed, out.s8[b*g.outBatch:], m.scratchBytes[worker], p0, min(p0+tile, pixels))
		})
	}
	l.addStep(s)
	return nil
}

func lowerQGemm(l *lowering, n *ir.Node) error {
	if n.Int("transA", 0) != 0 {
		return &passes.Unsupported{Op: "Gemm(int8, transA)", Node: n.Name, Opset: l.g.Opset}
	}
	a := l.asS8(l.densePlain(l.in(0)))
	sa, za, err := qparams(a)
	if err != nil {
		return err
	}
	bv := l.in(1)
	if bv.konst == nil {
		return fmt.Errorf("weight %q must be constant", bv.name)
	}
	transB := n.Int("transB", 0) != 0
	nn := bv.shape[1]
	if transB {
		nn = bv.shape[0]
	}
	w, wz, ws, err := s8Weights(bv.konst, nn)
	if err != nil {
		return fmt.Errorf("weight %q: %w", bv.name, err)
	}
	bias, err := l.s32Bias(2)
	if err != nil {
		return err
	}
	out, so, zo, err := l.qout(0, plain)
	if err != nil {
		return err
	}
	k := a.shape[len(a.shape)-1]
	m := a.numel() / k
	lo, hi := actRange(n, so, zo)
	g := &asm.QGemm{M: m, N: nn, K: k, InZero: za, Requant: requantFor(l.legacyU8, true, true, sa, ws, so, zo, lo, hi)}
	packed := g.Pack(w, transB, wz, bias)
	l.needScratchBytes(g.ScratchBytes())
	cb := g.ColumnBlock()
	perItem := max(1, (1<<16)/max(1, m*k*cb)) * cb
	items := (nn + perItem - 1) / perItem
	model := l.m
	l.addStep(&step{op: "QGemm", inputs: []*value{a}, outputs: []*value{out}, macs: int64(m) * int64(nn) * int64(k),
		run: l.parallel(items, func(worker, i int) {
			n0 := i * perItem
			g.Run(a.s8, k, packed, out.s8, nn, model.scratchBytes[worker], n0, min(n0+perItem, nn))
		})})
	return nil
}

func lowerQPool(l *lowering, n *ir.Node) error {
	x := l.asS8(l.contiguousChannelsLast(l.in(0)))
	_, _, err := qparams(x)
	if err != nil {
		return err
	}
	out, so, zo, err := l.qout(0, channelsLast)
	if err != nil {
		return err
	}
	if err := l.requireSameQuant(x, out); err != nil {
		return err
	}
	g, err := spatialGeom(n, x, out)
	if err != nil {
		return err
	}
	lo, hi := actRange(n, so, zo)
	if n.Op == "AveragePool" && n.Int("count_include_pad", 0) != 0 && (g.pt|g.pl|g.pb|g.pr) != 0 {
		// TFLite's int8 average pool divides by the valid taps only.
		return &passes.Unsupported{Op: "AveragePool(int8, count_include_pad with padding)", Node: n.Name, Opset: l.g.Opset}
	}
	p := &asm.QPool2D{InH: g.h, InW: g.w, C: g.c, OutH: g.oh, OutW: g.ow, KH: g.kh, KW: g.kw,
		StrideH: g.sh, StrideW: g.sw, DilH: g.dh, DilW: g.dw, PadT: g.pt, PadL: g.pl, PadB: g.pb, PadR: g.pr,
		CountIncludePad: n.Int("count_include_pad", 0) != 0, OutStride: out.strides[len(out.strides)-1], ActMin: lo, ActMax: hi, FromU8: l.legacyU8}
	kernel := p.Avg
	if n.Op == "MaxPool" {
		kernel = p.Max
	}
	rows := rowChunk(g.ow*g.c*g.kh*g.kw, g.oh)
	chunks := (g.oh + rows - 1) / rows
	l.addStep(&step{op: "Q" + n.Op, inputs: []*value{x}, outputs: []*value{out}, run: l.parallel(g.n*chunks, func(_, i int) {
		b, r0 := i/chunks, (i%chunks)*rows
		kernel(x.s8[b*g.inBatch:], out.s8[b*g.outBatch:], r0, min(r0+rows, g.oh))
	})})
	return nil
}

// requireSameQuant refuses ops that TFLite requires to keep the scale.
func (l *lowering) requireSameQuant(x, out *value) error {
	sx, zx, _ := qparams(x)
	so, zo, _ := qparams(out)
	if sx != so || zx != zo {
		return fmt.Errorf("input %q (scale %g, zero %d) and output (scale %g, zero %d) differ: unsupported", x.name, sx, zx, so, zo)
	}
	return nil
}

// lowerQMean handles a mean over the spatial axes (ReduceMean axes 2,3 or
// GlobalAveragePool) of a channels-last int8 tensor.
func lowerQMean(l *lowering, n *ir.Node) error {
	x := l.in(0)
	if len(x.shape) != 4 {
		return &passes.Unsupported{Op: "ReduceMean(int8, rank " + fmt.Sprint(len(x.shape)) + ")", Node: n.Name, Opset: l.g.Opset}
	}
	if n.Op == "ReduceMean" {
		var axesT *ir.Tensor
		if n.Input(1) != "" {
			axesT = l.g.Initializers[n.Input(1)]
		}
		red, err := passes.ReduceAxes(n, 4, axesT)
		if err != nil {
			return err
		}
		if red[0] || red[1] || !red[2] || !red[3] {
			return &passes.Unsupported{Op: "ReduceMean(int8, axes other than H,W)", Node: n.Name, Opset: l.g.Opset}
		}
	}
	x = l.asS8(l.contiguousChannelsLast(x))
	sx, zx, err := qparams(x)
	if err != nil {
		return err
	}
	lay := channelsLast
	if len(l.g.ValueInfo[n.Outputs[0]].Shape) != 4 {
		lay = plain // keepdims = 0: [N, C], the same bytes
	}
	out, so, zo, err := l.qout(0, lay)
	if err != nil {
		return err
	}
	nb, c, hw := x.shape[0], x.shape[1], x.shape[2]*x.shape[3]
	// TFLite 2.9's x86 library computes int8 MEAN by QuantizedMeanOrSum's
	// float formula, also when input and output share quantisation (no
	// truncating shortcut, no integer keep_dims kernel): measured against
	// it on both MobileNet v2 models' MEAN (equal and different scales),
	// every channel of every image is identical.
	mean := asm.NewQMean(hw, c, sx, zx, so, zo)
	if sx == so && zx == zo {
		mean = asm.NewQMeanFloat(hw, c, sx, zx, so, zo)
	}
	mean.FromU8 = l.legacyU8
	l.addStep(&step{op: "QMean", inputs: []*value{x}, outputs: []*value{out}, run: func() {
		for b := 0; b < nb; b++ {
			mean.Run(x.s8[b*hw*c:(b+1)*hw*c], out.s8[b*c:(b+1)*c], 0, c)
		}
	}})
	return nil
}

// lowerQBinary handles int8 Add and Mul of same-shape operands (and Mul by
// a per-channel vector).
func lowerQBinary(l *lowering, n *ir.Node) error {
	if len(n.Inputs) != 2 {
		return &passes.Unsupported{Op: n.Op + "(int8, variadic)", Node: n.Name, Opset: l.g.Opset}
	}
	a, b := l.asS8(l.in(0)), l.asS8(l.in(1))
	if !equalShape(a.shape, b.shape) {
		return &passes.Unsupported{Op: n.Op + "(int8 broadcast)", Node: n.Name, Opset: l.g.Opset}
	}
	if a.layout != b.layout {
		b = l.toLayout(b, a.layout)
	}
	if !a.contiguous() {
		a = l.copyValue(a, a.layout)
	}
	if !b.contiguous() {
		b = l.copyValue(b, b.layout)
	}
	s1, z1, err := qparams(a)
	if err != nil {
		return err
	}
	s2, z2, err := qparams(b)
	if err != nil {
		return err
	}
	out, so, zo, err := l.qout(0, a.layout)
	if err != nil {
		return err
	}
	lo, hi := actRange(n, so, zo)
	var run func(x, y, o []int8)
	switch n.Op {
	case "Add":
		run = asm.NewQAdd(s1, z1, s2, z2, so, zo, lo, hi).Run
	case "Mul":
		run = asm.NewQMul(s1, z1, s2, z2, so, zo, lo, hi).Run
	default:
		return &passes.Unsupported{Op: n.Op + "(int8)", Node: n.Name, Opset: l.g.Opset}
	}
	total := a.numel()
	chunks := (total + elementChunk - 1) / elementChunk
	l.addStep(&step{op: "Q" + n.Op, inputs: []*value{a, b}, outputs: []*value{out}, run: l.parallel(chunks, func(_, i int) {
		lo, hi := i*elementChunk, min((i+1)*elementChunk, total)
		run(a.s8[lo:hi], b.s8[lo:hi], out.s8[lo:hi])
	})})
	return nil
}

// lowerQuantize: QuantizeLinear from float (TFLite QUANTIZE / ONNX), or
// int8 → int8 requantisation.
func lowerQuantize(l *lowering, n *ir.Node) error {
	x := l.in(0)
	scale, zero, err := linearQParams(l, n)
	if err != nil {
		return err
	}
	info := l.g.ValueInfo[n.Outputs[0]]
	if info.Quant == nil {
		info.Quant = &ir.Quant{Scale: []float32{scale}, ZeroPoint: []int32{zero}}
	}
	out, so, zo, err := l.qout(0, x.layout)
	if err != nil {
		return err
	}
	if !x.contiguous() {
		x = l.copyValue(x, x.layout)
	}
	if x.dtype == ir.Float32 {
		l.addStep(&step{op: "Quantize", inputs: []*value{x}, outputs: []*value{out}, run: func() {
			asm.QuantizeF32(x.f32, out.s8, so, zo)
		}})
		return nil
	}
	x = l.asS8(x)
	sx, zx, err := qparams(x)
	if err != nil {
		return err
	}
	rq := asm.NewQRequantize(sx, zx, so, zo)
	l.addStep(&step{op: "Requantize", inputs: []*value{x}, outputs: []*value{out}, run: func() { rq.Run(x.s8, out.s8) }})
	return nil
}

// linearQParams reads QuantizeLinear/DequantizeLinear's scale and zero
// point from its inputs, or from the value annotations a reader set.
func linearQParams(l *lowering, n *ir.Node) (float32, int32, error) {
	if n.Input(1) != "" {
		st := l.g.Initializers[n.Input(1)]
		if st == nil || st.Len() != 1 {
			return 0, 0, &passes.Unsupported{Op: n.Op + "(per-axis or runtime scale)", Node: n.Name, Opset: l.g.Opset}
		}
		z := int32(0)
		if zt := l.g.Initializers[n.Input(2)]; n.Input(2) != "" {
			if zt == nil || zt.Len() != 1 {
				return 0, 0, &passes.Unsupported{Op: n.Op + "(per-axis zero point)", Node: n.Name, Opset: l.g.Opset}
			}
			z = int32(zt.Ints()[0])
		}
		return st.Floats()[0], z, nil
	}
	q := l.g.ValueInfo[n.Outputs[0]].Quant
	if n.Op == "DequantizeLinear" {
		q = l.in(0).quant
	}
	if q == nil || len(q.Scale) != 1 {
		return 0, 0, fmt.Errorf("no per-tensor quantisation parameters")
	}
	z := int32(0)
	if len(q.ZeroPoint) > 0 {
		z = q.ZeroPoint[0]
	}
	return q.Scale[0], z, nil
}

func lowerDequantize(l *lowering, n *ir.Node) error {
	x := l.in(0)
	if !isQuantized(x) {
		return fmt.Errorf("%s input", x.dtype)
	}
	if n.Input(1) != "" {
		s, z, err := linearQParams(l, n)
		if err != nil {
			return err
		}
		x.quant = &ir.Quant{Scale: []float32{s}, ZeroPoint: []int32{z}}
	}
	x = l.asS8(x)
	if !x.contiguous() {
		x = l.copyValue(x, x.layout)
	}
	sx, zx, err := qparams(x)
	if err != nil {
		return err
	}
	out := l.out(0, x.layout)
	if x.konst != nil {
		t := &ir.Tensor{DType: ir.Float32, Shape: x.shape, F32: make([]float32, x.numel())}
		asm.DequantizeS8(x.konst.I8, t.F32, sx, zx)
		out.konst = t
		return nil
	}
	l.addStep(&step{op: "Dequantize", inputs: []*value{x}, outputs: []*value{out}, run: func() {
		asm.DequantizeS8(x.s8, out.f32, sx, zx)
	}})
	return nil
}

// lowerQActivation handles int8 Relu/Clip (a requantising clamp, as
// TFLite's RELU/RELU6), Sigmoid and HardSwish (lookup tables).
func lowerQActivation(l *lowering, n *ir.Node) error {
	x := l.asS8(l.in(0))
	if !x.contiguous() {
		x = l.copyValue(x, x.layout)
	}
	sx, zx, err := qparams(x)
	if err != nil {
		return err
	}
	out, so, zo, err := l.qout(0, x.layout)
	if err != nil {
		return err
	}
	var lut *asm.QLUT
	switch n.Op {
	case "Relu", "Clip":
		lo, hi := float32(0), float32(math.Inf(1))
		if n.Op == "Clip" {
			var ok bool
			if lo, hi, ok = passes.ClipBounds(l.g, n); !ok {
				return &passes.Unsupported{Op: "Clip(int8, runtime bounds)", Node: n.Name, Opset: l.g.Opset}
			}
		}
		qlo, qhi := quant.ActivationRange(lo, hi, so, zo, -128, 127)
		lut = clampLUT(sx, zx, so, zo, qlo, qhi)
	case "Sigmoid":
		lut = asm.NewQLogisticLUT(sx, zx, so, zo)
	case "HardSwish":
		if lut, err = asm.NewQHardSwishLUT(sx, zx, so, zo); err != nil {
			return err
		}
	default:
		return &passes.Unsupported{Op: n.Op + "(int8)", Node: n.Name, Opset: l.g.Opset}
	}
	l.addStep(&step{op: "Q" + n.Op, inputs: []*value{x}, outputs: []*value{out}, run: func() {
		lut.Run(x.s8, out.s8)
	}})
	return nil
}

// clampLUT is TFLite's int8 ReLU family: requantise to the output scale,
// then clamp.
func clampLUT(sx float32, zx int32, so float32, zo int32, lo, hi int32) *asm.QLUT {
	var t asm.QLUT
	rq := asm.NewQRequantize(sx, zx, so, zo)
	var in, out [1]int8
	for q := -128; q < 128; q++ {
		in[0] = int8(q)
		rq.Run(in[:], out[:])
		t[uint8(int8(q))] = int8(min(max(int32(out[0]), lo), hi))
	}
	return &t
}

func lowerQSoftmax(l *lowering, n *ir.Node) error {
	x := l.asS8(l.densePlain(l.in(0)))
	sx, zx, err := qparams(x)
	if err != nil {
		return err
	}
	out, so, zo, err := l.qout(0, plain)
	if err != nil {
		return err
	}
	dim := x.shape[len(x.shape)-1]
	rows := x.numel() / dim
	sm := asm.NewQSoftmax(n.Float("ei_beta", 1), sx, zx, so, zo)
	sm.FromU8 = l.legacyU8
	l.addStep(&step{op: "QSoftmax", inputs: []*value{x}, outputs: []*value{out}, run: func() {
		sm.Run(x.s8, out.s8, rows, dim)
	}})
	return nil
}

// lowerQConcat copies int8 inputs into the output, requantising those
// whose scale differs from the output's.
func lowerQConcat(l *lowering, n *ir.Node) error {
	info := l.g.ValueInfo[n.Outputs[0]]
	axis := int(n.Int("axis", 0))
	if axis < 0 {
		axis += len(info.Shape)
	}
	lay := plain
	for i := range n.Inputs {
		if l.in(i).layout == channelsLast {
			lay = channelsLast
		}
	}
	out, so, zo, err := l.qout(0, lay)
	if err != nil {
		return err
	}
	off := 0
	for i := range n.Inputs {
		v := l.asS8(l.in(i))
		sv, zv, err := qparams(v)
		if err != nil {
			return err
		}
		if sv != so || zv != zo {
			if !v.contiguous() {
				v = l.copyValue(v, v.layout)
			}
			r := l.newValue(v.name+"/requant", ir.Int8, v.shape, v.layout)
			r.quant = out.quant
			rq := asm.NewQRequantize(sv, zv, so, zo)
			src := v
			l.addStep(&step{op: "Requantize", inputs: []*value{src}, outputs: []*value{r}, run: func() { rq.Run(src.s8, r.s8) }})
			v = r
		}
		copyStep(l, "Concat", out, off*out.strides[axis], out.strides, v, 0, v.strides, v.shape)
		off += v.shape[axis]
	}
	return nil
}

// lowerQPad pads int8 data with the zero point (real 0) unless a constant
// value is given.
func lowerQPad(l *lowering, n *ir.Node) error {
	x := l.asS8(l.in(0))
	rank := len(x.shape)
	pads, _, mode, err := passes.PadOperands(n, rank, func(i int) *ir.Tensor { return l.g.Initializers[n.Input(i)] })
	if err != nil {
		return err
	}
	_, zx, err := qparams(x)
	if err != nil {
		return err
	}
	fill := int8(zx)
	if n.Input(2) != "" {
		if t := l.g.Initializers[n.Input(2)]; t != nil && t.Len() == 1 {
			fill = int8(t.Ints()[0])
			if t.DType == ir.Uint8 {
				fill = int8(uint8(t.U8[0]) ^ 0x80)
			}
		}
	}
	out, _, _, err := l.qout(0, x.layout)
	if err != nil {
		return err
	}
	idx, outIdx := padIndex(x, out, pads, mode)
	l.addStep(&step{op: "QPad", inputs: []*value{x}, outputs: []*value{out}, run: func() {
		dst, src := out.s8, x.s8
		for i, s := range idx {
			if s < 0 {
				dst[outIdx[i]] = fill
			} else {
				dst[outIdx[i]] = src[s]
			}
		}
	}})
	return nil
}

func (l *lowering) needScratchBytes(n int) { l.scratchBytes = max(l.scratchBytes, n) }
