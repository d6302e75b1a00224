package asm

import "unsafe"

// q8ConvGeneric is the portable body of QConv2D.Run: per group, one int8 GEMM
// of the tile's pixels (rows) by the group's output channels (columns), with
// A read in place for a 1×1 stride-1 unpadded convolution and from an im2col
// tile in scratch otherwise.
func q8ConvGeneric(c *QConv2D, in []int8, p *QPacked, out []int8, scratch []int8, p0, p1 int) {
	m := p1 - p0
	if m <= 0 || c.OutC == 0 {
		return
	}
	g := c.groups()
	og := c.OutC / g
	kg := p.k
	mr := c.tileMR()
	for gi := 0; gi < g; gi++ {
		a, lda := c.groupA(in, scratch, kg, gi, p0, p1)
		q8GemmBlock(mr, m, kg, a, lda, p.w[gi*p.panels*kg:], p.bias[gi*og:gi*og+og], &c.Requant, gi*og,
			out[p0*c.OutStride+gi*og:], c.OutStride, 0, og)
	}
}

// groupA returns group gi's GEMM A operand for output pixels [p0, p1) and
// its row stride: the input itself for a direct 1×1 convolution, otherwise
// an im2col tile of kg values per pixel written at the start of scratch
// (the returned slice runs to the end of scratch, so tiles that read a
// row's tail past its last value stay in bounds).
func (c *QConv2D) groupA(in, scratch []int8, kg, gi, p0, p1 int) ([]int8, int) {
	if c.direct() {
		return in[p0*c.InC+gi*(c.InC/c.groups()):], c.InC
	}
	c.im2col(in, scratch[:(p1-p0)*kg], gi, p0, p1)
	return scratch, kg
}

// im2col writes, for output pixels [p0, p1) and group gi, one row of
// KH·KW·Cg values per pixel into dst, ordered (kh, kw, ci) like the packed
// weights; positions outside the input hold InZero (real 0).
func (c *QConv2D) im2col(in, dst []int8, gi, p0, p1 int) {
	g := c.groups()
	cg := c.InC / g
	kg := c.KH * c.KW * cg
	pad := int8(c.InZero)
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
			if k0 == 0 && k1 == c.KW && iy0 >= 0 && iy0+(c.KH-1)*c.DilH < c.InH {
				// The whole window is inside the input.
				base, step := (iy0*c.InW+ix0)*c.InC, c.DilH*c.InW*c.InC
				for kh := 0; kh < c.KH; kh++ {
					copyInt8Run(row[kh*run:(kh+1)*run], in[base:base+run])
					base += step
				}
				if ox++; ox == c.OutW {
					ox, oy = 0, oy+1
				}
				continue
			}
			for kh := 0; kh < c.KH; kh++ {
				seg := row[kh*run : (kh+1)*run]
				iy := iy0 + kh*c.DilH
				if iy < 0 || iy >= c.InH {
					fillInt8(seg, pad)
					continue
				}
				fillInt8(seg[:k0*c.InC], pad)
				fillInt8(seg[k1*c.InC:], pad)
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
						fillInt8(seg, pad)
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

// copyInt8Run is copy(dst, src) for len(dst) == len(src), with two
// overlapping word moves instead of a memmove call for 4 to 16 bytes (the
// runs of a first layer's im2col: KW·InC = 9 for 3×3 RGB). dst and src
// must not overlap.
func copyInt8Run(dst, src []int8) {
	n := len(src)
	if len(dst) != n {
		panic("asm: copyInt8Run: lengths differ")
	}
	switch {
	case n >= 8 && n <= 16:
		s, d := unsafe.Pointer(&src[0]), unsafe.Pointer(&dst[0])
		lo, hi := *(*uint64)(s), *(*uint64)(unsafe.Add(s, n-8))
		*(*uint64)(d), *(*uint64)(unsafe.Add(d, n-8)) = lo, hi
	case n >= 4 && n < 8:
		s, d := unsafe.Pointer(&src[0]), unsafe.Pointer(&dst[0])
		lo, hi := *(*uint32)(s), *(*uint32)(unsafe.Add(s, n-4))
		*(*uint32)(d), *(*uint32)(unsafe.Add(d, n-4)) = lo, hi
	default:
		copy(dst, src)
	}
}

// fillInt8 sets every element of s to v.
func fillInt8(s []int8, v int8) {
	for i := range s {
		s[i] = v
	}
}
