package tflite

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// These tests run translated graphs on the runtime and compare them with
// a direct NHWC implementation of TFLite's semantics written here: small
// models of each layout-sensitive operator, and the float shared models.

func TestRuntimeFloatModels(t *testing.T) {
	dir := shared.Path(t, "models/tflite")
	for _, name := range []string{"vww_96_float.tflite", "pretrainedResnet.tflite"} {
		t.Run(name, func(t *testing.T) {
			g, err := Load(filepath.Join(dir, name))
			require.NoError(t, err)
			m, err := runtime.New(g, runtime.Options{Threads: 1})
			require.NoError(t, err)
			defer m.Close()
			in := m.Input(0)
			for i := range in {
				in[i] = float32(i % 256)
			}
			require.NoError(t, m.Run())
			out := m.Output(0)
			var sum float32
			for _, v := range out {
				assert.False(t, math.IsNaN(float64(v)))
				sum += v
			}
			assert.InDelta(t, 1, sum, 1e-4, "softmax output %v", out)
		})
	}
}

// nhwc is a float tensor in TFLite's layout.
type nhwc struct {
	shape []int
	data  []float32
}

func randTensor(rng *rand.Rand, shape ...int) nhwc {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return nhwc{shape, v}
}

func (t nhwc) at(i ...int) float32 {
	off := 0
	for d, x := range i {
		off = off*t.shape[d] + x
	}
	return t.data[off]
}

// refConv is TFLite's CONV_2D (mult == 0, filter [O,KH,KW,I]) or
// DEPTHWISE_CONV_2D (filter [1,KH,KW,C·mult]) with SAME padding.
func refConv(x, w nhwc, bias []float32, stride, mult int, lo, hi float32) nhwc {
	return refWindow(x, w, bias, stride, stride, true, mult, lo, hi)
}

// refWindow is refConv with separate strides and SAME or VALID padding.
func refWindow(x, w nhwc, bias []float32, sh, sw int, same bool, mult int, lo, hi float32) nhwc {
	n, h, wd, c := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	kh, kw := w.shape[1], w.shape[2]
	oc := w.shape[0]
	if mult > 0 {
		oc = w.shape[3]
	}
	oh, ow := (h-kh+sh)/sh, (wd-kw+sw)/sw
	pt, pl := 0, 0
	if same {
		oh, ow = (h+sh-1)/sh, (wd+sw-1)/sw
		pt = max((oh-1)*sh+kh-h, 0) / 2
		pl = max((ow-1)*sw+kw-wd, 0) / 2
	}
	out := nhwc{[]int{n, oh, ow, oc}, nil}
	for b := 0; b < n; b++ {
		for y := 0; y < oh; y++ {
			for xx := 0; xx < ow; xx++ {
				for o := 0; o < oc; o++ {
					var s float32
					if bias != nil {
						s = bias[o]
					}
					for i := 0; i < kh; i++ {
						for j := 0; j < kw; j++ {
							iy, ix := y*sh-pt+i, xx*sw-pl+j
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								continue
							}
							if mult > 0 {
								s += x.at(b, iy, ix, o/mult) * w.at(0, i, j, o)
								continue
							}
							for ci := 0; ci < c; ci++ {
								s += x.at(b, iy, ix, ci) * w.at(o, i, j, ci)
							}
						}
					}
					out.data = append(out.data, min(max(s, lo), hi))
				}
			}
		}
	}
	return out
}

// runFloat runs a one-input float test model on the runtime.
func runFloat(t *testing.T, m *tmModel, in nhwc) []float32 {
	t.Helper()
	g, err := Parse(m.bytes())
	require.NoError(t, err)
	rt, err := runtime.New(g, runtime.Options{Threads: 1})
	require.NoError(t, err)
	defer rt.Close()
	require.Equal(t, in.shape, rt.InputInfo(0).Shape)
	copy(rt.Input(0), in.data)
	require.NoError(t, rt.Run())
	return append([]float32(nil), rt.Output(0)...)
}

func TestRuntimeLayoutOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name  string
		build func() (*tmModel, nhwc, []float32)
	}{
		{"conv SAME stride 2 relu6", func() (*tmModel, nhwc, []float32) {
			x, w, b := randTensor(rng, 1, 6, 5, 2), randTensor(rng, 3, 3, 3, 2), randTensor(rng, 3)
			m := oneOp(tmOp{code: bConv, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(0, 2, 3)},
				named("x", f32(1, 6, 5, 2)), named("w", withData(f32(3, 3, 3, 2), f32bytes(w.data...))),
				named("b", withData(f32(3), f32bytes(b.data...))), named("y", f32(1, 3, 3, 3)))
			return m, x, refConv(x, w, b.data, 2, 0, 0, 6).data
		}},
		{"depthwise multiplier 2", func() (*tmModel, nhwc, []float32) {
			x, w, b := randTensor(rng, 1, 5, 4, 2), randTensor(rng, 1, 3, 3, 4), randTensor(rng, 4)
			m := oneOp(tmOp{code: bDepthwise, in: []int32{0, 1, 2}, out: []int32{3}, optType: 2, opts: dwOpts(0, 1, 2, 0)},
				named("x", f32(1, 5, 4, 2)), named("w", withData(f32(1, 3, 3, 4), f32bytes(w.data...))),
				named("b", withData(f32(4), f32bytes(b.data...))), named("y", f32(1, 5, 4, 4)))
			return m, x, refConv(x, w, b.data, 1, 2, -inf, inf).data
		}},
		{"fully connected of 4-D", func() (*tmModel, nhwc, []float32) {
			x, w := randTensor(rng, 1, 2, 2, 3), randTensor(rng, 5, 12)
			m := reluFirst(tmOp{code: bFullyConnected, in: []int32{0, 1, -1}, out: []int32{2}},
				named("r", f32(1, 2, 2, 3)), named("w", withData(f32(5, 12), f32bytes(w.data...))), named("y", f32(1, 5)))
			want := make([]float32, 5)
			for o := range want {
				for k := 0; k < 12; k++ {
					want[o] += max(x.data[k], 0) * w.data[o*12+k] // NHWC flattening order
				}
			}
			return m, x, want
		}},
		{"mean over height", func() (*tmModel, nhwc, []float32) {
			x := randTensor(rng, 1, 3, 4, 5)
			axes := named("a", withData(tmTensor{shape: []int32{1}, typ: tInt32}, i32bytes(1)))
			m := reluFirst(tmOp{code: bMean, in: []int32{0, 1}, out: []int32{2}, optType: 27},
				named("r", f32(1, 3, 4, 5)), axes, named("y", f32(1, 4, 5)))
			var want []float32
			for w := 0; w < 4; w++ {
				for c := 0; c < 5; c++ {
					var s float32
					for h := 0; h < 3; h++ {
						s += max(x.at(0, h, w, c), 0)
					}
					want = append(want, s/3)
				}
			}
			return m, x, want
		}},
		{"pad then concat channels", func() (*tmModel, nhwc, []float32) {
			x := randTensor(rng, 1, 2, 3, 2)
			m := &tmModel{tensors: []tmTensor{
				named("x", f32(1, 2, 3, 2)),
				named("p", withData(tmTensor{shape: []int32{4, 2}, typ: tInt32}, i32bytes(0, 0, 1, 0, 0, 2, 0, 0))),
				named("padded", f32(1, 3, 5, 2)), named("y", f32(1, 3, 5, 4)),
			}, inputs: []int32{0}, outputs: []int32{3}, ops: []tmOp{
				{code: bPad, in: []int32{0, 1}, out: []int32{2}},
				{code: bConcat, in: []int32{2, 2}, out: []int32{3}, optType: 10, opts: []tmField{{0, int32(3)}}},
			}}
			var want []float32
			for h := 0; h < 3; h++ {
				for w := 0; w < 5; w++ {
					for c := 0; c < 4; c++ {
						v := float32(0)
						if h >= 1 && w < 3 {
							v = x.at(0, h-1, w, c%2)
						}
						want = append(want, v)
					}
				}
			}
			return m, x, want
		}},
		{"transpose", func() (*tmModel, nhwc, []float32) {
			x := randTensor(rng, 1, 2, 3, 4)
			perm := named("perm", withData(tmTensor{shape: []int32{4}, typ: tInt32}, i32bytes(0, 3, 1, 2)))
			m := reluFirst(tmOp{code: bTranspose, in: []int32{0, 1}, out: []int32{2}},
				named("r", f32(1, 2, 3, 4)), perm, named("y", f32(1, 4, 2, 3)))
			var want []float32
			for c := 0; c < 4; c++ {
				for h := 0; h < 2; h++ {
					for w := 0; w < 3; w++ {
						want = append(want, max(x.at(0, h, w, c), 0))
					}
				}
			}
			return m, x, want
		}},
		{"add per-channel constant", func() (*tmModel, nhwc, []float32) {
			x := randTensor(rng, 1, 2, 2, 3)
			m := oneOp(tmOp{code: bAdd, in: []int32{0, 1}, out: []int32{2}},
				named("x", f32(1, 2, 2, 3)), named("c", withData(f32(3), f32bytes(10, 20, 30))), named("y", f32(1, 2, 2, 3)))
			want := make([]float32, len(x.data))
			for i, v := range x.data {
				want[i] = v + float32(10*(i%3+1))
			}
			return m, x, want
		}},
		{"reshape to 4-D then softmax", func() (*tmModel, nhwc, []float32) {
			x := randTensor(rng, 2, 12)
			m := &tmModel{tensors: []tmTensor{named("x", f32(2, 12)), named("r", f32(1, 2, 3, 4)), named("y", f32(1, 2, 3, 4))},
				inputs: []int32{0}, outputs: []int32{2}, ops: []tmOp{
					{code: bReshape, in: []int32{0}, out: []int32{1}, optType: 17, opts: []tmField{{0, []int32{1, 2, 3, 4}}}},
					{code: bSoftmax, in: []int32{1}, out: []int32{2}, optType: 9, opts: []tmField{{0, float32(1)}}},
				}}
			var want []float32
			for r := 0; r < 6; r++ {
				row := x.data[4*r : 4*r+4]
				var s float64
				for _, v := range row {
					s += math.Exp(float64(v))
				}
				for _, v := range row {
					want = append(want, float32(math.Exp(float64(v))/s))
				}
			}
			return m, x, want
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, x, want := tc.build()
			got := runFloat(t, m, x)
			assert.InDeltaSlice(t, want, got, 1e-4)
		})
	}
}

