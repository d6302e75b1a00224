package runtime

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

func init() {
	for _, op := range []string{"Flatten", "Reshape", "Squeeze", "Unsqueeze"} {
		lowerers[op] = lowerReshape
	}
	lowerers["Transpose"] = lowerTranspose
	lowerers["Concat"] = lowerConcat
	lowerers["Split"] = lowerSplit
	lowerers["Slice"] = lowerSlice
	lowerers["Pad"] = lowerPad
	lowerers["Gather"] = lowerGather
	lowerers["Cast"] = lowerCast
}

// lowerReshape makes the reshape family free: the output shares the
// input's (row-major) storage.
func lowerReshape(l *lowering, n *ir.Node) error {
	x := l.toLayout(l.in(0), plain)
	if !x.contiguous() {
		x = l.copyValue(x, plain)
	}
	l.outAlias(0, x)
	return nil
}

func lowerCast(l *lowering, n *ir.Node) error {
	x := l.in(0)
	info := l.g.ValueInfo[n.Outputs[0]]
	if info.DType != x.dtype {
		return &passes.Unsupported{Op: fmt.Sprintf("Cast(%s to %s at run time)", x.dtype, info.DType), Node: n.Name, Opset: l.g.Opset}
	}
	return lowerIdentity(l, n)
}

// viewSlice describes part of src as (offset, logical strides).
func copyStep(l *lowering, op string, dst *value, dstOff int, dstStr []int, src *value, srcOff int, srcStr []int, shape []int) {
	p := newCopyPlan(shape, dstStr, srcStr)
	s := &step{op: op, inputs: []*value{src}, outputs: []*value{dst}}
	if dst.dtype == ir.Float32 {
		s.run = func() { p.f32(dst.f32[dstOff:], src.f32[srcOff:]) }
	} else {
		es := dst.dtype.Size()
		s.run = func() { p.bytes(dst.raw[dstOff*es:], src.raw[srcOff*es:], es) }
	}
	l.addStep(s)
}

func lowerTranspose(l *lowering, n *ir.Node) error {
	x := l.in(0)
	perm, err := passes.Perm(n, len(x.shape))
	if err != nil {
		return err
	}
	info := l.g.ValueInfo[n.Outputs[0]]
	srcStr := make([]int, len(perm))
	for i, p := range perm {
		srcStr[i] = x.strides[p]
	}
	// A transpose that only undoes the channels-last layout (NHWC reading
	// of a channels-last tensor, as the TFLite reader emits) is free.
	if x.konst == nil && x.contiguous() {
		// The bytes may already be the output in plain order (NCHW→NHWC of
		// a channels-last tensor), or in channels-last order (NHWC→NCHW
		// of a plain tensor, as a TFLite input): then no copy is needed.
		for _, lay := range []layout{plain, channelsLast} {
			want := plainStrides(info.Shape)
			if lay == channelsLast && len(info.Shape) >= 3 {
				want = channelsLastStrides(info.Shape, info.Shape[1])
			} else if lay == channelsLast {
				continue
			}
			if equalStrides(srcStr, want, info.Shape) {
				out := &value{name: n.Outputs[0], dtype: x.dtype, shape: info.Shape, layout: lay, strides: want, alias: x, quant: x.quant}
				l.m.values = append(l.m.values, out)
				l.vals[out.name] = out
				return nil
			}
		}
	}
	out := l.out(0, plain)
	copyStep(l, "Transpose", out, 0, out.strides, x, 0, srcStr, out.shape)
	return nil
}

// equalStrides compares strides on the dims that are not 1.
func equalStrides(a, b, shape []int) bool {
	for i, d := range shape {
		if d != 1 && a[i] != b[i] {
			return false
		}
	}
	return true
}

func lowerConcat(l *lowering, n *ir.Node) error {
	info := l.g.ValueInfo[n.Outputs[0]]
	rank := len(info.Shape)
	axis := int(n.Int("axis", 0))
	if axis < 0 {
		axis += rank
	}
	out, exists := l.vals[n.Outputs[0]]
	if !exists {
		lay := plain
		for i := range n.Inputs {
			if l.in(i).layout == channelsLast {
				lay = channelsLast
			}
		}
		out = l.out(0, lay)
	}
	off := 0
	for i := range n.Inputs {
		v := l.in(i)
		if v.parent == out {
			off += v.shape[axis]
			continue
		}
		copyStep(l, "Concat", out, off*out.strides[axis], out.strides, v, 0, v.strides, v.shape)
		off += v.shape[axis]
	}
	// A concat written entirely in place still needs a (no-op) step so its
	// inputs stay live until here.
	views := []*value{}
	for i := range n.Inputs {
		if v := l.in(i); v.parent == out {
			views = append(views, v)
		}
	}
	if len(views) > 0 {
		l.addStep(&step{op: "Concat(in place)", inputs: views, outputs: []*value{out}, run: func() {}})
	}
	l.applyClamp(n, out)
	return nil
}

