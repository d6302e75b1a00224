package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// craftedDir holds the hostile files of the crafted tests, committed so
// that the command's tests (cmd/edgeinfer) and a manual
// `/usr/bin/time -v edgeinfer info --model FILE` can refuse them too.
// EDGEINFER_WRITE_CRAFTED=1 rewrites them from the builders below.
const craftedDir = "testdata/crafted"

// checkCrafted requires that the committed copy of a crafted file equals
// what the test builds (or writes it, under EDGEINFER_WRITE_CRAFTED=1).
func checkCrafted(t *testing.T, name string, data []byte) {
	t.Helper()
	path := filepath.Join(craftedDir, name)
	if os.Getenv("EDGEINFER_WRITE_CRAFTED") == "1" {
		require.NoError(t, os.MkdirAll(craftedDir, 0o755))
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return
	}
	committed, err := os.ReadFile(path)
	require.NoError(t, err, "run with EDGEINFER_WRITE_CRAFTED=1 to write it")
	require.True(t, bytes.Equal(committed, data), "%s differs from what the test builds; rewrite with EDGEINFER_WRITE_CRAFTED=1", path)
}

// TestCraftedFiles: files claiming 2^40 elements, a negative dimension or
// bytes past the end of the file are refused with an error naming the
// problem, before anything of the claimed size is allocated.
func TestCraftedFiles(t *testing.T) {
	relu := pb(nil).str(1, "x").str(2, "y").str(4, "Relu")
	graph := func(fields ...pb) pb {
		g := pb(nil).str(2, "crafted").bytes(1, relu)
		for _, f := range fields {
			g = append(g, f...)
		}
		return g
	}
	const big = 1 << 20 // two of them: 2^40 elements
	for _, tc := range []struct {
		file   string
		data   []byte
		tensor bool   // a TensorProto (.pb), not a model
		want   string // "" for a file the reader accepts
	}{
		{"input_2p40.onnx", modelPB(graph(pb(nil).bytes(11, valueInfoPB("x", dtFloat, 1, big, big)), pb(nil).bytes(12, valueInfoPB("y", dtFloat, 1)))),
			false, `input "x": shape [1 1048576 1048576] has more than 1073741824 elements`},
		{"value_info_2p40.onnx", modelPB(graph(pb(nil).bytes(11, valueInfoPB("x", dtFloat, 1)), pb(nil).bytes(12, valueInfoPB("y", dtFloat, 1)),
			pb(nil).bytes(13, valueInfoPB("t", dtFloat, big, big)))), false, "has more than 1073741824 elements"},
		{"initializer_2p40.onnx", modelPB(graph(pb(nil).bytes(11, valueInfoPB("x", dtFloat, 1)), pb(nil).bytes(12, valueInfoPB("y", dtFloat, 1)),
			initializer(tensorPB("w", dtFloat, big, big).bytes(9, nil)))), false, `initializer "w": raw_data has 0 bytes, want 4398046511104`},
		{"negative_dim.onnx", modelPB(graph(pb(nil).bytes(11, valueInfoPB("x", dtFloat, 1, -3)))), false, `input "x": dimension -3 out of range`},
		{"negative_dim_initializer.onnx", modelPB(graph(initializer(tensorPB("w", dtFloat, 2, -1).bytes(9, nil)))), false, `initializer "w": negative dimension`},
		{"past_eof.onnx", append(pb(nil).varint(1, 8).tag(7, protowire.BytesType).bytesLen(1<<30), "abc"...), false, "field 7: unexpected EOF"},
		{"tensor_2p40.pb", tensorPB("x", dtFloat, big, big).bytes(9, make([]byte, 16)), true, "raw_data has 16 bytes, want 4398046511104"},
		{"tensor_negative_dim.pb", tensorPB("x", dtFloat, 1, -224).bytes(9, nil), true, "negative dimension"},
		{"tensor_past_eof.pb", append(tensorPB("x", dtFloat, 4).tag(9, protowire.BytesType).bytesLen(1<<40), 1, 2, 3, 4), true, "unexpected EOF"},
		// The reader keeps a graph's nodes as they are; the runtime's
		// toposort refuses these two (cmd/edgeinfer's tests check that).
		{"cycle.onnx", modelPB(pb(nil).str(2, "cycle").
			bytes(1, pb(nil).str(1, "x").str(1, "b").str(2, "a").str(4, "Add")).
			bytes(1, pb(nil).str(1, "a").str(2, "b").str(4, "Relu")).
			bytes(11, valueInfoPB("x", dtFloat, 1, 4)).bytes(12, valueInfoPB("b", dtFloat, 1, 4))), false, ""},
		{"dangling.onnx", modelPB(pb(nil).str(2, "dangling").
			bytes(1, pb(nil).str(1, "nowhere").str(2, "y").str(4, "Relu")).
			bytes(11, valueInfoPB("x", dtFloat, 1, 4)).bytes(12, valueInfoPB("y", dtFloat, 1, 4))), false, ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var err error
			if tc.tensor {
				_, _, err = ParseTensorProto(tc.data)
			} else {
				_, err = Parse(tc.data, "")
			}
			if tc.want == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tc.want)
			}
			checkCrafted(t, tc.file, tc.data)
		})
	}
}
