package asm

// dwconvF32Generic is the portable body of DepthwiseConv2D.RunF32.
//
// Each output pixel is a channel vector. Interior pixels (whole window
// inside the input) with Mult == 1 run the fast path: the vector is set to
// the bias, then each kernel row adds three taps per pass over the channels
// (dwconvRow3F32; one pass per tap keeps too few accumulator streams, all
// nine taps in one pass need more base pointers than amd64 has registers),
// and the last pass applies the clamp. Border pixels and Mult > 1 visit the
// valid taps one at a time.
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
	for oy := r0; oy < r1; oy++ {
		iy0 := oy*sh - d.PadT
		rowIn := iy0 >= 0 && iy0+(d.KH-1)*dh < d.InH
		for ox := 0; ox < d.OutW; ox++ {
			p := oy*d.OutW + ox
			o := out[p*d.OutStride : p*d.OutStride+cm]
			if bias != nil {
				copy(o, bias[:cm])
			} else {
				clear(o)
			}
			ix0 := ox*sw - d.PadL
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
