package native

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// craftedDir holds the hostile files of TestCraftedFiles, committed so
// that the command's tests (cmd/edgeinfer) and a manual
// `/usr/bin/time -v edgeinfer info --model FILE` can refuse them too.
// EDGEINFER_WRITE_CRAFTED=1 rewrites them.
const craftedDir = "testdata/crafted"

// craftedModel is a one-Relu model whose input has the given shape and
// which carries a one-element tensor of shape [1 1 1 1 1 1]: six one-byte
// dimensions that a test can rewrite into two three-byte ones without
// moving anything else in the file.
func craftedModel(t *testing.T, inShape ...int) []byte {
	b := ir.NewBuilder("crafted")
	x := b.Input("x", ir.Float32, inShape...)
	s := b.F32("s", []float32{2}, 1, 1, 1, 1, 1, 1)
	b.Output(b.Op("Mul", []string{x, s}))
	data, err := Encode(&Model{Graph: b.G})
	require.NoError(t, err)
	return data
}

// TestCraftedFiles: files claiming 2^40 elements, a negative dimension or
// a section past the end of the file are refused with an error naming the
// problem, before anything of the claimed size is allocated.
func TestCraftedFiles(t *testing.T) {
	// The tensor's six dims (list length 6+1, then 1 ×6) become two dims of 2^20 (length 2+1)
	// (uvarint 80 80 40): a 4-byte blob claiming 2^40 elements.
	tensor2p40 := func() []byte {
		data := craftedModel(t, 1, 1, 1, 1, 1, 1)
		_, entries, err := parseHeader(data)
		require.NoError(t, err)
		for _, e := range entries {
			if e.kind != kindTensors {
				continue
			}
			sec := data[e.off : e.off+e.length]
			i := bytes.Index(sec, []byte{7, 1, 1, 1, 1, 1, 1})
			require.GreaterOrEqual(t, i, 0)
			copy(sec[i:], []byte{3, 0x80, 0x80, 0x40, 0x80, 0x80, 0x40})
		}
		return reseal(data)
	}
	// The blobs section's table entry pointing past the end of the file.
	pastEOF := func() []byte {
		data := craftedModel(t, 1, 4)
		h, entries, err := parseHeader(data)
		require.NoError(t, err)
		for i, e := range entries {
			if e.kind == kindBlobs {
				le.PutUint64(data[h.tableOff+uint64(i)*entrySize+16:], 1<<40)
			}
		}
		return reseal(data)
	}
	whole := craftedModel(t, 1, 4)
	for _, tc := range []struct {
		file string
		data []byte
		want string
	}{
		{"input_2p40.eim", craftedModel(t, 1, 1<<20, 1<<20), `value "x": shape [1 1048576 1048576] has more than 1073741824 elements`},
		{"tensor_2p40.eim", tensor2p40(), `blob is 4 bytes, a float32 tensor of shape [1048576 1048576] needs 4398046511104`},
		{"negative_dim.eim", craftedModel(t, 1, -3, 224, 224), `value "x": dimension -3 out of range`},
		{"section_past_eof.eim", pastEOF(), `section "blobs"`},
		{"truncated.eim", whole[:len(whole)-64], "truncated"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Decode(tc.data)
			require.ErrorContains(t, err, tc.want)
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
