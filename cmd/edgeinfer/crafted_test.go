package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
)

// TestMain lets a test re-execute the test binary as the edgeinfer
// command (EDGEINFER_TEST_MAIN=1), so that it can measure the peak RSS
// of one command in a process of its own.
func TestMain(m *testing.M) {
	if os.Getenv("EDGEINFER_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// execSelf runs "edgeinfer ARGS" in a child process and returns its exit
// code, its output and its peak RSS in bytes.
func execSelf(t *testing.T, args ...string) (code int, out string, maxRSS int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "EDGEINFER_TEST_MAIN=1", "GOTRACEBACK=all")
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	if err != nil {
		_, isExit := err.(*exec.ExitError)
		require.True(t, isExit, "%v", err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return cmd.ProcessState.ExitCode(), b.String(), int64(ru.Maxrss) * 1024 // Linux: KiB
}

// maxRefusalRSS bounds the peak RSS of a command refusing a crafted file.
const maxRefusalRSS = 64 << 20

// TestCraftedFilesRefused runs the command on the readers' crafted files
// (testdata/crafted of models/onnx, npy, native and tflite: 2^40 elements,
// negative dimensions, sections past the end, a cycle, a dangling name):
// each is refused with exit status 1 and an error naming the file, never
// a panic, a crash or a large allocation.
func TestCraftedFilesRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: one child process per crafted file")
	}
	models := "../../models"
	type crafted struct {
		args []string
		want string
	}
	var cases []crafted
	for _, dir := range []string{"onnx", "native", "tflite"} {
		files, err := filepath.Glob(filepath.Join(models, dir, "testdata/crafted/*"))
		require.NoError(t, err)
		require.NotEmpty(t, files, dir)
		for _, f := range files {
			if strings.HasSuffix(f, ".pb") {
				continue
			}
			want := filepath.Base(f)
			switch want {
			case "cycle.onnx", "cycle.tflite":
				want = "graph has a cycle"
			case "dangling.onnx":
				want = `reads "nowhere", which no input, initializer or node defines`
			}
			cases = append(cases, crafted{[]string{"info", "--model", f}, want})
			cases = append(cases, crafted{[]string{"run", "--model", f}, want})
		}
	}
	// Inputs need a model: LeNet-5 from the shared fixtures.
	if dir, ok := shared.Dir(); ok {
		lenet := filepath.Join(dir, "fixtures/lenet5/model.onnx")
		inputs, err := filepath.Glob(filepath.Join(models, "npy/testdata/crafted/*.npy"))
		require.NoError(t, err)
		pbs, err := filepath.Glob(filepath.Join(models, "onnx/testdata/crafted/*.pb"))
		require.NoError(t, err)
		require.NotEmpty(t, inputs)
		require.NotEmpty(t, pbs)
		for _, f := range append(inputs, pbs...) {
			cases = append(cases, crafted{[]string{"run", "--model", lenet, "--input", f}, filepath.Base(f)})
		}
	} else {
		t.Log("no ../shared: crafted .npy and .pb inputs untested (they need a model)")
	}
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		code, out, rss := execSelf(t, c.args...)
		t.Logf("%s: exit %d, peak RSS %.1f MiB: %s", name, code, float64(rss)/(1<<20), strings.TrimSpace(out))
		require.Equal(t, exitError, code, "%s: %s", name, out)
		require.Contains(t, out, c.want, name)
		require.NotContains(t, out, "goroutine ", name)
		require.Less(t, rss, int64(maxRefusalRSS), "%s: peak RSS", name)
	}
}
