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

// TestGeneratedFilesUpToDate runs each assembly generator (go run gen_*.go
// -dir TMP) and compares what it writes with the committed files: a hand
// edit of a generated file, or a generator change without go generate,
// fails here. (gen_f32gemm.go, which writes Go, has TestGeneratedUpToDate.)
func TestGeneratedFilesUpToDate(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil || runtime.GOARCH != runtimeHostArch() {
		t.Skip("go tool not available (cross-compiled test binary)")
	}
	for _, tc := range []struct {
		gen   string
		files []string
	}{
		{"gen_neon.go", []string{"f32gemm_neon_arm64.s", "f32add_neon_arm64.s", "q8gemm_neon_arm64.s", "testdata/neon_words.golden"}},
		{"gen_dwneon.go", []string{"dwconv_neon_arm64.s", "q8dwconv_neon_arm64.s", "q8dwconv_neondot_arm64.s", "testdata/dwneon_words.golden"}},
		{"gen_dwkxk.go", []string{"q8dwconvkxk_neon_arm64.s", "testdata/dwkxk_words.golden"}},
		{"gen_q8add.go", []string{"q8add_neon_arm64.s", "q8add_avx2_amd64.s", "testdata/q8add_words.golden"}},
		{"gen_q8pool.go", []string{"q8pool_neon_arm64.s", "q8pool_avx2_amd64.s", "testdata/q8pool_words.golden"}},
		{"gen_winof32.go", []string{"winof32_avx2_amd64.s"}},
		{"gen_wino8.go", []string{"q8wino_avx2_amd64.s", "q8wino_avx512vnni_amd64.s"}},
		{"gen_avx512.go", []string{"f32gemm_avx512_amd64.s"}},
		{"gen_q8dw512.go", []string{"q8dwconv_avx512vnni_amd64.s"}},
		{"gen_q8c4z.go", []string{"q8gemm_c4z_avx512vnni_amd64.s"}},
		{"gen_avx2.go", []string{"f32gemm_avx2_amd64.s", "f32dwconv_avx2_amd64.s", "f32add_avx2_amd64.s",
			"q8gemm_avx2_amd64.s", "q8gemm_vnni_amd64.s", "q8dwconv_avx2_amd64.s"}},
	} {
		t.Run(tc.gen, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "testdata"), 0o755))
			out, err := exec.Command(goTool, "run", tc.gen, "-dir", dir).CombinedOutput()
			require.NoError(t, err, "%s", out)
			for _, name := range tc.files {
				want, err := os.ReadFile(filepath.Join(dir, name))
				require.NoError(t, err)
				got, err := os.ReadFile(name)
				require.NoError(t, err)
				require.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./asm/", name)
			}
		})
	}
}
