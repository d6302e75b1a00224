package passes

import (
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Clamp attribute names, re-exported for the runtime.
const (
	AttrClampMin = ir.AttrClampMin
	AttrClampMax = ir.AttrClampMax
)

// FoldPad merges a zero-constant Pad on the spatial dims of a 4-D tensor
// into the Conv or AveragePool reading it. PyTorch exports
// AvgPool2d(count_include_pad=True) as exactly this pair.
func FoldPad(g *ir.Graph) error {
	cons := consumers(g)
	prod := producers(g)
	for _, n := range g.Nodes {
		if n.Op != "Conv" && n.Op != "AveragePool" {
			continue
		}
		p := prod[n.Inputs[0]]
		if p == nil || p.Op != "Pad" || !singleUse(g, cons, p.Outputs[0]) {
			continue
		}
		vi := g.ValueInfo[p.Inputs[0]]
		if vi == nil || len(vi.Shape) != 4 {
			continue
		}
		pads, value, mode, err := PadOperands(p, 4, func(i int) *ir.Tensor { return g.Initializers[p.Input(i)] })
		if err != nil || mode != "constant" || value != 0 {
			continue
		}
		// Quantised pads fill with the zero point (real 0), as the conv's
		// own padding does, when both sides share quantisation; an
		// explicit quantised constant_value is not real 0.
		if vi.Quant != nil && (p.Input(2) != "" || n.Op != "Conv" || !sameQuant(vi, g.ValueInfo[p.Outputs[0]])) {
			continue
		}
		if pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || anyNegative(pads) {
			continue
		}
		own := n.Ints("pads")
		if len(own) != 4 {
			continue
		}
		if n.Op == "AveragePool" {
			if n.Int("count_include_pad", 0) == 0 && (own[0] != 0 || own[1] != 0 || own[2] != 0 || own[3] != 0) {
				continue // the two pads would be counted differently
			}
			n.SetInt("count_include_pad", 1)
		}
		n.SetInts("pads", own[0]+int64(pads[2]), own[1]+int64(pads[3]), own[2]+int64(pads[6]), own[3]+int64(pads[7]))
		n.Inputs[0] = p.Inputs[0]
	}
	return Prune(g)
}

func anyNegative(v []int) bool {
	for _, x := range v {
		if x < 0 {
			return true
		}
	}
	return false
}

func producers(g *ir.Graph) map[string]*ir.Node {
	m := map[string]*ir.Node{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			m[o] = n
		}
	}
	return m
}

// FoldBatchNorm folds a BatchNormalization into the Conv producing its
// input, when the conv's weights are constant and the BN is its only
// reader: W'[o] = W[o]·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β, in float64.
func FoldBatchNorm(g *ir.Graph) error {
	cons := consumers(g)
	prod := producers(g)
	for _, bn := range g.Nodes {
		if bn.Op != "BatchNormalization" || len(bn.Inputs) < 5 {
			continue
		}
		conv := prod[bn.Inputs[0]]
		if conv == nil || conv.Op != "Conv" || !singleUse(g, cons, conv.Outputs[0]) || conv.Has(AttrClampMin) {
			continue
		}
		w := g.Initializers[conv.Inputs[1]]
		gamma, beta := g.Initializers[bn.Inputs[1]], g.Initializers[bn.Inputs[2]]
		mean, variance := g.Initializers[bn.Inputs[3]], g.Initializers[bn.Inputs[4]]
		if w == nil || gamma == nil || beta == nil || mean == nil || variance == nil || w.DType != ir.Float32 {
			continue
		}
		var bias *ir.Tensor
		if conv.Input(2) != "" {
			if bias = g.Initializers[conv.Inputs[2]]; bias == nil {
				continue
			}
		}
		oc := w.Shape[0]
		if gamma.Len() != oc || beta.Len() != oc || mean.Len() != oc || variance.Len() != oc {
			continue
		}
		eps := float64(bn.Float("epsilon", 1e-5))
		per := len(w.F32) / oc
		nw := &ir.Tensor{DType: ir.Float32, Shape: w.Shape, F32: make([]float32, len(w.F32))}
		nb := &ir.Tensor{DType: ir.Float32, Shape: []int{oc}, F32: make([]float32, oc)}
		gf, bf, mf, vf := gamma.Floats(), beta.Floats(), mean.Floats(), variance.Floats()
		for o := 0; o < oc; o++ {
			s := float64(gf[o]) / math.Sqrt(float64(vf[o])+eps)
			for i := o * per; i < (o+1)*per; i++ {
				nw.F32[i] = float32(float64(w.F32[i]) * s)
			}
			b0 := 0.0
			if bias != nil {
				b0 = float64(bias.F32[o])
			}
			nb.F32[o] = float32((b0-float64(mf[o]))*s + float64(bf[o]))
		}
		wName, bName := conv.Outputs[0]+"/folded_w", conv.Outputs[0]+"/folded_b"
		g.Initializers[wName], g.Initializers[bName] = nw, nb
		conv.Inputs = []string{conv.Inputs[0], wName, bName}
		// The conv now produces the BN's output; the BN is left reading
		// nothing and is pruned.
		conv.Outputs[0] = bn.Outputs[0]
		bn.Outputs[0] = ""
	}
	return Prune(g)
}

