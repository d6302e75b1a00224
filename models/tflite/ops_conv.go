package tflite

// Windowed and dense operators: CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D,
// MAX_POOL_2D, FULLY_CONNECTED.

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// maxStride bounds strides and dilations so output-size arithmetic on
// shapes of up to 2^40 elements cannot overflow.
const maxStride = 1 << 20

// windowPads computes one spatial dim of a windowed op the TFLite way:
// output size and the explicit pads [before, after].
func windowPads(in, k, stride, dil int, padding uint8) (out, before, after int, err error) {
	if stride <= 0 || stride > maxStride || dil <= 0 || dil > maxStride || k <= 0 {
		return 0, 0, 0, fmt.Errorf("kernel %d, stride %d, dilation %d are invalid", k, stride, dil)
	}
	eff := (k-1)*dil + 1
	switch padding {
	case 0: // SAME
		out = (in + stride - 1) / stride
	case 1: // VALID
		out = (in - eff + stride) / stride
	default:
		return 0, 0, 0, fmt.Errorf("padding %d is neither SAME nor VALID", padding)
	}
	if out <= 0 || in <= 0 {
		return 0, 0, 0, fmt.Errorf("window %d (stride %d) does not fit input size %d", eff, stride, in)
	}
	if padding == 0 {
		total := max((out-1)*stride+eff-in, 0)
		before = total / 2
		after = total - before
	}
	return out, before, after, nil
}

// windowAttrs reads padding, strides and dilations shared by conv and pool
// options and sets the IR attributes; k is [KH, KW].
func (x *opCtx) windowAttrs(n *ir.Node, in, out []int, k [2]int, padding uint8, stride, dil [2]int32) error {
	var pads [4]int
	var sz [2]int
	for d := 0; d < 2; d++ {
		o, b, a, err := windowPads(in[1+d], k[d], int(stride[d]), int(dil[d]), padding)
		if err != nil {
			return x.errorf("%s: %v", [2]string{"height", "width"}[d], err)
		}
		sz[d], pads[d], pads[d+2] = o, b, a
	}
	if out[1] != sz[0] || out[2] != sz[1] {
		return x.errorf("output shape %v, want spatial size %dx%d for input %v", out, sz[0], sz[1], in)
	}
	n.SetInts("kernel_shape", int64(k[0]), int64(k[1]))
	n.SetInts("strides", int64(stride[0]), int64(stride[1]))
	n.SetInts("pads", ints64(pads[:])...)
	return nil
}

