package asm

// dwconvF32Generic is the portable body of DepthwiseConv2D.RunF32.
//
// Each output pixel is a channel vector, and every inner loop runs over the
// contiguous channels. Interior pixels (whole window inside the input) with
// Mult == 1 take a fast path:
//
//   - 3×3, stride 1 or 2, no horizontal dilation (MobileNet): two adjacent
//     pixels per pass over the channels, one kernel row per pass
//     (pair3x3). The first pass starts from the bias and the last applies
//     the clamp, so each output is written three times and never re-read
//     for a separate bias or clamp sweep.
//   - other kernels: one pixel, three taps of a kernel row per pass.
//
// One kernel row per pass is the compromise between too few loads per
// multiply-add (one tap per pass re-reads the output nine times) and too many
// live base pointers (all nine taps need 18 input and weight streams, more
// than amd64's general registers). Border pixels and Mult > 1 visit the valid
// taps one at a time.
func dwconvF32Generic(d *DepthwiseConv2D, in, packed, bias, out []float32, r0, r1 int) {
	sh, sw, dh, dw := max(1, d.StrideH), max(1, d.StrideW), max(1, d.DilH), max(1, d.DilW)
	c, cm := d.C, d.C*d.Mult
	if cm == 0 || d.OutW == 0 {
		return
	}
	// Columns [oxL, oxR) have every horizontal tap inside the input.
	oxL := ceilDiv(d.PadL, sw)
	oxR := oxL
	if last := d.InW - 1 - (d.KW-1)*dw + d.PadL; last >= 0 {
		oxR = max(oxL, min(d.OutW, last/sw+1))
	}
	oxL = min(oxL, d.OutW)
	rowStride := d.InW * c
	pairs := d.KH == 3 && d.KW == 3 && dw == 1 && (sw == 1 || sw == 2) && d.Mult == 1
	for oy := r0; oy < r1; oy++ {
		iy0 := oy*sh - d.PadT
		rowIn := iy0 >= 0 && iy0+(d.KH-1)*dh < d.InH
		for ox := 0; ox < d.OutW; ox++ {
			p := oy*d.OutW + ox
			o := out[p*d.OutStride : p*d.OutStride+cm]
			ix0 := ox*sw - d.PadL
			if rowIn && pairs && ox >= oxL && ox+1 < oxR {
				o1 := out[(p+1)*d.OutStride : (p+1)*d.OutStride+cm]
				d.pair3x3(in, packed, bias, o, o1, iy0*rowStride+ix0*c, dh*rowStride, sw)
				ox++
				continue
			}
			if bias != nil {
				copy(o, bias[:cm])
			} else {
				clear(o)
			}
			if !rowIn || ox < oxL || ox >= oxR || d.Mult != 1 {
				d.border(in, packed, o, iy0, ix0)
				clampSlice(o, d.Clamp)
				continue
			}
			clamped := false
			for kh := 0; kh < d.KH; kh++ {
				base := (iy0+kh*dh)*rowStride + ix0*c
				wrow := packed[kh*d.KW*c : (kh+1)*d.KW*c]
				kw := 0
				for ; kw+3 <= d.KW; kw += 3 {
					x0 := in[base+kw*dw*c:]
					x1 := in[base+(kw+1)*dw*c:]
					x2 := in[base+(kw+2)*dw*c:]
					w0, w1, w2 := wrow[kw*c:], wrow[(kw+1)*c:], wrow[(kw+2)*c:]
					if kh == d.KH-1 && kw+3 == d.KW && !d.Clamp.isNone() {
						dwconvRow3ClampF32(o, x0, x1, x2, w0, w1, w2, d.Clamp.Min, d.Clamp.Max)
						clamped = true
					} else {
						dwconvRow3F32(o, x0, x1, x2, w0, w1, w2)
					}
				}
				for ; kw < d.KW; kw++ {
					dwconvTapF32(o, in[base+kw*dw*c:], wrow[kw*c:])
				}
			}
			if !clamped {
				clampSlice(o, d.Clamp)
			}
		}
	}
}

