package ptq

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

// Prepare returns the optimised float graph the quantiser works on: a copy
// of g through the runtime's passes (BatchNorm folded, ReLU/ReLU6 fused as
// clamps), then the rewrites below, which move constant arithmetic into
// the weights so that more of the network runs in int8, then the passes
// again (a ReLU that followed a folded Add now fuses). Each rewrite is
// exact in real arithmetic; in float32 it changes results at the 1e-7
// relative level.
//
//   - Conv/Gemm/MatMul → Add/Sub of a per-channel constant: the constant
//     joins the bias (ONNX zoo and CNTK models add biases separately).
//     A MatMul with a constant 2-D weight becomes a Gemm.
//   - Conv/Gemm → Mul/Div by a per-channel constant: the weights and bias
//     are scaled (Inception-ResNet's residual scale 0.17).
//   - Mul(x, HardSigmoid(x)) with α = 1/6, β = ½ → HardSwish(x), as
//     torch exports Hardswish.
//   - Conv/Gemm → HardSigmoid: α and β go into the weights and bias and
//     the clamp [0, 1] is fused (MobileNetV3's squeeze-excitation gates).
//
// Only single-use outputs of layers without a fused activation are
// rewritten.
func Prepare(g *ir.Graph) (*ir.Graph, error) {
	fg := g.Clone()
	if err := passes.Apply(fg, passes.Default, -1); err != nil {
		return nil, fmt.Errorf("optimise float graph: %w", err)
	}
	for _, r := range rewrites {
		if err := r.run(fg); err != nil {
			return nil, fmt.Errorf("rewrite %s: %w", r.name, err)
		}
		if err := passes.Prune(fg); err != nil {
			return nil, err
		}
	}
	if err := passes.Apply(fg, passes.Default, -1); err != nil {
		return nil, fmt.Errorf("optimise float graph after rewrites: %w", err)
	}
	return fg, nil
}

var rewrites = []struct {
	name string
	run  func(g *ir.Graph) error
}{
	{"fold-affine", foldAffine},
	{"hardswish", fuseHardSwish},
	{"fold-hardsigmoid", foldHardSigmoid},
}

// graphIndex holds who reads and who writes each value.
type graphIndex struct {
	prod    map[string]*ir.Node
	cons    map[string][]*ir.Node
	outputs map[string]bool
}

func index(g *ir.Graph) *graphIndex {
	x := &graphIndex{prod: map[string]*ir.Node{}, cons: map[string][]*ir.Node{}, outputs: map[string]bool{}}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				x.prod[o] = n
			}
		}
		for _, in := range n.Inputs {
			if in != "" {
				x.cons[in] = append(x.cons[in], n)
			}
		}
	}
	for _, o := range g.Outputs {
		x.outputs[o.Name] = true
	}
	return x
}

// singleUse reports whether value v is read by exactly one node and is not
// a graph output.
func (x *graphIndex) singleUse(v string) bool { return len(x.cons[v]) == 1 && !x.outputs[v] }

// linearLayer returns the Conv, Gemm or MatMul (2-D input, constant 2-D
// weights; affineParams makes it a Gemm) producing v when its weights are
// constant float32, v is read by one node only and it has no fused
// activation.
func linearLayer(g *ir.Graph, x *graphIndex, v string) *ir.Node {
	p := x.prod[v]
	if p == nil || !x.singleUse(v) || p.Has(ir.AttrClampMin) || p.Has(ir.AttrClampMax) {
		return nil
	}
	w := g.Initializers[p.Input(1)]
	if w == nil || w.DType != ir.Float32 {
		return nil
	}
	switch p.Op {
	case "Conv":
		if b := p.Input(2); b != "" && g.Initializers[b] == nil {
			return nil
		}
		return p
	case "Gemm":
		if p.Int("transA", 0) != 0 || len(w.Shape) != 2 {
			return nil
		}
		if c := p.Input(2); c != "" && g.Initializers[c] == nil {
			return nil
		}
		return p
	case "MatMul":
		a := g.ValueInfo[p.Input(0)]
		if a == nil || len(a.Shape) != 2 || len(w.Shape) != 2 || p.Input(2) != "" {
			return nil
		}
		return p
	}
	return nil
}

