package tflite

// Operators that move data or depend on the layout: CONCATENATION,
// RESHAPE, SQUEEZE, TRANSPOSE, PAD, PADV2, MEAN.

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// normAxis resolves a possibly negative axis of a rank-r tensor.
func normAxis(a int64, r int) (int, bool) {
	if a < 0 {
		a += int64(r)
	}
	return int(a), a >= 0 && a < int64(r)
}

// concatOp translates CONCATENATION; a 4-D axis moves with the layout
// (3 → 1).
func concatOp(x *opCtx) error {
	if len(x.def.inputs) == 0 {
		return x.errorf("no inputs")
	}
	if err := x.arity(len(x.def.inputs), len(x.def.inputs), 1); err != nil {
		return err
	}
	out, err := x.info(x.out(0))
	if err != nil {
		return err
	}
	// ConcatenationOptions: axis, fused_activation_function.
	opts, ok, err := x.options(optConcatenation)
	if err != nil {
		return err
	}
	var axis32 int32
	var act uint8
	if ok {
		var err1 error
		axis32, err = opts.i32(0, "axis", 0)
		act, err1 = opts.u8(1, "fused_activation_function", 0)
		if err := errors.Join(err, err1); err != nil {
			return x.wrap(err)
		}
	}
	r := len(out.shape)
	axis, valid := normAxis(int64(axis32), r)
	if !valid {
		return x.errorf("axis %d out of range for output shape %v", axis32, out.shape)
	}
	if perm := layoutPerm(r); perm != nil {
		axis = permuteAxis(axis, perm)
	}
	inputs := make([]string, len(x.def.inputs))
	for i := range inputs {
		ti, err := x.info(x.in(i))
		if err != nil {
			return err
		}
		if len(ti.shape) != r {
			return x.errorf("input %d shape %v and output shape %v differ in rank", i, ti.shape, out.shape)
		}
		if inputs[i], err = x.operand(x.in(i)); err != nil {
			return err
		}
	}
	outName, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	n := x.c.addNode("Concat", x.nodeName(), inputs, outName)
	n.SetInt("axis", int64(axis))
	return x.fusedActivation(n, act)
}

// resolveShape resolves a TFLite reshape target (one -1 inferred) for n
// elements.
func resolveShape(spec []int64, n int) ([]int, error) {
	out := make([]int, len(spec))
	infer, known := -1, 1
	for i, s := range spec {
		switch {
		case s == -1 && infer < 0:
			infer = i
			continue
		case s < 0 || s > maxElements:
			return nil, fmt.Errorf("invalid dim %d in shape %v", s, spec)
		}
		out[i] = int(s)
		if s > 0 && known > maxElements/out[i] {
			return nil, fmt.Errorf("shape %v is too large", spec)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("cannot reshape %d elements to %v", n, spec)
		}
		out[infer] = n / known
	} else if known != n {
		return nil, fmt.Errorf("cannot reshape %d elements to %v", n, spec)
	}
	return out, nil
}