// pair3x3 computes two horizontally adjacent interior pixels o0, o1 of a
// 3×3 kernel with stride sw ∈ {1, 2} and no horizontal dilation; base is the
// input offset of o0's top-left tap and rowStep the offset between kernel
// rows. The two windows share input columns (4 or 5 distinct columns for 6
// taps), so a pass loads 1.5–1.7 values per multiply-add instead of 2.
func (d *DepthwiseConv2D) pair3x3(in, packed, bias, o0, o1 []float32, base, rowStep, sw int) {
	c := d.C
	for kh := 0; kh < 3; kh++ {
		b := base + kh*rowStep
		w := packed[kh*3*c : (kh+1)*3*c]
		w0, w1, w2 := w[:c], w[c:2*c], w[2*c:]
		mode := dwMid
		switch {
		case kh == 0 && bias != nil:
			mode = dwFirst
		case kh == 0:
			clear(o0)
			clear(o1)
		case kh == 2 && !d.Clamp.isNone():
			mode = dwLast
		}
		if sw == 1 {
			dwconv3x3PairS1F32(mode, o0, o1, bias, in[b:], in[b+c:], in[b+2*c:], in[b+3*c:], w0, w1, w2, d.Clamp)
		} else {
			dwconv3x3PairS2F32(mode, o0, o1, bias, in[b:], in[b+c:], in[b+2*c:], in[b+3*c:], in[b+4*c:], w0, w1, w2, d.Clamp)
		}
	}
}

// Pass modes of the pair kernels: the first kernel row starts from the bias,
// the last one applies the clamp.
const (
	dwMid = iota
	dwFirst
	dwLast
)

// dwconv3x3PairS1F32 adds one kernel row to two stride-1 pixels:
//
//	o0[c] += x0[c]·w0[c] + x1[c]·w1[c] + x2[c]·w2[c]
//	o1[c] += x1[c]·w0[c] + x2[c]·w1[c] + x3[c]·w2[c]
//
// with o = bias instead of o += for dwFirst, and clamping for dwLast.
func dwconv3x3PairS1F32(mode int, o0, o1, bias, x0, x1, x2, x3, w0, w1, w2 []float32, cl Clamp) {
	n := len(o0)
	o1 = o1[:n]
	x0, x1, x2, x3 = x0[:n], x1[:n], x2[:n], x3[:n]
	w0, w1, w2 = w0[:n], w1[:n], w2[:n]
	switch mode {
	case dwFirst:
		bias = bias[:n]
		for i := range o0 {
			a, b, c, e := x0[i], x1[i], x2[i], x3[i]
			u, v, w := w0[i], w1[i], w2[i]
			o0[i] = bias[i] + (a*u + b*v + c*w)
			o1[i] = bias[i] + (b*u + c*v + e*w)
		}
	case dwLast:
		lo, hi := cl.Min, cl.Max
		for i := range o0 {
			a, b, c, e := x0[i], x1[i], x2[i], x3[i]
			u, v, w := w0[i], w1[i], w2[i]
			o0[i] = min(max(o0[i]+(a*u+b*v+c*w), lo), hi)
			o1[i] = min(max(o1[i]+(b*u+c*v+e*w), lo), hi)
		}
	default:
		for i := range o0 {
			a, b, c, e := x0[i], x1[i], x2[i], x3[i]
			u, v, w := w0[i], w1[i], w2[i]
			o0[i] += a*u + b*v + c*w
			o1[i] += b*u + c*v + e*w
		}
	}
}