// FuseActivation folds Relu and constant-bound Clip into the clamp of the
// Conv, Gemm, MatMul or Add producing their input. The Add must have two
// runtime operands (ResNet's residual sum): an Add of a constant is left
// alone, for the rewrites that fold it into a layer's bias (quant/ptq's
// foldAffine), after which the activation fuses into the layer.
func FuseActivation(g *ir.Graph) error {
	cons := consumers(g)
	prod := producers(g)
	for _, act := range g.Nodes {
		lo, hi, ok := clampOf(g, act)
		if !ok {
			continue
		}
		p := prod[act.Inputs[0]]
		if p == nil || !fusesActivation(g, p) || !singleUse(g, cons, p.Outputs[0]) {
			continue
		}
		// A quantised activation that requantises (different output
		// scale) is two roundings in TFLite; fusing would change bits.
		if !sameQuant(g.ValueInfo[p.Outputs[0]], g.ValueInfo[act.Outputs[0]]) {
			continue
		}
		if p.Has(AttrClampMin) {
			lo = max(lo, p.Float(AttrClampMin, lo))
			hi = min(hi, p.Float(AttrClampMax, hi))
		}
		p.SetFloat(AttrClampMin, lo)
		p.SetFloat(AttrClampMax, hi)
		p.Outputs[0] = act.Outputs[0]
		act.Outputs[0] = ""
	}
	return Prune(g)
}

// fusesActivation reports whether p's lowering applies a fused clamp
// (AttrClampMin/Max) to its output: Conv, Gemm and MatMul in their
// epilogue; a two-operand Add in its elementwise loop (float) or its
// requantisation (int8, as TFLite's ADD with a fused activation).
func fusesActivation(g *ir.Graph, p *ir.Node) bool {
	switch p.Op {
	case "Conv", "Gemm", "MatMul":
		return true
	case "Add":
		if len(p.Inputs) != 2 || len(p.Outputs) != 1 {
			return false
		}
		for _, in := range p.Inputs {
			if in == "" || g.Initializers[in] != nil {
				return false
			}
		}
		return true
	}
	return false
}

// clampOf returns the bounds of a Relu, or of a Clip with constant bounds.
func clampOf(g *ir.Graph, n *ir.Node) (lo, hi float32, ok bool) {
	switch n.Op {
	case "Relu":
		return 0, float32(math.Inf(1)), true
	case "Clip":
		return ClipBounds(g, n)
	}
	return 0, 0, false
}

// ClipBounds returns a Clip node's bounds from its min/max attributes
// (opset < 11) or constant min/max inputs; ok is false when a bound is a
// runtime value. Absent bounds are infinite.
func ClipBounds(g *ir.Graph, n *ir.Node) (lo, hi float32, ok bool) {
	lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	if n.Input(1) == "" && n.Input(2) == "" {
		return n.Float("min", lo), n.Float("max", hi), true
	}
	for i, dst := range []*float32{&lo, &hi} {
		name := n.Input(i + 1)
		if name == "" {
			continue
		}
		t := g.Initializers[name]
		if t == nil || t.Len() != 1 {
			return 0, 0, false
		}
		*dst = t.Floats()[0]
	}
	return lo, hi, true
}

// sameQuant reports whether two values carry the same quantisation (or
// both none).
func sameQuant(a, b *ir.ValueInfo) bool {
	var qa, qb *ir.Quant
	if a != nil {
		qa = a.Quant
	}
	if b != nil {
		qb = b.Quant
	}
	if qa == nil || qb == nil {
		return qa == nil && qb == nil
	}
	if len(qa.Scale) != len(qb.Scale) || len(qa.ZeroPoint) != len(qb.ZeroPoint) {
		return false
	}
	for i := range qa.Scale {
		if qa.Scale[i] != qb.Scale[i] {
			return false
		}
	}
	for i := range qa.ZeroPoint {
		if qa.ZeroPoint[i] != qb.ZeroPoint[i] {
			return false
		}
	}
	return true
}
