package runtime

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/asm"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

func init() {
	lowerers["Gemm"] = lowerGemm
	lowerers["MatMul"] = lowerMatMul
	lowerers["Softmax"] = lowerSoftmax
	lowerers["LogSoftmax"] = lowerSoftmax
	lowerers["ReduceMean"] = lowerReduce
	lowerers["ReduceSum"] = lowerReduce
	lowerers["ReduceMax"] = lowerReduce
}

// densePlain returns v as a contiguous row-major tensor.
func (l *lowering) densePlain(v *value) *value {
	v = l.toLayout(v, plain)
	if !v.contiguous() {
		v = l.copyValue(v, plain)
	}
	return v
}

// transposed2D returns a new constant or a copy step holding vᵀ.
func (l *lowering) transposed2D(v *value) *value {
	shape := []int{v.shape[1], v.shape[0]}
	src := []int{v.strides[1], v.strides[0]}
	if v.konst != nil {
		t := &ir.Tensor{DType: ir.Float32, Shape: shape, F32: make([]float32, v.numel())}
		stridedCopy(t.F32, plainStrides(shape), v.konst.F32, src, shape)
		c := l.newValue(v.name+"/T", ir.Float32, shape, plain)
		c.konst = t
		return c
	}
	c := l.newValue(v.name+"/T", ir.Float32, shape, plain)
	copyStep(l, "Transpose", c, 0, c.strides, v, 0, src, shape)
	return c
}

// addDense adds out = a·b (+ bias[n]) with b constant [K][N] (or [N][K]
// when transB), packed once; the work is split over column blocks.
func (l *lowering) addDense(op string, a *value, m, k int, b []float32, n int, transB bool, bias []float32, clamp asm.Clamp, out *value) {
	g := &asm.Gemm{M: m, N: n, K: k, Clamp: clamp}
	packed := g.PackF32(b, transB)
	l.needScratch(g.ScratchF32())
	cb := g.ColumnBlock()
	// Items of at least ~64K multiply-adds, in whole column blocks.
	perItem := max(1, (1<<16)/max(1, m*k*cb)) * cb
	items := (n + perItem - 1) / perItem
	l.addStep(&step{op: op, inputs: []*value{a}, outputs: []*value{out}, macs: int64(m) * int64(n) * int64(k),
		run: l.parallel(items, func(worker, i int) {
			n0 := i * perItem
			g.RunF32(a.f32, k, packed, bias, out.f32, n, l.m.scratch[worker], n0, min(n0+perItem, n))
		})})
}

func lowerGemm(l *lowering, n *ir.Node) error {
	a := l.densePlain(l.in(0))
	if n.Int("transA", 0) != 0 {
		a = l.transposed2D(a)
	}
	b := l.in(1)
	transB := n.Int("transB", 0) != 0
	alpha, beta := n.Float("alpha", 1), n.Float("beta", 1)
	m, k := a.shape[0], a.shape[1]
	nn := b.shape[1]
	if transB {
		nn = b.shape[0]
	}
	out := l.out(0, plain)
	clamp := clampAttr(n)
	var bias []float32
	var general *value // a C that is not a per-column bias
	if c := l.in(2); c != nil {
		switch {
		case c.konst != nil && (equalShape(c.shape, []int{nn}) || equalShape(c.shape, []int{1, nn})):
			bias = make([]float32, nn)
			for i, v := range c.konst.F32 {
				bias[i] = beta * v
			}
		case c.konst != nil && c.numel() == 1:
			bias = make([]float32, nn)
			for i := range bias {
				bias[i] = beta * c.konst.F32[0]
			}
		default:
			general = c
		}
	}
	fused := clamp
	if general != nil {
		fused = asm.NoClamp()
	}
	if b.konst == nil {
		if err := l.addNaiveMatMul(a, b, transB, alpha, out); err != nil {
			return err
		}
		if bias != nil {
			general = l.newValue(out.name+"/bias", ir.Float32, []int{nn}, plain)
			general.konst = &ir.Tensor{DType: ir.Float32, Shape: []int{nn}, F32: bias}
		}
	} else {
		w := b.konst.F32
		if alpha != 1 {
			scaled := make([]float32, len(w))
			for i, v := range w {
				scaled[i] = alpha * v
			}
			w = scaled
		}
		l.addDense("Gemm", a, m, k, w, nn, transB, bias, fused, out)
	}
	if general != nil {
		if beta != 1 && general.konst != nil {
			t := &ir.Tensor{DType: ir.Float32, Shape: general.shape, F32: make([]float32, general.numel())}
			for i, v := range general.konst.F32 {
				t.F32[i] = beta * v
			}
			general = l.newValue(general.name+"/beta", ir.Float32, general.shape, plain)
			general.konst = t
		}
		p := newBroadcastPlan(out, out, general)
		add := binaryKernels["Add"]
		if beta != 1 && general.konst == nil {
			add = func(dst, a, b []float32, n, sa, sb int) {
				for i := range dst[:n] {
					dst[i] = a[i*sa] + beta*b[i*sb]
				}
			}
		}
		g := general
		l.addStep(&step{op: "Gemm(C)", inputs: []*value{out, g}, outputs: []*value{out}, run: l.parallel(p.items(), func(_, item int) {
			p.run(add, out.f32, out.f32, g.f32, item)
		})})
		if clamp != asm.NoClamp() {
			lo, hi := clamp.Min, clamp.Max
			l.addStep(&step{op: "Clip", inputs: []*value{out}, outputs: []*value{out}, run: func() {
				for i, v := range out.f32 {
					out.f32[i] = min(max(v, lo), hi)
				}
			}})
		}
	}
	return nil
}

