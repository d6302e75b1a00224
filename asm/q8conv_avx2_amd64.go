//go:build !purego

package asm

// The implicit (im2col-free) int8 convolution on the avx2 path: the 7-bit
// x8 tile q8GemmAvx23x8c16ubI<Mode> reads each pixel's window straight from
// the input, or from a copy of the chunk's input rows with the padding
// filled in, instead of from an im2col tile.

//go:noescape
func q8GemmAvx23x8c16ubIUpward(kbs, nseg, segskip int, base *int8, rows *int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, last int, zo, lo, hi int32)

//go:noescape
func q8GemmAvx23x8c16ubIDouble(kbs, nseg, segskip int, base *int8, rows *int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, last int, zo, lo, hi int32)

//go:noescape
func q8GemmAvx23x8c16ubIUpward1(kbs, nseg, segskip int, base *int8, rows *int, w *int8, pstride, npanels, ntiles int, prm *int32, c *int8, last int, zo, lo, hi int32)

// q8Avx2Implicit enables the implicit convolution (the tests turn it off to
// run the same cases through im2col).
var q8Avx2Implicit = true

// q8ImplicitMaxRows bounds the rows of one call: TilePixels on the avx2
// path returns at most 256 pixels, 258 rounded up to whole row tiles.
const q8ImplicitMaxRows = 258

