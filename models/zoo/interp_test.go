package zoo

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// tval is a dense tensor of the interpreter.
type tval struct {
	shape []int
	v     []float64
}

// run executes g on x with a plain float64 reference interpreter of the ONNX
// ops the zoo emits (batch 1, NCHW). It is slow and simple on purpose: the
// tests use it to check that the graphs compute something sensible — that
// activations stay O(1) through the deepest nets — not to be fast.
// visit, when not nil, sees every node's output.
func run(g *ir.Graph, x []float64, visit func(nd *ir.Node, shape []int, v []float64)) ([]float64, error) {
	vals := map[string]tval{"input": {g.Inputs[0].Shape, x}}
	get := func(name string) tval {
		if v, ok := vals[name]; ok {
			return v
		}
		t := g.Initializers[name]
		f := make([]float64, t.Len())
		for i, e := range t.Floats() {
			f[i] = float64(e)
		}
		return tval{t.Shape, f}
	}
	for _, nd := range g.Nodes {
		in := make([]tval, len(nd.Inputs))
		for i, name := range nd.Inputs {
			in[i] = get(name)
		}
		var out tval
		x := in[0]
		switch nd.Op {
		case "Relu", "Tanh", "Sigmoid", "HardSigmoid", "Clip":
			out = tval{x.shape, make([]float64, len(x.v))}
			for i, a := range x.v {
				switch nd.Op {
				case "Relu":
					a = math.Max(a, 0)
				case "Tanh":
					a = math.Tanh(a)
				case "Sigmoid":
					a = 1 / (1 + math.Exp(-a))
				case "HardSigmoid":
					a = math.Max(0, math.Min(1, float64(nd.Float("alpha", 0.2))*a+float64(nd.Float("beta", 0.5))))
				case "Clip":
					a = math.Max(in[1].v[0], math.Min(in[2].v[0], a))
				}
				out.v[i] = a
			}
		case "Add", "Mul":
			a, b := x, in[1]
			if len(b.v) > len(a.v) {
				a, b = b, a
			}
			out = tval{a.shape, make([]float64, len(a.v))}
			per := len(a.v) / max(1, len(b.v)) // b is a, a scalar or [1,C,1,1]
			for i := range a.v {
				bv := b.v[0]
				switch len(b.v) {
				case len(a.v):
					bv = b.v[i]
				case 1:
				default:
					bv = b.v[i/per]
				}
				if nd.Op == "Add" {
					out.v[i] = a.v[i] + bv
				} else {
					out.v[i] = a.v[i] * bv
				}
			}
		case "BatchNormalization":
			eps := float64(nd.Float("epsilon", 1e-5))
			out = tval{x.shape, make([]float64, len(x.v))}
			hw := x.shape[2] * x.shape[3]
			for c := 0; c < x.shape[1]; c++ {
				k := in[1].v[c] / math.Sqrt(in[4].v[c]+eps)
				for i := c * hw; i < (c+1)*hw; i++ {
					out.v[i] = (x.v[i]-in[3].v[c])*k + in[2].v[c]
				}
			}
		case "Conv":
			out = conv(nd, x.shape, x.v, in[1].shape, in[1].v, in)
		case "MaxPool", "AveragePool":
			out = pool(nd, x.shape, x.v)
		case "GlobalAveragePool":
			c, hw := x.shape[1], x.shape[2]*x.shape[3]
			out = tval{[]int{1, c, 1, 1}, make([]float64, c)}
			for ch := 0; ch < c; ch++ {
				s := 0.0
				for _, a := range x.v[ch*hw : (ch+1)*hw] {
					s += a
				}
				out.v[ch] = s / float64(hw)
			}
		case "Concat":
			shape := append([]int(nil), x.shape...)
			shape[1] = 0
			var v []float64
			for _, p := range in {
				shape[1] += p.shape[1]
				v = append(v, p.v...) // NCHW, batch 1: channel blocks are contiguous
			}
			out = tval{shape, v}
		case "Slice":
			lo, hi := int(get(nd.Inputs[1]).v[0]), int(get(nd.Inputs[2]).v[0])
			hw := x.shape[2] * x.shape[3]
			out = tval{[]int{1, hi - lo, x.shape[2], x.shape[3]}, append([]float64(nil), x.v[lo*hw:hi*hw]...)}
		case "Flatten":
			out = tval{[]int{1, len(x.v)}, x.v}
		case "Reshape":
			shape := make([]int, len(in[1].v))
			for i, d := range in[1].v {
				shape[i] = int(d)
			}
			out = tval{shape, x.v}
		case "Transpose":
			out = transpose(x.shape, x.v, nd.Ints("perm"))
		case "Gemm":
			w, b := in[1], in[2]
			n, k := w.shape[0], w.shape[1]
			out = tval{[]int{1, n}, make([]float64, n)}
			for j := 0; j < n; j++ {
				s := b.v[j]
				for i, a := range x.v {
					s += a * w.v[j*k+i]
				}
				out.v[j] = s
			}
		case "LRN":
			size := int(nd.Int("size", 5))
			alpha, beta, bias := float64(nd.Float("alpha", 1e-4)), float64(nd.Float("beta", 0.75)), float64(nd.Float("bias", 1))
			c, hw := x.shape[1], x.shape[2]*x.shape[3]
			out = tval{x.shape, make([]float64, len(x.v))}
			for ch := 0; ch < c; ch++ {
				for i := 0; i < hw; i++ {
					s := 0.0
					for j := max(0, ch-(size-1)/2); j <= min(c-1, ch+size/2); j++ {
						s += x.v[j*hw+i] * x.v[j*hw+i]
					}
					out.v[ch*hw+i] = x.v[ch*hw+i] / math.Pow(bias+alpha/float64(size)*s, beta)
				}
			}
		default:
			return nil, fmt.Errorf("interpreter: op %s", nd.Op)
		}
		vals[nd.Outputs[0]] = out
		if visit != nil {
			visit(nd, out.shape, out.v)
		}
	}
	return vals["output"].v, nil
}

