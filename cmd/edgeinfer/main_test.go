package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/npy"
	"github.com/edgeinfer/edgeinfer/models/onnx"
)

// cli runs the command in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, args...)
	require.Equal(t, 0, code, "edgeinfer %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errs)
	return out
}

func readNpy(t *testing.T, path string) *ir.Tensor {
	t.Helper()
	tt, err := npy.Read(path)
	require.NoError(t, err)
	return tt
}

func requireClose(t *testing.T, want, got *ir.Tensor, tol float64) {
	t.Helper()
	require.Equal(t, want.Shape, got.Shape)
	require.Len(t, got.F32, len(want.F32))
	for i := range want.F32 {
		d := math.Abs(float64(got.F32[i]) - float64(want.F32[i]))
		require.LessOrEqualf(t, d, tol, "element %d: got %v want %v", i, got.F32[i], want.F32[i])
	}
}

// TestRunZooNoFiles: a zoo model with the built-in pattern needs no files.
func TestRunZooNoFiles(t *testing.T) {
	out := mustRun(t, "run", "--model", "zoo:lenet5", "--threads", "2")
	require.Contains(t, out, "input    synthetic")
	require.Contains(t, out, `output   0 "output" float32 [1 10]`)
	require.Contains(t, out, "top 5 of output 0; score = softmax of output 0")
	require.Contains(t, out, "latency")

	// The pattern is deterministic, and so are the weights: two runs
	// print the same classes.
	strip := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "latency") && !strings.HasPrefix(l, "model") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	require.Equal(t, strip(out), strip(mustRun(t, "run", "--model", "zoo:lenet5", "--threads", "1")))

	out = mustRun(t, "run", "--model", "zoo:lenet5", "--runs", "3", "--top", "0")
	require.Contains(t, out, "over 3 runs")
	require.NotContains(t, out, "top")
}

