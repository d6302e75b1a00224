package tflite

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// opCtx is one operator being translated.
type opCtx struct {
	c     *converter
	index int
	def   *operatorDef
	code  int32
	name  string // BuiltinOperator name
}

// opFunc translates one builtin operator.
type opFunc func(x *opCtx) error

// builtinOps maps the builtin operators the reader translates to their
// translation; everything else is unsupported.
var builtinOps map[int32]opFunc

func init() {
	builtinOps = map[int32]opFunc{
		opConv2D:          func(x *opCtx) error { return convOp(x, false) },
		opDepthwiseConv2D: func(x *opCtx) error { return convOp(x, true) },
		opFullyConnected:  fullyConnectedOp,
		opAveragePool2D:   func(x *opCtx) error { return poolOp(x, "AveragePool") },
		opMaxPool2D:       func(x *opCtx) error { return poolOp(x, "MaxPool") },
		opMean:            meanOp,
		opAdd:             func(x *opCtx) error { return binaryOp(x, "Add", optAdd) },
		opMul:             func(x *opCtx) error { return binaryOp(x, "Mul", optMul) },
		opSub:             func(x *opCtx) error { return binaryOp(x, "Sub", optSub) },
		opDiv:             func(x *opCtx) error { return binaryOp(x, "Div", optDiv) },
		opConcatenation:   concatOp,
		opReshape:         reshapeOp,
		opSqueeze:         squeezeOp,
		opTranspose:       transposeOp,
		opPad:             padOp,
		opPadV2:           padOp,
		opSoftmax:         softmaxOp,
		opLogistic:        func(x *opCtx) error { return unaryOp(x, "Sigmoid") },
		opTanh:            func(x *opCtx) error { return unaryOp(x, "Tanh") },
		opHardSwish:       func(x *opCtx) error { return unaryOp(x, "HardSwish") },
		opRelu:            func(x *opCtx) error { return unaryOp(x, "Relu") },
		opRelu6:           func(x *opCtx) error { return clipOp(x, 0, 6) },
		opReluN1To1:       func(x *opCtx) error { return clipOp(x, -1, 1) },
		opLeakyRelu:       leakyReluOp,
		opQuantize:        quantizeOp,
		opDequantize:      dequantizeOp,
	}
}

// operator translates operator i of the main subgraph.
func (c *converter) operator(i int) error {
	def := &c.sg.operators[i]
	if int64(def.opcode) >= int64(len(c.m.opcodes)) {
		return fmt.Errorf("operator %d: opcode_index %d out of range (%d operator codes)", i, def.opcode, len(c.m.opcodes))
	}
	x := &opCtx{c: c, index: i, def: def, code: c.m.opcodes[def.opcode].builtin, name: c.opName(def)}
	f, ok := builtinOps[x.code]
	if !ok {
		return fmt.Errorf("operator %d: %w operator %s", i, ErrUnsupported, x.name)
	}
	if len(def.outputs) == 0 {
		return x.errorf("no outputs")
	}
	for slot, t := range def.inputs {
		if t == -1 {
			continue // an absent optional input
		}
		idx, err := c.tensorIndex(t, fmt.Sprintf("input %d", slot))
		if err != nil {
			return x.wrap(err)
		}
		if c.firstUse[idx][0] < 0 {
			c.firstUse[idx] = [2]int{i, slot}
		}
	}
	for slot, t := range def.outputs {
		idx, err := c.tensorIndex(t, fmt.Sprintf("output %d", slot))
		if err != nil {
			return x.wrap(err)
		}
		ti, err := c.info(idx)
		if err != nil {
			return x.wrap(err)
		}
		if ti.data != nil {
			return x.wrap(c.tensorErr(idx, errors.New("operator output has constant data")))
		}
		switch p := c.producer[idx]; p {
		case noProducer:
			c.producer[idx] = i
		case graphInput:
			return x.wrap(c.tensorErr(idx, errors.New("operator writes a graph input")))
		default:
			return x.wrap(c.tensorErr(idx, fmt.Errorf("written by operators %d and %d", p, i)))
		}
	}
	return f(x)
}

func (x *opCtx) errorf(format string, args ...any) error {
	return fmt.Errorf("operator %d (%s): %s", x.index, x.name, fmt.Sprintf(format, args...))
}

func (x *opCtx) wrap(err error) error {
	return fmt.Errorf("operator %d (%s): %w", x.index, x.name, err)
}

// unsupported reports a feature of this operator the IR cannot express.
func (x *opCtx) unsupported(feature string) error {
	return fmt.Errorf("operator %d: %w operator %s (%s)", x.index, ErrUnsupported, x.name, feature)
}

// arity checks the input and output counts; inputs beyond minIn may be
// absent (-1).
func (x *opCtx) arity(minIn, maxIn, outs int) error {
	in := x.def.inputs
	if len(in) < minIn || len(in) > maxIn {
		if minIn == maxIn {
			return x.errorf("%d inputs, want %d", len(in), minIn)
		}
		return x.errorf("%d inputs, want %d to %d", len(in), minIn, maxIn)
	}
	for i := 0; i < minIn; i++ {
		if in[i] < 0 {
			return x.errorf("required input %d is absent", i)
		}
	}
	if len(x.def.outputs) != outs {
		return x.errorf("%d outputs, want %d", len(x.def.outputs), outs)
	}
	return nil
}