// convOp translates CONV_2D and DEPTHWISE_CONV_2D to Conv.
func convOp(x *opCtx, depthwise bool) error {
	if err := x.arity(2, 3, 1); err != nil {
		return err
	}
	xi, wi, bi, oi := x.in(0), x.in(1), x.in(2), x.out(0)
	in, err := x.rank4(xi, "input")
	if err != nil {
		return err
	}
	w, err := x.rank4(wi, "filter")
	if err != nil {
		return err
	}
	out, err := x.rank4(oi, "output")
	if err != nil {
		return err
	}
	// Conv2DOptions: padding, stride_w, stride_h, fused_activation_function,
	// dilation_w_factor, dilation_h_factor. DepthwiseConv2DOptions has
	// depth_multiplier (ignored, as TFLite does) before the activation.
	want, actID, dilID := uint8(optConv2D), 3, 4
	if depthwise {
		want, actID, dilID = optDepthwiseConv, 4, 5
	}
	opts, ok, err := x.options(want)
	if err != nil {
		return err
	}
	if !ok {
		return x.errorf("missing builtin_options")
	}
	padding, err := opts.u8(0, "padding", 0)
	sw, err1 := opts.i32(1, "stride_w", 0)
	sh, err2 := opts.i32(2, "stride_h", 0)
	act, err3 := opts.u8(actID, "fused_activation_function", 0)
	dw, err4 := opts.i32(dilID, "dilation_w_factor", 1)
	dh, err5 := opts.i32(dilID+1, "dilation_h_factor", 1)
	if err := errors.Join(err, err1, err2, err3, err4, err5); err != nil {
		return x.wrap(err)
	}
	cin := in.shape[3]
	var cout, group int
	if depthwise {
		cout, group = w.shape[3], cin
		if w.shape[0] != 1 || cin == 0 || cout%cin != 0 {
			return x.errorf("filter %v does not fit %d input channels", w.shape, cin)
		}
	} else {
		cout = w.shape[0]
		if w.shape[3] == 0 || cin%w.shape[3] != 0 {
			return x.errorf("filter %v does not fit %d input channels", w.shape, cin)
		}
		group = cin / w.shape[3]
	}
	if out.shape[0] != in.shape[0] || out.shape[3] != cout {
		return x.errorf("output shape %v does not match input %v and filter %v", out.shape, in.shape, w.shape)
	}
	xName, err := x.operand(xi)
	if err != nil {
		return err
	}
	var wName string
	switch {
	case w.data != nil && depthwise:
		wName, err = x.c.constant(wi, roleDWFilter)
	case w.data != nil:
		wName, err = x.c.constant(wi, roleData) // NCHW of [O,KH,KW,I] is [O,I,KH,KW]
	default:
		wName, err = x.c.value(wi)
		if err == nil && depthwise {
			// The activation layout of [1,KH,KW,C·M] is [1,C·M,KH,KW].
			v := x.aux("filter")
			x.c.transpose(wName, v, v, []int{1, 0, 2, 3})
			wName = v
		}
	}
	if err != nil {
		return x.wrap(err)
	}
	inputs := []string{xName, wName}
	if bi >= 0 {
		b, err := x.bias(bi, xi, wi, cout)
		if err != nil {
			return err
		}
		inputs = append(inputs, b)
	}
	outName, err := x.value(oi)
	if err != nil {
		return err
	}
	n := x.c.addNode("Conv", x.nodeName(), inputs, outName)
	if err := x.windowAttrs(n, in.shape, out.shape, [2]int{w.shape[1], w.shape[2]}, padding, [2]int32{sh, sw}, [2]int32{dh, dw}); err != nil {
		return err
	}
	n.SetInts("dilations", int64(dh), int64(dw))
	n.SetInt("group", int64(group))
	return x.fusedActivation(n, act)
}

// bias returns the IR name of a conv or fully-connected bias (1-D, file
// layout). A quantised int32 bias without quantisation parameters gets
// the implied ones: scale s_in·s_w (per output channel), zero point 0.
func (x *opCtx) bias(bi, xi, wi, n int) (string, error) {
	b, err := x.info(bi)
	if err != nil {
		return "", err
	}
	if len(b.shape) != 1 || b.shape[0] != n {
		return "", x.errorf("bias shape %v, want [%d]", b.shape, n)
	}
	if b.data == nil {
		return x.value(bi)
	}
	name, err := x.c.constant(bi, rolePlain)
	if err != nil {
		return "", x.wrap(err)
	}
	t := x.c.g.Initializers[name]
	if t.DType != ir.Int32 || t.Quant != nil {
		return name, nil
	}
	in, err1 := x.info(xi)
	w, err2 := x.info(wi)
	if err := errors.Join(err1, err2); err != nil {
		return "", err
	}
	if in.quant == nil || w.quant == nil || in.quant.PerChannel() || (w.quant.PerChannel() && len(w.quant.Scale) != n) {
		return name, nil
	}
	q := &ir.Quant{Scale: make([]float32, len(w.quant.Scale)), ZeroPoint: make([]int32, len(w.quant.Scale))}
	for i, s := range w.quant.Scale {
		q.Scale[i] = in.quant.Scale[0] * s
	}
	t.Quant = q
	x.c.g.ValueInfo[name].Quant = cloneQuant(q)
	return name, nil
}

// poolOp translates AVERAGE_POOL_2D and MAX_POOL_2D.
func poolOp(x *opCtx, op string) error {
	if err := x.arity(1, 1, 1); err != nil {
		return err
	}
	in, err := x.rank4(x.in(0), "input")
	if err != nil {
		return err
	}
	out, err := x.rank4(x.out(0), "output")
	if err != nil {
		return err
	}
	if out.shape[0] != in.shape[0] || out.shape[3] != in.shape[3] {
		return x.errorf("output shape %v does not match input %v", out.shape, in.shape)
	}
	// Pool2DOptions: padding, stride_w, stride_h, filter_width,
	// filter_height, fused_activation_function.
	opts, ok, err := x.options(optPool2D)
	if err != nil {
		return err
	}
	if !ok {
		return x.errorf("missing builtin_options")
	}
	padding, err := opts.u8(0, "padding", 0)
	sw, err1 := opts.i32(1, "stride_w", 0)
	sh, err2 := opts.i32(2, "stride_h", 0)
	fw, err3 := opts.i32(3, "filter_width", 0)
	fh, err4 := opts.i32(4, "filter_height", 0)
	act, err5 := opts.u8(5, "fused_activation_function", 0)
	if err := errors.Join(err, err1, err2, err3, err4, err5); err != nil {
		return x.wrap(err)
	}
	xName, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	outName, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	n := x.c.addNode(op, x.nodeName(), []string{xName}, outName)
	if err := x.windowAttrs(n, in.shape, out.shape, [2]int{int(fh), int(fw)}, padding, [2]int32{sh, sw}, [2]int32{1, 1}); err != nil {
		return err
	}
	if op == "AveragePool" {
		// TFLite divides by the number of input elements in the window.
		n.SetInt("count_include_pad", 0)
	}
	return x.fusedActivation(n, act)
}

