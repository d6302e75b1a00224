package ptq_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// ptqConfig is one way of quantising: a calibration method and the weight
// granularity.
type ptqConfig struct {
	method      quant.Method
	perTensor   bool
	reduceRange bool // 7-bit weights
}

func (c ptqConfig) String() string {
	s := string(c.method)
	if c.perTensor {
		s += ", per-tensor"
	}
	if c.reduceRange {
		s += ", reduce-range"
	}
	return s
}

// quantizeConfigs calibrates fg once on calib for every method of cs and
// returns one int8 graph per config.
func quantizeConfigs(t *testing.T, fg *ir.Graph, calib ptq.Calibrator, cs []ptqConfig) []*ir.Graph {
	t.Helper()
	var methods []quant.Method
	idx := map[quant.Method]int{}
	for _, c := range cs {
		if _, ok := idx[c.method]; !ok {
			idx[c.method] = len(methods)
			methods = append(methods, c.method)
		}
	}
	ranges, err := ptq.CalibrateRanges(fg, calib, ptq.Options{Threads: 2}, methods...)
	require.NoError(t, err)
	out := make([]*ir.Graph, len(cs))
	for i, c := range cs {
		qg, _, err := ptq.Quantize(fg, nil, ptq.Options{Method: c.method, PerTensor: c.perTensor, ReduceRange: c.reduceRange, Ranges: ranges[idx[c.method]]})
		require.NoError(t, err, c.String())
		out[i] = qg
	}
	return out
}

// mobilenetCase is a quantised ImageNet MobileNet v2 and how an RGB image
// becomes its input and its float twin's.
type mobilenetCase struct {
	file       string
	background int
	// orig writes the original int8 model's input bytes (q: its input's
	// quantisation); real writes the float twin's input.
	orig func(pix []uint8, q *ir.Quant, dst []byte)
	real func(pix []uint8, q *ir.Quant, dst []float32)
}

var mobilenetCases = []mobilenetCase{
	{
		// Keras MobileNetV2, TF2 post-training quantisation: raw uint8
		// pixels, real value scale·(pixel − zero point) ≈ [−1, 1].
		file: "tf2_mobilenet_v2_1.0_224_ptq.tflite", background: 1,
		orig: func(pix []uint8, _ *ir.Quant, dst []byte) { copy(dst, pix) },
		real: func(pix []uint8, q *ir.Quant, dst []float32) {
			for i, p := range pix {
				dst[i] = q.Scale[0] * float32(int32(p)-q.ZeroPoint[0])
			}
		},
	},
	{
		// torchvision MobileNetV2 (TinyNeuralNetwork): NCHW, ImageNet
		// mean/std normalisation, quantised with the input's parameters.
		file: "mobilenet_v2_quantized_1x3x224x224.tflite",
		orig: func(pix []uint8, q *ir.Quant, dst []byte) {
			f := make([]float32, len(pix))
			hwcToCHW(pix, f, torchNorm)
			for i, v := range f {
				dst[i] = quantByte(v, q, ir.Int8)
			}
		},
		real: func(pix []uint8, _ *ir.Quant, dst []float32) { hwcToCHW(pix, dst, torchNorm) },
	},
}

func torchNorm(p uint8, c int) float32 {
	return (float32(p)/255 - input.ImageNetMean[c]) / input.ImageNetStd[c]
}

