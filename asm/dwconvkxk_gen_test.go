package asm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDWKxKGeneratedUpToDate regenerates the arm64 K×K int8 depthwise
// assembly with gen_dwkxk.go and compares it with the committed files.
func TestDWKxKGeneratedUpToDate(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil || runtime.GOARCH != runtimeHostArch() {
		t.Skip("go tool not available (cross-compiled test binary)")
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "testdata"), 0o755))
	out, err := exec.Command(goTool, "run", "gen_dwkxk.go", "-dir", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, name := range []string{"q8dwconvkxk_neon_arm64.s", "testdata/dwkxk_words.golden"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./asm/", name)
	}
}
