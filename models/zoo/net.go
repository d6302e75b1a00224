package zoo

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// net wraps an ir.Builder for the model definitions: it infers the shape
// of every value it creates (batch 1, NCHW), counts parameters and MACs,
// and records how each initializer is to be filled. The first error (a
// layer that does not fit its input) sticks in err; later calls do nothing,
// so the model definitions read as straight-line code.
type net struct {
	b     *ir.Builder
	alloc bool // allocate and fill weights; false for Describe
	seed  uint64

	shape  map[string][]int
	params int64
	macs   int64
	jobs   []fillJob
	ntens  uint64 // initializers drawn so far: the key of the next one
	consts map[string]string
	err    error

	// gain is the He gain: weights ~ N(0, gain/fan_in). 2 for the ReLU
	// family; LeNet's tanh uses 1 (LeCun), as its paper does.
	gain float64
	// resGamma scales the γ of the BatchNormalization that closes a
	// residual branch (set by the residual nets to 1/√blocks). With BN near
	// identity, a branch adds about the variance of its input; scaling its
	// last γ keeps the variance growth over the whole net below e instead
	// of 2^blocks (the idea of torchvision's zero_init_residual, without
	// making the branch vanish).
	resGamma float64
}

func newNet(name string, alloc bool, seed uint64) *net {
	return &net{
		b:        ir.NewBuilder(name),
		alloc:    alloc,
		seed:     seed,
		shape:    map[string][]int{},
		consts:   map[string]string{},
		gain:     2,
		resGamma: 1,
	}
}

func (n *net) fail(format string, args ...any) {
	if n.err == nil {
		n.err = fmt.Errorf(format, args...)
	}
}

// input declares the graph input "input" of shape [1, c, h, w].
func (n *net) input(c, h, w int) string {
	x := n.b.Input("input", ir.Float32, 1, c, h, w)
	n.shape[x] = []int{1, c, h, w}
	return x
}

// chw returns the channel, height and width of a 4-D value.
func (n *net) chw(x string) (c, h, w int, ok bool) {
	s := n.shape[x]
	if len(s) != 4 {
		n.fail("value %q has shape %v, want [1 C H W]", x, s)
		return 0, 0, 0, false
	}
	return s[1], s[2], s[3], true
}

// tensor adds a float32 initializer. Its values come from fill when
// weights are allocated; kind/a/b as in fillJob.
func (n *net) tensor(prefix string, kind fillKind, a, b float64, shape ...int) string {
	t := &ir.Tensor{DType: ir.Float32, Shape: shape}
	key := mix64(n.seed ^ mix64(n.ntens+golden))
	n.ntens++
	if n.alloc {
		t.F32 = make([]float32, ir.NumElements(shape))
		n.jobs = append(n.jobs, fillJob{data: t.F32, kind: kind, a: a, b: b, key: key})
	}
	return n.b.Const(prefix, t)
}

// param adds a trainable initializer and counts it.
func (n *net) param(prefix string, kind fillKind, a, b float64, shape ...int) string {
	n.params += int64(ir.NumElements(shape))
	return n.tensor(prefix, kind, a, b, shape...)
}

// scalar returns a shared float32 scalar initializer holding v (Clip
// bounds, residual scales). It is a constant, not a parameter.
func (n *net) scalar(v float32) string {
	k := fmt.Sprintf("f32:%g", v)
	if name, ok := n.consts[k]; ok {
		return name
	}
	t := &ir.Tensor{DType: ir.Float32, Shape: []int{}}
	if n.alloc {
		t.F32 = []float32{v}
	}
	name := n.b.Const("const", t)
	n.consts[k] = name
	return name
}

// ints adds an int64 initializer (shapes, permutations, slice bounds).
func (n *net) ints(prefix string, v ...int) string {
	d := make([]int64, len(v))
	for i, x := range v {
		d[i] = int64(x)
	}
	return n.b.I64(prefix, d, len(v))
}

// op appends a node and records the shape of its output.
func (n *net) op(op string, in []string, shape []int, opts ...func(*ir.Node)) string {
	y := n.b.Op(op, in, opts...)
	n.shape[y] = shape
	return y
}

