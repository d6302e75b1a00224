package ptq_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// TestVWWAgreement quantises MLPerf Tiny's float Visual Wake Words model
// (vww_96_float.tflite: MobileNet v1 0.25, 96×96 RGB in [0, 1]) on 100 of
// the ImageNet sample images and compares its person / no-person decision
// with the float model's on the other 234, against Google's own int8
// version of the same model (vww_96_int8.tflite, input pixel − 128, i.e.
// scale 1/255, zero point −128). Our int8 model must agree with the float
// model on at least as many images as Google's does. The class order does
// not matter for agreement. Every calibration method and per-tensor
// weights are logged; minmax per channel (the default) is asserted.
//
//	go test -run TestVWWAgreement -v ./quant/ptq
func TestVWWAgreement(t *testing.T) {
	needInt8(t)
	dir := shared.Path(t, "models/tflite")
	fg, err := tflite.Load(filepath.Join(dir, "vww_96_float.tflite"))
	require.NoError(t, err)
	gg, err := tflite.Load(filepath.Join(dir, "vww_96_int8.tflite"))
	require.NoError(t, err)
	q := gg.Inputs[0].Quant
	require.InDelta(t, 1.0/255, q.Scale[0], 1e-7, "vww_96_int8 input scale")
	require.Equal(t, int32(-128), q.ZeroPoint[0], "vww_96_int8 input zero point")

	calibImgs, testImgs := splitSample(imagenetSample(t))
	if testing.Short() {
		calibImgs, testImgs = calibImgs[:20], testImgs[:40]
	}
	toReal := func(pix []uint8, dst []float32) {
		for i, p := range pix {
			dst[i] = float32(p) / 255
		}
	}
	configs := []ptqConfig{{method: quant.MethodMinMax}, {method: quant.MethodPercentile}, {method: quant.MethodMSE},
		{method: quant.MethodEntropy}, {method: quant.MethodMinMax, perTensor: true}, {method: quant.MethodMSE, perTensor: true},
		{method: quant.MethodMinMax, reduceRange: true}, {method: quant.MethodMSE, reduceRange: true}}
	qgs := quantizeConfigs(t, fg, pixelSamples(loadPixels(t, calibImgs, 96), toReal), configs)

	realFeed := func(m *runtime.Model, pix []uint8) { toReal(pix, m.Input(0)) }
	cs := []classifier{
		{name: "float", g: fg, feed: realFeed},
		{name: "google int8", g: gg, feed: func(m *runtime.Model, pix []uint8) {
			raw := m.InputBytes(0)
			for i, p := range pix {
				raw[i] = p ^ 0x80 // pixel − 128 as int8
			}
		}},
	}
	for i, c := range configs {
		cs = append(cs, classifier{name: c.String(), g: qgs[i], feed: realFeed})
	}
	top := classify(t, cs, loadPixels(t, testImgs, 96))
	agree := make([]int, len(cs))
	persons := 0
	for i := range testImgs {
		persons += top[i][0]
		for k := range cs {
			if top[i][k] == top[i][0] {
				agree[k]++
			}
		}
	}
	n := len(testImgs)
	var table strings.Builder
	fmt.Fprintf(&table, "| model | agreement with vww_96_float |\n|---|---|\n| vww_96_int8.tflite (Google) | %d/%d = %.2f %% |\n",
		agree[1], n, 100*float64(agree[1])/float64(n))
	for i, c := range configs {
		k := 2 + i
		fmt.Fprintf(&table, "| ours, %s | %d/%d = %.2f %% |\n", c, agree[k], n, 100*float64(agree[k])/float64(n))
	}
	t.Logf("VWW on %d ImageNet sample images (calibration: %d others); the float model says class 1 on %d:\n%s",
		n, len(calibImgs), persons, table.String())
	assert.GreaterOrEqual(t, agree[2], agree[1], "minmax per-channel int8 agrees with the float model less often than Google's int8")
}