// addNaiveMatMul multiplies two runtime 2-D matrices (rare in CNNs).
func (l *lowering) addNaiveMatMul(a, b *value, transB bool, alpha float32, out *value) error {
	b = l.densePlain(b)
	m, k := a.shape[0], a.shape[1]
	n := out.shape[1]
	bs0, bs1 := n, 1 // B[k][n]
	if transB {
		bs0, bs1 = 1, k
	}
	l.addStep(&step{op: "MatMul", inputs: []*value{a, b}, outputs: []*value{out}, macs: int64(m * n * k), run: func() {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float32
				for t := 0; t < k; t++ {
					s += a.f32[i*k+t] * b.f32[t*bs0+j*bs1]
				}
				out.f32[i*n+j] = alpha * s
			}
		}
	}})
	return nil
}

func lowerMatMul(l *lowering, n *ir.Node) error {
	a := l.densePlain(l.in(0))
	b := l.in(1)
	out := l.out(0, plain)
	if b.konst != nil && len(b.shape) == 2 && len(a.shape) >= 2 {
		k := a.shape[len(a.shape)-1]
		l.addDense("MatMul", a, a.numel()/k, k, b.konst.F32, b.shape[1], false, nil, clampAttr(n), out)
		return nil
	}
	b = l.densePlain(b)
	// General batched matmul with numpy broadcasting over batch dims.
	as, bs := a.shape, b.shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k, nn := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	batch := out.numel() / max(1, m*nn)
	r := max(len(as), len(bs)) - 2
	outBatch := make([]int, r)
	for i := range outBatch {
		outBatch[i] = max(dimAt(as, len(as)-3-i), dimAt(bs, len(bs)-3-i))
	}
	// Batch offsets are computed at prepare time.
	aOff, bOff := make([]int, batch), make([]int, batch)
	for t := 0; t < batch; t++ {
		rem := t
		ao, bo := 0, 0
		astr, bstr := m*k, k*nn
		for i := 0; i < r; i++ {
			d := outBatch[i]
			idx := rem % d
			rem /= d
			if dimAt(as, len(as)-3-i) != 1 {
				ao += idx * astr
			}
			if dimAt(bs, len(bs)-3-i) != 1 {
				bo += idx * bstr
			}
			astr *= dimAt(as, len(as)-3-i)
			bstr *= dimAt(bs, len(bs)-3-i)
		}
		aOff[t], bOff[t] = ao, bo
	}
	l.addStep(&step{op: "MatMul", inputs: []*value{a, b}, outputs: []*value{out}, macs: int64(batch * m * nn * k), run: func() {
		for t := 0; t < batch; t++ {
			av, bv, ov := a.f32[aOff[t]:], b.f32[bOff[t]:], out.f32[t*m*nn:]
			for i := 0; i < m; i++ {
				for j := 0; j < nn; j++ {
					var s float32
					for q := 0; q < k; q++ {
						s += av[i*k+q] * bv[q*nn+j]
					}
					ov[i*nn+j] = s
				}
			}
		}
	}})
	return nil
}

