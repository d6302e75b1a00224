package zoo

func init() {
	register("googlenet", &model{res: 224, build: googLeNet})
	register("bn_inception", &model{res: 224, extra: []string{"width"}, build: bnInception})
	register("inception_v3", &model{res: 299, build: inceptionV3})
	register("inception_v4", &model{res: 299, extra: []string{"width", "blocks"}, build: inceptionV4})
	register("inception_resnet_v2", &model{res: 299, extra: []string{"layout", "width", "blocks"}, build: inceptionResNetV2})
}

// basic returns torchvision's BasicConv2d for n: conv (no bias) → BN(eps)
// → ReLU, with a square (k) or rectangular (kh×kw, padding ph, pw) kernel.
func (n *net) basic(eps float32) func(x string, out, k, s, p int) string {
	return func(x string, out, k, s, p int) string {
		return n.convBN(x, cv{out: out, k: k, s: s, p: p}, eps, actReLU)
	}
}

// rect is a BasicConv2d with a 1×7, 7×1, 1×3 or 3×1 kernel and "same"
// padding.
func (n *net) rect(x string, out, kh, kw int, eps float32) string {
	return n.convBN(x, cv{out: out, kh: kh, kw: kw, ph: kh / 2, pw: kw / 2}, eps, actReLU)
}

// googLeNet is torchvision's GoogLeNet (Szegedy et al. 2014 with BN after
// every convolution, eps 1e-3), without the auxiliary heads. Like
// torchvision it uses a 3×3 convolution in the "5×5" branch (kept there
// for compatibility with its pretrained weights).
func googLeNet(n *net, x string, o *options) string {
	c := n.basic(1e-3)
	x = c(x, 64, 7, 2, 3)
	x = n.maxPool(x, 3, 2, 0, true)
	x = c(x, 64, 1, 1, 0)
	x = c(x, 192, 3, 1, 1)
	x = n.maxPool(x, 3, 2, 0, true)
	inc := func(x string, c1, c3r, c3, c5r, c5, pp int) string {
		return n.concat(
			c(x, c1, 1, 1, 0),
			c(c(x, c3r, 1, 1, 0), c3, 3, 1, 1),
			c(c(x, c5r, 1, 1, 0), c5, 3, 1, 1),
			c(n.maxPool(x, 3, 1, 1, true), pp, 1, 1, 0),
		)
	}
	x = inc(x, 64, 96, 128, 16, 32, 32)   // 3a
	x = inc(x, 128, 128, 192, 32, 96, 64) // 3b
	x = n.maxPool(x, 3, 2, 0, true)
	x = inc(x, 192, 96, 208, 16, 48, 64)    // 4a
	x = inc(x, 160, 112, 224, 24, 64, 64)   // 4b
	x = inc(x, 128, 128, 256, 24, 64, 64)   // 4c
	x = inc(x, 112, 144, 288, 32, 64, 64)   // 4d
	x = inc(x, 256, 160, 320, 32, 128, 128) // 4e
	x = n.maxPool(x, 2, 2, 0, true)
	x = inc(x, 256, 160, 320, 32, 128, 128) // 5a
	x = inc(x, 384, 192, 384, 48, 128, 128) // 5b
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}

// bnInceptionCfg is Ioffe & Szegedy 2015, Figure 5: #1×1, #3×3 reduce,
// #3×3, double #3×3 reduce, double #3×3, pool (1 avg, 2 max), pool
// projection, stride.
var bnInceptionCfg = [][8]int{
	{64, 64, 64, 64, 96, 1, 32, 1},       // 3a
	{64, 64, 96, 64, 96, 1, 64, 1},       // 3b
	{0, 128, 160, 64, 96, 2, 0, 2},       // 3c
	{224, 64, 96, 96, 128, 1, 128, 1},    // 4a
	{192, 96, 128, 96, 128, 1, 128, 1},   // 4b
	{160, 128, 160, 128, 160, 1, 128, 1}, // 4c
	{96, 128, 192, 160, 192, 1, 128, 1},  // 4d
	{0, 128, 192, 192, 256, 2, 0, 2},     // 4e
	{352, 192, 320, 160, 224, 1, 128, 1}, // 5a
	{352, 192, 320, 192, 224, 2, 128, 1}, // 5b
}

