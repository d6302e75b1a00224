package asm

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var wordRE = regexp.MustCompile(`^\s*WORD\s+\$(0x[0-9a-fA-F]{8})\s*//\s*(.+?)\s*$`)

// asmWords returns the WORD encodings of every .s file in the package,
// mnemonic → encoding; a WORD without a mnemonic comment, or one mnemonic
// with two encodings, fails the test.
func asmWords(t *testing.T) map[string]string {
	files, err := filepath.Glob("*.s")
	require.NoError(t, err)
	words := map[string]string{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(src), "\n") {
			if !strings.Contains(line, "WORD") {
				continue
			}
			m := wordRE.FindStringSubmatch(line)
			require.NotNil(t, m, "%s:%d: WORD without a `// mnemonic` comment: %q", f, i+1, line)
			w := strings.ToLower(m[1])
			if old, ok := words[m[2]]; ok {
				require.Equal(t, old, w, "%s:%d: %s encoded two ways", f, i+1, m[2])
			}
			words[m[2]] = w
		}
	}
	return words
}

// TestWordEncodings checks every `WORD $0x… // mnemonic` pair in the .s files
// against the committed golden list and, when llvm-mc is installed, against
// llvm-mc's encoding of the mnemonic.
func TestWordEncodings(t *testing.T) {
	words := asmWords(t)
	// Each generator writes its own list (gen_neon.go: neon_words.golden,
	// gen_dwneon.go: dwneon_words.golden); the .s files use their union.
	golden := map[string]string{}
	lists, err := filepath.Glob("testdata/*words.golden")
	require.NoError(t, err)
	require.NotEmpty(t, lists)
	for _, name := range lists {
		f, err := os.Open(name)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			w, mn, ok := strings.Cut(line, "\t")
			require.True(t, ok, "%s: golden line %q", name, line)
			if old, ok := golden[mn]; ok {
				require.Equal(t, old, w, "%s: %s listed with two encodings", name, mn)
			}
			golden[mn] = w
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	require.Equal(t, golden, words, "WORDs in *.s differ from testdata/*words.golden (regenerate with go generate)")

	mc, err := exec.LookPath("llvm-mc")
	if err != nil {
		t.Skip("llvm-mc not found: WORD encodings checked against the golden list only (apt-get install llvm)")
	}
	var mns []string
	for mn := range words {
		mns = append(mns, mn)
	}
	sort.Strings(mns)
	cmd := exec.Command(mc, "-triple=aarch64", "-mattr=+dotprod,+i8mm", "-show-encoding")
	cmd.Stdin = strings.NewReader(strings.Join(mns, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "llvm-mc: %s", stderr.String())
	encRE := regexp.MustCompile(`encoding: \[0x([0-9a-f]{2}),0x([0-9a-f]{2}),0x([0-9a-f]{2}),0x([0-9a-f]{2})\]`)
	var encs []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := encRE.FindStringSubmatch(line); m != nil {
			encs = append(encs, fmt.Sprintf("0x%s%s%s%s", m[4], m[3], m[2], m[1]))
		}
	}
	require.Len(t, encs, len(mns), "llvm-mc output:\n%s", out)
	for i, mn := range mns {
		require.Equal(t, encs[i], words[mn], "WORD for %q: llvm-mc says %s", mn, encs[i])
	}
	t.Logf("%d WORD encodings verified with %s", len(mns), mc)
}

// runtimeHostArch is the architecture of the go tool in GOROOT, or "" when
// it cannot be run (a cross-compiled test binary under qemu).
func runtimeHostArch() string {
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "env", "GOHOSTARCH").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
