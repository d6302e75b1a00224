package zoo

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// activationCases run through the reference interpreter at small
// resolutions: cheap, and depth, not resolution, is what makes activations
// grow or vanish. VGG and torchvision's AlexNet need res ≥ 224 for their
// adaptive pooling, 0.7–20 GMACs, too slow for the interpreter; plain
// He-initialised stacks are the easy case anyway (LeNet-5 and the LRN
// AlexNet stand for them).
var activationCases = []string{
	"lenet5",
	"alexnet?lrn=1&res=99",
	"squeezenet1_1?res=96",
	"googlenet?res=64",
	"bn_inception?res=64",
	"inception_v3?res=75",
	"inception_v4?res=75",
	"inception_resnet_v2?res=75",
	"resnet18?res=64",
	"resnet50?res=64",
	"resnet152?res=32",
	"densenet121?res=32",
	"mobilenet_v1?res=96",
	"mobilenet_v2?res=96",
	"mobilenet_v3_small?res=96",
	"mobilenet_v3_large?res=96",
	"shufflenet_v2_x1_0?res=96",
	"efficientnet_b0?res=96",
}

// TestActivationsStayInRange runs each model on a standard-normal input and
// checks that the weights do what the package promises: every activation
// is finite with an RMS of at most 100 (deep nets neither explode nor
// vanish: at the time of writing the largest RMS is ~39, in ShuffleNet v2,
// whose 1×1 convolutions after a linear BN get He's ReLU gain of 2), and
// the logits depend on the input, not just on the last bias.
func TestActivationsStayInRange(t *testing.T) {
	for _, spec := range activationCases {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			g, err := Build(spec)
			require.NoError(t, err)
			x := make([]float64, ir.NumElements(g.Inputs[0].Shape))
			r := splitmix{s: 12345}
			for i := range x {
				x[i] = r.normal()
			}
			maxRMS, worst := 0.0, ""
			y, err := run(g, x, func(nd *ir.Node, shape []int, v []float64) {
				s := 0.0
				for _, a := range v {
					s += a * a
				}
				rms := math.Sqrt(s / float64(len(v)))
				if !(rms <= maxRMS) { // also catches NaN
					maxRMS, worst = rms, nd.Name
				}
			})
			require.NoError(t, err)
			require.Len(t, y, g.Outputs[0].Shape[1])
			assert.LessOrEqual(t, maxRMS, 100.0, "largest activation RMS, at %s", worst)
			// logits minus the last Gemm's bias: what the input contributes
			last := g.Nodes[len(g.Nodes)-1]
			if last.Op == "Gemm" {
				b := g.Initializers[last.Inputs[2]].F32
				for i := range y {
					y[i] -= float64(b[i])
				}
			}
			_, std := moments64(y)
			assert.Greater(t, std, 0.05, "logits barely depend on the input")
			assert.Less(t, std, 100.0, "logits too large")
			t.Logf("largest activation RMS %.3g (%s), logits std %.3g", maxRMS, worst, std)
		})
	}
}

func moments64(v []float64) (mean, std float64) {
	var s, s2 float64
	for _, x := range v {
		s += x
		s2 += x * x
	}
	n := float64(len(v))
	mean = s / n
	return mean, math.Sqrt(s2/n - mean*mean)
}