// q8ConvImplicit runs output pixels [p0, p1) of c on the implicit x8 tile
// (its VNNI form for np.vnni) and reports whether it did: one group,
// weights packed for the x8 ub tiles (7-bit, or any int8 for VNNI), a fused rounding, a kernel of more than one tap, no horizontal
// dilation and kernel rows of KW·InC bytes in whole 16-byte blocks
// (ResNet's 3×3 layers; not its 3-channel stem); false leaves the pixels to
// the im2col path. Strided 1×1 layers keep im2col: their windows, C bytes
// 2C apart, use only part of L1's sets (ResNet-50's downsample layers with
// C = 512 and 1024 ran 10–17 % slower implicit than on the dense tile). Each
// window is KH segments (kernel rows) of KW·InC contiguous bytes, read from
// the input when no window leaves it, otherwise from a copy of the chunk's
// input rows in scratch with the padding set to InZero (about
// (rows·StrideH + KH)·InW·InC bytes, against the im2col tile's
// pixels·KH·KW·InC). The k order of a window is the im2col row's, so the
// sums, and with the x8 tile's requantisation the outputs, are the same.
func q8ConvImplicit(c *QConv2D, in []int8, p *QPacked, np *q8ArchPacked, out []int8, scratch []int8, p0, p1 int) bool {
	rq := &c.Requant
	C := c.InC
	run := c.KW * C
	m := p1 - p0
	if !q8Avx2Implicit || !(np.x8 || np.c4) || !np.ub || c.groups() != 1 || c.KH*c.KW == 1 || c.DilW != 1 || run%q8Avx2KR != 0 ||
		(rq.Rounding != RoundUpward && rq.Rounding != RoundDouble) || m <= 0 || m > q8ImplicitMaxRows-2 ||
		np.kb*np.kr != c.KH*run {
		return false
	}
	tabs := np.tables(rq, c.OutC)
	if np.c4 && !q8ImplicitC4(tabs) {
		return false
	}
	// Window origins in padded coordinates: pixel (oy, ox) at row
	// oy·StrideH, column ox·StrideW; the chunk needs padded rows [py0, py1)
	// of wp columns.
	oy0, oy1 := p0/c.OutW, (p1-1)/c.OutW
	py0 := oy0 * c.StrideH
	py1 := oy1*c.StrideH + (c.KH-1)*c.DilH + 1
	wp := (c.OutW-1)*c.StrideW + c.KW
	var base []int8
	var rs int // bytes per row of base
	if c.PadT == 0 && c.PadL == 0 && py1 <= c.InH && wp <= c.InW {
		base, rs = in[py0*c.InW*C:], c.InW*C
	} else {
		need := (py1 - py0) * wp * C
		if need > len(scratch) {
			return false
		}
		base, rs = scratch[:need], wp*C
		pad := int8(c.InZero)
		x0 := min(c.PadL, wp)                // first padded column inside the input
		x1 := max(min(wp, c.PadL+c.InW), x0) // one past the last
		for py := py0; py < py1; py++ {
			dst := base[(py-py0)*rs : (py-py0+1)*rs]
			iy := py - c.PadT
			if iy < 0 || iy >= c.InH {
				q8Fill(dst, pad)
				continue
			}
			q8Fill(dst[:x0*C], pad)
			if x1 > x0 {
				src := (iy*c.InW + x0 - c.PadL) * C
				copy(dst[x0*C:x1*C], in[src:src+(x1-x0)*C])
			}
			q8Fill(dst[x1*C:], pad)
		}
	}
	// rows: per tile row, the window origin in base and the output row's
	// offset; a short last tile repeats the last pixel.
	var rows [2 * q8ImplicitMaxRows]int
	mr := q8Avx2MR
	if np.c4 {
		mr = q8VnniMRC4
	}
	tiles := q8CeilDiv(m, mr)
	for i := 0; i < tiles*mr; i++ {
		r := min(i, m-1)
		oy, ox := (p0+r)/c.OutW, (p0+r)%c.OutW
		rows[2*i] = (oy*c.StrideH-py0)*rs + ox*c.StrideW*C
		rows[2*i+1] = r * c.OutStride
	}
	// The tile reads up to the last pixel's last kernel row and writes m
	// rows of OutC bytes.
	_ = base[rows[2*(m-1)]+(c.KH-1)*c.DilH*rs+run-1]
	cout := out[p0*c.OutStride:]
	_ = cout[(m-1)*c.OutStride+c.OutC-1]
	kbs, segskip := run/q8Avx2KR, c.DilH*rs-run
	var own [6*q8Avx2NC + 4]int32
	for jb := 0; jb < c.OutC; jb += q8Avx2NC {
		nj := min(q8Avx2NC, c.OutC-jb)
		npan := q8CeilDiv(nj, np.nr)
		last := nj - (npan-1)*np.nr
		pi := jb / np.nr
		w := &np.w8[pi*np.panelSize : (pi+npan)*np.panelSize][0]
		corr := np.corr[pi*np.nr : pi*np.nr+nj]
		prm, one := &own, false
		if tabs != nil {
			t := &tabs[jb/q8Avx2NC]
			prm, one = &t.prm, t.one
		} else {
			one = q8Avx2Params1(prm, rq, p.bias[jb:jb+nj], corr, jb, npan*np.nr, np.reach())
			if !one {
				q8Avx2Params(prm, rq, p.bias[jb:jb+nj], corr, jb, npan*np.nr)
			}
		}
		if np.c4 {
			q8GemmVnniZ4x64c4IUpward1(kbs, c.KH, segskip, &base[0], &rows[0], w, np.panelSize, npan, tiles, &prm[0], &cout[jb], last,
				rq.OutZero, rq.Min, rq.Max)
			continue
		}
		if np.vnni {
			q8VnniImplicit(one, rq.Rounding, kbs, c.KH, segskip, &base[0], &rows[0], w, np.panelSize, npan, tiles, &prm[0], &cout[jb], last,
				rq.OutZero, rq.Min, rq.Max)
			continue
		}
		if one {
			q8GemmAvx23x8c16ubIUpward1(kbs, c.KH, segskip, &base[0], &rows[0], w, np.panelSize, npan, tiles, &prm[0], &cout[jb], last,
				rq.OutZero, rq.Min, rq.Max)
			continue
		}
		if rq.Rounding == RoundUpward {
			q8GemmAvx23x8c16ubIUpward(kbs, c.KH, segskip, &base[0], &rows[0], w, np.panelSize, npan, tiles, &prm[0], &cout[jb], last,
				rq.OutZero, rq.Min, rq.Max)
		} else {
			q8GemmAvx23x8c16ubIDouble(kbs, c.KH, segskip, &base[0], &rows[0], w, np.panelSize, npan, tiles, &prm[0], &cout[jb], last,
				rq.OutZero, rq.Min, rq.Max)
		}
	}
	return true
}

// q8Fill sets every byte of s to v: the first 16 one by one, then copies
// doubling in size (a padded row is up to ≈ 30 KB).
func q8Fill(s []int8, v int8) {
	n := min(len(s), 16)
	for i := range s[:n] {
		s[i] = v
	}
	for n < len(s) {
		n += copy(s[n:], s[:n])
	}
}
