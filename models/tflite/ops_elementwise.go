package tflite

// Elementwise operators: ADD, MUL, SUB, DIV, SOFTMAX, activations,
// QUANTIZE, DEQUANTIZE.

import (
	"fmt"
	"slices"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// binaryOp translates ADD, MUL, SUB and DIV; their options tables all
// start with fused_activation_function.
func binaryOp(x *opCtx, op string, optType uint8) error {
	if err := x.arity(2, 2, 1); err != nil {
		return err
	}
	out, err := x.info(x.out(0))
	if err != nil {
		return err
	}
	var act uint8
	opts, ok, err := x.options(optType)
	if err != nil {
		return err
	}
	if ok {
		if act, err = opts.u8(0, "fused_activation_function", 0); err != nil {
			return x.wrap(err)
		}
	}
	inputs := make([]string, 2)
	for i := range inputs {
		if inputs[i], err = x.broadcastOperand(x.in(i), len(out.shape)); err != nil {
			return err
		}
	}
	outName, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	n := x.c.addNode(op, x.nodeName(), inputs, outName)
	return x.fusedActivation(n, act)
}

// broadcastOperand returns operand idx of an elementwise op whose result
// has rank outRank. TFLite broadcasts NHWC shapes right-aligned, so an
// operand of lower rank than a 4-D result is padded to rank 4 with leading
// 1s and made NCHW, to broadcast the same way in the IR.
func (x *opCtx) broadcastOperand(idx, outRank int) (string, error) {
	ti, err := x.info(idx)
	if err != nil {
		return "", err
	}
	r := len(ti.shape)
	if outRank != 4 || r == 4 || r == 0 {
		return x.operand(idx)
	}
	if r > 4 {
		return "", x.errorf("operand shape %v has more dims than the 4-D result", ti.shape)
	}
	if ti.data != nil {
		s, err := x.c.constant(idx, roleBroadcast4)
		if err != nil {
			return "", x.wrap(err)
		}
		return s, nil
	}
	src, err := x.value(idx)
	if err != nil {
		return "", err
	}
	shape4 := append(slices.Repeat([]int{1}, 4-r), ti.shape...)
	v4 := x.c.fresh(x.c.base[idx] + "/4d")
	x.c.reshape(src, v4, v4, ints64(shape4), shape4)
	v := x.c.fresh(x.c.base[idx] + "/4d_nchw")
	x.c.transpose(v4, v, v, toNCHW)
	return v, nil
}

// softmaxOp translates SOFTMAX over the last file dim (the channels, IR
// axis 1, of a 4-D tensor).
func softmaxOp(x *opCtx) error {
	if err := x.arity(1, 1, 1); err != nil {
		return err
	}
	in, err := x.info(x.in(0))
	if err != nil {
		return err
	}
	opts, ok, err := x.options(optSoftmax)
	if err != nil {
		return err
	}
	beta := float32(1)
	if ok {
		if beta, err = opts.f32(0, "beta", 0); err != nil {
			return x.wrap(err)
		}
	}
	if beta != 1 {
		return x.unsupported(fmt.Sprintf("beta %g", beta))
	}
	if len(in.shape) == 0 {
		return x.errorf("input is a scalar")
	}
	axis := int64(-1)
	if len(in.shape) == 4 {
		axis = 1
	}
	src, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	dst, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	x.c.addNode("Softmax", x.nodeName(), []string{src}, dst).SetInt("axis", axis)
	return nil
}

// unaryOp translates a layout-independent elementwise operator.
func unaryOp(x *opCtx, op string) error {
	if err := x.arity(1, 1, 1); err != nil {
		return err
	}
	src, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	dst, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	x.c.addNode(op, x.nodeName(), []string{src}, dst)
	return nil
}

// clipOp translates RELU6 and RELU_N1_TO_1 to Clip with scalar float
// bounds (real values, also for quantised tensors).
func clipOp(x *opCtx, lo, hi float32) error {
	if err := x.arity(1, 1, 1); err != nil {
		return err
	}
	src, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	dst, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	minName := x.c.addInit(x.nodeName()+"/min", scalarF32(lo))
	maxName := x.c.addInit(x.nodeName()+"/max", scalarF32(hi))
	x.c.addNode("Clip", x.nodeName(), []string{src, minName, maxName}, dst)
	return nil
}

func leakyReluOp(x *opCtx) error {
	if err := x.arity(1, 1, 1); err != nil {
		return err
	}
	opts, ok, err := x.options(optLeakyRelu)
	if err != nil {
		return err
	}
	var alpha float32
	if ok {
		if alpha, err = opts.f32(0, "alpha", 0); err != nil {
			return x.wrap(err)
		}
	}
	if err := unaryOp(x, "LeakyRelu"); err != nil {
		return err
	}
	x.c.g.Nodes[len(x.c.g.Nodes)-1].SetFloat("alpha", alpha)
	return nil
}

// qdqInputs adds the scale and zero-point initializers of q for a
// QuantizeLinear or DequantizeLinear of a dt tensor, setting the axis of a
// per-channel q on n.
func (x *opCtx) qdqInputs(n *ir.Node, q *ir.Quant, dt ir.DType, prefix string) {
	scalar := !q.PerChannel()
	scale := &ir.Tensor{DType: ir.Float32, Shape: []int{len(q.Scale)}, F32: slices.Clone(q.Scale)}
	if scalar {
		scale.Shape = []int{}
	}
	n.Inputs = append(n.Inputs,
		x.c.addInit(x.nodeName()+"/"+prefix+"scale", scale),
		x.c.addInit(x.nodeName()+"/"+prefix+"zero_point", quantInts(dt, q.ZeroPoint, scalar)))
	if !scalar {
		n.SetInt("axis", int64(q.Axis))
	}
}

// quantizeOp translates QUANTIZE: QuantizeLinear from float, or a
// DequantizeLinear/QuantizeLinear pair when requantising between two
// quantised types or scales.
func quantizeOp(x *opCtx) error {
	if err := x.arity(1, 1, 1); err != nil {
		return err
	}
	in, err := x.info(x.in(0))
	if err != nil {
		return err
	}
	out, err := x.info(x.out(0))
	if err != nil {
		return err
	}
	if out.quant == nil || out.dt == ir.Float32 {
		return x.errorf("output tensor is not quantised")
	}
	src, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	if in.dt != ir.Float32 {
		if in.quant == nil {
			return x.errorf("%s input tensor has no quantization", in.dt)
		}
		f := x.aux("dequantized")
		x.c.setInfo(f, ir.Float32, permuteShape(in.shape, layoutPerm(len(in.shape))), nil)
		dq := x.c.addNode("DequantizeLinear", x.aux("dequantize"), []string{src})
		dq.Outputs = []string{f}
		x.qdqInputs(dq, in.quant, in.dt, "in_")
		src = f
	}
	dst, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	n := x.c.addNode("QuantizeLinear", x.nodeName(), []string{src}, dst)
	x.qdqInputs(n, out.quant, out.dt, "")
	return nil
}

// dequantizeOp translates DEQUANTIZE to DequantizeLinear.
func dequantizeOp(x *opCtx) error {
	if err := x.arity(1, 1, 1); err != nil {
		return err
	}
	in, err := x.info(x.in(0))
	if err != nil {
		return err
	}
	if in.quant == nil || in.dt == ir.Float32 {
		return x.errorf("input tensor is not quantised")
	}
	src, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	dst, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	n := x.c.addNode("DequantizeLinear", x.nodeName(), []string{src}, dst)
	x.qdqInputs(n, in.quant, in.dt, "")
	return nil
}
