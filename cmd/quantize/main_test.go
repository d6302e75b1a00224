package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/native"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/runtime"
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func needInt8(t *testing.T) {
	t.Helper()
	if !runtime.SupportsInt8("Conv") {
		t.Skip("the runtime has no int8 engine (runtime.SupportsInt8(\"Conv\") is false)")
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.eim")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitUsage, "no model"},
		{[]string{"-h"}, exitOK, "Usage: quantize"},
		{[]string{"--model", "zoo:lenet5"}, exitUsage, "no output"},
		{[]string{"--model", "zoo:lenet5", "-o", out}, exitUsage, "no calibration data"},
		{[]string{"--model", "zoo:lenet5", "-o", out, "--synthetic", "2", "--method", "kl"}, exitUsage, "unknown calibration method"},
		{[]string{"--model", "zoo:lenet5", "--emit-qdq", out + ".onnx", "--synthetic", "2", "--qdq-types", "s8u8"}, exitUsage, "--qdq-types: unknown QDQ types \"s8u8\""},
		{[]string{"--model", "zoo:lenet5", "-o", out, "--synthetic", "2", "--std", "0"}, exitUsage, "standard deviation of 0"},
		{[]string{"--model", "zoo:lenet5", "-o", out, "--synthetic", "2", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"--model", "nope.xyz", "-o", out, "--synthetic", "2"}, exitError, "unknown format"},
		{[]string{"--model", "zoo:lenet5", "-o", out, "--synthetic", "2", "--size", "10x10"}, exitError, "does not match"},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stdout+stderr, tc.msg, "%v", tc.args)
	}
	// -h lists --reduce-range but not the hidden --cpuprofile, and keeps
	// showing defaults, not values given before it.
	_, _, help := runCmd("--method", "mse", "-h")
	assert.Contains(t, help, "-reduce-range")
	assert.NotContains(t, help, "cpuprofile")
	assert.Contains(t, help, `(default "minmax")`)
}

// TestCPUProfile: the hidden --cpuprofile flag writes a profile.
func TestCPUProfile(t *testing.T) {
	needInt8(t)
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.prof")
	code, _, stderr := runCmd("--model", "zoo:lenet5", "--synthetic", "2", "-o", filepath.Join(dir, "m.eim"), "--cpuprofile", prof)
	require.Equal(t, exitOK, code, stderr)
	st, err := os.Stat(prof)
	require.NoError(t, err)
	assert.Positive(t, st.Size())
	code, _, stderr = runCmd("--model", "zoo:lenet5", "--synthetic", "2", "-o", filepath.Join(dir, "m.eim"), "--cpuprofile", filepath.Join(dir, "no", "cpu.prof"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "--cpuprofile")
}

// TestFloat writes the optimised float model; it runs like the original.
func TestFloat(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.eim")
	code, stdout, stderr := runCmd("--model", "zoo:lenet5", "--float", "-o", out, "--mean", "0.5", "--std", "0.25")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "optimised float model")
	m, c, err := native.Load(out)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "float32", m.Meta["precision"])
	require.NotNil(t, m.Preprocess)
	assert.Equal(t, float32(0.25), m.Preprocess.Std[0])
	g, err := zoo.Build("lenet5")
	require.NoError(t, err)
	x := make([]float32, 32*32)
	for i := range x {
		x[i] = float32(i%17) / 17
	}
	want, got := runGraph(t, g, x), runGraph(t, m.Graph, x)
	for i := range want {
		assert.InDelta(t, want[i], got[i], 1e-5)
	}
}

func runGraph(t *testing.T, g *ir.Graph, x []float32) []float32 {
	t.Helper()
	m, err := runtime.New(g, runtime.Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()
	copy(m.Input(0), x)
	require.NoError(t, m.Run())
	return append([]float32(nil), m.Output(0)...)
}

// TestSynthetic quantises a zoo model with no files: synthetic
// calibration, report table on stdout, JSON report, plain progress lines
// on a non-terminal stderr.
func TestSynthetic(t *testing.T) {
	needInt8(t)
	dir := t.TempDir()
	out, rj := filepath.Join(dir, "q.eim"), filepath.Join(dir, "r.json")
	code, stdout, stderr := runCmd("--model", "zoo:lenet5", "--synthetic", "12", "-o", out, "--report-json", rj, "--threads", "2")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "float islands (4)")
	assert.Contains(t, stdout, "layers losing most")
	assert.Contains(t, stdout, "wrote "+out)
	assert.Contains(t, stderr, "calibrate: 12/12 samples (100%)")
	assert.Contains(t, stderr, "ETA")
	var rep map[string]any
	b, err := os.ReadFile(rj)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.Equal(t, true, rep["evaluated"])

	m, c, err := native.Load(out)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "int8", m.Meta["precision"])
	assert.Equal(t, "12 synthetic images", m.Meta["calibration"])
	require.NotNil(t, m.Preprocess)
	assert.Equal(t, 32, m.Preprocess.Width)
	ops := map[string]bool{}
	for _, n := range m.Graph.Nodes {
		ops[n.Op] = true
	}
	assert.True(t, ops["QuantizeLinear"] && ops["DequantizeLinear"])
	x := make([]float32, 32*32)
	require.Len(t, runGraph(t, m.Graph, x), 10)

	// The synthetic images are deterministic.
	a, b2 := syntheticImage(3, 16, 16), syntheticImage(3, 16, 16)
	assert.Equal(t, a, b2)
	assert.NotEqual(t, a, syntheticImage(4, 16, 16))
}

