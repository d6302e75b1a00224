package zoo

func init() {
	register("lenet5", &model{channels: 1, res: 32, classes: 10, build: leNet5})
	register("alexnet", &model{res: 224, extra: []string{"lrn"}, build: alexNet,
		resFor: func(o *options) int {
			if o.lrn {
				return 227
			}
			return 224
		}})
	for _, v := range []struct {
		name string
		cfg  []int
	}{
		{"vgg11", vggA}, {"vgg13", vggB}, {"vgg16", vggD}, {"vgg19", vggE},
	} {
		register(v.name, &model{res: 224, build: func(n *net, x string, o *options) string {
			return vgg(n, x, o, v.cfg, false)
		}})
		register(v.name+"_bn", &model{res: 224, build: func(n *net, x string, o *options) string {
			return vgg(n, x, o, v.cfg, true)
		}})
	}
}

// leNet5 is LeCun et al. 1998's LeNet-5 on 1×32×32: C1 conv5×5(6), tanh,
// S2 avgpool 2, C3 conv5×5(16), tanh, S4 avgpool 2, C5 conv5×5(120), tanh,
// F6 fc(84), tanh, output fc(classes). As usual today C3 is fully connected
// (the paper's sparse connection table would give 1,516 instead of 2,416
// weights), subsampling has no trainable coefficients and the output is a
// plain linear layer instead of Euclidean RBF units; C5 is a convolution,
// as in the paper (on a 32×32 input it sees the whole 5×5 map).
func leNet5(n *net, x string, o *options) string {
	n.gain = 1 // LeCun normal for tanh
	x = n.act(n.conv(x, cv{out: 6, k: 5, bias: true}), actTanh)
	x = n.avgPool(x, 2, 2, 0, false, false)
	x = n.act(n.conv(x, cv{out: 16, k: 5, bias: true}), actTanh)
	x = n.avgPool(x, 2, 2, 0, false, false)
	x = n.act(n.conv(x, cv{out: 120, k: 5, bias: true}), actTanh)
	x = n.act(n.gemm(n.flatten(x), 84), actTanh)
	return n.gemm(x, o.classes)
}

// alexNet is torchvision's AlexNet (the "one weird trick" single-tower
// variant: 64-192-384-256-256 channels, no LRN) or, with lrn=1,
// Krizhevsky et al. 2012 as in Caffe's bvlc_alexnet: 227×227 input,
// 96-256-384-384-256 channels, groups=2 on conv2/4/5 (the two-GPU split),
// LRN (size 5, α 1e-4, β 0.75, k 2) after the ReLU of conv1 and conv2, and
// overlapping 3×3/2 max pooling.
func alexNet(n *net, x string, o *options) string {
	relu := func(x string) string { return n.act(x, actReLU) }
	if o.lrn {
		x = relu(n.conv(x, cv{out: 96, k: 11, s: 4, bias: true}))
		x = n.maxPool(n.lrn(x, 5, 1e-4, 0.75, 2), 3, 2, 0, false)
		x = relu(n.conv(x, cv{out: 256, k: 5, p: 2, g: 2, bias: true}))
		x = n.maxPool(n.lrn(x, 5, 1e-4, 0.75, 2), 3, 2, 0, false)
		x = relu(n.conv(x, cv{out: 384, k: 3, p: 1, bias: true}))
		x = relu(n.conv(x, cv{out: 384, k: 3, p: 1, g: 2, bias: true}))
		x = relu(n.conv(x, cv{out: 256, k: 3, p: 1, g: 2, bias: true}))
		x = n.maxPool(x, 3, 2, 0, false)
	} else {
		x = relu(n.conv(x, cv{out: 64, k: 11, s: 4, p: 2, bias: true}))
		x = n.maxPool(x, 3, 2, 0, false)
		x = relu(n.conv(x, cv{out: 192, k: 5, p: 2, bias: true}))
		x = n.maxPool(x, 3, 2, 0, false)
		x = relu(n.conv(x, cv{out: 384, k: 3, p: 1, bias: true}))
		x = relu(n.conv(x, cv{out: 256, k: 3, p: 1, bias: true}))
		x = relu(n.conv(x, cv{out: 256, k: 3, p: 1, bias: true}))
		x = n.maxPool(x, 3, 2, 0, false)
		x = n.adaptiveAvgPool(x, 6)
	}
	x = relu(n.gemm(n.flatten(x), 4096))
	x = relu(n.gemm(x, 4096))
	return n.gemm(x, o.classes)
}

// VGG configurations (Simonyan & Zisserman 2014, Table 1; torchvision's
// cfgs): channel counts of the 3×3 convolutions, 0 for a 2×2/2 max pool.
var (
	vggA = []int{64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}
	vggB = []int{64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}
	vggD = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}
	vggE = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0}
)

// vgg is torchvision's VGG: 3×3 convolutions with bias (then BN when bn,
// eps 1e-5), ReLU, max pools, adaptive average pool to 7×7, and the
// 4096-4096-classes classifier.
func vgg(n *net, x string, o *options, cfg []int, bn bool) string {
	for _, c := range cfg {
		if c == 0 {
			x = n.maxPool(x, 2, 2, 0, false)
			continue
		}
		x = n.conv(x, cv{out: c, k: 3, p: 1, bias: true})
		if bn {
			x = n.bn(x, 1e-5, 1)
		}
		x = n.act(x, actReLU)
	}
	x = n.adaptiveAvgPool(x, 7)
	x = n.act(n.gemm(n.flatten(x), 4096), actReLU)
	x = n.act(n.gemm(x, 4096), actReLU)
	return n.gemm(x, o.classes)
}

// adaptiveAvgPool is torch's AdaptiveAvgPool2d((size, size)) on a square
// map, in the two cases ONNX can express: the identity (at the nets'
// native resolution; torch exports a 1×1 AveragePool, omitted here) and a
// map that is a multiple of size (an AveragePool with kernel = stride).
func (n *net) adaptiveAvgPool(x string, size int) string {
	if n.err != nil {
		return ""
	}
	_, h, w, ok := n.chw(x)
	if !ok {
		return ""
	}
	switch {
	case h == size && w == size:
		return x
	case h == w && h%size == 0:
		return n.avgPool(x, h/size, h/size, 0, false, false)
	}
	n.fail("adaptive average pooling of a %dx%d map to %dx%d is not expressible in ONNX; "+
		"choose a res whose last feature map is a multiple of %d (the default res gives %dx%d)",
		h, w, size, size, size, size, size)
	return ""
}
