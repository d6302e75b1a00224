package runtime

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/asm"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

func init() {
	lowerers["Conv"] = lowerConv
	lowerers["MaxPool"] = lowerPool
	lowerers["AveragePool"] = lowerPool
	lowerers["GlobalAveragePool"] = lowerGlobalPool
	lowerers["GlobalMaxPool"] = lowerGlobalPool
	lowerers["BatchNormalization"] = lowerBatchNorm
	lowerers["LRN"] = lowerLRN
}

// geom2d is a node's spatial geometry with 1-D ops expressed as H = 1.
type geom2d struct {
	n, c, h, w        int
	oh, ow            int
	kh, kw            int
	sh, sw, dh, dw    int
	pt, pl, pb, pr    int
	inBatch, outBatch int
}

func spatialGeom(n *ir.Node, x, out *value) (geom2d, error) {
	g := geom2d{n: x.shape[0], c: x.shape[1]}
	pads, st, dil, ks := n.Ints("pads"), n.Ints("strides"), n.Ints("dilations"), n.Ints("kernel_shape")
	switch len(x.shape) {
	case 4:
		g.h, g.w, g.oh, g.ow = x.shape[2], x.shape[3], out.shape[2], out.shape[3]
		g.kh, g.kw, g.sh, g.sw, g.dh, g.dw = int(ks[0]), int(ks[1]), int(st[0]), int(st[1]), int(dil[0]), int(dil[1])
		g.pt, g.pl, g.pb, g.pr = int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])
	case 3:
		g.h, g.w, g.oh, g.ow = 1, x.shape[2], 1, out.shape[2]
		g.kh, g.kw, g.sh, g.sw, g.dh, g.dw = 1, int(ks[0]), 1, int(st[0]), 1, int(dil[0])
		g.pl, g.pr = int(pads[0]), int(pads[1])
	default:
		return g, fmt.Errorf("rank-%d input is unsupported", len(x.shape))
	}
	g.inBatch, g.outBatch = x.strides[0], out.strides[0]
	return g, nil
}

func clampAttr(n *ir.Node) asm.Clamp {
	c := asm.NoClamp()
	if n.Has(passes.AttrClampMin) {
		c.Min = n.Float(passes.AttrClampMin, c.Min)
		c.Max = n.Float(passes.AttrClampMax, c.Max)
	}
	return c
}

// constF32 returns input i as constant float32 data, or an error naming it.
func (l *lowering) constF32(i int, what string) ([]float32, error) {
	v := l.in(i)
	if v == nil {
		return nil, nil
	}
	if v.konst == nil || v.dtype != ir.Float32 {
		return nil, fmt.Errorf("%s %q must be a float32 constant (runtime %s is unsupported)", what, v.name, what)
	}
	return v.konst.F32, nil
}

// contiguousChannelsLast returns v as a dense channels-last tensor.
func (l *lowering) contiguousChannelsLast(v *value) *value {
	v = l.toLayout(v, channelsLast)
	if !v.contiguous() {
		v = l.copyValue(v, channelsLast)
	}
	return v
}

