package runtime_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/runtime"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

// floatEngineOps are the operators the float engine promises (issue #2);
// every conformance case built only from them must pass.
var floatEngineOps = map[string]bool{
	"Conv": true, "Gemm": true, "MatMul": true, "BatchNormalization": true, "Relu": true, "Clip": true,
	"LeakyRelu": true, "PRelu": true, "Tanh": true, "Sigmoid": true, "HardSigmoid": true, "HardSwish": true,
	"Add": true, "Sub": true, "Mul": true, "Div": true, "MaxPool": true, "AveragePool": true,
	"GlobalAveragePool": true, "GlobalMaxPool": true, "ReduceMean": true, "LRN": true, "Concat": true,
	"Flatten": true, "Reshape": true, "Transpose": true, "Split": true, "Slice": true, "Pad": true,
	"Softmax": true, "LogSoftmax": true, "Dropout": true, "Identity": true, "Constant": true,
	"ConstantOfShape": true, "Shape": true, "Gather": true, "Unsqueeze": true, "Squeeze": true, "Cast": true,
}

type conformanceResult struct {
	name, ops, status, detail string
	nonFloat                  bool // has int8/uint8/... data: outside the float engine's promise
}

// runConformanceCase runs one ONNX backend test case and compares with
// numpy.testing.assert_allclose(rtol=1e-3, atol=1e-7); integer outputs
// must be exact.
func runConformanceCase(dir string) conformanceResult {
	res := conformanceResult{name: filepath.Base(dir)}
	g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		res.status, res.detail = "fail", err.Error()
		return res
	}
	var ops []string
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		if !seen[n.Op] {
			seen[n.Op] = true
			ops = append(ops, n.Op)
		}
	}
	sort.Strings(ops)
	res.ops = strings.Join(ops, "+")
	data := filepath.Join(dir, "test_data_set_0")
	// Inputs feeding operands the runtime needs at prepare time (weights,
	// shapes, axes, pads) are frozen to their test values, as a static
	// runtime's user would; the rest stay runtime inputs.
	inputs := map[string]*ir.Tensor{}
	for i, in := range g.Inputs {
		_, t, err := onnx.ReadTensorProtoFile(filepath.Join(data, fmt.Sprintf("input_%d.pb", i)))
		if err != nil {
			res.status, res.detail = "fail", err.Error()
			return res
		}
		inputs[in.Name] = t
		if t.DType != ir.Float32 && t.DType != ir.Int64 {
			res.nonFloat = true
		}
	}
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if t, ok := inputs[in]; ok && passes.RequiresConstant(n.Op, i) {
				if g.Freeze(in, t) == nil {
					delete(inputs, in)
				}
			}
		}
	}
	m, err := runtime.New(g, runtime.Options{Threads: 2})
	if err != nil {
		var u *passes.Unsupported
		if errors.As(err, &u) || strings.Contains(err.Error(), "unsupported") {
			res.status, res.detail = "unsupported", err.Error()
		} else {
			res.status, res.detail = "fail", err.Error()
		}
		return res
	}
	defer m.Close()
	for i := 0; i < m.NumInputs(); i++ {
		if err := setInput(m, i, inputs[m.InputInfo(i).Name]); err != nil {
			res.status, res.detail = "unsupported", err.Error()
			return res
		}
	}
	if err := m.Run(); err != nil {
		res.status, res.detail = "fail", err.Error()
		return res
	}
	for i := 0; i < m.NumOutputs(); i++ {
		_, want, err := onnx.ReadTensorProtoFile(filepath.Join(data, fmt.Sprintf("output_%d.pb", i)))
		if err != nil {
			res.status, res.detail = "fail", err.Error()
			return res
		}
		got := m.OutputTensor(i)
		if err := allClose(got, want); err != nil {
			res.status, res.detail = "fail", fmt.Sprintf("output %d: %v", i, err)
			return res
		}
	}
	res.status = "pass"
	return res
}