// refModel interprets a float TFLite model of CONV_2D, DEPTHWISE_CONV_2D,
// ADD, AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED and SOFTMAX directly on
// NHWC data, as TFLite defines them: an oracle for the translated graph.
func refModel(t *testing.T, data []byte, input []float32) []float32 {
	t.Helper()
	m, err := decodeModel(data)
	require.NoError(t, err)
	sg := &m.main
	vals := map[int32]nhwc{}
	get := func(i int32) nhwc {
		if v, ok := vals[i]; ok {
			return v
		}
		td := &sg.tensors[i]
		shape, err := fileShape(td.shape)
		require.NoError(t, err)
		raw, err := m.buffer(td.buffer)
		require.NoError(t, err)
		require.NotEmpty(t, raw, "tensor %q has no value", td.name)
		return nhwc{shape, typedTensor(ir.Float32, shape, raw, false).F32}
	}
	inShape, _ := fileShape(sg.tensors[sg.inputs[0]].shape)
	vals[sg.inputs[0]] = nhwc{inShape, input}
	inf := float32(math.Inf(1))
	clamp := func(act uint8) (float32, float32) {
		switch act {
		case 1:
			return 0, inf
		case 3:
			return 0, 6
		}
		require.Zero(t, act, "activation")
		return -inf, inf
	}
	for _, op := range sg.operators {
		o := op.options
		u8 := func(id int) uint8 { v, err := o.u8(id, "", 0); require.NoError(t, err); return v }
		i32 := func(id int) int { v, err := o.i32(id, "", 0); require.NoError(t, err); return int(v) }
		outShape, _ := fileShape(sg.tensors[op.outputs[0]].shape)
		var out nhwc
		switch code := m.opcodes[op.opcode].builtin; code {
		case opConv2D, opDepthwiseConv2D:
			act, mult := 3, 0
			if code == opDepthwiseConv2D {
				act, mult = 4, outShape[3]/get(op.inputs[0]).shape[3]
			}
			lo, hi := clamp(u8(act))
			var bias []float32
			if len(op.inputs) > 2 && op.inputs[2] >= 0 {
				bias = get(op.inputs[2]).data
			}
			out = refWindow(get(op.inputs[0]), get(op.inputs[1]), bias, i32(2), i32(1), u8(0) == 0, mult, lo, hi)
		case opAveragePool2D:
			x := get(op.inputs[0])
			require.Equal(t, uint8(1), u8(0), "VALID pooling only")
			kh, kw, sh, sw := i32(4), i32(3), i32(2), i32(1)
			out = nhwc{outShape, nil}
			for y := 0; y < outShape[1]; y++ {
				for xx := 0; xx < outShape[2]; xx++ {
					for c := 0; c < outShape[3]; c++ {
						var s float32
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								s += x.at(0, y*sh+i, xx*sw+j, c)
							}
						}
						out.data = append(out.data, s/float32(kh*kw))
					}
				}
			}
		case opAdd:
			a, b := get(op.inputs[0]), get(op.inputs[1])
			lo, hi := clamp(u8(0))
			out = nhwc{outShape, make([]float32, len(a.data))}
			for i := range a.data {
				out.data[i] = min(max(a.data[i]+b.data[i], lo), hi)
			}
		case opReshape:
			out = nhwc{outShape, get(op.inputs[0]).data}
		case opFullyConnected:
			x, w := get(op.inputs[0]), get(op.inputs[1])
			lo, hi := clamp(u8(0))
			k := w.shape[1]
			out = nhwc{outShape, nil}
			for r := 0; r < len(x.data)/k; r++ {
				for n := 0; n < w.shape[0]; n++ {
					var s float32
					if len(op.inputs) > 2 && op.inputs[2] >= 0 {
						s = get(op.inputs[2]).data[n]
					}
					for j := 0; j < k; j++ {
						s += x.data[r*k+j] * w.data[n*k+j]
					}
					out.data = append(out.data, min(max(s, lo), hi))
				}
			}
		case opSoftmax:
			x := get(op.inputs[0])
			var sum float64
			for _, v := range x.data {
				sum += math.Exp(float64(v))
			}
			out = nhwc{outShape, nil}
			for _, v := range x.data {
				out.data = append(out.data, float32(math.Exp(float64(v))/sum))
			}
		default:
			t.Fatalf("reference has no %s", builtinName(code))
		}
		require.Equal(t, outShape, out.shape, "%s output", builtinName(m.opcodes[op.opcode].builtin))
		vals[op.outputs[0]] = out
	}
	return vals[sg.outputs[0]].data
}