// fullyConnectedOp translates FULLY_CONNECTED to Gemm(x, W, b) with
// transB=1, flattening the input to [batch, K] first as TFLite does.
func fullyConnectedOp(x *opCtx) error {
	if err := x.arity(2, 3, 1); err != nil {
		return err
	}
	xi, wi, bi, oi := x.in(0), x.in(1), x.in(2), x.out(0)
	in, err := x.info(xi)
	if err != nil {
		return err
	}
	w, err := x.info(wi)
	if err != nil {
		return err
	}
	out, err := x.info(oi)
	if err != nil {
		return err
	}
	// FullyConnectedOptions: fused_activation_function, weights_format,
	// keep_num_dims.
	opts, ok, err := x.options(optFullyConn)
	if err != nil {
		return err
	}
	var act, format uint8
	if ok {
		var err1 error
		act, err = opts.u8(0, "fused_activation_function", 0)
		format, err1 = opts.u8(1, "weights_format", 0)
		if err := errors.Join(err, err1); err != nil {
			return x.wrap(err)
		}
	}
	if format != 0 {
		return x.unsupported(fmt.Sprintf("weights_format %d", format))
	}
	if len(w.shape) != 2 || w.shape[1] == 0 {
		return x.errorf("weights shape %v is not [N, K]", w.shape)
	}
	nOut, k := w.shape[0], w.shape[1]
	total := ir.NumElements(in.shape)
	if total%k != 0 {
		return x.errorf("input shape %v does not flatten to rows of %d", in.shape, k)
	}
	batch := total / k
	if nOut > 0 && batch > maxElements/nOut || ir.NumElements(out.shape) != batch*nOut {
		return x.errorf("output shape %v, want %d elements", out.shape, batch*nOut)
	}
	var a string
	if len(in.shape) == 2 && in.shape[1] == k {
		a, err = x.operand(xi)
	} else {
		var src string
		if src, err = x.fileLayout(xi); err == nil {
			a = x.aux("flatten")
			x.c.reshape(src, a, a, []int64{-1, int64(k)}, []int{batch, k})
		}
	}
	if err != nil {
		return err
	}
	var wName string
	if w.data != nil {
		wName, err = x.c.constant(wi, rolePlain)
	} else {
		wName, err = x.c.value(wi)
	}
	if err != nil {
		return x.wrap(err)
	}
	inputs := []string{a, wName}
	if bi >= 0 {
		b, err := x.bias(bi, xi, wi, nOut)
		if err != nil {
			return err
		}
		inputs = append(inputs, b)
	}
	// keep_num_dims keeps the input's leading dims: the [batch, N] result
	// is reshaped to the output's shape.
	outName, err := x.value(oi)
	if err != nil {
		return err
	}
	target := outName
	direct := slices.Equal(out.shape, []int{batch, nOut})
	if !direct {
		target = x.aux("gemm")
		x.c.setInfo(target, out.dt, []int{batch, nOut}, cloneQuant(perTensor(out.quant)))
	}
	n := x.c.addNode("Gemm", x.nodeName(), inputs, target)
	n.SetInt("transB", 1)
	if err := x.fusedActivation(n, act); err != nil {
		return err
	}
	if !direct {
		dst, finish, err := x.resultName(oi, out.shape)
		if err != nil {
			return err
		}
		x.c.reshape(target, dst, x.aux("reshape"), ints64(out.shape), slices.Clone(out.shape))
		finish()
	}
	return nil
}
