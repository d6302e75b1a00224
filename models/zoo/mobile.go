package zoo

import "math"

func init() {
	register("mobilenet_v1", &model{res: 224, extra: []string{"alpha"}, build: mobileNetV1})
	register("mobilenet_v2", &model{res: 224, extra: []string{"alpha"}, build: mobileNetV2})
	register("mobilenet_v3_small", &model{res: 224, extra: []string{"alpha"}, build: func(n *net, x string, o *options) string {
		return mobileNetV3(n, x, o, mobileNetV3Small, 1024)
	}})
	register("mobilenet_v3_large", &model{res: 224, extra: []string{"alpha"}, build: func(n *net, x string, o *options) string {
		return mobileNetV3(n, x, o, mobileNetV3Large, 1280)
	}})
	register("squeezenet1_1", &model{res: 224, build: squeezeNet11})
	register("shufflenet_v2_x0_5", &model{res: 224, build: func(n *net, x string, o *options) string {
		return shuffleNetV2(n, x, o, [5]int{24, 48, 96, 192, 1024})
	}})
	register("shufflenet_v2_x1_0", &model{res: 224, build: func(n *net, x string, o *options) string {
		return shuffleNetV2(n, x, o, [5]int{24, 116, 232, 464, 1024})
	}})
	register("efficientnet_b0", &model{res: 224, build: efficientNetB0})
}

// makeDivisible is torchvision's _make_divisible (from TF's MobileNet
// code): round v to the nearest multiple of divisor, at least divisor, and
// not more than 10 % below v.
func makeDivisible(v float64, divisor int) int {
	nv := max(divisor, int(v+float64(divisor)/2)/divisor*divisor)
	if float64(nv) < 0.9*v {
		nv += divisor
	}
	return nv
}

// setResGamma sets n.resGamma for a net with blocks residual additions.
func (n *net) setResGamma(blocks int) {
	if blocks > 0 {
		n.resGamma = 1 / math.Sqrt(float64(blocks))
	}
}