// TestFashionMNISTImages calibrates a trained model on PNG files and on a
// uint8 .npy stack, and stores preprocessing and labels.
func TestFashionMNISTImages(t *testing.T) {
	needInt8(t)
	model := shared.Path(t, "models/trained/lenet5_fmnist.onnx")
	png := shared.Path(t, "images/fashion_mnist/png")
	calibNpy := shared.Path(t, "images/fashion_mnist/calib_500_images.npy")
	dir := t.TempDir()
	labels := filepath.Join(dir, "labels.txt")
	require.NoError(t, os.WriteFile(labels, []byte("T-shirt/top\nTrouser\nPullover\nDress\nCoat\nSandal\nShirt\nSneaker\nBag\nAnkle boot\n"), 0o644))

	out := filepath.Join(dir, "png.eim")
	code, stdout, stderr := runCmd("--model", model, "--calib", png, "--calib-count", "60", "--mean", "0.2860", "--std", "0.3530",
		"--labels", labels, "-o", out)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "top-1 agreement")
	m, c, err := native.Load(out)
	require.NoError(t, err)
	defer c.Close()
	assert.Len(t, m.Labels, 10)
	assert.Equal(t, "Ankle boot", m.Labels[9])
	assert.Equal(t, "200 images from "+png+", first 60 used", m.Meta["calibration"])
	p := m.Preprocess
	require.NotNil(t, p)
	assert.Equal(t, [4]any{28, 28, 1, native.LayoutNCHW}, [4]any{p.Width, p.Height, p.Channels, p.Layout})
	assert.Equal(t, float32(0.2860), p.Mean[0])

	// The same pixels as a uint8 .npy stack give the same input tensors.
	npyDir := filepath.Join(dir, "npy")
	require.NoError(t, os.Mkdir(npyDir, 0o755))
	require.NoError(t, os.Symlink(calibNpy, filepath.Join(npyDir, "calib.npy")))
	out2 := filepath.Join(dir, "npy.eim")
	code, _, stderr = runCmd("--model", model, "--calib-npy", npyDir, "--calib-count", "100", "--mean", "0.2860", "--std", "0.3530", "-o", out2)
	require.Equal(t, exitOK, code, stderr)
	m2, c2, err := native.Load(out2)
	require.NoError(t, err)
	defer c2.Close()
	assert.Equal(t, "500 tensors from "+npyDir+", first 100 used", m2.Meta["calibration"])

	img, err := input.Load(filepath.Join(png, "0_9.png"))
	require.NoError(t, err)
	pre, err := input.New(input.Spec{Width: 28, Height: 28, Channels: 1, Mean: [3]float32{0.2860}, Std: [3]float32{0.3530}, Scale: 255})
	require.NoError(t, err)
	x := make([]float32, 784)
	require.NoError(t, pre.Run(img, x))
	assert.Equal(t, 9, argmax(runGraph(t, m.Graph, x)))
	assert.Equal(t, 9, argmax(runGraph(t, m2.Graph, x)))
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// TestProgressPlain checks the non-terminal progress lines.
func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b)
	for i := 1; i <= 50; i++ {
		p.update("calibrate", i, 50)
	}
	p.update("evaluate", 1, 3)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	assert.Len(t, lines, 11)
	assert.True(t, strings.HasPrefix(lines[0], "calibrate: 5/50 samples (10%)"), lines[0])
	assert.True(t, strings.HasPrefix(lines[10], "evaluate: 1/3 samples (33%)"), lines[10])
}

// TestQuantisedTFLite: a quantised .tflite is quantised through its float
// twin, and the preprocessing stored is the one its input quantisation
// implies: vww_96_int8 takes pixel − 128 at scale 1/255, zero point −128,
// i.e. the real input pixel/255.
func TestQuantisedTFLite(t *testing.T) {
	needInt8(t)
	model := filepath.Join(shared.Path(t, "models/tflite"), "vww_96_int8.tflite")
	out := filepath.Join(t.TempDir(), "q.eim")
	code, stdout, stderr := runCmd("--model", model, "--synthetic", "4", "-o", out, "--threads", "2")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "is quantised: using its float twin")
	assert.Contains(t, stdout, "wrote "+out)
	m, c, err := native.Load(out)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, model, m.Meta["float_twin_of"])
	require.NotNil(t, m.Preprocess)
	assert.Equal(t, float32(1), m.Preprocess.Scale)
	assert.InDelta(t, 0, m.Preprocess.Mean[0], 1e-6)
	assert.InDelta(t, 255, m.Preprocess.Std[0], 1e-3)
	assert.Equal(t, 96, m.Preprocess.Width)
	assert.Equal(t, ir.Float32, m.Graph.Inputs[0].DType)
	x := make([]float32, 96*96*3)
	for i := range x {
		x[i] = float32(i%256) / 255
	}
	p := runGraph(t, m.Graph, x)
	require.Len(t, p, 2)
	assert.InDelta(t, 1, p[0]+p[1], 0.01, "softmax output")
}
