package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
