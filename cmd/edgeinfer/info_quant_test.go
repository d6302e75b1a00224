package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/native"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// TestInfoQuantTFLite: the per-layer table of Google's int8 VWW model
// (MobileNet v1 0.25: the first conv has 8 output channels of 3×3×3
// weights, the classifier 2 outputs of 256; conv weights per channel, the
// fully connected layer per tensor, as TFLite's converter does).
func TestInfoQuantTFLite(t *testing.T) {
	model := filepath.Join(shared.Path(t, "models/tflite"), "vww_96_int8.tflite")
	out := mustRun(t, "info", "--model", model, "--compare", filepath.Join(filepath.Dir(model), "vww_96_float.tflite"))
	require.Contains(t, out, "int8 layers")
	var convs, gemms []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == "Conv" {
			convs = append(convs, line)
		}
		if len(f) > 2 && f[1] == "Gemm" {
			gemms = append(gemms, line)
		}
	}
	require.Len(t, convs, 27, "14 convs and 13 depthwise convs")
	assert.Contains(t, convs[0], "(8 ch)")
	assert.True(t, strings.HasSuffix(strings.TrimSpace(convs[0]), " 248"), "8·27 int8 weights + 8 int32 biases: %s", convs[0])
	require.Len(t, gemms, 1)
	assert.True(t, strings.HasSuffix(strings.TrimSpace(gemms[0]), " 520"), "2·256 int8 weights + 2 int32 biases: %s", gemms[0])
	assert.Contains(t, gemms[0], "(per tensor)", "TFLite quantises FULLY_CONNECTED weights per tensor")
	assert.Contains(t, out, "weights   ")
	assert.Contains(t, out, "file      325.5 KiB (333288 bytes)")
	assert.Contains(t, out, "(866284 bytes); this file is 38.5% of it")

	// A float model has no int8 table, and --compare needs an int8 one.
	code, _, errs := cli(t, "info", "--model", filepath.Join(filepath.Dir(model), "vww_96_float.tflite"), "--compare", model)
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errs, "not a quantised model")
}

// TestInfoQuantEIMSize: an int8 .eim of MobileNet v2 (3.5 M parameters)
// is at most 30 % of the optimised float .eim of the same model.
func TestInfoQuantEIMSize(t *testing.T) {
	if !runtime.SupportsInt8("Conv") {
		t.Skip("no int8 engine")
	}
	g, err := zoo.Build("mobilenet_v2?res=64")
	require.NoError(t, err)
	fg, err := ptq.Prepare(g)
	require.NoError(t, err)
	calib, err := ptq.Synthetic(input.Spec{Width: 64, Height: 64, Channels: 3, Layout: input.NCHW, Scale: 255, Std: [3]float32{1, 1, 1}}, 2)
	require.NoError(t, err)
	qg, _, err := ptq.Quantize(g, calib, ptq.Options{SkipEval: true, Threads: 2})
	require.NoError(t, err)
	dir := t.TempDir()
	fp, qp := filepath.Join(dir, "f.eim"), filepath.Join(dir, "q.eim")
	require.NoError(t, native.Write(fp, &native.Model{Graph: fg}))
	require.NoError(t, native.Write(qp, &native.Model{Graph: qg}))
	out := mustRun(t, "info", "--model", qp, "--compare", fp)
	m := regexp.MustCompile(`this file is ([0-9.]+)% of it`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	pct, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	t.Logf("int8 .eim / float .eim = %.1f%%", pct)
	assert.LessOrEqual(t, pct, 30.0)
	assert.Greater(t, pct, 24.0, "int8 weights are a quarter of float32 ones; less means weights are missing")
	assert.Contains(t, out, "(32 ch)", "the first conv's per-channel scales")
}

// TestBenchInt8Zoo: bench --int8 quantises a zoo model on synthetic
// images and runs it in int8 with no files.
func TestBenchInt8Zoo(t *testing.T) {
	if !runtime.SupportsInt8("Conv") {
		t.Skip("no int8 engine")
	}
	code, out, errs := cli(t, "bench", "--model", "zoo:mobilenet_v1?alpha=0.25&res=64", "--int8", "--calib", "2",
		"--threads", "1", "--warmup", "1", "--runs", "2")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "quantised to int8")
	assert.Contains(t, out, "median")
	assert.Contains(t, errs, "2 synthetic images")
	assert.Contains(t, errs, " 0 float ops", "MobileNet v1 runs wholly in int8")

	code, _, errs = cli(t, "bench", "--model", "zoo:mobilenet_v1", "--int8", "--calib", "0")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errs, "--calib 0")
}