// in returns the tensor index of input i, or -1 when absent.
func (x *opCtx) in(i int) int {
	if i < len(x.def.inputs) {
		return int(x.def.inputs[i])
	}
	return -1
}

// out returns the tensor index of output i.
func (x *opCtx) out(i int) int { return int(x.def.outputs[i]) }

// info returns tensor idx's info, its errors naming the operator.
func (x *opCtx) info(idx int) (*tinfo, error) {
	ti, err := x.c.info(idx)
	if err != nil {
		return nil, x.wrap(err)
	}
	return ti, nil
}

// rank4 checks that tensor idx (named role) is 4-D and returns its info.
func (x *opCtx) rank4(idx int, role string) (*tinfo, error) {
	ti, err := x.info(idx)
	if err != nil {
		return nil, err
	}
	if len(ti.shape) != 4 {
		return nil, x.errorf("%s shape %v is not 4-D", role, ti.shape)
	}
	return ti, nil
}

// operand, value and fileLayout wrap the converter's with the operator's
// context.
func (x *opCtx) operand(idx int) (string, error) {
	s, err := x.c.operand(idx)
	if err != nil {
		return "", x.wrap(err)
	}
	return s, nil
}

func (x *opCtx) value(idx int) (string, error) {
	s, err := x.c.value(idx)
	if err != nil {
		return "", x.wrap(err)
	}
	return s, nil
}

func (x *opCtx) fileLayout(idx int) (string, error) {
	s, err := x.c.fileLayout(idx)
	if err != nil {
		return "", x.wrap(err)
	}
	return s, nil
}

// nodeName is the name of the operator's main node: its first output
// tensor's name.
func (x *opCtx) nodeName() string { return x.c.base[x.out(0)] }

// aux returns a fresh name for a helper value or node of this operator.
func (x *opCtx) aux(suffix string) string { return x.c.fresh(x.nodeName() + "/" + suffix) }

// options returns the builtin options table after checking its union
// type; ok is false when the operator has none (defaults apply).
func (x *opCtx) options(want uint8) (table, bool, error) {
	switch x.def.optType {
	case 0:
		return table{}, false, nil
	case want:
		return x.def.options, true, nil
	}
	return table{}, false, x.errorf("builtin_options has union type %d, want %d", x.def.optType, want)
}

// constInts returns the integer data of constant input tensor idx.
func (x *opCtx) constInts(idx int, what string) ([]int64, error) {
	ti, err := x.info(idx)
	if err != nil {
		return nil, err
	}
	if ti.data == nil {
		return nil, x.unsupported(what + " not constant")
	}
	if ti.dt != ir.Int32 && ti.dt != ir.Int64 {
		return nil, x.errorf("%s tensor has type %s, want int32 or int64", what, ti.dt)
	}
	if err := x.c.spend(2 * len(ti.data)); err != nil {
		return nil, x.wrap(x.c.tensorErr(idx, err))
	}
	return typedTensor(ti.dt, ti.shape, ti.data, false).Ints(), nil
}

// resultName returns the value an operator computing output outIdx (of
// file shape shape) in the file's layout must write, and a func to call
// once that node exists: for a rank-4 output the value is a temporary
// NHWC one and finish adds the Transpose to the NCHW output value.
func (x *opCtx) resultName(outIdx int, shape []int) (target string, finish func(), err error) {
	out, err := x.value(outIdx)
	if err != nil {
		return "", nil, err
	}
	if len(shape) != 4 {
		return out, func() {}, nil
	}
	ti := x.c.infos[outIdx]
	tmp := x.aux("nhwc")
	x.c.setInfo(tmp, ti.dt, slices.Clone(shape), cloneQuant(perTensor(ti.quant)))
	return tmp, func() { x.c.transpose(tmp, out, x.aux("to_nchw"), toNCHW) }, nil
}

// perTensor drops a per-channel quantisation (its axis would be wrong in
// another layout); activations are per-tensor in practice.
func perTensor(q *ir.Quant) *ir.Quant {
	if q.PerChannel() {
		return nil
	}
	return q
}

// fusedActivation sets the clamp of a fused activation on n.
func (x *opCtx) fusedActivation(n *ir.Node, act uint8) error {
	var lo, hi float32
	switch act {
	case 0:
		return nil
	case 1:
		lo, hi = 0, float32(math.Inf(1))
	case 2:
		lo, hi = -1, 1
	case 3:
		lo, hi = 0, 6
	case 4:
		return x.unsupported("fused TANH activation")
	case 5:
		return x.unsupported("fused SIGN_BIT activation")
	default:
		return x.errorf("fused_activation_function %d is not a known activation", act)
	}
	n.SetFloat(ir.AttrClampMin, lo)
	n.SetFloat(ir.AttrClampMax, hi)
	return nil
}