func lowerConv(l *lowering, n *ir.Node) error {
	x := l.contiguousChannelsLast(l.in(0))
	if x.dtype != ir.Float32 {
		return fmt.Errorf("%s input is unsupported by the float engine", x.dtype)
	}
	w, err := l.constF32(1, "weight")
	if err != nil {
		return err
	}
	bias, err := l.constF32(2, "bias")
	if err != nil {
		return err
	}
	out := l.out(0, channelsLast)
	g, err := spatialGeom(n, x, out)
	if err != nil {
		return err
	}
	wshape := l.in(1).shape
	oc, group := wshape[0], int(n.Int("group", 1))
	clamp := clampAttr(n)
	pixStride := out.strides[len(out.strides)-1]
	if len(out.shape) == 3 {
		pixStride = out.strides[2]
	}
	s := &step{op: "Conv", inputs: []*value{x}, outputs: []*value{out},
		macs: int64(g.n) * int64(g.oh*g.ow) * int64(oc) * int64(g.c/group) * int64(g.kh*g.kw)}
	if group == g.c && group > 1 && wshape[1] == 1 {
		dw := &asm.DepthwiseConv2D{InH: g.h, InW: g.w, C: g.c, Mult: oc / g.c, OutH: g.oh, OutW: g.ow,
			KH: g.kh, KW: g.kw, StrideH: g.sh, StrideW: g.sw, DilH: g.dh, DilW: g.dw, PadT: g.pt, PadL: g.pl,
			OutStride: pixStride, Clamp: clamp}
		packed := dw.PackF32(w)
		s.op = "DepthwiseConv"
		rows := dwRowChunk(g.ow*oc*g.kh*g.kw, g.oh)
		chunks := (g.oh + rows - 1) / rows
		s.run = l.parallel(g.n*chunks, func(_, i int) {
			b, r0 := i/chunks, (i%chunks)*rows
			dw.RunF32(x.f32[b*g.inBatch:], packed, bias, out.f32[b*g.outBatch:], r0, min(r0+rows, g.oh))
		})
	} else {
		cv := &asm.Conv2D{InH: g.h, InW: g.w, InC: g.c, OutH: g.oh, OutW: g.ow, OutC: oc,
			KH: g.kh, KW: g.kw, StrideH: g.sh, StrideW: g.sw, DilH: g.dh, DilW: g.dw, PadT: g.pt, PadL: g.pl,
			Groups: group, OutStride: pixStride, Clamp: clamp}
		packed := cv.PackF32(w)
		bias := cv.PackBiasF32(bias)
		l.needScratch(cv.ScratchF32())
		tile := cv.TilePixels()
		pixels := g.oh * g.ow
		tiles := (pixels + tile - 1) / tile
		// Work items: pixel tiles, each split into column ranges when the
		// image is small (cols > 1 only on amd64's avx2 path).
		cols := cv.ColumnBlocks()
		scratch := l.m
		f := &convFusion{step: s, out: out}
		s.run = l.parallel(g.n*tiles*cols, func(worker, i int) {
			b, t, col := i/(tiles*cols), i/cols%tiles, i%cols
			p0 := t * tile
			p1 := min(p0+tile, pixels)
			j0, j1 := cv.ColumnRange(col)
			dst := out.f32
			if f.dst != nil {
				// Fused: the convolution's output has no other reader, so
				// the tile goes straight into the Add's output (live
				// beside res in this step, so never res's memory) and the
				// Add runs there in place, while the tile is in cache.
				dst = f.dst.f32
			}
			cv.RunF32Cols(x.f32[b*g.inBatch:], packed, bias, dst[b*g.outBatch:], scratch.scratch[worker], p0, p1, j0, j1)
			if f.dst == nil {
				return
			}
			o0, o1 := b*g.outBatch+p0*oc, b*g.outBatch+p1*oc
			if cols == 1 {
				asm.AddClampF32(dst[o0:o1], dst[o0:o1], f.res.f32[o0:o1], f.clamp)
				return
			}
			for o := o0; o < o1; o += oc {
				asm.AddClampF32(dst[o+j0:o+j1], dst[o+j0:o+j1], f.res.f32[o+j0:o+j1], f.clamp)
			}
		})
		if out.parent == nil && pixStride == oc {
			l.lastConv = f
		}
	}
	l.addStep(s)
	return nil
}

// convFusion is a float Conv step that a following Add may join: when the
// conv's output has no other reader and the Add's other operand (res) is a
// same-shape dense channels-last value computed before the conv step, the
// Add runs inside the conv step, on each tile's output right after the
// GEMM (asm.AddClampF32, its fused Relu/Clip included), instead of as a
// step of its own that streams three whole tensors through memory. The
// GEMM writes the tile straight into the Add's output and the sum is taken
// there in place, so the conv's own output buffer is never touched. The
// sum is the same float addition as the Add's, so results are identical.
type convFusion struct {
	step     *step
	out      *value // the conv's output
	res, dst *value // the Add's other operand and its output
	clamp    asm.Clamp
}