// bnInception is Inception with Batch Normalization (Ioffe & Szegedy 2015,
// Figure 5), as defined by the shared fixtures' generator: BN (eps 1e-5)
// after every convolution, the 5×5 convolutions replaced by two 3×3,
// average or max pool branches, stride-2 modules 3c and 4e without 1×1
// branch and with a max-pool pass-through, ceil-mode pools, and the final
// 7×7 average pool taken as a global one. width scales every channel
// count c to int(c·width).
func bnInception(n *net, x string, o *options) string {
	w := func(c int) int { return int(float64(c) * o.width) }
	c := n.basic(1e-5)
	x = c(x, w(64), 7, 2, 3)
	x = n.maxPool(x, 3, 2, 0, true)
	x = c(x, w(64), 1, 1, 0)
	x = c(x, w(192), 3, 1, 1)
	x = n.maxPool(x, 3, 2, 0, true)
	for _, m := range bnInceptionCfg {
		c1, c3r, c3, d3r, d3, pool, proj, s := w(m[0]), w(m[1]), w(m[2]), w(m[3]), w(m[4]), m[5], w(m[6]), m[7]
		var branches []string
		if c1 > 0 {
			branches = append(branches, c(x, c1, 1, 1, 0))
		}
		branches = append(branches,
			c(c(x, c3r, 1, 1, 0), c3, 3, s, 1),
			c(c(c(x, d3r, 1, 1, 0), d3, 3, 1, 1), d3, 3, s, 1))
		switch {
		case s == 2:
			branches = append(branches, n.maxPool(x, 3, 2, 0, true))
		case pool == 1:
			branches = append(branches, c(n.avgPool(x, 3, 1, 1, false, true), proj, 1, 1, 0))
		default:
			branches = append(branches, c(n.maxPool(x, 3, 1, 1, false), proj, 1, 1, 0))
		}
		x = n.concat(branches...)
	}
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}

// inceptionV3 is torchvision's Inception-v3 (Szegedy et al. 2015,
// BasicConv2d with BN eps 1e-3) without the auxiliary head.
func inceptionV3(n *net, x string, o *options) string {
	c := n.basic(1e-3)
	r := func(x string, out, kh, kw int) string { return n.rect(x, out, kh, kw, 1e-3) }
	avg := func(x string) string { return n.avgPool(x, 3, 1, 1, false, true) }
	x = c(x, 32, 3, 2, 0)
	x = c(x, 32, 3, 1, 0)
	x = c(x, 64, 3, 1, 1)
	x = n.maxPool(x, 3, 2, 0, false)
	x = c(x, 80, 1, 1, 0)
	x = c(x, 192, 3, 1, 0)
	x = n.maxPool(x, 3, 2, 0, false)
	incA := func(x string, pf int) string {
		return n.concat(
			c(x, 64, 1, 1, 0),
			c(c(x, 48, 1, 1, 0), 64, 5, 1, 2),
			c(c(c(x, 64, 1, 1, 0), 96, 3, 1, 1), 96, 3, 1, 1),
			c(avg(x), pf, 1, 1, 0))
	}
	incB := func(x string) string {
		return n.concat(
			c(x, 384, 3, 2, 0),
			c(c(c(x, 64, 1, 1, 0), 96, 3, 1, 1), 96, 3, 2, 0),
			n.maxPool(x, 3, 2, 0, false))
	}
	incC := func(x string, c7 int) string {
		return n.concat(
			c(x, 192, 1, 1, 0),
			r(r(c(x, c7, 1, 1, 0), c7, 1, 7), 192, 7, 1),
			r(r(r(r(c(x, c7, 1, 1, 0), c7, 7, 1), c7, 1, 7), c7, 7, 1), 192, 1, 7),
			c(avg(x), 192, 1, 1, 0))
	}
	incD := func(x string) string {
		return n.concat(
			c(c(x, 192, 1, 1, 0), 320, 3, 2, 0),
			c(r(r(c(x, 192, 1, 1, 0), 192, 1, 7), 192, 7, 1), 192, 3, 2, 0),
			n.maxPool(x, 3, 2, 0, false))
	}
	incE := func(x string) string {
		b3 := c(x, 384, 1, 1, 0)
		bd := c(c(x, 448, 1, 1, 0), 384, 3, 1, 1)
		return n.concat(
			c(x, 320, 1, 1, 0),
			n.concat(r(b3, 384, 1, 3), r(b3, 384, 3, 1)),
			n.concat(r(bd, 384, 1, 3), r(bd, 384, 3, 1)),
			c(avg(x), 192, 1, 1, 0))
	}
	x = incA(x, 32) // Mixed_5b
	x = incA(x, 64) // Mixed_5c
	x = incA(x, 64) // Mixed_5d
	x = incB(x)     // Mixed_6a
	x = incC(x, 128)
	x = incC(x, 160)
	x = incC(x, 160)
	x = incC(x, 192) // Mixed_6e
	x = incD(x)      // Mixed_7a
	x = incE(x)
	x = incE(x) // Mixed_7c
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}