// outChannels is the number of output channels of a linear layer and the
// axis of its output that holds them.
func outChannels(g *ir.Graph, p *ir.Node) int {
	w := g.Initializers[p.Input(1)]
	if kn(p) {
		return w.Shape[1]
	}
	return w.Shape[0]
}

// kn reports whether a linear layer's weights are [K, N] (MatMul, Gemm
// with transB=0) rather than [N, K].
func kn(p *ir.Node) bool {
	return p.Op == "MatMul" || p.Op == "Gemm" && p.Int("transB", 0) == 0
}

// channelVector returns the values of constant c broadcast over the output
// channels of p's output (rank r, channels on axis 1), or false when c
// varies along another axis.
func channelVector(c *ir.Tensor, oc, r int) ([]float64, bool) {
	if c == nil || c.DType != ir.Float32 || len(c.Shape) > r {
		return nil, false
	}
	n := c.Len()
	if n == 1 {
		out := make([]float64, oc)
		for i := range out {
			out[i] = float64(c.F32[0])
		}
		return out, true
	}
	if n != oc {
		return nil, false
	}
	// Right-aligned against the output: the channel axis is 1, so every
	// other dim of c must be 1 and the dim aligned with axis 1 must be oc.
	lead := r - len(c.Shape)
	for i, d := range c.Shape {
		if d != 1 && i+lead != 1 {
			return nil, false
		}
	}
	out := make([]float64, oc)
	for i, v := range c.F32 {
		out[i] = float64(v)
	}
	return out, true
}

// affineParams reads a linear layer's weights in [out, in…] order (MatMul
// and Gemm with transB=0 have them transposed), its bias (zeros when
// absent, with Gemm's α and β applied) and returns a func that writes them
// back as a Conv or Gemm(transB=1) with α = β = 1.
func affineParams(g *ir.Graph, p *ir.Node) (w [][]float64, b []float64, store func()) {
	wt := g.Initializers[p.Input(1)]
	oc := outChannels(g, p)
	per := wt.Len() / oc
	w = make([][]float64, oc)
	alpha := 1.0
	if p.Op == "Gemm" {
		alpha = float64(p.Float("alpha", 1))
	}
	transposed := kn(p)
	for o := range w {
		w[o] = make([]float64, per)
		for i := range w[o] {
			if transposed {
				w[o][i] = alpha * float64(wt.F32[i*oc+o])
			} else {
				w[o][i] = alpha * float64(wt.F32[o*per+i])
			}
		}
	}
	b = make([]float64, oc)
	if bn := p.Input(2); bn != "" {
		bt := g.Initializers[bn]
		beta := 1.0
		if p.Op == "Gemm" {
			beta = float64(p.Float("beta", 1))
		}
		for o := range b {
			v := bt.F32[0]
			if bt.Len() == oc {
				v = bt.F32[o]
			}
			b[o] = beta * float64(v)
		}
	}
	store = func() {
		shape := append([]int(nil), wt.Shape...)
		if transposed {
			shape = []int{oc, per}
		}
		nw := &ir.Tensor{DType: ir.Float32, Shape: shape, F32: make([]float32, oc*per)}
		for o := range w {
			for i, v := range w[o] {
				nw.F32[o*per+i] = float32(v)
			}
		}
		nb := &ir.Tensor{DType: ir.Float32, Shape: []int{oc}, F32: make([]float32, oc)}
		for o, v := range b {
			nb.F32[o] = float32(v)
		}
		base := p.Outputs[0]
		wName, bName := fresh(g, base+"/w"), fresh(g, base+"/b")
		g.Initializers[wName], g.Initializers[bName] = nw, nb
		p.Inputs = []string{p.Inputs[0], wName, bName}
		if p.Op == "MatMul" || p.Op == "Gemm" {
			p.Op = "Gemm"
			delete(p.Attrs, "alpha")
			delete(p.Attrs, "beta")
			p.SetInt("transB", 1)
		}
	}
	return w, b, store
}

// fresh returns name, or name with a numeric suffix, unused by g.
func fresh(g *ir.Graph, name string) string {
	taken := func(s string) bool {
		if _, ok := g.Initializers[s]; ok {
			return true
		}
		if _, ok := g.ValueInfo[s]; ok {
			return true
		}
		for _, n := range g.Nodes {
			for _, o := range n.Outputs {
				if o == s {
					return true
				}
			}
		}
		return false
	}
	s := name
	for i := 1; taken(s); i++ {
		s = fmt.Sprintf("%s_%d", name, i)
	}
	return s
}

