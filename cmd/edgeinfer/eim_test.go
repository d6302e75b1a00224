package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/native"
	"github.com/edgeinfer/edgeinfer/models/onnx"
)

// TestRunEIMUsesEmbeddedPreprocessing: an .eim file carries its
// preprocessing and labels, so run needs no other flag. mnist-8 wants
// 0..255 grey levels (scale 1), which the embedded spec says.
func TestRunEIMUsesEmbeddedPreprocessing(t *testing.T) {
	g, err := onnx.Load(shared.Path(t, "models/onnx/mnist-8.onnx"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "mnist.eim")
	labels := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	require.NoError(t, native.Write(path, &native.Model{Graph: g, Labels: labels,
		Preprocess: &native.Preprocess{Width: 28, Height: 28, Channels: 1, Layout: "NCHW", Scale: 1, Std: [3]float32{1, 1, 1}}}))
	var out, errb bytes.Buffer
	img := filepath.Join(shared.Path(t, "images/classic"), "mnist_nine.bmp")
	code := run([]string{"run", "--model", path, "--input", img, "--json"}, &out, &errb)
	require.Equal(t, 0, code, errb.String())
	var res struct {
		Top []struct {
			Index int
			Label string
		}
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.Equal(t, 9, res.Top[0].Index)
	require.Equal(t, "nine", res.Top[0].Label)
}