// cv describes a convolution. Zero values mean: square kernel k, stride 1,
// symmetric padding p, one group, no bias.
type cv struct {
	out    int
	k      int // square kernel size
	kh, kw int // rectangular kernel, overrides k
	s      int // stride
	p      int // symmetric padding
	ph, pw int // padding of a rectangular kernel (top=bottom=ph, left=right=pw)
	g      int // groups
	bias   bool
}

// conv appends a Conv with He-normal weights [out][in/g][kh][kw].
func (n *net) conv(x string, c cv) string {
	if n.err != nil {
		return ""
	}
	ci, h, w, ok := n.chw(x)
	if !ok {
		return ""
	}
	kh, kw, ph, pw := c.k, c.k, c.p, c.p
	if c.kh != 0 {
		kh, kw, ph, pw = c.kh, c.kw, c.ph, c.pw
	}
	s := max(c.s, 1)
	g := max(c.g, 1)
	if ci%g != 0 || c.out%g != 0 {
		n.fail("conv: %d input and %d output channels are not divisible into %d groups", ci, c.out, g)
		return ""
	}
	oh := (h+2*ph-kh)/s + 1
	ow := (w+2*pw-kw)/s + 1
	if h+2*ph < kh || w+2*pw < kw {
		n.fail("conv %dx%d: input %dx%d is too small", kh, kw, h, w)
		return ""
	}
	fanIn := ci / g * kh * kw
	wt := n.param("conv.weight", fillNormal, 0, math.Sqrt(n.gain/float64(fanIn)), c.out, ci/g, kh, kw)
	in := []string{x, wt}
	if c.bias {
		in = append(in, n.param("conv.bias", fillNormal, 0, 0.01, c.out))
	}
	n.macs += int64(c.out) * int64(oh) * int64(ow) * int64(fanIn)
	return n.op("Conv", in, []int{1, c.out, oh, ow},
		ir.WithInts("kernel_shape", int64(kh), int64(kw)),
		ir.WithInts("strides", int64(s), int64(s)),
		ir.WithInts("pads", int64(ph), int64(pw), int64(ph), int64(pw)),
		ir.WithInts("dilations", 1, 1),
		ir.WithInt("group", int64(g)))
}

// bn appends a BatchNormalization with near-identity statistics:
// γ ~ gammaScale·U(0.9, 1.1), β ~ U(−0.1, 0.1), mean ~ U(−0.1, 0.1),
// var ~ U(0.9, 1.1). γ and β are parameters; mean and var are not.
func (n *net) bn(x string, eps float32, gammaScale float64) string {
	if n.err != nil {
		return ""
	}
	c, _, _, ok := n.chw(x)
	if !ok {
		return ""
	}
	scale := n.param("bn.scale", fillUniform, 0.9*gammaScale, 1.1*gammaScale, c)
	bias := n.param("bn.bias", fillUniform, -0.1, 0.1, c)
	mean := n.tensor("bn.mean", fillUniform, -0.1, 0.1, c)
	variance := n.tensor("bn.var", fillUniform, 0.9, 1.1, c)
	return n.op("BatchNormalization", []string{x, scale, bias, mean, variance}, n.shape[x],
		ir.WithFloat("epsilon", eps))
}

// act is an activation function.
type act uint8

const (
	actNone act = iota
	actReLU
	actReLU6
	actHardSwish
	actSiLU
	actTanh
)

// act applies a, spelled the way torch.onnx exports it.
func (n *net) act(x string, a act) string {
	if n.err != nil {
		return ""
	}
	s := n.shape[x]
	switch a {
	case actReLU:
		return n.op("Relu", []string{x}, s)
	case actReLU6:
		return n.op("Clip", []string{x, n.scalar(0), n.scalar(6)}, s)
	case actHardSwish:
		return n.op("Mul", []string{x, n.hardSigmoid(x)}, s)
	case actSiLU:
		return n.op("Mul", []string{x, n.op("Sigmoid", []string{x}, s)}, s)
	case actTanh:
		return n.op("Tanh", []string{x}, s)
	}
	return x
}

// hardSigmoid is torch's Hardsigmoid: max(0, min(1, x/6 + 1/2)).
func (n *net) hardSigmoid(x string) string {
	return n.op("HardSigmoid", []string{x}, n.shape[x],
		ir.WithFloat("alpha", 1.0/6), ir.WithFloat("beta", 0.5))
}