func lowerSplit(l *lowering, n *ir.Node) error {
	x := l.in(0)
	axis := int(n.Int("axis", 0))
	if axis < 0 {
		axis += len(x.shape)
	}
	var splitInput *ir.Tensor
	if n.Input(1) != "" {
		splitInput = l.g.Initializers[n.Input(1)]
	}
	sizes, err := passes.SplitSizes(n, x.shape[axis], splitInput)
	if err != nil {
		return err
	}
	off := 0
	for i, o := range n.Outputs {
		if o == "" {
			off += sizes[i]
			continue
		}
		out := l.out(i, x.layout)
		copyStep(l, "Split", out, 0, out.strides, x, off*x.strides[axis], x.strides, out.shape)
		off += sizes[i]
	}
	return nil
}

func lowerSlice(l *lowering, n *ir.Node) error {
	x := l.in(0)
	starts, ends, axes, steps, err := passes.SliceOperands(n, func(i int) *ir.Tensor { return l.g.Initializers[n.Input(i)] })
	if err != nil {
		return err
	}
	spec, err := passes.ResolveSlice(x.shape, starts, ends, axes, steps)
	if err != nil {
		return err
	}
	out := l.out(0, x.layout)
	srcOff := 0
	srcStr := make([]int, len(x.shape))
	for d := range x.shape {
		srcOff += spec.Start[d] * x.strides[d]
		srcStr[d] = x.strides[d] * spec.Step[d]
	}
	copyStep(l, "Slice", out, 0, out.strides, x, srcOff, srcStr, out.shape)
	return nil
}

// lowerPad builds, at prepare time, the source index of every output
// element (−1 for the constant border), so every mode runs as one gather.
func lowerPad(l *lowering, n *ir.Node) error {
	x := l.in(0)
	if x.dtype != ir.Float32 {
		return fmt.Errorf("%s input is unsupported by the float engine", x.dtype)
	}
	rank := len(x.shape)
	pads, fill, mode, err := passes.PadOperands(n, rank, func(i int) *ir.Tensor { return l.g.Initializers[n.Input(i)] })
	if err != nil {
		return err
	}
	out := l.out(0, x.layout)
	idx, outIdx := padIndex(x, out, pads, mode)
	l.addStep(&step{op: "Pad", inputs: []*value{x}, outputs: []*value{out}, run: func() {
		dst, src := out.f32, x.f32
		for i, s := range idx {
			if s < 0 {
				dst[outIdx[i]] = fill
			} else {
				dst[outIdx[i]] = src[s]
			}
		}
	}})
	return nil
}

// lowerGather handles Gather on runtime data with constant or runtime
// int64 indices.
func lowerGather(l *lowering, n *ir.Node) error {
	x := l.toLayout(l.in(0), plain)
	if !x.contiguous() {
		x = l.copyValue(x, plain)
	}
	ind := l.in(1)
	axis := int(n.Int("axis", 0))
	if axis < 0 {
		axis += len(x.shape)
	}
	out := l.out(0, plain)
	outer := ir.NumElements(x.shape[:axis])
	dim := x.shape[axis]
	inner := ir.NumElements(x.shape[axis+1:])
	es := x.dtype.Size()
	count := ind.numel()
	var constIDs []int64
	if ind.konst != nil {
		constIDs = ind.konst.Ints()
	}
	l.addStep(&step{op: "Gather", inputs: []*value{x, ind}, outputs: []*value{out}, run: func() {
		ids := constIDs
		if ids == nil {
			ids = ind.ints64()
		}
		for o := 0; o < outer; o++ {
			for j := 0; j < count; j++ {
				k := int(ids[j])
				if k < 0 {
					k += dim
				}
				k = min(max(k, 0), dim-1) // out-of-range indices are clamped, never read out of bounds
				dst := ((o*count + j) * inner) * es
				src := ((o*dim + k) * inner) * es
				copy(out.raw[dst:dst+inner*es], x.raw[src:src+inner*es])
			}
		}
	}})
	if ind.konst == nil && ind.dtype != ir.Int64 {
		return &passes.Unsupported{Op: "Gather(" + ind.dtype.String() + " runtime indices)", Node: n.Name, Opset: l.g.Opset}
	}
	return nil
}

// padIndex lists, for every output element of a Pad, its position in out
// and its source position in x (−1 for the constant border).
func padIndex(x, out *value, pads []int, mode string) (idx, outIdx []int32) {
	idx = make([]int32, 0, out.numel())
	outIdx = make([]int32, 0, out.numel())
	forEach(out.shape, func(ix []int) {
		src, o := 0, 0
		inside := true
		for d, v := range ix {
			o += v * out.strides[d]
			s := v - pads[d]
			dim := x.shape[d]
			if s < 0 || s >= dim {
				switch mode {
				case "constant":
					inside = false
				case "edge":
					s = min(max(s, 0), dim-1)
				case "reflect":
					for s < 0 || s >= dim {
						if s < 0 {
							s = -s
						}
						if s >= dim {
							s = 2*(dim-1) - s
						}
					}
				}
			}
			src += s * x.strides[d]
		}
		outIdx = append(outIdx, int32(o))
		if inside {
			idx = append(idx, int32(src))
		} else {
			idx = append(idx, -1)
		}
	})
	return idx, outIdx
}
