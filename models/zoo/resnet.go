package zoo

import "math"

func init() {
	for _, v := range []struct {
		name       string
		bottleneck bool
		layers     [4]int
	}{
		{"resnet18", false, [4]int{2, 2, 2, 2}},
		{"resnet34", false, [4]int{3, 4, 6, 3}},
		{"resnet50", true, [4]int{3, 4, 6, 3}},
		{"resnet101", true, [4]int{3, 4, 23, 3}},
		{"resnet152", true, [4]int{3, 8, 36, 3}},
	} {
		register(v.name, &model{res: 224, build: func(n *net, x string, o *options) string {
			return resNet(n, x, o, v.bottleneck, v.layers)
		}})
	}
	register("densenet121", &model{res: 224, build: func(n *net, x string, o *options) string {
		return denseNet(n, x, o, [4]int{6, 12, 24, 16})
	}})
	register("densenet169", &model{res: 224, build: func(n *net, x string, o *options) string {
		return denseNet(n, x, o, [4]int{6, 12, 32, 32})
	}})
}

// resNet is torchvision's ResNet (He et al. 2015; the bottleneck puts the
// stride on its 3×3 convolution, "ResNet v1.5"): BN eps 1e-5, projection
// shortcuts (1×1 conv + BN) where the shape changes.
func resNet(n *net, x string, o *options, bottleneck bool, layers [4]int) string {
	blocks := layers[0] + layers[1] + layers[2] + layers[3]
	n.resGamma = 1 / math.Sqrt(float64(blocks))
	const eps = 1e-5
	x = n.convBN(x, cv{out: 64, k: 7, s: 2, p: 3}, eps, actReLU)
	x = n.maxPool(x, 3, 2, 1, false)
	expansion := 1
	if bottleneck {
		expansion = 4
	}
	for stage, count := range layers {
		planes := 64 << stage
		for i := 0; i < count; i++ {
			s := 1
			if i == 0 && stage > 0 {
				s = 2
			}
			in, _, _, _ := n.chw(x)
			identity := x
			if s != 1 || in != planes*expansion {
				identity = n.convBN(x, cv{out: planes * expansion, k: 1, s: s}, eps, actNone)
			}
			var y string
			if bottleneck {
				y = n.convBN(x, cv{out: planes, k: 1}, eps, actReLU)
				y = n.convBN(y, cv{out: planes, k: 3, s: s, p: 1}, eps, actReLU)
				y = n.convBNRes(y, cv{out: planes * 4, k: 1}, eps)
			} else {
				y = n.convBN(x, cv{out: planes, k: 3, s: s, p: 1}, eps, actReLU)
				y = n.convBNRes(y, cv{out: planes, k: 3, p: 1}, eps)
			}
			x = n.act(n.add(y, identity), actReLU)
		}
	}
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}

// denseNet is torchvision's DenseNet-BC (Huang et al. 2017): growth rate
// 32, bottleneck width 4·32, compression 0.5, BN eps 1e-5. Like
// torchvision's export, every dense layer concatenates all the feature
// maps before it (one Concat per layer, BN-ReLU-conv1×1-BN-ReLU-conv3×3).
func denseNet(n *net, x string, o *options, blocks [4]int) string {
	const eps, growth = 1e-5, 32
	x = n.convBN(x, cv{out: 64, k: 7, s: 2, p: 3}, eps, actReLU)
	x = n.maxPool(x, 3, 2, 1, false)
	for b, layers := range blocks {
		features := []string{x}
		for i := 0; i < layers; i++ {
			y := n.act(n.bn(n.concat(features...), eps, 1), actReLU)
			y = n.convBN(y, cv{out: 4 * growth, k: 1}, eps, actReLU)
			y = n.conv(y, cv{out: growth, k: 3, p: 1})
			features = append(features, y)
		}
		x = n.concat(features...)
		if b < len(blocks)-1 { // transition
			c, _, _, _ := n.chw(x)
			x = n.act(n.bn(x, eps, 1), actReLU)
			x = n.conv(x, cv{out: c / 2, k: 1})
			x = n.avgPool(x, 2, 2, 0, false, true)
		}
	}
	x = n.act(n.bn(x, eps, 1), actReLU) // norm5, then F.relu
	return n.gemm(n.flatten(n.globalAvgPool(x)), o.classes)
}
