package asm

import "math"

// poolWindow is the part of one window that lies inside the input: taps
// [kh0, kh1) × [kw0, kw1), plus the number of taps inside the padded extent.
type poolWindow struct {
	iy0, ix0, dh, dw     int
	kh0, kh1, kw0, kw1   int
	padCount, validCount int
}

// tapRange returns the taps k < n whose position o + k·d lies in [lo, hi).
func tapRange(o, d, n, lo, hi int) (k0, k1 int) {
	k0 = 0
	if o < lo {
		k0 = ceilDiv(lo-o, d)
	}
	k1 = 0
	if o < hi {
		k1 = ceilDiv(hi-o, d)
	}
	k0, k1 = min(k0, n), min(k1, n)
	return k0, max(k0, k1)
}

func (p *Pool2D) window(oy, ox int) poolWindow {
	w := poolWindow{dh: max(1, p.DilH), dw: max(1, p.DilW)}
	w.iy0 = oy*max(1, p.StrideH) - p.PadT
	w.ix0 = ox*max(1, p.StrideW) - p.PadL
	w.kh0, w.kh1 = tapRange(w.iy0, w.dh, p.KH, 0, p.InH)
	w.kw0, w.kw1 = tapRange(w.ix0, w.dw, p.KW, 0, p.InW)
	w.validCount = (w.kh1 - w.kh0) * (w.kw1 - w.kw0)
	ph0, ph1 := tapRange(w.iy0, w.dh, p.KH, -p.PadT, p.InH+p.PadB)
	pw0, pw1 := tapRange(w.ix0, w.dw, p.KW, -p.PadL, p.InW+p.PadR)
	w.padCount = (ph1 - ph0) * (pw1 - pw0)
	return w
}

// maxPoolF32Generic is the portable body of Pool2D.MaxF32: per output pixel,
// the first valid tap is copied and the others are folded in with max over
// the contiguous channel vector.
func maxPoolF32Generic(p *Pool2D, in, out []float32, r0, r1 int) {
	for oy := r0; oy < r1; oy++ {
		maxPoolF32Pixels(p, in, out, oy, 0, p.OutW)
	}
}

// maxPoolF32Pixels computes output pixels [ox0, ox1) of row oy of max
// pooling as maxPoolF32Generic does.
func maxPoolF32Pixels(p *Pool2D, in, out []float32, oy, ox0, ox1 int) {
	c := p.C
	for ox := ox0; ox < ox1; ox++ {
		q := oy*p.OutW + ox
		o := out[q*p.OutStride : q*p.OutStride+c]
		w := p.window(oy, ox)
		if w.validCount == 0 {
			inf := float32(math.Inf(-1))
			for i := range o {
				o[i] = inf
			}
			continue
		}
		first := true
		for kh := w.kh0; kh < w.kh1; kh++ {
			row := (w.iy0 + kh*w.dh) * p.InW
			for kw := w.kw0; kw < w.kw1; kw++ {
				x := in[(row+w.ix0+kw*w.dw)*c:]
				if first {
					copy(o, x[:c])
					first = false
				} else {
					maxIntoF32(o, x)
				}
			}
		}
	}
}

// avgPoolF32Generic is the portable body of Pool2D.AvgF32.
func avgPoolF32Generic(p *Pool2D, in, out []float32, r0, r1 int) {
	c := p.C
	for oy := r0; oy < r1; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			q := oy*p.OutW + ox
			o := out[q*p.OutStride : q*p.OutStride+c]
			w := p.window(oy, ox)
			n := w.validCount
			if p.CountIncludePad {
				n = w.padCount
			}
			if w.validCount == 0 || n == 0 {
				clear(o)
				continue
			}
			first := true
			for kh := w.kh0; kh < w.kh1; kh++ {
				row := (w.iy0 + kh*w.dh) * p.InW
				for kw := w.kw0; kw < w.kw1; kw++ {
					x := in[(row+w.ix0+kw*w.dw)*c:]
					if first {
						copy(o, x[:c])
						first = false
					} else {
						addIntoF32(o, x)
					}
				}
			}
			scaleF32(o, 1/float32(n))
		}
	}
}

func gavgPoolF32Generic(in []float32, hw, c int, out []float32, c0, c1 int) {
	if c1 <= c0 {
		return
	}
	o := out[c0:c1]
	if hw <= 0 {
		clear(o)
		return
	}
	copy(o, in[c0:c1])
	for q := 1; q < hw; q++ {
		addIntoF32(o, in[q*c+c0:])
	}
	scaleF32(o, 1/float32(hw))
}

func gmaxPoolF32Generic(in []float32, hw, c int, out []float32, c0, c1 int) {
	if c1 <= c0 {
		return
	}
	o := out[c0:c1]
	if hw <= 0 {
		inf := float32(math.Inf(-1))
		for i := range o {
			o[i] = inf
		}
		return
	}
	copy(o, in[c0:c1])
	for q := 1; q < hw; q++ {
		maxIntoF32(o, in[q*c+c0:])
	}
}

// maxIntoF32 sets o[i] = max(o[i], x[i]) for i < len(o); a NaN in x
// propagates. The leading blocks run on a SIMD body where there is one
// (maxIntoF32Arch), bit for bit the same as Go's max.
func maxIntoF32(o, x []float32) {
	x = x[:len(o)]
	for i := maxIntoF32Arch(o, x); i < len(o); i++ {
		o[i] = max(o[i], x[i])
	}
}

// addIntoF32 sets o[i] += x[i] for i < len(o). The leading blocks run on
// AddClampF32's SIMD body (none on the generic path): the same float
// additions, so the pools' results do not depend on the path.
func addIntoF32(o, x []float32) {
	x = x[:len(o)]
	for i := addClampF32Arch(o, o, x, NoClamp()); i < len(o); i++ {
		o[i] += x[i]
	}
}

// scaleF32 sets o[i] *= s.
func scaleF32(o []float32, s float32) {
	for i := range o {
		o[i] *= s
	}
}