// conv is an NCHW convolution with groups, strides and padding, computed
// as im2col and one dot product per output element.
func conv(nd *ir.Node, xs []int, x []float64, ws []int, w []float64, in []tval) tval {
	s, p := nd.Ints("strides"), nd.Ints("pads")
	g := int(nd.Int("group", 1))
	sh, sw, pt, pl := int(s[0]), int(s[1]), int(p[0]), int(p[1])
	co, cig, kh, kw := ws[0], ws[1], ws[2], ws[3]
	h, wd := xs[2], xs[3]
	oh := (h+int(p[0]+p[2])-kh)/sh + 1
	ow := (wd+int(p[1]+p[3])-kw)/sw + 1
	k := cig * kh * kw
	out := make([]float64, co*oh*ow)
	cols := make([]float64, oh*ow*k)
	cog := co / g
	for gi := 0; gi < g; gi++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				col := cols[(oy*ow+ox)*k : (oy*ow+ox+1)*k]
				i := 0
				for ic := 0; ic < cig; ic++ {
					xc := x[(gi*cig+ic)*h*wd : (gi*cig+ic+1)*h*wd]
					for ky := 0; ky < kh; ky++ {
						iy := oy*sh - pt + ky
						for kx := 0; kx < kw; kx++ {
							ix := ox*sw - pl + kx
							if iy >= 0 && iy < h && ix >= 0 && ix < wd {
								col[i] = xc[iy*wd+ix]
							} else {
								col[i] = 0
							}
							i++
						}
					}
				}
			}
		}
		for oc := gi * cog; oc < (gi+1)*cog; oc++ {
			wr := w[oc*k : (oc+1)*k]
			bias := 0.0
			if len(in) > 2 {
				bias = in[2].v[oc]
			}
			o := out[oc*oh*ow : (oc+1)*oh*ow]
			for pos := range o {
				col := cols[pos*k : (pos+1)*k]
				sum := bias
				for i, a := range wr {
					sum += a * col[i]
				}
				o[pos] = sum
			}
		}
	}
	return tval{[]int{1, co, oh, ow}, out}
}

// pool is MaxPool or AveragePool with ONNX's pads, ceil_mode and
// count_include_pad.
func pool(nd *ir.Node, xs []int, x []float64) tval {
	k, s, p := nd.Ints("kernel_shape"), nd.Ints("strides"), nd.Ints("pads")
	kh, kw, sh, sw := int(k[0]), int(k[1]), int(s[0]), int(s[1])
	pt, pl, pb, pr := int(p[0]), int(p[1]), int(p[2]), int(p[3])
	ceil := nd.Int("ceil_mode", 0) == 1
	countPad := nd.Int("count_include_pad", 0) == 1
	c, h, w := xs[1], xs[2], xs[3]
	size := func(in, k, s, p0, p1 int) int {
		span := in + p0 + p1 - k
		o := span/s + 1
		if ceil && span%s != 0 {
			o++
			if (o-1)*s >= in+p0 {
				o--
			}
		}
		return o
	}
	oh, ow := size(h, kh, sh, pt, pb), size(w, kw, sw, pl, pr)
	out := make([]float64, c*oh*ow)
	for ch := 0; ch < c; ch++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				y0, x0 := oy*sh-pt, ox*sw-pl
				m, sum, n := math.Inf(-1), 0.0, 0
				for y := y0; y < y0+kh; y++ {
					for xx := x0; xx < x0+kw; xx++ {
						if y < 0 || y >= h || xx < 0 || xx >= w {
							continue
						}
						a := x[(ch*h+y)*w+xx]
						m = math.Max(m, a)
						sum += a
						n++
					}
				}
				if nd.Op == "MaxPool" {
					out[(ch*oh+oy)*ow+ox] = m
					continue
				}
				if countPad {
					// the window, clipped to the padded input (not beyond
					// it, as a ceil-mode window may be)
					y1 := min(y0+kh, h+pb)
					x1 := min(x0+kw, w+pr)
					n = (y1 - y0) * (x1 - x0)
				}
				out[(ch*oh+oy)*ow+ox] = sum / float64(n)
			}
		}
	}
	return tval{[]int{1, c, oh, ow}, out}
}

// transpose permutes the axes of a dense tensor.
func transpose(shape []int, x []float64, perm []int64) tval {
	r := len(shape)
	out := make([]int, r)
	for i, a := range perm {
		out[i] = shape[a]
	}
	stride := make([]int, r)
	st := 1
	for i := r - 1; i >= 0; i-- {
		stride[i] = st
		st *= shape[i]
	}
	v := make([]float64, len(x))
	idx := make([]int, r)
	for o := range v {
		src := 0
		for i := 0; i < r; i++ {
			src += idx[i] * stride[perm[i]]
		}
		v[o] = x[src]
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
	return tval{out, v}
}