// convBN is conv (no bias) → BatchNormalization → activation.
func (n *net) convBN(x string, c cv, eps float32, a act) string {
	return n.act(n.bn(n.conv(x, c), eps, 1), a)
}

// convBNRes is conv (no bias) → BatchNormalization closing a residual
// branch (γ scaled by resGamma), without activation.
func (n *net) convBNRes(x string, c cv, eps float32) string {
	return n.bn(n.conv(x, c), eps, n.resGamma)
}

// pool appends a MaxPool or AveragePool with PyTorch's output size rule.
func (n *net) pool(op string, x string, k, s, p int, ceil, countPad bool) string {
	if n.err != nil {
		return ""
	}
	c, h, w, ok := n.chw(x)
	if !ok {
		return ""
	}
	oh, okh := poolOut(h, k, s, p, ceil)
	ow, okw := poolOut(w, k, s, p, ceil)
	if !okh || !okw {
		n.fail("%s %dx%d/%d: input %dx%d is too small", op, k, k, s, h, w)
		return ""
	}
	opts := []func(*ir.Node){
		ir.WithInts("kernel_shape", int64(k), int64(k)),
		ir.WithInts("strides", int64(s), int64(s)),
		ir.WithInts("pads", int64(p), int64(p), int64(p), int64(p)),
		ir.WithInt("ceil_mode", b2i(ceil)),
	}
	if op == "AveragePool" {
		opts = append(opts, ir.WithInt("count_include_pad", b2i(countPad)))
	}
	return n.op(op, []string{x}, []int{1, c, oh, ow}, opts...)
}

func (n *net) maxPool(x string, k, s, p int, ceil bool) string {
	return n.pool("MaxPool", x, k, s, p, ceil, false)
}

func (n *net) avgPool(x string, k, s, p int, ceil, countPad bool) string {
	return n.pool("AveragePool", x, k, s, p, ceil, countPad)
}

