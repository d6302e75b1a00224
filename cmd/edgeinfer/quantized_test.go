package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
)

func runJSON(t *testing.T, args ...string) result {
	t.Helper()
	out := mustRun(t, append([]string{"run", "--json", "--threads", "2"}, args...)...)
	var r result
	require.NoError(t, json.Unmarshal([]byte(out), &r), "%s", out)
	require.NotEmpty(t, r.Top, "%s", out)
	return r
}

// TestRunQuantMobileNet: a uint8 TFLite model fed raw pixels, with
// dequantised scores and 1001 labels (background first); its float twin
// agrees on top-1.
func TestRunQuantMobileNet(t *testing.T) {
	model := filepath.Join(shared.Path(t, "models/tflite"), "mobilenet_v2_1.0_224_quant.tflite")
	photo := filepath.Join(shared.Path(t, "images/classic"), "grace_hopper.bmp")
	labels := filepath.Join(shared.Path(t, "images/labels"), "imagenet_labels_1001_with_background.txt")
	args := []string{"--model", model, "--input", photo, "--labels", labels}
	q := runJSON(t, args...)
	require.Contains(t, q.Top[0].Label, "military uniform")
	require.Equal(t, 653, q.Top[0].Index)
	require.False(t, q.Softmax, "a dequantised softmax output is a distribution already")
	require.Greater(t, q.Top[0].Score, 0.5)
	require.LessOrEqual(t, q.Top[0].Score, 1.0)

	f := runJSON(t, append(args, "--as-float")...)
	require.Equal(t, q.Top[0].Index, f.Top[0].Index)
	require.Equal(t, q.Top[0].Label, f.Top[0].Label)
	require.InDelta(t, q.Top[0].Score, f.Top[0].Score, 0.1)
}

// TestRunQuantPersonDetect: TFLite Micro's int8 person_detect with its
// test images fed as raw bytes (--wrap).
func TestRunQuantPersonDetect(t *testing.T) {
	model := filepath.Join(shared.Path(t, "models/tflite"), "person_detect.tflite")
	dir := shared.Path(t, "images/person_detection")
	for photo, want := range map[string]int{"person.bmp": 1, "no_person.bmp": 0} {
		r := runJSON(t, "--model", model, "--wrap", "--input", filepath.Join(dir, photo))
		require.Equal(t, want, r.Top[0].Index, photo)
	}
	// --wrap is for int8 inputs only, and not with normalisation.
	code, _, errs := cli(t, "run", "--model", model, "--wrap", "--mean", "0.5", "--input", filepath.Join(dir, "person.bmp"))
	require.NotEqual(t, 0, code)
	require.Contains(t, errs, "--wrap")
}

// TestRunQuantNormalised: --mean/--std quantise the normalised image with
// the input's scale and zero point (torchvision MobileNetV2, int8 NCHW).
func TestRunQuantNormalised(t *testing.T) {
	model := filepath.Join(shared.Path(t, "models/tflite"), "mobilenet_v2_quantized_1x3x224x224.tflite")
	photo := filepath.Join(shared.Path(t, "images/classic"), "grace_hopper.bmp")
	r := runJSON(t, "--model", model, "--input", photo, "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225")
	require.Equal(t, 652, r.Top[0].Index) // military uniform in the 1000-class list
	require.True(t, r.Softmax)
}

func TestQuantiseValue(t *testing.T) {
	i8 := func(v int8) byte { return byte(v) }
	require.Equal(t, i8(-128), quantiseValue(-10, 0.01, 0, ir.Int8))
	require.Equal(t, byte(127), quantiseValue(10, 0.01, 0, ir.Int8))
	require.Equal(t, i8(-2), quantiseValue(-0.015, 0.01, 0, ir.Int8)) // half away from zero
	require.Equal(t, i8(1), quantiseValue(0.02, 0.01, -1, ir.Int8))
	require.Equal(t, byte(255), quantiseValue(3, 0.0078125, 128, ir.Uint8))
	require.Equal(t, byte(0), quantiseValue(-3, 0.0078125, 128, ir.Uint8))
	require.Equal(t, byte(200), pixelByte(200.4))
	require.Equal(t, byte(0), pixelByte(-3))
	require.Equal(t, byte(255), pixelByte(300))
}
