package native

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// bigModel has n float tensors of size bytes each.
func bigModel(n, size int) *Model {
	g := ir.New("big")
	for i := 0; i < n; i++ {
		data := make([]float32, size/4)
		for j := range data {
			data[j] = float32(i*j%251) * 0.5
		}
		g.Initializers[fmt.Sprintf("w%03d", i)] = &ir.Tensor{DType: ir.Float32, Shape: []int{len(data)}, F32: data}
	}
	return &Model{Graph: g, Meta: map[string]string{"kind": "big"}}
}

// requireOnly checks that dir holds exactly the named files.
func requireOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	require.ElementsMatch(t, names, got, "files in %s", dir)
}

// TestWriteFailureKeepsTarget makes the data source fail (error or panic)
// midway through a write over an existing model.
func TestWriteFailureKeepsTarget(t *testing.T) {
	errSource := errors.New("camera unplugged")
	for name, before := range map[string]func(int) error{
		"error": func(i int) error {
			if i == 5 {
				return errSource
			}
			return nil
		},
		"panic": func(i int) error {
			if i == 5 {
				panic(errSource)
			}
			return nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.eim")
			require.NoError(t, Write(path, floatModel()))
			old, err := os.ReadFile(path)
			require.NoError(t, err)

			err = func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = r.(error)
					}
				}()
				return write(path, bigModel(20, 256<<10), before)
			}()
			require.ErrorIs(t, err, errSource)

			now, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, old, now, "target changed")
			requireOnly(t, dir, "model.eim")
			m, c, err := Load(path)
			require.NoError(t, err)
			defer c.Close()
			requireModelsEqual(t, floatModel(), m)
		})
	}
}

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.eim")
	require.NoError(t, Write(path, floatModel()))
	// The first file stays mapped while it is replaced.
	first, c, err := Load(path)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, Write(path, quantModel()))
	requireOnly(t, dir, "model.eim")
	requireModelsEqual(t, floatModel(), first)
	second, c2, err := Load(path)
	require.NoError(t, err)
	defer c2.Close()
	requireModelsEqual(t, quantModel(), second)

	require.Error(t, Write(filepath.Join(dir, "no", "such", "dir.eim"), floatModel()))
}

// childEnv makes the test binary a writer that the parent kills.
const childEnv = "EDGEINFER_NATIVE_KILL_CHILD"

// TestWriteKilled runs a writer in a child process (this test binary,
// running TestWriteKilledChild), waits until it is partway through a large
// model and SIGKILLs it: the previous file must be intact, and at most a
// recognisable temporary file may be left.
func TestWriteKilled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.eim")
	require.NoError(t, Write(path, quantModel()))
	old, err := os.ReadFile(path)
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteKilledChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()

	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "writing" {
				ready <- nil
				return
			}
		}
		ready <- fmt.Errorf("child exited before writing: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("child did not start writing")
	}
	tmps, err := filepath.Glob(filepath.Join(dir, ".model.eim.tmp-*"))
	require.NoError(t, err)
	require.Len(t, tmps, 1, "the child's temporary file")
	st, err := os.Stat(tmps[0])
	require.NoError(t, err)
	require.Positive(t, st.Size(), "the child has written part of the model")

	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred cleanup runs
	err = cmd.Wait()
	require.Error(t, err)
	require.Contains(t, err.Error(), "killed")

	now, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, old, now, "target changed")
	m, c, err := Load(path)
	require.NoError(t, err)
	defer c.Close()
	requireModelsEqual(t, quantModel(), m)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.LessOrEqual(t, len(ents), 2)
	for _, e := range ents {
		if e.Name() != "model.eim" {
			require.True(t, strings.HasPrefix(e.Name(), ".model.eim.tmp-"), "unexpected file %q", e.Name())
		}
	}
}

// TestWriteKilledChild is the writer half of TestWriteKilled.
func TestWriteKilledChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("helper process of TestWriteKilled")
	}
	err := write(path, bigModel(64, 256<<10), func(i int) error {
		if i == 32 {
			// Half the model is in the temporary file (past the
			// 1 MiB write buffer). Wait to be killed.
			fmt.Println("writing")
			time.Sleep(time.Minute)
		}
		return nil
	})
	t.Fatalf("child was not killed (write returned %v)", err)
}