// explicitClamps moves the fused-activation clamp of nodes other than
// Conv, Gemm and MatMul into a Clip after them: for now the runtime
// applies ir.AttrClampMin/Max only on those three and ignores them on Add
// (pretrainedResnet's residual ADDs have a fused RELU).
func explicitClamps(g *ir.Graph) {
	for _, n := range slices.Clone(g.Nodes) {
		if !n.Has(ir.AttrClampMin) || n.Op == "Conv" || n.Op == "Gemm" || n.Op == "MatMul" {
			continue
		}
		lo, hi := n.Float(ir.AttrClampMin, 0), n.Float(ir.AttrClampMax, 0)
		delete(n.Attrs, ir.AttrClampMin)
		delete(n.Attrs, ir.AttrClampMax)
		out, pre := n.Outputs[0], n.Outputs[0]+"/unclamped"
		n.Outputs[0] = pre
		vi := *g.ValueInfo[out]
		vi.Name = pre
		g.ValueInfo[pre] = &vi
		g.Initializers[pre+"/lo"] = scalarF32(lo)
		g.Initializers[pre+"/hi"] = scalarF32(hi)
		g.Nodes = append(g.Nodes, &ir.Node{Name: pre + "/clip", Op: "Clip", Inputs: []string{pre, pre + "/lo", pre + "/hi"}, Outputs: []string{out}})
	}
}

// TestRuntimeMatchesReference runs the float shared models on the runtime
// and on refModel with the same random input.
func TestRuntimeMatchesReference(t *testing.T) {
	dir := shared.Path(t, "models/tflite")
	rng := rand.New(rand.NewPCG(3, 5))
	for name, scale := range map[string]float32{"vww_96_float.tflite": 1, "pretrainedResnet.tflite": 255} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			g, err := Parse(data)
			require.NoError(t, err)
			explicitClamps(g)
			rt, err := runtime.New(g, runtime.Options{Threads: 1})
			require.NoError(t, err)
			defer rt.Close()
			in := rt.Input(0)
			x := make([]float32, len(in))
			for i := range x {
				x[i] = rng.Float32() * scale
			}
			copy(in, x)
			require.NoError(t, rt.Run())
			want := refModel(t, data, x)
			assert.InDeltaSlice(t, want, rt.Output(0), 1e-4)
			t.Logf("runtime %v, reference %v", rt.Output(0), want)
		})
	}
}
