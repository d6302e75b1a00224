package asm

// convF32Generic is the portable body of Conv2D.RunF32: per group, one GEMM
// of the tile's pixels (rows) by the group's output channels (columns), with
// A read in place for a 1×1 stride-1 unpadded convolution and from an im2col
// tile in scratch otherwise.
func convF32Generic(c *Conv2D, in, packed, bias, out, scratch []float32, p0, p1 int) {
	m := p1 - p0
	if m <= 0 {
		return
	}
	g := c.groups()
	cg, og := c.InC/g, c.OutC/g
	kg := c.KH * c.KW * cg
	pw := c.panelWidth()
	panels := ceilDiv(og, pw)
	mr := c.tileMR()
	direct := c.direct()
	for gi := 0; gi < g; gi++ {
		var a []float32
		lda := kg
		if direct {
			a, lda = in[p0*c.InC+gi*cg:], c.InC
		} else {
			a = scratch[:m*kg]
			c.im2col(in, a, gi, p0, p1)
		}
		var bg []float32
		if bias != nil {
			bg = bias[gi*og : gi*og+og]
		}
		f32GemmBlock(mr, m, og, kg, a, lda, packed[gi*panels*kg*pw:], pw, 0, bg,
			out[p0*c.OutStride+gi*og:], c.OutStride, c.Clamp)
	}
}

// im2col writes, for output pixels [p0, p1) and group gi, one row of
// KH·KW·Cg values per pixel into dst, ordered (kh, kw, ci) like the packed
// weights; positions outside the input are 0.
func (c *Conv2D) im2col(in, dst []float32, gi, p0, p1 int) {
	g := c.groups()
	cg := c.InC / g
	kg := c.KH * c.KW * cg
	oy, ox := p0/c.OutW, p0%c.OutW
	// With one group and no horizontal dilation, the KW taps of a kernel row
	// are one contiguous run of the input row: copy it in one go.
	runs := g == 1 && c.DilW == 1
	for r := 0; r < p1-p0; r++ {
		row := dst[r*kg : (r+1)*kg]
		iy0 := oy*c.StrideH - c.PadT
		ix0 := ox*c.StrideW - c.PadL
		if runs {
			run := c.KW * c.InC
			k0 := min(max(-ix0, 0), c.KW)       // first tap inside the row
			k1 := min(max(c.InW-ix0, k0), c.KW) // one past the last
			for kh := 0; kh < c.KH; kh++ {
				seg := row[kh*run : (kh+1)*run]
				iy := iy0 + kh*c.DilH
				if iy < 0 || iy >= c.InH {
					clear(seg)
					continue
				}
				clear(seg[:k0*c.InC])
				clear(seg[k1*c.InC:])
				if k1 > k0 {
					base := (iy*c.InW + ix0 + k0) * c.InC
					copy(seg[k0*c.InC:k1*c.InC], in[base:base+(k1-k0)*c.InC])
				}
			}
		} else {
			for kh := 0; kh < c.KH; kh++ {
				iy := iy0 + kh*c.DilH
				for kw := 0; kw < c.KW; kw++ {
					seg := row[(kh*c.KW+kw)*cg : (kh*c.KW+kw+1)*cg]
					ix := ix0 + kw*c.DilW
					if iy < 0 || iy >= c.InH || ix < 0 || ix >= c.InW {
						clear(seg)
						continue
					}
					base := (iy*c.InW+ix)*c.InC + gi*cg
					copy(seg, in[base:base+cg])
				}
			}
		}
		if ox++; ox == c.OutW {
			ox, oy = 0, oy+1
		}
	}
}
