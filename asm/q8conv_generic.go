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
	words := runs && c.KW*c.InC >= 8 && c.KW*c.InC <= 32
	for r := 0; r < p1-p0; r++ {
		row := dst[r*kg : (r+1)*kg]
		iy0 := oy*c.StrideH - c.PadT
		ix0 := ox*c.StrideW - c.PadL
		if runs {
			run := c.KW * c.InC
			k0 := min(max(-ix0, 0), c.KW)       // first tap inside the row
			k1 := min(max(c.InW-ix0, k0), c.KW) // one past the last
			if words && k0 == 0 && k1 == c.KW && iy0 >= 0 && iy0+(c.KH-1)*c.DilH < c.InH {
				// The whole window is inside the input, and so are those
				// of this output row's next pixels up to the last whose
				// window ends inside the row: n windows in one call.
				src := in[(iy0*c.InW+ix0)*c.InC:]
				n := min(p1-p0-r, (c.InW-c.KW+c.PadL)/c.StrideW-ox+1)
				copyWindows8to32(dst[r*kg:], src, run, c.KH, c.DilH*c.InW*c.InC, n, c.StrideW*c.InC)
				r += n - 1
				if ox += n; ox == c.OutW {
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

// copyWindows8to32 copies, for npix pixels i (windows pstep bytes apart
// in src), rows runs of run bytes (8 ≤ run ≤ 32; step bytes apart) to
// consecutive runs of dst, each with two to four 8-byte moves (the last
// one ending at the run's end, overlapping the one before) instead of a
// memmove call: a first layer's im2col, KW·InC = 9 for 3×3 RGB and 21 for
// ResNet-50's 7×7 RGB (1.8 → 0.5 ms per inference there, where memmove
// took ≈ 20 ns per run), one call per output row's inner pixels. dst and
// src must not overlap.
func copyWindows8to32(dst, src []int8, run, rows, step, npix, pstep int) {
	if run < 8 || run > 32 || rows < 1 || npix < 1 {
		panic("asm: copyWindows8to32: bad run")
	}
	_ = dst[npix*rows*run-1]
	_ = src[(npix-1)*pstep+(rows-1)*step+run-1]
	d, p0 := unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0])
	for range npix {
		s := p0
		for range rows {
			w := *(*uint64)(s)
			if run > 16 {
				v := *(*uint64)(unsafe.Add(s, 8))
				if run > 24 {
					*(*uint64)(unsafe.Add(d, 16)) = *(*uint64)(unsafe.Add(s, 16))
				}
				*(*uint64)(unsafe.Add(d, 8)) = v
			}
			last := *(*uint64)(unsafe.Add(s, run-8))
			*(*uint64)(d), *(*uint64)(unsafe.Add(d, run-8)) = w, last
			d, s = unsafe.Add(d, run), unsafe.Add(s, step)
		}
		p0 = unsafe.Add(p0, pstep)
	}
}

// fillInt8 sets every element of s to v.
func fillInt8(s []int8, v int8) {
	for i := range s {
		s[i] = v
	}
}