// TestMobileNetV2ImageNet quantises the float twins of the two int8
// ImageNet MobileNet v2 models (weights dequantised; quant.FloatModel),
// calibrating on 100 of the ImageNet sample images, and compares on the
// other 234: our int8 top-1 must be within 1 point of the original int8
// model's and agree with the float twin's top-1 on ≥ 95 % of them.
//
// With EDGEINFER_FULL_IMAGENET=1 it runs both models, every calibration
// method and per-tensor weights, logs the table of docs/quantization.md
// and asserts the thresholds for percentile calibration, the method that
// meets them on both models (minmax agrees with the torchvision model's
// twin on 91.5 % only; see docs/quantization.md). It takes 20–30 minutes
// per model on two shared cores:
//
//	EDGEINFER_FULL_IMAGENET=1 go test -run TestMobileNetV2ImageNet -v -timeout 90m ./quant/ptq
//
// By default it checks the Keras model with minmax on a subset (16
// calibration images, 32 test images) within CI's budget: there one image
// is 3 points, so it requires agreement ≥ 90 % and at most one more
// error than the original int8 model.
func TestMobileNetV2ImageNet(t *testing.T) {
	needInt8(t)
	slow(t)
	calibImgs, testImgs := splitSample(imagenetSample(t))
	configs := []ptqConfig{{method: quant.MethodMinMax}}
	cases := mobilenetCases[:1]
	full := fullImageNet()
	if full {
		configs = []ptqConfig{{method: quant.MethodMinMax}, {method: quant.MethodPercentile}, {method: quant.MethodMSE},
			{method: quant.MethodEntropy}, {method: quant.MethodMinMax, perTensor: true}, {method: quant.MethodMSE, perTensor: true},
			{method: quant.MethodMinMax, reduceRange: true}, {method: quant.MethodPercentile, reduceRange: true}}
		cases = mobilenetCases
	} else {
		calibImgs, testImgs = calibImgs[:16], testImgs[:32]
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| model | weights | method | int8 top-1 (ours) | original int8 top-1 | float twin top-1 | ours = twin | original = twin |\n|---|---|---|---|---|---|---|---|\n")
	for _, mc := range cases {
		t.Run(mc.file, func(t *testing.T) {
			g, err := tflite.Load(filepath.Join(shared.Path(t, "models/tflite"), mc.file))
			require.NoError(t, err)
			inQ := g.Inputs[0].Quant
			fg, _, err := quant.FloatModel(g)
			require.NoError(t, err)
			calibPix := loadPixels(t, calibImgs, 224)
			calib := pixelSamples(calibPix, func(pix []uint8, dst []float32) { mc.real(pix, inQ, dst) })
			qgs := quantizeConfigs(t, fg, calib, configs)

			realFeed := func(m *runtime.Model, pix []uint8) { mc.real(pix, inQ, m.Input(0)) }
			cs := []classifier{
				{name: "original int8", g: g, offset: mc.background,
					feed: func(m *runtime.Model, pix []uint8) { mc.orig(pix, inQ, m.InputBytes(0)) }},
				{name: "float twin", g: fg, offset: mc.background, feed: realFeed},
			}
			for i, c := range configs {
				cs = append(cs, classifier{name: c.String(), g: qgs[i], offset: mc.background, feed: realFeed})
			}
			top := classify(t, cs, loadPixels(t, testImgs, 224))
			n := float64(len(testImgs))
			correct := make([]int, len(cs))
			agree := make([]int, len(cs))
			for i, s := range testImgs {
				for k := range cs {
					if top[i][k] == s.label {
						correct[k]++
					}
					if top[i][k] == top[i][1] {
						agree[k]++
					}
				}
			}
			pct := func(k int) float64 { return 100 * float64(k) / n }
			t.Logf("%s: %d calibration images, %d test images; original int8 top-1 %.2f%%, float twin %.2f%%, original = twin %.2f%%",
				mc.file, len(calibImgs), len(testImgs), pct(correct[0]), pct(correct[1]), pct(agree[0]))
			for i, c := range configs {
				k := 2 + i
				w := "per-channel"
				if c.perTensor {
					w = "per-tensor"
				}
				if c.reduceRange {
					w += " 7-bit"
				}
				t.Logf("  %-22s int8 top-1 %.2f%% (%+.2f vs original int8), agreement with float twin %.2f%%",
					c.String(), pct(correct[k]), pct(correct[k])-pct(correct[0]), pct(agree[k]))
				fmt.Fprintf(&table, "| %s | %s | %s | %.2f %% | %.2f %% | %.2f %% | %.2f %% | %.2f %% |\n", mc.file, w, c.method,
					pct(correct[k]), pct(correct[0]), pct(correct[1]), pct(agree[k]), pct(agree[0]))
				if c.perTensor || c.reduceRange || (full && c.method != quant.MethodPercentile) || (!full && c.method != quant.MethodMinMax) {
					continue // reported, not asserted
				}
				if full {
					assert.GreaterOrEqual(t, pct(correct[k]), pct(correct[0])-1, "%s: int8 top-1 more than 1 point below the original int8 model's", c)
					assert.GreaterOrEqual(t, pct(agree[k]), 95.0, "%s: top-1 agreement with the float twin", c)
				} else {
					assert.GreaterOrEqual(t, correct[k], correct[0]-1, "%s: int8 top-1 errors vs the original int8 model's", c)
					assert.GreaterOrEqual(t, pct(agree[k]), 90.0, "%s: top-1 agreement with the float twin", c)
				}
			}
		})
	}
	t.Logf("table (%d calibration images, %d test images):\n%s", len(calibImgs), len(testImgs), table.String())
}