// mobileNetV1 is Howard et al. 2017, Table 1, as defined by the shared
// fixtures' generator (and TF-slim): a 3×3/2 convolution, 13 depthwise-
// separable pairs, BN (eps 1e-3) + ReLU6 after every convolution, global
// average pool and FC. alpha scales every channel count c to
// max(8, int(c·alpha)).
func mobileNetV1(n *net, x string, o *options) string {
	c := func(ch int) int { return max(8, int(float64(ch)*o.alpha)) }
	cfg := [][2]int{{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
		{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}}
	x = n.convBN(x, cv{out: c(32), k: 3, s: 2, p: 1}, 1e-3, actReLU6)
	for _, l := range cfg {
		in, _, _, _ := n.chw(x)
		x = n.convBN(x, cv{out: in, k: 3, s: l[1], p: 1, g: in}, 1e-3, actReLU6)
		x = n.convBN(x, cv{out: c(l[0]), k: 1}, 1e-3, actReLU6)
	}
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}

// mobileNetV2 is torchvision's MobileNetV2 (Sandler et al. 2018): inverted
// residuals with linear bottlenecks, ReLU6, BN eps 1e-5, width multiplier
// alpha with channels rounded to multiples of 8.
func mobileNetV2(n *net, x string, o *options) string {
	cfg := [][4]int{ // t, c, n, s
		{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
		{6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
	}
	type block struct{ in, hidden, out, s int }
	var blocks []block
	in := makeDivisible(32*o.alpha, 8)
	residuals := 0
	for _, l := range cfg {
		out := makeDivisible(float64(l[1])*o.alpha, 8)
		for i := 0; i < l[2]; i++ {
			s := 1
			if i == 0 {
				s = l[3]
			}
			blocks = append(blocks, block{in, in * l[0], out, s})
			if s == 1 && in == out {
				residuals++
			}
			in = out
		}
	}
	n.setResGamma(residuals)
	const eps = 1e-5
	x = n.convBN(x, cv{out: makeDivisible(32*o.alpha, 8), k: 3, s: 2, p: 1}, eps, actReLU6)
	for _, b := range blocks {
		y := x
		if b.hidden != b.in {
			y = n.convBN(y, cv{out: b.hidden, k: 1}, eps, actReLU6)
		}
		y = n.convBN(y, cv{out: b.hidden, k: 3, s: b.s, p: 1, g: b.hidden}, eps, actReLU6)
		if b.s == 1 && b.in == b.out {
			x = n.add(x, n.convBNRes(y, cv{out: b.out, k: 1}, eps))
		} else {
			x = n.convBN(y, cv{out: b.out, k: 1}, eps, actNone)
		}
	}
	last := makeDivisible(1280*max(1, o.alpha), 8)
	x = n.convBN(x, cv{out: last, k: 1}, eps, actReLU6)
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}

// mbv3Block is one row of torchvision's MobileNetV3 configuration: input
// channels, kernel, expanded channels, output channels, squeeze-excite,
// hard-swish (else ReLU), stride.
type mbv3Block struct {
	in, k, exp, out int
	se, hs          bool
	s               int
}

var mobileNetV3Large = []mbv3Block{
	{16, 3, 16, 16, false, false, 1},
	{16, 3, 64, 24, false, false, 2},
	{24, 3, 72, 24, false, false, 1},
	{24, 5, 72, 40, true, false, 2},
	{40, 5, 120, 40, true, false, 1},
	{40, 5, 120, 40, true, false, 1},
	{40, 3, 240, 80, false, true, 2},
	{80, 3, 200, 80, false, true, 1},
	{80, 3, 184, 80, false, true, 1},
	{80, 3, 184, 80, false, true, 1},
	{80, 3, 480, 112, true, true, 1},
	{112, 3, 672, 112, true, true, 1},
	{112, 5, 672, 160, true, true, 2},
	{160, 5, 960, 160, true, true, 1},
	{160, 5, 960, 160, true, true, 1},
}

var mobileNetV3Small = []mbv3Block{
	{16, 3, 16, 16, true, false, 2},
	{16, 3, 72, 24, false, false, 2},
	{24, 3, 88, 24, false, false, 1},
	{24, 5, 96, 40, true, true, 2},
	{40, 5, 240, 40, true, true, 1},
	{40, 5, 240, 40, true, true, 1},
	{40, 5, 120, 48, true, true, 1},
	{48, 5, 144, 48, true, true, 1},
	{48, 5, 288, 96, true, true, 2},
	{96, 5, 576, 96, true, true, 1},
	{96, 5, 576, 96, true, true, 1},
}

// squeezeExcite is torchvision's SqueezeExcitation: global average pool,
// 1×1 conv (bias) to squeeze channels, inner activation, 1×1 conv (bias)
// back, gate activation, and scale·x.
func (n *net) squeezeExcite(x string, squeeze int, inner act, gateHard bool) string {
	c, _, _, _ := n.chw(x)
	s := n.act(n.conv(n.globalAvgPool(x), cv{out: squeeze, k: 1, bias: true}), inner)
	s = n.conv(s, cv{out: c, k: 1, bias: true})
	if gateHard {
		s = n.hardSigmoid(s)
	} else {
		s = n.op("Sigmoid", []string{s}, n.shape[s])
	}
	return n.mul(s, x)
}

// mobileNetV3 is torchvision's MobileNetV3 (Howard et al. 2019): BN eps
// 1e-3, Hardswish as HardSigmoid+Mul, squeeze-excite with ReLU and
// HardSigmoid gate, classifier 6·C → lastChannel → classes with Hardswish
// between. alpha is torchvision's width_mult.
func mobileNetV3(n *net, x string, o *options, cfg []mbv3Block, lastChannel int) string {
	adj := func(c int) int { return makeDivisible(float64(c)*o.alpha, 8) }
	residuals := 0
	for _, b := range cfg {
		if b.s == 1 && adj(b.in) == adj(b.out) {
			residuals++
		}
	}
	n.setResGamma(residuals)
	const eps = 1e-3
	x = n.convBN(x, cv{out: adj(cfg[0].in), k: 3, s: 2, p: 1}, eps, actHardSwish)
	for _, b := range cfg {
		in, exp, out := adj(b.in), adj(b.exp), adj(b.out)
		a := actReLU
		if b.hs {
			a = actHardSwish
		}
		y := x
		if exp != in {
			y = n.convBN(y, cv{out: exp, k: 1}, eps, a)
		}
		y = n.convBN(y, cv{out: exp, k: b.k, s: b.s, p: (b.k - 1) / 2, g: exp}, eps, a)
		if b.se {
			y = n.squeezeExcite(y, makeDivisible(float64(exp/4), 8), actReLU, true)
		}
		if b.s == 1 && in == out {
			x = n.add(n.convBNRes(y, cv{out: out, k: 1}, eps), x)
		} else {
			x = n.convBN(y, cv{out: out, k: 1}, eps, actNone)
		}
	}
	lastIn := adj(cfg[len(cfg)-1].out)
	x = n.convBN(x, cv{out: 6 * lastIn, k: 1}, eps, actHardSwish)
	x = n.act(n.gemm(n.flatten(n.globalAvgPool(x)), adj(lastChannel)), actHardSwish)
	return n.gemm(x, o.classes)
}

// squeezeNet11 is torchvision's SqueezeNet 1.1 (Iandola et al. 2016, the
// v1.1 of the official repository): Fire modules, ceil-mode max pools, and
// a 1×1 convolution classifier followed by ReLU and global average pool
// (there is no Gemm: the logits come out of Flatten).
func squeezeNet11(n *net, x string, o *options) string {
	relu := func(x string) string { return n.act(x, actReLU) }
	fire := func(x string, sq, e1, e3 int) string {
		s := relu(n.conv(x, cv{out: sq, k: 1, bias: true}))
		return n.concat(relu(n.conv(s, cv{out: e1, k: 1, bias: true})),
			relu(n.conv(s, cv{out: e3, k: 3, p: 1, bias: true})))
	}
	x = relu(n.conv(x, cv{out: 64, k: 3, s: 2, bias: true}))
	x = n.maxPool(x, 3, 2, 0, true)
	x = fire(x, 16, 64, 64)
	x = fire(x, 16, 64, 64)
	x = n.maxPool(x, 3, 2, 0, true)
	x = fire(x, 32, 128, 128)
	x = fire(x, 32, 128, 128)
	x = n.maxPool(x, 3, 2, 0, true)
	x = fire(x, 48, 192, 192)
	x = fire(x, 48, 192, 192)
	x = fire(x, 64, 256, 256)
	x = fire(x, 64, 256, 256)
	x = relu(n.conv(x, cv{out: o.classes, k: 1, bias: true}))
	return n.flatten(n.globalAvgPool(x))
}

// shuffleNetV2 is torchvision's ShuffleNetV2 (Ma et al. 2018): stages of
// 4, 8 and 4 units, BN eps 1e-5. A stride-1 unit splits the channels in
// two halves (Slice), transforms the second and concatenates; every unit
// ends with PyTorch's channel shuffle, exported as Reshape [1,2,C/2,H,W],
// Transpose [0,2,1,3,4], Reshape [1,C,H,W]. The head's x.mean([2,3]) is a
// GlobalAveragePool + Flatten.
func shuffleNetV2(n *net, x string, o *options, ch [5]int) string {
	const eps = 1e-5
	x = n.convBN(x, cv{out: ch[0], k: 3, s: 2, p: 1}, eps, actReLU)
	x = n.maxPool(x, 3, 2, 1, false)
	shuffle := func(x string) string {
		c, h, w, _ := n.chw(x)
		x = n.reshape(x, 1, 2, c/2, h, w)
		x = n.transpose(x, 0, 2, 1, 3, 4)
		return n.reshape(x, 1, c, h, w)
	}
	branch2 := func(x string, bf, s int) string {
		y := n.convBN(x, cv{out: bf, k: 1}, eps, actReLU)
		y = n.convBN(y, cv{out: bf, k: 3, s: s, p: 1, g: bf}, eps, actNone)
		return n.convBN(y, cv{out: bf, k: 1}, eps, actReLU)
	}
	for stage, repeats := range []int{4, 8, 4} {
		out := ch[stage+1]
		bf := out / 2
		for i := 0; i < repeats; i++ {
			if i == 0 {
				in, _, _, _ := n.chw(x)
				b1 := n.convBN(x, cv{out: in, k: 3, s: 2, p: 1, g: in}, eps, actNone)
				b1 = n.convBN(b1, cv{out: bf, k: 1}, eps, actReLU)
				x = shuffle(n.concat(b1, branch2(x, bf, 2)))
			} else {
				x1 := n.sliceChannels(x, 0, bf)
				x2 := n.sliceChannels(x, bf, 2*bf)
				x = shuffle(n.concat(x1, branch2(x2, bf, 1)))
			}
		}
	}
	x = n.convBN(x, cv{out: ch[4], k: 1}, eps, actReLU)
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}

// efficientNetB0 is torchvision's EfficientNet-B0 (Tan & Le 2019): MBConv
// blocks with SiLU (Sigmoid+Mul), squeeze-excite (SiLU inside, Sigmoid
// gate, squeeze = block input/4), BN eps 1e-5; stochastic depth and
// dropout are identities at inference.
func efficientNetB0(n *net, x string, o *options) string {
	cfg := [][6]int{ // expand, kernel, stride, in, out, layers
		{1, 3, 1, 32, 16, 1}, {6, 3, 2, 16, 24, 2}, {6, 5, 2, 24, 40, 2}, {6, 3, 2, 40, 80, 3},
		{6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1},
	}
	residuals := 0
	for _, l := range cfg {
		residuals += l[5] - 1
		if l[2] == 1 && l[3] == l[4] {
			residuals++
		}
	}
	n.setResGamma(residuals)
	const eps = 1e-5
	x = n.convBN(x, cv{out: 32, k: 3, s: 2, p: 1}, eps, actSiLU)
	for _, l := range cfg {
		for i := 0; i < l[5]; i++ {
			in, s := l[3], l[2]
			if i > 0 {
				in, s = l[4], 1
			}
			exp := makeDivisible(float64(in*l[0]), 8)
			y := x
			if exp != in {
				y = n.convBN(y, cv{out: exp, k: 1}, eps, actSiLU)
			}
			y = n.convBN(y, cv{out: exp, k: l[1], s: s, p: (l[1] - 1) / 2, g: exp}, eps, actSiLU)
			y = n.squeezeExcite(y, max(1, in/4), actSiLU, false)
			if s == 1 && in == l[4] {
				x = n.add(n.convBNRes(y, cv{out: l[4], k: 1}, eps), x)
			} else {
				x = n.convBN(y, cv{out: l[4], k: 1}, eps, actNone)
			}
		}
	}
	x = n.convBN(x, cv{out: 1280, k: 1}, eps, actSiLU)
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}
