package asm

// q8DWBlock is the channel block the depthwise body accumulates on the stack.
const q8DWBlock = 256

// q8DWConvGeneric is the portable body of QDepthwiseConv2D.Run. Each output
// pixel is a channel vector accumulated in int32 on the stack, a block of
// q8DWBlock channels at a time, with every inner loop running over the
// contiguous channels:
//
//   - interior pixels (whole window inside the input, Mult == 1) add raw
//     x·w, one kernel row of three taps per pass when KW == 3, and start from
//     the bias with InZero folded in (bias − InZero·Σ_t w);
//   - border pixels add (x − InZero)·w for the valid taps only, since the
//     taps outside the input would add (InZero − InZero)·w = 0;
//   - Mult > 1 runs one output channel at a time.
func q8DWConvGeneric(d *QDepthwiseConv2D, in []int8, p *QPacked, out []int8, r0, r1 int) {
	sh, sw, dh, dw := max(1, d.StrideH), max(1, d.StrideW), max(1, d.DilH), max(1, d.DilW)
	c, cm := d.C, d.C*d.Mult
	if cm == 0 || d.OutW == 0 {
		return
	}
	zx := d.InZero
	var acc [q8DWBlock]int32
	for oy := r0; oy < r1; oy++ {
		iy0 := oy*sh - d.PadT
		kh0, kh1 := q8TapRange(iy0, dh, d.KH, d.InH)
		for ox := 0; ox < d.OutW; ox++ {
			ix0 := ox*sw - d.PadL
			kw0, kw1 := q8TapRange(ix0, dw, d.KW, d.InW)
			q := oy*d.OutW + ox
			o := out[q*d.OutStride : q*d.OutStride+cm]
			if d.Mult != 1 {
				for oc := 0; oc < cm; oc++ {
					var s int32
					for kh := kh0; kh < kh1; kh++ {
						row := (iy0 + kh*dh) * d.InW
						for kw := kw0; kw < kw1; kw++ {
							x := int32(in[(row+ix0+kw*dw)*c+oc/d.Mult]) - zx
							s += x * p.dw[(kh*d.KW+kw)*cm+oc]
						}
					}
					acc[0] = s
					q8Epilogue(acc[:1], p.bias[oc:oc+1], &d.Requant, oc, o[oc:oc+1])
				}
				continue
			}
			interior := kh0 == 0 && kh1 == d.KH && kw0 == 0 && kw1 == d.KW
			for c0 := 0; c0 < c; c0 += q8DWBlock {
				n := min(q8DWBlock, c-c0)
				a := acc[:n]
				clear(a)
				if !interior {
					for kh := kh0; kh < kh1; kh++ {
						row := (iy0 + kh*dh) * d.InW
						for kw := kw0; kw < kw1; kw++ {
							base := (row+ix0+kw*dw)*c + c0
							wt := (kh*d.KW+kw)*cm + c0
							q8DWTap(a, in[base:base+n], p.dw[wt:wt+n], zx)
						}
					}
					q8Epilogue(a, p.bias[c0:c0+n], &d.Requant, c0, o[c0:c0+n])
					continue
				}
				for kh := 0; kh < d.KH; kh++ {
					base := ((iy0+kh*dh)*d.InW+ix0)*c + c0
					wt := kh*d.KW*cm + c0
					if d.KW == 3 {
						step := dw * c
						q8DWRow3(a, in[base:base+n], in[base+step:base+step+n], in[base+2*step:base+2*step+n],
							p.dw[wt:wt+n], p.dw[wt+cm:wt+cm+n], p.dw[wt+2*cm:wt+2*cm+n])
						continue
					}
					for kw := 0; kw < d.KW; kw++ {
						b := base + kw*dw*c
						q8DWTap(a, in[b:b+n], p.dw[wt+kw*cm:wt+kw*cm+n], 0)
					}
				}
				q8Epilogue(a, p.dwFold[c0:c0+n], &d.Requant, c0, o[c0:c0+n])
			}
		}
	}
}

// q8DWTap adds (x[i] − zx)·w[i] to acc[i].
func q8DWTap(acc []int32, x []int8, w []int32, zx int32) {
	x = x[:len(acc)]
	w = w[:len(acc)]
	for i := range acc {
		acc[i] += (int32(x[i]) - zx) * w[i]
	}
}

// q8DWRow3 adds one kernel row of three taps: x0·w0 + x1·w1 + x2·w2.
func q8DWRow3(acc []int32, x0, x1, x2 []int8, w0, w1, w2 []int32) {
	n := len(acc)
	x0, x1, x2 = x0[:n], x1[:n], x2[:n]
	w0, w1, w2 = w0[:n], w1[:n], w2[:n]
	for i := range acc {
		acc[i] += int32(x0[i])*w0[i] + int32(x1[i])*w1[i] + int32(x2[i])*w2[i]
	}
}

// q8TapRange returns the taps k < n whose position o + k·d lies in [0, hi).
func q8TapRange(o, d, n, hi int) (k0, k1 int) {
	if o < 0 {
		k0 = (-o + d - 1) / d
	}
	if o < hi {
		k1 = (hi - o + d - 1) / d
	}
	k0, k1 = min(k0, n), min(k1, n)
	return k0, max(k0, k1)
}
