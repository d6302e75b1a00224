package tflite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// craftedDir holds the hostile files of TestCraftedFiles, committed so
// that the command's tests (cmd/edgeinfer) and a manual
// `/usr/bin/time -v edgeinfer info --model FILE` can refuse them too.
// EDGEINFER_WRITE_CRAFTED=1 rewrites them.
const craftedDir = "testdata/crafted"

// TestCraftedFiles: files claiming 2^40 elements, a negative dimension or
// data past the end of the file are refused with an error naming the
// problem, before anything of the claimed size is allocated.
func TestCraftedFiles(t *testing.T) {
	const big = 1 << 20
	relu := func(x tmTensor) []byte {
		return oneOp(tmOp{code: bRelu, in: []int32{0}, out: []int32{1}}, named("x", x), named("y", f32(1, 4))).bytes()
	}
	// ADD of the input and a constant that claims [2^20 2^20] with 16
	// bytes of data.
	weight := func(w tmTensor) []byte {
		return oneOp(tmOp{code: bAdd, in: []int32{0, 1}, out: []int32{2}, optType: 11, opts: []tmField{{0, uint8(0)}}},
			named("x", f32(1, 4)), named("w", withData(w, make([]byte, 16))), named("y", f32(1, 4))).bytes()
	}
	whole := relu(f32(1, 4))
	for _, tc := range []struct {
		file string
		data []byte
		want string // "" for a file the reader accepts
	}{
		{"activation_2p40.tflite", relu(f32(1, big, big, 1)), "shape [1 1048576 1048576 1] has too many elements"},
		{"weight_2p40.tflite", weight(f32(big, big)), `tensor 1 ("w"): shape [1048576 1048576] has too many elements`},
		{"weight_short.tflite", weight(f32(1<<15, 1<<14)), "buffer 1 holds 16 bytes, want 2147483648"},
		{"negative_dim.tflite", relu(f32(1, -3, 224, 224)), "shape [1 -3 224 224] has a negative dimension"},
		{"truncated.tflite", whole[:len(whole)*3/4], "lies outside the"},
		{"dangling.tflite", (&tmModel{name: "dangling", tensors: []tmTensor{named("a", f32(1, 4)), named("b", f32(1, 4))}, outputs: []int32{1},
			ops: []tmOp{{code: bRelu, in: []int32{0}, out: []int32{1}}}}).bytes(), `tensor 0 ("a"): not a constant, a graph input or an operator output`},
		// The reader keeps the operators as they are; the runtime's
		// toposort refuses the cycle (cmd/edgeinfer's tests check that).
		{"cycle.tflite", (&tmModel{name: "cycle", tensors: []tmTensor{named("a", f32(1, 4)), named("b", f32(1, 4))}, outputs: []int32{1},
			ops: []tmOp{{code: bRelu, in: []int32{0}, out: []int32{1}}, {code: bRelu, in: []int32{1}, out: []int32{0}}}}).bytes(), ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Parse(tc.data)
			if tc.want == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tc.want)
			}
			path := filepath.Join(craftedDir, tc.file)
			if os.Getenv("EDGEINFER_WRITE_CRAFTED") == "1" {
				require.NoError(t, os.MkdirAll(craftedDir, 0o755))
				require.NoError(t, os.WriteFile(path, tc.data, 0o644))
				return
			}
			committed, err := os.ReadFile(path)
			require.NoError(t, err, "run with EDGEINFER_WRITE_CRAFTED=1 to write it")
			require.True(t, bytes.Equal(committed, tc.data), "%s differs from what the test builds", path)
		})
	}
}