// dwconv3x3PairS2F32 is dwconv3x3PairS1F32 for stride 2: o1 reads x2, x3, x4.
func dwconv3x3PairS2F32(mode int, o0, o1, bias, x0, x1, x2, x3, x4, w0, w1, w2 []float32, cl Clamp) {
	n := len(o0)
	o1 = o1[:n]
	x0, x1, x2, x3, x4 = x0[:n], x1[:n], x2[:n], x3[:n], x4[:n]
	w0, w1, w2 = w0[:n], w1[:n], w2[:n]
	switch mode {
	case dwFirst:
		bias = bias[:n]
		for i := range o0 {
			c := x2[i]
			u, v, w := w0[i], w1[i], w2[i]
			o0[i] = bias[i] + (x0[i]*u + x1[i]*v + c*w)
			o1[i] = bias[i] + (c*u + x3[i]*v + x4[i]*w)
		}
	case dwLast:
		lo, hi := cl.Min, cl.Max
		for i := range o0 {
			c := x2[i]
			u, v, w := w0[i], w1[i], w2[i]
			o0[i] = min(max(o0[i]+(x0[i]*u+x1[i]*v+c*w), lo), hi)
			o1[i] = min(max(o1[i]+(c*u+x3[i]*v+x4[i]*w), lo), hi)
		}
	default:
		for i := range o0 {
			c := x2[i]
			u, v, w := w0[i], w1[i], w2[i]
			o0[i] += x0[i]*u + x1[i]*v + c*w
			o1[i] += c*u + x3[i]*v + x4[i]*w
		}
	}
}

// border accumulates the valid taps of the window at input origin (iy0, ix0)
// into o.
func (d *DepthwiseConv2D) border(in, packed, o []float32, iy0, ix0 int) {
	dh, dw := max(1, d.DilH), max(1, d.DilW)
	c, cm := d.C, d.C*d.Mult
	for kh := 0; kh < d.KH; kh++ {
		iy := iy0 + kh*dh
		if iy < 0 || iy >= d.InH {
			continue
		}
		for kw := 0; kw < d.KW; kw++ {
			ix := ix0 + kw*dw
			if ix < 0 || ix >= d.InW {
				continue
			}
			x := in[(iy*d.InW+ix)*c : (iy*d.InW+ix+1)*c]
			w := packed[(kh*d.KW+kw)*cm : (kh*d.KW+kw+1)*cm]
			if d.Mult == 1 {
				dwconvTapF32(o, x, w)
				continue
			}
			for ci, v := range x {
				oo := o[ci*d.Mult : (ci+1)*d.Mult]
				ww := w[ci*d.Mult : (ci+1)*d.Mult]
				for m := range oo {
					oo[m] += v * ww[m]
				}
			}
		}
	}
}

// dwconvRow3F32 adds three taps: o[c] += x0[c]·w0[c] + x1[c]·w1[c] + x2[c]·w2[c].
func dwconvRow3F32(o, x0, x1, x2, w0, w1, w2 []float32) {
	n := len(o)
	x0, x1, x2 = x0[:n], x1[:n], x2[:n]
	w0, w1, w2 = w0[:n], w1[:n], w2[:n]
	for i := range o {
		o[i] += x0[i]*w0[i] + x1[i]*w1[i] + x2[i]*w2[i]
	}
}

// dwconvRow3ClampF32 is dwconvRow3F32 followed by clamping to [lo, hi].
func dwconvRow3ClampF32(o, x0, x1, x2, w0, w1, w2 []float32, lo, hi float32) {
	n := len(o)
	x0, x1, x2 = x0[:n], x1[:n], x2[:n]
	w0, w1, w2 = w0[:n], w1[:n], w2[:n]
	for i := range o {
		o[i] = min(max(o[i]+(x0[i]*w0[i]+x1[i]*w1[i]+x2[i]*w2[i]), lo), hi)
	}
}

// dwconvTapF32 adds one tap: o[c] += x[c]·w[c].
func dwconvTapF32(o, x, w []float32) {
	n := len(o)
	x, w = x[:n], w[:n]
	for i := range o {
		o[i] += x[i] * w[i]
	}
}