// fuseConvAdd lowers n into the conv step just added, if n is a two-operand
// float Add that the step's convFusion can take, and reports whether it did.
func (l *lowering) fuseConvAdd(n *ir.Node) bool {
	f := l.lastConv
	if n.Op != "Add" || len(n.Inputs) != 2 || len(n.Outputs) != 1 || f == nil || f.dst != nil ||
		len(l.m.steps) == 0 || l.m.steps[len(l.m.steps)-1] != f.step || n.Inputs[0] == n.Inputs[1] {
		return false
	}
	ci := -1
	for i, name := range n.Inputs {
		if name == f.out.name {
			ci = i
		}
	}
	if ci < 0 || l.readers[f.out.name] != 1 {
		return false
	}
	res := l.in(1 - ci)
	info := l.g.ValueInfo[n.Outputs[0]]
	if res == nil || res.konst != nil || res.dtype != ir.Float32 || res.layout != channelsLast ||
		!equalShape(res.shape, f.out.shape) || !equalShape(res.strides, f.out.strides) || !res.contiguous() ||
		info == nil || info.DType != ir.Float32 || !equalShape(info.Shape, f.out.shape) {
		return false
	}
	if _, ok := l.views[n.Outputs[0]]; ok {
		return false // the sum is a strided channel slice of a concat
	}
	dst := l.out(0, channelsLast)
	f.res, f.dst, f.clamp = res, dst, clampAttr(n)
	f.step.inputs = append(f.step.inputs, res)
	f.step.outputs = append(f.step.outputs, dst)
	f.step.op = "Conv+Add"
	return true
}

// dwRowChunk is rowChunk for the float depthwise convolution, with items
// eight times the work: every RunF32 call sets up each 8-channel block
// (weights, runs; ≈ 30 instructions per block on arm64), which one-row
// items (every MobileNet layer's with the plain target) pay once per row.
// Items stay at 2–4 rows there, enough to balance.
func dwRowChunk(workPerRow, rows int) int { return rowChunk(workPerRow/8, rows) }

// rowChunk picks how many output rows one work item covers so items are
// big enough to amortise dispatch (~16K multiply-adds) yet numerous enough
// to balance. It depends only on the shape, never on the thread count.
func rowChunk(workPerRow, rows int) int {
	const target = 1 << 14
	r := max(1, target/max(workPerRow, 1))
	return min(r, max(rows, 1))
}

func lowerPool(l *lowering, n *ir.Node) error {
	x := l.contiguousChannelsLast(l.in(0))
	if x.dtype != ir.Float32 {
		return fmt.Errorf("%s input is unsupported by the float engine", x.dtype)
	}
	out := l.out(0, channelsLast)
	g, err := spatialGeom(n, x, out)
	if err != nil {
		return err
	}
	pixStride := out.strides[len(out.strides)-1]
	p := &asm.Pool2D{InH: g.h, InW: g.w, C: g.c, OutH: g.oh, OutW: g.ow, KH: g.kh, KW: g.kw,
		StrideH: g.sh, StrideW: g.sw, DilH: g.dh, DilW: g.dw, PadT: g.pt, PadL: g.pl, PadB: g.pb, PadR: g.pr,
		CountIncludePad: n.Int("count_include_pad", 0) != 0, OutStride: pixStride}
	rows := rowChunk(g.ow*g.c*g.kh*g.kw, g.oh)
	chunks := (g.oh + rows - 1) / rows
	kernel := p.AvgF32
	if n.Op == "MaxPool" {
		kernel = p.MaxF32
	}
	l.addStep(&step{op: n.Op, inputs: []*value{x}, outputs: []*value{out}, run: l.parallel(g.n*chunks, func(_, i int) {
		b, r0 := i/chunks, (i%chunks)*rows
		kernel(x.f32[b*g.inBatch:], out.f32[b*g.outBatch:], r0, min(r0+rows, g.oh))
	})})
	l.applyClamp(n, out)
	return nil
}

