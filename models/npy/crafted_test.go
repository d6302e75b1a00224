package npy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// craftedDir holds the hostile files of TestCraftedFiles, committed so
// that the command's tests (cmd/edgeinfer) and a manual
// `/usr/bin/time -v edgeinfer run --input FILE` can refuse them too.
// EDGEINFER_WRITE_CRAFTED=1 rewrites them.
const craftedDir = "testdata/crafted"

// TestCraftedFiles: files claiming 2^40 elements, a negative dimension or
// a header past the end of the file are refused before allocating.
func TestCraftedFiles(t *testing.T) {
	header := func(shape string) string {
		return fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }\n", shape)
	}
	for _, tc := range []struct {
		file string
		data []byte
		want string
	}{
		{"elements_2p40.npy", npyFile(1, header("(1048576, 1048576)"), make([]byte, 64)), "data has 64 bytes, want 4398046511104"},
		{"overflow.npy", npyFile(1, header("(4294967296, 4294967296, 4294967296)"), nil), "too many elements"},
		{"negative_dim.npy", npyFile(1, header("(1, -3, 224, 224)"), nil), "negative dimension"},
		{"header_past_eof.npy", npyFile(2, header("(4,)"), nil)[:40], "beyond the end of the file"},
		{"huge_header.npy", append([]byte(magic+"\x02\x00\xff\xff\xff\xff"), "{'descr'"...), "header of 4294967295 bytes is too long"},
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