// reshapeOp translates RESHAPE. Reshape works on the memory order, so the
// input is taken in the file's layout (a Transpose to NHWC for a 4-D
// input) and a 4-D result is made NCHW again.
func reshapeOp(x *opCtx) error {
	if err := x.arity(1, 2, 1); err != nil {
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
	// The shape operand wins over ReshapeOptions.new_shape, as in TFLite;
	// without either the output tensor's static shape is the target.
	var spec []int64
	if si := x.in(1); si >= 0 {
		if ti, err := x.info(si); err != nil {
			return err
		} else if ti.data != nil && len(ti.shape) == 1 {
			if spec, err = x.constInts(si, "shape"); err != nil {
				return err
			}
		}
	}
	if spec == nil {
		opts, ok, err := x.options(optReshape)
		if err != nil {
			return err
		}
		if ok {
			v, err := opts.vector(0, 4, "new_shape")
			if err != nil {
				return x.wrap(err)
			}
			if v.n > 0 {
				for _, d := range v.i32s() {
					spec = append(spec, int64(d))
				}
			}
		}
	}
	if spec == nil {
		spec = ints64(out.shape)
	}
	shape, err := resolveShape(spec, ir.NumElements(in.shape))
	if err != nil {
		return x.wrap(err)
	}
	if !slices.Equal(shape, out.shape) {
		return x.errorf("target shape %v disagrees with output shape %v", shape, out.shape)
	}
	src, err := x.fileLayout(x.in(0))
	if err != nil {
		return err
	}
	dst, finish, err := x.resultName(x.out(0), out.shape)
	if err != nil {
		return err
	}
	n := x.c.reshape(src, dst, x.nodeName(), spec, slices.Clone(out.shape))
	if slices.Contains(spec, 0) {
		n.SetInt("allowzero", 1) // a TFLite 0 is a literal zero, not "copy"
	}
	finish()
	return nil
}

// squeezeOp translates SQUEEZE on the file layout.
func squeezeOp(x *opCtx) error {
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
	opts, ok, err := x.options(optSqueeze)
	if err != nil {
		return err
	}
	var dims []int32
	if ok {
		v, err := opts.vector(0, 4, "squeeze_dims")
		if err != nil {
			return x.wrap(err)
		}
		dims = v.i32s()
	}
	r := len(in.shape)
	drop := make([]bool, r)
	var axes []int64
	for _, d := range dims {
		a, valid := normAxis(int64(d), r)
		if !valid || in.shape[a] != 1 {
			return x.errorf("cannot squeeze dim %d of shape %v", d, in.shape)
		}
		if !drop[a] {
			drop[a] = true
			axes = append(axes, int64(a))
		}
	}
	want := []int{}
	for a, d := range in.shape {
		if !drop[a] && (len(axes) > 0 || d != 1) {
			want = append(want, d)
		}
	}
	if !slices.Equal(want, out.shape) {
		return x.errorf("output shape %v, want %v", out.shape, want)
	}
	src, err := x.fileLayout(x.in(0))
	if err != nil {
		return err
	}
	dst, finish, err := x.resultName(x.out(0), out.shape)
	if err != nil {
		return err
	}
	inputs := []string{src}
	if len(axes) > 0 {
		slices.Sort(axes)
		inputs = append(inputs, x.c.addInit(x.nodeName()+"/axes", int64s(axes)))
	}
	x.c.addNode("Squeeze", x.nodeName(), inputs, dst)
	finish()
	return nil
}

// transposeOp translates TRANSPOSE into one IR Transpose: the file
// permutation composed with the layout permutations of input and output.
func transposeOp(x *opCtx) error {
	if err := x.arity(2, 2, 1); err != nil {
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
	p64, err := x.constInts(x.in(1), "perm")
	if err != nil {
		return err
	}
	r := len(in.shape)
	if len(p64) != r || len(out.shape) != r {
		return x.errorf("perm %v for input %v and output %v", p64, in.shape, out.shape)
	}
	p := make([]int, r)
	seen := make([]bool, r)
	for i, v := range p64 {
		a, valid := normAxis(v, r)
		if !valid || seen[a] {
			return x.errorf("perm %v is not a permutation of %d dims", p64, r)
		}
		seen[a], p[i] = true, a
	}
	if want := permuteShape(in.shape, p); !slices.Equal(want, out.shape) {
		return x.errorf("output shape %v, want %v", out.shape, want)
	}
	// out_ir[k] = out_file[Q[k]] = in_file[p[Q[k]]] = in_ir[P⁻¹[p[Q[k]]]].
	inv := make([]int, r)
	for i := range inv {
		inv[i] = i
	}
	if P := layoutPerm(r); P != nil {
		for k, f := range P {
			inv[f] = k
		}
	}
	Q := layoutPerm(r)
	perm := make([]int, r)
	for k := range perm {
		q := k
		if Q != nil {
			q = Q[k]
		}
		perm[k] = inv[p[q]]
	}
	src, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	dst, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	x.c.addNode("Transpose", x.nodeName(), []string{src}, dst).SetInts("perm", ints64(perm)...)
	return nil
}

// padOp translates PAD and PADV2: paddings [[before, after] per dim] are
// reordered into the IR's [begins..., ends...] over the IR layout. A
// quantised tensor is padded with its zero point (real 0), as TFLite does.
func padOp(x *opCtx) error {
	maxIn := 2
	if x.code == opPadV2 {
		maxIn = 3
	}
	if err := x.arity(2, maxIn, 1); err != nil {
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
	p, err := x.constInts(x.in(1), "paddings")
	if err != nil {
		return err
	}
	r := len(in.shape)
	if len(p) != 2*r || len(out.shape) != r {
		return x.errorf("%d paddings for input %v and output %v", len(p), in.shape, out.shape)
	}
	for d := 0; d < r; d++ {
		if p[2*d] < 0 || p[2*d+1] < 0 || p[2*d] > maxElements || p[2*d+1] > maxElements ||
			int64(in.shape[d])+p[2*d]+p[2*d+1] != int64(out.shape[d]) {
			return x.errorf("paddings %v do not take input %v to output %v", p, in.shape, out.shape)
		}
	}
	perm := layoutPerm(r)
	pads := make([]int64, 2*r)
	for k := 0; k < r; k++ {
		f := k
		if perm != nil {
			f = perm[k]
		}
		pads[k], pads[k+r] = p[2*f], p[2*f+1]
	}
	src, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	inputs := []string{src, x.c.addInit(x.nodeName()+"/pads", int64s(pads))}
	if vi := x.in(2); vi >= 0 {
		v, err := x.info(vi)
		if err != nil {
			return err
		}
		if v.data == nil {
			return x.unsupported("constant_values not constant")
		}
		if ir.NumElements(v.shape) != 1 || v.dt != in.dt {
			return x.errorf("constant_values %s %v, want one %s", v.dt, v.shape, in.dt)
		}
		t := typedTensor(v.dt, []int{}, v.data, false)
		t.Quant = cloneQuant(v.quant)
		inputs = append(inputs, x.c.addInit(x.nodeName()+"/value", t))
	} else if q := out.quant; q != nil && in.dt != ir.Float32 && q.ZeroPoint[0] != 0 {
		inputs = append(inputs, x.c.addInit(x.nodeName()+"/value", quantInts(in.dt, q.ZeroPoint[:1], true)))
	}
	dst, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	x.c.addNode("Pad", x.nodeName(), inputs, dst).SetString("mode", "constant")
	return nil
}

// meanOp translates MEAN to ReduceMean with the axes moved to the IR
// layout. Without keep_dims, the dims that remain of a 4-D input come out
// in NCHW order; a Transpose restores the file's order where that differs.
func meanOp(x *opCtx) error {
	if err := x.arity(2, 2, 1); err != nil {
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
	a64, err := x.constInts(x.in(1), "axis")
	if err != nil {
		return err
	}
	opts, ok, err := x.options(optReducer)
	if err != nil {
		return err
	}
	var keep bool
	if ok {
		if keep, err = opts.boolean(0, "keep_dims", false); err != nil {
			return x.wrap(err)
		}
	}
	r := len(in.shape)
	reduced := make([]bool, r)
	for _, a := range a64 {
		ax, valid := normAxis(a, r)
		if !valid {
			return x.errorf("axis %d out of range for input %v", a, in.shape)
		}
		reduced[ax] = true
	}
	want := []int{}
	for d, n := range in.shape {
		switch {
		case !reduced[d]:
			want = append(want, n)
		case keep:
			want = append(want, 1)
		}
	}
	if !slices.Equal(want, out.shape) {
		return x.errorf("output shape %v, want %v", out.shape, want)
	}
	perm := layoutPerm(r)
	fileDim := func(k int) int {
		if perm != nil {
			return perm[k]
		}
		return k
	}
	var axes []int64
	var kept []int // file dims that remain, in IR order
	for k := 0; k < r; k++ {
		if reduced[fileDim(k)] {
			axes = append(axes, int64(k))
		} else {
			kept = append(kept, fileDim(k))
		}
	}
	src, err := x.operand(x.in(0))
	if err != nil {
		return err
	}
	dst, err := x.value(x.out(0))
	if err != nil {
		return err
	}
	target := dst
	var order []int // Transpose from IR-order remains to file order
	if !keep && len(axes) > 0 && !slices.IsSorted(kept) {
		order = make([]int, len(kept))
		for j := range order {
			order[j] = j
		}
		slices.SortFunc(order, func(a, b int) int { return kept[a] - kept[b] })
		target = x.aux("reduced")
		shape := make([]int, len(kept))
		for j, f := range kept {
			shape[j] = in.shape[f]
		}
		x.c.setInfo(target, out.dt, shape, cloneQuant(perTensor(out.quant)))
	}
	n := x.c.addNode("ReduceMean", x.nodeName(), []string{src}, target)
	if len(axes) > 0 {
		n.SetInts("axes", axes...)
	} else {
		// TFLite's MEAN over no axes is the identity.
		n.SetInt("noop_with_empty_axes", 1)
	}
	if keep || len(axes) == 0 {
		n.SetInt("keepdims", 1)
	} else {
		n.SetInt("keepdims", 0)
	}
	if order != nil {
		x.c.transpose(target, dst, x.aux("to_file_order"), order)
	}
	return nil
}