// absorb moves node n (whose input 0 is the layer's output) into layer p:
// p now writes n's output and n is dropped by the next Prune.
func absorb(p, n *ir.Node) {
	p.Outputs[0] = n.Outputs[0]
	n.Outputs[0] = ""
}

// foldAffine folds Add/Sub/Mul/Div by a per-channel constant into the
// Conv/Gemm/MatMul producing the other operand.
func foldAffine(g *ir.Graph) error {
	for changed := true; changed; {
		changed = false
		x := index(g)
		for _, n := range g.Nodes {
			if len(n.Inputs) != 2 || n.Outputs[0] == "" {
				continue
			}
			var xi int
			switch n.Op {
			case "Add", "Mul":
				xi = 0
				if g.Initializers[n.Inputs[0]] != nil {
					xi = 1
				}
			case "Sub", "Div":
				xi = 0
			default:
				continue
			}
			c := g.Initializers[n.Inputs[1-xi]]
			p := linearLayer(g, x, n.Inputs[xi])
			if c == nil || p == nil {
				continue
			}
			out := g.ValueInfo[n.Inputs[xi]]
			fin := g.ValueInfo[n.Outputs[0]]
			if out == nil || fin == nil || !equalShape(out.Shape, fin.Shape) {
				continue // the constant would broadcast the result wider
			}
			k, ok := channelVector(c, outChannels(g, p), len(out.Shape))
			if !ok {
				continue
			}
			if n.Op == "Div" {
				for i, v := range k {
					if v == 0 {
						ok = false
					}
					k[i] = 1 / v
				}
				if !ok {
					continue
				}
			}
			w, b, store := affineParams(g, p)
			for o := range b {
				switch n.Op {
				case "Add":
					b[o] += k[o]
				case "Sub":
					b[o] -= k[o]
				default:
					b[o] *= k[o]
					for i := range w[o] {
						w[o][i] *= k[o]
					}
				}
			}
			store()
			absorb(p, n)
			changed = true
			break // the index is stale
		}
		if changed {
			if err := passes.Prune(g); err != nil {
				return err
			}
		}
	}
	return nil
}

// fuseHardSwish rewrites Mul(x, HardSigmoid(x)) (either operand order),
// torch's export of Hardswish, as HardSwish(x).
func fuseHardSwish(g *ir.Graph) error {
	x := index(g)
	for _, n := range g.Nodes {
		if n.Op != "Mul" || len(n.Inputs) != 2 {
			continue
		}
		for hi := 0; hi < 2; hi++ {
			h := x.prod[n.Inputs[hi]]
			if h == nil || h.Op != "HardSigmoid" || h.Input(0) != n.Inputs[1-hi] || !x.singleUse(h.Outputs[0]) {
				continue
			}
			if math.Abs(float64(h.Float("alpha", 0.2))-1.0/6) > 1e-6 || h.Float("beta", 0.5) != 0.5 {
				continue
			}
			n.Op = "HardSwish"
			n.Inputs = []string{h.Input(0)}
			h.Outputs[0] = ""
			break
		}
	}
	return nil
}

// foldHardSigmoid folds HardSigmoid(αx+β clamped to [0, 1]) into the
// Conv/Gemm producing x.
func foldHardSigmoid(g *ir.Graph) error {
	x := index(g)
	for _, n := range g.Nodes {
		if n.Op != "HardSigmoid" || n.Outputs[0] == "" {
			continue
		}
		p := linearLayer(g, x, n.Input(0))
		if p == nil {
			continue
		}
		alpha, beta := float64(n.Float("alpha", 0.2)), float64(n.Float("beta", 0.5))
		w, b, store := affineParams(g, p)
		for o := range b {
			b[o] = b[o]*alpha + beta
			for i := range w[o] {
				w[o][i] *= alpha
			}
		}
		store()
		p.SetFloat(ir.AttrClampMin, 0)
		p.SetFloat(ir.AttrClampMax, 1)
		absorb(p, n)
		x = index(g)
	}
	return nil
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