func setInput(m *runtime.Model, i int, t *ir.Tensor) error {
	info := m.InputInfo(i)
	if ir.NumElements(info.Shape) != t.Len() {
		return fmt.Errorf("input %d: %d elements, model wants %v", i, t.Len(), info.Shape)
	}
	switch {
	case info.DType == ir.Float32 && t.DType == ir.Float32:
		copy(m.Input(i), t.F32)
	case info.DType == ir.Int64 && t.DType == ir.Int64:
		raw := m.InputBytes(i)
		copy(raw, unsafe.Slice((*byte)(unsafe.Pointer(&t.I64[0])), len(t.I64)*8))
	default:
		return fmt.Errorf("input %d: %s inputs are unsupported", i, t.DType)
	}
	return nil
}

func allClose(got, want *ir.Tensor) error {
	if got == nil {
		return fmt.Errorf("no output")
	}
	if !equalInts(got.Shape, want.Shape) && ir.NumElements(got.Shape) != ir.NumElements(want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	if want.DType != ir.Float32 {
		g, w := got.Ints(), want.Ints()
		for j := range w {
			if g[j] != w[j] {
				return fmt.Errorf("element %d = %d, want %d", j, g[j], w[j])
			}
		}
		return nil
	}
	if got.DType != ir.Float32 {
		return fmt.Errorf("dtype %s, want float32", got.DType)
	}
	for j, w := range want.F32 {
		g := got.F32[j]
		if math.IsNaN(float64(w)) != math.IsNaN(float64(g)) {
			return fmt.Errorf("element %d = %g, want %g", j, g, w)
		}
		if d := math.Abs(float64(g) - float64(w)); d > 1e-7+1e-3*math.Abs(float64(w)) {
			return fmt.Errorf("element %d = %g, want %g", j, g, w)
		}
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestONNXConformance runs every ONNX backend case in ../shared and prints
// the pass/fail/unsupported table by operator. Cases built only from the
// operators the float engine promises must pass; the rest must be
// reported unsupported, never crash.
func TestONNXConformance(t *testing.T) {
	root := shared.Path(t, "onnx-conformance")
	var results []conformanceResult
	for _, sub := range []string{"node", "pytorch-converted"} {
		ents, err := os.ReadDir(filepath.Join(root, sub))
		require.NoError(t, err)
		for _, e := range ents {
			results = append(results, runConformanceCase(filepath.Join(root, sub, e.Name())))
		}
	}
	byOp := map[string]*[3]int{}
	var opsList []string
	counts := map[string]int{}
	for _, r := range results {
		c := byOp[r.ops]
		if c == nil {
			c = &[3]int{}
			byOp[r.ops] = c
			opsList = append(opsList, r.ops)
		}
		switch r.status {
		case "pass":
			c[0]++
		case "fail":
			c[1]++
		default:
			c[2]++
		}
		counts[r.status]++
	}
	sort.Strings(opsList)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-28s %5s %5s %11s\n", "operator", "pass", "fail", "unsupported")
	for _, op := range opsList {
		c := byOp[op]
		fmt.Fprintf(&b, "%-28s %5d %5d %11d\n", op, c[0], c[1], c[2])
	}
	fmt.Fprintf(&b, "%-28s %5d %5d %11d  (%d cases)\n", "total", counts["pass"], counts["fail"], counts["unsupported"], len(results))
	t.Log(b.String())
	for _, r := range results {
		promised := r.ops != "" && !r.nonFloat
		for _, op := range strings.Split(r.ops, "+") {
			promised = promised && floatEngineOps[op]
		}
		switch {
		case r.status == "fail":
			t.Errorf("%s (%s): %s", r.name, r.ops, r.detail)
		case promised && r.status != "pass":
			t.Errorf("%s (%s) uses only supported operators but is %s: %s", r.name, r.ops, r.status, r.detail)
		case r.status == "unsupported":
			t.Logf("unsupported: %s: %s", r.name, r.detail)
		}
	}
}