// poolOut is the pooled size of in: floor or ceil of (in+2p−k)/s, plus one,
// where in ceil mode a last window that would start in the right padding
// is dropped (PyTorch's rule, and ONNX's since opset 19).
func poolOut(in, k, s, p int, ceil bool) (int, bool) {
	span := in + 2*p - k
	if span < 0 {
		return 0, false
	}
	out := span/s + 1
	if ceil && span%s != 0 {
		out++
		if (out-1)*s >= in+p {
			out--
		}
	}
	return out, true
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// globalAvgPool appends a GlobalAveragePool: [1,C,H,W] → [1,C,1,1].
func (n *net) globalAvgPool(x string) string {
	if n.err != nil {
		return ""
	}
	c, _, _, ok := n.chw(x)
	if !ok {
		return ""
	}
	return n.op("GlobalAveragePool", []string{x}, []int{1, c, 1, 1})
}

// concat joins 4-D values along the channels.
func (n *net) concat(xs ...string) string {
	if n.err != nil {
		return ""
	}
	if len(xs) == 1 {
		return xs[0]
	}
	total := 0
	_, h, w, _ := n.chw(xs[0])
	for _, x := range xs {
		c, hx, wx, ok := n.chw(x)
		if !ok {
			return ""
		}
		if hx != h || wx != w {
			n.fail("concat: spatial sizes %dx%d and %dx%d differ", h, w, hx, wx)
			return ""
		}
		total += c
	}
	return n.op("Concat", xs, []int{1, total, h, w}, ir.WithInt("axis", 1))
}

// add and mul are elementwise on equal shapes (mul also broadcasts a
// [1,C,1,1] scale over [1,C,H,W], as squeeze-excitation does).
func (n *net) add(a, b string) string { return n.binary("Add", a, b) }
func (n *net) mul(a, b string) string { return n.binary("Mul", a, b) }

func (n *net) binary(op, a, b string) string {
	if n.err != nil {
		return ""
	}
	sa, sb := n.shape[a], n.shape[b]
	out := sa
	switch {
	case equalInts(sa, sb):
	case len(sa) == 4 && len(sb) == 4 && sa[1] == sb[1] && sb[2] == 1 && sb[3] == 1:
	case len(sa) == 4 && len(sb) == 4 && sa[1] == sb[1] && sa[2] == 1 && sa[3] == 1:
		out = sb
	default:
		n.fail("%s: shapes %v and %v do not match", op, sa, sb)
		return ""
	}
	return n.op(op, []string{a, b}, out)
}

// scale multiplies x by a constant scalar.
func (n *net) scale(x string, v float32) string {
	if n.err != nil {
		return ""
	}
	return n.op("Mul", []string{x, n.scalar(v)}, n.shape[x])
}

// lrn appends an ONNX LRN (across channels).
func (n *net) lrn(x string, size int, alpha, beta, bias float32) string {
	if n.err != nil {
		return ""
	}
	return n.op("LRN", []string{x}, n.shape[x],
		ir.WithInt("size", int64(size)), ir.WithFloat("alpha", alpha),
		ir.WithFloat("beta", beta), ir.WithFloat("bias", bias))
}

// flatten is Flatten(axis 1): [1, C, H, W] → [1, C·H·W].
func (n *net) flatten(x string) string {
	if n.err != nil {
		return ""
	}
	s := n.shape[x]
	return n.op("Flatten", []string{x}, []int{1, ir.NumElements(s[1:])}, ir.WithInt("axis", 1))
}

// gemm is a Linear layer on a [1, in] value: Gemm(transB=1) with weight
// [out][in] and bias [out].
func (n *net) gemm(x string, out int) string {
	if n.err != nil {
		return ""
	}
	s := n.shape[x]
	if len(s) != 2 {
		n.fail("gemm: input shape %v, want [1 N]", s)
		return ""
	}
	in := s[1]
	wt := n.param("fc.weight", fillNormal, 0, math.Sqrt(n.gain/float64(in)), out, in)
	bias := n.param("fc.bias", fillNormal, 0, 0.01, out)
	n.macs += int64(in) * int64(out)
	return n.op("Gemm", []string{x, wt, bias}, []int{1, out},
		ir.WithFloat("alpha", 1), ir.WithFloat("beta", 1),
		ir.WithInt("transA", 0), ir.WithInt("transB", 1))
}

// reshape and transpose are the static-shape ops of a channel shuffle.
func (n *net) reshape(x string, shape ...int) string {
	if n.err != nil {
		return ""
	}
	if ir.NumElements(shape) != ir.NumElements(n.shape[x]) {
		n.fail("reshape %v to %v", n.shape[x], shape)
		return ""
	}
	return n.op("Reshape", []string{x, n.ints("shape", shape...)}, append([]int(nil), shape...))
}

func (n *net) transpose(x string, perm ...int) string {
	if n.err != nil {
		return ""
	}
	s := n.shape[x]
	out := make([]int, len(perm))
	p := make([]int64, len(perm))
	for i, a := range perm {
		out[i] = s[a]
		p[i] = int64(a)
	}
	return n.op("Transpose", []string{x}, out, ir.WithInts("perm", p...))
}

// sliceChannels takes channels [lo, hi) of a 4-D value.
func (n *net) sliceChannels(x string, lo, hi int) string {
	if n.err != nil {
		return ""
	}
	s := append([]int(nil), n.shape[x]...)
	s[1] = hi - lo
	return n.op("Slice", []string{x, n.ints("starts", lo), n.ints("ends", hi), n.ints("axes", 1)}, s)
}

// finish names the last value "output", declares it as the graph output
// and fills the weights. It returns the graph.
func (n *net) finish(y string) (*ir.Graph, error) {
	if n.err != nil {
		return nil, n.err
	}
	g := n.b.G
	// rename y (the only unconsumed output of the last node) to "output"
	for _, nd := range g.Nodes {
		for i, o := range nd.Outputs {
			if o == y {
				nd.Outputs[i] = "output"
			}
		}
		for i, in := range nd.Inputs {
			if in == y {
				nd.Inputs[i] = "output"
			}
		}
	}
	n.shape["output"] = n.shape[y]
	delete(n.shape, y)
	n.b.Output("output")
	g.Outputs[0].Shape = append([]int(nil), n.shape["output"]...)
	for name, s := range n.shape {
		if name == "input" || name == "output" {
			continue
		}
		g.ValueInfo[name] = &ir.ValueInfo{Name: name, DType: ir.Float32, Shape: s}
	}
	if n.alloc {
		runFill(n.jobs)
	}
	n.jobs = nil
	return g, nil
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