// inceptionStem is Szegedy et al. 2016, Figure 3 (the Inception-v4 stem):
// 299×299×3 → 35×35×384 at full width. Branch order and 1×7/7×1 order
// follow TF-slim's inception_v4 (and timm's port of its checkpoints).
func inceptionStem(n *net, x string, w func(int) int) string {
	c := n.basic(1e-3)
	x = c(x, w(32), 3, 2, 0)
	x = c(x, w(32), 3, 1, 0)
	x = c(x, w(64), 3, 1, 1)
	x = n.concat(n.maxPool(x, 3, 2, 0, false), c(x, w(96), 3, 2, 0)) // Mixed_3a
	x = n.concat(                                                    // Mixed_4a
		c(c(x, w(64), 1, 1, 0), w(96), 3, 1, 0),
		c(n.rect(n.rect(c(x, w(64), 1, 1, 0), w(64), 1, 7, 1e-3), w(64), 7, 1, 1e-3), w(96), 3, 1, 0))
	return n.concat(c(x, w(192), 3, 2, 0), n.maxPool(x, 3, 2, 0, false)) // Mixed_5a
}

// inceptionV4 is Szegedy et al. 2016's Inception-v4 (Figures 3–9; TF-slim
// and timm): stem, 4×Inception-A, Reduction-A (k,l,m,n = 192,224,256,384),
// 7×Inception-B, Reduction-B, 3×Inception-C, global pool, FC. BN eps 1e-3;
// the pool branches average without the padding (TF "SAME" pooling).
// width scales every channel count c to int(c·width) and blocks sets the
// A/B/C repeats (the shared fixture inception_v4_small is
// "inception_v4?width=0.5&blocks=2,1,1").
func inceptionV4(n *net, x string, o *options) string {
	w := func(c int) int { return int(float64(c) * o.width) }
	blocks := []int{4, 7, 3}
	if o.blocks != nil {
		blocks = o.blocks
	}
	c := n.basic(1e-3)
	r := func(x string, out, kh, kw int) string { return n.rect(x, out, kh, kw, 1e-3) }
	avg := func(x string) string { return n.avgPool(x, 3, 1, 1, false, false) }
	x = inceptionStem(n, x, w)
	for i := 0; i < blocks[0]; i++ { // Inception-A
		x = n.concat(
			c(x, w(96), 1, 1, 0),
			c(c(x, w(64), 1, 1, 0), w(96), 3, 1, 1),
			c(c(c(x, w(64), 1, 1, 0), w(96), 3, 1, 1), w(96), 3, 1, 1),
			c(avg(x), w(96), 1, 1, 0))
	}
	x = n.concat( // Reduction-A
		c(x, w(384), 3, 2, 0),
		c(c(c(x, w(192), 1, 1, 0), w(224), 3, 1, 1), w(256), 3, 2, 0),
		n.maxPool(x, 3, 2, 0, false))
	for i := 0; i < blocks[1]; i++ { // Inception-B
		x = n.concat(
			c(x, w(384), 1, 1, 0),
			r(r(c(x, w(192), 1, 1, 0), w(224), 1, 7), w(256), 7, 1),
			r(r(r(r(c(x, w(192), 1, 1, 0), w(192), 7, 1), w(224), 1, 7), w(224), 7, 1), w(256), 1, 7),
			c(avg(x), w(128), 1, 1, 0))
	}
	x = n.concat( // Reduction-B
		c(c(x, w(192), 1, 1, 0), w(192), 3, 2, 0),
		c(r(r(c(x, w(256), 1, 1, 0), w(256), 1, 7), w(320), 7, 1), w(320), 3, 2, 0),
		n.maxPool(x, 3, 2, 0, false))
	for i := 0; i < blocks[2]; i++ { // Inception-C
		b1 := c(x, w(384), 1, 1, 0)
		b2 := r(r(c(x, w(384), 1, 1, 0), w(448), 3, 1), w(512), 1, 3)
		x = n.concat(
			c(x, w(256), 1, 1, 0),
			r(b1, w(256), 1, 3), r(b1, w(256), 3, 1),
			r(b2, w(256), 1, 3), r(b2, w(256), 3, 1),
			c(avg(x), w(256), 1, 1, 0))
	}
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}