// dimAt returns shape[i], or 1 when i is out of range (broadcasting).
func dimAt(shape []int, i int) int {
	if i < 0 || i >= len(shape) {
		return 1
	}
	return shape[i]
}

// lowerSoftmax: opset < 13 normalises over the flattened dims from axis on
// (default axis 1); opset ≥ 13 over the single dim axis (default −1).
func lowerSoftmax(l *lowering, n *ir.Node) error {
	x := l.densePlain(l.in(0))
	out := l.out(0, plain)
	rank := len(x.shape)
	var outer, dim, inner int
	if l.g.Opset != 0 && l.g.Opset < 13 {
		axis := int(n.Int("axis", 1))
		if axis < 0 {
			axis += rank
		}
		outer, dim, inner = ir.NumElements(x.shape[:axis]), ir.NumElements(x.shape[axis:]), 1
	} else {
		axis := int(n.Int("axis", -1))
		if axis < 0 {
			axis += rank
		}
		if axis < 0 || axis >= rank {
			return fmt.Errorf("axis %d out of range", n.Int("axis", -1))
		}
		outer, dim, inner = ir.NumElements(x.shape[:axis]), x.shape[axis], ir.NumElements(x.shape[axis+1:])
	}
	logOut := n.Op == "LogSoftmax"
	l.addStep(&step{op: n.Op, inputs: []*value{x}, outputs: []*value{out}, run: func() {
		softmax(out.f32, x.f32, outer, dim, inner, logOut)
	}})
	return nil
}

func softmax(dst, src []float32, outer, dim, inner int, logOut bool) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			mx := float32(math.Inf(-1))
			for d := 0; d < dim; d++ {
				mx = max(mx, src[base+d*inner])
			}
			var sum float64
			for d := 0; d < dim; d++ {
				e := math.Exp(float64(src[base+d*inner] - mx))
				sum += e
				if !logOut {
					dst[base+d*inner] = float32(e)
				}
			}
			if logOut {
				ls := math.Log(sum)
				for d := 0; d < dim; d++ {
					dst[base+d*inner] = float32(float64(src[base+d*inner]-mx) - ls)
				}
				continue
			}
			inv := 1 / sum
			for d := 0; d < dim; d++ {
				dst[base+d*inner] = float32(float64(dst[base+d*inner]) * inv)
			}
		}
	}
}

// lowerReduce: a mean over the spatial dims of a channels-last tensor is a
// global average pool; everything else runs from prepare-time offset
// tables in logical order.
func lowerReduce(l *lowering, n *ir.Node) error {
	x := l.in(0)
	if x.dtype != ir.Float32 {
		return fmt.Errorf("%s input is unsupported by the float engine", x.dtype)
	}
	var axesT *ir.Tensor
	if n.Input(1) != "" {
		axesT = l.g.Initializers[n.Input(1)]
	}
	red, err := passes.ReduceAxes(n, len(x.shape), axesT)
	if err != nil {
		return err
	}
	var outShape, redShape, outStr, redStr []int
	for d, r := range red {
		if r {
			redShape = append(redShape, x.shape[d])
			redStr = append(redStr, x.strides[d])
		} else {
			outShape = append(outShape, x.shape[d])
			outStr = append(outStr, x.strides[d])
		}
	}
	out := l.out(0, plain)
	base := offsets(outShape, outStr)
	inner := offsets(redShape, redStr)
	op := n.Op
	cnt := float32(len(inner))
	l.addStep(&step{op: op, inputs: []*value{x}, outputs: []*value{out}, run: func() {
		src := x.f32
		for i, b := range base {
			var acc float32
			if op == "ReduceMax" {
				acc = float32(math.Inf(-1))
			}
			for _, o := range inner {
				v := src[b+o]
				if op == "ReduceMax" {
					acc = max(acc, v)
				} else {
					acc += v
				}
			}
			if op == "ReduceMean" {
				acc /= cnt
			}
			out.f32[i] = acc
		}
	}})
	return nil
}

// offsets lists the element offsets of every index of shape, row-major.
func offsets(shape, strides []int) []int {
	out := []int{}
	forEach(shape, func(ix []int) {
		o := 0
		for d, v := range ix {
			o += v * strides[d]
		}
		out = append(out, o)
	})
	if len(shape) == 0 {
		out = []int{0}
	}
	return out
}