func lowerGlobalPool(l *lowering, n *ir.Node) error {
	x := l.contiguousChannelsLast(l.in(0))
	if x.dtype != ir.Float32 {
		return fmt.Errorf("%s input is unsupported by the float engine", x.dtype)
	}
	out := l.out(0, channelsLast)
	nb, c := x.shape[0], x.shape[1]
	hw := ir.NumElements(x.shape[2:])
	kernel := asm.GlobalAvgPoolF32
	if n.Op == "GlobalMaxPool" {
		kernel = asm.GlobalMaxPoolF32
	}
	const cb = 64
	chunks := (c + cb - 1) / cb
	l.addStep(&step{op: n.Op, inputs: []*value{x}, outputs: []*value{out}, run: l.parallel(nb*chunks, func(_, i int) {
		b, c0 := i/chunks, (i%chunks)*cb
		kernel(x.f32[b*hw*c:(b+1)*hw*c], hw, c, out.f32[b*c:(b+1)*c], c0, min(c0+cb, c))
	})})
	l.applyClamp(n, out)
	return nil
}

// lowerBatchNorm handles the BatchNormalizations that could not be folded
// into a conv (after a Concat or Add): a per-channel affine transform.
func lowerBatchNorm(l *lowering, n *ir.Node) error {
	if n.Int("training_mode", 0) != 0 {
		return &passes.Unsupported{Op: "BatchNormalization(training_mode=1)", Node: n.Name, Opset: l.g.Opset}
	}
	x := l.in(0)
	if len(x.shape) >= 3 {
		x = l.contiguousChannelsLast(x)
	}
	var p [4][]float32
	for i, what := range []string{"scale", "bias", "mean", "var"} {
		d, err := l.constF32(i+1, what)
		if err != nil {
			return err
		}
		p[i] = d
	}
	c := x.shape[1]
	scale, shift := make([]float32, c), make([]float32, c)
	eps := float64(n.Float("epsilon", 1e-5))
	for i := 0; i < c; i++ {
		s := float64(p[0][i]) / math.Sqrt(float64(p[3][i])+eps)
		scale[i] = float32(s)
		shift[i] = float32(float64(p[1][i]) - float64(p[2][i])*s)
	}
	out := l.out(0, x.layout)
	l.addChannelAffine(n.Op, x, out, scale, shift)
	return nil
}

// addChannelAffine adds a step computing out = x·scale[c] + shift[c] on a
// channels-last (or [N, C]) tensor.
func (l *lowering) addChannelAffine(op string, x, out *value, scale, shift []float32) {
	c := len(scale)
	total := x.numel()
	chunk := max(c, (1<<14)/c*c)
	chunks := (total + chunk - 1) / chunk
	l.addStep(&step{op: op, inputs: []*value{x}, outputs: []*value{out}, run: l.parallel(chunks, func(_, i int) {
		a, b := i*chunk, min((i+1)*chunk, total)
		src, dst := x.f32[a:b], out.f32[a:b]
		for p := 0; p < len(src); p += c {
			s, d := src[p:p+c], dst[p:p+c]
			for j := range s {
				d[j] = s[j]*scale[j] + shift[j]
			}
		}
	})})
}

// lowerLRN implements ONNX LRN across channels on a channels-last tensor:
// y = x / (bias + alpha/size · Σ x²)^beta over the window
// [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉].
func lowerLRN(l *lowering, n *ir.Node) error {
	x := l.contiguousChannelsLast(l.in(0))
	out := l.out(0, channelsLast)
	size := int(n.Int("size", 0))
	if size <= 0 {
		return fmt.Errorf("size must be positive")
	}
	alpha := float64(n.Float("alpha", 1e-4)) / float64(size)
	beta := float64(n.Float("beta", 0.75))
	bias := float64(n.Float("bias", 1))
	c := x.shape[1]
	pixels := x.numel() / c
	lo, hi := (size-1)/2, size-1-(size-1)/2
	rows := rowChunk(c*size, pixels)
	chunks := (pixels + rows - 1) / rows
	l.addStep(&step{op: "LRN", inputs: []*value{x}, outputs: []*value{out}, run: l.parallel(chunks, func(_, i int) {
		for p := i * rows; p < min((i+1)*rows, pixels); p++ {
			src, dst := x.f32[p*c:(p+1)*c], out.f32[p*c:(p+1)*c]
			for ch := range src {
				var sum float64
				for k := max(0, ch-lo); k <= min(c-1, ch+hi); k++ {
					sum += float64(src[k]) * float64(src[k])
				}
				dst[ch] = float32(float64(src[ch]) / math.Pow(bias+alpha*sum, beta))
			}
		}
	})})
	return nil
}
