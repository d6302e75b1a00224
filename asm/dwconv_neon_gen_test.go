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

// TestDWNeonGeneratedUpToDate regenerates the arm64 depthwise assembly with
// gen_dwneon.go and compares it with the committed files.
func TestDWNeonGeneratedUpToDate(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil || runtime.GOARCH != runtimeHostArch() {
		t.Skip("go tool not available (cross-compiled test binary)")
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "testdata"), 0o755))
	out, err := exec.Command(goTool, "run", "gen_dwneon.go", "-dir", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, name := range []string{"dwconv_neon_arm64.s", "q8dwconv_neon_arm64.s", "testdata/dwneon_words.golden"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./asm/", name)
	}
}