// TestRunFixture runs the lenet5 fixture's ONNX file on its reference
// inputs and compares the saved outputs with PyTorch's.
func TestRunFixture(t *testing.T) {
	dir := shared.Path(t, "fixtures/lenet5")
	model := filepath.Join(dir, "model.onnx")
	out := t.TempDir()
	mustRun(t, "run", "--model", model, "--input", filepath.Join(dir, "input_0.npy"), "--save-outputs", out)
	requireClose(t, readNpy(t, filepath.Join(dir, "output_0.npy")), readNpy(t, filepath.Join(out, "output_0.npy")), 1e-4)

	// Two files for a one-input model: two inferences, saved apart.
	out = filepath.Join(t.TempDir(), "new", "dir")
	stdout := mustRun(t, "run", "--model", model, "--save-outputs", out,
		"--input", filepath.Join(dir, "input_0.npy"), "--input", filepath.Join(dir, "input_1.npy"))
	require.Equal(t, 2, strings.Count(stdout, "latency"))
	for k := range 2 {
		want := readNpy(t, filepath.Join(dir, "output_"+string(rune('0'+k))+".npy"))
		got := readNpy(t, filepath.Join(out, string(rune('0'+k)), "output_0.npy"))
		requireClose(t, want, got, 1e-4)
	}
	// No temporary files are left beside the outputs.
	entries, err := os.ReadDir(filepath.Join(out, "0"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

// TestRunTensorProto feeds a two-input ONNX conformance case from .pb
// files in graph-input order.
func TestRunTensorProto(t *testing.T) {
	dir := shared.Path(t, "onnx-conformance/node/test_add_bcast")
	data := filepath.Join(dir, "test_data_set_0")
	out := t.TempDir()
	mustRun(t, "run", "--model", filepath.Join(dir, "model.onnx"), "--top", "0", "--save-outputs", out,
		"--input", filepath.Join(data, "input_0.pb"), "--input", filepath.Join(data, "input_1.pb"))
	_, want, err := onnx.ReadTensorProtoFile(filepath.Join(data, "output_0.pb"))
	require.NoError(t, err)
	requireClose(t, want, readNpy(t, filepath.Join(out, "output_0.npy")), 1e-5)
}

// TestRunImageJSON runs a colour and a grayscale model on photos with
// --json and checks the objects.
func TestRunImageJSON(t *testing.T) {
	images := shared.Path(t, "images")
	labelsFile := filepath.Join(images, "labels", "imagenet_labels_1001_with_background.txt")
	synset, err := readLabels(filepath.Join(images, "labels", "synset.txt"))
	require.NoError(t, err)
	photos := []string{filepath.Join(images, "classic", "grace_hopper.jpg"), filepath.Join(images, "classic", "cat.bmp")}
	out := mustRun(t, "run", "--model", "zoo:mobilenet_v1?alpha=0.25&res=96", "--json", "--top", "3",
		"--labels", labelsFile, "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225", "--resize-shorter", "110",
		"--input", photos[0], "--input", photos[1])
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var r struct {
			Input string `json:"input"`
			Top   []struct {
				Index int      `json:"index"`
				Label *string  `json:"label"`
				Score *float64 `json:"score"`
			} `json:"top"`
			Softmax   bool     `json:"softmax"`
			LatencyMS *float64 `json:"latency_ms"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), "line %q", sc.Text())
		require.Equal(t, photos[n], r.Input)
		require.Len(t, r.Top, 3)
		require.True(t, r.Softmax, "random-weight logits are not probabilities")
		require.NotNil(t, r.LatencyMS)
		require.Positive(t, *r.LatencyMS)
		prev := 2.0
		for _, c := range r.Top {
			require.NotNil(t, c.Score)
			require.NotNil(t, c.Label)
			require.Greater(t, *c.Score, 0.0)
			require.LessOrEqual(t, *c.Score, prev)
			prev = *c.Score
			// The 1001-line file starts with "background": a 1000-class
			// output's index i is the file's line i+1, synset line i.
			// (synset.txt lines carry the wnid first, the other file not.)
			_, name, _ := strings.Cut(synset[c.Index], " ")
			require.Equal(t, name, *c.Label)
		}
		n++
	}
	require.Equal(t, 2, n, "one JSON object per input:\n%s", out)

	// A grayscale model gets the luma of a colour photo.
	out = mustRun(t, "run", "--model", "zoo:lenet5", "--json", "--input", photos[1])
	require.True(t, json.Valid([]byte(strings.TrimSpace(out))), out)
}

// TestRunImageMatchesPreprocessor: an image input gives the same outputs
// as the input package's tensor saved to .npy and fed as such.
func TestRunImageMatchesPreprocessor(t *testing.T) {
	photo := shared.Path(t, "images/classic/grace_hopper.jpg")
	img, err := input.Load(photo)
	require.NoError(t, err)
	s := input.Spec{Width: 64, Height: 64, Channels: 3, Mean: input.ImageNetMean, Std: input.ImageNetStd, Scale: 255, BGR: true, ResizeShorter: 73, Antialias: true} // --antialias defaults to true
	p, err := input.New(s)
	require.NoError(t, err)
	x := &ir.Tensor{DType: ir.Float32, Shape: s.Shape(), F32: make([]float32, s.Len())}
	require.NoError(t, p.Run(img, x.F32))
	dir := t.TempDir()
	xf := filepath.Join(dir, "x.npy")
	require.NoError(t, npy.Write(xf, x))

	model := "zoo:mobilenet_v2?res=64&classes=10"
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mustRun(t, "run", "--model", model, "--input", xf, "--save-outputs", a)
	mustRun(t, "run", "--model", model, "--input", photo, "--save-outputs", b, "--bgr", "--resize-shorter", "73",
		"--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225")
	requireClose(t, readNpy(t, filepath.Join(a, "output_0.npy")), readNpy(t, filepath.Join(b, "output_0.npy")), 0)
}

func TestInfo(t *testing.T) {
	dir := shared.Path(t, "fixtures/lenet5")
	out := mustRun(t, "info", "--model", filepath.Join(dir, "model.onnx"))
	for _, want := range []string{
		"(onnx, opset 13)", "params    61.7k (61706)", "MACs      416.5k (416520)",
		`input 0   "input"   float32  [1 1 32 32]`, `output 0  "output"  float32  [1 10]`,
		"arena", "without sharing", "in-place", "steps", "Conv", "total",
	} {
		require.Contains(t, out, want)
	}
	out = mustRun(t, "info", "--model", "zoo:mobilenet_v2")
	require.Contains(t, out, "BatchNormalization")
	require.Contains(t, out, "(zoo")
}

func TestBench(t *testing.T) {
	out := mustRun(t, "bench", "--model", "zoo:lenet5", "--runs", "3", "--warmup", "1", "--profile", "--threads", "1")
	require.Contains(t, out, "median")
	require.Contains(t, out, "p90")
	for _, want := range []string{"op", "name", "output shape", "GOPS", "share %", "Conv", "[1 6 28 28]", "total"} {
		require.Contains(t, out, want)
	}
	out = mustRun(t, "bench", "--model", "zoo:lenet5", "--runs", "2")
	require.NotContains(t, out, "share %")
}

func TestVersion(t *testing.T) {
	out := mustRun(t, "version")
	require.True(t, strings.HasPrefix(out, "edgeinfer "), out)
	require.Contains(t, out, "go ")
	version = "v9.8.7"
	defer func() { version = "" }()
	require.True(t, strings.HasPrefix(mustRun(t, "version"), "edgeinfer v9.8.7\n"))
}

func TestErrors(t *testing.T) {
	fix := shared.Path(t, "fixtures")
	add := shared.Path(t, "onnx-conformance/node/test_add_bcast")
	addModel, addIn0 := filepath.Join(add, "model.onnx"), filepath.Join(add, "test_data_set_0", "input_0.pb")
	cat := shared.Path(t, "images/classic/cat.bmp")
	notImage := filepath.Join(t.TempDir(), "bad.jpg")
	require.NoError(t, os.WriteFile(notImage, []byte("not a jpeg"), 0o644))
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitUsage, "Usage"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"run"}, exitError, "no model"},
		{[]string{"run", "--model", "zoo:no_such_net"}, exitError, "no_such_net"},
		{[]string{"run", "--model", "zoo:lenet5?res=abc"}, exitError, "res"},
		{[]string{"info", "--model", "/no/such/model.onnx"}, exitError, "/no/such/model.onnx"},
		{[]string{"run", "--model", "model.pt"}, exitError, "unknown format"},
		{[]string{"run", "--model", "/no/such/model.tflite"}, exitError, "/no/such/model.tflite"},
		{[]string{"run", "--model", filepath.Join(fix, "lenet5", "input_0.npy")}, exitError, "unknown format"},
		{[]string{"run", "--model", "zoo:lenet5", "--input", "/no/such/x.npy"}, exitError, "/no/such/x.npy"},
		{[]string{"run", "--model", "zoo:lenet5", "--input", filepath.Join(fix, "mobilenet_v2", "input_0.npy")}, exitError,
			"mobilenet_v2/input_0.npy: shape [1 3 224 224] does not match model input 0 \"input\" of shape [1 1 32 32]"},
		{[]string{"run", "--model", "zoo:lenet5", "--input", notImage}, exitError, notImage},
		{[]string{"run", "--model", "zoo:lenet5", "--input", "x.txt"}, exitError, "unknown format"},
		{[]string{"run", "--model", "zoo:lenet5", "--size", "64x64"}, exitError, "[1 1 64 64]"},
		{[]string{"run", "--model", "zoo:lenet5", "--size", "big"}, exitError, "WIDTHxHEIGHT"},
		{[]string{"run", "--model", "zoo:lenet5", "--mean", "1,2"}, exitError, "--mean"},
		{[]string{"run", "--model", "zoo:lenet5", "--std", "0"}, exitError, "--std"},
		{[]string{"run", "--model", "zoo:lenet5", "--scale", "-1"}, exitError, "--scale"},
		{[]string{"run", "--model", "zoo:lenet5", "--runs", "0"}, exitError, "--runs"},
		{[]string{"run", "--model", "zoo:lenet5", "--labels", "/no/such/labels.txt"}, exitError, "labels.txt"},
		{[]string{"run", "--model", "zoo:lenet5", "--bogus"}, exitUsage, "bogus"},
		{[]string{"run", "--model", "zoo:lenet5", "stray"}, exitUsage, `unexpected argument "stray"`},
		{[]string{"bench", "--model", "zoo:lenet5", "--warmup", "-1"}, exitError, "--warmup"},
		{[]string{"run", "--model", addModel, "--input", addIn0}, exitError, "give a multiple of 2"},
		{[]string{"run", "--model", addModel, "--input", cat, "--input", addIn0}, exitError, "not an image"},
		{[]string{"run", "--model", addModel, "--input", addIn0, "--input", addIn0}, exitError, "shape [3 4 5] does not match model input 1"},
		{[]string{"run", "--model", "zoo:mobilenet_v2?res=64", "--resize-shorter", "32",
			"--input", cat}, exitError, "smaller than"},
	} {
		code, out, errs := cli(t, tc.args...)
		require.Equal(t, tc.code, code, "%v\nstdout: %s\nstderr: %s", tc.args, out, errs)
		require.Contains(t, errs, tc.msg, "%v", tc.args)
		require.NotContains(t, errs, "internal error", "%v", tc.args)
	}
	code, out, _ := cli(t, "help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "edgeinfer run")
	code, _, errs := cli(t, "run", "-h")
	require.Equal(t, exitOK, code)
	require.Contains(t, errs, "--resize-shorter")
}

func TestProbabilities(t *testing.T) {
	p, soft := probabilities([]float32{0.1, 0.7, 0.2})
	require.False(t, soft)
	require.InDeltaSlice(t, []float64{0.1, 0.7, 0.2}, p, 1e-7)

	// ln 1, ln 2, ln 5 → 1/8, 2/8, 5/8.
	p, soft = probabilities([]float32{0, float32(math.Ln2), float32(math.Log(5))})
	require.True(t, soft)
	require.InDeltaSlice(t, []float64{0.125, 0.25, 0.625}, p, 1e-6)

	// Large logits do not overflow.
	p, soft = probabilities([]float32{1000, 1000})
	require.True(t, soft)
	require.InDeltaSlice(t, []float64{0.5, 0.5}, p, 1e-12)
}

func TestTopK(t *testing.T) {
	scores := []float64{0.1, 0.4, math.NaN(), 0.4, 0.05}
	top, warn := topK(scores, 3, []string{"a", "b", "c", "d", "e"})
	require.Empty(t, warn)
	require.Equal(t, []class{{1, "b", 0.4}, {3, "d", 0.4}, {0, "a", 0.1}}, top)

	top, warn = topK(scores[:2], 5, []string{"background", "a", "b"})
	require.Empty(t, warn)
	require.Equal(t, []class{{1, "b", 0.4}, {0, "a", 0.1}}, top)

	top, warn = topK(scores[:2], 1, []string{"x"})
	require.Contains(t, warn, "1 labels for 2 classes")
	require.Equal(t, []class{{1, "", 0.4}}, top)
}

func TestReadLabels(t *testing.T) {
	f := filepath.Join(t.TempDir(), "l.txt")
	require.NoError(t, os.WriteFile(f, []byte("cat\r\ndog \n\nbird\n\n"), 0o644))
	l, err := readLabels(f)
	require.NoError(t, err)
	require.Equal(t, []string{"cat", "dog", "", "bird"}, l)
	require.NoError(t, os.WriteFile(f, []byte("\n\n"), 0o644))
	_, err = readLabels(f)
	require.Error(t, err)
}

// TestRunTrainedModels runs real trained models on real images: the ONNX
// model zoo's MNIST net (0..255 input, hence --scale 1) must read the
// classic "nine", and the float TFLite Visual Wake Words net takes its
// NHWC image input and already outputs probabilities.
func TestRunTrainedModels(t *testing.T) {
	models := shared.Path(t, "models")
	images := shared.Path(t, "images")
	out := mustRun(t, "run", "--model", filepath.Join(models, "onnx", "mnist-8.onnx"), "--scale", "1", "--json",
		"--input", filepath.Join(images, "classic", "mnist_nine.bmp"))
	var r result
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Equal(t, 9, r.Top[0].Index, out)

	out = mustRun(t, "run", "--model", filepath.Join(models, "tflite", "vww_96_float.tflite"), "--json",
		"--input", filepath.Join(images, "person_detection", "person.bmp"))
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.False(t, r.Softmax, "the model ends in a softmax: %s", out)
	require.Len(t, r.Top, 2)
	require.InDelta(t, 1, r.Top[0].Score+r.Top[1].Score, 1e-3)
}
