package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/native"
	"github.com/edgeinfer/edgeinfer/models/onnx"
)

// TestEmitQDQ writes only the ONNX QDQ model (no -o), then both; the file
// reads back as an opset-13 graph whose weights are per-channel int8
// behind DequantizeLinear nodes.
func TestEmitQDQ(t *testing.T) {
	needInt8(t)
	dir := t.TempDir()
	qdq := filepath.Join(dir, "m.onnx")
	code, stdout, stderr := runCmd("--model", "zoo:lenet5", "--synthetic", "4", "--emit-qdq", qdq)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "wrote "+qdq+": ONNX QDQ model (opset 13)")
	assert.NotContains(t, stdout, "int8 model")
	g, err := onnx.Load(qdq)
	require.NoError(t, err)
	assert.Equal(t, 13, g.Opset)
	assert.Equal(t, "edgeinfer quantize", g.Metadata["producer_name"])
	assert.Equal(t, "zoo:lenet5", g.Metadata["source_model"])
	perAxis := 0
	for _, n := range g.Nodes {
		if n.Op == "DequantizeLinear" && n.Has("axis") {
			perAxis++
		}
	}
	assert.Positive(t, perAxis, "per-channel weight DequantizeLinear nodes")

	eim := filepath.Join(dir, "m.eim")
	code, stdout, stderr = runCmd("--model", "zoo:lenet5", "--synthetic", "4", "--emit-qdq", qdq, "-o", eim)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "int8 model")
	_, err = os.Stat(eim)
	require.NoError(t, err)

	code, _, stderr = runCmd("--model", "zoo:lenet5", "--float", "--emit-qdq", qdq)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "no output")
}

// TestReduceRange: --reduce-range gives 7-bit weights, in the .eim and in
// the QDQ export alike, and records it; without it the weights use ±127.
func TestReduceRange(t *testing.T) {
	needInt8(t)
	for _, tc := range []struct {
		name string
		args []string
		qmax int
		meta string
	}{
		{"default", nil, 127, ""},
		{"reduce-range", []string{"--reduce-range"}, 63, "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			eim, qdq := filepath.Join(dir, "m.eim"), filepath.Join(dir, "m.onnx")
			// u8s8: the export's weights stay int8, as in the .eim.
			args := append([]string{"--model", "zoo:lenet5", "--synthetic", "4", "-o", eim, "--emit-qdq", qdq, "--qdq-types", "u8s8"}, tc.args...)
			code, stdout, stderr := runCmd(args...)
			require.Equal(t, exitOK, code, stderr)
			if tc.meta != "" {
				assert.Contains(t, stdout, "per-channel 7-bit (reduce range) weights")
			}
			m, c, err := native.Load(eim)
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, tc.meta, m.Meta["quantization_reduce_range"])
			assert.Equal(t, tc.meta, m.Graph.Metadata["quantization_reduce_range"])
			og, err := onnx.Load(qdq)
			require.NoError(t, err)
			assert.Equal(t, tc.meta, og.Metadata["quantization_reduce_range"])
			// The largest |integer| of every weight tensor: exactly qmax
			// (some channel reaches it), in both files.
			for name, g := range map[string]*ir.Graph{"eim": m.Graph, "qdq": og} {
				weights := 0
				for _, n := range g.Nodes {
					var w *ir.Tensor
					switch {
					case (n.Op == "Conv" || n.Op == "Gemm") && g.Initializers[n.Input(1)] != nil:
						w = g.Initializers[n.Input(1)]
					case n.Op == "DequantizeLinear" && n.Has("axis") && g.Initializers[n.Input(0)].DType == ir.Int8:
						w = g.Initializers[n.Input(0)]
					default:
						continue
					}
					require.Equal(t, ir.Int8, w.DType, "%s %s", name, n.Describe())
					hi := 0
					for _, q := range w.I8 {
						hi = max(hi, int(q), -int(q))
					}
					assert.Equal(t, tc.qmax, hi, "%s %s", name, n.Describe())
					weights++
				}
				assert.Positive(t, weights, name)
			}
		})
	}
}