// inceptionResNetV2 is Szegedy et al. 2016's Inception-ResNet-v2. The
// default layout=slim is the network released with TF-slim's checkpoints
// (and ported by timm), which is what the published 55.8 M parameters /
// 13.2 G MACs describe. It differs from the paper's Figure 15 in the stem
// (Conv 3×3/2, 3×3, 3×3, max pool, 1×1 80, 3×3 192, max pool, then
// Mixed_5b to 320 channels), in the repeats (10×Block35 scaled 0.17,
// 20×Block17 scaled 0.10, 10×Block8 scaled 0.20 — the last one unscaled
// and without ReLU — where the figure says 5/10/5) and in a final 1×1
// convolution to 1536 channels before pooling.
//
// layout=paper follows the paper's figures as the shared fixtures'
// generator does: the Inception-v4 stem (Figure 3), 5/10/5 residual blocks
// (Figures 16, 17, 19 with TF-slim's channel counts), Reduction-A with
// k,l,m,n = 256,256,384,384 and Reduction-B of Figure 18, ReLU after every
// block and no final 1×1 convolution. The fixture
// inception_resnet_v2_small is "inception_resnet_v2?layout=paper&width=0.5&blocks=2,2,1".
//
// In both, a residual block is relu(x + scale·conv1×1(concat(branches))),
// the 1×1 "linear" convolution with bias and without BN, the scale a Mul
// by a scalar constant; width scales every channel count c to
// int(c·width) and blocks sets the A/B/C repeats.
func inceptionResNetV2(n *net, x string, o *options) string {
	w := func(c int) int { return int(float64(c) * o.width) }
	c := n.basic(1e-3)
	r := func(x string, out, kh, kw int) string { return n.rect(x, out, kh, kw, 1e-3) }
	residual := func(x string, scale float32, relu bool, branches ...string) string {
		ch, _, _, _ := n.chw(x)
		up := n.conv(n.concat(branches...), cv{out: ch, k: 1, bias: true})
		y := n.add(x, n.scale(up, scale))
		if relu {
			y = n.act(y, actReLU)
		}
		return y
	}
	paper := o.layout == "paper"
	blocks := []int{10, 20, 10}
	if paper {
		blocks = []int{5, 10, 5}
	}
	if o.blocks != nil {
		blocks = o.blocks
	}
	if paper {
		x = inceptionStem(n, x, w)
	} else {
		x = c(x, w(32), 3, 2, 0)
		x = c(x, w(32), 3, 1, 0)
		x = c(x, w(64), 3, 1, 1)
		x = n.maxPool(x, 3, 2, 0, false)
		x = c(x, w(80), 1, 1, 0)
		x = c(x, w(192), 3, 1, 0)
		x = n.maxPool(x, 3, 2, 0, false)
		x = n.concat( // Mixed_5b
			c(x, w(96), 1, 1, 0),
			c(c(x, w(48), 1, 1, 0), w(64), 5, 1, 2),
			c(c(c(x, w(64), 1, 1, 0), w(96), 3, 1, 1), w(96), 3, 1, 1),
			c(n.avgPool(x, 3, 1, 1, false, false), w(64), 1, 1, 0))
	}
	for i := 0; i < blocks[0]; i++ { // Block35, Inception-ResNet-A
		x = residual(x, 0.17, true,
			c(x, w(32), 1, 1, 0),
			c(c(x, w(32), 1, 1, 0), w(32), 3, 1, 1),
			c(c(c(x, w(32), 1, 1, 0), w(48), 3, 1, 1), w(64), 3, 1, 1))
	}
	x = n.concat( // Mixed_6a, Reduction-A
		c(x, w(384), 3, 2, 0),
		c(c(c(x, w(256), 1, 1, 0), w(256), 3, 1, 1), w(384), 3, 2, 0),
		n.maxPool(x, 3, 2, 0, false))
	for i := 0; i < blocks[1]; i++ { // Block17, Inception-ResNet-B
		x = residual(x, 0.10, true,
			c(x, w(192), 1, 1, 0),
			r(r(c(x, w(128), 1, 1, 0), w(160), 1, 7), w(192), 7, 1))
	}
	x = n.concat( // Mixed_7a, Reduction-B
		c(c(x, w(256), 1, 1, 0), w(384), 3, 2, 0),
		c(c(x, w(256), 1, 1, 0), w(288), 3, 2, 0),
		c(c(c(x, w(256), 1, 1, 0), w(288), 3, 1, 1), w(320), 3, 2, 0),
		n.maxPool(x, 3, 2, 0, false))
	for i := 0; i < blocks[2]; i++ { // Block8, Inception-ResNet-C
		scale, relu := float32(0.20), true
		if !paper && i == blocks[2]-1 {
			scale, relu = 1, false // TF-slim's final Block8
		}
		x = residual(x, scale, relu,
			c(x, w(192), 1, 1, 0),
			r(r(c(x, w(192), 1, 1, 0), w(224), 1, 3), w(256), 3, 1))
	}
	if !paper {
		x = c(x, w(1536), 1, 1, 0) // Conv2d_7b
	}
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}
